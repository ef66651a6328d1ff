"""The HTML pages in headless Chromium: they render, show their chart and log nothing.

Each page is saved to a file and opened with ``chromium --headless``, which
writes the parsed DOM to stdout, a screenshot to a file and the page's console
messages (including Content-Security-Policy violations) to stderr as
``CONSOLE`` lines. The database plays no part in rendering, so these tests run
on SQLite only. They are skipped when ``/usr/bin/chromium`` is not installed
(Debian: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import re
import subprocess
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.api.test_pages import HOSTILE, URLS, add_rows, engine_outputs

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless browser tests need "
                       "/usr/bin/chromium (Debian: apt-get install -y chromium)"),
    pytest.mark.filterwarnings("ignore:no font for some channel names"),
]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--window-size=1280,1600")


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    """The engines' outputs of the page tests (built once per session)."""
    return engine_outputs()


def browse(page: Path, folder: Path) -> tuple[str, list[str], Path]:
    """Open ``page`` in headless Chromium: the DOM it built, its console lines, a screenshot."""
    shot = folder / f"{page.stem}.png"
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={folder / 'profile'}",
               f"--screenshot={shot}", "--dump-dom", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console, shot


def painted(shot: Path) -> float:
    """Share of the screenshot's pixels that are not white."""
    import matplotlib.image

    pixels = np.asarray(matplotlib.image.imread(shot))[..., :3]
    return float(np.mean(pixels.min(axis=-1) < 0.95))


def save(client: Any, url: str, headers: dict[str, str], target: Path) -> Path:
    """The page at ``url`` written to ``target``."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    target.write_bytes(response.data)
    return target


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", ["report", "model", "plan", "forecast"])
def test_page_renders_in_chromium_without_console_errors(client, acme, outputs, tmp_path,
                                                          kind):
    """The page loads with its chart drawn, hostile names as text and an empty console."""
    ids = add_rows(client, acme, outputs)
    page = save(client, URLS[kind](ids[kind]), acme["owner"], tmp_path / f"{kind}.html")
    dom, console, shot = browse(page, tmp_path)
    assert console == [], console
    assert dom.count("<svg") == 1 and len(re.findall(r"<path\b", dom)) > 30
    assert len(re.findall(r"<text\b", dom)) > 10  # labels stay text, drawn by the browser
    assert "<script" not in dom.lower() and escape(HOSTILE, quote=False) in dom
    assert re.search(r"<table id=\"(credit-1|diagnostics|channels)\"", dom)
    assert shot.stat().st_size > 10_000 and painted(shot) > 0.02


def test_console_errors_are_caught(tmp_path):
    """A page breaking the pages' CSP shows up as console lines, so a clean log means clean."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\""
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:\"></head><body>"
        f"<p>x</p>{HOSTILE}</body></html>", encoding="utf-8")
    _, console, _ = browse(page, tmp_path)
    assert any("Content Security Policy" in line for line in console), console
