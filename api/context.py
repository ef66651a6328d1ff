"""What every view of the service shares: its services, the request's database session,
the caller and the lookups of the caller's rows.

The views (:mod:`api.routes`, :mod:`api.web`) import these from here, and the
application factory (:mod:`api.app`) registers the views; so no view imports
the module that imports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apiflask import HTTPTokenAuth
from flask import current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.access import Principal, authenticate
from api.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from api.job_kinds import KINDS
from api.jobs import JobKind, Worker
from api.schemas import RESOURCE_ID_PATTERN
from api.settings import Settings
from api.store import ArtifactStore

#: What a resource id can look like; anything else is not found without a query.
RESOURCE_ID = re.compile(RESOURCE_ID_PATTERN)
auth = HTTPTokenAuth(scheme="Bearer", description="An API key: `sw_k<id>_<secret>`.")


@dataclass
class Services:
    """What the views share: settings, the engine, sessions, the artifact store and the
    kinds of job (:data:`api.job_kinds.KINDS`) a worker of this app runs."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ArtifactStore
    kinds: Mapping[str, JobKind] = field(default_factory=lambda: KINDS)

    def worker(self, name: str | None = None) -> Worker:
        """A job worker on this app's database and store."""
        return Worker(self.sessions, self.store, self.settings, self.kinds, name=name)


def services() -> Services:
    """The services of the current app."""
    found: Services = current_app.extensions["spendwise"]
    return found


def db() -> Session:
    """The request's database session (opened on first use, closed at teardown)."""
    if "db" not in g:
        g.db = services().sessions()
    session: Session = g.db
    return session


def principal() -> Principal:
    """The authenticated caller of the current request."""
    found = auth.current_user
    assert isinstance(found, Principal), "principal() outside an authenticated view"
    return found


@auth.verify_token
def _verify(token: str | None) -> Principal:
    return authenticate(db(), token)


def require_content_type(*allowed: str) -> str:
    """The request's media type if it is one of ``allowed``, else 415 naming them."""
    kind = (request.mimetype or "").lower()
    if kind not in allowed:
        raise UnsupportedMediaType(f"Content-Type must be one of {', '.join(allowed)}, got "
                                   f"{kind or 'none'!r}")
    return kind


def body_bytes() -> bytes:
    """The raw body, refused with 413 over the upload limit."""
    limit = services().settings.max_upload_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is over the limit of {limit:,} bytes")
    return request.get_data(cache=False)


def owned(model: type[Any], resource_id: str) -> Any:
    """The row ``resource_id`` of ``model`` in the caller's workspace, else 404.

    A row of another workspace is reported exactly like a missing one.
    """
    what = model.__tablename__[:-1].replace("_", " ")
    if not RESOURCE_ID.fullmatch(resource_id):
        raise NotFound(f"no {what} {resource_id!r} in this workspace")
    row = db().get(model, resource_id)
    if row is None or row.workspace_id != principal().workspace_id:
        raise NotFound(f"no {what} {resource_id!r} in this workspace")
    return row
