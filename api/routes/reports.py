"""Attribution reports: several models side by side on one ``paths`` dataset.

``POST /v1/reports`` validates the models and settings (those of
``spendwise attribute``) and either computes the report in the request (201)
or, when :func:`api.reports.estimate_cost` is over
:data:`api.reports.INLINE_COST_LIMIT`, queues a job of kind ``attribution``
(202, the report ``queued`` with its ``job_id``). ``GET /v1/reports/{id}``
shows the report and, once it has succeeded, its models (the JSON of
``--format json``); ``GET /v1/reports/{id}/csv`` is the CSV report.
"""

from __future__ import annotations

import inspect
import re
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from apiflask import APIBlueprint
from flask import Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy import select

from api import jobs, reports
from api.app import auth, db, owned, principal, services
from api.audit import record
from api.errors import Conflict, Invalid, NotFound
from api.schemas import Strict
from api.tables import Dataset, Job, Report
from attribution.bootstrap import METHODS
from attribution.markov import MAX_ORDER
from attribution.models import MODELS, model_class
from attribution.shapley import VALUE_FUNCTIONS
from spendwise import __version__

blueprint = APIBlueprint("reports", __name__, url_prefix="/v1", tag="reports")
jobs.HANDLERS[reports.JOB_KIND] = reports.run_job
jobs.ON_FAILURE[reports.JOB_KIND] = reports.mark_failed

ModelName = Literal["first_touch", "last_touch", "linear", "position_based", "time_decay",
                    "markov", "shapley"]
ShapleyValue = Literal["simplified", "ordered", "conversion_rate"]
BootstrapMethod = Literal["poisson", "multinomial"]
assert set(ModelName.__args__) == set(MODELS)  # type: ignore[attr-defined]
assert ShapleyValue.__args__ == VALUE_FUNCTIONS  # type: ignore[attr-defined]
assert BootstrapMethod.__args__ == METHODS  # type: ignore[attr-defined]
#: Most bootstrap replicates a report may ask for.
MAX_REPLICATES = 1000
MAX_SEED = 2**32 - 1
ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


def _default(model: str, setting: str) -> Any:
    """The engine's default of a model setting, so the API and the CLI agree."""
    return inspect.signature(model_class(model).__init__).parameters[setting].default


def _order(value: Any) -> Any:
    if value == "auto" or (type(value) is int and 1 <= value <= MAX_ORDER):
        return value
    raise PydanticCustomError("markov_order", "must be an integer from 1 to {high} or 'auto', "
                              "got {got}", {"high": MAX_ORDER, "got": repr(value)[:40]})


