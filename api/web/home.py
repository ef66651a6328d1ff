"""The workspace home: everything the workspace holds, its state and what to do next.

``GET /`` lists the datasets, attribution reports, response models, plans,
forecasts and jobs that the role may read, newest first, each with its
state, who made it and when. Work still running shows its progress, live
with JavaScript (``GET /jobs/<id>/progress``, the JSON of ``/v1/jobs/{id}``
for the session) and by reloading every few seconds without it. The page
ends with the next steps the data and the role allow.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from api.context import db
from api.errors import NotFound
from api.jobs import RUNNING, SUCCEEDED, job_dict
from api.tables import ApiKey, Dataset, Job, Plan, Report, ResponseFit
from api.web import i18n, pages
from api.web.plan_words import horizon_noun

blueprint = Blueprint("web_home", __name__)
#: Rows of each list on the home page.
LIMIT = 50
#: What reading the target of a job of each kind needs.
JOB_READ = {"attribution": "report.read", "fit": "model.read", "plan": "plan.read"}


def _newest(model: type[Any], workspace_id: str, **where: Any) -> list[Any]:
    query = select(model).where(model.workspace_id == workspace_id)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return list(db().scalars(query.order_by(model.created_at.desc()).limit(LIMIT)))


def creators(workspace_id: str) -> dict[str, str]:
    """``key id -> "label (role)"`` of the workspace's keys, to say who made each row."""
    rows = db().scalars(select(ApiKey).where(ApiKey.workspace_id == workspace_id))
    return {k.id: f"{k.label or k.id} ({i18n.gettext(k.role)})" for k in rows}


def jobs_by_id(workspace_id: str, ids: set[str]) -> dict[str, Job]:
    """The jobs of ``ids`` in the workspace."""
    if not ids:
        return {}
    rows = db().scalars(select(Job).where(Job.workspace_id == workspace_id, Job.id.in_(ids)))
    return {j.id: j for j in rows}


def kind_words() -> dict[str, str]:
    """What each kind of dataset is, in the reader's language."""
    return {"paths": i18n.gettext("journey paths"), "touches": i18n.gettext("touch log"),
            "conversions": i18n.gettext("conversion log"), "spend": i18n.gettext("spend"),
            "outcomes": i18n.gettext("outcomes"), "controls": i18n.gettext("controls"),
            "lift_tests": i18n.gettext("lift tests")}


def describe(lists: dict[str, list[Any]], currency: str) -> dict[str, str]:
    """``row id -> what it is, in words`` for the reports, models, plans and forecasts."""
    names = {d.id: d.name for d in lists.get("datasets", [])}
    found = {}
    for row in lists.get("reports", []):
        models = ", ".join(str(m) for m in (row.parameters or {}).get("models", []))
        found[row.id] = i18n.gettext("{models} on {dataset}", models=models,
                                     dataset=names.get(row.dataset_id or "", row.dataset_id or
                                                       "–"))
    for row in lists.get("models", []):
        spend = (row.datasets or {}).get("spend")
        found[row.id] = i18n.gettext("{kpi} from {dataset}, {curve} curves",
                                     kpi=i18n.gettext(row.parameters.get("kpi", "conversions")),
                                     dataset=names.get(spend, spend or "–"),
                                     curve=row.parameters.get("curve", "exponential"))
    for row in [*lists.get("plans", []), *lists.get("forecasts", [])]:
        parameters = row.parameters or {}
        weeks = len(parameters["schedule"]) if parameters.get("schedule") else \
            parameters.get("horizon_weeks", 4)
        period = horizon_noun(parameters.get("period"), weeks)
        budget = parameters.get("budget")
        found[row.id] = i18n.gettext("{objective} plan, {budget} over {period}",
                                     objective=i18n.gettext(parameters.get("objective",
                                                                           "conversions")),
                                     budget=i18n.money(budget, currency), period=period) \
            if row.kind == "plan" and budget is not None else \
            i18n.gettext("Forecast over {period}", period=period)
    return found


def next_steps(lists: dict[str, list[Any]]) -> list[tuple[str, str]]:
    """What to do next, given what the workspace holds: ``(sentence, endpoint)``."""
    kinds = {d.kind for d in lists.get("datasets", [])}
    fitted = any(m.state == SUCCEEDED for m in lists.get("models", []))
    steps = []
    if pages.allowed("dataset.upload") and not {"paths", "spend"} & kinds:
        steps.append((i18n.gettext("Upload customer journeys (paths) for attribution, or weekly "
                                   "spend and outcomes for a response model."),
                      "web_datasets.upload"))
    if pages.allowed("report.create") and "paths" in kinds and not lists.get("reports"):
        steps.append((i18n.gettext("Compare attribution models on your journeys."),
                      "web_reports.new_report"))
    if pages.allowed("model.create") and {"spend", "outcomes"} <= kinds and \
            not lists.get("models"):
        steps.append((i18n.gettext("Fit a response model of spend to outcomes."),
                      "web_models.new_model"))
    if pages.allowed("plan.create") and fitted:
        steps.append((i18n.gettext("Build a budget plan from a fitted response model."),
                      "web_plans.new_plan"))
    if pages.allowed("plan.read") and len(lists.get("plans", [])) >= 1:
        steps.append((i18n.gettext("Compare plans and forecasts side by side."),
                      "web_scenarios.scenarios"))
    return steps


@blueprint.get("/")
def home() -> Response:
    """The workspace home."""
    who = pages.signed_in()
    space = who.workspace_id
    assert space is not None
    lists: dict[str, list[Any]] = {}
    if who.can("dataset.read"):
        lists["datasets"] = _newest(Dataset, space)
    if who.can("report.read"):
        lists["reports"] = _newest(Report, space)
    if who.can("model.read"):
        lists["models"] = _newest(ResponseFit, space)
    if who.can("plan.read"):
        lists["plans"] = _newest(Plan, space, kind="plan")
        lists["forecasts"] = _newest(Plan, space, kind="forecast")
    job_ids = {row.job_id for rows in lists.values() for row in rows
               if getattr(row, "job_id", None)}
    jobs = jobs_by_id(space, job_ids)
    running = any(j.state in ("queued", RUNNING) for j in jobs.values())
    return pages.render("web/home.html", title=pages.workspace().name, lists=lists, jobs=jobs,
                        labels=describe(lists, pages.workspace().currency), kinds=kind_words(),
                        creators=creators(space), refresh=running,
                        steps=next_steps(lists))


@blueprint.get("/jobs/<job_id>/progress")
def job_progress(job_id: str) -> Response:
    """A job's state and progress as JSON, for the pages' live progress."""
    who = pages.signed_in()
    job = db().get(Job, job_id) if len(job_id) <= 40 else None
    if job is None or job.workspace_id != who.workspace_id or \
            not who.can(JOB_READ.get(job.kind, "job.read")):
        raise NotFound("no such job in this workspace")
    return jsonify(job_dict(job))
