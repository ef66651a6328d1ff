"""``GET /v1/audit``: the workspace's audit trail, newest first, paged by event id."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from sqlalchemy import select

from api.app import auth, db, principal
from api.audit import event_dict
from api.schemas import AuditPage, AuditQuery
from api.tables import AuditEvent

blueprint = APIBlueprint("audit", __name__, url_prefix="/v1", tag="audit")


@blueprint.get("/audit")
@blueprint.auth_required(auth)
@blueprint.input(AuditQuery, location="query", arg_name="query")
@blueprint.output(AuditPage)
def list_events(query: AuditQuery) -> dict[str, Any]:
    """Who did what and when in this workspace, newest first."""
    who = principal()
    who.require("audit.read")
    statement = select(AuditEvent).where(AuditEvent.workspace_id == who.workspace_id)
    if query.before is not None:
        statement = statement.where(AuditEvent.id < query.before)
    if query.action is not None:
        statement = statement.where(AuditEvent.action == query.action)
    rows = db().scalars(statement.order_by(AuditEvent.id.desc()).limit(query.limit + 1)).all()
    page = rows[:query.limit]
    return {"events": [event_dict(e) for e in page],
            "next_before": page[-1].id if len(rows) > query.limit else None}
