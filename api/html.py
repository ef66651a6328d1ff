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
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from attribution.base import AttributionResult, Credit, Interval, Intervals
from attribution.paths import PathTable
from optimizer.charts import allocation_chart

if TYPE_CHECKING:
    from api.tables import Plan, Report, ResponseFit
    from optimizer.response_model import ResponseModel

#: The Content-Security-Policy of every page (also repeated in a ``<meta>`` element).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
DASH = "–"
_UNSAFE_SVG = re.compile(r"<\s*(script|foreignObject|iframe|object|embed)\b|\son\w+\s*="
                         r"|(?:href|src)\s*=\s*[\"'](?!#|data:image/)", re.IGNORECASE)


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
    if _UNSAFE_SVG.search(text):
        raise ValueError("the chart holds active or external content")
    return Markup(text.replace("<svg ", Markup('<svg role="img" aria-label="%s" ') % label, 1)
                  .strip())


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


def report_page(row: Report) -> str:
    """The page of a finished attribution report."""
    models = report_models(row.result)
    chart = inline_svg(_comparison_svg(row.result), "credit by channel and model") \
        if models and models[0]["channels"] else None
    return _render("report.html", title=f"Attribution report {row.id}", models=models,
                   chart=chart, parameters=row.parameters,
                   facts=_facts(row, dataset=row.dataset_id or DASH, state=row.state))


def _comparison_svg(payload: Any) -> bytes:
    from attribution.report import plot_comparison

    return plot_comparison(attribution_results(payload), "svg")


def load_model(data: bytes) -> ResponseModel:
    """A fitted response model from the bytes of a file written by ``ResponseModel.save``."""
    from optimizer.response_model import ResponseModel

    fd, name = tempfile.mkstemp(suffix=".nc", prefix="spendwise-model-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return ResponseModel.load(name)
    finally:
        os.unlink(name)


def model_page(row: ResponseFit, model: ResponseModel) -> str:
    """The page of a fitted response model: curves with bands and the diagnostics."""
    from optimizer.response_summary import plot_response_curves, response_curves

    draws = model.response_draws()
    curves = response_curves(draws)
    at_current = response_curves(draws, np.asarray(draws.current, dtype=float)[:, None])
    current = [{"channel": channel, "spend": float(draws.current[i]),
                "kpi": _stats(at_current.kpi[i, 0]), "romi": _stats(at_current.romi[i, 0])}
               for i, channel in enumerate(draws.channels)]
    return _render("model.html", title=f"Response model {row.id}",
                   chart=inline_svg(plot_response_curves(curves, "svg"), "response curves"),
                   diagnostics=row.diagnostics or {}, kpi=draws.kpi, current=current,
                   parameters=row.parameters, datasets=row.datasets,
                   facts=_facts(row, state=row.state, artifact=row.artifact or DASH))


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


def plan_page(row: Plan) -> str:
    """The page of a plan (``kind == "plan"``) or of a ROMI forecast."""
    if row.result is None:
        raise ValueError(f"plan {row.id} has no result yet (state {row.state!r})")
    facts = _facts(row, kind=row.kind, model=row.model_id or DASH)
    if row.kind == "plan":
        return _plan_html(row, row.result, facts)
    return _forecast_html(row, row.result, facts)


def _plan_html(row: Plan, result: Mapping[str, Any], facts: list[tuple[str, Any]]) -> str:
    rows = result["channels"]
    names = [str(c["channel"]) for c in rows]
    chart = inline_svg(allocation_chart(
        names, {"current": [c["current_spend"] for c in rows],
                "proposed": [c["spend"] for c in rows]},
        {"proposed": [c["kpi"] for c in rows]}, int(result["horizon_weeks"]),
        str(result["kpi_name"]), f"Plan ({result['objective']}): current against proposed"),
        "current against proposed spend")
    return _render("plan.html", title=f"Budget plan {row.id}", plan=result, chart=chart,
                   parameters=row.parameters, facts=facts)


def _forecast_html(row: Plan, result: Mapping[str, Any], facts: list[tuple[str, Any]]) -> str:
    body, comparison = forecast_parts(result)
    rows = body["channels"]
    names = [str(c["channel"]) for c in rows]
    spend = {"allocation": [c["spend"] for c in rows]}
    kpi = {"allocation": [c["kpi"] for c in rows]}
    if comparison is not None:
        current = {str(c["channel"]): c for c in comparison["current"]["channels"]}
        spend = {"current": [current.get(n, {}).get("spend", np.nan) for n in names], **spend}
        kpi = {"current": [current.get(n, {}).get("kpi") for n in names], **kpi}
    chart = inline_svg(allocation_chart(names, spend, kpi, int(body["horizon_weeks"]),
                                        str(body["kpi_name"]), "ROMI forecast"),
                       "spend and expected KPI by channel")
    return _render("forecast.html", title=f"ROMI forecast {row.id}", forecast=body,
                   comparison=comparison, chart=chart, parameters=row.parameters, facts=facts)
