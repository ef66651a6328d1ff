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

Progress
--------
A handler hands :meth:`JobContext.progress` to its engine as the engine's
progress callback (:mod:`spendwise.progress`): the job records ``done`` of
``total`` units, a short note and the fraction ``progress``. The callback only
keeps the newest values; a timer thread writes them at most once per
:data:`PROGRESS_SECONDS`, so the work never waits for the database, and
:meth:`JobContext.finish` writes the last ones with the result.
:func:`job_dict` estimates the seconds left from ``started_at`` and the
fraction. The worker logs each job's start and end (kind, id, seconds, outcome)
on the ``spendwise.jobs`` logger.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from spendwise.progress import fraction, seconds_left

log = logging.getLogger("spendwise.jobs")
#: Least time between two progress writes of one job.
PROGRESS_SECONDS = 1.0
#: Longest progress note kept (the column's width).
NOTE_LENGTH = 200


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


class ProgressWriter:
    """Writes the newest progress of a job at most once per ``interval`` seconds.

    :meth:`record` only stores the values and, unless one is pending, starts a
    timer for the next write; the timer thread writes whatever is newest when
    it fires. Writes are serialised, so an older value never lands after a newer one.
    """

    def __init__(self, write: Callable[[dict[str, Any]], None],
                 interval: float = PROGRESS_SECONDS) -> None:
        self.write = write
        self.interval = interval
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._pending: dict[str, Any] | None = None
        self._timer: threading.Timer | None = None
        self._last = -float("inf")
        self._closed = False

    def record(self, values: dict[str, Any]) -> None:
        """Keep ``values`` as the newest progress (over older values not yet written);
        written within ``interval`` seconds."""
        with self._lock:
            if self._closed:
                return
            self._pending = {**(self._pending or {}), **values}
            if self._timer is None:
                delay = max(0.0, self._last + self.interval - time.monotonic())
                self._timer = threading.Timer(delay, self._flush)
                self._timer.daemon = True
                self._timer.start()

    def _flush(self) -> None:
        with self._writing:
            with self._lock:
                values, self._pending, self._timer = self._pending, None, None
                self._last = time.monotonic()
            if values is None:
                return
            try:
                self.write(values)
            except Exception:  # progress is best effort; the job goes on
                log.warning("progress of a job could not be written", exc_info=True)

    def close(self) -> dict[str, Any] | None:
        """Stop writing; the newest values not yet written, if any.

        Waits for a write under way, so nothing is written after this returns.
        """
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
            values, self._pending = self._pending, None
        if timer is not None:
            timer.cancel()
        with self._writing:
            pass
        return values


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
    writer: ProgressWriter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.writer = ProgressWriter(self._write_progress)

    def progress(self, done: float, total: float | None = None, note: str | None = None
                 ) -> None:
        """Record that ``done`` of ``total`` units are finished, and what runs now.

        A :class:`spendwise.progress.Progress` callback for the job's engine:
        ``progress(1_200, 6_000, "sampling")`` records the counts, the note and
        the fraction 0.2. ``progress(0.5)`` records a fraction alone. Nothing
        waits for the database: the newest values are written at most once per
        :data:`PROGRESS_SECONDS` (best effort; the lease is renewed elsewhere).
        """
        values: dict[str, Any]
        if total is None:
            values = {"progress": fraction(done, 1.0)}
        else:
            values = {"progress": fraction(done, total), "progress_done": int(done),
                      "progress_total": int(total)}
        if note is not None:
            values["progress_note"] = note[:NOTE_LENGTH]
        self.writer.record(values)

    def note(self, text: str) -> None:
        """Record what the job runs now, keeping its counts (``"saving the model"``)."""
        self.writer.record({"progress_note": text[:NOTE_LENGTH]})

    def _write_progress(self, values: dict[str, Any]) -> None:
        with self.sessions.begin() as session:
            session.execute(update(Job).where(Job.id == self.job_id, Job.worker == self.worker,
                                              Job.state == RUNNING).values(**values))

    def close(self) -> None:
        """Write no more progress (the worker calls this when the handler returns)."""
        self.writer.close()

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
        """Run ``write`` and mark the job succeeded in one transaction, if still ours.

        The last progress note recorded is kept, and all the units are done.
        """
        last = self.writer.close() or {}
        note = {"progress_note": last["progress_note"]} if "progress_note" in last else {}
        total = last.get("progress_total", Job.progress_total)
        with self.sessions.begin() as session:
            owned = session.execute(
                update(Job).where(Job.id == self.job_id, Job.worker == self.worker,
                                  Job.state == RUNNING)
                .values(state=SUCCEEDED, progress=1.0, progress_done=total,
                        progress_total=total, **note, finished_at=now(), lease_until=None,
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


def job_seconds_left(job: Job, at: datetime | None = None) -> float | None:
    """Seconds a running job still needs at its pace since ``started_at``
    (:func:`spendwise.progress.seconds_left`): 0 once succeeded, ``None`` when unknown."""
    if job.state == SUCCEEDED:
        return 0.0
    if job.state != RUNNING or job.started_at is None:
        return None
    elapsed = ((at or now()) - job.started_at).total_seconds()
    return seconds_left(elapsed, job.progress)


def job_dict(job: Job, at: datetime | None = None) -> dict[str, Any]:
    """The JSON form of a job (``seconds_left`` estimated at ``at``, default now)."""
    seconds = None
    if job.started_at is not None and job.finished_at is not None:
        seconds = (job.finished_at - job.started_at).total_seconds()
    return {"id": job.id, "kind": job.kind, "target_id": job.target_id, "state": job.state,
            "progress": job.progress, "progress_done": job.progress_done,
            "progress_total": job.progress_total, "progress_note": job.progress_note,
            "seconds_left": job_seconds_left(job, at), "attempts": job.attempts,
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
                job.progress_done = job.progress_total = job.progress_note = None
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
        log.info("job %s (%s) started, attempt %d of %d", job.id, job.kind, job.attempts,
                 job.max_attempts)
        start, outcome = time.monotonic(), "succeeded"
        try:
            kind = self.kinds.get(job.kind)
            if kind is None:
                raise ServiceError(f"no handler for jobs of kind {job.kind!r}")
            kind.handler(context)
        except LeaseLost as exc:
            outcome = "lost its lease"
            log.warning("%s", exc)
        except USER_ERRORS as exc:
            outcome = "failed (user error)"
            self._end_failed(job.id, str(exc))
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            outcome = self._retry_or_fail(job.id, f"{type(exc).__name__}: {exc}")
        finally:
            context.close()
            beat.set()
            heart.join()
            log.info("job %s (%s) %s after %.1f s", job.id, job.kind, outcome,
                     time.monotonic() - start)
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

    def _retry_or_fail(self, job_id: str, reason: str) -> str:
        """Queue the job again, or fail it when out of attempts; what happened, for the log."""
        with self.sessions.begin() as session:
            job = session.get(Job, job_id)
            if job is None or job.worker != self.name or job.state != RUNNING:
                return "failed (no longer ours)"
            if job.attempts >= job.max_attempts:
                self._fail(session, job, f"failed {job.attempts} times; last error: {reason}")
                return "failed (out of attempts)"
            job.state, job.worker, job.lease_until, job.error = QUEUED, None, None, reason
            return "failed (queued again)"

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
