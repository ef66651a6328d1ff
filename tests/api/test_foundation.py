"""Health, workspaces, keys, roles, jobs and the audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.access import PERMISSIONS, hash_secret
from api.database import current_revision, head_revision, upgrade
from api.tables import ApiKey, Base, Plan
from tests.api.conftest import bearer


def test_health_needs_no_key_and_reports_the_database(client):
    """GET /v1/health answers without a key and says the database is reachable."""
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json["database"] == "reachable" and response.json["status"] == "ok"


def test_migrations_create_exactly_the_declared_schema(app):
    """After the migrations the database is at the head revision and matches the tables."""
    engine = app.extensions["spendwise"].engine
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert drift == []


def test_upgrade_from_0001_keeps_stored_plans_as_succeeded(database):
    """A plan stored before plans could be jobs reads back succeeded, without a job."""
    engine = database.engine()
    try:
        upgrade(engine, "0001")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO workspaces (id, name, pseudonym_secret, created_at) "
                "VALUES ('ws_1', 'old', 's', CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO plans (id, workspace_id, kind, parameters, result, fingerprint, "
                "version, created_by, created_at) VALUES ('pl_1', 'ws_1', 'plan', '{}', "
                "'{\"total\": {}}', 'f', '0.1', 'k', CURRENT_TIMESTAMP)"))
        upgrade(engine)
        with Session(engine) as session:
            plan = session.get(Plan, "pl_1")
            assert plan is not None
            assert (plan.state, plan.job_id, plan.result) == ("succeeded", None, {"total": {}})
    finally:
        engine.dispose()


def test_admin_creates_workspace_and_keys(client, admin):
    """The admin key creates a workspace and a key; the key is shown once and stored hashed."""
    created = client.post("/v1/workspaces", json={"name": "acme"}, headers=admin)
    assert created.status_code == 201 and created.json["name"] == "acme"
    assert "pseudonym_secret" not in created.json
    key = client.post("/v1/keys", json={"role": "buyer", "workspace": "acme"}, headers=admin)
    assert key.status_code == 201
    full = key.json["key"]
    assert full.startswith(f"sw_{key.json['id']}_")
    session = client.application.extensions["spendwise"].sessions()
    row = session.get(ApiKey, key.json["id"])
    assert row.secret_hash == hash_secret(full.split("_", 2)[2]) and full not in row.secret_hash
    session.close()
    me = client.get("/v1/workspaces/current", headers=bearer(full))
    assert me.status_code == 200 and me.json["name"] == "acme"


@pytest.mark.parametrize("body,field", [({"name": "Has Space"}, "name"), ({}, "name"),
                                        ({"name": "ok", "extra": 1}, "extra")])
def test_bad_workspace_body_is_a_field_error(client, admin, body, field):
    """A bad workspace body is a 422 problem naming the field."""
    response = client.post("/v1/workspaces", json=body, headers=admin)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert any(field in e["loc"] for e in response.json["errors"])


def test_duplicate_workspace_is_a_conflict_and_changes_nothing(client, admin):
    """A taken name is 409 and writes no audit event."""
    client.post("/v1/workspaces", json={"name": "acme"}, headers=admin)
    again = client.post("/v1/workspaces", json={"name": "acme"}, headers=admin)
    assert again.status_code == 409 and "acme" in again.json["detail"]


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer sw_k0123456789abcdef_" + "x" * 43,
                                    "Basic abc"])
def test_missing_or_wrong_key_is_401(client, header):
    """No key, a malformed key or an unknown key get 401 problem+json."""
    headers = {"Authorization": header} if header else {}
    response = client.get("/v1/workspaces/current", headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def test_owner_creates_keys_only_in_its_own_workspace(client, acme, rival):
    """An owner creates keys in its workspace; naming another workspace is 404, not 403."""
    own = client.post("/v1/keys", json={"role": "auditor"}, headers=acme["owner"])
    assert own.status_code == 201 and own.json["workspace"] == "acme"
    other = client.post("/v1/keys", json={"role": "owner", "workspace": "rival"},
                        headers=acme["owner"])
    assert other.status_code == 404


@pytest.mark.parametrize("role", ["buyer", "auditor", "finance"])
def test_other_roles_cannot_create_keys(client, acme, role):
    """Only owners (and the admin) create keys."""
    response = client.post("/v1/keys", json={"role": "owner"}, headers=acme[role])
    assert response.status_code == 403 and role in response.json["detail"]


def test_workspace_keys_cannot_create_workspaces(client, acme):
    """Creating workspaces is the admin key's alone."""
    response = client.post("/v1/workspaces", json={"name": "x"}, headers=acme["owner"])
    assert response.status_code == 403


