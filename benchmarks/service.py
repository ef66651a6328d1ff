"""Service benchmark: the running server driven over HTTP from a separate process.

Starts ``spendwise serve`` (one job worker) in a child process, loads
the sample paths and the media fixture, creates an attribution report and
fits the 8-channel response model (2 chains x 500 draws = 1000 draws), then
measures from this process:

1. reading the stored report (``GET /v1/reports/{id}``): latency percentiles
   over sequential requests (target p99 under 50 ms);
2. creating a plan from the stored model (``POST /v1/plans``, steady state,
   expected conversions, ``allow_unconverged``: 2 x 500 draws with lift tests
   may fall short of ESS 400, and the benchmark measures speed): latency
   percentiles (target p99 under 300 ms);
3. read throughput: ``--clients`` threads with keep-alive connections reading
   the report for ``--seconds`` (target at least 200 reads per second);
4. the browser workspace's pages on the demo workspace (signed in with the demo
   owner's key through the sign-in form, as a browser does): the server time
   of each page, first view and repeats (target p99 under 100 ms);
5. in this process, a budget-frontier re-solve (:func:`optimizer.frontier.frontier`,
   the best plan at 25 budgets from 50% to 200% of the current one, and at the
   current one) on a posterior of 10 channels x 1000 draws: latency percentiles
   over ``--frontiers`` runs (target p99 under 200 ms).

The server's database is the embedded SQLite file, or ``--database URL``; on
PostgreSQL the benchmark works in a fresh schema of that database (first on
the server's search path) and drops it at the end.

Run: ``python -m benchmarks.service [--requests 300] [--clients 8] [--seconds 10]
[--pages 50] [--frontiers 50] [--database postgresql://USER@HOST:PORT/DB]``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.settings import normalise_url
from optimizer.posterior import ResponseDraws
from tests.api.server_process import ROOT, Server, schema_url

FIXTURES = ROOT / "fixtures"
MEDIA = ("spend", "outcomes", "controls", "lift_tests")


@contextlib.contextmanager
def scratch(url: str | None) -> Iterator[str | None]:
    """The server's database URL: ``url`` as given, or on PostgreSQL a fresh schema of it,
    dropped on exit."""
    if url is None or make_url(normalise_url(url)).get_backend_name() != "postgresql":
        yield url
        return
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    schema = f"bench_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(url, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def setup(server: Server) -> tuple[str, str, str]:
    """Workspace, report and fitted model: the owner key, the report id, the model id."""
    admin = server.admin_key
    assert server.request("POST", "/v1/workspaces", key=admin, body={"name": "bench"}).status \
        == 201
    key = server.request("POST", "/v1/keys", key=admin,
                         body={"role": "owner", "workspace": "bench"}).json["key"]

    def upload(kind: str, name: str) -> str:
        answer = server.request("POST", f"/v1/datasets?kind={kind}&name={name}", key=key,
                                data=(FIXTURES / name).read_bytes(), content_type="text/csv")
        assert answer.status == 201, answer.text
        return str(answer.json["id"])

    paths = upload("paths", "sample_paths.csv")
    report = server.request("POST", "/v1/reports", key=key,
                            body={"dataset": paths, "models": ["markov", "shapley", "linear"]})
    assert report.status == 201, report.text
    ids = {kind: upload(kind, f"media_{kind}.csv") for kind in MEDIA}
    fit = server.request("POST", "/v1/models", key=key,
                         body={**ids, "settings": {"draws": 500, "chains": 2}})
    assert fit.status == 202, fit.text
    while True:
        job = server.request("GET", f"/v1/jobs/{fit.json['job_id']}", key=key).json
        if job["state"] in ("succeeded", "failed"):
            break
        time.sleep(1.0)
    assert job["state"] == "succeeded", job
    return key, report.json["id"], fit.json["id"]


#: The demo owner's key as ``spendwise serve`` prints it at first start.
DEMO_KEY = re.compile(r"demo owner's API key.*: (sw_k[0-9a-f]{16}_\S+)")


def demo_ids(server: Server) -> tuple[str, dict[str, str]]:
    """The demo owner's key, and the ids of the demo's report, model and two plans (made
    once the demo's fit has succeeded)."""
    found = next(m for line in server.output if (m := DEMO_KEY.search(line)))
    key = found.group(1)
    reports = server.request("GET", "/v1/reports", key=key).json["reports"]
    model = server.request("GET", "/v1/models", key=key).json["models"][0]
    while model["state"] not in ("succeeded", "failed"):
        time.sleep(1.0)
        model = server.request("GET", f"/v1/models/{model['id']}", key=key).json
    assert model["state"] == "succeeded", model
    plans = [server.request("POST", "/v1/plans", key=key, body={
        "model": model["id"], "budget": budget, "period": "month",
        "allow_unconverged": True}).json["id"] for budget in (1_200_000, 1_000_000)]
    return key, {"report": reports[0]["id"], "model": model["id"], "plan": plans[0],
                 "other": plans[1]}


def signed_in(server: Server, key: str) -> str:
    """The ``Cookie`` header of a browser session opened with ``key`` on the sign-in form."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    connection.request("GET", "/signin")
    answer = connection.getresponse()
    page = answer.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    cookie = answer.getheader("Set-Cookie", "").split(";")[0]
    assert token is not None and cookie, "no sign-in form"
    form = f"csrf_token={token.group(1)}&key={key}&next=/"
    connection.request("POST", "/signin", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 303, answer.status
    connection.close()
    return answer.getheader("Set-Cookie", "").split(";")[0]


def page_latencies(server: Server, cookie: str, paths: dict[str, str],
                   n: int) -> dict[str, tuple[float, np.ndarray]]:
    """``name -> (first view ms, ms of n repeats)`` of each page, one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    found = {}
    for name, path in paths.items():
        times = []
        for _ in range(n + 1):
            start = time.perf_counter()
            connection.request("GET", path, headers={"Cookie": cookie})
            answer = connection.getresponse()
            answer.read()
            times.append((time.perf_counter() - start) * 1000)
            assert answer.status == 200, (path, answer.status)
        found[name] = (times[0], np.array(times[1:]))
    connection.close()
    return found


def latencies(server: Server, n: int, method: str, path: str, key: str,
              body: Any = None) -> np.ndarray:
    """Milliseconds of ``n`` sequential requests over one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    payload = json.dumps(body) if body is not None else None
    out = []
    for _ in range(n):
        start = time.perf_counter()
        connection.request(method, path, body=payload, headers=headers)
        answer = connection.getresponse()
        answer.read()
        out.append((time.perf_counter() - start) * 1000)
        assert answer.status < 300, answer.status
    connection.close()
    return np.array(out)


def throughput(server: Server, path: str, key: str, clients: int, seconds: float) -> float:
    """Reads per second of ``clients`` threads, each on its own keep-alive connection."""
    counts = [0] * clients
    deadline = time.monotonic() + seconds

    def run(i: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        headers = {"Authorization": f"Bearer {key}"}
        while time.monotonic() < deadline:
            connection.request("GET", path, headers=headers)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
            counts[i] += 1
        connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def frontier_draws(n_channels: int = 10, n_draws: int = 1000, seed: int = 0) -> ResponseDraws:
    """A posterior of channels on scales from 2,000 to 50,000 a week, each with a spread of
    draws around its own exponential curve, spending about its saturation scale now."""
    rng = np.random.default_rng(seed)
    scale = 10 ** rng.uniform(3.3, 4.7, n_channels)
    lam = scale * rng.lognormal(0, 0.25, (n_draws, n_channels))
    beta = 10 ** rng.uniform(1.5, 3, n_channels) * rng.lognormal(0, 0.25, (n_draws, n_channels))
    current = scale * rng.uniform(0.5, 1.5, n_channels)
    return ResponseDraws(
        channels=tuple(f"channel {i}" for i in range(n_channels)), curve_name="exponential",
        beta=beta, lam=lam, alpha=np.full_like(beta, 0.3), max_lag=1,
        value_per_kpi=rng.uniform(20, 80, n_channels), baseline=np.zeros(n_draws),
        history=np.zeros((0, n_channels)), current=current, max_weekly_spend=2 * current)


def frontier_latencies(runs: int, n_channels: int = 10) -> np.ndarray:
    """Milliseconds of ``runs`` frontier re-solves (module docstring, item 4)."""
    from optimizer.frontier import frontier
    from optimizer.requests import PlanRequest

    draws = frontier_draws(n_channels)
    request = PlanRequest.build(budget=float(draws.current.sum()) * 52 / 12, period="month")
    frontier(draws, request)  # imports and caches warm, as in a running server
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        frontier(draws, request)
        out.append((time.perf_counter() - start) * 1000)
    return np.array(out)


def row(name: str, ms: np.ndarray, target: float) -> str:
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    verdict = "met" if p99 < target else "NOT met"
    return (f"{name:<34}{len(ms):>6}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}   p99 < {target:.0f} ms: "
            f"{verdict}")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pages", type=int, default=50, help="views of each page to time")
    parser.add_argument("--frontiers", type=int, default=50,
                        help="budget-frontier re-solves to time")
    parser.add_argument("--database", metavar="URL",
                        help="the server's database (default: SQLite in a temporary data "
                             "directory); PostgreSQL: a fresh schema of it, dropped at the end")
    args = parser.parse_args(argv)
    backend = make_url(normalise_url(args.database)).get_backend_name() if args.database \
        else "sqlite"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}, "
          f"database {backend}")
    with tempfile.TemporaryDirectory() as folder, scratch(args.database) as url, \
            Server(Path(folder) / "data", url, workers=1, demo=True) as server:
        key, report, model = setup(server)
        reads = latencies(server, args.requests, "GET", f"/v1/reports/{report}", key)
        plans = latencies(server, args.requests // 3, "POST", "/v1/plans", key,
                          {"model": model, "budget": 150_000, "allow_unconverged": True})
        rate = throughput(server, f"/v1/reports/{report}", key, args.clients, args.seconds)
        demo_key, ids = demo_ids(server)
        views = page_latencies(server, signed_in(server, demo_key), {
            "home": "/", "upload": "/datasets/upload", "attribution report":
            f"/reports/{ids['report']}", "response model": f"/models/{ids['model']}",
            "plan builder": f"/plans/new?model={ids['model']}", "plan": f"/plans/{ids['plan']}",
            "budget frontier": f"/models/{ids['model']}/frontier",
            "scenarios": f"/scenarios?ids={ids['plan']},{ids['other']}",
            "audit trail": "/audit", "keys and links": "/keys"}, args.pages)
    frontiers = frontier_latencies(args.frontiers)
    print(f"\n{'operation':<34}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    print(row("read a stored report", reads, 50))
    print(row("plan, 8 channels x 1000 draws", plans, 300))
    print(row("frontier, 10 channels x 1000 draws", frontiers, 200))
    print(f"\n{'page (demo workspace)':<34}{'n':>6}{'first':>9}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p99 ms':>9}")
    for name, (first, ms) in views.items():
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        print(f"{name:<34}{len(ms):>6}{first:>9.1f}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}   "
              f"p99 < 100 ms: {'met' if p99 < 100 else 'NOT met'}")
    print(f"{'reads per second':<34}{args.clients:>6} clients, {args.seconds:.0f} s: "
          f"{rate:.0f}/s   at least 200/s: {'met' if rate >= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
