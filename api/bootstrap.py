"""Start-up: migrate the database, make sure an admin key exists, tidy the store.

The admin key is ``SPENDWISE_ADMIN_KEY`` when set (stored hashed on first
use); otherwise one is generated when the database has none, and returned so
that ``spendwise serve`` can print it once. At the start of ``spendwise serve``,
files of the artifact store that no row references (the Parquet of an upload
killed before it committed) are removed (:func:`api.artifacts.collect`).
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api import artifacts
from api.access import ADMIN, admin_key_from, hash_secret, issue_key
from api.database import session_factory, upgrade
from api.settings import Settings
from api.store import ArtifactStore
from api.tables import ApiKey


def prepare(engine: Engine, settings: Settings, *, collect: bool = False) -> str | None:
    """Migrate and ensure an admin key; returns a newly generated admin key, if any.

    With ``collect`` (``spendwise serve`` at start), also remove the artifacts of
    ``settings.store_dir`` that no row references. The shell commands do not:
    pointed at another database with the default data directory, they would
    remove files that belong to a different deployment.
    """
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        key = ensure_admin(session, settings.admin_key)
    if collect:
        with sessions() as session:
            artifacts.collect(session, ArtifactStore(settings.store_dir))
    return key


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
