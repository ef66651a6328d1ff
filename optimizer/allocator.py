"""Budget plans over posterior draws: the estimator-like front of the optimizer.

:class:`BudgetAllocator` stores its settings; :meth:`BudgetAllocator.solve`
turns a budget and constraints into a :class:`~optimizer.plan.Plan`.

Budget semantics
    ``budget`` is the spend over the whole horizon (``1.2M`` for a 4-week
    month), ``budget_mode="equal"`` spends exactly that and ``"cap"`` at most
    that (the profit objective always treats it as a cap; ``min_spend`` takes
    it as an optional cap). Channel limits are weekly (:mod:`optimizer.constraints`).
    KPI, revenue and ROMI are over the horizon and exclude the baseline; in
    per-week mode they are what the plan adds to the carryover of past spend,
    and effects spilling past the last week are not counted
    (:mod:`optimizer.forecast`). The ROMI floor and the KPI target hold on
    expected values (means over draws).

Shadow price
    The budget's Lagrange multiplier: objective gained per extra currency unit
    of horizon budget (expected conversions, revenue, profit or CVaR per unit);
    0 when a cap does not bind. For ``min_spend``, the target's multiplier:
    extra spend per extra unit of KPI target.

Engines
    ``"separable"``: steady-state plans of the mean objectives
    (conversions, revenue, profit, min_spend) are water filling on the mean
    curves, exact and fast (:mod:`optimizer.waterfill`). ``"conic"``: every
    objective and mode as a convex program built once per problem shape with
    cvxpy Parameters (:mod:`optimizer.objectives`), decisions scaled to shares
    of the budget, and re-solved for new budgets, bounds, floors and targets;
    Clarabel first (two step settings), SCS as fallback. ``"auto"`` picks the
    separable engine where it applies.

Every plan is checked by its own duality gap (:func:`optimizer.certificate.certify`);
a solver answer without a certified gap is not accepted. Obvious conflicts are
caught before solving; an infeasible status is explained afterwards by solving
the closest feasible question (the best ROMI, the most KPI within reach).

Progress
    :meth:`BudgetAllocator.plan` reports :data:`PLAN_STEPS` steps to an optional
    callback (:mod:`spendwise.progress`): building the program (0 of 3), solving
    it (1 of 3, the note naming each solver tried in turn), certifying the answer
    (2 of 3) and the certified plan (3 of 3); water filling starts at 1. A solver
    reports nothing while it runs, so a step is the finest unit there is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from optimizer.certificate import Certificate, certify
from optimizer.constraints import Bounds, Limits, channel_limits, check_budget, money
from optimizer.errors import InfeasibleError, ParameterError, SolverError
from optimizer.forecast import MODES, Forecast, forecast
from optimizer.objectives import (
    INFEASIBLE,
    OPTIMAL,
    SOLVERS,
    ConicProblem,
    Terms,
    build_problem,
    curve_terms,
)
from optimizer.plan import Plan
from optimizer.posterior import ResponseDraws
from optimizer.problem import Solution, Spec
from optimizer.requests import PLAN_DEFAULTS, PlanRequest, period_of
from optimizer.waterfill import solve_separable
from spendwise.progress import Progress, ignore

ENGINES = ("auto", "separable", "conic")
SEPARABLE_OBJECTIVES = ("conversions", "revenue", "profit", "min_spend")
#: Steps a plan reports to its progress callback: build, solve, certify.
PLAN_STEPS = 3


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ParameterError(f"{name}: unknown value {value!r}; choose from {', '.join(allowed)}")


def _number(value: Any) -> Any:
    """A numpy or integer amount as a Python float (requests take floats strictly);
    anything else is left for the request to refuse."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def curve_term_count(draws: ResponseDraws, mode: str, horizon_weeks: float) -> int:
    """Curve terms of the convex program: draws x channels, x weeks in per-week mode."""
    n_draws, n_channels = np.shape(draws.beta)
    return int(n_draws * n_channels * (horizon_weeks if mode == "per_week" else 1))


