"""Response models in the browser: the fit form and the model page.

``GET /models/new`` (role ``model.create``) offers the workspace's datasets of
each kind and the settings of a :class:`~optimizer.requests.FitRequest`,
prefilled with the request's own defaults; ``POST /models/new`` builds that
request and starts the fit as ``POST /v1/models`` does
(:func:`api.fits.start_fit`), then goes to the model's page. A refused form
comes back (422) with each message beside its field.

``GET /models/<id>`` (role ``model.read``) follows a fit while it runs (draws
done of the total and the time left, reloading itself) and says why one
failed. A fitted model's page says what the model says
(:func:`optimizer.explain.explain`): the checks in words with their fixes, the
fit against the actual KPI over time, the contribution of the baseline and of
each channel, the response curves, the return of the next unit of spend per
channel and which channels have no lift test. Models are loaded through the
service's cache (:func:`api.fits.fitted`); what a page draws from one is kept
too (:data:`api.web.drawn.DRAWN`), since a stored fit never changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, get_args

from flask import Blueprint, Response, redirect, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from api import fits
from api.context import RESOURCE_ID, db, services
from api.errors import NotFound, ServiceError
from api.html import curves_chart, inline_svg
from api.jobs import FAILED, QUEUED, RUNNING, SUCCEEDED, job_dict
from api.tables import Dataset, Job, Plan, ResponseFit
from api.web import i18n, pages
from api.web.drawn import DRAWN
from optimizer.curves import CURVES
from optimizer.errors import OptimizerError
from optimizer.explain import Explanation, explain, plot_fitted
from optimizer.requests import FitRequest
from spendwise.errors import FieldProblem

blueprint = Blueprint("web_models", __name__)
#: Settings of :class:`~optimizer.requests.FitRequest` the form offers, in its order.
SETTINGS = ("kpi", "curve", "max_lag", "fourier_order", "draws", "tune", "chains", "seed",
            "holdout_weeks", "value_per_conversion", "prior_width")
FIELDS = (*fits.DATASET_FIELDS, *SETTINGS)
#: The choices of the settings that take one of a few names.
CHOICES = {"kpi": get_args(FitRequest.model_fields["kpi"].annotation), "curve": tuple(CURVES)}
#: Above this many seconds left, the time left is given in minutes.
MINUTES_FROM = 90


# -- the fit form ---------------------------------------------------------------------------


def dataset_options(workspace_id: str) -> dict[str, list[Dataset]]:
    """The workspace's datasets of each kind a fit takes, newest first."""
    rows = db().scalars(select(Dataset).where(Dataset.workspace_id == workspace_id,
                                              Dataset.kind.in_(fits.DATASET_FIELDS))
                        .order_by(Dataset.created_at.desc()))
    found: dict[str, list[Dataset]] = {kind: [] for kind in fits.DATASET_FIELDS}
    for row in rows:
        found[row.kind].append(row)
    return found


def defaults(options: Mapping[str, list[Dataset]]) -> dict[str, str]:
    """The form as first shown: the request's defaults, the newest spend and outcomes (or
    the datasets the address names, ``?spend=<id>``)."""
    form = {name: "" if value is None else str(value)
            for name, value in FitRequest().canonical().items() if name in SETTINGS}
    for kind in fits.DATASET_FIELDS:
        ids = [d.id for d in options[kind]]
        asked = request.args.get(kind, "")
        form[kind] = asked if asked in ids else ids[0] if ids and kind in fits.REQUIRED else ""
    return form


def _typed(name: str, text: str) -> Any:
    """A form field's text as the setting's type; text that is not one is passed on for
    the request to refuse in its own words."""
    default = FitRequest.model_fields[name].default
    if isinstance(default, str):
        return text
    number = text.replace(",", "").replace("_", "")
    try:
        return int(number) if isinstance(default, int) else float(number)
    except ValueError:
        return text


def settings_of(form: Mapping[str, str]) -> FitRequest:
    """The fit request of the form; empty fields take the request's defaults."""
    return FitRequest.build(**{name: _typed(name, form[name]) for name in SETTINGS
                               if form.get(name)})


def form_errors(exc: Exception) -> pages.FormErrors:
    """The messages of a refused fit, beside the fields they concern."""
    field = getattr(exc, "field", None)
    if isinstance(exc, OptimizerError) and not isinstance(exc, FieldProblem) and \
            field in FIELDS:
        found = pages.FormErrors()
        found.add(field, str(exc))
        return found
    return pages.FormErrors.of_error(exc, {name: name for name in FIELDS})


def _form_page(options: dict[str, list[Dataset]], form: Mapping[str, str],
               errors: pages.FormErrors | None = None, status: int = 200) -> Response:
    return pages.render("web/models/new.html", status=status,
                        title=i18n.gettext("Fit a response model"), options=options,
                        form=form, errors=errors or pages.FormErrors(), choices=CHOICES)


@blueprint.route("/models/new", methods=["GET", "POST"])
def new_model() -> Response:
    """The fit form; a valid form starts the fit and goes to the model's page."""
    who = pages.require("model.create")
    assert who.workspace_id is not None
    options = dataset_options(who.workspace_id)
    if request.method == "GET":
        return _form_page(options, defaults(options))
    form = {name: request.form.get(name, "").strip() for name in FIELDS}
    try:
        settings = settings_of(form)
        refs = {kind: form[kind] or None for kind in fits.DATASET_FIELDS}
        row, _ = fits.start_fit(db(), services().store, who, refs, settings)
    except (FieldProblem, ServiceError, OptimizerError) as exc:
        db().rollback()
        return _form_page(options, form, form_errors(exc), 422)
    return redirect(url_for("web_models.model", model_id=row.id), code=303)  # type: ignore[return-value]


