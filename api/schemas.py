"""Request and response schemas (pydantic); the OpenAPI document is generated from them.

Shared pieces live here; each resource's own schemas sit in its route module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.access import ROLES

Role = Literal["owner", "buyer", "auditor", "finance"]
assert set(ROLES) == set(Role.__args__)  # type: ignore[attr-defined]
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class Strict(BaseModel):
    """Request bodies: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


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


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["reachable", "unreachable"]
    version: str


class WorkspaceIn(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="lower-case letters, digits, - and _")


class WorkspaceOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class KeyIn(Strict):
    role: Role
    workspace: str | None = Field(
        default=None, description="workspace name; required for the admin key, "
        "otherwise the caller's own workspace")
    label: str = Field(default="", max_length=128)


class KeyOut(BaseModel):
    id: str
    workspace: str
    role: Role
    label: str
    created_at: datetime
    key: str = Field(description="the full key; shown only in this response")


class JobOut(BaseModel):
    id: str
    kind: str
    target_id: str
    state: Literal["queued", "running", "succeeded", "failed"]
    progress: float
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


class AuditQuery(Strict):
    before: int | None = Field(default=None, ge=1, le=2**62)
    limit: int = Field(default=100, ge=1, le=1000)
    action: str | None = Field(default=None, max_length=64)
