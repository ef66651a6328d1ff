"""Budget plans and ROMI forecasts on a fitted response model (no HTTP here).

A plan (:class:`~optimizer.allocator.BudgetAllocator`) or a forecast
(:func:`optimizer.forecast.forecast`, :func:`~optimizer.forecast.compare`) is
stored as a row of :class:`api.tables.Plan` with the engine's JSON form, a
fingerprint (the model's fingerprint, the kind and the parameters, as canonical
JSON) and the version.

Inline or job
-------------
Every request is validated in the request: the model, its convergence, the
channels named and the conflicts the allocator catches before solving
(:meth:`BudgetAllocator.check`). Forecasts and plans the water-filling engine
solves (steady-state conversions, revenue, profit and min_spend) are computed
in the request, in milliseconds. A plan that needs the convex program is
computed in the request when its program holds at most
:data:`INLINE_PLAN_TERMS` curve terms (:meth:`BudgetAllocator.conic_size`:
draws x channels, x weeks in per-week mode; about a second on 2 cores), and
otherwise queued as a job of kind ``plan`` whose row is ``queued`` until a
worker solves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.errors import Invalid
from api.fingerprints import fingerprint, json_ready
from api.fits import blamed, fitted, model_of
from api.jobs import JobContext, enqueue
from api.store import ArtifactStore
from api.tables import Plan, ResponseFit
from optimizer.allocator import BudgetAllocator
from optimizer.forecast import compare, forecast
from optimizer.posterior import ResponseDraws
from optimizer.report import render
from spendwise import __version__

JOB_KIND = "plan"
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
#: Largest convex program (curve terms) solved in the request; larger plans are jobs.
INLINE_PLAN_TERMS = 10_000


def spend_of(spend: Mapping[str, float], draws: ResponseDraws, field: str) -> np.ndarray:
    """``(channels,)`` weekly spend of a ``channel -> spend`` mapping (missing channels: 0)."""
    with blamed(field):
        return draws.spend_by_channel(spend, field)


def known(names: list[str], draws: ResponseDraws, field: str) -> list[str]:
    """``names``, each a channel of the model (422 on ``field`` otherwise)."""
    with blamed(field):
        return draws.known_channels(names, field)


def allocator_of(draws: ResponseDraws, p: Mapping[str, Any]
                 ) -> tuple[BudgetAllocator, dict[str, Any]]:
    """The allocator and the keyword arguments of its ``solve`` for the parameters ``p``
    (the names of ``spendwise plan``); unknown channels are 422 on their field."""
    if p.get("current") is not None:
        draws = replace(draws, current=spend_of(p["current"], draws, "current"))
    bounds = p.get("bounds")
    if bounds is not None:
        known(list(bounds), draws, "bounds")
        bounds = {c: (b.get("min"), b.get("max")) for c, b in bounds.items()}
    max_change = p.get("max_change")
    if isinstance(max_change, Mapping):
        known(list(max_change), draws, "max_change")
    allocator = BudgetAllocator(
        draws, mode="per_week" if p.get("per_week") else "steady",
        objective=p.get("objective", "conversions"), horizon_weeks=p.get("horizon_weeks", 4),
        alpha=p.get("alpha", 0.1), max_spend_multiple=p.get("max_spend_multiple", 1.5))
    constraints = {"budget": p.get("budget"), "bounds": bounds, "max_change": max_change,
                   "locked": known(list(p.get("locked") or []), draws, "locked"),
                   "romi_floor": p.get("romi_floor"), "target": p.get("target"),
                   "budget_mode": p.get("budget_mode")}
    return allocator, constraints


def solve_plan(draws: ResponseDraws, p: Mapping[str, Any]) -> Any:
    """The :class:`optimizer.plan.Plan` of the parameters ``p``."""
    allocator, constraints = allocator_of(draws, p)
    return allocator.solve(**constraints)


def runs_inline(allocator: BudgetAllocator, constraints: Mapping[str, Any]) -> bool:
    """Validate a plan request without solving; whether it is solved in the request."""
    engine = allocator.check(**constraints)
    return engine == "separable" or allocator.conic_size() <= INLINE_PLAN_TERMS


def forecast_of(draws: ResponseDraws, p: Mapping[str, Any]) -> dict[str, Any]:
    """Forecast of ``p["allocation"]`` (weekly spend) and, if asked, its comparison with current."""
    allocation = spend_of(p["allocation"], draws, "allocation")
    weeks = p.get("horizon_weeks", 4)
    against = None
    if p.get("compare_with_current", True):
        against = compare(draws, "current", allocation, horizon_weeks=weeks).to_dict()
    return {"forecast": forecast(draws, allocation, horizon_weeks=weeks).to_dict(),
            "against_current": against}


def create(session: Session, store: ArtifactStore, workspace_id: str, created_by: str,
           kind: str, model_id: str, parameters: dict[str, Any]) -> Plan:
    """Validate and compute a plan (``kind="plan"``) or a forecast, or queue the plan.

    The new row is ``succeeded`` with its result, or ``queued`` with ``job_id``
    naming its job. The caller audits and commits; nothing is added when the
    engine refuses the request.
    """
    model_row = model_of(session, workspace_id, model_id)
    loaded = fitted(store, model_row)
    loaded.model.require_converged(allow=bool(parameters.get("allow_unconverged")))
    if kind == "plan":
        allocator, constraints = allocator_of(loaded.draws, parameters)
        inline = runs_inline(allocator, constraints)
        result = allocator.solve(**constraints).to_dict() if inline else None
    else:
        result = forecast_of(loaded.draws, parameters)
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


def run_plan(context: JobContext) -> None:
    """Job handler of kind ``plan``: solve the stored parameters, store the plan."""
    with context.sessions() as session:
        row = session.get(Plan, context.target_id)
        if row is None:
            raise Invalid(f"plan {context.target_id} no longer exists")
        model_row = session.get(ResponseFit, row.model_id) if row.model_id else None
        if model_row is None:
            raise Invalid(f"the model of plan {row.id} was deleted before the plan was solved")
        loaded = fitted(context.store, model_row)
        parameters = dict(row.parameters)
    context.start(Plan)
    context.progress(0.1)
    result = json_ready(solve_plan(loaded.draws, parameters).to_dict())

    def write(session: Session) -> None:
        session.execute(update(Plan).where(Plan.id == context.target_id)
                        .values(result=result, state=SUCCEEDED))

    context.finish(write)


def plan_failed(session: Session, target_id: str, reason: str) -> None:
    """Failure callback of ``plan`` jobs: the plan is ``failed`` (the job keeps the reason)."""
    session.execute(update(Plan).where(Plan.id == target_id).values(state=FAILED))


def result_csv(row: Plan) -> str:
    """CSV of the channel table of a plan or forecast, formula-like cells neutralised."""
    return render(row.result or {}, "csv")
