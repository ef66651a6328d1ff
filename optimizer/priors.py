"""Priors of the response model, the attribution prior and the value of a conversion.

The model works in scaled units (see :mod:`optimizer.design`): weekly KPI is
divided by its mean ``ybar`` over the fit weeks, each channel's weekly spend by
its mean ``m_c`` over the weeks it was on, the trend runs from about -1/2 to
1/2 over the fit weeks, and controls are standardised. In these units one set
of weakly informative priors fits any business size:

===================  ======================  ================================================
parameter            prior                   meaning (scaled units)
===================  ======================  ================================================
``intercept``        Normal(0.5, 0.5)        mean weekly baseline over the fit weeks
``trend``            Normal(0, 0.5)          baseline change from the first to the last week
``season``           Normal(0, 0.25)         coefficient of each yearly Fourier term
``control``          Normal(0, 0.25)         effect of one standard deviation of a control
``media_share``      Beta(2, 2)              media's share of the mean weekly KPI
``efficiency``       ZeroSumNormal(1)        channel's log KPI per unit of spend, vs the mix
``lam``              LogNormal(0.25, 0.75)   saturation scale in units of mean spend ``m_c``
``alpha``            Beta(1, 3)              weekly adstock decay (mean 0.25)
``sigma``            HalfNormal(0.25)        standard deviation of weekly noise
===================  ======================  ================================================

The media curves are derived from these. Channel ``c``'s weekly KPI at its
mean spend is

.. math::

    e_c = \\text{media\\_share} \\cdot
          \\frac{m_c\\, \\exp(\\eta_c)}{\\sum_j m_j \\exp(\\eta_j)},
    \\qquad \\beta_c = \\frac{e_c}{s(1; \\lambda_c)},

so a priori every channel returns the same KPI per unit of spend at its mean
spend (contribution shares follow spend shares), and ``efficiency`` ``eta``
lets one channel earn up to about 6 times more or less than the mix (95%:
its marginal sd is sqrt(1 - 1/C), 0.94 for 8 channels).
``media_share`` says media make anywhere from 10% to 90% of the KPI (90%).
``lam`` has median 1.3 and 95% between 0.3 and 5.6 mean spends: a channel is
neither flat from a small part of its usual spend on nor linear far beyond it.

Why this form: the data pin down how the KPI moves with spend, not how much of
its level media explain, nor the asymptote ``beta`` of a channel far from
saturation. Priors on the asymptote and on each channel independently made
the posterior a curved ridge between the intercept and the channels, which
NUTS crossed with hundreds of divergences; priors on the media share, the
split by efficiency and the sampled ``level = intercept + mean media`` (a
shift of the intercept, Jacobian 1, so the prior on ``intercept`` is exact)
sample without divergences (``docs/sampler.md``). Independent channel priors
also made the total media share grow with the number of channels.

Noise is Normal: ``y_t ~ Normal(mu_t, sigma)``. The fixtures have no outlier
weeks; with ``holdout_weeks`` the coverage of the 90% predictive interval in
the fit result shows when the Normal is too thin for a data set.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from optimizer.errors import InputError, ParameterError

Array = NDArray[np.float64]

#: ``name -> (distribution, parameters)``; read by the model and by the docs test.
PRIORS: dict[str, tuple[str, dict[str, float]]] = {
    "intercept": ("Normal", {"mu": 0.5, "sigma": 0.5}),
    "trend": ("Normal", {"mu": 0.0, "sigma": 0.5}),
    "season": ("Normal", {"mu": 0.0, "sigma": 0.25}),
    "control": ("Normal", {"mu": 0.0, "sigma": 0.25}),
    "media_share": ("Beta", {"alpha": 2.0, "beta": 2.0}),
    "efficiency": ("ZeroSumNormal", {"sigma": 1.0}),
    "lam": ("LogNormal", {"mu": 0.25, "sigma": 0.75}),
    "alpha": ("Beta", {"alpha": 1.0, "beta": 3.0}),
    "sigma": ("HalfNormal", {"sigma": 0.25}),
}

#: Where the value per KPI came from when nothing gave one.
NO_VALUE = "none given: ROMI in conversions per unit of spend"


def prior_table() -> str:
    """The priors as a Markdown table, for reports."""
    rows = ["| parameter | prior |", "|---|---|"]
    for name, (dist, params) in PRIORS.items():
        args = ", ".join(f"{k}={v:g}" for k, v in params.items())
        rows.append(f"| {name} | {dist}({args}) |")
    return "\n".join(rows)


# -- attribution prior --------------------------------------------------------------------


def _load(report: Any) -> Any:
    if isinstance(report, str | Path):
        try:
            return json.loads(Path(report).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"attribution_prior: cannot read {report}: {exc}") from None
    return report


def _report_entries(report: Any, field: str) -> list[Mapping[str, Any]]:
    """The ``{channel, ...}`` entries of a report, a model object or a bare list."""
    report = _load(report)
    if isinstance(report, list) and report and all(
            isinstance(r, Mapping) and "channels" in r for r in report):
        if len(report) > 1:
            models = ", ".join(str(r.get("model", "?")) for r in report)
            raise InputError(f"attribution_prior: the report holds several models ({models});"
                             " pass the object of one")
        report = report[0]
    if isinstance(report, Mapping) and "channels" in report:
        report = report["channels"]
    if isinstance(report, Mapping):
        return [{"channel": k, field: v} for k, v in report.items()]
    if not isinstance(report, list) or not all(
            isinstance(r, Mapping) and "channel" in r and field in r for r in report):
        raise InputError(f"attribution_prior: expected a spendwise attribute report or a list "
                         f"of {{channel, {field}}} objects")
    return list(report)


def report_shares(report: Any) -> dict[str, float]:
    """``channel -> share`` of a ``spendwise attribute`` report (a path, the parsed object,
    a list of ``{"channel": ..., "share": ...}`` or such a mapping); shares of a channel
    named twice add up."""
    shares: dict[str, float] = {}
    for entry in _report_entries(report, "share"):
        try:
            value = float(entry["share"])
        except (TypeError, ValueError):
            value = float("nan")
        if not np.isfinite(value) or value < 0:
            raise InputError(f"attribution_prior: share of {entry['channel']!r} must be a "
                             f"non-negative number, got {entry['share']!r}")
        shares[str(entry["channel"])] = shares.get(str(entry["channel"]), 0.0) + value
    return shares


def attribution_shares(report: Any, channels: Sequence[str]) -> Array:
    """Attributed share of each channel, renormalised over ``channels``.

    ``report`` is a ``spendwise attribute`` JSON report (a path or the parsed
    object), a list of ``{"channel": ..., "share": ...}`` or a mapping
    ``channel -> share``. Channels of the report that the model does not have
    are dropped before renormalising; channels of the model missing from the
    report raise :class:`InputError` naming them.
    """
    shares = report_shares(report)
    missing = [c for c in channels if c not in shares]
    if missing:
        raise InputError("attribution_prior: channels missing from the attribution report: "
                         + ", ".join(missing))
    out = np.array([shares[c] for c in channels])
    if out.sum() <= 0:
        raise InputError("attribution_prior: the attributed shares of the model's channels "
                         "sum to zero")
    return np.asarray(out / out.sum())


def attribution_concentration(shares: Array, width: float) -> Array:
    """Dirichlet parameters ``a_c = 1 + kappa * p_c`` with ``kappa = 1 / width**2``.

    The attribution prior multiplies the model's prior by the Dirichlet density
    ``prod_c q_c ** (a_c - 1)`` of the channels' shares ``q_c`` of total media
    contribution over the fit weeks. Its mode is exactly the attributed shares
    ``p``; for ``kappa`` large against the number of channels, a share's standard
    deviation is about ``width * sqrt(p_c (1 - p_c))`` (``width=0.3``: a 40% share
    gets +-15 points). ``a_c >= 1`` keeps the density finite when a share nears 0.
    """
    if not (np.isfinite(width) and 0 < width <= 1):
        raise ParameterError(f"prior_width must be in (0, 1], got {width!r}")
    return np.asarray(1.0 + np.asarray(shares, dtype=float) / width**2)


# -- value of a conversion ----------------------------------------------------------------


def value_per_conversion_from_report(report: Any) -> dict[str, float]:
    """``channel -> value / conversions`` from a ``spendwise attribute`` report."""
    entries = _report_entries(report, "value")
    out = {}
    for entry in entries:
        conversions = float(entry.get("conversions", 0.0))
        if conversions > 0:
            out[str(entry["channel"])] = float(entry["value"]) / conversions
    return out


def value_per_kpi(
    kpi: str,
    channels: Sequence[str],
    setting: float | Mapping[str, float] | None,
    conversions: Array | None,
    revenue: Array | None,
) -> tuple[Array, str]:
    """Revenue per unit of KPI per channel, and where it came from.

    * KPI ``revenue``: ones (``setting`` must be ``None``).
    * ``setting`` a number: that value for every channel.
    * ``setting`` a mapping ``channel -> value`` (e.g. from
      :func:`value_per_conversion_from_report`): per channel; missing channels
      raise :class:`InputError` naming them.
    * ``None`` with revenue in the data: total revenue / total conversions.
    * ``None`` otherwise: ones, so ROMI is in conversions per unit of spend.
    """
    n = len(channels)
    if kpi == "revenue":
        if setting is not None:
            raise ParameterError("value_per_conversion: only meaningful when kpi='conversions'")
        return np.ones(n), "kpi is revenue"
    if isinstance(setting, Mapping):
        missing = [c for c in channels if c not in setting]
        if missing:
            raise InputError("value_per_conversion: no value for channels " + ", ".join(missing))
        out = np.array([float(setting[c]) for c in channels])
        source = "per channel"
    elif setting is not None:
        out = np.full(n, float(setting))
        source = "global"
    elif revenue is not None and conversions is not None and np.sum(conversions) > 0:
        out = np.full(n, float(np.sum(revenue) / np.sum(conversions)))
        source = "revenue / conversions in the data"
    else:
        return np.ones(n), NO_VALUE
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise InputError(f"value_per_conversion: values must be non-negative numbers, got {out}")
    return out, source
