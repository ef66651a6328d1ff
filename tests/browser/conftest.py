"""Fixtures of the browser tests: the real server with its demo, and Debian's Chromium.

``served`` is ``spendwise serve`` in a child process on a fresh data directory,
with the demo workspace of a first start (:mod:`api.demo`). The tests read the
one-time sign-in link and the owner key that it prints, as a person would. The
demo queues an attribution report and a response-model fit (about a minute on
two cores) and the server runs two job workers, so that the journeys' own jobs
do not queue behind that fit; a test that needs the demo's fitted model waits
for it (:meth:`Served.demo_model`).

``chromium`` is Playwright driving ``/usr/bin/chromium`` through
``executable_path``: no browser is ever downloaded. Without that file or
without Playwright, the tests are skipped. A test opens its own browser
contexts (``contexts``): each is a fresh profile, one person's cookies, in a
language (``zh-CN`` sends ``Accept-Language: zh-CN``) and a window width.

Screenshots go to the folder named by ``$SPENDWISE_SCREENSHOTS``, else to a
temporary folder of the session.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api.demo import NAME as DEMO_WORKSPACE
from api.web.catalog import CHINESE
from tests.api.server_process import ROOT, Server

CHROMIUM = Path("/usr/bin/chromium")
#: The sign-in link and the owner key that the first start prints (:meth:`api.demo.Demo.announce`).
PRINTED_LINK = re.compile(r"^\s+(http://127\.0\.0\.1:\d+/signin\?token=[\w-]+)\s*$", re.M)
PRINTED_KEY = re.compile(r"keep it\): (sw_k[0-9a-f]{16}_[\w-]{43})")
#: Window heights of the two widths the pages are checked at (a laptop, a phone).
HEIGHTS = {1280: 900, 390: 844}
#: Seconds a test waits for a job: the demo's fit takes about a minute on two cores.
JOB_SECONDS = 300.0
DONE = ("succeeded", "failed")
#: Job workers of the server: one runs the demo's fit (about a minute) while the other runs the
#: journeys' own jobs, such as the buyer's small fit, instead of queueing them behind it.
WORKERS = 2


@dataclass
class Served:
    """The running server, what its first start printed, and the demo's rows."""

    server: Server
    #: The one-time sign-in link printed for the demo owner.
    link: str
    #: The demo owner's API key, printed once.
    owner_key: str
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """The server's address."""
        return self.server.base

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON answer of the API at ``/v1{path}``, called with the owner's key."""
        answer = self.server.request(method, f"/v1{path}", key=self.owner_key, body=body)
        assert answer.status < 300, (answer.status, answer.text[:500])
        return answer.json

    def wait(self, path: str, timeout: float = JOB_SECONDS) -> dict[str, Any]:
        """The resource at ``/v1{path}`` once its job has ended (succeeded or failed)."""
        deadline = time.monotonic() + timeout
        while True:
            found: dict[str, Any] = self.api("GET", path)
            if found["state"] in DONE:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} still {found['state']} after {timeout:g} s:\n"
                                     + "".join(self.server.output[-20:]))
            time.sleep(1.0)

    def demo_model(self) -> dict[str, Any]:
        """The demo's response model, fitted (waits for its fit)."""
        if "model" not in self.cache:
            models = self.api("GET", "/models?limit=100")["models"]
            first = min(models, key=lambda m: m["created_at"])
            model = self.wait(f"/models/{first['id']}")
            assert model["state"] == "succeeded", model
            self.cache["model"] = model
        found: dict[str, Any] = self.cache["model"]
        return found

    def made(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A plan or forecast made through the JSON API (``/plans`` or ``/forecasts``),
        once it has succeeded."""
        row: dict[str, Any] = self.api("POST", path, body)
        if row["state"] != "succeeded":
            row = self.wait(f"/plans/{row['id']}")
        assert row["state"] == "succeeded", row
        return row

    def demo_plan(self) -> dict[str, Any]:
        """A plan of 600,000 for a month on the demo's model, no channel moved over 30%, as a
        buyer would have made it."""
        if "plan" not in self.cache:
            model = self.demo_model()
            self.cache["plan"] = self.made("/plans", {
                "model": model["id"], "budget": 600_000.0, "period": "month",
                "max_change": 0.3, "allow_unconverged": not model["converged"]})
        found: dict[str, Any] = self.cache["plan"]
        return found

    def demo_report(self) -> dict[str, Any]:
        """The demo's attribution report, computed (waits for it)."""
        reports = self.api("GET", "/reports?limit=100")["reports"]
        first = min(reports, key=lambda r: r["created_at"])
        return self.wait(f"/reports/{first['id']}")

    def signin_link(self, role: str, minutes: float) -> str:
        """A new sign-in link of ``role`` from ``spendwise signin-link``, valid ``minutes``."""
        done = subprocess.run(
            [sys.executable, "-m", "api", "signin-link", "--workspace", DEMO_WORKSPACE,
             "--role", role, "--minutes", f"{minutes:g}", "--url", self.base,
             "--data-dir", str(self.server.data_dir)],
            cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)}, capture_output=True,
            text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        found = re.search(r"(http://\S+/signin\?token=[\w-]+)", done.stdout)
        assert found, done.stdout
        return found.group(1)


