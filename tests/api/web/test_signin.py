"""Signing in from a link or with a key, sessions, sign-out, CSRF and the language."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from api.access import issue_key, revoke
from api.tables import ApiKey, SigninToken, now
from tests.api.conftest import BACKENDS, fresh_database
from tests.api.web.conftest import Browser, make_app, text_of


@pytest.fixture(params=BACKENDS)
def any_browser(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A browser on workspace ``acme``, on SQLite and on PostgreSQL."""
    with fresh_database(request.param, tmp_path) as database:
        app = make_app(database, tmp_path)
        yield Browser(app.test_client(), app.config["WORKSPACE_ID"])
        app.extensions["spendwise"].engine.dispose()


def test_a_link_signs_in_once_and_leaves_the_address_bar(any_browser: Browser) -> None:
    """A sign-in link sets an HttpOnly, SameSite=Lax cookie, redirects and works only once."""
    link = any_browser.link("buyer")
    response = any_browser.get(link)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "spendwise_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP; behind HTTPS the cookie is Secure
    assert "acme" in any_browser.page("/")
    other = Browser(any_browser.client.application.test_client(), any_browser.workspace_id)
    reused = other.get(link)
    assert reused.status_code == 401 and "used already" in text_of(reused.get_data(as_text=True))
    assert other.get("/").status_code == 303


def test_an_expired_link_is_refused(any_browser: Browser) -> None:
    """A link past its expiry signs nobody in."""
    link = any_browser.link("owner")
    with any_browser.services.sessions.begin() as session:
        session.execute(update(SigninToken).values(expires_at=now() - timedelta(seconds=1)))
    assert any_browser.get(link).status_code == 401
    assert any_browser.get("/").headers["Location"].startswith("/signin")


