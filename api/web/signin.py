"""Signing in and out, and the language switch.

``GET /signin?token=...`` opens a one-time sign-in link: the browser gets a
session cookie and is redirected to the workspace, so the token leaves the
address bar. ``GET /signin`` without a token shows a form for an API key;
``POST /signin`` signs in with it. ``POST /signout`` ends the session.
``GET /language/<code>`` sets the pages' language and goes back.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, g, redirect, request, url_for

from api import signin as sessions
from api.access import authenticate
from api.audit import record
from api.context import db, services
from api.errors import Unauthorized
from api.tables import ApiKey
from api.web import i18n, pages

blueprint = Blueprint("web_signin", __name__)
#: Seconds the language cookie is kept: a year.
LANGUAGE_SECONDS = 365 * 24 * 3600


def _cookie_options(max_age: float | None = None) -> dict[str, Any]:
    return {"httponly": True, "samesite": "Lax", "secure": request.is_secure, "path": "/",
            "max_age": None if max_age is None else int(max_age)}


def _signed_in(opened: sessions.Opened, target: str, how: str) -> Response:
    previous = pages.current()
    if previous is not None:  # a browser holds one session: the one it signed in with last
        sessions.end(previous[0])
        record(db(), previous[1], "session.end", "session", previous[0].id,
               parameters={"why": "another sign-in in the same browser"})
    record(db(), opened.principal, "session.create", "session", opened.row.id,
           parameters={"how": how})
    db().commit()
    response = redirect(pages.safe_next(target), code=303)
    response.set_cookie(pages.SESSION_COOKIE, opened.secret,
                        **_cookie_options(services().settings.session_hours * 3600))
    response.delete_cookie(pages.SIGNIN_CSRF_COOKIE, path="/")
    return response  # type: ignore[return-value]


def _form(status: int = 200, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    g.signin_csrf = token
    response = pages.render("web/signin.html", status=status, title=i18n.gettext("Sign in"),
                            error=error, next=pages.safe_next(request.values.get("next")))
    response.set_cookie(pages.SIGNIN_CSRF_COOKIE, token, **_cookie_options())
    return response


@blueprint.get("/signin")
def signin_page() -> Response:
    """Open a sign-in link, or show the sign-in form."""
    token = request.args.get("token")
    if token is None:
        return _form()
    try:
        opened = sessions.redeem(db(), token, services().settings.session_hours)
    except Unauthorized:
        db().rollback()
        return _form(401, i18n.gettext("This sign-in link was used already, has expired or is "
                                       "unknown. Ask an owner for a new one, or sign in with an "
                                       "API key."))
    return _signed_in(opened, request.args.get("next", "/"), "link")


@blueprint.post("/signin")
def signin() -> Response:
    """Sign in with an API key typed into the form."""
    key = request.form.get("key", "").strip()
    session = db()
    try:
        who = authenticate(session, key)
        row = session.get(ApiKey, who.key_id)
        assert row is not None
        opened = sessions.open_session(session, row, services().settings.session_hours)
    except Unauthorized as exc:
        session.rollback()
        message = i18n.gettext("The admin key has no workspace; sign in with a workspace's "
                               "key.") if "admin" in exc.detail else \
            i18n.gettext("This key is unknown, revoked or expired.")
        return _form(401, message)
    return _signed_in(opened, request.form.get("next", "/"), "key")


@blueprint.post("/signout")
def signout() -> Response:
    """End the session and go to the sign-in page."""
    found = pages.current()
    if found is not None:
        row, who = found
        sessions.end(row)
        record(db(), who, "session.end", "session", row.id)
        db().commit()
    response = redirect(url_for("web_signin.signin_page"), code=303)
    response.delete_cookie(pages.SESSION_COOKIE, path="/")
    return response  # type: ignore[return-value]


@blueprint.get("/language/<code>")
def choose_language(code: str) -> Response:
    """Set the pages' language (``en`` or ``zh``) and go back to the page."""
    response = redirect(pages.safe_next(request.args.get("next")), code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, code, max_age=LANGUAGE_SECONDS, samesite="Lax",
                            secure=request.is_secure, httponly=True, path="/")
    return response  # type: ignore[return-value]
