"""Attribution in the browser: the form that starts a report, and the report itself.

``GET /reports/new`` offers a paths dataset, the models (each explained in a
line) and their settings, prefilled with the defaults of
:class:`~attribution.requests.AttributionRequest`; ``POST /reports/new``
builds that request from the form and creates the report with
:func:`api.reports.create`, the code of ``POST /v1/reports`` (computed at
once, or queued as a job). ``GET /reports/<id>`` shows a running report's
progress, a failed one's reason, and a finished one side by side: a channel x
model table of conversions, shares and value with their intervals, one
sentence per model on what it credits, the channel the models disagree on
most, the comparison chart and the audit facts. ``/reports/<id>/comparison.csv``
is that table as CSV, ``/reports/<id>/credit.csv`` the per-journey credit,
recomputed from the stored dataset and request (:func:`api.reports.journey_credit`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from flask import Blueprint, Response, redirect, request, url_for

from api import html, reports
from api.access import Principal
from api.context import RESOURCE_ID, db, services
from api.errors import Conflict, Invalid, NotFound
from api.jobs import FAILED, SUCCEEDED
from api.tables import Dataset, Job, Report
from api.web import i18n, pages
from api.web.datasets import form_number, of_kinds, owned_dataset
from api.web.drawn import DRAWN
from api.web.home import creators
from api.web.i18n import gettext
from attribution.errors import AttributionError
from attribution.markov import MAX_ORDER
from attribution.models import MODELS
from attribution.requests import (
    MAX_REPLICATES,
    AttributionRequest,
    BootstrapMethod,
    ShapleyValue,
)
from spendwise.errors import FieldProblem
from spendwise.export import to_csv

blueprint = Blueprint("web_reports", __name__)
#: Form fields by the request's field they set.
FIELDS = {"dataset": "dataset", "models": "models",
          **{f"settings.{name}": name for name in
             ("order", "keep_repeats", "shapley_value", "min_support", "half_life_days",
              "half_life_touches", "bootstrap", "bootstrap_method", "ci_level", "seed")},
          **{f"settings.position_weights{end}": "position_weights" for end in ("", ".0", ".1")}}
#: Settings typed as numbers in the form.
NUMBERS = ("min_support", "half_life_days", "half_life_touches", "bootstrap", "ci_level", "seed")


def model_names() -> dict[str, str]:
    """Each model's name in the reader's language."""
    return {"first_touch": gettext("First touch"), "last_touch": gettext("Last touch"),
            "linear": gettext("Linear"), "position_based": gettext("Position based"),
            "time_decay": gettext("Time decay"), "markov": gettext("Markov chain"),
            "shapley": gettext("Shapley value")}


def model_hints() -> dict[str, str]:
    """What each model does, in one line."""
    return {
        "first_touch": gettext("All credit to the channel that started the journey."),
        "last_touch": gettext("All credit to the channel that closed the journey."),
        "linear": gettext("Equal credit to every touch of the journey."),
        "position_based": gettext(
            "Most credit to the first and the last touch, the rest split over the middle."),
        "time_decay": gettext(
            "More credit the closer a touch is to the conversion; it halves every half-life."),
        "markov": gettext("Credit by removal effect: the conversions lost if a channel were "
                          "taken out of the journeys."),
        "shapley": gettext("Each conversion shared fairly among the channels that worked "
                           "together (game theory)."),
    }


def _owned_report(who: Principal, report_id: str) -> Report:
    row = db().get(Report, report_id) if RESOURCE_ID.fullmatch(report_id) else None
    if row is None or row.workspace_id != who.workspace_id:
        raise NotFound(i18n.gettext("No such report in this workspace."))
    return row


# -- the form -------------------------------------------------------------------------------


def default_form() -> dict[str, Any]:
    """The form's values for the defaults of :class:`AttributionRequest`."""
    canonical = AttributionRequest.build().canonical()
    settings = dict(canonical["settings"])
    first, last = settings.pop("position_weights")
    return {"models": list(canonical["models"]), "position_first": first,
            "position_last": last, **settings}


def request_of_form(form: Mapping[str, Any]) -> AttributionRequest:
    """The :class:`AttributionRequest` of the form's fields (text as typed).

    Empty fields take the request's defaults; a number that is no number is
    passed on as typed, so the request names the problem.
    """
    order = str(form.get("order", "")).strip()
    settings: dict[str, Any] = {name: form_number(str(form.get(name, ""))) for name in NUMBERS}
    settings |= {"order": form_number(order) if order != "auto" else order,
                 "keep_repeats": bool(form.get("keep_repeats")),
                 "shapley_value": form.get("shapley_value") or None,
                 "bootstrap_method": form.get("bootstrap_method") or None}
    weights = [form_number(str(form.get(f"position_{end}", ""))) for end in ("first", "last")]
    if weights != [None, None]:
        settings["position_weights"] = weights
    return AttributionRequest.build(models=list(form.get("models") or []), settings={
        name: value for name, value in settings.items() if value is not None})


