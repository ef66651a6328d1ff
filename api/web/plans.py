"""Budget plans and ROMI forecasts in the browser: the builder, the plan page, forecasts.

``GET /plans/new`` (role ``plan.create``; ``?model=`` preselects a fitted
model, ``?period=`` the period) shows the builder: a period's budget, each
channel's minimum, maximum and lock in that period's money, the objectives
the model supports, the largest change, and beside them the model's response
curves and what "today" is (the model's recent weekly spend, per channel and
period). ``POST /plans/new`` reads the form into the engine's
:class:`~optimizer.requests.PlanRequest` (:mod:`api.web.plan_form`) and makes
the plan as ``POST /v1/plans`` does (:func:`api.plans.submit`: inline, or a
job whose progress the plan page follows); a refused form comes back (422)
with each message beside its field.

``GET /plans/<id>`` (role ``plan.read``) shows a plan or a forecast: the
summary in a sentence (:mod:`optimizer.narrative`), the limits that bind and
why, money left unspent and why, channels moved beyond the spend their data
has seen, the chart of today against the proposal, and the channel table in
money per period. A plan's page offers a ROMI forecast of its allocation
(``forecast.create``): ``GET``/``POST /forecasts/new?plan=<id>``, made as
``POST /v1/forecasts`` does. ``GET /plans/<id>/plan.csv`` and
``/plans/<id>/page.html`` download the channel table and the self-contained
page of ``GET /v1/plans/{id}/html``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, redirect, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from api import html, plans
from api.context import RESOURCE_ID, db, services
from api.errors import NotFound, ServiceError
from api.fits import fitted
from api.jobs import FAILED, QUEUED, RUNNING, SUCCEEDED
from api.tables import Job, Plan, ResponseFit
from api.web import i18n, pages
from api.web.drawn import DRAWN
from api.web.models import model_curves
from api.web.plan_form import (
    DEFAULT_PERIOD,
    PERIODS,
    ChannelRow,
    engine_errors,
    plan_request,
)
from api.web.plan_words import horizon_noun, plan_view
from optimizer.errors import InfeasibleError, OptimizerError
from optimizer.headline import summary
from optimizer.narrative import forecast_story
from optimizer.priors import NO_VALUE
from optimizer.requests import PERIOD_WEEKS, ForecastRequest
from optimizer.response_model import CURRENT_WEEKS
from spendwise.errors import FieldProblem

blueprint = Blueprint("web_plans", __name__)





# -- the builder ------------------------------------------------------------------------------


def fitted_models(workspace_id: str) -> list[ResponseFit]:
    """The workspace's fitted models, newest first."""
    return list(db().scalars(select(ResponseFit).where(
        ResponseFit.workspace_id == workspace_id, ResponseFit.state == SUCCEEDED,
        ResponseFit.artifact.is_not(None)).order_by(ResponseFit.created_at.desc()).limit(50)))


def channel_rows(draws: Any) -> list[ChannelRow]:
    """The model's channels with their weekly spend today and the largest week seen."""
    return [ChannelRow(i, name, float(draws.current[i]), float(draws.max_weekly_spend[i]))
            for i, name in enumerate(draws.channels)]


def objectives(draws: Any) -> list[tuple[str, str]]:
    """The objectives the model supports: ``(value, words)``; revenue and profit need a
    value per conversion (or revenue as the KPI)."""
    revenue = draws.kpi == "revenue"
    valued = revenue or draws.meta.get("value_source") != NO_VALUE
    found = [("conversions", i18n.gettext("Most revenue") if revenue
              else i18n.gettext("Most conversions"))]
    if valued and not revenue:
        found.append(("revenue", i18n.gettext("Most revenue")))
    if valued:
        found.append(("profit", i18n.gettext("Most profit (revenue minus spend): spend only "
                                             "while the next unit returns more than it costs")))
    found.append(("cvar", i18n.gettext("Most {kpi} in a bad case (the mean of the worst 10% "
                                       "of outcomes)", kpi=kpi_words(draws.kpi))))
    found.append(("min_spend", i18n.gettext("Least spend that reaches a target")))
    return found


def kpi_words(kpi: str) -> str:
    """The KPI's name in the page's language."""
    return i18n.gettext("revenue") if kpi == "revenue" else i18n.gettext("conversions")