def _printed(server: Server, timeout: float = 60.0) -> tuple[str, str]:
    """The sign-in link and the owner key in the server's first-start output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = "".join(server.output)
        link, key = PRINTED_LINK.search(text), PRINTED_KEY.search(text)
        if link and key:
            return link.group(1), key.group(1)
        time.sleep(0.1)
    raise AssertionError("no sign-in link printed:\n" + "".join(server.output))


def stop(server: Server, seconds: float = 10.0) -> None:
    """Stop the server like Ctrl-C, or kill it if a job keeps it busy after ``seconds``."""
    if server.process is not None and server.running():
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="session")
def playwright_api() -> Any:
    """Playwright's synchronous API, or a skip when Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip("browser tests need /usr/bin/chromium (Debian: apt-get install -y chromium)")
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="session")
def served(playwright_api: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``spendwise serve`` on a fresh data directory, with the demo of its first start."""
    server = Server(tmp_path_factory.mktemp("served"), demo=True, workers=WORKERS).start()
    try:
        link, key = _printed(server)
        assert link.startswith(server.base + "/signin?token="), link
        yield Served(server, link, key)
    finally:
        stop(server)


@pytest.fixture(scope="session")
def chromium(playwright_api: Any) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (one for the whole session)."""
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def contexts(chromium: Any, served: Served) -> Iterator[Callable[..., Any]]:
    """Open fresh browser contexts on the server: ``contexts(locale=..., width=...)``."""
    opened: list[Any] = []

    def open_context(*, locale: str = "en-US", width: int = 1280) -> Any:
        context = chromium.new_context(base_url=served.base, locale=locale,
                                       viewport={"width": width, "height": HEIGHTS[width]},
                                       accept_downloads=True)
        context.set_default_timeout(30_000)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: ``$SPENDWISE_SCREENSHOTS`` or a temporary folder."""
    folder = os.environ.get("SPENDWISE_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def words(language: str) -> Callable[[str], str]:
    """What the pages say for an English message in ``language`` (``"en"`` or ``"zh"``)."""
    if language == "en":
        return lambda message: message
    return lambda message: CHINESE[message]


def sign_in_with_key(page: Any, key: str, language: str = "en") -> None:
    """Sign ``page``'s browser in on the sign-in page with an API key, in ``language``."""
    say = words(language)
    page.goto("/signin")
    page.get_by_label(say("API key")).fill(key)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()
    page.wait_for_url(re.compile(r"/$"))


def sign_out(page: Any, language: str = "en") -> None:
    """Press the header's sign-out button."""
    page.get_by_role("button", name=words(language)("Sign out")).click()
    page.wait_for_url(re.compile(r"/signin"))
