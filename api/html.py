"""HTML pages of attribution reports, response models and plans.

Each page is one self-contained document: the styles sit in a ``<style>``
element, the charts are inline SVG drawn by the engines' own chart routines
(:func:`attribution.report.plot_comparison`,
:func:`optimizer.response_summary.plot_response_curves`,
:func:`optimizer.charts.allocation_chart`), and there is no
script, font or other fetched resource, so the page reads the same saved to
disk, printed or opened under the :data:`CSP` of the service.

Every value goes through Jinja2's autoescaping; the SVG of a chart is the only
markup inserted as is, after :func:`inline_svg` has checked and trimmed it.
The engines draw names as written (a ``$`` is never read as mathtext) and one
chart at a time (:data:`spendwise.charts.CHART_LOCK`), so pages may be
rendered from several threads. A page depends only on its row (and, for a
model, the saved fit): rendering the same row twice gives the same bytes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from attribution.base import AttributionResult, Credit, Interval, Intervals
from attribution.paths import PathTable
from optimizer.charts import allocation_chart
from optimizer.headline import english, summary
from optimizer.narrative import Story, forecast_story, plan_story
from optimizer.problem import horizon_words

if TYPE_CHECKING:
    from api.tables import Plan, Report, ResponseFit
    from optimizer.response_model import ResponseModel

#: The Content-Security-Policy of every page (also repeated in a ``<meta>`` element).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
DASH = "–"
#: Elements an inline chart must not hold: they run, embed or fetch.
_ACTIVE_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "object", "embed"})


# -- formatting -----------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def number(value: Any, digits: int = 0) -> str:
    """``value`` with thousands separators and ``digits`` decimals; a dash if undefined."""
    found = _finite(value)
    return DASH if found is None else f"{found:,.{digits}f}"


def percent(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage (``0.053`` is ``5.3%``); a dash if undefined."""
    found = _finite(value)
    return DASH if found is None else f"{100 * found:,.{digits}f}%"


def band(stats: Any, digits: int = 0, as_percent: bool = False) -> str:
    """``mean [p05, p95]`` of an interval dictionary of :func:`optimizer.forecast.interval`."""
    if not isinstance(stats, Mapping) or _finite(stats.get("mean")) is None:
        return DASH
    show: Callable[[Any], str] = (lambda v: percent(v, digits)) if as_percent \
        else (lambda v: number(v, digits))
    return f"{show(stats['mean'])} [{show(stats.get('p05'))}, {show(stats.get('p95'))}]"