class ReportSettings(BaseModel):
    """The options of ``spendwise attribute``; each applies to the models that use it."""

    model_config = ConfigDict(extra="forbid")

    order: Annotated[Annotated[int, Field(ge=1, le=MAX_ORDER)] | Literal["auto"],
                     Field(description=f"markov: order 1 to {MAX_ORDER}, or 'auto' (chosen by "
                                       "held-out log loss)")] = _default("markov", "order")
    keep_repeats: bool = Field(default=False, description="markov: keep consecutive repeats "
                               "of a channel as separate states")
    shapley_value: ShapleyValue = Field(default=_default("shapley", "value_function"),
                                        description="shapley: value function")
    min_support: float = Field(default=_default("shapley", "min_support"), ge=0,
                               allow_inf_nan=False, description="shapley conversion_rate: "
                               "journeys a channel set needs to count")
    position_weights: tuple[Share, Share] = Field(
        default=(_default("position_based", "first"), _default("position_based", "last")),
        description="position_based: shares of the first and the last touch [FIRST, LAST]")
    half_life_days: float = Field(default=_default("time_decay", "half_life_days"), ge=0.001,
                                  le=36500, description="time_decay: half-life in days")
    half_life_touches: float = Field(default=_default("time_decay", "half_life_touches"),
                                     ge=0.001, le=1000, description="time_decay: half-life in "
                                     "touches, for paths without touch times")
    bootstrap: int = Field(default=0, ge=0, le=MAX_REPLICATES, description="bootstrap "
                           f"replicates for confidence intervals: 0 (none) or 2 to "
                           f"{MAX_REPLICATES}")
    bootstrap_method: BootstrapMethod = "poisson"
    ci_level: float = Field(default=0.95, gt=0, lt=1, description="confidence level")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="random seed of the "
                      "bootstrap, the Markov order folds and Monte Carlo Shapley")

    @field_validator("order", mode="before")
    @classmethod
    def _check_order(cls, value: Any) -> Any:
        return _order(value)

    @field_validator("position_weights")
    @classmethod
    def _check_weights(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] + value[1] > 1 + 1e-12:
            raise PydanticCustomError("position_weights", "first and last must add up to at "
                                      "most 1, got {total}", {"total": value[0] + value[1]})
        return value

    @field_validator("bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: int) -> int:
        if value == 1:
            raise PydanticCustomError("bootstrap", "must be 0 (no intervals) or from 2 to "
                                      "{high} replicates, got 1", {"high": MAX_REPLICATES})
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _name_unknown(cls, data: Any, handler: Any) -> Any:
        """Unknown settings are errors that list the known ones."""
        try:
            return handler(data)
        except ValidationError as exc:
            allowed = ", ".join(cls.model_fields)
            raise ValidationError.from_exception_data(exc.title, [
                InitErrorDetails(type=PydanticCustomError(
                    "unknown_setting", f"unknown setting; allowed settings: {allowed}")
                    if e["type"] == "extra_forbidden" else
                    PydanticCustomError(e["type"], e["msg"]), loc=e["loc"], input=e["input"])
                for e in exc.errors()]) from None


class ReportIn(Strict):
    dataset: str = Field(pattern=ID_PATTERN, description="id of a `paths` dataset")
    models: list[ModelName] = Field(default=["markov"], min_length=1,
                                    max_length=len(MODELS), description="models to run, in "
                                    "the order of the report")
    settings: ReportSettings = Field(default_factory=ReportSettings)

    @field_validator("models")
    @classmethod
    def _check_models(cls, value: list[str]) -> list[str]:
        twice = sorted({m for m in value if value.count(m) > 1})
        if twice:
            raise PydanticCustomError("duplicate_model", "each model at most once; repeated: "
                                      "{twice}", {"twice": ", ".join(twice)})
        return value


class ReportSummary(BaseModel):
    id: str
    state: Literal["queued", "running", "succeeded", "failed"]
    dataset: str | None = Field(description="null once the dataset was deleted")
    parameters: dict[str, Any]
    fingerprint: str = Field(description="SHA-256 of the dataset's fingerprint, the models "
                             "and the settings")
    version: str
    created_at: datetime
    created_by: str = Field(description="id of the key that created the report")
    job_id: str | None
    error: str | None = Field(description="why the report failed")


class ReportOut(ReportSummary):
    models: list[dict[str, Any]] | None = Field(
        description="once succeeded: one object per model, as `spendwise attribute --format "
        "json` writes it (model, params, fingerprint, spendwise_version, total_conversions, "
        "total_value, channels, details, warnings)")


class ReportList(BaseModel):
    reports: list[ReportSummary]


class ReportQuery(Strict):
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)


def report_dict(row: Report, *, models: bool = True) -> dict[str, Any]:
    """The JSON form of a report; the error is its job's when it failed."""
    error = None
    if row.state == reports.FAILED and row.job_id is not None:
        job = db().get(Job, row.job_id)
        error = job.error if job is not None else "the report's job no longer exists"
    found: dict[str, Any] = {"id": row.id, "state": row.state, "dataset": row.dataset_id,
             "parameters": row.parameters, "fingerprint": row.fingerprint,
             "version": row.version, "created_at": row.created_at,
             "created_by": row.created_by, "job_id": row.job_id, "error": error}
    if models:
        found["models"] = row.result if row.state == reports.SUCCEEDED else None
    return found


