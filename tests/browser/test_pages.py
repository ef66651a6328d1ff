"""Every page of the workspace in Chromium: accessibility, screenshots, tables that fit.

Each page is opened in English and in Chinese (a browser sending
``Accept-Language: zh-CN``) by the demo owner, whose role sees every page, and
looked at 1280 and 390 px wide. At each width axe-core (``axe-playwright-python``,
which carries its own copy) checks it, and in English a screenshot of the whole
page is written as ``<page>-<width>.png``. At 1280 px every table must fit the
page: its right edge, or that of the horizontally scrolling ``.scroll`` wrapper
it sits in, within ``main``; at 390 px the page itself must not scroll sideways.
The browser's console must stay free of errors (a CSP violation is one).
The pages need a fitted model, a plan and a forecast: the model is the demo's,
the plan and the forecast are made through the JSON API with the owner's key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import HEIGHTS, Served, sign_in_with_key

pytestmark = pytest.mark.slow
WIDTHS = (1280, 390)
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}
#: The start of the console line of a failed request (each is also seen as its response).
FAILED_LOAD = "Failed to load resource"
#: axe-core's impacts that fail a page.
FAILING = ("serious", "critical")
#: Each table's right edge, or that of the ``.scroll`` wrapper it scrolls in, past the right
#: edge of ``main``'s content box (px; at most one of rounding is allowed).
OVERFLOW = """() => {
  const main = document.querySelector("main");
  const style = getComputedStyle(main);
  const edge = Math.min(main.getBoundingClientRect().right - parseFloat(style.paddingRight),
                        document.documentElement.clientWidth);
  return Array.from(main.querySelectorAll("table")).map((table) => {
    const box = (table.closest(".scroll") || table).getBoundingClientRect();
    return {table: table.id || table.caption?.textContent.trim() || "(unnamed)",
            past: box.right - edge};
  }).filter((found) => found.past > 1);
}"""

#: The page's width past the window's, and the outermost elements sticking out of the window
#: (content of a scrolling ``.scroll`` wrapper is clipped by it and does not count).
SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  const sticks = (element) => element.getBoundingClientRect().right > width + 1 &&
    (!element.parentElement.closest(".scroll") ||
     ["absolute", "fixed"].includes(getComputedStyle(element).position));
  const name = (element) => element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
    + (typeof element.className === "string" && element.className.trim()
       ? "." + element.className.trim().split(/\\s+/).join(".") : "");
  const out = Array.from(document.body.querySelectorAll("*")).filter((element) =>
    sticks(element) && !sticks(element.parentElement));
  return {past: document.documentElement.scrollWidth - width,
          elements: out.slice(0, 6).map((element) =>
            name(element) + " in " + name(element.parentElement))};
}"""


@dataclass
class Seen:
    """What the sweep found on the pages."""

    #: ``(page, language, width, rule, impact, elements)`` of every axe violation.
    violations: list[tuple[str, str, int, str, str, list[str]]] = field(default_factory=list)
    #: ``(page, table, px past the edge)`` at 1280 px.
    overflows: list[tuple[str, str, float]] = field(default_factory=list)
    #: ``(page, language, px, elements)`` of pages wider than a 390 px window.
    sideways: list[tuple[str, str, int, list[str]]] = field(default_factory=list)
    #: ``(page, language, text)`` of errors logged in the console, or thrown.
    console: list[tuple[str, str, str]] = field(default_factory=list)
    #: ``page -> HTTP status`` in English.
    statuses: dict[str, int] = field(default_factory=dict)
    shots: list[Path] = field(default_factory=list)


def addresses(served: Served) -> dict[str, str]:
    """``page name -> path`` of every page of the workspace, on the demo's data."""
    model = served.demo_model()["id"]
    report = served.demo_report()["id"]
    spend = next(d["id"] for d in served.api("GET", "/datasets")["datasets"]
                 if d["kind"] == "spend")
    made = served.demo_plan()
    plan = made["id"]
    weekly = {c["channel"]: c["weekly_spend"] for c in made["result"]["channels"]}
    forecast = served.made("/forecasts", {
        "model": model, "period": "month", "allocation": weekly,
        "allow_unconverged": made["parameters"].get("allow_unconverged", False)})["id"]
    return {
        "home": "/", "upload": "/datasets/upload", "dataset": f"/datasets/{spend}",
        "report-form": "/reports/new", "report": f"/reports/{report}",
        "model-form": "/models/new", "model": f"/models/{model}",
        "plan-form": f"/plans/new?model={model}", "plan": f"/plans/{plan}",
        "forecast-form": f"/forecasts/new?plan={plan}", "forecast": f"/plans/{forecast}",
        "frontier": f"/models/{model}/frontier", "scenarios-form": "/scenarios",
        "scenarios": f"/scenarios?ids={plan},{forecast}", "audit": "/audit", "keys": "/keys",
        "error": "/reports/rp_0000000000000000",
    }


