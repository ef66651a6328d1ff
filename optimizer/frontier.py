"""The budget frontier: what each total budget buys, and what its last unit returns.

For the steady-state objectives that separate by channel (expected
conversions or revenue), the best plan at a horizon budget ``B`` over ``H``
weeks is water filling (:mod:`optimizer.waterfill`): every channel spends
where its expected marginal return meets a common level ``p``,

    f_c'(x_c) = p   inside its limits,   H sum_c x_c = B,

with ``f_c(x) = mean_d beta[d, c] s(x; lam[d, c])`` (times the value per
KPI for revenue). The expected horizon objective is ``V(B) = H sum_c
f_c(x_c(B))``; since ``dx/dB`` sums to ``1 / H`` over the channels that move,

    V'(B) = H sum_c f_c'(x_c) dx_c/dB = p,

so the level is the return of the last currency unit of budget (the budget's
dual price, :attr:`optimizer.plan.Plan.shadow_price`). ``V`` is increasing
and concave: ``p`` falls as ``B`` rises. Above ``H sum_c hi_c`` the limits
bind, the extra budget stays unspent and ``p = 0``; below ``H sum_c lo_c``
there is no plan.

Each budget is a re-solve of the level ``p`` alone: Newton's method on
``u = log p`` for ``S(u) = sum_c x_c(e^u) = B / H`` (``S`` is linear in ``u``
for one exponential curve), with ``dS/du = p sum_active 1 / f_c''(x_c)``,
kept inside a shrinking bracket (bisection in ``u`` when a step leaves it),
started from the level of the neighbouring budget. The spend at a level is
:func:`optimizer.waterfill.channel_spend`, so a frontier point is the plan
:class:`~optimizer.allocator.BudgetAllocator` returns at that budget, to
rounding. The KPI and revenue of each point are evaluated over the draws
(:func:`optimizer.forecast.channel_kpi`), so every number has its interval.

:func:`next_increment` and :func:`budget_cut` compare two points on the same
draws: where the next ``amount`` would go and what it adds, and what a cut
gives up, channel by channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from optimizer.allocator import BudgetAllocator
from optimizer.constraints import channel_limits, money
from optimizer.errors import InfeasibleError, ParameterError
from optimizer.forecast import channel_kpi, interval
from optimizer.posterior import ResponseDraws
from optimizer.requests import PlanRequest
from optimizer.waterfill import channel_spend

Array = NDArray[np.float64]
#: Objectives whose frontier is water filling.
FRONTIER_OBJECTIVES = ("conversions", "revenue")
#: Budgets of the default grid, as multiples of the reference budget, and their number.
SPAN = (0.5, 2.0)
POINTS = 25
#: Budgets from the grid's edge to a current budget outside it, both included.
BRIDGE = 9
#: Relative tolerance of the spend adding up to the budget.
_RTOL = 1e-12
_MAX_STEPS = 200
#: Relative slack when comparing a budget with the sum of the limits.
_SLACK = 1e-9


@dataclass(frozen=True, eq=False)
class Point:
    """The best plan at one horizon budget, evaluated over the draws.

    ``level`` is the expected objective (KPI or revenue) of the last currency
    unit of budget; 0 when the channels' limits leave budget unspent.
    """

    budget: float
    horizon_weeks: float
    weekly_spend: Array
    level: float
    kpi: Array
    revenue: Array

    @cached_property
    def spend(self) -> Array:
        """``(channels,)`` spend over the horizon."""
        return np.asarray(self.horizon_weeks * self.weekly_spend)

    @cached_property
    def unspent(self) -> float:
        """Budget the limits leave unspent."""
        return max(self.budget - float(self.spend.sum()), 0.0)

    @cached_property
    def total_kpi(self) -> Array:
        """``(draws,)`` KPI over the horizon, all channels."""
        return np.asarray(self.kpi.sum(axis=1))

    @cached_property
    def total_revenue(self) -> Array:
        """``(draws,)`` revenue over the horizon, all channels."""
        return np.asarray(self.revenue.sum(axis=1))


class Problem:
    """A plan request resolved for the frontier: its draws, objective, horizon and limits."""

    def __init__(self, draws: ResponseDraws, request: PlanRequest) -> None:
        if request.per_week or request.objective not in FRONTIER_OBJECTIVES:
            raise ParameterError("the frontier covers steady-state plans of expected "
                                 f"{' or '.join(FRONTIER_OBJECTIVES)}", field="objective")
        if request.romi_floor is not None:
            raise ParameterError("the frontier is traced without a ROMI floor",
                                 field="romi_floor")
        self.draws = BudgetAllocator.for_request(draws, request).draws
        self.objective = request.objective
        self.horizon_weeks = float(request.horizon_weeks)  # a month is 52/12 weeks
        limits = channel_limits(self.draws, bounds=request.bounds_pairs(),
                                max_change=request.max_change, locked=request.locked,
                                max_spend_multiple=request.max_spend_multiple)
        self.lower, self.upper = limits.lower, limits.upper
        self.scale = self.draws.lam.mean(axis=0)
        self._weights = self.draws.revenue_factor if self.objective == "revenue" else None

    @property
    def floor(self) -> float:
        """The smallest horizon budget the channels' minimums allow."""
        return self.horizon_weeks * float(self.lower.sum())

    @property
    def ceiling(self) -> float:
        """The largest horizon budget the channels' maximums can spend (may be infinite)."""
        return self.horizon_weeks * float(self.upper.sum())

    @property
    def current_budget(self) -> float:
        """The current weekly spend over the horizon."""
        return self.horizon_weeks * float(np.sum(self.draws.current))

    def marginal(self, weekly: Array) -> Array:
        """``(channels,)`` expected objective of the next unit of weekly spend."""
        slope = self.draws.steady_marginal_kpi(weekly)
        if self._weights is not None:
            slope = slope * self._weights
        return np.asarray(slope.mean(axis=0))

    def point(self, budget: float, weekly: Array, level: float) -> Point:
        """The plan ``weekly`` at ``budget``, with its KPI and revenue over the draws."""
        kpi = self.horizon_kpi(weekly)
        return Point(float(budget), self.horizon_weeks, weekly, float(level), kpi,
                     np.asarray(kpi * self.draws.revenue_factor))

    def horizon_kpi(self, weekly: Array) -> Array:
        """``(draws, channels)`` KPI of a steady weekly spend over the horizon."""
        # Steady state is linear in the weeks, which may be a fraction (a month).
        weekly_kpi, _ = channel_kpi(self.draws, weekly, "steady", 1)
        return np.asarray(self.horizon_weeks * weekly_kpi)

    def solve(self, budget: float, start: Point | None = None) -> Point:
        """The best plan at a horizon ``budget`` (module docstring), started from the
        plan ``start`` of a nearby budget when given."""
        if not (math.isfinite(budget) and budget >= 0):
            raise ParameterError(f"budget: must be a non-negative amount, got {budget!r}",
                                 field="budget")
        if budget < self.floor * (1 - _SLACK):
            raise InfeasibleError(f"a budget of {money(budget)} is below the channel minimums, "
                                  f"which add up to {money(self.floor)}", field="budget")
        total = budget / self.horizon_weeks
        upper = np.minimum(self.upper, total)
        if total >= float(upper.sum()) * (1 - _SLACK):
            return self.point(budget, upper, 0.0)
        if total <= float(self.lower.sum()) * (1 + _SLACK):
            return self.point(budget, self.lower.copy(), float(self.marginal(self.lower).max()))
        x, level = self._level(total, upper, start)
        return self.point(budget, x, level)

    def _level(self, total: float, upper: Array, start: Point | None) -> tuple[Array, float]:
        """``(weekly spend, p)`` with ``sum x(p) = total``: safeguarded Newton on ``log p``."""
        lower = self.lower
        room = upper > lower
        left = math.log(max(float(self.marginal(upper)[room].min()), 1e-300))
        right = math.log(max(float(self.marginal(lower)[room].max()), 1e-300))
        # A nearby plan is a solved point already: its spend is x(p) at its level.
        known = start is not None and start.level > 0 and \
            bool(np.all(start.weekly_spend <= upper))
        x = start.weekly_spend.copy() if known and start is not None else lower.copy()
        u = math.log(start.level) if known and start is not None else 0.5 * (left + right)
        for _ in range(_MAX_STEPS):
            price = math.exp(u)
            if not known:
                x = channel_spend(self.marginal, price, lower, upper, x, self.scale)
            known = False
            excess = float(x.sum()) - total
            if abs(excess) <= _RTOL * total or right - left <= _RTOL:
                break
            if excess > 0:
                left = u  # spending too much: the level must rise
            else:
                right = u
            # Channels inside their limits move with the level, at dx/dp = 1 / f''(x); a
            # curve flat to rounding there gives no slope, and the step is a bisection.
            active = (x > lower) & (x < upper)
            step = 1e-7 * (x + self.scale)
            curvature = np.full_like(x, -np.inf)
            if active.any():
                curvature = np.where(active, (self.marginal(x + np.where(active, step, 0.0))
                                              - price) / step, -np.inf)
            slope = price * float(np.sum(1.0 / curvature)) if np.all(curvature < 0) else 0.0
            guess = u - excess / slope if slope < 0 else math.nan
            u = guess if left < guess < right else 0.5 * (left + right)
            if slope < 0:  # start the channels where the linearisation puts them
                x = np.clip(x + (math.exp(u) - price) / curvature, lower, upper)
        return x, math.exp(u)