def _owned_report(report_id: str) -> Report:
    if not re.match(ID_PATTERN, report_id):
        raise NotFound(f"no report {report_id[:40]!r} in this workspace")
    return cast(Report, owned(Report, report_id))


@blueprint.post("/reports")
@blueprint.auth_required(auth)
@blueprint.input(ReportIn, arg_name="body")
@blueprint.output(ReportOut, status_code=201, description="the report, computed")
@blueprint.doc(responses=cast(Any, {
    202: {"description": "the report is large: queued as a job of kind `attribution`",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/"
                                                               "ReportOut"}}}},
    403: "the role may not create reports", 404: "no such dataset in this workspace"}))
def create_report(body: ReportIn) -> tuple[dict[str, Any], int]:
    """Attribute a paths dataset's conversions to channels with one or more models."""
    who = principal()
    who.require("report.create")
    session = db()
    dataset: Dataset = owned(Dataset, body.dataset)
    if dataset.kind != "paths":
        message = f"{dataset.id} is a {dataset.kind} dataset; a report needs a paths dataset"
        raise Invalid(f"dataset: {message}", errors=[{"loc": ["json", "dataset"],
                                                      "msg": message}])
    parameters = body.model_dump(mode="json")
    inline = reports.runs_inline(dataset.rows, parameters)
    models = (reports.attribute(reports.load_paths(services().store, dataset), parameters)
              if inline else None)
    row = Report(workspace_id=who.workspace_id, dataset_id=dataset.id, parameters=parameters,
                 state=reports.SUCCEEDED if inline else reports.QUEUED, result=models,
                 fingerprint=reports.fingerprint(dataset.fingerprint, parameters),
                 version=__version__, created_by=who.key_id)
    session.add(row)
    session.flush()
    if not inline:
        row.job_id = jobs.enqueue(session, dataset.workspace_id, reports.JOB_KIND, row.id).id
    record(session, who, "report.create", "report", row.id, fingerprint=row.fingerprint,
           parameters=parameters)
    session.commit()
    return report_dict(row), 201 if inline else 202


@blueprint.get("/reports")
@blueprint.auth_required(auth)
@blueprint.input(ReportQuery, location="query", arg_name="query")
@blueprint.output(ReportList)
@blueprint.doc(responses={403: "the role may not read reports"})
def list_reports(query: ReportQuery) -> dict[str, Any]:
    """The workspace's reports, newest first, without their models."""
    who = principal()
    who.require("report.read")
    rows = db().scalars(select(Report).where(Report.workspace_id == who.workspace_id)
                        .order_by(Report.created_at.desc(), Report.id.desc())
                        .offset(query.offset).limit(query.limit)).all()
    return {"reports": [report_dict(r, models=False) for r in rows]}


@blueprint.get("/reports/<report_id>")
@blueprint.auth_required(auth)
@blueprint.output(ReportOut)
@blueprint.doc(responses={403: "the role may not read reports",
                          404: "no such report in this workspace"})
def get_report(report_id: str) -> dict[str, Any]:
    """One report: its state, parameters, fingerprint and, once succeeded, its models."""
    principal().require("report.read")
    return report_dict(_owned_report(report_id))


@blueprint.get("/reports/<report_id>/csv")
@blueprint.auth_required(auth)
@blueprint.doc(responses=cast(Any, {
    200: {"description": "one row per model and channel, as `spendwise attribute --format "
                         "csv` writes it",
          "content": {"text/csv": {"schema": {"type": "string"}}}},
    403: "the role may not read reports", 404: "no such report in this workspace",
    409: "the report has not succeeded (yet)"}))
def report_csv(report_id: str) -> Response:
    """The report as CSV; cells a spreadsheet would run as formulas are quoted."""
    principal().require("report.read")
    row = _owned_report(report_id)
    if row.state != reports.SUCCEEDED or row.result is None:
        raise Conflict(f"report {row.id} is {row.state}; its CSV exists once it has succeeded")
    text = reports.models_csv(cast(list[dict[str, Any]], row.result))
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{row.id}.csv"'})
