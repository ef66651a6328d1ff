"""Response models: fits, diagnostics, curves.

``POST /v1/models`` validates the datasets and settings at once and queues a
background fit (job kind ``fit``); ``GET /v1/models/{id}`` shows its state,
diagnostics and fingerprint; ``GET /v1/models/{id}/curves`` gives the response
curves of ``spendwise curves`` as JSON or CSV once the model is fitted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from apiflask import APIBlueprint
from flask import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api import fits, jobs
from api.app import auth, db, owned, principal, services
from api.audit import record
from api.schemas import Strict
from api.tables import Job, ResponseFit
from optimizer.curves import CURVES
from optimizer.response_model import ResponseModel
from spendwise.export import to_csv

blueprint = APIBlueprint("models", __name__, url_prefix="/v1", tag="models")

jobs.HANDLERS["fit"] = fits.run_fit
jobs.ON_FAILURE["fit"] = fits.fit_failed

Curve = Literal["exponential", "michaelis_menten", "log"]
assert set(get_args(Curve)) == set(CURVES)
ResourceId = Annotated[str, Field(min_length=1, max_length=64)]
Channel = Annotated[str, Field(min_length=1, max_length=200)]
Value = Annotated[float, Field(gt=0, le=1e9)]
DEFAULTS = ResponseModel().settings()
#: The CSV form of a 200 response, for ``@blueprint.doc(responses=...)``.
CSV = {"description": "CSV, formula-like cells neutralised",
       "content": {"text/csv": {"schema": {"type": "string"}}}}
Responses = dict[int | str, Any]


class Body(Strict):
    """Request bodies: unknown fields, NaN and infinities are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FitSettings(Body):
    """Settings of the response model; the defaults are the engine's."""

    kpi: Literal["conversions", "revenue"] = DEFAULTS["kpi"]
    curve: Curve = DEFAULTS["curve"]
    max_lag: int = Field(default=DEFAULTS["max_lag"], ge=1, le=52,
                         description="adstock length in weeks")
    fourier_order: int = Field(default=DEFAULTS["fourier_order"], ge=0, le=10,
                               description="yearly seasonality terms")
    draws: int = Field(default=DEFAULTS["draws"], ge=1, le=20_000, description="draws per chain")
    tune: int = Field(default=DEFAULTS["tune"], ge=0, le=20_000)
    chains: int = Field(default=DEFAULTS["chains"], ge=1, le=8)
    seed: int = Field(default=DEFAULTS["seed"], ge=0, le=2**32 - 1)
    holdout_weeks: int = Field(default=DEFAULTS["holdout_weeks"], ge=0, le=104,
                               description="last weeks kept out of the fit to score forecasts")
    value_per_conversion: Value | dict[Channel, Value] | None = Field(
        default=None, description="revenue per conversion, for all channels or per channel")


class ModelIn(Body):
    spend: ResourceId = Field(description="id of a spend dataset")
    outcomes: ResourceId = Field(description="id of an outcomes dataset")
    controls: ResourceId | None = Field(default=None, description="id of a controls dataset")
    lift_tests: ResourceId | None = Field(default=None,
                                          description="id of a lift_tests dataset")
    settings: FitSettings = Field(default_factory=FitSettings)


class DatasetRefs(BaseModel):
    spend: str
    outcomes: str
    controls: str | None
    lift_tests: str | None


class ModelOut(BaseModel):
    id: str
    state: Literal["queued", "running", "succeeded", "failed"]
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


class Page(Strict):
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)


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
        "error": job.error if job is not None and row.state == fits.FAILED else None,
        "created_by": row.created_by, "created_at": row.created_at,
    }


def _job(row: ResponseFit) -> Job | None:
    return None if row.job_id is None else db().get(Job, row.job_id)


@blueprint.post("/models")
@blueprint.auth_required(auth)
@blueprint.input(ModelIn, arg_name="body")
@blueprint.output(ModelOut, status_code=202)
@blueprint.doc(responses={403: "the role may not create models",
                          422: "invalid settings, datasets or data"})
def create_model(body: ModelIn) -> dict[str, Any]:
    """Validate the datasets and settings, then queue a fit (a job of kind ``fit``)."""
    who = principal()
    who.require("model.create")
    session = db()
    assert who.workspace_id is not None
    refs = body.model_dump(include=set(fits.DATASET_FIELDS))
    inputs = fits.prepare_fit(session, services().store, who.workspace_id, refs,
                              body.settings.model_dump(mode="json"))
    row = fits.add_fit(session, who.workspace_id, who.key_id, refs, inputs)
    record(session, who, "model.create", "model", row.id, fingerprint=row.fingerprint,
           parameters={"datasets": row.datasets, "settings": row.parameters})
    session.commit()
    return model_dict(row, _job(row), inputs.notes)


@blueprint.get("/models")
@blueprint.auth_required(auth)
@blueprint.input(Page, location="query", arg_name="page")
@blueprint.output(ModelList)
@blueprint.doc(responses={403: "the role may not read models"})
def list_models(page: Page) -> dict[str, Any]:
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
