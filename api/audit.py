"""The audit trail: who did what, when, on which inputs, with which parameters.

An event is added in the same transaction as the change it records, so a
request that fails leaves neither the change nor its event. Events name the
key by its public id, never by the key; the ``spendwise`` shell commands
record their changes as :data:`SHELL`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.access import ADMIN, Principal
from api.tables import AuditEvent

#: Who the shell commands (``spendwise keys ...``) act as: whoever runs them holds
#: the database itself, so they act with the admin role, under no key.
SHELL = Principal(key_id="shell", workspace_id=None, role=ADMIN)


def record(session: Session, who: Principal, action: str, resource_type: str,
           resource_id: str | None = None, *, fingerprint: str | None = None,
           parameters: dict[str, Any] | None = None, workspace_id: str | None = None) -> None:
    """Add one event to ``session`` (committed with the change it records)."""
    session.add(AuditEvent(workspace_id=workspace_id or who.workspace_id, key_id=who.key_id,
                           role=who.role, action=action, resource_type=resource_type,
                           resource_id=resource_id, fingerprint=fingerprint,
                           parameters=parameters or {}))


def events(workspace_id: str, *, before: int | None = None, action: str | None = None,
           key_id: str | None = None, resource_type: str | None = None,
           since: datetime | None = None, until: datetime | None = None) -> Select[Any]:
    """The workspace's events that match every filter given, newest first."""
    statement = select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
    for column, value in ((AuditEvent.action, action), (AuditEvent.key_id, key_id),
                          (AuditEvent.resource_type, resource_type)):
        if value is not None:
            statement = statement.where(column == value)
    if before is not None:
        statement = statement.where(AuditEvent.id < before)
    if since is not None:
        statement = statement.where(AuditEvent.at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.at < until)
    return statement.order_by(AuditEvent.id.desc())


def event_dict(event: AuditEvent) -> dict[str, Any]:
    """The JSON form of an event."""
    return {"id": event.id, "at": event.at.isoformat(), "key_id": event.key_id,
            "role": event.role, "action": event.action, "resource_type": event.resource_type,
            "resource_id": event.resource_id, "fingerprint": event.fingerprint,
            "parameters": event.parameters}