def _form_page(who: Principal, form: Mapping[str, Any], *, status: int = 200,
               errors: pages.FormErrors | None = None) -> Response:
    return pages.render("web/reports/new.html", status=status,
                        title=i18n.gettext("Compare attribution models"),
                        datasets=of_kinds(who, "paths"), form=form,
                        errors=errors or pages.FormErrors(), models=MODELS,
                        names=model_names(), hints=model_hints(),
                        orders=["auto", *range(1, MAX_ORDER + 1)],
                        max_replicates=MAX_REPLICATES,
                        shapley_values=ShapleyValue.__args__,  # type: ignore[attr-defined]
                        methods=BootstrapMethod.__args__)  # type: ignore[attr-defined]



def chart_words() -> dict[str, str]:
    """The words of the comparison chart in the page's language."""
    return {"axis": i18n.gettext("share of conversions (%)"),
            "title": i18n.gettext("Attributed conversions by channel and model")}

@blueprint.route("/reports/new", methods=["GET", "POST"])
def new_report() -> Response:
    """The attribution form; sent, it creates the report and shows it."""
    who = pages.require("report.create")
    if request.method == "GET":
        return _form_page(who, {**default_form(), "dataset": request.args.get("dataset", "")})
    form: dict[str, Any] = {name: value for name, value in request.form.items()
                            if name != "csrf_token"}
    form["models"] = request.form.getlist("models")
    errors = pages.FormErrors()
    dataset = owned_dataset(who, str(form.get("dataset", "")))
    if dataset is None:
        errors.add("dataset", i18n.gettext("Choose a paths dataset of this workspace."))
    if not form["models"]:
        errors.add("models", i18n.gettext("Choose at least one model."))
    attribution = None
    try:
        attribution = request_of_form(form)
    except FieldProblem as exc:
        for name, messages in pages.FormErrors.of_error(exc, FIELDS).by_field.items():
            for message in messages if not errors.of(name) else ():
                errors.add(name, message)
    if errors or dataset is None or attribution is None:
        return _form_page(who, form, status=422, errors=errors)
    try:
        row = reports.create(db(), services().store, who, dataset, attribution)
    except (Invalid, AttributionError) as exc:
        return _form_page(who, form, status=422, errors=pages.FormErrors.of_error(exc, FIELDS))
    return redirect(url_for("web_reports.report", report_id=row.id), code=303)  # type: ignore[return-value]


# -- the report -----------------------------------------------------------------------------


def credit_sentence(model: Mapping[str, Any]) -> str:
    """What ``model`` credits, in one sentence naming the channel it credits most."""
    channels = [c for c in model.get("channels", []) if c.get("share") is not None]
    name = str(model.get("model"))
    label = model_names().get(name, name)
    if not channels or not model.get("total_conversions"):
        return gettext("{model} had no conversions to credit.", model=label)
    top = max(channels, key=lambda c: float(c["share"]))
    fields = {"channel": str(top["channel"]), "share": i18n.percent(top["share"])}
    if name == "first_touch":
        return gettext("First touch gives all credit to the channel that started the journey: "
                       "{channel} gets {share} of conversions.", **fields)
    if name == "last_touch":
        return gettext("Last touch gives all credit to the channel that closed the journey: "
                       "{channel} gets {share} of conversions.", **fields)
    if name == "linear":
        return gettext("Linear splits each conversion equally over the journey's touches: "
                       "{channel} gets the most, {share} of conversions.", **fields)
    if name == "position_based":
        return gettext("Position based favours the first and the last touch: {channel} gets "
                       "the most, {share} of conversions.", **fields)
    if name == "time_decay":
        return gettext("Time decay favours the touches closest to the conversion: {channel} "
                       "gets the most, {share} of conversions.", **fields)
    if name == "markov":
        return gettext("Markov chain credits the conversions that would be lost without a "
                       "channel: {channel} gets the most, {share} of conversions.", **fields)
    if name == "shapley":
        return gettext("Shapley value shares each conversion among the channels that worked "
                       "together: {channel} gets the most, {share} of conversions.", **fields)
    return gettext("{model}: {channel} gets the most, {share} of conversions.", model=label,
                   **fields)


def spread_sentence(models: Sequence[Mapping[str, Any]]) -> str | None:
    """Which channel's share differs most between the models, and between which."""
    spread = html.widest_spread(models)
    if spread is None:
        return None
    names = model_names()
    low, high = (str(models[i]["model"]) for i in (spread.low, spread.high))
    return i18n.gettext("The models disagree most on {channel}: {low} of conversions under "
                        "{low_model}, {high} under {high_model}.", channel=spread.channel,
                        low=i18n.percent(spread.low_share), low_model=names.get(low, low),
                        high=i18n.percent(spread.high_share), high_model=names.get(high, high))


