"""Reports of plans and forecasts: JSON, CSV of the channel table, a text table.

Each function takes the JSON form of a result (:meth:`optimizer.plan.Plan.to_dict`,
or ``{"forecast": Forecast.to_dict(), "against_current": Comparison.to_dict()}``)
and renders text in memory; writing files is left to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from optimizer.errors import ParameterError
from spendwise.export import to_csv

FORMATS = ("json", "csv", "table")
#: Printed for a statistic that is not known.
MISSING = "-"


def channel_rows(payload: Mapping[str, Any]) -> pd.DataFrame:
    """The channel table of a plan or forecast, nested statistics flattened.

    The rows are ``payload["forecast"]["channels"]`` when the payload holds a
    forecast and its comparison, else ``payload["channels"]``; a nested
    statistic becomes a column such as ``kpi.p50``.
    """
    return pd.json_normalize(list(_body(payload)["channels"]))


def render(payload: Mapping[str, Any], fmt: str) -> str:
    """A plan or forecast as ``json``, ``csv`` or ``table`` text.

    Parameters
    ----------
    payload
        The JSON form of a plan or of a forecast with its comparison (see the
        module docstring).
    fmt
        ``"json"``: the payload, indented; ``"csv"``: :func:`channel_rows`,
        spreadsheet formulas neutralised (:func:`spendwise.export.to_csv`);
        ``"table"``: :func:`to_table`.

    Returns
    -------
    str
        The text, ending with a newline.

    Raises
    ------
    ParameterError
        For a format not in :data:`FORMATS`.
    """
    if fmt == "json":
        return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "csv":
        return to_csv(channel_rows(payload))
    if fmt == "table":
        return to_table(payload)
    raise ParameterError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def band(stats: Mapping[str, Any] | None, scale: float = 1.0, digits: int = 0) -> str:
    """``median [p05, p95]`` of an interval dictionary, each value times ``scale``."""
    if not stats or stats.get("p50") is None:
        return MISSING
    return (f"{scale * stats['p50']:,.{digits}f} "
            f"[{scale * stats['p05']:,.{digits}f}, {scale * stats['p95']:,.{digits}f}]")


def to_table(payload: Mapping[str, Any]) -> str:
    """A terminal table of a plan or forecast: spend, change, KPI and ROMI with 90% bands,
    then the totals, the plan's certificate line and the comparison with current."""
    body = _body(payload)
    rows = []
    for c in body["channels"]:
        row = {"channel": c["channel"], "spend": f"{c['spend']:,.0f}"}
        if "current_spend" in c:
            row["current"] = f"{c['current_spend']:,.0f}"
            row["change"] = f"{c['change']:+,.0f}"
        row["kpi median [5%, 95%]"] = band(c.get("kpi"))
        row["ROMI median [5%, 95%]"] = band(c.get("romi"), 100.0) + " %"
        row["marginal ROMI"] = band(c.get("marginal_romi"), 100.0) + " %"
        rows.append(row)
    with pd.option_context("display.unicode.east_asian_width", True, "display.width", 200):
        lines = [pd.DataFrame(rows).to_string(index=False)]
    total = body.get("total", {})
    if total:
        lines.append(f"total spend {total.get('spend', 0):,.0f}; kpi {band(total.get('kpi'))}; "
                     f"ROMI {band(total.get('romi'), 100.0)} %")
    if "shadow_price" in payload:
        lines.append(_certificate_line(payload))
    comparison = payload.get("against_current")
    if comparison:
        gain = comparison["difference"]
        lines.append(f"against current: kpi {band(gain['kpi'])}, profit {band(gain['profit'])}")
        beats = ", ".join(f"{k} {v:.1%}" for k, v in
                          comparison["prob_proposed_beats_current"].items())
        lines.append(f"probability of beating the current allocation: {beats}")
    return "\n".join(lines) + "\n"


def _body(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The part holding the channels: the forecast of a forecast payload, else the payload."""
    body: Mapping[str, Any] = payload.get("forecast", payload)
    return body


def _certificate_line(payload: Mapping[str, Any]) -> str:
    shadow = payload["shadow_price"]
    value = shadow.get("value") if isinstance(shadow, Mapping) else shadow
    certificate = payload.get("certificate", {})
    return (f"objective {payload.get('objective')}, status {payload.get('status')}; "
            f"shadow price of the budget {value:.6g}; probability of beating the "
            f"current allocation {payload.get('prob_beats_current', 0):.1%}; "
            f"relative duality gap {certificate.get('gap_rel', float('nan')):.2g}")
