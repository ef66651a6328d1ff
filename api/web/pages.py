"""What every page of the browser workspace shares: who is signed in, forms, rendering.

* :func:`signed_in` is the principal of the page's browser session (the
  ``spendwise_session`` cookie, :mod:`api.signin`); a page opened without one
  redirects to the sign-in page and comes back after it.
* :func:`allowed` and :func:`require` apply the role table of the API
  (:data:`api.access.PERMISSIONS`): a page shows only the actions its role may
  take, and the view refuses the others regardless.
* Every form carries its session's CSRF token (``{{ csrf_field() }}``);
  :func:`check_csrf` refuses a POST without it before the view runs.
* :func:`render` draws a template inside the workspace layout, in the
  language of the request, under :data:`CSP`: scripts and styles from the
  service itself only, nothing fetched from elsewhere.
* :class:`FormErrors` holds the message of each field of a form that did not
  validate, from a request's :class:`~spendwise.errors.FieldProblem` or the
  service's :class:`~api.errors.Invalid`, to show beside the field.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import Response, g, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from api.access import Principal
from api.context import db
from api.errors import Forbidden, Invalid, ServiceError
from api.signin import session_of
from api.tables import BrowserSession, Workspace
from api.web import i18n
from spendwise.errors import FieldProblem
from spendwise.requests import control_character

SESSION_COOKIE = "spendwise_session"
#: The anonymous sign-in form's CSRF token, in a cookie of its own (double submit).
SIGNIN_CSRF_COOKIE = "spendwise_signin"
#: The Content-Security-Policy of the workspace pages.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


class SignInRequired(Exception):
    """The page needs a signed-in browser; answered with a redirect to the sign-in page."""


class CsrfRefused(ServiceError):
    """A form arrived without the token of its session."""

    status, title = 403, "Form refused"


def current() -> tuple[BrowserSession, Principal] | None:
    """The live browser session of this request and its principal, if any."""
    if "browser" not in g:
        secret = request.cookies.get(SESSION_COOKIE, "")
        g.browser = session_of(db(), secret) if secret else None
    found: tuple[BrowserSession, Principal] | None = g.browser
    return found


def signed_in() -> Principal:
    """The principal of the page's browser session; :class:`SignInRequired` without one."""
    found = current()
    if found is None:
        raise SignInRequired
    return found[1]


def allowed(action: str) -> bool:
    """Whether the signed-in role may take ``action`` (``"plan.create"``, ...)."""
    found = current()
    return found is not None and found[1].can(action)


def require(action: str) -> Principal:
    """The signed-in principal, if its role allows ``action``; else :class:`Forbidden`."""
    who = signed_in()
    who.require(action)
    return who


def workspace() -> Workspace:
    """The workspace of the signed-in browser."""
    if "workspace" not in g:
        g.workspace = db().get(Workspace, signed_in().workspace_id)
    found: Workspace = g.workspace
    return found