def chart_words(result: Mapping[str, Any], parameters: Mapping[str, Any]
                ) -> tuple[dict[str, str], tuple[str, str]]:
    """The words and axis labels of the chart of a plan or forecast (``result``, made with
    ``parameters``), in the page's language."""
    kpi = kpi_words(str(result.get("kpi_name", "conversions")))
    horizon = horizon_noun(parameters.get("period"), float(result.get("horizon_weeks", 4)))
    words = {"current": i18n.gettext("today"), "proposed": i18n.gettext("proposed"),
             "allocation": i18n.gettext("this allocation"),
             "plan_title": i18n.gettext("Today against the plan"),
             "forecast_title": i18n.gettext("ROMI forecast"),
             "plan_label": i18n.gettext("Spend today and proposed, by channel"),
             "forecast_label": i18n.gettext("Spend and expected KPI by channel")}
    axes = (i18n.gettext("spend over {period}", period=horizon),
            i18n.gettext("expected {kpi} (median, 90% interval)", kpi=kpi))
    return words, axes


def period_words(period: str) -> str:
    """``a week``, ``a month`` or ``a quarter`` in the page's language."""
    return horizon_noun(period, PERIOD_WEEKS[period])


def _curves(row: ResponseFit, loaded: Any) -> Markup:
    return model_curves(row, loaded.model)


def _builder(who: Any, model: ResponseFit | None, form: Mapping[str, str], status: int = 200,
             errors: pages.FormErrors | None = None) -> Response:
    """The builder page for ``model`` with the values of ``form``."""
    assert who.workspace_id is not None
    period = form.get("period", DEFAULT_PERIOD)
    period = period if period in PERIOD_WEEKS else DEFAULT_PERIOD
    weeks = PERIOD_WEEKS[period]
    context: dict[str, Any] = {"channels": [], "options": [], "curves": None}
    if model is not None:
        loaded = fitted(services().store, model)
        draws = loaded.draws
        context = {"channels": channel_rows(draws), "options": objectives(draws),
                   "curves": _curves(model, loaded), "kpi": kpi_words(draws.kpi),
                   "converged": bool(draws.meta.get("converged", True)),
                   "today_total": float(draws.current.sum()) * weeks}
    return pages.render("web/plans/new.html", status=status, title=i18n.gettext("New budget plan"),
                        models=_choices(who.workspace_id, model), model=model, form=form,
                        errors=errors or pages.FormErrors(), period=period, weeks=weeks,
                        period_text=period_words(period), periods=PERIODS,
                        period_names={p: period_words(p) for p in PERIODS},
                        current_weeks=CURRENT_WEEKS, **context)


def _choices(workspace_id: str, model: ResponseFit | None) -> list[ResponseFit]:
    """The models the builder offers: the newest fitted ones, and the one chosen."""
    models = fitted_models(workspace_id)
    return models if model is None or model in models else [model, *models]


def _model(workspace_id: str, model_id: str) -> ResponseFit | None:
    """The fitted model ``model_id`` of the workspace, however old, else the newest fitted
    one."""
    row = db().get(ResponseFit, model_id) if RESOURCE_ID.fullmatch(model_id) else None
    if row is not None and row.workspace_id == workspace_id and row.state == SUCCEEDED and \
            row.artifact is not None:
        return row
    models = fitted_models(workspace_id)
    return models[0] if models else None


