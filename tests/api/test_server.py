"""The real server over HTTP: a whole workflow, concurrent clients, kill -9 faults and
separate job workers.

Each test starts ``spendwise serve`` (and ``spendwise worker``) in child
processes on a free loopback port, with a temporary data directory and the
test's database from ``tests/api/conftest.py`` (an SQLite file, or a fresh
PostgreSQL schema that the server reaches through its search path), and talks
to it with plain HTTP. After each fault the database is checked directly.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.artifacts import referenced
from api.store import ArtifactStore
from api.tables import ApiKey, AuditEvent, Dataset, Job, Plan, Report, ResponseFit
from tests.api.conftest import Database
from tests.api.server_process import ROOT, WORKER_STARTED, Server, Worker, schema_url

FIXTURES = ROOT / "fixtures"
#: Job kinds whose target row carries the job's end state.
TARGETS: dict[str, Any] = {"attribution": Report, "fit": ResponseFit, "plan": Plan}


def served(database: Database) -> str:
    """The URL the server and its workers are given for the test's database."""
    return schema_url(database.url, database.schema) if database.schema else database.url


def assert_consistent(database: Database, data_dir: Path) -> None:
    """Check what a crash must not break: every dataset and every succeeded model has its
    whole artifact, every stored artifact a row, every succeeded report its models, and
    every job has ended as its target did, a failed one with its reason."""
    store = ArtifactStore(data_dir / "artifacts")
    engine = database.engine()
    try:
        with Session(engine) as session:
            assert store.digests() <= referenced(session)
            for dataset in session.scalars(select(Dataset)):
                assert len(store.get(dataset.artifact)) == dataset.size_bytes, dataset.id
            for fit in session.scalars(select(ResponseFit)):
                if fit.state == "succeeded":
                    assert fit.artifact and store.get(fit.artifact), fit.id
                    assert fit.diagnostics is not None, fit.id
            for report in session.scalars(select(Report)):
                assert report.state != "succeeded" or report.result, report.id
            for job in session.scalars(select(Job)):
                assert job.state in ("succeeded", "failed"), (job.id, job.state)
                assert job.state == "succeeded" or job.error, job.id
                if job.kind in TARGETS:
                    target = session.get(TARGETS[job.kind], job.target_id)
                    assert target is not None and target.state == job.state, job.id
    finally:
        engine.dispose()


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


def kill_mid_job(database: Database, workers: list[Worker], timeout: float = 90.0
                 ) -> tuple[Worker, str]:
    """``kill -9`` the first of ``workers`` seen running a job it has only begun; the
    worker and the job's id."""
    by_name = {worker.name: worker for worker in workers}
    engine = database.engine()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with Session(engine) as session:
                job = session.scalars(select(Job).where(
                    Job.state == "running", Job.progress == 0,
                    Job.worker.in_(list(by_name)))).first()
            if job is not None and job.worker is not None:
                victim = by_name[job.worker]
                victim.kill()
                with Session(engine) as session:
                    after = session.get(Job, job.id)
                    assert after is not None and (after.state, after.worker) == (
                        "running", victim.name), "the job ended before its worker was killed"
                return victim, job.id
            time.sleep(0.05)
        raise TimeoutError("no separate worker claimed a job")
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_whole_workflow_over_http(tmp_path: Path, database: Database) -> None:
    """Upload, attribute, fit a small model, plan, forecast and read every report format
    (on SQLite, the default deployment, only: the workflow takes 40 to 100 s, and every
    endpoint runs on PostgreSQL in the in-process tests)."""
    with Server(tmp_path / "data", served(database)) as server:
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
        weekly = server.request("POST", "/v1/plans", key=key, body={
            "model": mid, "budget": 26 * 20_000, "per_week": True, "horizon_weeks": 26,
            "allow_unconverged": True})  # 200 draws x 2 channels x 26 weeks: a job
        assert weekly.status == 202, weekly.text
        assert wait_job(server, key, weekly.json["job_id"])["state"] == "succeeded"
        solved = server.request("GET", f"/v1/plans/{weekly.json['id']}", key=key).json
        assert solved["state"] == "succeeded"
        assert all(len(c["weekly_spend"]) == 26 for c in solved["result"]["channels"])
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
    assert_consistent(database, tmp_path / "data")


def test_fifty_concurrent_clients_lose_and_duplicate_nothing(tmp_path: Path,
                                                             database: Database) -> None:
    """50 clients mixing uploads, reports and reads get no 5xx, and every 201 is one row."""
    with Server(tmp_path / "data", served(database), workers=0) as server:
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
    assert_consistent(database, tmp_path / "data")


