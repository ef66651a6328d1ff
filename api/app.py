"""The Flask application factory.

``create_app(settings)`` builds the app: the database engine and the artifact
store, the authentication, the input limits (:mod:`api.limits`), one blueprint
per resource and the one error handler that turns every error into RFC 9457
``application/problem+json``. Views only parse, call the engines' Python APIs
and serialise.
"""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import Response, g, json, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from api import web
from api.context import Services, require_content_type, services
from api.database import make_engine, session_factory
from api.errors import ServiceError, problem
from api.limits import LimitedRequest, check_headers, check_text, read_json
from api.schemas import Problem, inline_schema
from api.settings import Settings
from api.store import ArtifactStore
from spendwise import __version__

log = logging.getLogger("spendwise")
PROBLEM_JSON = "application/problem+json"
#: Errors any operation with a request body can answer, besides its own.
BODY_ERRORS = {"400": "the body cannot be read", "413": "the body is over the size limit",
               "415": "the body is not of a media type the operation reads"}
#: Errors any operation can answer (:mod:`api.limits`), besides its own.
REQUEST_ERRORS = {"400": "a query or path parameter holds a control character",
                  "431": "the request headers are over the size limit"}
class LimitedJSON(DefaultJSONProvider):
    """Flask's JSON, reading under the limits of :func:`api.limits.read_json`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return read_json(s)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> APIFlask:
    """The spendwise API on ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    app = APIFlask("spendwise", title="spendwise", version=__version__,
                   spec_path="/v1/openapi.json", docs_path="/v1/docs", json_errors=True)
    app.request_class = LimitedRequest
    app.json = LimitedJSON(app)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SPEC_FORMAT="json",
        VALIDATION_ERROR_STATUS_CODE=422,
        VALIDATION_ERROR_SCHEMA=inline_schema(Problem),
        HTTP_ERROR_SCHEMA=inline_schema(Problem),
        INFO={"description": "Attribution reports, response models, budget plans and ROMI "
                             "forecasts of a media-buying team, its agency and finance."},
    )
    engine = engine or make_engine(settings.url)
    app.extensions["spendwise"] = Services(settings, engine, session_factory(engine),
                                           ArtifactStore(settings.store_dir))
    _register_errors(app)
    _register_blueprints(app)
    app.spec_processor(_document_bodies_and_problems)  # type: ignore[arg-type]

    @app.before_request
    def _limits() -> None:
        # Before routing errors, authentication and parsing: nothing reads a refused input.
        check_headers(request.headers)
        check_text(request.args, request.view_args, request.path)

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()  # rolls back whatever was not committed

    @app.before_request
    def _json_bodies() -> None:
        # Operations that read JSON refuse other media types with 415, before parsing.
        view = app.view_functions.get(request.endpoint or "")
        spec = getattr(view, "_spec", {}) if view is not None else {}
        if "body" in spec and spec.get("content_type") == "application/json":
            require_content_type("application/json")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


def _register_blueprints(app: APIFlask) -> None:
    from api.routes import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    web.register(app)


def _document_bodies_and_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """Mark every request body required (an empty body is never accepted) and document
    every error response as ``application/problem+json``, as it is sent."""
    problem_schema = inline_schema(Problem)
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            errors = dict(REQUEST_ERRORS)
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True
                for status, text in BODY_ERRORS.items():
                    errors[status] = f"{text}, or {errors[status]}" if status in errors else text
            for status, text in errors.items():
                operation["responses"].setdefault(status, {
                    "description": text, "content": {PROBLEM_JSON: {"schema": problem_schema}}})
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return spec


def problem_response(body: dict[str, Any], status: int,
                     headers: dict[str, str] | None = None) -> Response:
    """A problem+json response (with ``headers``, such as a 405's ``Allow``)."""
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON, headers=headers)


def _register_errors(app: APIFlask) -> None:
    @app.error_processor
    def _http_error(error: HTTPError) -> Response:
        # APIFlask's own errors: request validation (422), auth (401) and HTTP errors.
        body: dict[str, Any] = {"type": "about:blank", "title": error.message,
                                "status": error.status_code}
        if web.is_page(request.path):
            body["detail"] = str(error.detail or error.message)
            return _page_error(error, body, error.status_code)
        if error.status_code == 422 and isinstance(error.detail, dict):
            errors = [{"loc": [where, *str(field).split(".")], "msg": "; ".join(map(str, msgs))
                       if isinstance(msgs, list) else str(msgs)}
                      for where, fields in error.detail.items()
                      for field, msgs in (fields.items() if isinstance(fields, dict)
                                          else [("", fields)])]
            body["detail"] = "; ".join(f"{'.'.join(e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
                                       for e in errors)
            body["errors"] = errors
        elif error.status_code == 413:
            limit = services().settings.max_upload_bytes
            body["detail"] = f"the body is over the limit of {limit:,} bytes"
        elif error.status_code == 401:
            body["detail"] = "missing or malformed API key (send 'Authorization: Bearer <key>')"
        else:
            body["detail"] = str(error.detail or error.message)
        headers = _kept_headers(error.headers)
        if error.status_code == 405 and "Allow" in headers:
            body["detail"] = f"the method is not allowed here; use {headers['Allow']}"
        return problem_response(body, error.status_code, headers)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        body, status = problem(exc)
        if web.is_page(request.path):
            return _page_error(exc, body, status)
        return problem_response(body, status)

    @app.errorhandler(Exception)
    def _any_error(exc: Exception) -> Response:
        if isinstance(exc, web.pages.SignInRequired):
            return web.pages.to_signin()
        if isinstance(exc, HTTPException):  # routing errors: 404, 405
            code = exc.code or 500
            body = {"type": "about:blank", "title": exc.name, "status": code,
                    "detail": exc.description}
            if web.is_page(request.path):
                return _page_error(exc, body, code)
            return problem_response(body, code)
        body, status = problem(exc)
        if status >= 500:
            log.exception("request failed: %s %s", request.method, request.path)
        if web.is_page(request.path):
            return _page_error(exc, body, status)
        return problem_response(body, status)


def _page_error(exc: Exception, body: dict[str, Any], status: int) -> Response:
    """An error on a page of the workspace, as a page in the reader's language."""
    from api.web import i18n

    if isinstance(exc, web.pages.SignInRequired) or status == 401:
        return web.pages.to_signin()
    titles = {403: "Not allowed", 404: "Not found", 405: "Not allowed here",
              409: "Not ready yet", 413: "Too large"}
    title = i18n.gettext(titles.get(status, "Something went wrong" if status >= 500
                                    else "The request was refused"))
    detail = i18n.gettext("An unexpected error occurred; it was logged. Try again, or tell the "
                          "workspace's owner.") if status >= 500 else str(body.get("detail", ""))
    return web.pages.error_page(status, title, detail)


def _kept_headers(headers: Any) -> dict[str, str]:
    # The error's own headers (Allow, WWW-Authenticate) without its media type.
    return {name: value for name, value in dict(headers or {}).items()
            if name.lower() != "content-type"}
