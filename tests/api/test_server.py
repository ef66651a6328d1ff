"""The real server over HTTP: a whole workflow, concurrent clients and kill -9 faults.

Each test starts ``spendwise serve`` in a child process on a free loopback port
(SQLite in a temporary data directory) and talks to it with plain HTTP.
"""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.api.server_process import ROOT, Server

FIXTURES = ROOT / "fixtures"


def workspace(server: Server, name: str = "acme") -> str:
    """Create a workspace and its owner key over HTTP; the key."""
    assert server.request("POST", "/v1/workspaces", key=server.admin_key,
                          body={"name": name}).status == 201
    created = server.request("POST", "/v1/keys", key=server.admin_key,
                             body={"role": "owner", "workspace": name})
    assert created.status == 201
    key: str = created.json["key"]
    return key


def upload(server: Server, key: str, kind: str, data: bytes, name: str = "x.csv") -> Any:
    """Upload CSV bytes as a dataset of ``kind``."""
    return server.request("POST", f"/v1/datasets?kind={kind}&name={name}", key=key, data=data,
                          content_type="text/csv")


def wait_job(server: Server, key: str, job_id: str, timeout: float = 300.0) -> dict[str, Any]:
    """Poll a job until it has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = server.request("GET", f"/v1/jobs/{job_id}", key=key).json
        if job["state"] in ("succeeded", "failed"):
            return dict(job)
        time.sleep(0.5)
    raise TimeoutError(job_id)


def media_slice(weeks: int = 52, channels: tuple[str, ...] = ("search", "feeds")
                ) -> tuple[bytes, bytes]:
    """Spend and outcomes of the fixture's first weeks and a few channels, as CSV."""
    spend = pd.read_csv(FIXTURES / "media_spend.csv")
    outcomes = pd.read_csv(FIXTURES / "media_outcomes.csv").head(weeks)
    spend = spend[spend["date"].isin(outcomes["date"]) & spend["channel"].isin(channels)]
    return spend.to_csv(index=False).encode(), outcomes.to_csv(index=False).encode()


@pytest.mark.slow
def test_whole_workflow_over_http(tmp_path: Path) -> None:
    """Upload, attribute, fit a small model, plan, forecast and read every report format."""
    with Server(tmp_path / "data") as server:
        key = workspace(server)
        paths = upload(server, key, "paths", (FIXTURES / "sample_paths.csv").read_bytes())
        assert paths.status == 201, paths.text
        report = server.request("POST", "/v1/reports", key=key, body={
            "dataset": paths.json["id"], "models": ["markov", "linear"]})
        assert report.status in (201, 202), report.text
        if report.status == 202:
            assert wait_job(server, key, report.json["job_id"])["state"] == "succeeded"
        rid = report.json["id"]
        models = server.request("GET", f"/v1/reports/{rid}", key=key).json["models"]
        total = sum(c["conversions"] for c in models[0]["channels"])
        assert total == pytest.approx(paths.json["summary"]["conversions"], rel=1e-9)
        assert server.request("GET", f"/v1/reports/{rid}/csv", key=key).status == 200
        assert "<svg" in server.request("GET", f"/v1/reports/{rid}/html", key=key).text

        spend, outcomes = media_slice()
        ids = {kind: upload(server, key, kind, data).json["id"]
               for kind, data in (("spend", spend), ("outcomes", outcomes))}
        fit = server.request("POST", "/v1/models", key=key, body={
            **ids, "settings": {"draws": 100, "tune": 100, "chains": 2, "fourier_order": 1}})
        assert fit.status == 202, fit.text
        assert wait_job(server, key, fit.json["job_id"])["state"] == "succeeded"
        mid = fit.json["id"]
        curves = server.request("GET", f"/v1/models/{mid}/curves", key=key)
        assert curves.status == 200
        plan = server.request("POST", "/v1/plans", key=key, body={
            "model": mid, "budget": 80_000, "allow_unconverged": True})
        assert plan.status == 201, plan.text
        spends = [c["spend"] for c in plan.json["result"]["channels"]]
        assert sum(spends) == pytest.approx(80_000, rel=1e-6)
        forecast = server.request("POST", "/v1/forecasts", key=key, body={
            "model": mid, "allocation": {"search": 40_000, "feeds": 30_000},
            "allow_unconverged": True})
        assert forecast.status == 201, forecast.text
        for page in (f"/v1/models/{mid}/html", f"/v1/plans/{plan.json['id']}/html",
                     f"/v1/plans/{plan.json['id']}/csv"):
            assert server.request("GET", page, key=key).status == 200, page
        actions = {e["action"] for e in server.request("GET", "/v1/audit", key=key,
                                                       ).json["events"]}
        assert {"dataset.upload", "report.create", "model.create", "plan.create",
                "forecast.create"} <= actions


