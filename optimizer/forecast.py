"""What an allocation of spend is expected to return, over the posterior draws.

Any allocation (the current one, a :class:`~optimizer.plan.Plan`, a
``(channels,)`` weekly spend or a ``(weeks, channels)`` schedule) is evaluated
draw by draw, so every number comes with its spread across the posterior.

Two ways of counting a horizon of ``H`` weeks (whole weeks, or in steady state a
period's fraction: 52/12 for a month, :mod:`optimizer.requests`):

* **steady** (a ``(channels,)`` weekly spend ``x``): the spend has run long
  enough for the normalised adstock to settle, so draw ``d`` of channel ``c``
  returns ``H * beta[d, c] * s(x_c; lam[d, c])`` KPI over the horizon;
* **per_week** (a ``(weeks, channels)`` schedule ``X``): the adstocked spend
  ``a[d, t, c]`` carries over from the last weeks of ``ResponseDraws.history``;
  a channel's KPI is what the schedule adds within the horizon,
  ``sum_t beta s(a[d, t, c]) - sum_t beta s(a0[d, t, c])``, with ``a0`` the
  carryover of the history alone (reported as ``carryover_kpi``). Effects that
  spill past the last week are not counted.

Revenue is KPI times ``value_per_kpi``; ROMI is ``(revenue - spend) / spend``;
the marginal KPI of a channel is the KPI of one more currency unit spread evenly
over the horizon's weeks, and its marginal ROMI is ``value * marginal KPI - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from optimizer.errors import InputError, ParameterError
from optimizer.posterior import ResponseDraws
from optimizer.requests import PLAN_DEFAULTS, ForecastRequest

Array = NDArray[np.float64]
MODES = ("steady", "per_week")
#: Percentiles reported with every mean.
PERCENTILES = (5.0, 50.0, 95.0)


class Schedule(Protocol):
    """Anything that carries a weekly spend with its mode and horizon (a plan)."""

    @property
    def weekly_spend(self) -> Array: ...

    @property
    def mode(self) -> str: ...

    @property
    def horizon_weeks(self) -> float: ...


def interval(samples: ArrayLike) -> dict[str, float | None]:
    """Mean and 5/50/95 percentiles over draws (``None`` where undefined)."""
    values = np.asarray(samples, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)):
        return {"mean": None, "p05": None, "p50": None, "p95": None}
    p05, p50, p95 = np.percentile(values, PERCENTILES)
    return {"mean": float(values.mean()), "p05": float(p05), "p50": float(p50),
            "p95": float(p95)}


def _checked_mode(mode: str) -> str:
    if mode not in MODES:
        raise ParameterError(f"mode: unknown mode {mode!r}; choose from {', '.join(MODES)}")
    return mode


def as_schedule(
    draws: ResponseDraws, allocation: Schedule | ArrayLike | str, horizon_weeks: float,
    mode: str | None = None,
) -> tuple[Array, str, float]:
    """``(weekly_spend, mode, horizon_weeks)`` of an allocation, validated.

    ``"current"`` means ``draws.current``; a ``(channels,)`` array is a steady
    weekly spend unless ``mode="per_week"`` (then it repeats every week, and
    ``horizon_weeks`` must be whole); a ``(weeks, channels)`` array is a
    per-week schedule over ``weeks`` weeks.
    """
    if hasattr(allocation, "weekly_spend"):
        plan: Any = allocation
        return np.asarray(plan.weekly_spend, dtype=float), plan.mode, plan.horizon_weeks
    if isinstance(allocation, str):
        if allocation != "current":
            raise ParameterError(f"allocation: unknown name {allocation!r}; use 'current', "
                                 "a plan or an array of spend")
        allocation = draws.current
    if isinstance(horizon_weeks, bool) or not isinstance(horizon_weeks, int | float) or \
            not (np.isfinite(horizon_weeks) and horizon_weeks >= 1):
        raise ParameterError(f"horizon_weeks: must be a number of weeks from 1, got "
                             f"{horizon_weeks!r}")
    spend = np.asarray(allocation, dtype=float)
    if spend.shape[-1:] != (draws.n_channels,) or spend.ndim not in (1, 2):
        raise InputError(f"allocation: expected shape ({draws.n_channels},) or "
                         f"(weeks, {draws.n_channels}), got {spend.shape}")
    if not np.all(np.isfinite(spend)) or np.any(spend < 0):
        raise InputError("allocation: spend must be finite and non-negative")
    if spend.ndim == 2:
        if mode not in (None, "per_week"):
            raise ParameterError("mode: a (weeks, channels) schedule is evaluated per_week")
        return spend, "per_week", len(spend)
    if _checked_mode(mode or "steady") == "per_week":
        if not float(horizon_weeks).is_integer():
            raise ParameterError(f"horizon_weeks: a per-week schedule needs whole weeks, got "
                                 f"{horizon_weeks:g}")
        weeks = int(horizon_weeks)
        return np.tile(spend, (weeks, 1)), "per_week", weeks
    return spend, "steady", horizon_weeks


def channel_kpi(draws: ResponseDraws, spend: Array, mode: str, horizon_weeks: float
                ) -> tuple[Array, Array]:
    """``(kpi, carryover)``, both ``(draws, channels)`` horizon totals (module docstring)."""
    if mode == "steady":
        return horizon_weeks * draws.steady_kpi(spend), np.zeros_like(draws.beta)
    carryover = draws.plan_kpi(np.zeros_like(spend)).sum(axis=1)
    return draws.plan_kpi(spend).sum(axis=1) - carryover, carryover


def draw_gradient(draws: ResponseDraws, spend: Array, mode: str) -> Array:
    """KPI of one more unit of weekly spend, per draw.

    Steady: ``beta s'(x)``, ``(draws, channels)``, per week of the horizon.
    Per week: ``g[d, tau, c] = beta[d, c] sum_l w[d, c, l] s'(a[d, tau + l, c])``
    (``tau + l`` inside the horizon), ``(draws, weeks, channels)``: the horizon KPI
    of one more unit spent in week ``tau``.
    """
    if mode == "steady":
        return draws.steady_marginal_kpi(spend)
    weeks = len(spend)
    slope = draws.beta[:, None, :] * draws.family.derivative(draws.adstocked(spend),
                                                             draws.lam[:, None, :])
    weights = draws.carryover_weights
    grad = np.zeros_like(slope)
    for lag in range(min(draws.max_lag, weeks)):
        grad[:, : weeks - lag] += slope[:, lag:, :] * weights[:, None, :, lag]
    return grad


def kpi_gradient(draws: ResponseDraws, spend: Array, mode: str, horizon_weeks: float,
                 weights: Array) -> Array:
    """Gradient of ``sum_dc weights[d, c] kpi[d, c]`` with respect to the weekly spend.

    Shaped like ``spend``; used by the optimality certificate.
    """
    grad = draw_gradient(draws, spend, mode)
    if mode == "steady":
        return np.asarray(horizon_weeks * (weights * grad).sum(axis=0))
    return np.asarray((weights[:, None, :] * grad).sum(axis=0))


def marginal_kpi(draws: ResponseDraws, spend: Array, mode: str) -> Array:
    """``(draws, channels)`` KPI per extra currency unit, spread evenly over the weeks."""
    grad = draw_gradient(draws, spend, mode)
    return grad if mode == "steady" else grad.mean(axis=1)


def cvar(samples: ArrayLike, alpha: float) -> float:
    """Mean of the worst ``alpha`` fraction of equally likely draws (lower tail).

    Equals the Rockafellar-Uryasev value ``max_t t - E[(t - K)_+] / alpha``; with
    ``k = alpha D`` draws the boundary draw counts with weight ``k - floor(k)``.
    """
    values = np.sort(np.asarray(samples, dtype=float))
    k = alpha * len(values)
    whole = min(int(np.floor(k)), len(values))
    tail = values[:whole].sum() + (k - whole) * (values[whole] if whole < len(values) else 0.0)
    return float(tail / k)


@dataclass(frozen=True, eq=False)
class Forecast:
    """Distribution over draws of what an allocation returns over the horizon."""

    channels: tuple[str, ...]
    mode: str
    horizon_weeks: float
    weekly_spend: Array
    kpi: Array
    carryover_kpi: Array
    marginal_kpi: Array
    value_per_kpi: Array
    kpi_name: str = "conversions"

    @cached_property
    def spend(self) -> Array:
        """``(channels,)`` spend over the horizon."""
        if self.mode == "steady":
            return np.asarray(self.horizon_weeks * self.weekly_spend)
        return np.asarray(self.weekly_spend.sum(axis=0))

    @cached_property
    def revenue(self) -> Array:
        """``(draws, channels)`` revenue over the horizon."""
        return np.asarray(self.kpi * self.value_per_kpi)

    @cached_property
    def romi(self) -> Array:
        """``(draws, channels)`` ``(revenue - spend) / spend``; NaN where nothing is spent."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.spend > 0, (self.revenue - self.spend) / self.spend, np.nan)

    @cached_property
    def marginal_romi(self) -> Array:
        """``(draws, channels)`` revenue of one more currency unit, minus that unit."""
        return np.asarray(self.value_per_kpi * self.marginal_kpi - 1.0)

    @cached_property
    def total_kpi(self) -> Array:
        """``(draws,)`` KPI over the horizon, all channels."""
        return np.asarray(self.kpi.sum(axis=1))

    @cached_property
    def total_revenue(self) -> Array:
        """``(draws,)`` revenue over the horizon, all channels."""
        return np.asarray(self.revenue.sum(axis=1))

    @cached_property
    def total_romi(self) -> Array:
        """``(draws,)`` ROMI of the whole allocation (NaN if it spends nothing)."""
        total = float(self.spend.sum())
        if total <= 0:
            return np.full(len(self.kpi), np.nan)
        return np.asarray((self.total_revenue - total) / total)

    def channel_dict(self, index: int) -> dict[str, Any]:
        """Spend and the distributions of one channel, JSON-ready."""
        weekly = self.weekly_spend[..., index]
        return {
            "channel": self.channels[index],
            "spend": float(self.spend[index]),
            "weekly_spend": weekly.tolist() if self.mode == "per_week" else float(weekly),
            "kpi": interval(self.kpi[:, index]),
            "revenue": interval(self.revenue[:, index]),
            "romi": interval(self.romi[:, index]),
            "marginal_kpi": interval(self.marginal_kpi[:, index]),
            "marginal_romi": interval(self.marginal_romi[:, index]),
        }

    def total_dict(self) -> dict[str, Any]:
        """Totals over channels, JSON-ready."""
        return {
            "spend": float(self.spend.sum()),
            "kpi": interval(self.total_kpi),
            "revenue": interval(self.total_revenue),
            "romi": interval(self.total_romi),
            "carryover_kpi": interval(self.carryover_kpi.sum(axis=1)),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: per channel and in total, mean and 5/50/95% over draws."""
        return {
            "mode": self.mode, "horizon_weeks": self.horizon_weeks, "kpi_name": self.kpi_name,
            "channels": [self.channel_dict(i) for i in range(len(self.channels))],
            "total": self.total_dict(),
        }


def forecast(
    draws: ResponseDraws, allocation: Schedule | ArrayLike | str = "current", *,
    horizon_weeks: float = PLAN_DEFAULTS.horizon_weeks, mode: str | None = None,
) -> Forecast:
    """Forecast the KPI, revenue and ROMI of an allocation over the posterior draws.

    Parameters
    ----------
    draws
        Posterior draws of the response.
    allocation
        ``"current"``, a plan, a ``(channels,)`` weekly spend or a
        ``(weeks, channels)`` schedule (see :func:`as_schedule`).
    horizon_weeks
        Weeks counted for a ``(channels,)`` spend; a plan or a schedule brings its own.
    mode
        ``"steady"`` or ``"per_week"`` for a ``(channels,)`` spend (default steady).
    """
    spend, mode, weeks = as_schedule(draws, allocation, horizon_weeks, mode)
    kpi, carryover = channel_kpi(draws, spend, mode, weeks)
    return Forecast(draws.channels, mode, weeks, spend, kpi, carryover,
                    marginal_kpi(draws, spend, mode), draws.revenue_factor, draws.kpi)


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two allocations side by side on the same draws."""

    current: Forecast
    proposed: Forecast

    @cached_property
    def kpi_gain(self) -> Array:
        """``(draws,)`` proposed minus current KPI over the horizon."""
        return np.asarray(self.proposed.total_kpi - self.current.total_kpi)

    @cached_property
    def revenue_gain(self) -> Array:
        """``(draws,)`` proposed minus current revenue."""
        return np.asarray(self.proposed.total_revenue - self.current.total_revenue)

    @cached_property
    def profit_gain(self) -> Array:
        """``(draws,)`` proposed minus current revenue less spend."""
        extra_spend = self.proposed.spend.sum() - self.current.spend.sum()
        return np.asarray(self.revenue_gain - extra_spend)

    @cached_property
    def prob_beats(self) -> dict[str, float]:
        """Share of draws in which the proposal's KPI, revenue and profit are strictly higher."""
        return {name: float(np.mean(gain > 0)) for name, gain in
                (("kpi", self.kpi_gain), ("revenue", self.revenue_gain),
                 ("profit", self.profit_gain))}

    def to_dict(self) -> dict[str, Any]:
        """Both forecasts, the differences with intervals and the probabilities of beating."""
        return {
            "current": self.current.to_dict(),
            "proposed": self.proposed.to_dict(),
            "difference": {
                "spend": float(self.proposed.spend.sum() - self.current.spend.sum()),
                "kpi": interval(self.kpi_gain),
                "revenue": interval(self.revenue_gain),
                "profit": interval(self.profit_gain),
            },
            "prob_proposed_beats_current": self.prob_beats,
        }


def compare(
    draws: ResponseDraws, current: Schedule | ArrayLike | str, proposed: Schedule | ArrayLike | str,
    *, horizon_weeks: float = PLAN_DEFAULTS.horizon_weeks, mode: str | None = None,
) -> Comparison:
    """Compare two allocations draw by draw (same draws, same horizon).

    A ``(channels,)`` or ``"current"`` allocation is evaluated in the mode and
    horizon of the proposal when that is a plan or a schedule. The probability
    that the proposal beats the current allocation is the share of posterior
    draws in which its horizon KPI (revenue, profit) is strictly higher.
    """
    after = forecast(draws, proposed, horizon_weeks=horizon_weeks, mode=mode)
    before = forecast(draws, current, horizon_weeks=after.horizon_weeks,
                      mode=mode or after.mode)
    if before.horizon_weeks != after.horizon_weeks:
        raise ParameterError(f"compare: horizons differ ({before.horizon_weeks} and "
                             f"{after.horizon_weeks} weeks)")
    return Comparison(before, after)


def forecast_of(draws: ResponseDraws, request: ForecastRequest) -> dict[str, Any]:
    """The JSON form of a forecast request: ``{"forecast": ..., "against_current": ...}``.

    ``allocation`` is a weekly spend held over the horizon, ``schedule`` a spend
    per week; ``against_current`` is ``None`` unless ``compare_with_current``.
    The forecast names the request's ``period`` (``None`` for whole weeks).
    """
    if request.schedule is not None:
        allocation: Any = np.array([draws.spend_by_channel(week, f"schedule[{i}]")
                                    for i, week in enumerate(request.schedule)])
    else:
        allocation = draws.spend_by_channel(request.allocation or {}, "allocation")
    weeks = request.horizon_weeks
    against = None
    if request.compare_with_current:
        against = compare(draws, "current", allocation, horizon_weeks=weeks).to_dict()
    return {"forecast": {**forecast(draws, allocation, horizon_weeks=weeks).to_dict(),
                         "period": request.period},
            "against_current": against}