def _credit_allowed(row: Report, dataset: Dataset | None) -> bool:
    """Whether the per-journey credit can be recomputed in a request: the dataset is there,
    the stored request reads back, and its cost is within the inline limit."""
    if dataset is None:
        return False
    try:
        request = reports.request_of(row.parameters)
    except (KeyError, TypeError, FieldProblem):
        return False
    return reports.runs_inline(dataset.rows, reports.without_intervals(request))


@blueprint.get("/reports/<report_id>")
def report(report_id: str) -> Response:
    """A report: live progress while it runs, its reason if it failed, else the comparison."""
    who = pages.require("report.read")
    row = _owned_report(who, report_id)
    job = db().get(Job, row.job_id) if row.job_id else None
    dataset = db().get(Dataset, row.dataset_id) if row.dataset_id else None
    context: dict[str, Any] = {}
    if row.state == SUCCEEDED and row.result:
        models = html.report_models(row.result)
        context = {"models": models, "comparison": html.comparison(models),
                   "sentences": [credit_sentence(m) for m in models],
                   "spread": spread_sentence(models),
                   "chart": DRAWN.get(("report", row.id, row.fingerprint, i18n.language()),
                                      lambda: html.comparison_chart(
                                          models, chart_words(),
                                          i18n.gettext("Credit by channel and model"))),
                   "level": next((c["ci"]["level"] for m in models for c in m["channels"]
                                  if "ci" in c), None),
                   "credit_allowed": _credit_allowed(row, dataset)}
    error = (job.error if job is not None else None) or i18n.gettext("the reason was not kept")
    names = model_names()
    chosen = row.parameters.get("models", []) if isinstance(row.parameters, dict) else []
    return pages.render(
        "web/reports/report.html", title=i18n.gettext("Attribution report"), row=row, job=job,
        dataset=dataset, names=names, error=error if row.state == FAILED else None,
        model_list=i18n.gettext(", ").join(names.get(str(m), str(m)) for m in chosen),
        refresh=row.state in ("queued", "running"),
        creator=creators(row.workspace_id).get(row.created_by, row.created_by), **context)


def _finished(who: Principal, report_id: str) -> tuple[Report, list[Mapping[str, Any]]]:
    row = _owned_report(who, report_id)
    if row.state != SUCCEEDED or not row.result:
        raise Conflict(i18n.gettext("This report is not ready; its downloads exist once it has "
                                    "succeeded."))
    return row, html.report_models(row.result)


def comparison_frame(models: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The side-by-side comparison as a table: one row per channel; for each model its
    conversions, share and value (``<model>_conversions`` ...) and, when bootstrapped, the
    interval bounds (``<model>_conversions_low`` ...)."""
    rows = []
    for entry in html.comparison(models):
        record: dict[str, Any] = {"channel": entry.channel}
        for model, cell in zip(models, entry.cells, strict=True):
            name = str(model["model"])
            for measure in ("conversions", "share", "value"):
                record[f"{name}_{measure}"] = cell[measure] if cell else None
                if cell and "ci" in cell:
                    low, high = cell["ci"][measure]
                    record[f"{name}_{measure}_low"], record[f"{name}_{measure}_high"] = low, high
        rows.append(record)
    return pd.DataFrame(rows)


def _csv(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.get("/reports/<report_id>/comparison.csv")
def comparison_csv(report_id: str) -> Response:
    """The comparison table as CSV; cells a spreadsheet would run as formulas are quoted."""
    row, models = _finished(pages.require("report.read"), report_id)
    return _csv(to_csv(comparison_frame(models)), f"{row.id}-comparison.csv")


@blueprint.get("/reports/<report_id>/credit.csv")
def credit_csv(report_id: str) -> Response:
    """Per-journey credit as CSV, recomputed from the stored dataset and request."""
    who = pages.require("report.read")
    row, _models = _finished(who, report_id)
    dataset = db().get(Dataset, row.dataset_id) if row.dataset_id else None
    if dataset is None:
        raise Conflict(i18n.gettext("The dataset of this report was deleted, so its per-journey "
                                    "credit cannot be computed again."))
    if not _credit_allowed(row, dataset):
        raise Conflict(i18n.gettext("This dataset is too large to compute per-journey credit "
                                    "here; run spendwise attribute with --credit on the file."))
    paths = reports.load_paths(services().store, dataset)
    table = reports.journey_credit(paths, reports.request_of(row.parameters))
    return _csv(to_csv(table), f"{row.id}-credit.csv")
