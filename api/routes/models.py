"""Response models: fits, diagnostics, curves.

``POST /v1/models`` validates the datasets and settings at once and queues a
background fit (job kind ``fit``); ``GET /v1/models/{id}`` shows its state,
diagnostics and fingerprint; ``GET /v1/models/{id}/curves`` gives the response
curves of ``spendwise curves`` as JSON or CSV once the model is fitted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from apiflask import APIBlueprint
from flask import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api import fits
from api.context import auth, db, owned, principal, services
from api.jobs import FAILED, JobState
from api.schemas import PageQuery, Reference, Strict
from api.tables import Job, ResponseFit
from optimizer.requests import FitRequest
from spendwise.export import to_csv

blueprint = APIBlueprint("models", __name__, url_prefix="/v1", tag="models")


#: The CSV form of a 200 response, for ``@blueprint.doc(responses=...)``.
CSV = {"description": "CSV, formula-like cells neutralised",
       "content": {"text/csv": {"schema": {"type": "string"}}}}
Responses = dict[int | str, Any]


class Body(Strict):
    """Request bodies: unknown fields, NaN and infinities are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ModelIn(Body):
    spend: Reference = Field(description="id of a spend dataset")
    outcomes: Reference = Field(description="id of an outcomes dataset")
    controls: Reference | None = Field(default=None, description="id of a controls dataset")
    lift_tests: Reference | None = Field(default=None,
                                          description="id of a lift_tests dataset")
    settings: FitRequest = Field(default_factory=FitRequest, description="settings of the "
                                 "response model; the defaults are the engine's")


class DatasetRefs(BaseModel):
    spend: str
    outcomes: str
    controls: str | None
    lift_tests: str | None


class ModelOut(BaseModel):
    id: str
    state: JobState
    datasets: DatasetRefs
    parameters: dict[str, Any]
    diagnostics: dict[str, Any] | None
    converged: bool | None = Field(description="whether the sampler converged, once fitted")
    warnings: list[str]
    fingerprint: str
    version: str
    job_id: str | None
    progress: float | None = Field(description="progress of the fit job")
    error: str | None = Field(description="why the fit failed")
    created_by: str
    created_at: datetime


class ModelList(BaseModel):
    models: list[ModelOut]
    next_offset: int | None = Field(description="pass as `offset` for the next page")


class CurvesQuery(Strict):
    format: Literal["json", "csv"] = "json"


class CurveStats(BaseModel):
    mean: list[float]
    p5: list[float]
    p50: list[float]
    p95: list[float]


class ChannelCurve(BaseModel):
    channel: str
    current: float
    spend: list[float]
    kpi: CurveStats
    romi: CurveStats


class CurvesOut(BaseModel):
    kpi: str
    unit: str
    channels: list[ChannelCurve]


def model_dict(row: ResponseFit, job: Job | None, notes: list[str] | None = None
               ) -> dict[str, Any]:
    """The JSON form of a model; ``notes`` are warnings of a model not yet fitted."""
    diagnostics = row.diagnostics
    return {
        "id": row.id, "state": row.state,
        "datasets": {f: row.datasets.get(f) for f in fits.DATASET_FIELDS},
        "parameters": row.parameters, "diagnostics": diagnostics,
        "converged": None if diagnostics is None else diagnostics.get("converged"),
        "warnings": list(diagnostics.get("warnings", [])) if diagnostics else (notes or []),
        "fingerprint": row.fingerprint, "version": row.version, "job_id": row.job_id,
        "progress": None if job is None else job.progress,
        "error": job.error if job is not None and row.state == FAILED else None,
        "created_by": row.created_by, "created_at": row.created_at,
    }


def _job(row: ResponseFit) -> Job | None:
    return None if row.job_id is None else db().get(Job, row.job_id)


@blueprint.post("/models")
@blueprint.auth_required(auth)
@blueprint.input(ModelIn, arg_name="body")
@blueprint.output(ModelOut, status_code=202)
@blueprint.doc(responses={403: "the role may not create models",
                          404: "no such dataset in this workspace",
                          422: "invalid settings, datasets or data"})
def create_model(body: ModelIn) -> dict[str, Any]:
    """Validate the datasets and settings, then queue a fit (a job of kind ``fit``)."""
    who = principal()
    who.require("model.create")
    refs = body.model_dump(include=set(fits.DATASET_FIELDS))
    row, notes = fits.start_fit(db(), services().store, who, refs, body.settings)
    return model_dict(row, _job(row), notes)


@blueprint.get("/models")
@blueprint.auth_required(auth)
@blueprint.input(PageQuery, location="query", arg_name="page")
@blueprint.output(ModelList)
@blueprint.doc(responses={403: "the role may not read models"})
def list_models(page: PageQuery) -> dict[str, Any]:
    """The workspace's models, newest first."""
    who = principal()
    who.require("model.read")
    session = db()
    rows = session.scalars(
        select(ResponseFit).where(ResponseFit.workspace_id == who.workspace_id)
        .order_by(ResponseFit.created_at.desc(), ResponseFit.id)
        .offset(page.offset).limit(page.limit + 1)).all()
    shown = rows[:page.limit]
    ids = [r.job_id for r in shown if r.job_id is not None]
    found = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(ids)))} if ids else {}
    return {"models": [model_dict(r, found.get(r.job_id or "")) for r in shown],
            "next_offset": page.offset + page.limit if len(rows) > page.limit else None}


@blueprint.get("/models/<model_id>")
@blueprint.auth_required(auth)
@blueprint.output(ModelOut)
@blueprint.doc(responses={403: "the role may not read models",
                          404: "no such model in this workspace"})
def get_model(model_id: str) -> dict[str, Any]:
    """One model: state, datasets, settings, diagnostics and fingerprint."""
    principal().require("model.read")
    row = owned(ResponseFit, model_id)
    return model_dict(row, _job(row))


@blueprint.get("/models/<model_id>/curves")
@blueprint.auth_required(auth)
@blueprint.input(CurvesQuery, location="query", arg_name="query")
@blueprint.output(CurvesOut)
@blueprint.doc(responses=Responses({200: CSV, 403: "the role may not read models",
                                    404: "no such model in this workspace",
                                    409: "the model is not fitted"}))
def get_curves(model_id: str, query: CurvesQuery) -> Any:
    """Weekly KPI and marginal ROMI per channel on a spend grid, with 5/50/95% bands."""
    principal().require("model.read")
    curves = fits.curves_of(services().store, owned(ResponseFit, model_id))
    if query.format == "csv":
        return Response(to_csv(curves.to_frame()), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{model_id}-curves.csv"'})
    return curves.to_dict()
