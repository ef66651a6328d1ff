"""What a fitted response model says, in the terms of the people who buy the media.

Pure functions of a fitted :class:`~optimizer.response_model.ResponseModel`,
its stored diagnostics (:meth:`optimizer.diagnostics.FitResult.to_dict`) or its
:class:`~optimizer.posterior.ResponseDraws`. Nothing here knows of HTTP,
storage or language: the pages put the results into words.

* :func:`optimizer.fit_checks.checks`: each diagnostic of a fit against its
  threshold, and when it fails, the fix (more tuning, more draws, a lift test
  for a channel, ...).
* :func:`fitted_series`: the weekly KPI against the fitted mean
  ``E[mu_t]`` and the 90% predictive interval of ``mu_t + sigma z``
  (:func:`optimizer.diagnostics.predictive_draws`), held-out weeks last;
  :func:`plot_fitted` draws it.
* :func:`decomposition`: the KPI of the fit weeks split into the baseline and
  each channel, per draw: ``sum_t mu_t = sum_t b_t + sum_c sum_t m_tc``
  (:func:`optimizer.design.predict`), so the parts add up to the fitted total
  in every draw, and their shares to one.
* :func:`marginal_returns`: at the current weekly spend ``x_c``, the KPI of
  the next unit ``beta s'(x_c; lam)``, its revenue ``v_c beta s'(x_c; lam)``
  (the marginal ROMI) and the KPI gained by ``step`` more a week,
  ``beta (s(x_c + step) - s(x_c))``.
* :func:`lift_coverage`: how many lift tests each channel has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer import diagnostics as dx
from optimizer.design import predict
from optimizer.fit_checks import Check, checks, poorly_mixed
from optimizer.posterior import ResponseDraws
from optimizer.priors import NO_VALUE
from optimizer.response_graph import posterior_params
from optimizer.response_summary import summarise
from spendwise.charts import chart_text, compact_number, drawing, figure_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from optimizer.response_model import ResponseModel

Array = NDArray[np.float64]
#: Extra weekly spend whose return is compared across channels, in the data's currency.
STEP = 1000.0


def lift_coverage(channels: Sequence[str], tested: Iterable[str]) -> dict[str, int]:
    """``channel -> number of lift tests`` for each model channel (0 for none)."""
    counts = dict.fromkeys(channels, 0)
    for name in tested:
        if name in counts:
            counts[name] += 1
    return counts


# -- the fit over time ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FittedSeries:
    """Weekly actual KPI, fitted mean and 90% predictive interval; held-out weeks last."""

    dates: pd.DatetimeIndex
    actual: Array
    mean: Array
    low: Array
    high: Array
    n_fit: int
    kpi_name: str = "conversions"

    @property
    def held_out(self) -> int:
        """Number of held-out weeks at the end."""
        return len(self.actual) - self.n_fit


def _mean_and_parts(model: ResponseModel) -> tuple[dict[str, Array], Array, Array]:
    params = posterior_params(model.idata_)
    mu, parts = predict(model.design_, model.curve, params)
    return params, mu, parts


def fitted_series(model: ResponseModel, level: float = 0.9) -> FittedSeries:
    """The weekly KPI of ``model``'s data against its fit (module docstring)."""
    params, mu, _ = _mean_and_parts(model)
    scale, series = model.design_.scales.kpi, model.design_.series
    predictive = dx.predictive_draws(mu, params["sigma"], model.seed)
    low, high = np.quantile(predictive, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return FittedSeries(series.dates, np.asarray(series.kpi, dtype=float),
                        mu.mean(axis=0) * scale, low * scale, high * scale, series.n_fit,
                        model.kpi)


#: The words of the fitted-against-actual chart, in English; ``{kpi}`` is the KPI's name.
FITTED_WORDS = {"interval": "90% interval", "fitted": "fitted", "actual": "actual",
                "held_out": "held out", "kpi": "weekly {kpi}"}


def fitted_figure(series: FittedSeries, words: Mapping[str, str] | None = None) -> Figure:
    """Actual weekly KPI as points, the fitted mean as a line in its 90% band, and the
    held-out weeks shaded, labelled in ``words`` (:data:`FITTED_WORDS` by default)."""
    said = {**FITTED_WORDS, **(words or {})}
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    dates = series.dates.to_pydatetime()
    with drawing([], font_size=9):
        fig = Figure(figsize=(10, 3.4))
        ax = fig.subplots()
        ax.fill_between(dates, series.low, series.high, alpha=0.25, label=said["interval"])
        ax.plot(dates, series.mean, lw=1.4, label=said["fitted"])
        ax.plot(dates, series.actual, ls="none", marker=".", color="black",
                label=said["actual"])
        if series.held_out:
            half = pd.Timedelta(days=3.5)
            ax.axvspan(float(date2num(series.dates[series.n_fit] - half)),
                       float(date2num(series.dates[-1] + half)), color="grey", alpha=0.15,
                       label=said["held_out"])
        ax.set_ylabel(chart_text(said["kpi"].format(kpi=series.kpi_name)))
        ax.yaxis.set_major_formatter(FuncFormatter(compact_number))
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8, ncols=4)
        fig.tight_layout()
        return fig