def test_roles_table_matches_the_issue():
    """The role table grants what the README's table says, and nothing more."""
    assert "dataset.upload" in PERMISSIONS["owner"] and "dataset.upload" not in PERMISSIONS["buyer"]
    assert PERMISSIONS["finance"] == {"model.read", "plan.read", "forecast.create"}
    assert {"report.create", "audit.read", "plan.read"} <= PERMISSIONS["auditor"]
    assert not {"model.create", "plan.create", "dataset.upload",
                "dataset.delete"} & PERMISSIONS["auditor"]


def test_only_owners_and_the_admin_manage_keys():
    """Creating, listing and revoking keys belong to the owner role and the admin key alone."""
    manage = {"key.create", "key.read", "key.revoke"}
    assert manage <= PERMISSIONS["owner"] and manage <= PERMISSIONS["admin"]
    assert not any(manage & PERMISSIONS[role] for role in ("buyer", "auditor", "finance"))


def test_audit_trail_names_keys_by_id_and_is_per_workspace(client, acme, rival, admin):
    """Audit events carry the key id, never the key; a workspace sees only its own."""
    events = client.get("/v1/audit", headers=acme["auditor"]).json["events"]
    assert {e["action"] for e in events} == {"workspace.create", "key.create"}
    assert all(e["parameters"].get("name", "acme") == "acme" for e in events)
    admin_key = client.application.config["ADMIN_KEY"]
    text = client.get("/v1/audit", headers=acme["owner"]).get_data(as_text=True)
    assert admin_key not in text and admin_key.split("_")[1] in text
    assert client.get("/v1/audit", headers=acme["finance"]).status_code == 403


def test_audit_pages(client, acme):
    """``limit`` and ``next_before`` page through the trail without gaps or repeats."""
    seen: list[Any] = []
    before = None
    while True:
        query = {"limit": 2} | ({"before": before} if before else {})
        page = client.get("/v1/audit", query_string=query, headers=acme["owner"]).json
        seen += [e["id"] for e in page["events"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 5


def test_unknown_job_and_route_are_problem_404(client, acme):
    """An unknown job id and an unknown path are 404 problem+json."""
    assert client.get("/v1/jobs/jb_missing", headers=acme["owner"]).status_code == 404
    response = client.get("/v1/nowhere")
    assert response.status_code == 404 and response.content_type == "application/problem+json"


def test_openapi_document_is_3_1_with_bearer_auth(client):
    """The OpenAPI document is 3.1, lists the resources and declares bearer keys."""
    spec = client.get("/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    assert {"/v1/health", "/v1/workspaces", "/v1/keys", "/v1/audit",
            "/v1/jobs/{job_id}"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"


def test_json_operations_refuse_other_media_types_with_415(client, admin):
    """A JSON operation given form data is 415 naming the expected type; nothing is created."""
    response = client.post("/v1/workspaces", data="name=acme", headers=admin,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and "application/json" in response.json["detail"]
    assert client.post("/v1/keys", json={"role": "owner", "workspace": "acme"},
                       headers=admin).status_code == 404


def test_malformed_json_is_400_problem(client, admin):
    """A body that is not JSON is 400 problem+json."""
    response = client.post("/v1/workspaces", data="{not json", headers=admin,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


def test_error_responses_are_documented_as_problems(client):
    """Every documented error response of the OpenAPI document is application/problem+json."""
    spec = client.get("/v1/openapi.json").json
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert list(response.get("content", {})) == ["application/problem+json"], \
                        (method, path, status)
