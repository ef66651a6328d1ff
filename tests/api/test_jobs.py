"""The job queue: claims, leases, retries, take-over and failure, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from api.jobs import (
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    JobContext,
    JobKind,
    LeaseLost,
    Worker,
    enqueue,
)
from api.tables import AuditEvent, Job, Plan, now
from attribution.errors import InputError

KIND = "test-echo"
#: The kinds the workers of these tests run: only the test's own.
KINDS: dict[str, JobKind] = {}


@pytest.fixture
def handler() -> Iterator[dict[str, Any]]:
    """A handler of kind ``test-echo`` whose behaviour each test sets; records its calls."""
    state: dict[str, Any] = {"calls": [], "raise": None, "failed": []}

    def run(context: JobContext) -> None:
        state["calls"].append(context.job_id)
        context.progress(0.5)
        if state["raise"] is not None:
            raise state["raise"]
        context.finish(lambda session: session.add(AuditEvent(
            workspace_id=context.workspace_id, key_id="worker", role="worker",
            action="echo", resource_type="job", resource_id=context.job_id)))

    KINDS[KIND] = JobKind(KIND, run, lambda session, target, reason: state["failed"].append(
        (target, reason)))
    yield state
    KINDS.pop(KIND)


def queue(services: Any, workspace_id: str, n: int = 1, max_attempts: int = 3) -> list[str]:
    """Enqueue ``n`` jobs; their ids."""
    with services.sessions.begin() as session:
        return [enqueue(session, workspace_id, KIND, f"t{i}", max_attempts).id
                for i in range(n)]


def job(services: Any, job_id: str) -> Job:
    with services.sessions() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def worker(services: Any, name: str = "w1") -> Worker:
    return Worker(services.sessions, services.store, services.settings, KINDS, name=name)


def test_job_runs_once_and_records_its_timings(services, workspace_id, handler):
    """A queued job is claimed, run, written and marked succeeded with its timings."""
    [job_id] = queue(services, workspace_id)
    assert worker(services).run_one() is True
    done = job(services, job_id)
    assert (done.state, done.attempts, done.progress, done.error) == (SUCCEEDED, 1, 1.0, None)
    assert done.started_at <= done.finished_at and done.lease_until is None
    assert handler["calls"] == [job_id]
    assert worker(services).run_one() is False


def test_user_error_fails_at_once_with_its_message(services, workspace_id, handler):
    """An error the user caused fails the job on its first attempt and tells its target."""
    [job_id] = queue(services, workspace_id)
    handler["raise"] = InputError("paths: row 3: conversions must be >= 0")
    worker(services).run_one()
    done = job(services, job_id)
    assert (done.state, done.attempts) == (FAILED, 1)
    assert done.error == "paths: row 3: conversions must be >= 0"
    assert handler["failed"] == [("t0", done.error)]


def test_other_errors_are_retried_then_fail_with_the_reason(services, workspace_id, handler):
    """An unexpected error is retried up to max_attempts, then the job fails naming it."""
    [job_id] = queue(services, workspace_id, max_attempts=2)
    handler["raise"] = RuntimeError("disk on fire")
    runner = worker(services)
    runner.run_one()
    assert (job(services, job_id).state, job(services, job_id).attempts) == (QUEUED, 1)
    runner.run_one()
    done = job(services, job_id)
    assert (done.state, done.attempts) == (FAILED, 2)
    assert done.error == "failed 2 times; last error: RuntimeError: disk on fire"
    assert len(handler["calls"]) == 2


def test_job_that_succeeds_on_a_retry_keeps_no_error(services, workspace_id, handler):
    """The error of a failed attempt is cleared when a later attempt succeeds."""
    [job_id] = queue(services, workspace_id)
    handler["raise"] = RuntimeError("database restarting")
    runner = worker(services)
    runner.run_one()
    assert job(services, job_id).error == "RuntimeError: database restarting"
    handler["raise"] = None
    runner.run_one()
    done = job(services, job_id)
    assert (done.state, done.attempts, done.error) == (SUCCEEDED, 2, None)


def test_a_worker_that_lost_its_job_cannot_mark_the_target_running(services, workspace_id):
    """``start`` by a stalled worker leaves a target finished by the new holder as it is."""
    with services.sessions.begin() as session:
        plan = Plan(workspace_id=workspace_id, kind="plan", parameters={}, state="queued",
                    fingerprint="0" * 64, version="test", created_by="test")
        session.add(plan)
        session.flush()
        plan_id = plan.id
        job_id = enqueue(session, workspace_id, KIND, plan_id).id
    stalled = worker(services, "stalled").claim()
    assert stalled is not None

    def context(name: str) -> JobContext:
        return JobContext(job_id, KIND, plan_id, workspace_id, name, services.sessions,
                          services.store, services.settings)

    context("stalled").start(Plan)
    with services.sessions.begin() as session:
        assert session.get(Plan, plan_id).state == RUNNING
        session.get(Plan, plan_id).state = SUCCEEDED  # taken over and finished by another
        session.get(Job, job_id).worker = "other"
    context("stalled").start(Plan)
    with services.sessions() as session:
        assert session.get(Plan, plan_id).state == SUCCEEDED


def test_expired_lease_is_taken_over_and_the_old_worker_writes_nothing(
        services, workspace_id, handler):
    """A worker that stops renewing its lease loses the job to the next; its late result is
    discarded."""
    [job_id] = queue(services, workspace_id)
    dead = worker(services, "dead")
    claimed = dead.claim()
    assert claimed is not None and claimed.id == job_id
    with services.sessions.begin() as session:  # the lease runs out
        session.get(Job, job_id).lease_until = now() - timedelta(seconds=1)
    assert worker(services, "alive").run_one()
    done = job(services, job_id)
    assert (done.state, done.attempts, done.worker) == (SUCCEEDED, 2, "alive")
    late = JobContext(job_id, KIND, "t0", workspace_id, "dead", services.sessions,
                      services.store, services.settings)
    with pytest.raises(LeaseLost):
        late.finish(lambda session: session.add(AuditEvent(
            workspace_id=workspace_id, key_id="dead", role="worker", action="late",
            resource_type="job")))
    with services.sessions() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["echo"]


def test_job_whose_workers_keep_dying_fails_with_the_reason(services, workspace_id, handler):
    """After max_attempts expired leases the job is failed, not retried forever."""
    [job_id] = queue(services, workspace_id, max_attempts=2)
    for name in ("a", "b"):
        assert worker(services, name).claim() is not None
        with services.sessions.begin() as session:
            session.get(Job, job_id).lease_until = now() - timedelta(seconds=1)
    assert worker(services, "c").claim() is None
    done = job(services, job_id)
    assert done.state == FAILED and "stopped during each of 2 attempts" in done.error
    assert handler["failed"] == [("t0", done.error)]
    assert handler["calls"] == []


def test_running_job_with_a_live_lease_is_not_taken(services, workspace_id, handler):
    """A job whose lease still runs belongs to its worker."""
    queue(services, workspace_id)
    assert worker(services, "a").claim() is not None
    assert worker(services, "b").claim() is None


def test_concurrent_workers_never_claim_a_job_twice(services, workspace_id, handler):
    """Four workers draining 40 jobs in parallel run each job exactly once."""
    ids = queue(services, workspace_id, n=40)
    runners = [worker(services, f"w{i}") for i in range(4)]
    threads = [threading.Thread(target=lambda r=r: [None for _ in iter(r.run_one, False)])
               for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(handler["calls"]) == sorted(ids)
    with services.sessions() as session:
        states = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
        assert states == {SUCCEEDED: 40}
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "echo")) == 40


def test_heartbeat_renews_the_lease_of_a_long_job(services, workspace_id, handler):
    """While a job runs longer than its lease, the heartbeat keeps it from being taken."""
    [job_id] = queue(services, workspace_id)
    release = threading.Event()
    seen: list[Any] = []

    def slow(context: JobContext) -> None:
        release.wait(10)
        context.finish(lambda session: None)

    KINDS[KIND] = JobKind(KIND, slow, KINDS[KIND].on_failure)
    runner = threading.Thread(target=worker(services, "slow").run_one)
    runner.start()
    try:
        deadline = services.settings.lease_seconds * 1.5
        threading.Event().wait(deadline)  # longer than one lease
        seen.append(worker(services, "other").claim())
        assert job(services, job_id).state == RUNNING
    finally:
        release.set()
        runner.join()
    assert seen == [None] and job(services, job_id).state == SUCCEEDED
