"""Workspaces and their keys.

``POST /v1/workspaces`` (admin) creates a workspace; ``POST /v1/keys`` creates a
key: the admin key for any workspace, an owner's key for its own workspace.
The full key is in the creation response only.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from sqlalchemy.exc import IntegrityError

from api.access import ADMIN, issue_key, workspace_by_name
from api.app import auth, db, principal
from api.audit import record
from api.errors import Conflict, Invalid, NotFound
from api.schemas import KeyIn, KeyOut, WorkspaceIn, WorkspaceOut
from api.tables import Workspace

blueprint = APIBlueprint("workspaces", __name__, url_prefix="/v1", tag="workspaces")


def workspace_dict(row: Workspace) -> dict[str, Any]:
    """The JSON form of a workspace (its pseudonym secret stays inside)."""
    return {"id": row.id, "name": row.name, "created_at": row.created_at}


@blueprint.post("/workspaces")
@blueprint.auth_required(auth)
@blueprint.input(WorkspaceIn, arg_name="body")
@blueprint.output(WorkspaceOut, status_code=201)
@blueprint.doc(responses={403: "not the admin key", 409: "the name is taken"})
def create_workspace(body: WorkspaceIn) -> dict[str, Any]:
    """Create a workspace (admin key only)."""
    who = principal()
    who.require("workspace.create")
    session = db()
    if workspace_by_name(session, body.name) is not None:
        raise Conflict(f"name: a workspace called {body.name!r} exists")
    row = Workspace(name=body.name)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"name: a workspace called {body.name!r} exists") from None
    record(session, who, "workspace.create", "workspace", row.id, workspace_id=row.id,
           parameters={"name": body.name})
    session.commit()
    return workspace_dict(row)


@blueprint.get("/workspaces/current")
@blueprint.auth_required(auth)
@blueprint.output(WorkspaceOut)
@blueprint.doc(responses={404: "the admin key has no workspace"})
def current_workspace() -> dict[str, Any]:
    """The caller's workspace."""
    who = principal()
    row = db().get(Workspace, who.workspace_id) if who.workspace_id else None
    if row is None:
        raise NotFound("the admin key belongs to no workspace")
    return workspace_dict(row)


@blueprint.post("/keys")
@blueprint.auth_required(auth)
@blueprint.input(KeyIn, arg_name="body")
@blueprint.output(KeyOut, status_code=201)
@blueprint.doc(responses={403: "the role may not create keys", 404: "no such workspace"})
def create_key(body: KeyIn) -> dict[str, Any]:
    """Create a key with a role in a workspace (admin, or an owner for its own workspace)."""
    who = principal()
    who.require("key.create")
    session = db()
    if who.role == ADMIN:
        if body.workspace is None:
            raise Invalid("workspace: required with the admin key",
                          errors=[{"loc": ["json", "workspace"], "msg": "field required"}])
        workspace = workspace_by_name(session, body.workspace)
    else:
        workspace = session.get(Workspace, who.workspace_id)
        if body.workspace is not None and (workspace is None or body.workspace != workspace.name):
            workspace = None  # another workspace is not revealed
    if workspace is None:
        raise NotFound(f"no workspace {body.workspace!r}")
    row, key = issue_key(session, body.role, workspace.id, body.label)
    record(session, who, "key.create", "key", row.id, workspace_id=workspace.id,
           parameters={"role": body.role, "label": body.label})
    session.commit()
    return {"id": row.id, "workspace": workspace.name, "role": row.role, "label": row.label,
            "created_at": row.created_at, "key": key}
