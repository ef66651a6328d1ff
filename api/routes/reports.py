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

import re
from datetime import datetime
from typing import Any, cast

from apiflask import APIBlueprint
from flask import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from api import jobs, reports
from api.context import auth, db, owned, principal, services
from api.errors import Conflict, NotFound
from api.jobs import JobState
from api.schemas import PageQuery, Reference
from api.tables import Dataset, Job, Report
from attribution.requests import AttributionRequest

blueprint = APIBlueprint("reports", __name__, url_prefix="/v1", tag="reports")

ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"


class ReportIn(AttributionRequest):
    """The models and settings of ``spendwise attribute`` on a ``paths`` dataset."""

    dataset: Reference = Field(description="id of a `paths` dataset")


class ReportSummary(BaseModel):
    id: str
    state: JobState
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


class ReportQuery(PageQuery):
    """The query of the list of reports."""


def report_dict(row: Report, *, models: bool = True) -> dict[str, Any]:
    """The JSON form of a report; the error is its job's when it failed."""
    error = None
    if row.state == jobs.FAILED and row.job_id is not None:
        job = db().get(Job, row.job_id)
        error = job.error if job is not None else "the report's job no longer exists"
    found: dict[str, Any] = {"id": row.id, "state": row.state, "dataset": row.dataset_id,
             "parameters": row.parameters, "fingerprint": row.fingerprint,
             "version": row.version, "created_at": row.created_at,
             "created_by": row.created_by, "job_id": row.job_id, "error": error}
    if models:
        found["models"] = row.result if row.state == jobs.SUCCEEDED else None
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
    dataset: Dataset = owned(Dataset, body.dataset)
    row = reports.create(db(), services().store, who, dataset, AttributionRequest.within(body))
    return report_dict(row), 201 if row.state == jobs.SUCCEEDED else 202


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
    if row.state != jobs.SUCCEEDED or row.result is None:
        raise Conflict(f"report {row.id} is {row.state}; its CSV exists once it has succeeded")
    text = reports.models_csv(cast(list[dict[str, Any]], row.result))
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{row.id}.csv"'})
