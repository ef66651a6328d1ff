"""Workspaces and their keys.

``POST /v1/workspaces`` (admin) creates a workspace; ``POST /v1/keys`` creates a
key, ``GET /v1/keys`` lists keys and ``DELETE /v1/keys/{id}`` revokes one: the
admin key for any workspace, an owner's key for its own workspace. The full
key is in the creation response only; a list shows ids, never secrets.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response
from sqlalchemy.exc import IntegrityError

from api import workspaces
from api.access import ADMIN, Principal, keys_of, workspace_by_name
from api.audit import record
from api.context import RESOURCE_ID, auth, db, principal
from api.errors import Conflict, Invalid, NotFound
from api.schemas import (
    KeyIn,
    KeyList,
    KeyOut,
    KeyQuery,
    WorkspaceIn,
    WorkspaceOut,
    WorkspaceUpdate,
)
from api.tables import ApiKey, Workspace

blueprint = APIBlueprint("workspaces", __name__, url_prefix="/v1", tag="workspaces")


def workspace_dict(row: Workspace) -> dict[str, Any]:
    """The JSON form of a workspace (its pseudonym secret stays inside)."""
    return {"id": row.id, "name": row.name, "currency": row.currency,
            "created_at": row.created_at}


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


@blueprint.patch("/workspaces/current")
@blueprint.auth_required(auth)
@blueprint.input(WorkspaceUpdate, arg_name="body")
@blueprint.output(WorkspaceOut)
@blueprint.doc(responses={403: "the role may not change the workspace",
                          404: "the admin key has no workspace"})
def update_workspace(body: WorkspaceUpdate) -> dict[str, Any]:
    """Set the caller's workspace's currency (owners)."""
    who = principal()
    row = db().get(Workspace, who.workspace_id) if who.workspace_id else None
    if row is None:
        raise NotFound("the admin key belongs to no workspace")
    workspaces.set_currency(db(), who, row, body.currency)
    db().commit()
    return workspace_dict(row)


def key_dict(row: ApiKey) -> dict[str, Any]:
    """The JSON form of a key as listed: its id, never its secret or hash."""
    return {"id": row.id, "role": row.role, "label": row.label,
            "created_at": row.created_at, "last_used_at": row.last_used_at,
            "expires_at": row.expires_at, "revoked_at": row.revoked_at}


def _workspace_of(who: Principal, name: str | None) -> Workspace:
    """The workspace a key operation acts on: the admin names it; an owner's is its own.

    Naming another workspace than one's own is 404, as if it did not exist.
    """
    session = db()
    if who.role == ADMIN:
        if name is None:
            raise Invalid("workspace: required with the admin key",
                          errors=[{"loc": ["workspace"], "msg": "field required"}])
        workspace = workspace_by_name(session, name)
    else:
        workspace = session.get(Workspace, who.workspace_id)
        if name is not None and (workspace is None or name != workspace.name):
            workspace = None  # another workspace is not revealed
    if workspace is None:
        raise NotFound(f"no workspace {name!r}")
    return workspace


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
    workspace = _workspace_of(who, body.workspace)
    row, key = workspaces.create_key(session, who, workspace, body.role, body.label,
                                     body.expiry())
    session.commit()
    return {"id": row.id, "workspace": workspace.name, "role": row.role, "label": row.label,
            "created_at": row.created_at, "expires_at": row.expires_at, "key": key}


@blueprint.get("/keys")
@blueprint.auth_required(auth)
@blueprint.input(KeyQuery, location="query", arg_name="query")
@blueprint.output(KeyList)
@blueprint.doc(responses={403: "the role may not list keys", 404: "no such workspace"})
def list_keys(query: KeyQuery) -> dict[str, Any]:
    """The keys of a workspace, revoked ones included, oldest first; never a secret."""
    who = principal()
    who.require("key.read")
    workspace = _workspace_of(who, query.workspace)
    rows = db().scalars(keys_of(workspace.id).offset(query.offset)
                        .limit(query.limit + 1)).all()
    more = len(rows) > query.limit
    return {"keys": [key_dict(row) for row in rows[:query.limit]],
            "next_offset": query.offset + query.limit if more else None}


@blueprint.delete("/keys/<key_id>")
@blueprint.auth_required(auth)
@blueprint.doc(responses={204: "revoked (or revoked already)",
                          403: "the role may not revoke keys",
                          404: "no such key in this workspace"})
def revoke_key(key_id: str) -> Response:
    """Revoke a key: it is refused from its next request on. Revoking twice changes nothing."""
    who = principal()
    who.require("key.revoke")
    session = db()
    row = session.get(ApiKey, key_id) if RESOURCE_ID.fullmatch(key_id) else None
    if row is None or (who.role != ADMIN and row.workspace_id != who.workspace_id):
        raise NotFound(f"no key {key_id!r} in this workspace")
    if workspaces.revoke_key(session, who, row):
        session.commit()
    return Response(status=204)
