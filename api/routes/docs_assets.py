"""``GET /v1/docs/assets/<name>``: the Swagger UI files of ``/v1/docs``, served by the service.

APIFlask's docs page loads Swagger UI from a CDN, so it stays blank without
internet. The files come instead from the ``swagger_ui_bundle`` package
(distribution ``swagger-ui-bundle-v2``, Swagger UI 5, which reads the OpenAPI
3.1 documents APIFlask writes). Registering this blueprint points the page's
settings (:data:`SETTINGS`) at these routes.

Like ``/v1/docs`` itself, the files need no key: they are the same for every
caller and hold no data. Their addresses carry Swagger UI's version, so
browsers may keep them for a year and still fetch new files after an upgrade.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from apiflask import APIBlueprint
from flask import Response, request
from flask.blueprints import BlueprintSetupState
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from api.errors import NotFound

PREFIX = "/v1/docs/assets"
#: The files of Swagger UI the docs page loads, and their media types.
ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
          "swagger-ui-standalone-preset.js": "text/javascript", "favicon-32x32.png": "image/png"}
#: Swagger UI's version, from the package's folder of files (``swagger-ui-5.31.0``).
VERSION = Path(str(swagger_ui_path)).name.removeprefix("swagger-ui-")
#: How long browsers keep a file: its address changes with the version.
CACHE_CONTROL = f"public, max-age={365 * 24 * 3600}, immutable"
#: APIFlask's settings of the docs page, pointing at the files served here.
SETTINGS = {"SWAGGER_UI_CSS": f"{PREFIX}/swagger-ui.css?v={VERSION}",
            "SWAGGER_UI_BUNDLE_JS": f"{PREFIX}/swagger-ui-bundle.js?v={VERSION}",
            "SWAGGER_UI_STANDALONE_PRESET_JS":
                f"{PREFIX}/swagger-ui-standalone-preset.js?v={VERSION}",
            "DOCS_FAVICON": f"{PREFIX}/favicon-32x32.png?v={VERSION}"}

blueprint = APIBlueprint("docs_assets", __name__, url_prefix=PREFIX, enable_openapi=False)


@blueprint.record_once
def _point_docs_here(state: BlueprintSetupState) -> None:
    state.app.config.update(SETTINGS)


@cache
def asset(name: str) -> tuple[bytes, str]:
    """The bytes of Swagger UI's file ``name`` (one of :data:`ASSETS`) and their ETag."""
    data = (swagger_ui_path / name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:32]


@blueprint.get("/<name>")
def docs_asset(name: str) -> Response:
    """One file of Swagger UI; browsers keep it for a year, or revalidate by ETag."""
    kind = ASSETS.get(name)
    if kind is None:
        raise NotFound(f"no file {name!r} among the docs' assets")
    data, etag = asset(name)
    response = Response(data, mimetype=kind, headers={"Cache-Control": CACHE_CONTROL})
    response.set_etag(etag)
    response.make_conditional(request)  # 304 when the browser's copy is current
    return response