@dataclass(frozen=True, eq=False)
class Frontier:
    """Expected KPI and marginal return of the best plan at each budget of a grid.

    ``current`` is the current allocation over the same horizon (``(draws,)``
    KPI), for comparison with the best plan at the current budget.
    """

    channels: tuple[str, ...]
    kpi_name: str
    objective: str
    horizon_weeks: float
    reference: float
    current_budget: float
    current_kpi: Array
    floor: float
    ceiling: float
    points: tuple[Point, ...]

    @cached_property
    def budgets(self) -> Array:
        """``(points,)`` horizon budgets of the grid."""
        return np.array([p.budget for p in self.points])

    @cached_property
    def spend(self) -> Array:
        """``(points, channels)`` horizon spend of each plan."""
        return np.array([p.spend for p in self.points])

    @cached_property
    def levels(self) -> Array:
        """``(points,)`` return of the last unit of budget (objective per currency unit)."""
        return np.array([p.level for p in self.points])

    @cached_property
    def kpi(self) -> Array:
        """``(points, draws)`` horizon KPI of each plan."""
        return np.array([p.total_kpi for p in self.points])

    @cached_property
    def revenue(self) -> Array:
        """``(points, draws)`` horizon revenue of each plan."""
        return np.array([p.total_revenue for p in self.points])

    @cached_property
    def expected_kpi(self) -> Array:
        """``(points,)`` mean horizon KPI over the draws."""
        return np.asarray(self.kpi.mean(axis=1))

    def at(self, budget: float) -> Point:
        """The grid point whose budget is nearest ``budget``."""
        return self.points[int(np.argmin(np.abs(self.budgets - budget)))]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready frontier: each budget's spend, KPI and revenue (mean, 5/50/95%)."""
        return {
            "objective": self.objective, "kpi_name": self.kpi_name,
            "horizon_weeks": self.horizon_weeks, "reference": self.reference,
            "current": {"budget": self.current_budget, "kpi": interval(self.current_kpi)},
            "floor": self.floor, "ceiling": self.ceiling if math.isfinite(self.ceiling) else None,
            "points": [{"budget": p.budget, "spend": float(p.spend.sum()), "unspent": p.unspent,
                        "level": p.level, "kpi": interval(p.total_kpi),
                        "revenue": interval(p.total_revenue),
                        "channels": dict(zip(self.channels, p.spend.tolist(), strict=True))}
                       for p in self.points],
        }


