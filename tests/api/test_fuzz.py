"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis).

Every operation of ``/v1/openapi.json`` gets generated requests, with the
owner key of a workspace that holds data, and the checks that no response is
a 5xx and that every response matches the status codes, content types and
schemas the document declares. Runs on SQLite and on PostgreSQL, which refuse
different inputs (PostgreSQL refuses NUL in text, for one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.bootstrap import prepare
from api.settings import Settings
from tests.api.conftest import BACKENDS, Database, bearer, fresh_database, make_workspace


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_database(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """An empty database on each backend, for the whole module (a schema on PostgreSQL)."""
    with fresh_database(request.param, tmp_path_factory.mktemp("fuzz-db"), "fuzz") as found:
        yield found


@pytest.fixture(scope="module")
def fuzz_app(fuzz_database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app with workspace ``acme`` for the whole module, on each backend."""
    config = Settings(data_dir=tmp_path_factory.mktemp("fuzz"), database_url=fuzz_database.url,
                      max_upload_bytes=256 * 1024, lease_seconds=3.0)
    engine = fuzz_database.engine()
    admin = prepare(engine, config)
    app = create_app(config, engine=engine)
    app.config.update(TESTING=True)
    keys = make_workspace(app.test_client(), bearer(admin), "acme")
    app.config["FUZZ_HEADERS"] = keys["owner"]
    yield app
    engine.dispose()


def test_api_conforms_to_its_document(fuzz_app: Any) -> None:
    """No generated request gets a 5xx, and every response matches the document; the
    failure names every operation that broke either rule."""
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", fuzz_app)
    headers = dict(fuzz_app.config["FUZZ_HEADERS"])
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    failures = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=checks)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