@dataclass(frozen=True, eq=False)
class Prepared:
    """A plan request resolved against the model: its limits, its problem and its engine."""

    request: PlanRequest
    limits: Limits
    spec: Spec
    engine: str
    conic_size: int


def repair(spec: Spec, spend: NDArray[np.float64]) -> NDArray[np.float64]:
    """Clip a solver's spend into the bounds and spread any budget residual (rounding
    only) over the cells with room, so the reported plan is feasible."""
    lower, upper = spec.cell_bounds(spec.budget)
    x = np.clip(spend, lower, upper)
    if spec.budget is None:
        return x
    goal = spec.per_cell(spec.budget)
    residual = goal - float(x.sum())
    if residual > 0 and spec.budget_mode == "equal":
        room = upper - x
        x = x + residual * room / max(float(room.sum()), 1e-300)
    elif residual < 0:
        room = x - lower
        x = x + residual * room / max(float(room.sum()), 1e-300)
    return np.clip(x, lower, upper)


class BudgetAllocator:
    """Optimise weekly spend per channel over posterior draws of the response.

    Parameters
    ----------
    draws
        Posterior draws of the response (:class:`~optimizer.posterior.ResponseDraws`).
    mode
        ``"steady"``: one weekly spend per channel held over the horizon, each
        channel returning ``H beta s(x; lam)``. ``"per_week"``: a spend per
        channel and week, with adstock carryover from ``draws.history``.
    objective
        ``"conversions"`` (expected KPI), ``"revenue"`` (KPI x value), ``"profit"``
        (revenue - spend), ``"cvar"`` (mean KPI of the worst ``alpha`` share of
        draws) or ``"min_spend"`` (least spend whose expected KPI reaches ``target``).
    horizon_weeks
        Weeks ``H`` the plan covers; the budget is for all of them. Whole weeks, or in
        steady state a period's fraction (52/12 for a month; :mod:`optimizer.requests`).
    alpha
        CVaR level: the share of worst draws averaged (``1`` gives the mean).
    max_spend_multiple
        Default cap on each channel's weekly spend, as a multiple of its largest
        historical weekly spend; ``None`` removes it.
    engine
        ``"auto"``, ``"separable"`` or ``"conic"`` (module docstring).
    """

    def __init__(self, draws: ResponseDraws, *, mode: str = PLAN_DEFAULTS.mode,
                 objective: str = PLAN_DEFAULTS.objective,
                 horizon_weeks: float = PLAN_DEFAULTS.horizon_weeks,
                 alpha: float = PLAN_DEFAULTS.alpha,
                 max_spend_multiple: float | None = PLAN_DEFAULTS.max_spend_multiple,
                 engine: str = "auto") -> None:
        self.draws = draws
        self.mode = mode
        self.objective = objective
        self.horizon_weeks = horizon_weeks
        self.alpha = alpha
        self.max_spend_multiple = max_spend_multiple
        self.engine = engine

    def get_params(self) -> dict[str, Any]:
        """The settings given to ``__init__`` (without the draws)."""
        return {name: getattr(self, name) for name in
                ("mode", "objective", "horizon_weeks", "alpha", "max_spend_multiple", "engine")}

    @classmethod
    def for_request(cls, draws: ResponseDraws, request: PlanRequest,
                    engine: str = "auto") -> BudgetAllocator:
        """An allocator whose settings are those of ``request``, on ``draws`` with the
        request's ``current`` spend when it gives one."""
        if request.current is not None:
            draws = replace(draws, current=draws.spend_by_channel(request.current, "current"))
        return cls(draws, mode=request.mode, objective=request.objective,
                   horizon_weeks=request.horizon_weeks, alpha=request.alpha,
                   max_spend_multiple=request.max_spend_multiple, engine=engine)

    def request(
        self, budget: float | None = None, *, bounds: Bounds | None = None,
        max_change: float | Mapping[str, float] | None = None, locked: Iterable[str] = (),
        romi_floor: float | None = None, target: float | None = None,
        budget_mode: str | None = None,
    ) -> PlanRequest:
        """The :class:`~optimizer.requests.PlanRequest` of this allocator's settings and
        the arguments of :meth:`solve` (validated, as every front door's request is)."""
        if not isinstance(self.draws, ResponseDraws):
            raise ParameterError("draws: expected a ResponseDraws")
        _choice("mode", self.mode, MODES)
        _choice("engine", self.engine, ENGINES)
        return PlanRequest.with_bounds(
            None if bounds is None else {c: (_number(lo), _number(hi))
                                         for c, (lo, hi) in bounds.items()},
            budget=_number(budget), budget_mode=budget_mode, objective=self.objective,
            alpha=_number(self.alpha), target=_number(target),
            horizon_weeks=self.horizon_weeks, per_week=self.mode == "per_week",
            period=None if float(self.horizon_weeks).is_integer() else
            period_of(self.horizon_weeks),
            max_change=({c: _number(v) for c, v in max_change.items()}
                        if isinstance(max_change, Mapping) else _number(max_change)),
            locked=tuple(locked), romi_floor=_number(romi_floor),
            max_spend_multiple=_number(self.max_spend_multiple))

    def solve(
        self, budget: float | None = None, *, bounds: Bounds | None = None,
        max_change: float | Mapping[str, float] | None = None, locked: Iterable[str] = (),
        romi_floor: float | None = None, target: float | None = None,
        budget_mode: str | None = None,
    ) -> Plan:
        """Plan the spend for a horizon budget under the given constraints.

        Parameters
        ----------
        budget
            Spend over the whole horizon (optional cap for ``min_spend``).
        bounds
            ``{channel: (minimum, maximum)}`` weekly spend, either side ``None``.
        max_change
            Largest relative change of a channel's weekly spend against the current
            one (``0.3`` = +-30%), for all channels or per channel.
        locked
            Channels whose spend stays at the current amount.
        romi_floor
            ``r`` in ``(Rbar - spend) / spend >= r``, i.e. ``Rbar - (1 + r) spend >= 0``,
            on expected revenue.
        target
            Expected KPI over the horizon to reach (``min_spend`` only).
        budget_mode
            ``"equal"`` (default) or ``"cap"`` (default for profit and min_spend).

        Raises
        ------
        RequestError
            A setting or argument is out of range, or missing for the objective.
        InfeasibleError
            The constraints conflict; the message names the conflict.
        SolverError
            Neither Clarabel nor SCS returned a certified plan.
        """
        return self.plan(self.request(budget, bounds=bounds, max_change=max_change,
                                      locked=locked, romi_floor=romi_floor, target=target,
                                      budget_mode=budget_mode))

    def check(
        self, budget: float | None = None, *, bounds: Bounds | None = None,
        max_change: float | Mapping[str, float] | None = None, locked: Iterable[str] = (),
        romi_floor: float | None = None, target: float | None = None,
        budget_mode: str | None = None,
    ) -> str:
        """Validate a request of :meth:`solve` without solving it; the engine that would
        (``"separable"`` or ``"conic"``; see :meth:`prepare`)."""
        return self.prepare(self.request(budget, bounds=bounds, max_change=max_change,
                                         locked=locked, romi_floor=romi_floor, target=target,
                                         budget_mode=budget_mode)).engine

    def prepare(self, request: PlanRequest) -> Prepared:
        """Resolve a request against the model, without solving it.

        Checks what needs the model: the channels named, the limits against each
        other and the budget (:mod:`optimizer.constraints`). Raises what
        :meth:`plan` raises before solving; an infeasibility only the solver
        finds passes. ``engine`` is ``"separable"`` (water filling,
        milliseconds) or ``"conic"`` (a convex program of ``conic_size``
        curve terms: draws x channels, x weeks in per-week mode).
        """
        limits = channel_limits(self.draws, bounds=request.bounds_pairs(),
                                max_change=request.max_change, locked=request.locked,
                                max_spend_multiple=request.max_spend_multiple)
        spec = self._spec(request, limits)
        return Prepared(request, limits, spec, self._engine_for(spec),
                        curve_term_count(self.draws, spec.mode, spec.horizon_weeks))

    def plan(self, request: PlanRequest | Prepared, *, progress: Progress | None = None
             ) -> Plan:
        """The certified plan of a request, or of one already prepared (:meth:`prepare`);
        ``progress`` hears the :data:`PLAN_STEPS` steps (module docstring)."""
        prepared = request if isinstance(request, Prepared) else self.prepare(request)
        report = ignore if progress is None else progress
        solution, fc, certificate = self._optimise(prepared.spec, report)
        report(PLAN_STEPS, PLAN_STEPS, "certified")
        return self._plan(prepared, solution, fc, certificate)

    def conic_size(self) -> int:
        """Curve terms of the convex program: draws x channels, x weeks in per-week mode.

        Each term is an exponential or power cone (or a few linear pieces), so the
        solver's time grows with this number.
        """
        return curve_term_count(self.draws, self.mode, self.horizon_weeks)

    # -- requests --------------------------------------------------------------------------

    def _spec(self, request: PlanRequest, limits: Limits) -> Spec:
        budget, weeks = request.budget, request.horizon_weeks
        mode = request.effective_budget_mode
        if budget is not None:
            check_budget(self.draws, limits, budget, mode, weeks)
        spec = Spec(request.objective, request.mode, weeks, budget,
                    None if budget is None else mode, limits.lower, limits.upper,
                    request.romi_floor, request.target, request.alpha, period=request.period)
        if budget is None and not np.all(np.isfinite(spec.upper)):
            spec = self._finite_upper(spec)
        return spec

    def _finite_upper(self, spec: Spec) -> Spec:
        """For ``min_spend`` without budget or cap: a finite ceiling no optimal channel
        exceeds (the weekly spend of a point that reaches the target)."""
        open_ = ~np.isfinite(spec.upper)
        level = max(float(np.max(self.draws.lam)), float(np.max(self.draws.current)), 1.0)
        for _ in range(200):
            point = np.where(open_, level, spec.upper)
            if self._expected_kpi(spec, point) >= float(spec.target or 0.0):
                ceiling = float(point.sum()) * (1 if spec.mode == "steady" else spec.horizon_weeks)
                return replace(spec, upper=np.where(open_, ceiling, spec.upper))
            level *= 2.0
        raise InfeasibleError(f"KPI target {money(spec.target or 0.0)} cannot be reached: "
                              "the channels saturate below it")

    def _expected_kpi(self, spec: Spec, weekly: NDArray[np.float64]) -> float:
        return float(forecast(self.draws, weekly, horizon_weeks=spec.horizon_weeks,
                              mode=spec.mode).total_kpi.mean())

    # -- solving ---------------------------------------------------------------------------

    def _engine_for(self, spec: Spec) -> str:
        separable = spec.mode == "steady" and spec.objective in SEPARABLE_OBJECTIVES and not (
            spec.objective == "min_spend" and spec.romi_floor is not None)
        if self.engine == "separable" and not separable:
            raise ParameterError("engine: 'separable' covers steady-state conversions, revenue, "
                                 "profit and min_spend (without a ROMI floor) only")
        if self.engine == "auto":
            return "separable" if separable else "conic"
        return self.engine

    def _problem(self, spec: Spec) -> ConicProblem:
        """The built problem of this shape, built on first use and reused after."""
        if not hasattr(self, "problems_"):
            self.problems_: dict[tuple[Any, ...], ConicProblem] = {}
            self.terms_: dict[tuple[str, float], Terms] = {}
        shape = (spec.mode, spec.horizon_weeks)
        if shape not in self.terms_:
            self.terms_[shape] = curve_terms(self.draws, *shape)
        key = (*shape, spec.alpha, *spec.structure)
        if key not in self.problems_:
            self.problems_[key] = build_problem(self.draws, self.terms_[shape], spec)
        return self.problems_[key]

    def _finish(self, spec: Spec, solution: Solution
                ) -> tuple[Solution, Forecast, Certificate]:
        spend = repair(spec, solution.weekly_spend)
        if spec.romi_floor is not None and spec.budget is not None and \
                spec.horizon_spend(spend) <= 1e-7 * spec.budget:
            self._explain(spec)  # only spending nothing meets Rbar - (1+r) spend >= 0
        solution = replace(solution, weekly_spend=spend)
        fc = forecast(self.draws, spend, horizon_weeks=spec.horizon_weeks, mode=spec.mode)
        return solution, fc, certify(self.draws, spec, solution, fc)

    def _optimise(self, spec: Spec, progress: Progress = ignore
                  ) -> tuple[Solution, Forecast, Certificate]:
        if self._engine_for(spec) == "separable":
            return self._separable(spec, progress)
        return self._conic(spec, progress)

    def _separable(self, spec: Spec, progress: Progress = ignore
                   ) -> tuple[Solution, Forecast, Certificate]:
        progress(1, PLAN_STEPS, "water filling")
        solution = solve_separable(self.draws, spec)
        if solution.status in INFEASIBLE:
            self._explain(spec)
        progress(2, PLAN_STEPS, "certifying the plan")
        result = self._finish(spec, solution)
        if not result[2].certified:
            raise SolverError(f"water filling did not certify the plan: relative gap "
                              f"{result[2].gap_rel:.1e}")
        return result

    def _conic(self, spec: Spec, progress: Progress = ignore
               ) -> tuple[Solution, Forecast, Certificate]:
        progress(0, PLAN_STEPS, "building the convex program")
        problem = self._problem(spec)
        scale = spec.budget if spec.budget is not None else \
            spec.horizon_weeks * float(spec.upper.sum()) or 1.0
        problem.assign(spec, scale)
        failures = []
        step = 1
        for attempt, (solver, options) in enumerate(SOLVERS, start=1):
            progress(step, PLAN_STEPS, f"solving with {solver} (attempt {attempt} of "
                                       f"{len(SOLVERS)})")
            try:
                status = problem.run(solver, options)
            except cp.error.SolverError as exc:
                failures.append(f"{solver}: {exc}")
                continue
            if status in INFEASIBLE:
                self._explain(spec)
            if status in OPTIMAL and problem.share.value is not None:
                step = 2  # kept if this answer fails its certificate: done never goes back
                progress(step, PLAN_STEPS, "certifying the plan")
                result = self._finish(spec, problem.solution(spec, solver))
                if result[2].certified:
                    return result
                status += (f", relative gap {result[2].gap_rel:.1e}, violation "
                           f"{result[2].max_violation:.1e}")
            failures.append(f"{solver}: {status}")
        raise SolverError("no solver returned a certified plan (" + "; ".join(failures) + ")")

    # -- explaining infeasibility ----------------------------------------------------------

    def _explain(self, spec: Spec) -> None:
        """Raise an :class:`InfeasibleError` saying which constraint cannot be met."""
        within = "within their bounds" + (
            "" if spec.budget is None else f" and the budget of {money(spec.budget)}")
        if spec.target is not None:
            free = replace(spec, romi_floor=None)
            reach = self._max_kpi(free)
            if reach < spec.target * (1 - 1e-9):
                raise InfeasibleError(f"KPI target {money(spec.target)} cannot be reached: the "
                                      f"channels deliver at most {money(reach)} {within}")
            if spec.romi_floor is None:
                raise InfeasibleError(f"KPI target {money(spec.target)} cannot be reached "
                                      f"{within}")
            raise InfeasibleError(f"ROMI floor {spec.romi_floor:g} cannot be met while reaching "
                                  f"the KPI target {money(spec.target)} {within}")
        if spec.romi_floor is not None:
            best = self._best_romi(spec)
            raise InfeasibleError(f"ROMI floor {spec.romi_floor:g} cannot be reached: the best "
                                  f"ROMI at this budget is {best:.2f}")
        raise InfeasibleError("the constraints cannot all hold (the solver reports them "
                              "infeasible)")

    def _max_kpi(self, spec: Spec) -> float:
        """The most expected KPI the channels deliver within bounds (and budget cap)."""
        if spec.budget is None or spec.horizon_weeks * spec.upper.sum() <= spec.budget:
            return self._expected_kpi(spec, spec.upper)
        best = replace(spec, objective="conversions", target=None, romi_floor=None)
        return float(self._optimise(best)[1].total_kpi.mean())

    def _best_romi(self, spec: Spec) -> float:
        """Highest expected ROMI within the bounds and the budget: the revenue plan at an
        equal budget; under a cap Dinkelbach's iteration on ``max Rbar - p spend``."""
        free = replace(spec, objective="revenue", romi_floor=None, target=None)
        fc = self._optimise(free)[1]
        price = float(fc.total_revenue.mean() / fc.spend.sum())
        if spec.budget_mode == "equal":
            return price - 1.0
        for _ in range(50):
            trial = replace(free, objective="profit", budget_mode="cap", spend_price=price)
            try:
                fc = self._optimise(trial)[1]
            except SolverError:
                break  # near-zero spend, profit ~ 0: the ratio so far is achieved and close
            spend = float(fc.spend.sum())
            if spend <= 1e-9 * float(spec.budget or 1.0):
                break
            ratio = float(fc.total_revenue.mean() / spend)
            if ratio <= price * (1 + 1e-10):
                break
            price = ratio
        return price - 1.0

    # -- the plan --------------------------------------------------------------------------

    def _plan(self, prepared: Prepared, solution: Solution, fc: Forecast,
              certificate: Certificate) -> Plan:
        spec, limits, request = prepared.spec, prepared.limits, prepared.request
        max_change = request.max_change
        current = forecast(self.draws, "current", horizon_weeks=spec.horizon_weeks,
                           mode=spec.mode)
        shadow = solution.target_price if spec.objective == "min_spend" else (
            solution.budget_price if spec.budget_mode == "equal"
            else max(solution.budget_price, 0.0))
        constraints = {
            "max_spend_multiple": request.max_spend_multiple,
            "max_change": dict(max_change) if isinstance(max_change, Mapping) else max_change,
            "locked": list(limits.locked), "romi_floor": spec.romi_floor,
            "target": spec.target, "alpha": spec.alpha if spec.objective == "cvar" else None,
            "limit_sources": {c: {"min": lo, "max": hi} for c, lo, hi in
                              zip(self.draws.channels, limits.lower_source,
                                  limits.upper_source, strict=True)},
        }
        return Plan(spec.objective, solution.status, solution.solver, solution.engine, spec, fc,
                    current, float(shadow), certificate, constraints)


def plan_budget(draws: ResponseDraws, budget: float | None = None, *,
                mode: str = PLAN_DEFAULTS.mode, objective: str = PLAN_DEFAULTS.objective,
                horizon_weeks: float = PLAN_DEFAULTS.horizon_weeks,
                alpha: float = PLAN_DEFAULTS.alpha,
                max_spend_multiple: float | None = PLAN_DEFAULTS.max_spend_multiple,
                engine: str = "auto", **constraints: Any) -> Plan:
    """One plan in one call: ``BudgetAllocator(draws, ...).solve(budget, **constraints)``."""
    allocator = BudgetAllocator(draws, mode=mode, objective=objective,
                                horizon_weeks=horizon_weeks, alpha=alpha,
                                max_spend_multiple=max_spend_multiple, engine=engine)
    return allocator.solve(budget, **constraints)
