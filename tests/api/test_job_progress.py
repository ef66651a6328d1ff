"""Progress of background jobs: counts, notes and the time left on the job row and in its
JSON, written at most once a second, on SQLite and PostgreSQL; and the fit, report and
plan jobs' own progress."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from api import reports
from api.jobs import (
    RUNNING,
    SUCCEEDED,
    JobContext,
    JobKind,
    ProgressWriter,
    Worker,
    enqueue,
    job_dict,
)
from api.tables import Job, now
from optimizer.allocator import PLAN_STEPS
from optimizer.response_graph import DrawCounter
from optimizer.response_model import ResponseModel
from tests.api.cli.test_optimizer import hand_posterior
from tests.api.test_models import media_datasets, workspace_of
from tests.api.test_plans import models, post_plan, saved  # noqa: F401 (fixtures)
from tests.api.test_reports import GOLDEN, add_paths, run_job

KIND = "test-progress"
#: Longest wait for the progress writer's thread to reach the database.
WAIT_SECONDS = 15.0


def row(services: Any, job_id: str) -> Job:
    """The job's row as stored now."""
    with services.sessions() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def wait_for(services: Any, job_id: str, written: Callable[[Job], bool]) -> Job:
    """The job's row once ``written`` holds for it (the writer works on its own thread)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not written(found := row(services, job_id)):
        if time.monotonic() > deadline:
            raise AssertionError(f"progress never reached the database: {job_dict(found)}")
        time.sleep(0.02)
    return found


@pytest.fixture
def run(services: Any, workspace_id: str) -> Iterator[Callable[[Callable[[JobContext], None]],
                                                                 str]]:
    """Run one job of kind ``test-progress`` with the given handler; its id."""
    kinds: dict[str, JobKind] = {}

    def go(handler: Callable[[JobContext], None], max_attempts: int = 3) -> str:
        kinds[KIND] = JobKind(KIND, handler, lambda session, target, reason: None)
        with services.sessions.begin() as session:
            job_id = enqueue(session, workspace_id, KIND, "t0", max_attempts).id
        Worker(services.sessions, services.store, services.settings, kinds, "w1").run_one()
        return job_id

    yield go


# -- the writer ---------------------------------------------------------------------------


def test_writer_writes_the_first_values_then_at_most_once_per_interval():
    """Values recorded within the interval wait, merged, and close() hands them back."""
    writes: list[dict[str, Any]] = []
    first = threading.Event()

    def write(values: dict[str, Any]) -> None:
        writes.append(values)
        first.set()

    writer = ProgressWriter(write, interval=3600.0)
    writer.record({"progress_done": 1, "progress_total": 10})
    assert first.wait(WAIT_SECONDS)
    for done in range(2, 8):
        writer.record({"progress_done": done, "progress_total": 10})
    writer.record({"progress_note": "sampling"})
    assert writes == [{"progress_done": 1, "progress_total": 10}]
    assert writer.close() == {"progress_done": 7, "progress_total": 10,
                              "progress_note": "sampling"}
    writer.record({"progress_done": 9})
    assert writer.close() is None and len(writes) == 1


def test_a_failing_write_does_not_fail_the_work():
    """A database error while writing progress is logged and the caller goes on."""
    tried = threading.Event()

    def write(values: dict[str, Any]) -> None:
        tried.set()
        raise OSError("database is down")

    writer = ProgressWriter(write, interval=3600.0)
    writer.record({"progress": 0.5})
    assert tried.wait(WAIT_SECONDS)
    assert writer.close() is None


# -- the job row ----------------------------------------------------------------------------


def test_a_job_records_counts_notes_and_the_time_left(services, run):
    """Counts and notes reach the row while the job runs; finishing writes all units done
    and keeps the last note."""
    seen: dict[str, Any] = {}

    def handler(context: JobContext) -> None:
        context.progress(0, 400, "compiling the model")
        first = wait_for(services, context.job_id, lambda j: j.progress_total == 400)
        seen["first"] = (first.progress, first.progress_done, first.progress_note)
        context.progress(100, 400, "tuning")
        second = wait_for(services, context.job_id, lambda j: j.progress_done == 100)
        assert second.started_at is not None
        seen["second"] = job_dict(second, at=second.started_at + timedelta(seconds=30))
        context.progress(400, 400, "sampling")
        context.note("saving the model")
        context.finish(lambda session: None)

    job_id = run(handler)
    assert seen["first"] == (0.0, 0, "compiling the model")
    second = seen["second"]
    assert (second["state"], second["progress"], second["progress_done"],
            second["progress_total"], second["progress_note"]) == (RUNNING, 0.25, 100, 400,
                                                                   "tuning")
    assert second["seconds_left"] == pytest.approx(90.0)  # 30 s for a quarter: 90 s to go
    done = job_dict(row(services, job_id))
    assert (done["state"], done["progress"], done["progress_done"], done["progress_total"],
            done["progress_note"], done["seconds_left"]) == (SUCCEEDED, 1.0, 400, 400,
                                                             "saving the model", 0.0)


def test_a_fraction_alone_records_no_counts(services, run):
    """progress(0.5) sets the fraction only; the finished job has no counts either."""
    def handler(context: JobContext) -> None:
        context.progress(0.5)
        found = wait_for(services, context.job_id, lambda j: j.progress == 0.5)
        assert (found.progress_done, found.progress_total, found.progress_note) == \
            (None, None, None)
        context.finish(lambda session: None)

    done = row(services, run(handler))
    assert (done.progress, done.progress_done, done.progress_total) == (1.0, None, None)


def test_a_retried_job_starts_its_progress_afresh(services, run):
    """A job queued again after an error is claimed with no counts, note or fraction."""
    starts: list[tuple[Any, ...]] = []

    def handler(context: JobContext) -> None:
        found = row(services, context.job_id)
        starts.append((found.progress, found.progress_done, found.progress_total,
                       found.progress_note))
        context.progress(3, 4, "solving")
        wait_for(services, context.job_id, lambda j: j.progress_done == 3)
        raise RuntimeError("the solver crashed")

    job_id = run(handler)
    Worker(services.sessions, services.store, services.settings,
           {KIND: JobKind(KIND, handler, lambda session, target, reason: None)},
           "w2").run_one()
    assert starts == [(0.0, None, None, None), (0.0, None, None, None)]
    assert row(services, job_id).attempts == 2


def test_seconds_left_by_state():
    """Running: from the pace since started_at; succeeded: 0; otherwise unknown."""
    started = now()
    later = started + timedelta(seconds=40)
    job = Job(id="jb_1", kind="fit", target_id="rm_1", state=RUNNING, progress=0.2,
              attempts=1, max_attempts=3, created_at=started, started_at=started)
    assert job_dict(job, at=later)["seconds_left"] == pytest.approx(160.0)
    job.progress = 0.0
    assert job_dict(job, at=later)["seconds_left"] is None
    job.state, job.progress = "queued", 0.0
    assert job_dict(job, at=later)["seconds_left"] is None
    job.state, job.finished_at = SUCCEEDED, later
    assert job_dict(job, at=later)["seconds_left"] == 0.0
    job.state = "failed"
    assert job_dict(job, at=later)["seconds_left"] is None


def test_the_worker_logs_each_jobs_start_and_end(services, run, caplog):
    """The log names the job, its kind, the seconds it took and how it ended."""
    with caplog.at_level(logging.INFO, logger="spendwise.jobs"):
        job_id = run(lambda context: context.finish(lambda session: None))
    messages = [r.getMessage() for r in caplog.records if r.name == "spendwise.jobs"]
    assert f"job {job_id} ({KIND}) started, attempt 1 of 3" in messages
    [end] = [m for m in messages if m.startswith(f"job {job_id} ({KIND}) succeeded after ")]
    assert end.endswith(" s")


# -- the jobs of the service ---------------------------------------------------------------


def test_report_job_counts_bootstrap_replicates(client, acme, monkeypatch):
    """A report of two models with 30 replicates each ends at 60 of 60 replicates."""
    dataset = add_paths(client, acme["owner"], GOLDEN / "markov_3path.csv")
    monkeypatch.setattr(reports, "INLINE_COST_LIMIT", 0)
    body = {"dataset": dataset, "models": ["markov", "linear"],
            "settings": {"bootstrap": 30, "seed": 1}}
    queued = client.post("/v1/reports", json=body, headers=acme["owner"])
    assert queued.status_code == 202, queued.json
    url = f"/v1/jobs/{queued.json['job_id']}"
    before = client.get(url, headers=acme["auditor"]).json
    assert (before["progress_done"], before["progress_total"], before["progress_note"],
            before["seconds_left"]) == (None, None, None, None)
    assert run_job(client)
    after = client.get(url, headers=acme["auditor"]).json
    assert (after["state"], after["progress"], after["progress_done"], after["progress_total"],
            after["progress_note"], after["seconds_left"]) == ("succeeded", 1.0, 60, 60,
                                                               "linear: bootstrap", 0.0)


def test_plan_job_counts_its_steps(client, acme, models):  # noqa: F811 (fixture)
    """A per-week plan solved by a worker reports the allocator's steps, to certified."""
    response = post_plan(client, acme["owner"], models["good"], budget=300_000,
                         horizon_weeks=2, per_week=True)
    assert response.status_code == 202, response.json
    assert run_job(client)
    job = client.get(f"/v1/jobs/{response.json['job_id']}", headers=acme["buyer"]).json
    assert (job["state"], job["progress_done"], job["progress_total"], job["progress_note"]) \
        == ("succeeded", PLAN_STEPS, PLAN_STEPS, "certified")


