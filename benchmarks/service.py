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
   the report for ``--seconds`` (target at least 200 reads per second).

The server's database is the embedded SQLite file, or ``--database URL``; on
PostgreSQL the benchmark works in a fresh schema of that database (first on
the server's search path) and drops it at the end.

Run: ``python -m benchmarks.service [--requests 300] [--clients 8] [--seconds 10]
[--database postgresql://USER@HOST:PORT/DB]``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
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
            Server(Path(folder) / "data", url, workers=1) as server:
        key, report, model = setup(server)
        reads = latencies(server, args.requests, "GET", f"/v1/reports/{report}", key)
        plans = latencies(server, args.requests // 3, "POST", "/v1/plans", key,
                          {"model": model, "budget": 150_000, "allow_unconverged": True})
        rate = throughput(server, f"/v1/reports/{report}", key, args.clients, args.seconds)
    print(f"\n{'operation':<34}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    print(row("read a stored report", reads, 50))
    print(row("plan, 8 channels x 1000 draws", plans, 300))
    print(f"{'reads per second':<34}{args.clients:>6} clients, {args.seconds:.0f} s: "
          f"{rate:.0f}/s   at least 200/s: {'met' if rate >= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