def sig(value: Any, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits; a dash if undefined."""
    found = _finite(value)
    return DASH if found is None else f"{found:.{digits}g}"


def bounds(pair: Any, digits: int = 1, as_percent: bool = False) -> str:
    """``[low, high]`` of a two-element list; a dash if absent."""
    if not isinstance(pair, Sequence) or len(pair) != 2:
        return DASH
    show = percent if as_percent else number
    return f"[{show(pair[0], digits)}, {show(pair[1], digits)}]"


def pretty_json(value: Any) -> str:
    """Indented JSON with sorted keys (escaped by the template like any other text)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


# -- charts ---------------------------------------------------------------------------------------


def inline_svg(data: bytes, label: str = "chart") -> Markup:
    """The ``<svg>`` element of a matplotlib SVG file, ready to sit inside HTML.

    The XML prolog, doctype, comments and metadata are dropped; matplotlib
    escapes its text, and anything that could run or fetch (scripts, event
    handlers, external references) is refused rather than passed on.
    """
    text = data.decode("utf-8")
    text = text[text.index("<svg"):]
    text = re.sub(r"<!--.*?-->\s*", "", text, flags=re.DOTALL)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    if _active(text):
        raise ValueError("the chart holds active or external content")
    return Markup(text.replace("<svg ", Markup('<svg role="img" aria-label="%s" ') % label, 1)
                  .strip())


def _active(svg: str) -> bool:
    """Whether an SVG document holds an element or attribute that could run or fetch.

    The document is parsed, so the text of labels (a channel called ``promo
    onsale=1``) is never mistaken for markup.
    """
    from xml.etree import ElementTree

    for element in ElementTree.fromstring(svg).iter():
        if element.tag.rpartition("}")[2].lower() in _ACTIVE_ELEMENTS:
            return True
        for name, value in element.attrib.items():
            local = name.rpartition("}")[2].lower()
            if local.startswith("on") or (local in ("href", "src") and not (
                    value.startswith("#") or value.startswith("data:image/"))):
                return True
    return False


def attribution_results(payload: Any) -> list[AttributionResult]:
    """Results rebuilt from their JSON report (:meth:`AttributionResult.to_dict`).

    Only what the report holds is restored: channel totals, intervals and the
    audit fields.
    """
    return [_attribution_result(entry) for entry in report_models(payload)]


def _attribution_result(entry: Mapping[str, Any]) -> AttributionResult:
    rows = entry["channels"]
    names = tuple(str(c["channel"]) for c in rows)
    totals = (np.array([c["conversions"] for c in rows], dtype=float),
              np.array([c["value"] for c in rows], dtype=float))
    empty = sp.csr_array((0, len(names)))
    params = dict(entry.get("params") or {})
    intervals = None
    if rows and all("ci" in c for c in rows):
        cis = [c["ci"] for c in rows]
        intervals = Intervals(
            level=float(cis[0]["level"]), replicates=int(params.get("bootstrap", 0)),
            method=str(params.get("bootstrap_method", "")), seed=int(params.get("seed", 0)),
            by_channel=tuple(Interval(tuple(ci["conversions"]), tuple(ci["value"]),
                                      tuple(ci["share"])) for ci in cis),
            conversions_se=np.array([ci.get("conversions_se", np.nan) for ci in cis]))
    paths = PathTable(channels=names, touches=np.zeros(0, np.int32),
                      offsets=np.zeros(1, np.int64), conversions=np.zeros(0),
                      nulls=np.zeros(0), value=np.zeros(0))
    return AttributionResult(
        model=str(entry["model"]), params=params, fingerprint=str(entry.get("fingerprint")),
        channels=names, credit=Credit(empty, empty, totals=totals), paths=paths,
        version=str(entry.get("spendwise_version")), intervals=intervals,
        created_at=str(entry.get("created_at")))


# -- pages ----------------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("api", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update(number=number, percent=percent, band=band, bounds=bounds, sig=sig,
                       pretty_json=pretty_json)
    env.globals.update(csp=CSP, dash=DASH)
    return env


def _render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def _facts(row: Any, **extra: Any) -> list[tuple[str, Any]]:
    """The audit facts every page shows: id, fingerprint, version, creation, parameters."""
    return [("id", row.id), *extra.items(), ("fingerprint", row.fingerprint),
            ("version", row.version), ("created at", row.created_at.isoformat()),
            ("created by", row.created_by)]


def report_models(payload: Any) -> list[Mapping[str, Any]]:
    """The model objects of a report's ``result`` (one object or a list of them)."""
    return list(payload) if isinstance(payload, list) else [payload]


def report_page(payload: Any, *, title: str, facts: Sequence[tuple[str, Any]],
                parameters: Mapping[str, Any]) -> str:
    """The page of a finished attribution report, from plain data.

    Parameters
    ----------
    payload
        The models' JSON: one object or a list of them, as ``spendwise attribute
        --format json`` writes it and a report's ``result`` holds it.
    title
        The page's title.
    facts
        The audit facts, ``(name, value)`` in the order shown
        (:func:`report_facts` for a stored report).
    parameters
        The report's request: models and settings (and, stored, the dataset).
    """
    models = report_models(payload)
    return _render("report.html", title=title, models=models, chart=comparison_chart(models),
                   comparison=comparison(models), parameters=parameters, facts=list(facts))