def look(page: Any, name: str, language: str, seen: Seen, folder: Path) -> None:
    """Check the open page with axe-core and take its screenshots at both widths."""
    from axe_playwright_python.sync_playwright import Axe

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHTS[width]})
        results = Axe().run(page)
        for violation in results.response["violations"]:
            seen.violations.append((name, language, width, violation["id"], violation["impact"],
                                    [", ".join(node["target"]) for node in violation["nodes"]]))
        if width == 1280:
            seen.overflows += [(name, o["table"], round(o["past"])) for o in
                               page.evaluate(OVERFLOW)]
        else:
            wide = page.evaluate(SIDEWAYS)
            if wide["past"] > 1:
                seen.sideways.append((name, language, wide["past"], wide["elements"]))
        if language == "en":
            shot = folder / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            seen.shots.append(shot)


def expected_failure(answer: Any, error_page: str) -> bool:
    """Whether a failed response is the error page's own 404, or the browser asking for the
    site's icon (``/favicon.ico``; the layout declares none)."""
    path = urlsplit(answer.url).path
    return path == "/favicon.ico" or (answer.request.is_navigation_request() and
                                      path == error_page)


def sweep(chromium: Any, served: Served, paths: dict[str, str], language: str, seen: Seen,
          folder: Path) -> None:
    """Open the sign-in page, then every page signed in, in ``language``."""
    context = chromium.new_context(base_url=served.base, locale=LANGUAGES[language],
                                   viewport={"width": 1280, "height": HEIGHTS[1280]})
    try:
        page = context.new_page()
        page.on("console", lambda message: seen.console.append((page.url, language, message.text))
                if message.type == "error" and not message.text.startswith(FAILED_LOAD)
                else None)
        page.on("pageerror", lambda error: seen.console.append((page.url, language, str(error))))
        page.on("response", lambda answer: seen.console.append(
            (answer.url, language, f"HTTP {answer.status}")) if answer.status >= 400 and
            not expected_failure(answer, paths["error"]) else None)
        page.goto("/signin")
        look(page, "signin", language, seen, folder)
        sign_in_with_key(page, served.owner_key, language)
        for name, path in paths.items():
            answer = page.goto(path)
            if language == "en":
                seen.statuses[name] = answer.status if answer is not None else 0
            look(page, name, language, seen, folder)
    finally:
        context.close()


@pytest.fixture(scope="module")
def seen(chromium: Any, served: Served, screenshots: Path) -> Iterator[Seen]:
    """Every page visited in both languages, at both widths."""
    pytest.importorskip("axe_playwright_python")
    found = Seen()
    paths = addresses(served)
    for language in LANGUAGES:
        sweep(chromium, served, paths, language, found, screenshots)
    yield found


def test_every_page_opens(seen: Seen) -> None:
    """Every page answers 200, and the error page its 404."""
    expected = {name: 404 if name == "error" else 200 for name in seen.statuses}
    assert seen.statuses == expected


def test_no_page_has_a_serious_accessibility_violation(seen: Seen) -> None:
    """axe-core finds nothing serious or critical on any page, language or width."""
    failing = [v for v in seen.violations if v[4] in FAILING]
    assert failing == []


def test_no_table_overflows_its_page(seen: Seen) -> None:
    """At 1280 px every table, or the scrolling wrapper it sits in, fits inside ``main``."""
    assert seen.overflows == []


def test_no_page_is_wider_than_a_phone(seen: Seen) -> None:
    """At 390 px no page scrolls sideways: only a table's ``.scroll`` wrapper may."""
    assert seen.sideways == []


def test_no_page_logs_an_error(seen: Seen) -> None:
    """No page logs an error, breaks its Content-Security-Policy or fails a request."""
    assert seen.console == []


def test_screenshots_are_written(seen: Seen, screenshots: Path) -> None:
    """Every page has its screenshot at both widths, painted."""
    pages = {*seen.statuses, "signin"}
    expected = {screenshots / f"{name}-{width}.png" for name in pages for width in WIDTHS}
    assert set(seen.shots) == expected
    assert all(shot.stat().st_size > 5_000 for shot in expected)
