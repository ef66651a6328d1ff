"""Hostile requests over HTTP, on SQLite and PostgreSQL: each is a 4xx problem+json that
names what it refuses, and changes no stored row and no artifact file.

The cases cover the input limits of :mod:`api.limits` and the schemas: numbers,
text, shape, keys and HTTP itself. One test sends a few of them to the real
server (waitress) as well, since a server can answer some requests itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.app import PROBLEM_JSON
from api.limits import MAX_DEPTH, MAX_HEADER_BYTES
from api.schemas import INT64_MAX
from api.tables import ApiKey, Base
from tests.api.conftest import Database, bearer
from tests.api.server_process import ROOT, Server, schema_url

PATHS_CSV = (ROOT / "fixtures" / "sample_paths.csv").read_bytes()
DEEP = "[" * 100_000


@dataclass(frozen=True)
class Case:
    """One hostile request and what its answer must say.

    ``path`` may name ``{dataset}`` (a dataset of the caller's workspace) and
    ``{rival_key}`` (a key of another workspace); ``key`` is whose key is sent:
    ``owner``, ``admin``, ``revoked`` or ``expired``.
    """

    id: str
    method: str
    path: str
    status: int
    names: str
    json: Any = None
    data: str | bytes | None = None
    content_type: str | None = None
    key: str = "owner"
    headers: dict[str, str] = field(default_factory=dict)
    answer_headers: dict[str, str] = field(default_factory=dict)


def raw(body: str) -> dict[str, Any]:
    """A raw JSON body, as a client that writes what Python's parser accepts would send."""
    return {"data": body, "content_type": "application/json"}


def nested(levels: int) -> str:
    """A key body whose label sits ``levels`` objects deep."""
    return '{"role": "buyer", "label": ' + '{"a": ' * (levels - 1) + "1" + "}" * levels


CASES = [
    # Numbers
    Case("NaN in a body is 400", "POST", "/v1/keys", 400, "non-finite number (NaN)",
         **raw('{"role": "buyer", "expires_in_days": NaN}')),
    Case("Infinity in a body is 400", "POST", "/v1/keys", 400, "non-finite number (Infinity)",
         **raw('{"role": "buyer", "expires_in_days": Infinity}')),
    Case("-Infinity in a plan is 400", "POST", "/v1/plans", 400, "non-finite number (-Infinity)",
         **raw('{"model": "rm_x", "budget": -Infinity}')),
    Case("a float past 1.8e308 is 400", "POST", "/v1/plans", 400, "too large for a float",
         **raw('{"model": "rm_x", "budget": 1e999}')),
    Case("an integer past a float is 400", "POST", "/v1/keys", 400, "too large for a float",
         **raw('{"role": "buyer", "expires_in_days": 1' + "0" * 400 + "}")),
    Case("an integer past 64 bits in a body is 422", "POST", "/v1/keys", 422,
         "expires_in_days", json={"role": "buyer", "expires_in_days": INT64_MAX + 1}),
    Case("an audit cursor past 64 bits is 422", "GET",
         f"/v1/audit?before={INT64_MAX + 1}", 422, "before"),
    Case("a 5,000-digit audit cursor is 422", "GET", "/v1/audit?before=" + "9" * 5000, 422,
         "before"),
    Case("a negative page size is 422", "GET", "/v1/audit?limit=-1", 422, "limit"),
    Case("a key list offset past 64 bits is 422", "GET", f"/v1/keys?offset={2**64}", 422,
         "offset"),
    Case("a report list offset past 64 bits is 422", "GET", f"/v1/reports?offset={2**64}",
         422, "offset"),
    Case("a plan list limit past 64 bits is 422", "GET", f"/v1/plans?limit={2**64}", 422,
         "limit"),
    Case("a model list offset past 64 bits is 422", "GET", f"/v1/models?offset={2**64}", 422,
         "offset"),
    Case("a dataset list offset past 64 bits is 422", "GET", f"/v1/datasets?offset={2**64}",
         422, "offset"),
    Case("a negative spend in a forecast week is 422", "POST", "/v1/forecasts", 422,
         "schedule", json={"model": "rm_any", "schedule": [{"search": -1.0}]}),
    Case("a forecast of 105 weeks of schedule is 422", "POST", "/v1/forecasts", 422,
         "schedule", json={"model": "rm_any", "schedule": [{"search": 1.0}] * 105}),
    Case("a forecast with both allocation and schedule is 422", "POST", "/v1/forecasts", 422,
         "allocation", json={"model": "rm_any", "allocation": {}, "schedule": [{}]}),
    # Text
    Case("a tab in a forecast week's channel is 422", "POST", "/v1/forecasts", 422,
         "control characters", json={"model": "rm_any", "schedule": [{"a\tb": 1.0}]}),
    Case("NUL in a journeys separator is 422", "POST", "/v1/datasets/journeys", 422,
         "separator", json={"touches": "ds_any", "conversions": "ds_any", "name": "j",
                            "separator": "\x00"}),
    Case("an empty journeys separator is 422", "POST", "/v1/datasets/journeys", 422,
         "separator", json={"touches": "ds_any", "conversions": "ds_any", "name": "j",
                            "separator": ""}),
    Case("NUL in a workspace name is 422", "POST", "/v1/workspaces", 422, "name",
         json={"name": "a\x00b"}, key="admin"),
    Case("a newline ending a workspace name is 422", "POST", "/v1/workspaces", 422, "name",
         json={"name": "ab\n"}, key="admin"),
    Case("NUL in a key label is 422", "POST", "/v1/keys", 422, "label",
         json={"role": "buyer", "label": "a\x00b"}),
    Case("a C1 control character in a key label is 422", "POST", "/v1/keys", 422, "label",
         json={"role": "buyer", "label": "a\x85b"}),
    Case("a lone surrogate in a key label is 422", "POST", "/v1/keys", 422, "label",
         **raw('{"role": "buyer", "label": "\\ud800"}')),
    Case("NUL in a query value is 400", "GET", "/v1/audit?action=a%00b", 400, "'action'"),
    Case("a tab in a query value is 400", "GET", "/v1/plans?model=a%09b", 400, "'model'"),
    Case("NUL in a query name is 400", "GET", "/v1/audit?a%00=1", 400, "query parameter"),
    Case("NUL in an upload's name is 400", "POST", "/v1/datasets?kind=paths&name=a%00b", 400,
         "'name'", data=PATHS_CSV, content_type="text/csv"),
    Case("NUL in a job id is 400", "GET", "/v1/jobs/jb_%00", 400, "'job_id'"),
    Case("a newline in a dataset id is 400", "DELETE", "/v1/datasets/{dataset}%0A", 400,
         "'dataset_id'"),
    Case("DEL in a key id is 400", "DELETE", "/v1/keys/k%7F", 400, "'key_id'"),
    Case("NUL in an unknown path is 400", "GET", "/v1/nowhere%00", 400, "path"),
    # Shape
    Case("a body nested 100,000 deep is 400", "POST", "/v1/keys", 400,
         f"deeper than {MAX_DEPTH} levels", **raw(DEEP)),
    Case("an object nested 33 deep is 400", "POST", "/v1/keys", 400,
         f"deeper than {MAX_DEPTH} levels", **raw(nested(MAX_DEPTH + 1))),
    Case("a plan nested 100,000 deep is 400", "POST", "/v1/plans", 400,
         f"deeper than {MAX_DEPTH} levels", **raw('{"model": ' + DEEP)),
    Case("a body that is not JSON is 400", "POST", "/v1/keys", 400, "not valid JSON",
         **raw('{"role": ')),
    Case("an empty body is 400", "POST", "/v1/keys", 400, "not valid JSON", **raw("")),
    # Keys
    Case("a revoked key is 401", "GET", "/v1/workspaces/current", 401, "revoked",
         key="revoked"),
    Case("an expired key is 401", "GET", "/v1/workspaces/current", 401, "expired API key",
         key="expired"),
    Case("revoking another workspace's key is 404", "DELETE", "/v1/keys/{rival_key}", 404,
         "no key"),
    Case("listing another workspace's keys is 404", "GET", "/v1/keys?workspace=rival", 404,
         "rival"),
    # HTTP
    Case("an 80 KB header is 431", "GET", "/v1/audit", 431, "X-Padding",
         headers={"X-Padding": "a" * 80_000}),
    Case("many headers over 16 KB together are 431", "GET", "/v1/audit", 431, "over the limit",
         headers={f"X-Padding-{i}": "a" * 1000 for i in range(20)}),
    Case("PUT on a read-only resource is 405 with Allow", "PUT", "/v1/audit", 405, "GET",
         answer_headers={"Allow": "GET"}),
    Case("DELETE on the key list is 405 with Allow", "DELETE", "/v1/keys", 405, "POST",
         answer_headers={"Allow": "POST"}),
]


@pytest.fixture
def hostile(client, admin, acme, rival) -> dict[str, Any]:
    """Workspaces ``acme`` (with a dataset) and ``rival``; the headers of each ``Case.key``
    and the ids its paths name."""
    upload = client.post("/v1/datasets", query_string={"kind": "paths", "name": "sample"},
                         data=PATHS_CSV, headers={**acme["owner"], "Content-Type": "text/csv"})
    assert upload.status_code == 201, upload.json
    keys = {}
    for name in ("revoked", "expired", "rival"):
        created = client.post("/v1/keys", json={"role": "owner"},
                              headers=rival["owner"] if name == "rival" else acme["owner"])
        assert created.status_code == 201
        keys[name] = created.json
    assert client.delete(f"/v1/keys/{keys['revoked']['id']}",
                         headers=acme["owner"]).status_code == 204
    with client.application.extensions["spendwise"].sessions.begin() as session:
        expired = session.get(ApiKey, keys["expired"]["id"])
        expired.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    return {"headers": {"owner": acme["owner"], "admin": admin,
                        "revoked": bearer(keys["revoked"]["key"]),
                        "expired": bearer(keys["expired"]["key"])},
            "ids": {"dataset": upload.json["id"], "rival_key": keys["rival"]["id"]}}


def stored(client: Any, data_dir: Path) -> tuple[dict[str, int], list[str]]:
    """The row count of every table and every file under the data directory."""
    with client.application.extensions["spendwise"].sessions() as session:
        counts = {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                  for table in Base.metadata.sorted_tables}
    files = sorted(str(path.relative_to(data_dir)) for path in data_dir.rglob("*")
                   if path.is_file())
    return counts, files


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_request_is_a_problem_that_changes_nothing(client, settings, hostile, case):
    """The request is a 4xx problem+json naming what it refuses; no row or file changes."""
    before = stored(client, settings.data_dir)
    path = case.path.format(**hostile["ids"])
    headers = {**hostile["headers"][case.key], **case.headers}
    if case.content_type:
        headers["Content-Type"] = case.content_type
    started = time.perf_counter()
    response = client.open(path, method=case.method, json=case.json, data=case.data,
                           headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == case.status, response.get_data(as_text=True)[:500]
    assert response.content_type == PROBLEM_JSON
    assert case.names in response.json["detail"], response.json
    for name, value in case.answer_headers.items():
        assert value in response.headers.get(name, ""), dict(response.headers)
    assert elapsed < 2.0
    assert stored(client, settings.data_dir) == before


def test_every_integer_query_parameter_fits_64_bits(client):
    """Every integer query parameter in the OpenAPI document has a bound both databases store."""
    spec = client.get("/v1/openapi.json").json
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                options = schema.get("anyOf", [schema])
                for option in options:
                    if option.get("type") == "integer":
                        found.append((method, path, parameter["name"]))
                        assert option.get("minimum", -INT64_MAX - 1) >= -INT64_MAX - 1
                        assert option.get("maximum", INT64_MAX + 1) <= INT64_MAX, found[-1]
    assert ("get", "/v1/audit", "before") in found and ("get", "/v1/keys", "offset") in found


def test_a_deep_body_is_refused_fast(client, acme):
    """A JSON body of 2 MB of ``[`` is refused in well under a second, without a 500."""
    body = "[" * (2 * 1024 * 1024 - 1)
    started = time.perf_counter()
    response = client.post("/v1/keys", data=body, content_type="application/json",
                           headers=acme["owner"])
    assert response.status_code == 400 and time.perf_counter() - started < 1.0


def test_request_bodies_are_required_in_the_document(client):
    """The OpenAPI document marks every request body required, the raw upload included."""
    spec = client.get("/v1/openapi.json").json
    bodies = {(method, path): operation["requestBody"]
              for path, operations in spec["paths"].items()
              for method, operation in operations.items() if "requestBody" in operation}
    assert ("post", "/v1/datasets") in bodies and ("post", "/v1/keys") in bodies
    assert all(body.get("required") is True for body in bodies.values())


def test_database_errors_and_logs_never_show_values(app, database, caplog):
    """A failing statement's error and the engine's log name the statement, never a value:
    neither the parameters nor the values the database quotes in its own message."""
    engine = app.extensions["spendwise"].engine
    assert engine.hide_parameters
    secret = "user-4711-secret"
    statements = ["INSERT INTO workspaces (id, name) VALUES (:v, :v)"]
    if database.backend == "postgresql":  # SQLite casts any text to an integer
        statements.append("SELECT CAST(:v AS INTEGER)")
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    engine.echo = True
    try:
        for statement in statements:
            with pytest.raises(DBAPIError) as failure, Session(engine) as session:
                session.execute(text(statement), {"v": secret})
            assert secret not in str(failure.value) and secret not in str(failure.value.orig)
            assert statement.split()[0] in str(failure.value)
    finally:
        engine.echo = False
    assert secret not in caplog.text and "INSERT INTO workspaces" in caplog.text


@pytest.fixture
def server(tmp_path: Path, database: Database) -> Any:
    """The real server on the test's database, without job workers."""
    url = schema_url(database.url, database.schema) if database.schema else database.url
    with Server(tmp_path / "served", url, workers=0) as running:
        yield running


def test_real_server_answers_hostile_requests_with_problems(server):
    """Over waitress too: a long header is 431, a wrong method 405 with Allow, a deep body
    400, a control character 400, each as problem+json."""
    answers = {
        "header": server.request("GET", "/v1/health",
                                 headers={"X-Padding": "a" * (5 * MAX_HEADER_BYTES)}),
        "method": server.request("PUT", "/v1/health"),
        "deep": server.request("POST", "/v1/workspaces", key=server.admin_key,
                               data=DEEP.encode(), content_type="application/json"),
        "nul": server.request("GET", "/v1/audit?action=%00", key=server.admin_key),
    }
    assert {name: answer.status for name, answer in answers.items()} == \
        {"header": 431, "method": 405, "deep": 400, "nul": 400}
    assert all(answer.headers["Content-Type"] == PROBLEM_JSON for answer in answers.values())
    assert "GET" in answers["method"].headers["Allow"]
    assert "X-Padding" in answers["header"].json["detail"]
