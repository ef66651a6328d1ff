"""API keys, roles and what each role may do.

A key reads ``sw_<key id>_<secret>``. The key id is public: it names the key
in the audit trail. The secret is 256 random bits; the database keeps only its
SHA-256 (a fast hash is enough for a secret of that entropy), compared in
constant time. A key is shown once, when it is created. A key may carry an
expiry; a revoked or expired key is refused at its next request (keys are
read from the database on every request, never cached). Authentication
records when a key was last used, at most once a minute per key.

What each role may do is the table of :mod:`api.roles`, whose names this
module re-exports.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.errors import Forbidden, Invalid, Unauthorized
from api.roles import ADMIN, PERMISSIONS, ROLES
from api.tables import ApiKey, Workspace, now

__all__ = ["ADMIN", "PERMISSIONS", "ROLES", "Principal", "authenticate", "hash_secret",
           "issue_key", "keys_of", "revoke", "workspace_by_name"]

KEY_PATTERN = re.compile(r"^sw_(k[0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
#: ``last_used_at`` is written at most this often per key (one write, not one per request).
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id, its workspace (``None`` for admin) and its role."""

    key_id: str
    workspace_id: str | None
    role: str

    def can(self, action: str) -> bool:
        """Whether the role allows ``action``."""
        return action in PERMISSIONS.get(self.role, frozenset())

    def require(self, action: str) -> None:
        """Raise :class:`Forbidden` unless the role allows ``action``."""
        if not self.can(action):
            noun, verb = action.split(".")
            raise Forbidden(f"the {self.role} role may not {verb} {noun.replace('_', ' ')}s"
                            if verb != "read" else f"the {self.role} role may not read "
                            f"{'the audit trail' if noun == 'audit' else noun + 's'}")


def hash_secret(secret: str) -> str:
    """SHA-256 of a key's secret, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_key(session: Session, role: str, workspace_id: str | None,
              label: str = "", secret: str | None = None, *,
              expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the full key (shown once, never stored).

    ``secret`` fixes the secret (the admin key from ``SPENDWISE_ADMIN_KEY``);
    from ``expires_at`` on, the key is refused.
    """
    if role not in (*ROLES, ADMIN):
        raise Invalid(f"role: must be one of {', '.join(ROLES)}, got {role!r}",
                      errors=[{"loc": ["role"], "msg": f"unknown role {role!r}"}])
    if (role == ADMIN) != (workspace_id is None):
        raise Invalid("role: only the admin key belongs to no workspace")
    key_id = "k" + secrets.token_hex(8)
    secret = secret or secrets.token_urlsafe(32)
    row = ApiKey(id=key_id, workspace_id=workspace_id, role=role,
                 secret_hash=hash_secret(secret), label=label, expires_at=expires_at)
    session.add(row)
    return row, f"sw_{key_id}_{secret}"


def admin_key_from(value: str) -> tuple[str, str]:
    """The key id and secret of an admin key given in ``SPENDWISE_ADMIN_KEY``."""
    match = KEY_PATTERN.match(value)
    if not match:
        raise Invalid("SPENDWISE_ADMIN_KEY: expected a key of the form sw_k<16 hex>_<43 "
                      "URL-safe characters>, e.g. from `spendwise keys create --admin`")
    return match.group(1), match.group(2)


def authenticate(session: Session, token: str | None) -> Principal:
    """The principal of a bearer token; :class:`Unauthorized` for a missing, wrong,
    revoked or expired key.

    Records the time of use in ``last_used_at`` when the last record is over
    :data:`LAST_USED_EVERY` old, and commits it at once: the request that
    follows starts a transaction of its own.
    """
    match = KEY_PATTERN.fullmatch(token or "")
    if not match:
        raise Unauthorized("missing or malformed API key (send 'Authorization: Bearer <key>')")
    row = session.get(ApiKey, match.group(1))
    # Compare against a dummy hash when the id is unknown, so timing reveals nothing.
    stored = row.secret_hash if row is not None else hash_secret("")
    if not hmac.compare_digest(stored, hash_secret(match.group(2))) or row is None or \
            row.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key")
    moment = now()
    if row.expires_at is not None and row.expires_at <= moment:
        raise Unauthorized("expired API key")
    if row.last_used_at is None or moment - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = moment
        session.commit()
    return Principal(row.id, row.workspace_id, row.role)


def revoke(row: ApiKey) -> bool:
    """Revoke the key of ``row``; ``False`` if it was revoked already (kept as it was)."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now()
    return True


def keys_of(workspace_id: str) -> Select[ApiKey]:
    """The keys of a workspace, revoked ones included, oldest first."""
    return (select(ApiKey).where(ApiKey.workspace_id == workspace_id)
            .order_by(ApiKey.created_at, ApiKey.id))


def workspace_by_name(session: Session, name: str) -> Workspace | None:
    """The workspace called ``name``, if any."""
    return session.scalars(select(Workspace).where(Workspace.name == name)).first()
