"""``/v1/docs`` without internet: Swagger UI's files come from the service itself.

The page and its assets are read through the test client; the browser test
serves the app on a loopback port, opens the page in headless Chromium driven
by Playwright with every request to another host aborted, and waits for the
operations to render. The documents play no part in the database, so these
tests run on SQLite only. A Content-Security-Policy that kept the page from
its own scripts would show in the browser test as console errors.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from api.routes.docs_assets import ASSETS, CACHE_CONTROL, VERSION

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
#: Addresses in the page's ``src`` and ``href`` attributes.
REFERENCE = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
#: Smallest size of each file: well under Swagger UI 5.31's own (177 kB, 1.5 MB, 252 kB and
#: 628 bytes), far over an error page.
MIN_BYTES = {"swagger-ui.css": 100_000, "swagger-ui-bundle.js": 1_000_000,
             "swagger-ui-standalone-preset.js": 100_000, "favicon-32x32.png": 300}


def references(client: Any) -> list[str]:
    """The addresses the docs page loads, in the order it names them."""
    response = client.get("/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    return REFERENCE.findall(response.get_data(as_text=True))


def test_docs_page_loads_nothing_from_other_hosts(client):
    """Every address on the docs page is a path of the service: no CDN, no other host."""
    assert references(client) == [
        f"/v1/docs/assets/{name}?v={VERSION}" for name in
        ("swagger-ui.css", "favicon-32x32.png", "swagger-ui-bundle.js",
         "swagger-ui-standalone-preset.js")]


def test_docs_assets_are_served_without_a_key_and_cached(client):
    """Each file the page names answers 200, with its media type, real size and a long cache."""
    for url in references(client):
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response.mimetype == ASSETS[name]
        assert len(response.data) >= MIN_BYTES[name]
        assert response.headers["Cache-Control"] == CACHE_CONTROL
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if name.endswith(".png"):
            assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
        else:
            assert response.mimetype_params == {"charset": "utf-8"}
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""


def test_only_the_listed_assets_are_served(client):
    """Other names, such as the package's source maps or its index page, are 404 problems."""
    for name in ("swagger-ui.js.map", "index.html", "swagger-initializer.js", "..%2Fapp.py"):
        response = client.get(f"/v1/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.content_type == "application/problem+json"


def test_docs_assets_are_not_operations_of_the_api(client):
    """The asset route stays out of the OpenAPI document, like the docs page."""
    paths = client.get("/v1/openapi.json").json["paths"]
    assert not [path for path in paths if path.startswith("/v1/docs")]


@pytest.fixture
def live(app: Any) -> Iterator[str]:
    """The app served on a free loopback port; yields its base address."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="the browser test needs /usr/bin/chromium "
                    "(Debian: apt-get install -y chromium)")
def test_docs_render_in_chromium_with_other_hosts_cut_off(live, client):
    """Swagger UI draws every operation with nothing but the service's own files."""
    sync_api = pytest.importorskip("playwright.sync_api")
    origin = urlsplit(live).netloc
    operations = sum(len(item) for item in client.get("/v1/openapi.json").json["paths"].values())
    local: list[str] = []
    blocked: list[str] = []
    errors: list[str] = []

    def route(handle: Any) -> None:
        url = handle.request.url
        if urlsplit(url).netloc == origin:
            local.append(url)
            handle.continue_()
        else:
            blocked.append(url)
            handle.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", route)
            page.goto(f"{live}/v1/docs", wait_until="networkidle")
            page.wait_for_selector(".opblock", timeout=30_000)
            shown = page.locator(".opblock").count()
            title = page.locator(".info .title").first.inner_text()
        finally:
            browser.close()
    assert blocked == [] and errors == [], (blocked, errors)
    assert shown == operations > 20
    assert title.startswith("spendwise")
    needed = {"/v1/docs", "/v1/openapi.json",
              *(f"/v1/docs/assets/{name}" for name in ASSETS if name.endswith((".css", ".js")))}
    fetched = {urlsplit(url).path for url in local}
    assert needed <= fetched <= needed | {"/v1/docs/assets/favicon-32x32.png"}
