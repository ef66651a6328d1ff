"""Budget plans and ROMI forecasts on a fitted response model (no HTTP here).

A plan (:class:`~optimizer.allocator.BudgetAllocator`) or a forecast
(:func:`optimizer.forecast.forecast`, :func:`~optimizer.forecast.compare`) is
stored as a row of :class:`api.tables.Plan` with the engine's JSON form, a
fingerprint (the model's fingerprint, the kind and the parameters, as canonical
JSON) and the version.

Inline or job
-------------
A request arrives as a :class:`~optimizer.requests.PlanRequest` or
:class:`~optimizer.requests.ForecastRequest`, validated when it was built; its
canonical JSON is the row's ``parameters``. What needs the model is checked in
the request: the model, its convergence, the channels named and the conflicts
the allocator catches before solving (:meth:`BudgetAllocator.prepare`).
Forecasts and plans the water-filling engine solves (steady-state
conversions, revenue, profit and min_spend) are computed in the request, in
milliseconds. A plan that needs the convex program is
computed in the request when its program holds at most
:data:`INLINE_PLAN_TERMS` curve terms (``Prepared.conic_size``:
draws x channels, x weeks in per-week mode; about a second on 2 cores), and
otherwise queued as a job of kind ``plan`` whose row is ``queued`` until a
worker solves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from api.access import Principal
from api.audit import record
from api.errors import Invalid
from api.fingerprints import fingerprint, json_ready
from api.fits import fitted, model_of
from api.jobs import FAILED, QUEUED, SUCCEEDED, JobContext, enqueue
from api.store import ArtifactStore
from api.tables import Plan, ResponseFit
from optimizer.allocator import BudgetAllocator
from optimizer.errors import InputError, ParameterError
from optimizer.forecast import forecast_of
from optimizer.posterior import ResponseDraws
from optimizer.report import render
from optimizer.requests import ForecastRequest, PlanRequest
from spendwise import __version__
from spendwise.progress import Progress

JOB_KIND = "plan"
#: Largest convex program (curve terms) solved in the request; larger plans are jobs.
INLINE_PLAN_TERMS = 10_000


@contextmanager
def blamed(request: PlanRequest | ForecastRequest) -> Iterator[None]:
    """Report an engine error about a field of ``request`` (an unknown channel in
    ``bounds``, ...) as a 422 on that field."""
    try:
        yield
    except (InputError, ParameterError) as exc:
        field = (exc.field or "").partition("[")[0]  # schedule[2] is a week of schedule
        if field not in type(request).model_fields:
            raise
        raise Invalid(str(exc), errors=[{"loc": ["json", field], "msg": str(exc)}]) from None


def solve_plan(draws: ResponseDraws, request: PlanRequest,
               progress: Progress | None = None) -> Any:
    """The :class:`optimizer.plan.Plan` of ``request`` (``progress`` hears its steps)."""
    with blamed(request):
        return BudgetAllocator.for_request(draws, request).plan(request, progress=progress)


def create(session: Session, store: ArtifactStore, workspace_id: str, created_by: str,
           model_id: str, request: PlanRequest | ForecastRequest) -> Plan:
    """Validate and compute a plan or a forecast, or queue the plan.

    The new row is ``succeeded`` with its result, or ``queued`` with ``job_id``
    naming its job. The caller audits and commits; nothing is added when the
    engine refuses the request.
    """
    model_row = model_of(session, workspace_id, model_id)
    loaded = fitted(store, model_row)
    loaded.model.require_converged(allow=request.allow_unconverged)
    kind = "plan" if isinstance(request, PlanRequest) else "forecast"
    with blamed(request):
        if isinstance(request, PlanRequest):
            allocator = BudgetAllocator.for_request(loaded.draws, request)
            prepared = allocator.prepare(request)
            inline = prepared.engine == "separable" or \
                prepared.conic_size <= INLINE_PLAN_TERMS
            result = allocator.plan(prepared).to_dict() if inline else None
        else:
            result = forecast_of(loaded.draws, request)
    parameters = request.canonical()
    row = Plan(workspace_id=workspace_id, model_id=model_row.id, kind=kind,
               parameters=parameters, state=SUCCEEDED if result is not None else QUEUED,
               result=None if result is None else json_ready(result),
               fingerprint=fingerprint({"model": model_row.fingerprint, "kind": kind,
                                        "parameters": parameters}),
               version=__version__, created_by=created_by)
    session.add(row)
    session.flush()
    if result is None:
        row.job_id = enqueue(session, workspace_id, JOB_KIND, row.id).id
    return row


def submit(session: Session, store: ArtifactStore, who: Principal, model_id: str,
           request: PlanRequest | ForecastRequest) -> Plan:
    """A plan or forecast made for ``who``, as every front door makes one.

    Checks the role (``plan.create`` or ``forecast.create``), computes or queues
    the plan (:func:`create`), records the audit event with the model and the
    canonical parameters, and commits. Nothing is written when the role or the
    engine refuses it.
    """
    kind = "plan" if isinstance(request, PlanRequest) else "forecast"
    who.require(f"{kind}.create")
    if who.workspace_id is None:
        raise Invalid("plans belong to a workspace; the admin key has none")
    row = create(session, store, who.workspace_id, who.key_id, model_id, request)
    record(session, who, f"{kind}.create", kind, row.id, fingerprint=row.fingerprint,
           parameters={"model": model_id, **row.parameters})
    session.commit()
    return row


def run_plan(context: JobContext) -> None:
    """Job handler of kind ``plan``: solve the stored request, store the plan.

    Progress is the allocator's steps: build, solve, certify
    (:data:`optimizer.allocator.PLAN_STEPS`).
    """
    with context.sessions() as session:
        row = session.get(Plan, context.target_id)
        if row is None:
            raise Invalid(f"plan {context.target_id} no longer exists")
        model_row = session.get(ResponseFit, row.model_id) if row.model_id else None
        if model_row is None:
            raise Invalid(f"the model of plan {row.id} was deleted before the plan was solved")
        loaded = fitted(context.store, model_row)
        request = PlanRequest.build(**row.parameters)
    context.start(Plan)
    result = json_ready(solve_plan(loaded.draws, request, context.progress).to_dict())

    def write(session: Session) -> None:
        session.execute(update(Plan).where(Plan.id == context.target_id)
                        .values(result=result, state=SUCCEEDED))

    context.finish(write)


def plan_failed(session: Session, target_id: str, reason: str) -> None:
    """Failure callback of ``plan`` jobs: the plan is ``failed`` (the job keeps the reason)."""
    session.execute(update(Plan).where(Plan.id == target_id).values(state=FAILED))


def history(session: Session, store: ArtifactStore, row: Plan) -> dict[str, float] | None:
    """``channel -> largest weekly spend`` in the data of a plan's model (the range its curves
    were fitted on); ``None`` when the model is gone or not fitted."""
    model_row = session.get(ResponseFit, row.model_id) if row.model_id else None
    if model_row is None or model_row.state != SUCCEEDED or model_row.artifact is None:
        return None
    draws = fitted(store, model_row).draws
    return {c: float(v) for c, v in zip(draws.channels, draws.max_weekly_spend, strict=True)}


def result_csv(row: Plan) -> str:
    """CSV of the channel table of a plan or forecast, formula-like cells neutralised."""
    return render(row.result or {}, "csv")