@blueprint.route("/plans/new", methods=["GET", "POST"])
def new_plan() -> Response:
    """The plan builder, and the plan it makes."""
    who = pages.require("plan.create")
    assert who.workspace_id is not None
    if request.method == "GET":
        form = {"model": request.args.get("model", ""),
                "period": request.args.get("period", DEFAULT_PERIOD)}
        return _builder(who, _model(who.workspace_id, form["model"]), form)
    form = {k: str(v)[:200] for k, v in request.form.items() if k != "csrf_token"}
    model = _model(who.workspace_id, form.get("model", ""))
    if model is None or model.id != form.get("model"):
        errors = pages.FormErrors()
        errors.add("model", i18n.gettext("Choose a fitted model of this workspace."))
        return _builder(who, model, form, 422, errors)
    currency = pages.workspace().currency
    channels = channel_rows(fitted(services().store, model).draws)
    made, errors = plan_request(form, channels, currency)
    if made is None:
        return _builder(who, model, form, 422, errors)
    try:
        row = plans.submit(db(), services().store, who, model.id, made)
    except (ServiceError, OptimizerError) as exc:
        db().rollback()
        found = engine_errors(exc, channels)
        if found is None:
            raise
        if isinstance(exc, InfeasibleError) and found.of("budget") and not made.budget_mode:
            found.add("budget", i18n.gettext(
                "Raise the channels' maximums or the largest change, or tick \"Spend at most "
                "the budget\" below."))
        return _builder(who, model, form, 422, found)
    return redirect(url_for("web_plans.plan", plan_id=row.id), code=303)  # type: ignore[return-value]


# -- the plan page ----------------------------------------------------------------------------


def plan_row(workspace_id: str, plan_id: str) -> Plan:
    """The plan or forecast ``plan_id`` of the workspace; 404 otherwise."""
    row = db().get(Plan, plan_id) if RESOURCE_ID.fullmatch(plan_id) else None
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(i18n.gettext("There is no such plan in this workspace."))
    return row


def _history(row: Plan) -> dict[str, float] | None:
    try:
        return plans.history(db(), services().store, row)
    except ServiceError:
        return None


def _formats() -> dict[str, Callable[[Any], str]]:
    currency = pages.workspace().currency
    return {"money": lambda v: i18n.money(v, currency), "number": i18n.number,
            "percent": i18n.percent}


@blueprint.get("/plans/<plan_id>")
def plan(plan_id: str) -> Response:
    """A plan or forecast: its progress while it runs, then what it says."""
    who = pages.require("plan.read")
    assert who.workspace_id is not None
    row = plan_row(who.workspace_id, plan_id)
    title = i18n.gettext("Budget plan {id}", id=row.id) if row.kind == "plan" else \
        i18n.gettext("ROMI forecast {id}", id=row.id)
    job = db().get(Job, row.job_id) if row.job_id else None
    if row.state != SUCCEEDED or row.result is None:
        return pages.render("web/plans/waiting.html", title=title, row=row, job=job,
                            refresh=row.state in (QUEUED, RUNNING), failed=row.state == FAILED)
    result: dict[str, Any] = row.result
    common: dict[str, Any] = {"row": row, "links": links(row), "formats": _formats()}
    if row.kind == "plan":
        chart = DRAWN.get(("plan", row.id, row.fingerprint, i18n.language()),
                          lambda: html.plan_chart(result, *chart_words(result, row.parameters)))
        view = plan_view(result, row.parameters, _history(row), _formats(), CURRENT_WEEKS)
        return pages.render("web/plans/plan.html", title=title, view=view, chart=chart,
                            periods=PERIODS, period_names={p: period_words(p) for p in PERIODS},
                            forecastable=who.can("forecast.create") and row.model_id is not None,
                            **common)
    body, comparison = html.forecast_parts(result)
    story = forecast_story(body, comparison, _history(row))
    chart = DRAWN.get(("forecast", row.id, row.fingerprint, i18n.language()),
                      lambda: html.forecast_chart(result, *chart_words(body, row.parameters)))
    return pages.render("web/plans/forecast.html", title=title, body=body, comparison=comparison,
                        story=story, chart=chart, kpi=kpi_words(str(body["kpi_name"])),
                        sentence=summary(story, translate=i18n.gettext, **_formats()),
                        period_noun=horizon_noun(story.period, story.horizon_weeks), **common)


def links(row: Plan) -> list[tuple[str, str]]:
    """Where to go from a plan or forecast: downloads, scenarios, the frontier, the model."""
    found = [(i18n.gettext("Download the channel table (CSV)"),
              url_for("web_plans.plan_csv", plan_id=row.id)),
             (i18n.gettext("Download this page to send by email (HTML)"),
              url_for("web_plans.plan_file", plan_id=row.id))]
    if pages.allowed("plan.read"):
        found.append((i18n.gettext("Compare plans and forecasts side by side"),
                      url_for("web_scenarios.scenarios")))
    if row.model_id and pages.allowed("model.read"):
        found.append((i18n.gettext("The budget frontier of this model"),
                      url_for("web_scenarios.frontier", model_id=row.model_id)))
        found.append((i18n.gettext("The response model"),
                      url_for("web_models.model", model_id=row.model_id)))
    return found


