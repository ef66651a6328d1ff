"""Background jobs stored in the database, run by workers under renewable leases.

A job is ``queued`` until a worker claims it: in one transaction the worker
sets it ``running``, counts the attempt and takes a lease
(``lease_until = now + lease_seconds``) that a heartbeat thread renews while
the job runs. On PostgreSQL the claim selects with ``FOR UPDATE SKIP LOCKED``,
so workers never wait on each other's rows; on SQLite the claim's transaction
starts with ``BEGIN IMMEDIATE``, which serialises writers.

A worker that dies (even ``kill -9``) stops renewing its lease; when the lease
has run out, the next worker takes the job over as a new attempt. After
``max_attempts`` attempts the job is marked ``failed`` with the reason. A
handler writes its result and the job's end state in one transaction, and only
if it still holds the lease, so a job is never half-written nor written twice.

Each kind of job (:class:`JobKind`: its handler and what marks its target
failed) is registered in one place, :data:`api.job_kinds.KINDS`, which the
server and the worker hand to :class:`Worker`; no web view is involved.
Errors a user caused (bad data, infeasible settings) fail the job at once with
their message; other errors are retried.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.database import is_postgres
from api.errors import ServiceError
from api.settings import Settings
from api.store import ArtifactStore
from api.tables import Job, now
from attribution.errors import AttributionError
from optimizer.errors import OptimizerError

log = logging.getLogger("spendwise.jobs")


class JobState(StrEnum):
    """The state of a job, and of the report, model or plan it computes."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


QUEUED, RUNNING, SUCCEEDED, FAILED = JobState
#: Errors that no retry can fix: the job fails at once with their message.
USER_ERRORS: tuple[type[Exception], ...] = (AttributionError, OptimizerError, ServiceError)


class LeaseLost(RuntimeError):
    """The worker no longer holds the job (its lease ran out and another took it)."""


@dataclass
class JobContext:
    """What a handler gets: the job, the database, the store and a progress callback."""

    job_id: str
    kind: str
    target_id: str
    workspace_id: str
    worker: str
    sessions: sessionmaker[Session]
    store: ArtifactStore
    settings: Settings

    def progress(self, fraction: float) -> None:
        """Record progress in ``[0, 1]`` (best effort; the lease is renewed elsewhere)."""
        with self.sessions.begin() as session:
            session.execute(update(Job).where(Job.id == self.job_id, Job.worker == self.worker)
                            .values(progress=max(0.0, min(1.0, fraction))))

    def start(self, table: type[Any]) -> None:
        """Mark the job's target (a row of ``table``) ``running``, if the job is still ours.

        A worker that stalled past its lease must not set back a target that the
        worker which took the job over has already finished.
        """
        held = exists().where(Job.id == self.job_id, Job.worker == self.worker,
                              Job.state == RUNNING)
        with self.sessions.begin() as session:
            session.execute(update(table).where(table.id == self.target_id, held)
                            .values(state=RUNNING))

    def finish(self, write: Callable[[Session], None]) -> None:
        """Run ``write`` and mark the job succeeded in one transaction, if still ours."""
        with self.sessions.begin() as session:
            owned = session.execute(
                update(Job).where(Job.id == self.job_id, Job.worker == self.worker,
                                  Job.state == RUNNING)
                .values(state=SUCCEEDED, progress=1.0, finished_at=now(), lease_until=None,
                        error=None))
            if owned.rowcount != 1:  # type: ignore[attr-defined]
                raise LeaseLost(f"job {self.job_id} was taken over; result discarded")
            write(session)


