"""Budget plans and ROMI forecasts.

``POST /v1/plans`` solves a budget plan on a fitted model with the parameters
of ``spendwise plan`` (same names); ``POST /v1/forecasts`` forecasts the ROMI
of a weekly allocation against the current one. Both are validated in the
request and stored as plans (``kind`` ``plan`` or ``forecast``) with the
engine's JSON form, a fingerprint and the version. Forecasts and small plans
are computed in the request (201); a plan whose convex program is large is
queued as a job of kind ``plan`` (202, ``state`` ``queued`` with its
``job_id``; :mod:`api.plans` says which). ``GET /v1/plans/{id}/csv`` gives the
channel table as CSV.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from apiflask import APIBlueprint
from flask import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from api import plans
from api.context import auth, db, owned, principal, services
from api.errors import Conflict
from api.jobs import FAILED, SUCCEEDED, JobState
from api.routes.models import CSV, Responses
from api.schemas import PageQuery, Reference
from api.tables import Job, Plan
from optimizer.requests import ForecastRequest, PlanRequest

blueprint = APIBlueprint("plans", __name__, url_prefix="/v1", tag="plans")



class PlanIn(PlanRequest):
    """A plan request on a fitted model (the fields of ``spendwise plan``)."""

    model: Reference = Field(description="id of a fitted model")


class ForecastIn(ForecastRequest):
    """A forecast request on a fitted model."""

    model: Reference = Field(description="id of a fitted model")


def request_of(body: PlanIn | ForecastIn) -> PlanRequest | ForecastRequest:
    """The engine's request of a body: the body without ``model``."""
    kind = PlanRequest if isinstance(body, PlanIn) else ForecastRequest
    return kind.within(body)


State = JobState


class PlanOut(BaseModel):
    id: str
    kind: Literal["plan", "forecast"]
    state: State = Field(description="a queued plan is solved by a job of kind `plan`")
    model_id: str | None
    parameters: dict[str, Any]
    result: dict[str, Any] | None = Field(description="once succeeded: the engine's plan, or "
                                                      "{forecast, against_current}")
    job_id: str | None = Field(description="the job solving a large plan")
    error: str | None = Field(description="why the plan failed")
    fingerprint: str
    version: str
    created_by: str
    created_at: datetime


class PlanSummary(BaseModel):
    id: str
    kind: Literal["plan", "forecast"]
    state: State
    model_id: str | None
    parameters: dict[str, Any]
    total: dict[str, Any] = Field(description="totals of the plan or forecast (empty until "
                                              "it has succeeded)")
    job_id: str | None
    fingerprint: str
    version: str
    created_by: str
    created_at: datetime


class PlanList(BaseModel):
    plans: list[PlanSummary]
    next_offset: int | None = Field(description="pass as `offset` for the next page")


class PlanQuery(PageQuery):
    """The query of the list of plans and forecasts: by kind and by model."""

    kind: Literal["plan", "forecast"] | None = None
    model: Reference | None = None


def plan_dict(row: Plan) -> dict[str, Any]:
    """The JSON form of a plan or forecast; the error is its job's when it failed."""
    error = None
    if row.state == FAILED and row.job_id is not None:
        job = db().get(Job, row.job_id)
        error = job.error if job is not None else "the plan's job no longer exists"
    return {"id": row.id, "kind": row.kind, "state": row.state, "model_id": row.model_id,
            "parameters": row.parameters, "result": row.result, "job_id": row.job_id,
            "error": error, "fingerprint": row.fingerprint, "version": row.version,
            "created_by": row.created_by, "created_at": row.created_at}


def summary_dict(row: Plan) -> dict[str, Any]:
    """A plan without its channel table: state, parameters and totals."""
    result = row.result or {}
    body = result.get("forecast", result)
    return {"id": row.id, "kind": row.kind, "state": row.state, "model_id": row.model_id,
            "parameters": row.parameters, "total": body.get("total", {}),
            "job_id": row.job_id, "fingerprint": row.fingerprint, "version": row.version,
            "created_by": row.created_by, "created_at": row.created_at}


ERRORS = {403: "the role may not do this", 404: "no such model in this workspace",
          409: "the model is not fitted, or did not converge",
          422: "invalid parameters, unknown channel or infeasible constraints"}


@blueprint.post("/plans")
@blueprint.auth_required(auth)
@blueprint.input(PlanIn, arg_name="body")
@blueprint.output(PlanOut, status_code=201, description="the plan, solved")
@blueprint.doc(responses=cast(Any, ERRORS | {
    202: {"description": "the plan's convex program is large: queued as a job of kind `plan`",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/"
                                                               "PlanOut"}}}}}))
def create_plan(body: PlanIn) -> tuple[dict[str, Any], int]:
    """Allocate a budget over channels, certified optimal on the model's posterior draws."""
    row = _create(body)
    return plan_dict(row), 201 if row.state == SUCCEEDED else 202


@blueprint.post("/forecasts")
@blueprint.auth_required(auth)
@blueprint.input(ForecastIn, arg_name="body")
@blueprint.output(PlanOut, status_code=201)
@blueprint.doc(responses=ERRORS)
def create_forecast(body: ForecastIn) -> dict[str, Any]:
    """Conversions, revenue and ROMI of a weekly allocation, and against the current one."""
    return plan_dict(_create(body))


def _create(body: PlanIn | ForecastIn) -> Plan:
    """Compute (or queue) a plan or forecast for the caller, audit it and commit."""
    return plans.submit(db(), services().store, principal(), body.model, request_of(body))


@blueprint.get("/plans")
@blueprint.auth_required(auth)
@blueprint.input(PlanQuery, location="query", arg_name="query")
@blueprint.output(PlanList)
@blueprint.doc(responses={403: "the role may not read plans"})
def list_plans(query: PlanQuery) -> dict[str, Any]:
    """The workspace's plans and forecasts, newest first."""
    who = principal()
    who.require("plan.read")
    statement = select(Plan).where(Plan.workspace_id == who.workspace_id)
    if query.kind is not None:
        statement = statement.where(Plan.kind == query.kind)
    if query.model is not None:
        statement = statement.where(Plan.model_id == query.model)
    rows = db().scalars(statement.order_by(Plan.created_at.desc(), Plan.id)
                        .offset(query.offset).limit(query.limit + 1)).all()
    return {"plans": [summary_dict(r) for r in rows[:query.limit]],
            "next_offset": query.offset + query.limit if len(rows) > query.limit else None}


@blueprint.get("/plans/<plan_id>")
@blueprint.auth_required(auth)
@blueprint.output(PlanOut)
@blueprint.doc(responses={403: "the role may not read plans",
                          404: "no such plan in this workspace"})
def get_plan(plan_id: str) -> dict[str, Any]:
    """One plan or forecast, with its channel table and totals."""
    principal().require("plan.read")
    return plan_dict(owned(Plan, plan_id))


@blueprint.get("/plans/<plan_id>/csv")
@blueprint.auth_required(auth)
@blueprint.doc(responses=Responses({200: CSV, 403: "the role may not read plans",
                                    404: "no such plan in this workspace",
                                    409: "the plan is queued, running or failed"}))
def get_plan_csv(plan_id: str) -> Response:
    """The channel table of a plan or forecast as CSV."""
    principal().require("plan.read")
    row = owned(Plan, plan_id)
    if row.state != SUCCEEDED:
        raise Conflict(f"plan {row.id} is {row.state}; its CSV exists once it has succeeded")
    return Response(plans.result_csv(row), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{row.id}.csv"'})