@blueprint.get("/plans/<plan_id>/plan.csv")
def plan_csv(plan_id: str) -> Response:
    """The channel table of a finished plan or forecast as CSV."""
    who = pages.require("plan.read")
    assert who.workspace_id is not None
    row = _finished(plan_row(who.workspace_id, plan_id))
    return Response(plans.result_csv(row), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{row.id}.csv"'})


@blueprint.get("/plans/<plan_id>/page.html")
def plan_file(plan_id: str) -> Response:
    """The self-contained page of ``GET /v1/plans/{id}/html``, as a file to keep or send."""
    who = pages.require("plan.read")
    assert who.workspace_id is not None
    row = _finished(plan_row(who.workspace_id, plan_id))
    text = html.plan_page(row.result or {}, kind=row.kind,
                          title=html.plan_title(row.kind, row.id), facts=html.plan_facts(row),
                          parameters=row.parameters, history=_history(row))
    return Response(text, mimetype="text/html", headers={
        "Content-Security-Policy": html.CSP,
        "Content-Disposition": f'attachment; filename="{row.id}.html"'})


def _finished(row: Plan) -> Plan:
    if row.state != SUCCEEDED or row.result is None:
        raise NotFound(i18n.gettext("This plan has no result yet."))
    return row


# -- forecasts of a plan ----------------------------------------------------------------------


def forecast_request(row: Plan, period: str) -> ForecastRequest:
    """A ROMI forecast of a plan's allocation: its weekly spend held over ``period`` (a
    per-week plan's own weeks, one spend per week), against today's allocation."""
    result = row.result or {}
    channels = result.get("channels", [])
    unconverged = bool(row.parameters.get("allow_unconverged")) or None
    if result.get("mode") == "per_week":
        weeks = range(len(channels[0]["weekly_spend"])) if channels else range(0)
        schedule = tuple({str(c["channel"]): float(c["weekly_spend"][t]) for c in channels}
                         for t in weeks)
        fields: dict[str, Any] = {"schedule": schedule}
    else:
        fields = {"allocation": {str(c["channel"]): float(c["weekly_spend"]) for c in channels},
                  "period": period}
    return ForecastRequest.build(**fields, **({"allow_unconverged": True} if unconverged
                                              else {}))


@blueprint.route("/forecasts/new", methods=["GET", "POST"])
def new_forecast() -> Response:
    """A ROMI forecast of a plan's allocation: the form, and the forecast it makes."""
    who = pages.require("forecast.create")
    assert who.workspace_id is not None
    source = request.values.get("plan", "")
    row = plan_row(who.workspace_id, source)
    if row.kind != "plan" or row.state != SUCCEEDED or row.model_id is None:
        raise NotFound(i18n.gettext("Forecasts are made of finished plans whose model still "
                                    "exists."))
    planned = (row.result or {}).get("budget", {}).get("period")
    period = request.values.get("period", planned if planned in PERIOD_WEEKS else DEFAULT_PERIOD)
    errors = pages.FormErrors()
    if request.method == "POST":
        if period not in PERIOD_WEEKS:
            errors.add("period", i18n.gettext("Choose a week, a month or a quarter."))
        else:
            try:
                made = plans.submit(db(), services().store, who, row.model_id,
                                    forecast_request(row, period))
            except (ServiceError, OptimizerError, FieldProblem) as exc:
                db().rollback()
                errors.add("", str(getattr(exc, "detail", exc)))
            else:
                return redirect(url_for("web_plans.plan", plan_id=made.id),  # type: ignore[return-value]
                                code=303)
    return pages.render("web/plans/new_forecast.html", status=422 if errors else 200,
                        title=i18n.gettext("ROMI forecast of plan {id}", id=row.id), row=row,
                        period=period, periods=PERIODS,
                        period_names={p: period_words(p) for p in PERIODS}, errors=errors,
                        per_week=(row.result or {}).get("mode") == "per_week")