def check_csrf() -> None:
    """Refuse a form posted without its CSRF token (:class:`CsrfRefused`)."""
    given = request.form.get("csrf_token", "")
    found = current()
    expected = found[0].csrf_token if found is not None else \
        request.cookies.get(SIGNIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRefused("the form was sent without its security token; reload the page and "
                          "send it again")


def csrf_token() -> str:
    """The CSRF token of the current page's forms."""
    found = current()
    if found is not None:
        return found[0].csrf_token
    return str(g.get("signin_csrf") or request.cookies.get(SIGNIN_CSRF_COOKIE, ""))


def csrf_field() -> Markup:
    """The hidden input every form carries."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token())


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path of this site, else ``default`` (no open redirect)."""
    if not target:
        return default
    if len(target) > 2000 or control_character(target) is not None:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


@dataclass
class FormErrors:
    """The message of each field of a form that did not validate (``""``: the whole form)."""

    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        """Add ``message`` to the field ``name``."""
        self.by_field.setdefault(name, []).append(message)

    def of(self, name: str) -> list[str]:
        """The messages of the field ``name``."""
        return self.by_field.get(name, [])

    def __bool__(self) -> bool:
        return bool(self.by_field)

    @classmethod
    def of_error(cls, exc: Exception, fields: Mapping[str, str] | None = None) -> FormErrors:
        """The messages of a refused request, on the form's fields.

        ``fields`` maps a request's field (``settings.order``, its first part
        ``settings`` or a service error's ``loc``) to the form field that shows
        it; a field not in it is shown at the top of the form.
        """
        fields = fields or {}
        found = cls()
        pairs: Iterable[tuple[str, str]]
        if isinstance(exc, FieldProblem):
            pairs = exc.problems
        elif isinstance(exc, Invalid) and exc.errors:
            pairs = [(".".join(str(p) for p in e.get("loc", [])[1:]), str(e.get("msg", "")))
                     for e in exc.errors]
        else:
            pairs = [("", str(getattr(exc, "detail", exc)))]
        for name, message in pairs:
            target = fields.get(name, fields.get(name.split(".")[0], name.split(".")[0]))
            found.add(target if target in fields.values() else "", message if target in
                      fields.values() or not name else f"{name}: {message}")
        return found


def field_errors(errors: FormErrors | None, name: str) -> Markup:
    """The messages of field ``name`` as the element shown beside it (``id="<name>-error"``)."""
    messages = errors.of(name) if errors else []
    if not messages:
        return Markup("")
    text = Markup("<br>").join(escape(m) for m in messages)
    return Markup('<p class="field-error" id="{}-error" role="alert">{}</p>').format(name, text)


#: The header's links: ``(label, endpoint, action the role needs)``.
NAV = (("Home", "web_home.home", None),
       ("Upload", "web_datasets.upload", "dataset.upload"),
       ("Attribution", "web_reports.new_report", "report.create"),
       ("Response models", "web_models.new_model", "model.create"),
       ("Plans", "web_plans.new_plan", "plan.create"),
       ("Scenarios", "web_scenarios.scenarios", "plan.read"),
       ("Audit trail", "web_admin.audit", "audit.read"),
       ("Keys and links", "web_admin.keys", "key.create"))


def nav() -> list[tuple[str, str]]:
    """The header's links that the signed-in role may follow: ``(label, url)``."""
    return [(i18n.gettext(label), url_for(endpoint)) for label, endpoint, action in NAV
            if action is None or allowed(action)]


def render(template: str, *, status: int = 200, title: str, **context: Any) -> Response:
    """``template`` inside the workspace layout, as a response under :data:`CSP`."""
    text = render_template(template, title=title, **context)
    return Response(text, status=status, mimetype="text/html",
                    headers={"Content-Security-Policy": CSP})


def _signed_in_as() -> Principal | None:
    found = current()
    return found[1] if found is not None else None


def template_globals() -> dict[str, Any]:
    """What every template of the workspace may use."""
    return {"_": i18n.gettext, "csrf_field": csrf_field, "field_errors": field_errors,
            "allowed": allowed, "language": i18n.language, "languages": i18n.LANGUAGES,
            "signed_in_as": _signed_in_as,
            "current_workspace": lambda: workspace() if current() else None, "nav": nav,
            "money": lambda value, digits=0: i18n.money(value, workspace().currency, digits),
            "number": i18n.number, "percent": i18n.percent, "when": i18n.when}


def to_signin() -> Response:
    """A redirect to the sign-in page, coming back to this page after it."""
    back = request.full_path.rstrip("?") if request.method == "GET" else "/"
    return redirect(url_for("web_signin.signin_page", next=back), code=303)  # type: ignore[return-value]


def error_page(status: int, title: str, detail: str) -> Response:
    """An error as a page of the workspace (never a stack trace)."""
    return render("web/error.html", status=status, title=title, detail=detail,
                  forbidden=status == Forbidden.status)