Handler = Callable[[JobContext], None]
FailureCallback = Callable[[Session, str, str], None]


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its name, the handler that runs it and the callback
    ``(session, target_id, reason)`` that marks its target failed."""

    name: str
    handler: Handler
    on_failure: FailureCallback


def enqueue(session: Session, workspace_id: str, kind: str, target_id: str,
            max_attempts: int = 3) -> Job:
    """Add a queued job to ``session`` (committed by the caller with its target)."""
    job = Job(workspace_id=workspace_id, kind=kind, target_id=target_id, state=QUEUED,
              max_attempts=max_attempts)
    session.add(job)
    session.flush()
    return job


def job_dict(job: Job) -> dict[str, Any]:
    """The JSON form of a job."""
    seconds = None
    if job.started_at is not None and job.finished_at is not None:
        seconds = (job.finished_at - job.started_at).total_seconds()
    return {"id": job.id, "kind": job.kind, "target_id": job.target_id, "state": job.state,
            "progress": job.progress, "attempts": job.attempts,
            "max_attempts": job.max_attempts, "error": job.error,
            "created_at": job.created_at, "started_at": job.started_at,
            "finished_at": job.finished_at, "seconds": seconds}


class Worker:
    """Claims and runs jobs until stopped."""

    def __init__(self, sessions: sessionmaker[Session], store: ArtifactStore,
                 settings: Settings, kinds: Mapping[str, JobKind], name: str | None = None
                 ) -> None:
        self.sessions = sessions
        self.kinds = kinds
        self.store = store
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.stopping = threading.Event()

    def claim(self) -> Job | None:
        """Take the oldest runnable job, or ``None``; expired jobs out of attempts fail."""
        lease = timedelta(seconds=self.settings.lease_seconds)
        with self.sessions.begin() as session:
            statement = (select(Job).where(or_(Job.state == QUEUED, (Job.state == RUNNING)
                                               & (Job.lease_until < now())))
                         .order_by(Job.created_at).limit(1))
            if is_postgres(session.get_bind()):  # type: ignore[arg-type]
                statement = statement.with_for_update(skip_locked=True)
            while (job := session.scalars(statement).first()) is not None:
                if job.state == RUNNING and job.attempts >= job.max_attempts:
                    self._fail(session, job, f"the worker stopped during each of "
                                             f"{job.attempts} attempts (lease expired)")
                    continue
                job.state, job.worker, job.progress = RUNNING, self.name, 0.0
                job.attempts += 1
                job.started_at = job.started_at or now()
                job.lease_until = now() + lease
                return job
        return None

    def run_one(self) -> bool:
        """Claim and run one job; returns whether there was one."""
        job = self.claim()
        if job is None:
            return False
        context = JobContext(job.id, job.kind, job.target_id, job.workspace_id, self.name,
                             self.sessions, self.store, self.settings)
        beat = threading.Event()
        heart = threading.Thread(target=self._heartbeat, args=(job.id, beat), daemon=True)
        heart.start()
        try:
            kind = self.kinds.get(job.kind)
            if kind is None:
                raise ServiceError(f"no handler for jobs of kind {job.kind!r}")
            kind.handler(context)
        except LeaseLost as exc:
            log.warning("%s", exc)
        except USER_ERRORS as exc:
            self._end_failed(job.id, str(exc))
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            self._retry_or_fail(job.id, f"{type(exc).__name__}: {exc}")
        finally:
            beat.set()
            heart.join()
        return True

    def run_forever(self, stop_when: Callable[[], bool] | None = None) -> None:
        """Run jobs until :meth:`stop` (or ``stop_when()`` is true), polling when idle."""
        while not self.stopping.is_set() and not (stop_when and stop_when()):
            try:
                ran = self.run_one()
            except Exception:  # the database is down: wait and try again
                log.exception("worker %s could not claim a job", self.name)
                ran = False
            if not ran:
                self.stopping.wait(self.settings.poll_seconds)

    def stop(self) -> None:
        """Finish the current job, then return from :meth:`run_forever`."""
        self.stopping.set()

    def _heartbeat(self, job_id: str, done: threading.Event) -> None:
        period = self.settings.lease_seconds / 3
        while not done.wait(period):
            try:
                with self.sessions.begin() as session:
                    session.execute(update(Job).where(Job.id == job_id, Job.worker == self.name,
                                                      Job.state == RUNNING)
                                    .values(lease_until=now() + timedelta(
                                        seconds=self.settings.lease_seconds)))
            except Exception:  # a missed beat is harmless while the lease lasts
                log.warning("lease renewal of job %s failed", job_id)

    def _end_failed(self, job_id: str, reason: str) -> None:
        with self.sessions.begin() as session:
            job = session.get(Job, job_id)
            if job is not None and job.worker == self.name and job.state == RUNNING:
                self._fail(session, job, reason)

    def _retry_or_fail(self, job_id: str, reason: str) -> None:
        with self.sessions.begin() as session:
            job = session.get(Job, job_id)
            if job is None or job.worker != self.name or job.state != RUNNING:
                return
            if job.attempts >= job.max_attempts:
                self._fail(session, job, f"failed {job.attempts} times; last error: {reason}")
            else:
                job.state, job.worker, job.lease_until, job.error = QUEUED, None, None, reason

    def _fail(self, session: Session, job: Job, reason: str) -> None:
        job.state, job.error, job.finished_at, job.lease_until = FAILED, reason, now(), None
        kind = self.kinds.get(job.kind)
        if kind is not None:
            kind.on_failure(session, job.target_id, reason)


def wait_for(sessions: sessionmaker[Session], job_id: str, timeout: float = 600.0) -> Job:
    """Poll until ``job_id`` has ended (for tests and the CLI); raises on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            job = session.get(Job, job_id)
            if job is not None and job.state in (SUCCEEDED, FAILED):
                return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} did not end within {timeout:.0f} s")
        time.sleep(0.1)
