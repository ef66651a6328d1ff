"""The audit trail, and for owners the keys, sign-in links and the workspace's currency.

``GET /audit`` shows who did what and when, filtered by action, key, kind of
resource and dates, a page at a time. ``GET /keys`` (owners) lists the
workspace's keys and offers three forms: a new key (shown once), a new
one-time sign-in link for a role (shown once) and the currency. Each form
calls the same functions as the JSON API (:mod:`api.workspaces`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, request
from pydantic import ValidationError

from api import workspaces
from api.access import ROLES, keys_of
from api.audit import events
from api.context import RESOURCE_ID, db, services
from api.errors import NotFound
from api.schemas import KeyIn, WorkspaceUpdate
from api.tables import ApiKey, AuditEvent
from api.web import i18n, pages
from api.web.home import creators

blueprint = Blueprint("web_admin", __name__)
#: Events per page of the audit trail.
PAGE = 50
def _day(text: str, field: str, errors: pages.FormErrors) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        day = None
    if day is None or day.year >= 9999:
        errors.add(field, i18n.gettext("Enter a date as YYYY-MM-DD."))
        return None
    return day


def _whole(text: str, most: int) -> int | None:
    """``text`` as a whole number of ASCII digits up to ``most``, else ``None``."""
    if not re.fullmatch(r"[0-9]{1,12}", text) or int(text) > most:
        return None
    return int(text)


@blueprint.get("/audit")
def audit() -> Response:
    """The audit trail, newest first, with its filters."""
    who = pages.require("audit.read")
    assert who.workspace_id is not None
    form = {name: request.args.get(name, "").strip() for name in
            ("action", "key", "resource", "since", "until", "before")}
    errors = pages.FormErrors()
    since = _day(form["since"], "since", errors)
    until = _day(form["until"], "until", errors)
    before = _whole(form["before"], 2**31 - 1)
    rows: list[AuditEvent] = []
    if not errors:
        statement = events(who.workspace_id, before=before, action=form["action"] or None,
                           key_id=form["key"] or None, resource_type=form["resource"] or None,
                           since=since, until=until + timedelta(days=1) if until else None)
        rows = list(db().scalars(statement.limit(PAGE + 1)))
    more = len(rows) > PAGE
    page = rows[:PAGE]
    keys = creators(who.workspace_id)
    words = action_words()
    return pages.render("web/admin/audit.html", status=422 if errors else 200,
                        title=i18n.gettext("Audit trail"), events=page, form=form, keys=keys,
                        words=words,
                        errors=errors, actions=list(words),
                        next_before=page[-1].id if more else None,
                        resources=sorted({e.resource_type for e in page} |
                                         {"dataset", "report", "model", "plan", "forecast", "key",
                                          "session", "workspace"}))


def _keys_page(status: int = 200, errors: pages.FormErrors | None = None,
               **shown: Any) -> Response:
    who = pages.require("key.read")
    assert who.workspace_id is not None
    rows = list(db().scalars(keys_of(who.workspace_id)))
    from babel.numbers import list_currencies

    return pages.render("web/admin/keys.html", status=status,
                        title=i18n.gettext("Keys and links"), keys=rows, roles=ROLES,
                        errors=errors or pages.FormErrors(), currencies=sorted(list_currencies()),
                        minutes=services().settings.signin_minutes, shown=shown,
                        states=key_states(rows),
                        form=request.form if request.method == "POST" else {})


@blueprint.get("/keys")
def keys() -> Response:
    """The workspace's keys, and the forms that make keys and sign-in links."""
    return _keys_page()


@blueprint.post("/keys")
def create_key() -> Response:
    """Make a key of a role; the page shows it once."""
    who = pages.require("key.create")
    days = request.form.get("expires_in_days", "").strip()
    try:
        body = KeyIn.model_validate({"role": request.form.get("role", ""),
                                     "label": request.form.get("label", "").strip(),
                                     "expires_in_days": _whole(days, 10**6) if
                                     _whole(days, 10**6) is not None else (days or None)})
    except ValidationError as exc:
        errors = pages.FormErrors()
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            errors.add(name, str(error["msg"]))
        return _keys_page(422, errors)
    row, key = workspaces.create_key(db(), who, pages.workspace(), body.role, body.label,
                                     body.expiry())
    db().commit()
    return _keys_page(201, new_key=key, new_key_role=row.role)


@blueprint.post("/keys/<key_id>/revoke")
def revoke_key(key_id: str) -> Response:
    """Revoke a key of the workspace; its sessions end with it."""
    who = pages.require("key.revoke")
    row = db().get(ApiKey, key_id) if RESOURCE_ID.fullmatch(key_id) else None
    if row is None or row.workspace_id != who.workspace_id:
        raise NotFound(i18n.gettext("No such key in this workspace."))
    if row.id == who.key_id:
        errors = pages.FormErrors()
        errors.add("", i18n.gettext("You cannot revoke the key you are signed in with; sign in "
                                    "with another owner key first."))
        return _keys_page(422, errors)
    workspaces.revoke_key(db(), who, row)
    db().commit()
    return _keys_page(revoked=row.id)


@blueprint.post("/links")
def create_link() -> Response:
    """Make a one-time sign-in link for a role; the page shows it once."""
    who = pages.require("key.create")
    role = request.form.get("role", "")
    if role not in ROLES:
        errors = pages.FormErrors()
        errors.add("link_role", i18n.gettext("Choose one of the roles."))
        return _keys_page(422, errors)
    minutes = services().settings.signin_minutes
    token = workspaces.create_signin_link(db(), who, pages.workspace(), role, minutes)
    db().commit()
    return _keys_page(201, link=f"{request.host_url.rstrip('/')}/signin?token={token}",
                      link_role=role)


@blueprint.post("/workspace/currency")
def set_currency() -> Response:
    """Set the currency every amount of the workspace is shown in."""
    who = pages.require("workspace.update")
    try:
        body = WorkspaceUpdate.model_validate({"currency": request.form.get("currency", "")})
    except ValidationError as exc:
        errors = pages.FormErrors()
        errors.add("currency", str(exc.errors()[0]["msg"]))
        return _keys_page(422, errors)
    workspaces.set_currency(db(), who, pages.workspace(), body.currency)
    db().commit()
    return _keys_page(currency_set=body.currency)


def key_states(rows: list[ApiKey]) -> dict[str, str]:
    """``key id -> "active" | "revoked" | "expired"``."""
    moment = datetime.now(UTC)
    return {k.id: "revoked" if k.revoked_at else "expired"
            if k.expires_at and k.expires_at <= moment else "active" for k in rows}



def action_words() -> dict[str, str]:
    """What each recorded action means, in the reader's language."""
    return {
        "dataset.upload": i18n.gettext("uploaded a dataset"),
        "dataset.delete": i18n.gettext("deleted a dataset"),
        "dataset.journeys": i18n.gettext("built journeys"),
        "report.create": i18n.gettext("ran an attribution report"),
        "model.create": i18n.gettext("started a response model"),
        "plan.create": i18n.gettext("made a budget plan"),
        "forecast.create": i18n.gettext("made a ROMI forecast"),
        "key.create": i18n.gettext("made an API key"),
        "key.revoke": i18n.gettext("revoked an API key"),
        "signin_link.create": i18n.gettext("made a sign-in link"),
        "session.create": i18n.gettext("signed in"),
        "session.end": i18n.gettext("signed out"),
        "workspace.create": i18n.gettext("created the workspace"),
        "workspace.update": i18n.gettext("changed the workspace's currency"),
    }
