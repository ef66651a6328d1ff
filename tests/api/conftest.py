"""Fixtures of the API suite: every test runs on SQLite and on a real PostgreSQL server.

PostgreSQL is ``SPENDWISE_TEST_POSTGRES_URL`` (default: the local server,
database ``test``, user ``postgres``). Each test gets its own schema there, and
its own SQLite file and data directory, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text

from api.app import create_app
from api.bootstrap import prepare
from api.database import make_engine
from api.settings import Settings, normalise_url

POSTGRES_URL = os.environ.get("SPENDWISE_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


@dataclass
class Database:
    """A database for one test: the URL and how the engine reaches its schema."""

    backend: str
    url: str
    schema: str | None = None

    def engine(self) -> Any:
        """A new engine on this database (on PostgreSQL, bound to the test's schema)."""
        engine = make_engine(self.url)
        if self.schema is not None:
            schema = self.schema

            @event.listens_for(engine, "connect")
            def _search_path(dbapi_connection: Any, _record: Any) -> None:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute(f'SET search_path TO "{schema}"')
                dbapi_connection.commit()

        return engine


@contextmanager
def fresh_database(backend: str, folder: Path, prefix: str = "t") -> Iterator[Database]:
    """An empty database: an SQLite file in ``folder``, or a new schema on PostgreSQL,
    dropped afterwards."""
    if backend == "sqlite":
        yield Database("sqlite", f"sqlite:///{folder / 'spendwise.db'}")
        return
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    schema = f"{prefix}_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable ({exc}); start it or set "
                    "SPENDWISE_TEST_POSTGRES_URL")
    try:
        yield Database("postgresql", normalise_url(POSTGRES_URL), schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, empty database on each backend."""
    with fresh_database(request.param, tmp_path) as found:
        yield found


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    """Settings on the test's database and data directory, with fast job polling."""
    return Settings(data_dir=tmp_path / "data", database_url=database.url,
                    max_upload_bytes=2 * 1024 * 1024, lease_seconds=3.0, poll_seconds=0.05)


@pytest.fixture
def app(settings: Settings, database: Database) -> Iterator[Any]:
    """The application on a migrated database; ``app.config['ADMIN_KEY']`` is its admin key."""
    engine = database.engine()
    admin_key = prepare(engine, settings)
    application = create_app(settings, engine=engine)
    application.config.update(TESTING=True, ADMIN_KEY=admin_key)
    yield application
    engine.dispose()


@pytest.fixture
def client(app: Any) -> FlaskClient:
    """A test client of the application."""
    return app.test_client()


def bearer(key: str) -> dict[str, str]:
    """The Authorization header of ``key``."""
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def admin(app: Any) -> dict[str, str]:
    """Headers of the admin key."""
    return bearer(app.config["ADMIN_KEY"])


def make_workspace(client: FlaskClient, admin: dict[str, str], name: str) -> dict[str, Any]:
    """Create workspace ``name`` and one key per role; returns ``role -> headers``."""
    assert client.post("/v1/workspaces", json={"name": name}, headers=admin).status_code == 201
    keys: dict[str, Any] = {}
    for role in ("owner", "buyer", "auditor", "finance"):
        response = client.post("/v1/keys", json={"role": role, "workspace": name},
                               headers=admin)
        assert response.status_code == 201, response.json
        keys[role] = bearer(response.json["key"])
    return keys


@pytest.fixture
def acme(client: FlaskClient, admin: dict[str, str]) -> dict[str, Any]:
    """Workspace ``acme`` with a key per role (``role -> headers``)."""
    return make_workspace(client, admin, "acme")


@pytest.fixture
def rival(client: FlaskClient, admin: dict[str, str]) -> dict[str, Any]:
    """A second workspace, ``rival``, to check that workspaces never see each other."""
    return make_workspace(client, admin, "rival")


@pytest.fixture
def services(app: Any) -> Any:
    """The app's services (sessions, store, settings)."""
    return app.extensions["spendwise"]


@pytest.fixture
def workspace_id(services: Any) -> str:
    """A workspace to own the jobs of a test."""
    from api.tables import Workspace

    with services.sessions.begin() as session:
        row = Workspace(name="jobs")
        session.add(row)
        session.flush()
        return row.id
