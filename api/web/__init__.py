"""The browser workspace: server-rendered pages for media buyers, agencies and finance.

The pages sit beside the JSON API (``/v1``) in the same application, at the
site's root: ``/`` is the workspace home, ``/signin`` the sign-in page. They
are Jinja templates (``api/templates/web``) that read well with JavaScript
off; a small script of our own (``api/web/static``) only adds live progress.
Every view parses a form, builds the engine's typed request, calls the same
service functions as the JSON API and renders the result in the reader's
language (:mod:`api.web.i18n`). Sessions, CSRF and roles: :mod:`api.web.pages`.
"""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint, Flask, Response, request

from api.web import pages

#: Modules of :mod:`api.web`, each with a ``blueprint`` of pages.
MODULES = ("signin", "home", "datasets", "reports", "models", "plans", "scenarios", "admin")
#: The stylesheet and the script of the pages, served from the package.
assets = Blueprint("web_assets", __name__, static_folder="static",
                   static_url_path="/assets", template_folder="../templates")


def is_page(path: str) -> bool:
    """Whether ``path`` is a page of the workspace (not the JSON API or its documents)."""
    return not path.startswith("/v1/") and path != "/v1"


def register(app: Flask) -> None:
    """Add the pages, their assets and their template globals to ``app``."""
    app.register_blueprint(assets)
    for name in MODULES:
        app.register_blueprint(import_module(f"api.web.{name}").blueprint)
    app.jinja_env.globals.update(pages.template_globals())
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.before_request
    def _forms() -> None:
        if request.method == "POST" and is_page(request.path) and request.endpoint and \
                request.endpoint.startswith("web_"):
            pages.check_csrf()

    @app.after_request
    def _no_framing(response: Response) -> Response:
        if is_page(request.path):
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