# -- the model page -------------------------------------------------------------------------


class View(NamedTuple):
    """What the page of a fitted model draws from it."""

    explanation: Explanation
    curves: Markup
    fitted: Markup


def draw(row: ResponseFit) -> View:
    """The explanation and charts of a fitted model (loaded through the service's cache)."""
    store = services().store
    loaded = fits.fitted(store, row)
    found = explain(loaded.model, row.diagnostics or None,
                    fits.lift_tests_of(db(), store, row), draws=loaded.draws)
    kpi = i18n.gettext("revenue") if found.series.kpi_name == "revenue" else \
        i18n.gettext("conversions")
    fitted = inline_svg(plot_fitted(found.series, "svg", fitted_words()),
                        i18n.gettext("Weekly {kpi}, fitted against actual", kpi=kpi))
    return View(found, model_curves(row, loaded.model), fitted)


def fitted_words() -> dict[str, str]:
    """The words of the fitted-against-actual chart in the page's language."""
    return {"interval": i18n.gettext("90% interval"), "fitted": i18n.gettext("fitted"),
            "actual": i18n.gettext("actual"), "held_out": i18n.gettext("held out"),
            "kpi": i18n.gettext("weekly {kpi}")}


def curve_words() -> dict[str, str]:
    """The words of the response-curve chart in the page's language."""
    return {"interval": i18n.gettext("90% interval"), "median": i18n.gettext("median"),
            "current": i18n.gettext("today"), "spend": i18n.gettext("weekly spend"),
            "kpi": i18n.gettext("weekly {kpi}")}


def model_curves(row: ResponseFit, model: Any) -> Markup:
    """The response curves of a fitted model as the page's chart, kept once drawn."""
    return DRAWN.get(("curves", row.artifact, i18n.language()),
                     lambda: curves_chart(model, curve_words(),
                                          i18n.gettext("Response curves by channel")))


def progress_words(job: Job | None) -> dict[str, Any]:
    """Draws done of the total, the time left and what runs now, as far as the job says."""
    if job is None:
        return {}
    seconds = job_dict(job).get("seconds_left")
    return {"done": job.progress_done, "total": job.progress_total, "note": job.progress_note,
            "seconds": None if seconds is None else round(seconds),
            "minutes": None if seconds is None or seconds < MINUTES_FROM
            else round(seconds / 60)}


def note_words() -> dict[str, str]:
    """What a fit's job may say it runs now, in the reader's language."""
    return {"compiling the model": i18n.gettext("compiling the model"),
            "tuning": i18n.gettext("tuning"), "sampling": i18n.gettext("sampling"),
            "saving the model": i18n.gettext("saving the model")}


def model_row(workspace_id: str, model_id: str) -> ResponseFit:
    """The workspace's model ``model_id``; :class:`NotFound` for any other."""
    if not RESOURCE_ID.fullmatch(model_id):
        raise NotFound(i18n.gettext("No such response model in this workspace."))
    row = db().get(ResponseFit, model_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(i18n.gettext("No such response model in this workspace."))
    return row


def links(row: ResponseFit) -> list[tuple[str, str]]:
    """What to do with a fitted model, as far as the role and the pages allow: build a plan
    on it, forecast its newest plan, read its budget frontier."""
    found = []
    if pages.allowed("plan.create"):
        found.append((i18n.gettext("Build a plan"), url_for("web_plans.new_plan", model=row.id)))
    if pages.allowed("forecast.create"):
        plan = db().scalars(select(Plan).where(
            Plan.workspace_id == row.workspace_id, Plan.model_id == row.id, Plan.kind == "plan",
            Plan.state == SUCCEEDED).order_by(Plan.created_at.desc()).limit(1)).first()
        if plan is not None:
            found.append((i18n.gettext("Make a forecast of its newest plan"),
                          url_for("web_plans.new_forecast", plan=plan.id)))
    if pages.allowed("plan.read"):
        found.append((i18n.gettext("See the budget frontier"),
                      url_for("web_scenarios.frontier", model_id=row.id)))
    return found


@blueprint.get("/models/<model_id>")
def model(model_id: str) -> Response:
    """A model's page: its progress, its failure or what it says."""
    who = pages.require("model.read")
    assert who.workspace_id is not None
    row = model_row(who.workspace_id, model_id)
    job = db().get(Job, row.job_id) if row.job_id else None
    fitted = row.state == SUCCEEDED and row.artifact is not None
    datasets = {d.id: d for d in db().scalars(select(Dataset).where(
        Dataset.workspace_id == row.workspace_id,
        Dataset.id.in_([i for i in row.datasets.values() if i])))} \
        if who.can("dataset.read") else {}
    return pages.render(
        "web/models/model.html", title=i18n.gettext("Response model {id}", id=row.id),
        row=row, job=job, view=DRAWN.get(("model", row.id, row.artifact, i18n.language()),
                                        lambda: draw(row)) if fitted else None,
        progress=progress_words(job), notes=note_words(), links=links(row) if fitted else [],
        datasets=datasets, running=row.state in (QUEUED, RUNNING), failed=row.state == FAILED,
        refresh=row.state in (QUEUED, RUNNING),
        kpi_words={"conversions": i18n.gettext("conversions"),
                   "revenue": i18n.gettext("revenue")})
