"""What an owner manages in a workspace: its currency, its keys and its sign-in links.

The JSON API (:mod:`api.routes.workspaces`) and the keys page of the browser
(:mod:`api.web.admin`) both call these, so a key or a link is made, audited
and refused the same way through either door. The caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from api.access import Principal, issue_key, revoke
from api.audit import record
from api.signin import issue_link, link_key
from api.tables import ApiKey, Workspace


def set_currency(session: Session, who: Principal, workspace: Workspace, currency: str) -> None:
    """Set the currency the workspace's amounts are shown in (a validated ISO 4217 code)."""
    who.require("workspace.update")
    if workspace.currency != currency:
        record(session, who, "workspace.update", "workspace", workspace.id,
               workspace_id=workspace.id,
               parameters={"currency": currency, "was": workspace.currency})
        workspace.currency = currency


def create_key(session: Session, who: Principal, workspace: Workspace, role: str, label: str,
               expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key of ``role`` in ``workspace``: the row and the full key (shown once)."""
    who.require("key.create")
    row, key = issue_key(session, role, workspace.id, label, expires_at=expires_at)
    record(session, who, "key.create", "key", row.id, workspace_id=workspace.id,
           parameters={"role": role, "label": label,
                       "expires_at": expires_at.isoformat() if expires_at else None})
    return row, key


def revoke_key(session: Session, who: Principal, row: ApiKey) -> bool:
    """Revoke ``row`` (its sessions end with it); ``False`` if it was revoked already."""
    who.require("key.revoke")
    if not revoke(row):
        return False
    record(session, who, "key.revoke", "key", row.id,
           workspace_id=row.workspace_id or who.workspace_id,
           parameters={"role": row.role, "label": row.label})
    return True


def create_signin_link(session: Session, who: Principal, workspace: Workspace, role: str,
                       minutes: float) -> str:
    """A one-time sign-in token for a new key of ``role`` in ``workspace``."""
    who.require("key.create")
    key = link_key(session, workspace.id, role)
    token = issue_link(session, key.id, who.key_id, minutes)
    record(session, who, "signin_link.create", "key", key.id, workspace_id=workspace.id,
           parameters={"role": role, "minutes": minutes})
    return token