def budget_grid(reference: float, floor: float, span: tuple[float, float] = SPAN,
                points: int = POINTS) -> Array:
    """``points`` budgets from ``span[0]`` to ``span[1]`` times ``reference``, the ones
    below ``floor`` (the channel minimums) raised to it and merged."""
    if not (math.isfinite(reference) and reference > 0):
        raise ParameterError(f"reference: must be a positive amount, got {reference!r}",
                             field="budget")
    if not (0 <= span[0] < span[1] and points >= 2):
        raise ParameterError(f"span: expected 0 <= low < high and 2 or more points, got "
                             f"{span} and {points}")
    grid = reference * np.linspace(span[0], span[1], points)
    return np.unique(np.maximum(grid, floor))


def frontier(draws: ResponseDraws, request: PlanRequest, budgets: Any = None, *,
             reference: float | None = None,
             span: tuple[float, float] = SPAN, points: int = POINTS) -> Frontier:
    """The best plan's expected KPI and marginal return at each budget of a grid.

    Parameters
    ----------
    draws
        Posterior draws of the response.
    request
        A steady-state plan request of expected conversions or revenue: its
        objective, limits (``bounds``, ``max_change``, ``locked``,
        ``max_spend_multiple``), ``current`` and horizon (whole weeks or a
        period's, a month being 52/12 weeks); every budget covers that horizon,
        and the request's budget is the default reference.
    budgets
        Horizon budgets to solve at; default :func:`budget_grid` of the reference and
        the current budget (the current weekly spend over the horizon), joined to the
        grid by a few more budgets when it lies outside.
    reference
        The budget the grid is a multiple of; default the request's budget, else
        the current weekly spend over the horizon.

    Raises
    ------
    ParameterError
        For an objective or mode without water filling, or a ROMI floor.
    InfeasibleError
        When the limits conflict, or a budget given is below the channel minimums.
    """
    problem = Problem(draws, request)
    ref = float(reference or request.budget or problem.current_budget)
    if budgets is None:
        grid = budget_grid(ref, problem.floor, span, points)
        today = problem.current_budget
        if today >= problem.floor:  # the current budget, and a path to it when it lies outside
            edge = grid[0] if today < grid[0] else grid[-1]
            grid = np.union1d(grid, np.linspace(edge, today, BRIDGE))
    else:
        grid = np.sort(np.asarray(budgets, dtype=float))
    solved: list[Point] = []
    for budget in grid:
        solved.append(problem.solve(float(budget), solved[-1] if solved else None))
    current = problem.horizon_kpi(np.asarray(problem.draws.current, dtype=float))
    return Frontier(problem.draws.channels, problem.draws.kpi, problem.objective,
                    problem.horizon_weeks, ref, problem.current_budget,
                    np.asarray(current.sum(axis=1)), problem.floor, problem.ceiling,
                    tuple(solved))


