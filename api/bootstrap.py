"""Start-up: migrate the database and make sure an admin key exists.

The admin key is ``SPENDWISE_ADMIN_KEY`` when set (stored hashed on first
use); otherwise one is generated when the database has none, and returned so
that ``spendwise serve`` can print it once.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.access import ADMIN, admin_key_from, hash_secret, issue_key
from api.database import session_factory, upgrade
from api.settings import Settings
from api.tables import ApiKey


def prepare(engine: Engine, settings: Settings) -> str | None:
    """Migrate, then ensure an admin key; returns a newly generated admin key, if any."""
    upgrade(engine)
    with session_factory(engine).begin() as session:
        return ensure_admin(session, settings.admin_key)


def ensure_admin(session: Session, given: str | None) -> str | None:
    """Store the given admin key, or create one if none exists; a new key is returned."""
    if given:
        key_id, secret = admin_key_from(given)
        row = session.get(ApiKey, key_id)
        if row is None:
            session.add(ApiKey(id=key_id, workspace_id=None, role=ADMIN,
                               secret_hash=hash_secret(secret), label="SPENDWISE_ADMIN_KEY"))
        elif row.role != ADMIN or row.secret_hash != hash_secret(secret):
            row.role, row.secret_hash, row.workspace_id = ADMIN, hash_secret(secret), None
        return None
    exists = session.scalars(select(ApiKey.id).where(ApiKey.role == ADMIN,
                                                     ApiKey.revoked_at.is_(None))).first()
    if exists is not None:
        return None
    _, key = issue_key(session, ADMIN, None, "generated at first start")
    return key