def report_facts(row: Report) -> list[tuple[str, Any]]:
    """The audit facts of a stored report: id, dataset, state, fingerprint, version, creation."""
    return _facts(row, dataset=row.dataset_id or DASH, state=row.state)


def comparison_chart(payload: Any, words: Mapping[str, str] | None = None,
                     label: str = "credit by channel and model") -> Markup | None:
    """The chart of the channels' shares by model (:func:`attribution.report.plot_comparison`,
    in ``words``) as inline SVG; ``None`` for a report without channels."""
    from attribution.report import plot_comparison

    models = report_models(payload)
    if not models or not models[0]["channels"]:
        return None
    return inline_svg(plot_comparison(attribution_results(models), "svg", words), label)


@dataclass(frozen=True)
class ComparisonRow:
    """One channel of a report's side-by-side comparison."""

    channel: str
    #: The channel's entry in each model's ``channels``, in the models' order (``None``
    #: where a model has no such channel).
    cells: tuple[Mapping[str, Any] | None, ...]

    def shares(self) -> list[float]:
        """The channel's share of conversions in each model (0 where it has none)."""
        return [float(c["share"]) if c is not None and _finite(c["share"]) is not None
                else 0.0 for c in self.cells]


def comparison(payload: Any) -> list[ComparisonRow]:
    """The channels of a report side by side: one row per channel, one cell per model.

    Channels come in the order the models list them (the paths' order).
    """
    models = report_models(payload)
    by_model = [{str(c["channel"]): c for c in model["channels"]} for model in models]
    names = dict.fromkeys(name for entries in by_model for name in entries)
    return [ComparisonRow(name, tuple(entries.get(name) for entries in by_model))
            for name in names]


@dataclass(frozen=True)
class Spread:
    """The channel whose share of conversions differs most between the models."""

    channel: str
    #: Index of the model giving the channel its lowest and its highest share.
    low: int
    high: int
    low_share: float
    high_share: float


def widest_spread(payload: Any) -> Spread | None:
    """The channel whose share differs most between models (the first on a tie); ``None``
    with fewer than two models or no channel."""
    if len(report_models(payload)) < 2:
        return None
    best: Spread | None = None
    for row in comparison(payload):
        shares = row.shares()
        low, high = int(np.argmin(shares)), int(np.argmax(shares))
        if best is None or shares[high] - shares[low] > best.high_share - best.low_share:
            best = Spread(row.channel, low, high, shares[low], shares[high])
    return best


def model_page(model: ResponseModel, *, title: str, facts: Sequence[tuple[str, Any]],
               parameters: Mapping[str, Any], diagnostics: Mapping[str, Any] | None = None,
               datasets: Mapping[str, Any] | None = None,
               tested: Sequence[str] | None = None) -> str:
    """The page of a fitted response model, from the model and plain facts.

    The checks of the fit in words, the contribution of the baseline and of
    each channel, the response curves with their bands and the current spend,
    and the return of the next unit of spend (:func:`optimizer.explain.explain`).

    Parameters
    ----------
    model
        The fitted :class:`~optimizer.response_model.ResponseModel`.
    title
        The page's title.
    facts
        The audit facts, ``(name, value)`` in the order shown (:func:`model_facts`
        for a stored model, :func:`file_facts` for a model file).
    parameters
        The fit's settings.
    diagnostics
        The stored diagnostics (with the data's warnings); by default the model's own.
    datasets
        The datasets the model was fitted on, if it was stored.
    tested
        The channel of each lift test the fit used; ``None`` if unknown.
    """
    from optimizer.explain import explain

    shown = model.result_.to_dict() if diagnostics is None else diagnostics
    found = explain(model, shown, tested)
    returns, parts = found.returns, found.decomposition
    current = [{"channel": channel, "spend": float(returns.current[i]),
                "kpi": _stats(returns.kpi[i]), "romi": _stats(returns.romi[i])}
               for i, channel in enumerate(returns.channels)]
    next_unit = [{"channel": channel, "gain": _stats(returns.gain[i]),
                  "value": _stats(returns.gain_value[i])}
                 for i, channel in enumerate(returns.channels)]
    contributions = [{"name": name, "amount": _stats(parts.amounts[i]),
                      "share": _stats(parts.shares[i])}
                     for i, name in enumerate(("baseline", *parts.channels))]
    return _render("model.html", title=title, chart=curves_chart(model), diagnostics=shown,
                   kpi=model.kpi, current=current, next_unit=next_unit,
                   contributions=contributions, fitted_total=_stats(parts.total),
                   explanation=found, parameters=parameters, datasets=datasets,
                   facts=list(facts), _=english, number=number, percent=percent)


