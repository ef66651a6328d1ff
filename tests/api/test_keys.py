"""API keys: listing, revocation, expiry and last use, over HTTP and on the command line,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.cli import main
from api.database import upgrade
from api.tables import ApiKey, AuditEvent
from tests.api.conftest import bearer
from tests.api.server_process import schema_url

FIELDS = {"id", "role", "label", "created_at", "last_used_at", "expires_at", "revoked_at"}


def session_of(client: Any) -> Session:
    """A session on the app's database."""
    session: Session = client.application.extensions["spendwise"].sessions()
    return session


def new_key(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """Create a key with ``body`` (role ``buyer`` by default); returns the response body."""
    response = client.post("/v1/keys", json={"role": "buyer"} | body, headers=headers)
    assert response.status_code == 201, response.json
    created: dict[str, Any] = response.json
    return created


def set_column(client: Any, key_id: str, **values: Any) -> None:
    """Write ``values`` into the key's row directly (to move its times into the past)."""
    with session_of(client) as session, session.begin():
        row = session.get(ApiKey, key_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)


def test_owner_lists_its_keys_without_secrets(client, acme):
    """An owner lists its workspace's keys with their times, and no secret or hash appears."""
    created = new_key(client, acme["owner"], label="agency")
    response = client.get("/v1/keys", headers=acme["owner"])
    assert response.status_code == 200
    keys = response.json["keys"]
    assert len(keys) == 5 and all(set(key) == FIELDS for key in keys)
    assert {key["role"] for key in keys} == {"owner", "buyer", "auditor", "finance"}
    assert next(k for k in keys if k["id"] == created["id"])["label"] == "agency"
    body = response.get_data(as_text=True)
    with session_of(client) as session:
        hashes = session.scalars(select(ApiKey.secret_hash)).all()
    assert created["key"] not in body and created["key"].split("_", 2)[2] not in body
    assert not any(digest in body for digest in hashes)


def test_key_list_pages(client, acme):
    """``limit`` and ``next_offset`` page through the keys without gaps or repeats."""
    first = client.get("/v1/keys", query_string={"limit": 3}, headers=acme["owner"]).json
    assert len(first["keys"]) == 3 and first["next_offset"] == 3
    rest = client.get("/v1/keys", query_string={"limit": 3, "offset": 3},
                      headers=acme["owner"]).json
    assert len(rest["keys"]) == 1 and rest["next_offset"] is None
    assert not {k["id"] for k in first["keys"]} & {k["id"] for k in rest["keys"]}


def test_admin_lists_a_named_workspace(client, admin, acme, rival):
    """The admin key lists the keys of the workspace it names, and must name one."""
    response = client.get("/v1/keys", query_string={"workspace": "rival"}, headers=admin)
    assert response.status_code == 200 and len(response.json["keys"]) == 4
    unnamed = client.get("/v1/keys", headers=admin)
    assert unnamed.status_code == 422 and "workspace" in unnamed.json["detail"]


def test_owner_naming_another_workspace_is_404(client, acme, rival):
    """An owner asking for another workspace's keys gets 404, as if it did not exist."""
    response = client.get("/v1/keys", query_string={"workspace": "rival"}, headers=acme["owner"])
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("role", ["buyer", "auditor", "finance"])
def test_other_roles_may_not_list_or_revoke_keys(client, acme, role):
    """Only owners (and the admin) list and revoke keys."""
    key_id = client.get("/v1/keys", headers=acme["owner"]).json["keys"][0]["id"]
    assert client.get("/v1/keys", headers=acme[role]).status_code == 403
    assert client.delete(f"/v1/keys/{key_id}", headers=acme[role]).status_code == 403


def test_revoked_key_is_refused_at_once(client, acme):
    """A revoked key gets 401 on its very next request; revoking again changes nothing."""
    created = new_key(client, acme["owner"])
    headers = bearer(created["key"])
    assert client.get("/v1/workspaces/current", headers=headers).status_code == 200
    assert client.delete(f"/v1/keys/{created['id']}", headers=acme["owner"]).status_code == 204
    refused = client.get("/v1/workspaces/current", headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.json["detail"]
    listed = client.get("/v1/keys", headers=acme["owner"]).json["keys"]
    revoked_at = next(k for k in listed if k["id"] == created["id"])["revoked_at"]
    assert revoked_at is not None
    assert client.delete(f"/v1/keys/{created['id']}", headers=acme["owner"]).status_code == 204
    listed = client.get("/v1/keys", headers=acme["owner"]).json["keys"]
    assert next(k for k in listed if k["id"] == created["id"])["revoked_at"] == revoked_at


def test_owner_may_revoke_its_own_key(client, acme):
    """An owner that revokes the key it calls with is refused from the next request on."""
    me = next(k for k in client.get("/v1/keys", headers=acme["owner"]).json["keys"]
          if k["role"] == "owner")["id"]  # the workspace's one owner key is the caller's
    assert client.delete(f"/v1/keys/{me}", headers=acme["owner"]).status_code == 204
    assert client.get("/v1/keys", headers=acme["owner"]).status_code == 401


@pytest.mark.parametrize("key_id", ["k0123456789abcdef", "nope", "k" * 41])
def test_unknown_key_is_404(client, acme, key_id):
    """Revoking a key that does not exist is a 404 problem."""
    response = client.delete(f"/v1/keys/{key_id}", headers=acme["owner"])
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_another_workspaces_key_is_404_and_keeps_working(client, acme, rival):
    """An owner cannot revoke another workspace's key: 404, and that key still works."""
    theirs = new_key(client, rival["owner"])
    response = client.delete(f"/v1/keys/{theirs['id']}", headers=acme["owner"])
    assert response.status_code == 404
    assert client.get("/v1/workspaces/current",
                      headers=bearer(theirs["key"])).status_code == 200


def test_admin_revokes_any_workspaces_key(client, admin, acme):
    """The admin key revokes a key of any workspace."""
    created = new_key(client, acme["owner"])
    assert client.delete(f"/v1/keys/{created['id']}", headers=admin).status_code == 204
    assert client.get("/v1/workspaces/current",
                      headers=bearer(created["key"])).status_code == 401


def test_expired_key_is_401(client, acme):
    """A key past its expiry gets 401 "expired API key"; before it, it works."""
    created = new_key(client, acme["owner"], expires_in_days=1)
    expires = datetime.fromisoformat(created["expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(days=1)
    headers = bearer(created["key"])
    assert client.get("/v1/workspaces/current", headers=headers).status_code == 200
    set_column(client, created["id"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    refused = client.get("/v1/workspaces/current", headers=headers)
    assert refused.status_code == 401 and refused.json["detail"] == "expired API key"


def test_key_with_an_expiry_moment(client, acme):
    """``expires_at`` sets the expiry to that moment, stored and shown in UTC."""
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    created = new_key(client, acme["owner"],
                      expires_at=moment.astimezone(UTC).isoformat().replace("+00:00", "+02:00"))
    assert datetime.fromisoformat(created["expires_at"]) == moment - timedelta(hours=2)


@pytest.mark.parametrize("body,field", [
    ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "2999-01-01T00:00:00"}, "expires_at"),
    ({"expires_at": "9999-12-31T23:59:59-23:59"}, "expires_at"),
    ({"expires_in_days": 0}, "expires_in_days"),
    ({"expires_in_days": 2**63}, "expires_in_days"),
    ({"expires_in_days": 1, "expires_at": "2999-01-01T00:00:00Z"}, "expires_in_days"),
    ({"label": "tab\there"}, "label"),
])
def test_bad_expiry_or_label_is_422_naming_the_field(client, acme, body, field):
    """A past, zone-less or out-of-range expiry, or a label with a control character, is
    a 422 naming the field, and no key is created."""
    before = len(client.get("/v1/keys", headers=acme["owner"]).json["keys"])
    response = client.post("/v1/keys", json={"role": "buyer"} | body, headers=acme["owner"])
    assert response.status_code == 422, response.json
    assert field in response.json["detail"]
    assert len(client.get("/v1/keys", headers=acme["owner"]).json["keys"]) == before


def test_last_use_is_recorded_at_most_once_a_minute(client, acme):
    """Authentication records the time of use, writing it again only after a minute."""
    created = new_key(client, acme["owner"])
    headers = bearer(created["key"])

    def last_used() -> datetime | None:
        with session_of(client) as session:
            row = session.get(ApiKey, created["id"])
            assert row is not None
            return row.last_used_at

    assert last_used() is None
    client.get("/v1/workspaces/current", headers=headers)
    first = last_used()
    assert first is not None
    client.get("/v1/workspaces/current", headers=headers)
    assert last_used() == first
    set_column(client, created["id"], last_used_at=first - timedelta(minutes=2))
    client.get("/v1/workspaces/current", headers=headers)
    latest = last_used()
    assert latest is not None and latest >= first


def test_audit_records_create_and_revoke_without_the_secret(client, acme):
    """Creating and revoking a key are audit events naming the key by id, never the secret."""
    created = new_key(client, acme["owner"], label="agency", expires_in_days=7)
    client.delete(f"/v1/keys/{created['id']}", headers=acme["owner"])
    events = client.get("/v1/audit", headers=acme["owner"]).json["events"]
    revoke, create = events[0], events[1]
    assert (revoke["action"], revoke["resource_id"]) == ("key.revoke", created["id"])
    assert (create["action"], create["parameters"]["label"]) == ("key.create", "agency")
    assert create["parameters"]["expires_at"] is not None
    body = client.get("/v1/audit", headers=acme["owner"]).get_data(as_text=True)
    assert created["key"] not in body and created["key"].split("_", 2)[2] not in body


def cli(database: Any, settings: Any, *arguments: str) -> list[str]:
    """The command-line arguments that point ``spendwise`` at the test's database."""
    url = database.url if database.schema is None else schema_url(database.url, database.schema)
    return [*arguments, "--database", url, "--data-dir", str(settings.data_dir)]


def test_cli_creates_lists_and_revokes_keys(client, acme, database, settings, capsys):
    """``spendwise keys create/list/revoke`` manage keys; a revoked key is 401 at once."""
    assert main(cli(database, settings, "keys", "create", "--workspace", "acme", "--role",
                    "buyer", "--label", "cli", "--expires-days", "5")) == 0
    key = capsys.readouterr().out.strip()
    assert client.get("/v1/workspaces/current", headers=bearer(key)).status_code == 200
    key_id = key.split("_")[1]
    assert main(cli(database, settings, "keys", "list", "--workspace", "acme")) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and key.split("_", 2)[2] not in listing
    assert len(listing.strip().splitlines()) == 1 + 5  # header, four role keys and this one
    assert main(cli(database, settings, "keys", "revoke", key_id)) == 0
    assert f"key {key_id} revoked" in capsys.readouterr().out
    assert client.get("/v1/workspaces/current", headers=bearer(key)).status_code == 401
    events = client.get("/v1/audit", headers=acme["owner"]).json["events"]
    assert [(e["action"], e["key_id"]) for e in events[:2]] == [("key.revoke", "shell"),
                                                                 ("key.create", "shell")]


@pytest.mark.parametrize("arguments,message", [
    (("keys", "revoke", "k0123456789abcdef"), "no key 'k0123456789abcdef'"),
    (("keys", "list", "--workspace", "nowhere"), "no workspace 'nowhere'"),
    (("keys", "create", "--workspace", "acme", "--role", "buyer", "--expires-days", "0"),
     "expires_in_days"),
])
def test_cli_key_errors_are_one_line(client, acme, database, settings, capsys, arguments,
                                     message):
    """A key command's error is one line naming what is wrong, with exit status 2."""
    assert main(cli(database, settings, *arguments)) == 2
    error = capsys.readouterr().err
    assert error.startswith("spendwise: error:") and message in error
    assert len(error.strip().splitlines()) == 1


def test_upgrade_from_0002_keeps_keys_without_expiry(database):
    """A key stored before keys could expire reads back with no expiry and no recorded use."""
    engine = database.engine()
    try:
        upgrade(engine, "0002")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO api_keys (id, workspace_id, role, secret_hash, label, created_at) "
                "VALUES ('k0123456789abcdef', NULL, 'admin', 'h', '', CURRENT_TIMESTAMP)"))
        upgrade(engine)
        with Session(engine) as session:
            row = session.get(ApiKey, "k0123456789abcdef")
            assert row is not None and (row.expires_at, row.last_used_at) == (None, None)
            assert session.scalars(select(AuditEvent)).all() == []
    finally:
        engine.dispose()