def test_kill_during_upload_leaves_a_consistent_database(tmp_path: Path,
                                                         database: Database) -> None:
    """kill -9 while uploads stream in; after a restart every row points at a stored file."""
    data = tmp_path / "data"
    server = Server(data, served(database), workers=0).start()
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
    restarted = Server(data, served(database), workers=0)
    restarted.admin_key = server.admin_key
    with restarted:
        assert restarted.request("GET", "/v1/health").json["database"] == "reachable"
        listed = restarted.request("GET", "/v1/datasets", key=key).json["datasets"]
        for dataset in listed:
            stored = data / "artifacts" / dataset["artifact"][:2] / dataset["artifact"][2:]
            assert stored.exists() and stored.stat().st_size == dataset["size_bytes"]
    assert listed, "no upload finished before the kill"
    assert_consistent(database, data)
    engine = database.engine()
    try:
        with Session(engine) as session:
            if database.backend == "sqlite":
                assert session.execute(text("PRAGMA integrity_check")).all() == [("ok",)]
            rows = set(session.scalars(select(Dataset.id)))
            audited = session.scalars(select(AuditEvent.resource_id).where(
                AuditEvent.action == "dataset.upload")).all()
    finally:
        engine.dispose()
    assert rows == set(audited) == {d["id"] for d in listed} and len(audited) == len(rows)


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_kill_during_fit_then_restart_finishes_the_job(tmp_path: Path,
                                                       database: Database) -> None:
    """kill -9 the server and its worker mid-fit; after restart the job is taken over and
    ends succeeded on its second attempt (on SQLite only: a second backend would add 30 to
    40 s, and on PostgreSQL the separate-workers test kills a worker mid-job)."""
    data = tmp_path / "data"
    env = {"SPENDWISE_LEASE_SECONDS": "3"}
    server = Server(data, served(database), workers=1, env=env).start()
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
    children = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True,
                              text=True, check=False).stdout.split()
    for pid in children:  # the worker dies too: nothing finishes the first attempt
        os.kill(int(pid), signal.SIGKILL)
    server.kill()
    restarted = Server(data, served(database), workers=1, env=env)
    restarted.admin_key = server.admin_key
    with restarted:
        job = wait_job(restarted, key, job_id)
        assert job["state"] == "succeeded" and job["attempts"] == 2, job
        model = restarted.request("GET", f"/v1/models/{fit.json['id']}", key=key).json
        assert model["state"] == "succeeded" and model["diagnostics"] is not None
    assert_consistent(database, data)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_separate_workers_run_each_job_once_and_take_over_a_killed_ones(
        tmp_path: Path, database: Database) -> None:
    """Two ``spendwise worker`` processes beside ``serve`` and its embedded worker run each
    queued report once, and one killed mid-job loses it to another when its lease ends (on
    PostgreSQL, where several workers share one queue in production)."""
    data, url = tmp_path / "data", served(database)
    env = {"SPENDWISE_LEASE_SECONDS": "3"}
    externals = [Worker(data, url, env=env).launch() for _ in range(2)]
    try:
        with Server(data, url, workers=1, env=env) as server:
            for worker in externals:
                worker.ready()
            key = workspace(server)
            paths = upload(server, key, "paths", (FIXTURES / "sample_paths.csv").read_bytes())
            body = {"dataset": paths.json["id"], "models": ["markov"],
                    "settings": {"bootstrap": 300, "seed": 7}}
            created = [server.request("POST", "/v1/reports", key=key, body=body)
                       for _ in range(4)]
            assert [r.status for r in created] == [202] * 4, created[0].text
            victim, taken = kill_mid_job(database, externals)
            ended = [wait_job(server, key, r.json["job_id"], timeout=120) for r in created]
            results = [server.request("GET", f"/v1/reports/{r.json['id']}", key=key
                                      ).json["models"] for r in created]
            embedded = {m.group(1) for line in server.output
                        if (m := WORKER_STARTED.search(line))}
    finally:
        for worker in externals:
            worker.kill()
    assert [job["state"] for job in ended] == ["succeeded"] * 4, ended
    attempts = {job["id"]: job["attempts"] for job in ended}
    assert attempts.pop(taken) == 2 and set(attempts.values()) == {1}, ended
    assert all(models == results[0] for models in results)
    assert_consistent(database, data)
    engine = database.engine()
    try:
        with Session(engine) as session:
            ran = {job: worker for job, worker in session.execute(select(Job.id, Job.worker))}
            admins = session.scalar(select(func.count()).select_from(ApiKey)
                                    .where(ApiKey.role == "admin"))
    finally:
        engine.dispose()
    survivors = {worker.name for worker in externals if worker is not victim}
    assert len(embedded) == 1 and ran[taken] in embedded | survivors, ran
    assert set(ran.values()) <= embedded | survivors | {victim.name}, ran
    assert admins == 1


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_worker_on_an_empty_database_leaves_the_admin_key_to_serve(
        tmp_path: Path, database: Database) -> None:
    """``spendwise worker --once`` on an empty database migrates it but creates no admin key,
    which it could not show."""
    worker = Worker(tmp_path / "data", served(database)).launch(once=True)
    worker.ready()
    assert worker.process is not None and worker.process.wait(timeout=60) == 0, worker.output
    engine = database.engine()
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Job)) == 0
            assert session.scalar(select(func.count()).select_from(ApiKey)) == 0
    finally:
        engine.dispose()