def plot_fitted(series: FittedSeries, fmt: str = "svg",
                words: Mapping[str, str] | None = None) -> bytes:
    """The chart of :func:`fitted_figure` as ``svg`` (default) or ``png`` bytes."""
    return figure_bytes(fitted_figure(series, words), fmt)


# -- contributions ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Decomposition:
    """The KPI of the fit weeks per draw: fitted total, baseline and each channel.

    ``fitted`` and ``baseline`` are ``(draws,)``, ``media`` ``(draws, channels)``;
    ``fitted == baseline + media.sum(axis=1)`` in every draw.
    """

    channels: tuple[str, ...]
    weeks: int
    actual: float
    fitted: Array
    baseline: Array
    media: Array
    kpi_name: str = "conversions"

    @cached_property
    def parts(self) -> Array:
        """``(draws, 1 + channels)``: the baseline, then each channel."""
        return np.column_stack([self.baseline, self.media])

    @cached_property
    def amounts(self) -> Array:
        """``(1 + channels, 4)`` mean and 5/50/95% of each part's KPI."""
        return summarise(self.parts)

    @cached_property
    def shares(self) -> Array:
        """``(1 + channels, 4)`` statistics of each part's share of the fitted total."""
        return summarise(self.parts / self.fitted[:, None])

    @cached_property
    def total(self) -> Array:
        """``(4,)`` statistics of the fitted total."""
        return summarise(self.fitted)


def decomposition(model: ResponseModel) -> Decomposition:
    """The baseline's and each channel's KPI over the fit weeks (module docstring)."""
    _, mu, parts = _mean_and_parts(model)
    n, scale = model.design_.series.n_fit, model.design_.scales.kpi
    media = parts[:, :n].sum(axis=1) * scale
    fitted = mu[:, :n].sum(axis=1) * scale
    return Decomposition(model.design_.series.channels, n,
                         float(model.design_.series.kpi[:n].sum()), fitted,
                         fitted - media.sum(axis=1), media, model.kpi)


# -- the next unit of money -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MarginalReturns:
    """What more weekly spend returns per channel at the current spend.

    Arrays are ``(channels, 4)`` statistics over draws: ``kpi`` the weekly KPI
    now, ``marginal`` the KPI of the next unit of weekly spend, ``romi`` its
    revenue (``valued`` says whether a value per conversion is known, else it
    counts conversions), ``gain`` the weekly KPI of ``step`` more and
    ``gain_value`` its revenue.
    """

    channels: tuple[str, ...]
    current: Array
    kpi: Array
    marginal: Array
    romi: Array
    gain: Array
    gain_value: Array
    step: float
    valued: bool
    kpi_name: str = "conversions"

    @property
    def best(self) -> int:
        """Index of the channel whose next ``step`` returns most (revenue if valued)."""
        return int(np.argmax((self.gain_value if self.valued else self.gain)[:, 0]))


def marginal_returns(draws: ResponseDraws, step: float = STEP) -> MarginalReturns:
    """The return of more weekly spend on each channel at ``draws.current`` (module
    docstring)."""
    x = np.asarray(draws.current, dtype=float)
    now = draws.steady_kpi(x)
    gain = draws.steady_kpi(x + step) - now
    marginal = draws.steady_marginal_kpi(x)
    value = draws.revenue_factor
    valued = draws.kpi == "revenue" or draws.meta.get("value_source") != NO_VALUE
    return MarginalReturns(draws.channels, x, summarise(now), summarise(marginal),
                           summarise(value * marginal), summarise(gain),
                           summarise(value * gain), step, bool(valued), draws.kpi)


# -- everything a page shows ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Explanation:
    """What a model page shows besides the response curves."""

    checks: list[Check]
    series: FittedSeries
    decomposition: Decomposition
    returns: MarginalReturns
    lift_tests: dict[str, int] | None

    @property
    def untested(self) -> list[str]:
        """Channels without a lift test (empty when that is unknown)."""
        return [c for c, n in (self.lift_tests or {}).items() if not n]


def explain(model: ResponseModel, diagnostics: Mapping[str, Any] | None = None,
            tested: Iterable[str] | None = None, step: float = STEP,
            draws: ResponseDraws | None = None) -> Explanation:
    """Checks, fit over time, contributions and marginal returns of a fitted model.

    Parameters
    ----------
    model
        A fitted :class:`~optimizer.response_model.ResponseModel`.
    diagnostics
        Its stored diagnostics; by default ``model.result_.to_dict()``.
    tested
        The channel of each lift test the fit used; ``None`` when unknown.
    step
        Extra weekly spend compared across channels.
    draws
        ``model.response_draws()``, if the caller has them already.
    """
    channels = model.design_.series.channels
    lift = None if tested is None else lift_coverage(channels, tested)
    weak = [c for c in poorly_mixed(model.idata_, channels) if lift is not None and not lift[c]]
    return Explanation(checks(model.result_.to_dict() if diagnostics is None else diagnostics,
                              weak),
                       fitted_series(model), decomposition(model),
                       marginal_returns(model.response_draws() if draws is None else draws,
                                        step), lift)