def test_fit_job_counts_draws_and_notes_the_save(app, client, acme, monkeypatch):
    """The fit job hands the job's callback to the fit: chains x (tune + draws) draws, then
    the model is saved (the sampler is replaced by a hand-made posterior)."""
    def fit(self: ResponseModel, data: Any, *, progress: Any = None) -> ResponseModel:
        counter = DrawCounter(progress, chains=self.chains, tune=self.tune, draws=self.draws)
        counter.start("compiling the model")
        counter.update([self.tune, self.tune // 2])
        counter.finish()
        settings = {k: v for k, v in self.settings().items() if k != "progressbar"}
        return ResponseModel.from_posterior(data, hand_posterior(data.n_channels), **settings)

    monkeypatch.setattr(ResponseModel, "fit", fit)
    datasets = media_datasets(app, workspace_of(client, acme["owner"]), ("spend", "outcomes"))
    created = client.post("/v1/models", json=datasets | {"settings": {
        "draws": 100, "tune": 150, "chains": 2}}, headers=acme["buyer"])
    assert created.status_code == 202, created.json
    assert run_job(client)
    job = client.get(f"/v1/jobs/{created.json['job_id']}", headers=acme["owner"]).json
    assert (job["state"], job["progress_done"], job["progress_total"], job["progress_note"]) \
        == ("succeeded", 2 * (150 + 100), 500, "saving the model")