@dataclass(frozen=True, eq=False)
class Shift:
    """The best plan at one budget against the best plan at another, on the same draws."""

    channels: tuple[str, ...]
    kpi_name: str
    start: Point
    end: Point

    @cached_property
    def amount(self) -> float:
        """Budget asked for minus budget before (negative for a cut)."""
        return self.end.budget - self.start.budget

    @cached_property
    def spend_change(self) -> Array:
        """``(channels,)`` horizon spend after minus before."""
        return np.asarray(self.end.spend - self.start.spend)

    @cached_property
    def moved(self) -> float:
        """Spend actually added (or removed): the amount less what the limits leave unspent."""
        return float(self.spend_change.sum())

    @cached_property
    def shares(self) -> Array:
        """``(channels,)`` each channel's part of the change of spend (sums to 1)."""
        if self.moved == 0:
            return np.zeros(len(self.channels))
        return np.asarray(self.spend_change / self.moved)

    @cached_property
    def kpi_change(self) -> Array:
        """``(draws,)`` horizon KPI after minus before."""
        return np.asarray(self.end.total_kpi - self.start.total_kpi)

    @cached_property
    def channel_kpi_change(self) -> Array:
        """``(draws, channels)`` each channel's horizon KPI after minus before."""
        return np.asarray(self.end.kpi - self.start.kpi)

    @cached_property
    def revenue_change(self) -> Array:
        """``(draws,)`` horizon revenue after minus before."""
        return np.asarray(self.end.total_revenue - self.start.total_revenue)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: both budgets, the split per channel and the change of KPI and revenue."""
        return {
            "from": self.start.budget, "to": self.end.budget, "amount": self.amount,
            "moved": self.moved, "unspent": self.end.unspent - self.start.unspent,
            "kpi_name": self.kpi_name, "kpi_change": interval(self.kpi_change),
            "revenue_change": interval(self.revenue_change),
            "channels": [{"channel": c, "spend_change": float(self.spend_change[i]),
                          "share": float(self.shares[i]),
                          "kpi_change": interval(self.channel_kpi_change[:, i])}
                         for i, c in enumerate(self.channels)],
        }


def shift(draws: ResponseDraws, request: PlanRequest, start: float, end: float) -> Shift:
    """The best plan at horizon budget ``end`` against the best plan at ``start``."""
    problem = Problem(draws, request)
    before = problem.solve(float(start))
    after = problem.solve(float(end), before)
    return Shift(problem.draws.channels, problem.draws.kpi, before, after)


def next_increment(draws: ResponseDraws, request: PlanRequest, budget: float,
                   amount: float = 100_000.0) -> Shift:
    """Where the next ``amount`` of horizon budget would go, and the KPI it adds.

    ``Shift.shares`` splits the increment by channel; beyond the channels'
    limits part of it stays unspent (``Shift.moved`` is less than ``amount``).
    """
    if not (math.isfinite(amount) and amount > 0):
        raise ParameterError(f"amount: must be a positive amount, got {amount!r}",
                             field="amount")
    return shift(draws, request, budget, budget + amount)


def budget_cut(draws: ResponseDraws, request: PlanRequest, budget: float,
               fraction: float = 0.2) -> Shift:
    """What cutting the horizon budget by ``fraction`` (``0.2`` is 20%) gives up.

    The KPI lost is ``-Shift.kpi_change``; each channel gives up
    ``-Shift.spend_change``. Both plans are the best at their budget.
    """
    if not (math.isfinite(fraction) and 0 < fraction < 1):
        raise ParameterError(f"fraction: must lie between 0 and 1, got {fraction!r}",
                             field="fraction")
    return shift(draws, request, budget, budget * (1 - fraction))