def test_fifty_concurrent_clients_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    """50 clients mixing uploads, reports and reads get no 5xx, and every 201 is one row."""
    with Server(tmp_path / "data", workers=0) as server:
        key = workspace(server)
        base = (FIXTURES / "sample_paths.csv").read_bytes()
        paths_id = upload(server, key, "paths", base).json["id"]

        def client(i: int) -> list[tuple[str, int, str | None]]:
            seen: list[tuple[str, int, str | None]] = []
            for j in range(4):
                if (i + j) % 3 == 0:
                    r = upload(server, key, "paths", base, name=f"c{i}-{j}.csv")
                    seen.append(("dataset", r.status, r.json.get("id")))
                elif (i + j) % 3 == 1:
                    r = server.request("POST", "/v1/reports", key=key, body={
                        "dataset": paths_id, "models": ["linear", "last_touch"]})
                    seen.append(("report", r.status, r.json.get("id")))
                else:
                    r = server.request("GET", "/v1/reports", key=key)
                    seen.append(("read", r.status, None))
            return seen

        with ThreadPoolExecutor(50) as pool:
            results = [x for batch in pool.map(client, range(50)) for x in batch]
        assert not [r for r in results if r[1] >= 500], results
        created = {kind: {i for k, s, i in results if k == kind and s == 201}
                   for kind in ("dataset", "report")}
        datasets = server.request("GET", "/v1/datasets", key=key).json["datasets"]
        reports = server.request("GET", "/v1/reports?limit=1000", key=key).json["reports"]
        assert {d["id"] for d in datasets} - {paths_id} == created["dataset"]
        assert {r["id"] for r in reports} == created["report"]
        events = server.request("GET", "/v1/audit?limit=1000", key=key).json["events"]
        uploads = [e for e in events if e["action"] == "dataset.upload"]
        assert len(uploads) == len(created["dataset"]) + 1


def test_kill_during_upload_leaves_a_consistent_database(tmp_path: Path) -> None:
    """kill -9 while uploads stream in; after a restart every row points at a stored file."""
    data = tmp_path / "data"
    server = Server(data, workers=0).start()
    key = workspace(server)
    frame = pd.read_csv(FIXTURES / "sample_touches.csv")
    big = pd.concat([frame] * 4, ignore_index=True)
    buffer = io.StringIO()
    big.to_csv(buffer, index=False)
    body = buffer.getvalue().encode()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            try:
                upload(server, key, "touches", body)
            except OSError:
                return

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(3.0)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join()
    restarted = Server(data, workers=0)
    restarted.admin_key = server.admin_key
    with restarted:
        assert restarted.request("GET", "/v1/health").json["database"] == "reachable"
        listed = restarted.request("GET", "/v1/datasets", key=key).json["datasets"]
        for dataset in listed:
            stored = data / "artifacts" / dataset["artifact"][:2] / dataset["artifact"][2:]
            assert stored.exists() and stored.stat().st_size == dataset["size_bytes"]
    with sqlite3.connect(data / "spendwise.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT count(*) FROM datasets").fetchone()[0]
        audits = db.execute("SELECT count(*) FROM audit_events WHERE action = "
                            "'dataset.upload'").fetchone()[0]
    assert rows == audits == len(listed)


@pytest.mark.slow
def test_kill_during_fit_then_restart_finishes_the_job(tmp_path: Path) -> None:
    """kill -9 the server and its worker mid-fit; after restart the job is taken over and
    ends succeeded on its second attempt."""
    data = tmp_path / "data"
    env = {"SPENDWISE_LEASE_SECONDS": "3"}
    server = Server(data, workers=1, env=env).start()
    key = workspace(server)
    spend, outcomes = media_slice()
    ids = {kind: upload(server, key, kind, payload).json["id"]
           for kind, payload in (("spend", spend), ("outcomes", outcomes))}
    fit = server.request("POST", "/v1/models", key=key, body={
        **ids, "settings": {"draws": 100, "tune": 100, "chains": 2, "fourier_order": 1}})
    job_id = fit.json["job_id"]
    deadline = time.monotonic() + 60
    while server.request("GET", f"/v1/jobs/{job_id}", key=key).json["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert server.process is not None
    import os
    import signal

    children = [int(p) for p in os.popen(f"pgrep -P {server.process.pid}").read().split()]
    for pid in children:  # the worker dies too: nothing finishes the first attempt
        os.kill(pid, signal.SIGKILL)
    server.kill()
    restarted = Server(data, workers=1, env=env)
    restarted.admin_key = server.admin_key
    with restarted:
        job = wait_job(restarted, key, job_id)
        assert job["state"] == "succeeded" and job["attempts"] == 2, job
        model = restarted.request("GET", f"/v1/models/{fit.json['id']}", key=key).json
        assert model["state"] == "succeeded" and model["diagnostics"] is not None
