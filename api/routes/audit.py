"""``GET /v1/audit``: the workspace's audit trail, newest first, paged by event id."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from api.audit import event_dict, events
from api.context import auth, db, principal
from api.schemas import AuditPage, AuditQuery

blueprint = APIBlueprint("audit", __name__, url_prefix="/v1", tag="audit")


@blueprint.get("/audit")
@blueprint.auth_required(auth)
@blueprint.input(AuditQuery, location="query", arg_name="query")
@blueprint.output(AuditPage)
def list_events(query: AuditQuery) -> dict[str, Any]:
    """Who did what and when in this workspace, newest first; filtered by action, key,
    resource type and time."""
    who = principal()
    who.require("audit.read")
    assert who.workspace_id is not None
    statement = events(who.workspace_id, before=query.before, action=query.action,
                       key_id=query.key_id, resource_type=query.resource_type,
                       since=query.since, until=query.until)
    rows = db().scalars(statement.limit(query.limit + 1)).all()
    page = rows[:query.limit]
    return {"events": [event_dict(e) for e in page],
            "next_before": page[-1].id if len(rows) > query.limit else None}