def model_facts(row: ResponseFit) -> list[tuple[str, Any]]:
    """The audit facts of a stored model: id, state, artifact, fingerprint, version, creation."""
    return _facts(row, state=row.state, artifact=row.artifact or DASH)


def model_file_page(name: str, model: ResponseModel) -> str:
    """The page of a model read from the file ``name``, as ``spendwise curves --html``
    writes it: :func:`model_page` with the file's facts and settings."""
    # A model file keeps the number of its lift tests, not their channels.
    tested: list[str] | None = [] if not model.meta_.get("lift_tests") else None
    return model_page(model, title=f"Response model {name}", facts=file_facts(name, model),
                      parameters=model.meta_.get("settings", {}), tested=tested)


def file_facts(name: str, model: ResponseModel) -> list[tuple[str, Any]]:
    """The facts of a model read from the file ``name``: the data's fingerprint, the
    sampler's status and the file format."""
    return [("file", name), ("data fingerprint", model.meta_.get("fingerprint", DASH)),
            ("status", model.result_.status), ("format", model.meta_.get("format", DASH))]


def curves_chart(model: ResponseModel, words: Mapping[str, str] | None = None,
                 label: str = "response curves") -> Markup:
    """The response curves of ``model`` with their 90% bands and the current spend, as SVG
    (in ``words``: :data:`optimizer.response_summary.CURVE_WORDS`)."""
    from optimizer.response_summary import plot_response_curves

    return inline_svg(plot_response_curves(model.curves(), "svg", words), label)


def _stats(values: Any) -> dict[str, float]:
    """``mean, p5, p50, p95`` of :mod:`optimizer.response_summary` as an interval dictionary."""
    mean, p05, p50, p95 = (float(v) for v in values)
    return {"mean": mean, "p05": p05, "p50": p50, "p95": p95}