def test_the_cookie_is_secure_behind_https(browser: Browser) -> None:
    """Over HTTPS the session cookie carries Secure."""
    response = browser.client.get(browser.link("owner"), base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_sign_in_with_a_key_and_sign_out(any_browser: Browser) -> None:
    """The sign-in form takes an API key; sign-out ends the session server-side."""
    with any_browser.services.sessions.begin() as session:
        _, key = issue_key(session, "finance", any_browser.workspace_id, "cfo")
    form = any_browser.page("/signin?next=/")
    assert 'name="csrf_token"' in form
    token = any_browser.client.get_cookie("spendwise_signin").value
    bad = any_browser.post("/signin", {"key": key[:-2] + "xx", "csrf_token": token}, csrf=False)
    assert bad.status_code == 401 and "unknown, revoked or expired" in bad.get_data(as_text=True)
    token = any_browser.client.get_cookie("spendwise_signin").value  # the form shown again
    good = any_browser.post("/signin", {"key": key, "csrf_token": token, "next": "//evil.example"},
                            csrf=False)
    assert good.status_code == 303 and good.headers["Location"] == "/"
    cookie = any_browser.client.get_cookie("spendwise_session").value
    any_browser.key_id = key.split("_")[1]
    assert "finance" in any_browser.page("/")
    assert any_browser.post("/signout").status_code == 303
    assert any_browser.get("/").status_code == 303
    # The old cookie, replayed, opens nothing: the session ended on the server.
    any_browser.client.set_cookie("spendwise_session", cookie)
    assert any_browser.get("/").headers["Location"].startswith("/signin")


def test_revoking_the_key_ends_its_sessions(any_browser: Browser) -> None:
    """A session ends as soon as its key is revoked."""
    any_browser.sign_in("buyer")
    assert any_browser.get("/").status_code == 200
    with any_browser.services.sessions.begin() as session:
        row = session.get(ApiKey, any_browser.key_id)
        assert row is not None and revoke(row)
    assert any_browser.get("/").status_code == 303


def test_forms_without_their_token_are_refused(browser: Browser) -> None:
    """A POST without the session's CSRF token is a 403 page and changes nothing."""
    browser.sign_in("owner")
    refused = browser.post("/signout", csrf=False)
    assert refused.status_code == 403 and "security token" in refused.get_data(as_text=True)
    assert browser.get("/").status_code == 200  # still signed in
    forged = browser.post("/signout", {"csrf_token": "x" * 43}, csrf=False)
    assert forged.status_code == 403
    # The sign-in form needs its own token too (no login CSRF).
    assert browser.client.post("/signin", data={"key": "sw_x"}).status_code == 403


def test_pages_need_a_session_and_say_where_to_sign_in(browser: Browser) -> None:
    """Without a session a page redirects to sign-in and comes back after it."""
    response = browser.get("/?x=1")
    assert response.status_code == 303 and response.headers["Location"] == "/signin?next=/?x%3D1"
    assert browser.get("/v1/health").status_code == 200  # the JSON API is unchanged


def test_the_language_follows_the_browser_and_the_switch(browser: Browser) -> None:
    """Accept-Language chooses Chinese; the switch overrides it; numbers follow."""
    browser.sign_in("owner")
    chinese = browser.page("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert 'lang="zh-Hans"' in chinese and "退出" in chinese
    assert browser.get("/language/en?next=/").status_code == 303
    english = browser.page("/", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in english and "Sign out" in english
    assert browser.get("/language/xx?next=https://evil.example").headers["Location"] == "/"


def test_the_admin_key_cannot_open_a_workspace(browser: Browser) -> None:
    """The admin key has no workspace: the form says so."""
    with browser.services.sessions.begin() as session:
        _, key = issue_key(session, "admin", None, "root")
    browser.page("/signin")
    token = browser.client.get_cookie("spendwise_signin").value
    response = browser.post("/signin", {"key": key, "csrf_token": token}, csrf=False)
    assert response.status_code == 401 and "admin key has no workspace" in \
        text_of(response.get_data(as_text=True))


def test_errors_on_pages_are_pages(browser: Browser) -> None:
    """An unknown page is an HTML 404 in the layout, not problem+json."""
    browser.sign_in("owner")
    response = browser.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Content-Security-Policy" in response.headers


def test_signin_link_command_prints_a_working_link(tmp_path: Path, capsys: Any) -> None:
    """``spendwise signin-link`` prints a link that opens a session of the role asked for."""
    from api.cli import main

    app = make_app(_sqlite(tmp_path), tmp_path)
    database = ["--database", app.extensions["spendwise"].settings.url]
    assert main(["signin-link", "--workspace", "acme", "--role", "auditor",
                 "--url", "http://example.test:9000/", *database]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("http://example.test:9000/signin?token=")
    client = app.test_client()
    assert client.get(link.removeprefix("http://example.test:9000")).status_code == 303
    assert "auditor" in text_of(client.get("/").get_data(as_text=True))
    assert main(["signin-link", "--workspace", "nope", "--role", "owner", *database]) == 2
    assert main(["signin-link", "--workspace", "acme", "--role", "owner", "--minutes", "0",
                 *database]) == 2
    errors = capsys.readouterr().err
    assert "--workspace: no workspace 'nope'" in errors and "--minutes: must be more" in errors


def test_first_start_prints_a_link_for_the_demo_owner(tmp_path: Path) -> None:
    """The demo's announcement holds a one-time link that signs in as the demo owner."""
    from api.app import create_app
    from api.bootstrap import prepare
    from api.database import make_engine
    from api.demo import first_start
    from api.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", workers=0)
    engine = make_engine(settings.url)
    prepare(engine, settings)
    demo = first_start(engine, settings)
    assert demo is not None and first_start(engine, settings) is None
    text = demo.announce("http://127.0.0.1:8000")
    link = next(w for w in text.split() if "/signin?token=" in w)
    assert "15 minutes" in text and demo.owner_key in text
    client = create_app(settings, engine=engine).test_client()
    response = client.get(link.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    home = text_of(client.get("/").get_data(as_text=True))
    assert "demo" in home and "owner" in home
    engine.dispose()


def _sqlite(folder: Path) -> Any:
    from tests.api.conftest import Database

    return Database("sqlite", f"sqlite:///{folder / 'spendwise.db'}")


@pytest.mark.parametrize(("flag", "value"), [("--workers", "-1"), ("--port", "99999"),
                                             ("--threads", "x")])
def test_serve_names_the_flag_it_refuses(flag: str, value: str, capsys: Any) -> None:
    """``spendwise serve`` refuses a bad count on one line that names its flag."""
    from api.cli import main

    assert main(["serve", flag, value]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"spendwise: error: argument {flag}: must be a whole number")
    assert "\n" not in error


@pytest.mark.parametrize("target", ["/\r\nX: y", "/\x00", "https://evil.example/",
                                    "//evil.example", "/\\evil", "/" + "a" * 3000])
def test_sign_in_goes_back_only_to_a_page_of_this_site(browser: Browser, target: str) -> None:
    """``next`` with a control character, another site or a huge path goes home instead."""
    with browser.services.sessions.begin() as session:
        _, key = issue_key(session, "buyer", browser.workspace_id, "b")
    browser.page("/signin")
    token = browser.client.get_cookie("spendwise_signin").value
    response = browser.post("/signin", {"key": key, "csrf_token": token, "next": target},
                            csrf=False)
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_a_second_sign_in_ends_the_first_session(browser: Browser) -> None:
    """Opening another link in the same browser ends the session it held."""
    browser.sign_in("owner")
    first = browser.client.get_cookie("spendwise_session").value
    browser.sign_in("auditor")
    assert "auditor" in text_of(browser.page("/"))
    browser.client.set_cookie("spendwise_session", first)
    assert browser.get("/").status_code == 303
