"""Request and response schemas (pydantic); the OpenAPI document is generated from them.

Shared pieces live here; each resource's own schemas sit in its route module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from api.access import ROLES
from api.errors import Invalid
from api.jobs import JobState
from spendwise.requests import Label

M = TypeVar("M", bound=BaseModel)
Role = Literal["owner", "buyer", "auditor", "finance"]
assert set(ROLES) == set(Role.__args__)  # type: ignore[attr-defined]
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
#: What a resource id can look like (``ds_3f2a...``, ``k0123...``).
RESOURCE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
#: The largest integer both databases store (SQLite's INTEGER, PostgreSQL's BIGINT).
INT64_MAX = 2**63 - 1
def _utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be a date and time between years 1 and 9999 in UTC") from None


#: A workspace name: lower-case letters, digits, ``-`` and ``_``.
Name = Annotated[str, Field(pattern=NAME_PATTERN,
                            description="lower-case letters, digits, - and _")]
#: The id of a resource, as in its URL.
ResourceId = Annotated[str, Field(pattern=RESOURCE_ID_PATTERN, description="a resource id")]
#: The id of a resource named in a request body: any printable text, so that an id of no
#: resource of the caller's workspace is 404 whatever it looks like, as it is in a URL.
Reference = Annotated[Label, Field(min_length=1, max_length=1000)]
#: A timezone-aware moment, normalised to UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_utc)]
#: Page size of a list.
Limit = Annotated[int, Field(ge=1, le=1000, description="at most this many items")]
#: Items to skip in a list; bounded well inside 64 bits.
Offset = Annotated[int, Field(ge=0, le=1_000_000_000, description="skip this many items")]
#: A positive row id (audit events), within what both databases store.
RowId = Annotated[int, Field(ge=1, le=INT64_MAX)]


class Strict(BaseModel):
    """Request bodies: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def build(model: type[M], **fields: Any) -> M:
    """``model`` from ``fields``, as the command line builds a request the API reads:
    :class:`api.errors.Invalid` naming each wrong field, with the API's message."""
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        problems = [(".".join(map(str, e["loc"])) or "request",
                     e["msg"].removeprefix("Value error, ")) for e in error.errors()]
        raise Invalid("; ".join(f"{where}: {msg}" for where, msg in problems),
                      errors=[{"loc": [where], "msg": msg} for where, msg in problems]) from None


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: the part of the request, then the field")
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem: every error response of the API."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="for validation errors: each field and what is wrong")


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of ``model`` with its ``$defs`` written in place (for APIFlask's
    error-schema settings, which take a plain schema)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


class PageQuery(Strict):
    """The query of a list paged by offset: ``limit`` and ``offset``."""

    limit: Limit = 100
    offset: Offset = 0


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["reachable", "unreachable"]
    version: str


class WorkspaceIn(Strict):
    name: Name


class WorkspaceOut(BaseModel):
    id: str
    name: str
    currency: str = Field(description="ISO 4217 code of the money in the workspace's data")
    created_at: datetime


def _known_currency(code: str) -> str:
    from babel.numbers import list_currencies

    if code not in list_currencies():
        raise PydanticCustomError("currency", "must be an ISO 4217 currency code such as USD, "
                                  "EUR or CNY, got {code!r}", {"code": code})
    return code


#: An ISO 4217 currency code, e.g. ``USD`` or ``CNY``.
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY"),
                     AfterValidator(_known_currency)]


class WorkspaceUpdate(Strict):
    currency: Currency


class KeyIn(Strict):
    role: Role
    workspace: Name | None = Field(
        default=None, description="workspace name; required for the admin key, "
        "otherwise the caller's own workspace")
    label: Label = Field(default="", max_length=128)
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="the key is refused this many days from now")
    expires_at: Moment | None = Field(
        default=None, description="the key is refused from this moment on (with a time zone)")

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value

    @model_validator(mode="after")
    def _one_expiry(self) -> KeyIn:
        if self.expires_in_days is not None and self.expires_at is not None:
            raise ValueError("give expires_in_days or expires_at, not both")
        return self

    def expiry(self) -> datetime | None:
        """When the key stops working, or ``None`` if it does not expire."""
        if self.expires_in_days is not None:
            return datetime.now(UTC) + timedelta(days=self.expires_in_days)
        return self.expires_at


class KeyOut(BaseModel):
    id: str
    workspace: str
    role: Role
    label: str
    created_at: datetime
    expires_at: datetime | None
    key: str = Field(description="the full key; shown only in this response")


class KeyInfo(BaseModel):
    """A key as listed: never its secret."""

    id: str
    role: Role
    label: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="to the minute")
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyList(BaseModel):
    keys: list[KeyInfo]
    next_offset: int | None = Field(description="pass as `offset` for the next page")


class KeyQuery(PageQuery):
    workspace: Name | None = Field(
        default=None, description="workspace name; required for the admin key, "
        "otherwise the caller's own workspace")


class JobOut(BaseModel):
    id: str
    kind: str
    target_id: str
    state: JobState
    progress: float = Field(description="fraction of the work done, 0 to 1")
    progress_done: int | None = Field(
        description="units of work done (draws, replicates or steps, by kind); null until "
                    "the job reports counts")
    progress_total: int | None = Field(description="units of work in all")
    progress_note: str | None = Field(description="what the job runs now, in a few words")
    seconds_left: float | None = Field(
        description="estimated from started_at and progress; 0 once succeeded, null when "
                    "unknown")
    attempts: int
    max_attempts: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    key_id: str
    role: str
    action: str
    resource_type: str
    resource_id: str | None
    fingerprint: str | None
    parameters: dict[str, Any]


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    next_before: int | None = Field(description="pass as `before` for the next page")


#: An audit event's id (a 32-bit column).
AuditId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class AuditQuery(Strict):
    before: AuditId | None = Field(default=None, description="only events older than this id")
    limit: Limit = 100
    action: Label | None = Field(default=None, max_length=64)
    key_id: Label | None = Field(default=None, max_length=40, description="only this key's")
    resource_type: Label | None = Field(default=None, max_length=32)
    since: Moment | None = Field(default=None, description="only events from this moment on")
    until: Moment | None = Field(default=None, description="only events before this moment")