def forecast_parts(result: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    """``(forecast, comparison)`` of a stored forecast, whichever form it was saved in:
    ``{"forecast", "against_current"}``, a ``Comparison.to_dict()`` or a ``Forecast.to_dict()``."""
    if "forecast" in result:
        return result["forecast"], result.get("against_current")
    if "proposed" in result and "current" in result:
        return result["proposed"], result
    return result, None


def plan_page(result: Mapping[str, Any], *, kind: str, title: str,
              facts: Sequence[tuple[str, Any]], parameters: Mapping[str, Any],
              history: Mapping[str, float] | None = None) -> str:
    """The page of a plan (``kind == "plan"``) or of a ROMI forecast, from plain data.

    Parameters
    ----------
    result
        The plan's JSON (:meth:`optimizer.plan.Plan.to_dict`), or the forecast's in
        any form :func:`forecast_parts` reads, as a stored row's ``result`` holds it
        and ``spendwise plan``/``forecast --format json`` writes it.
    kind
        ``"plan"`` or ``"forecast"``.
    title, facts, parameters
        The page's title, its audit facts (:func:`plan_facts` for a stored row)
        and the request's canonical parameters.
    history
        ``channel -> largest weekly spend`` in the model's data, to flag the
        channels a plan moves beyond it (:func:`optimizer.narrative.beyond_history`).
    """
    if kind == "plan":
        story = plan_story(result, history)
        return _render("plan.html", title=title, plan=result, chart=plan_chart(result),
                       story=story, sentence=english_summary(story),
                       horizon=horizon_words(float(result["horizon_weeks"])),
                       parameters=parameters, facts=list(facts))
    body, comparison = forecast_parts(result)
    story = forecast_story(body, comparison, history)
    return _render("forecast.html", title=title, forecast=body, comparison=comparison,
                   chart=forecast_chart(result), story=story, sentence=english_summary(story),
                   horizon=horizon_words(float(body["horizon_weeks"])),
                   parameters=parameters, facts=list(facts))


def plan_facts(row: Plan) -> list[tuple[str, Any]]:
    """The audit facts of a stored plan or forecast: id, kind, model, fingerprint, version,
    creation."""
    return _facts(row, kind=row.kind, model=row.model_id or DASH)


def plan_title(kind: str, name: str) -> str:
    """``Budget plan <name>`` or ``ROMI forecast <name>``."""
    return f"{'Budget plan' if kind == 'plan' else 'ROMI forecast'} {name}"


def english_summary(story: Story) -> str:
    """The headline of :func:`optimizer.narrative.summary` in English, as the pages print
    numbers (thousands separators, whole units)."""
    return summary(story, money=lambda v: number(v, 0), number=lambda v: number(v, 0),
                   percent=lambda v: percent(v, 0))


#: The words of the plan and forecast charts, in English; a page passes its own language's.
CHART_WORDS = {"current": "current", "proposed": "proposed", "allocation": "allocation",
               "plan_title": "Plan ({objective}): current against proposed",
               "forecast_title": "ROMI forecast", "plan_label": "current against proposed spend",
               "forecast_label": "spend and expected KPI by channel"}


def plan_chart(result: Mapping[str, Any], words: Mapping[str, str] | None = None,
               axes: tuple[str, str] | None = None) -> Markup:
    """Current against proposed spend over the horizon and the proposal's expected KPI, as
    inline SVG (:func:`optimizer.charts.allocation_chart`), in the ``words`` of
    :data:`CHART_WORDS` and with the axis labels ``axes`` when given."""
    said = {**CHART_WORDS, **(words or {})}
    rows = result["channels"]
    return inline_svg(allocation_chart(
        [str(c["channel"]) for c in rows],
        {said["current"]: [c["current_spend"] for c in rows],
         said["proposed"]: [c["spend"] for c in rows]},
        {said["proposed"]: [c["kpi"] for c in rows]}, float(result["horizon_weeks"]),
        str(result["kpi_name"]), said["plan_title"].format(objective=result["objective"]),
        axes=axes), said["plan_label"])


def forecast_chart(result: Mapping[str, Any], words: Mapping[str, str] | None = None,
                   axes: tuple[str, str] | None = None) -> Markup:
    """The forecast's spend and expected KPI by channel (against today's when it has the
    comparison), as inline SVG, in ``words`` and ``axes`` as :func:`plan_chart`."""
    said = {**CHART_WORDS, **(words or {})}
    body, comparison = forecast_parts(result)
    rows = body["channels"]
    names = [str(c["channel"]) for c in rows]
    spend = {said["allocation"]: [c["spend"] for c in rows]}
    kpi = {said["allocation"]: [c["kpi"] for c in rows]}
    if comparison is not None:
        current = {str(c["channel"]): c for c in comparison["current"]["channels"]}
        spend = {said["current"]: [current.get(n, {}).get("spend", np.nan) for n in names],
                 **spend}
        kpi = {said["current"]: [current.get(n, {}).get("kpi") for n in names], **kpi}
    return inline_svg(allocation_chart(names, spend, kpi, float(body["horizon_weeks"]),
                                       str(body["kpi_name"]), said["forecast_title"],
                                       axes=axes), said["forecast_label"])
