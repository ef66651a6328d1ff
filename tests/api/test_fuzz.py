"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis).

Every operation of ``/v1/openapi.json`` gets generated requests, with the
owner key of a workspace that holds data, and the checks that no response is
a 5xx and that every response matches the status codes, content types and
schemas the document declares. Runs on SQLite (the backend does not change
the document); the API's behaviour on PostgreSQL is covered by the other tests.
"""

from __future__ import annotations

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
from api.database import make_engine
from api.settings import Settings
from tests.api.conftest import bearer, make_workspace


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One app on SQLite with workspace ``acme`` for the whole module."""
    data = tmp_path_factory.mktemp("fuzz")
    config = Settings(data_dir=data, max_upload_bytes=256 * 1024, lease_seconds=3.0)
    engine = make_engine(config.url)
    admin = prepare(engine, config)
    app = create_app(config, engine=engine)
    app.config.update(TESTING=True)
    keys = make_workspace(app.test_client(), bearer(admin), "acme")
    app.config["FUZZ_HEADERS"] = keys["owner"]
    return app


def test_api_conforms_to_its_document(fuzz_app: Any) -> None:
    """No generated request gets a 5xx, and every response matches the document."""
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", fuzz_app)
    headers = dict(fuzz_app.config["FUZZ_HEADERS"])
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=checks)

        try:
            check()
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc
