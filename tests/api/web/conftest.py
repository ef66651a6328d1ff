"""Fixtures of the browser workspace's tests: a browser signed in with a role, and data.

The pages are driven through Flask's test client as a browser would: a
sign-in link sets the session cookie, and :meth:`Browser.post` sends each form
with the CSRF token of the session, as the page's hidden field would. Page
tests run on SQLite (rendering does not depend on the database); the sign-in
and session tests run on PostgreSQL too.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api import signin
from api.access import issue_key
from api.app import create_app
from api.bootstrap import prepare
from api.database import upgrade
from api.datasets import store_upload
from api.settings import Settings
from api.tables import BrowserSession, ResponseFit, Workspace
from tests.api.conftest import Database
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures"
#: ``kind -> fixture file`` of the uploads a workspace with data holds.
UPLOADS = {"paths": "sample_paths.csv", "spend": "media_spend.csv",
           "outcomes": "media_outcomes.csv", "lift_tests": "media_lift_tests.csv"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A test client that signs in like a browser and sends forms with their CSRF token."""

    def __init__(self, client: FlaskClient, workspace_id: str) -> None:
        self.client = client
        self.workspace_id = workspace_id
        self.key_id: str | None = None

    @property
    def services(self) -> Any:
        """The app's :class:`api.context.Services`."""
        return self.client.application.extensions["spendwise"]

    def link(self, role: str, minutes: float = 15.0) -> str:
        """A sign-in link's path for a new key of ``role`` in the workspace."""
        with self.services.sessions.begin() as session:
            key = signin.link_key(session, self.workspace_id, role)
            token = signin.issue_link(session, key.id, "shell", minutes)
        return f"/signin?token={token}"

    def sign_in(self, role: str) -> Browser:
        """Open a new sign-in link of ``role``; the client then holds the session cookie."""
        response = self.client.get(self.link(role))
        assert response.status_code == 303, response.data[:500]
        with self.services.sessions() as session:
            row = session.scalars(select(BrowserSession)
                                  .order_by(BrowserSession.created_at.desc())).first()
            assert row is not None
            self.key_id = row.key_id
        return self

    def csrf(self) -> str:
        """The CSRF token of the current session (as every form of its pages carries)."""
        with self.services.sessions() as session:
            row = session.scalars(select(BrowserSession).where(
                BrowserSession.key_id == self.key_id, BrowserSession.ended_at.is_(None))).first()
            assert row is not None, "not signed in"
            return row.csrf_token

    def get(self, url: str, **kwargs: Any) -> Any:
        """GET a page."""
        return self.client.get(url, **kwargs)

    def page(self, url: str, status: int = 200, **kwargs: Any) -> str:
        """The HTML of a page, checking its status."""
        response = self.client.get(url, **kwargs)
        assert response.status_code == status, (response.status_code, response.data[:2000])
        return response.get_data(as_text=True)

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> Any:
        """POST a form, with the session's CSRF token unless ``csrf`` is false."""
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf())
        return self.client.post(url, data=form, **kwargs)


def text_of(html: str) -> str:
    """The visible text of a page, tags removed and whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to the newest revision once, for page tests to copy."""
    folder = tmp_path_factory.mktemp("migrated")
    engine = Database("sqlite", f"sqlite:///{folder / 'spendwise.db'}").engine()
    upgrade(engine)
    engine.dispose()
    return folder / "spendwise.db"


@pytest.fixture
def page_database(migrated_sqlite: Path, tmp_path: Path) -> Database:
    """A fresh, migrated database for page tests: a copy of :func:`migrated_sqlite`
    (SQLite: rendering does not depend on the backend)."""
    shutil.copyfile(migrated_sqlite, tmp_path / "spendwise.db")
    return Database("sqlite", f"sqlite:///{tmp_path / 'spendwise.db'}")


def make_app(database: Database, folder: Path, **settings: Any) -> Any:
    """The application on a migrated ``database`` with a workspace ``acme``."""
    config = Settings(data_dir=folder / "data", database_url=database.url, lease_seconds=3.0,
                      poll_seconds=0.05, max_upload_bytes=2 * 1024 * 1024, **settings)
    engine = database.engine()
    prepare(engine, config)
    app = create_app(config, engine=engine)
    app.config.update(TESTING=True)
    with app.extensions["spendwise"].sessions.begin() as session:
        space = Workspace(name="acme")
        session.add(space)
        session.flush()
        app.config["WORKSPACE_ID"] = space.id
    return app


@pytest.fixture
def web_app(page_database: Database, tmp_path: Path) -> Iterator[Any]:
    """The application on a fresh database with an empty workspace ``acme``."""
    app = make_app(page_database, tmp_path)
    yield app
    app.extensions["spendwise"].engine.dispose()


@pytest.fixture
def browser(web_app: Any) -> Browser:
    """A browser, not signed in yet, on workspace ``acme``."""
    return Browser(web_app.test_client(), web_app.config["WORKSPACE_ID"])


def upload_fixtures(app: Any, kinds: tuple[str, ...] = tuple(UPLOADS)) -> dict[str, str]:
    """Upload the fixture files of ``kinds`` to ``acme`` as an owner would; ``kind -> id``."""
    services = app.extensions["spendwise"]
    ids = {}
    with services.sessions.begin() as session:
        space = session.get(Workspace, app.config["WORKSPACE_ID"])
        owner, _ = issue_key(session, "owner", space.id, "fixture owner")
        session.flush()
        for kind in kinds:
            name = UPLOADS[kind]
            row = store_upload(session, services.store, space, kind, name,
                               (FIXTURES / name).read_bytes(), "text/csv", owner.id)
            ids[kind] = row.id
    return ids


def add_fitted_model(app: Any, datasets: dict[str, str]) -> str:
    """A succeeded response model of ``acme`` on a hand-made posterior (nothing samples).

    Its channels are those of :data:`tests.api.test_pages.MEDIA_CHANNELS`, two of them
    with hostile names (markup, and ``$`` signs).
    """
    from tests.api.test_pages import engine_outputs

    services = app.extensions["spendwise"]
    outputs = engine_outputs()
    with services.sessions.begin() as session:
        row = ResponseFit(workspace_id=app.config["WORKSPACE_ID"],
                          datasets={"spend": datasets.get("spend"),
                                    "outcomes": datasets.get("outcomes")},
                          parameters={"curve": "exponential"}, state="succeeded",
                          diagnostics=outputs["diagnostics"],
                          artifact=services.store.put(outputs["model"]), fingerprint="f" * 64,
                          version="0.1.0", created_by="fixture")
        session.add(row)
        session.flush()
        return row.id
