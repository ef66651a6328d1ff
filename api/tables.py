"""The database schema (SQLAlchemy 2 declarative tables).

The tables hold metadata, parameters, results small enough to serve from the
database (attribution reports, plans, forecasts) and the hashes of large
artifacts (uploaded datasets as Parquet, fitted models as NetCDF), which live
in the content-addressed store (:mod:`api.store`). Every workspace-owned row
carries ``workspace_id``, and every query of a request filters on it.

Migrations: ``api/migrations`` (Alembic); applied in order they create exactly
these tables, and a test checks that the migrated schema matches them.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
          "pk": "pk_%(table_name)s"}


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A random, unguessable resource id such as ``ds_3f2a...`` (ids reveal no counts)."""
    return f"{prefix}_{uuid.uuid4().hex}"


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use api.tables.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (for migrations)."""

    metadata = MetaData(naming_convention=NAMING)


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("ws"))
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: Key of the HMAC that pseudonymises user ids of this workspace's uploads.
    pseudonym_secret: Mapped[str] = mapped_column(
        String(64), default=lambda: secrets.token_hex(32))
    #: ISO 4217 code of the money in this workspace's data, shown with every amount.
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class ApiKey(Base):
    __tablename__ = "api_keys"

    #: The public part of the key, shown in the audit trail; the secret is only hashed.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: From this moment on the key is refused; ``None``: it does not expire.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the key last authenticated a request, to the minute.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SigninToken(Base):
    """A one-time sign-in link: its token (hashed) opens a browser session for a key."""

    __tablename__ = "signin_tokens"

    #: SHA-256 of the token of the link; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"),
                                        index=True)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the link was opened; a used link is refused.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BrowserSession(Base):
    """A signed-in browser: the cookie holds the secret, this row its hash and its key."""

    __tablename__ = "browser_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("bs"))
    #: SHA-256 of the cookie's secret.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"),
                                        index=True)
    #: The token every form of this session carries (CSRF).
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set by sign-out or revocation; an ended session is refused.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("ds"))
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(BigInteger)
    columns: Mapped[list[Any]] = mapped_column(JSON)
    #: Kind-specific summary: date range, channels, totals.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    artifact: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    #: Ids of the datasets this one was built from (journeys from touches and conversions);
    #: deleting one of those deletes this one too.
    derived_from: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class Report(Base):
    """An attribution report: several models side by side on one paths dataset."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("rp"))
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="SET NULL"))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    #: The models' JSON objects, as ``spendwise attribute --format json`` writes them.
    result: Mapped[list[Any] | None] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class ResponseFit(Base):
    """A response model: its inputs, settings, state, diagnostics and saved posterior."""

    __tablename__ = "response_models"

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("rm"))
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    #: ``{"spend": id, "outcomes": id, "controls": id|None, "lift_tests": id|None}``
    datasets: Mapped[dict[str, Any]] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    diagnostics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    artifact: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class Plan(Base):
    """A budget plan or a ROMI forecast computed from a fitted response model."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("pl"))
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[str | None] = mapped_column(
        ForeignKey("response_models.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # "plan" or "forecast"
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: ``queued`` or ``running`` while a plan's job works on it, then ``succeeded``
    #: or ``failed``; plans solved in their request are ``succeeded`` at once.
    state: Mapped[str] = mapped_column(String(16), server_default="succeeded")
    #: The engine's JSON form once succeeded.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job_id: Mapped[str | None] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class Job(Base):
    """Background work: claimed by one worker at a time under a renewable lease."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("jb"))
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    #: ``progress_done`` of ``progress_total`` units (draws, replicates, steps) are
    #: finished, as the job's engine counts them; ``None`` until it reports counts.
    progress_done: Mapped[int | None] = mapped_column(BigInteger)
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    #: What the job runs now, in a few words (``"sampling"``, ``"markov: bootstrap"``).
    progress_note: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_jobs_state_created", "state", "created_at"),)


class AuditEvent(Base):
    """Who (key id, never the key) did what, when, on which inputs, with which parameters."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str | None] = mapped_column(String(40))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
