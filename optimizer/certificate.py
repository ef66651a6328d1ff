"""Optimality certificates of budget plans: a duality gap computed from the draws.

Every plan carries a gap computed here, independently of the solver's own
statistics (which describe its scaled internal problem). Write each objective
as a maximisation (``min_spend`` maximises ``-spend``) and dualise the budget
(multiplier ``nu``, ``>= 0`` under a cap), the ROMI floor (``mu >= 0``), the
KPI target (``mu_T >= 0``) and, for CVaR, its epigraph constraints (draw
weights ``pi`` in ``Q = {0 <= pi_d <= 1/(alpha D), sum_d pi_d = 1}``, as
``CVaR(K) = min_{pi in Q} sum_d pi_d K_d``). Keeping only the box bounds, the
Lagrangian is

    psi(x) = sum_dc W[d, c] K[d, c](x) - p spend(x) + nu B - mu_T T,
    W = pi_d obj[d, c] + mu_T / D + mu value[d, c] / D,
    p = nu + kappa + mu (1 + r),

with ``K[d, c]`` the channel's horizon KPI in draw ``d``, ``obj`` 1 (KPI) or
the value per KPI (revenue), ``kappa`` the price of spend in the objective (1
for profit and ``min_spend``). By weak duality ``max_box psi`` bounds the
optimum from above for *any* admissible multipliers (they come from the solver
or from water filling, clipped or projected to be admissible; errors in them
only loosen the bound). ``psi`` is concave, so at any point ``z`` of the box,
with ``g = grad psi(z)``,

    max_box psi <= psi(z) + sum_i max(g_i (lo_i - z_i), g_i (hi_i - z_i)).

``z`` starts at the plan and is moved towards the maximiser of ``psi`` by
projected Newton steps on the diagonal curvature (exact for steady state,
where ``psi`` separates by channel), which makes the bound tight; the smallest
bound met is kept. The box is the bounds intersected with what the budget (for
``min_spend`` without one, the plan's own spend) allows a single cell: a
superset of the feasible set. Gap = bound - objective.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from optimizer.forecast import Forecast, channel_kpi, cvar, kpi_gradient
from optimizer.posterior import ResponseDraws
from optimizer.problem import REVENUE_OBJECTIVES, Solution, Spec

Array = NDArray[np.float64]
#: A plan is certified when its relative gap and relative infeasibility are below these.
GAP_TOLERANCE = 1e-6
FEASIBILITY_TOLERANCE = 1e-6
_POLISH_STEPS = 30


@dataclass(frozen=True)
class Certificate:
    """Duality gap of a plan (module docstring): objective, dual bound and gap."""

    sense: str
    primal: float
    dual_bound: float
    gap_abs: float
    gap_rel: float
    max_violation: float
    certified: bool
    method: str = "Lagrangian dual bound, tangent bound after Newton polish (certificate.py)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"sense": self.sense, "primal": self.primal, "dual_bound": self.dual_bound,
                "gap_abs": self.gap_abs, "gap_rel": self.gap_rel,
                "max_violation": self.max_violation, "certified": self.certified,
                "method": self.method}


def capped_simplex(weights: Array, cap: float) -> Array:
    """Euclidean projection onto ``{0 <= w_i <= cap, sum w = 1}`` (bisection on the shift)."""
    low, high = float(weights.min()) - 1.0, float(weights.max())
    for _ in range(200):
        mid = 0.5 * (low + high)
        if np.clip(weights - mid, 0.0, cap).sum() > 1.0:
            low = mid
        else:
            high = mid
    projected = np.clip(weights - 0.5 * (low + high), 0.0, cap)
    return np.asarray(projected / projected.sum())


@dataclass(frozen=True, eq=False)
class Lagrangian:
    """``psi`` of the module docstring for one plan request and admissible multipliers."""

    draws: ResponseDraws
    spec: Spec
    weights: Array
    price: float
    constant: float

    def value(self, x: Array) -> float:
        """``psi(x)``."""
        kpi = channel_kpi(self.draws, x, self.spec.mode, self.spec.horizon_weeks)[0]
        spend = self.spec.horizon_spend(x)
        return float((self.weights * kpi).sum()) - self.price * spend + self.constant

    def gradient(self, x: Array) -> Array:
        """``grad psi(x)``, shaped like ``x``."""
        return kpi_gradient(self.draws, x, self.spec.mode, self.spec.horizon_weeks,
                            self.weights) - self.price * self.spec.cell_weeks

    def curvature(self, x: Array) -> Array:
        """Diagonal of the Hessian of ``psi`` (``s''`` by central differences; it only
        steers the polish, the bound does not depend on it)."""
        draws, lam = self.draws, self.draws.lam
        second = draws.family.derivative
        if self.spec.mode == "steady":
            h = 1e-5 * (x + lam)
            s2 = (second(x + h, lam) - second(x - h, lam)) / (2 * h)
            return np.asarray(self.spec.horizon_weeks * (self.weights * draws.beta * s2)
                              .sum(axis=0))
        a, lam3 = draws.adstocked(x), lam[:, None, :]
        h = 1e-5 * (a + lam3)
        s2 = (second(a + h, lam3) - second(a - h, lam3)) / (2 * h)
        s2 = (self.weights * draws.beta)[:, None, :] * s2
        w2, weeks = draws.carryover_weights ** 2, len(x)
        out = np.zeros_like(s2)
        for lag in range(min(draws.max_lag, weeks)):
            out[:, : weeks - lag] += s2[:, lag:, :] * w2[:, None, :, lag]
        return np.asarray(out.sum(axis=0))

    def bound(self, start: Array, lower: Array, upper: Array) -> float:
        """Smallest tangent bound on ``max_box psi`` along a projected Newton ascent."""
        x, value, grad = start, self.value(start), self.gradient(start)
        best = value + float(np.maximum(grad * (lower - x), grad * (upper - x)).sum())
        for _ in range(_POLISH_STEPS):
            curv = np.minimum(self.curvature(x), -1e-300)
            step = np.clip(x - grad / curv, lower, upper) - x
            for shrink in 0.5 ** np.arange(12):
                trial = x + shrink * step
                trial_value = self.value(trial)
                if trial_value >= value:
                    break
            else:
                break
            x, value, grad = trial, trial_value, self.gradient(trial)
            tangent = value + float(np.maximum(grad * (lower - x), grad * (upper - x)).sum())
            if tangent >= best - 1e-14 * abs(best):
                break
            best = tangent
        return best


def lagrangian(draws: ResponseDraws, spec: Spec, sol: Solution) -> Lagrangian:
    """The Lagrangian of ``spec`` at the (made admissible) multipliers of ``sol``."""
    n_draws, value = draws.n_draws, draws.revenue_factor
    nu = sol.budget_price if spec.budget_mode == "equal" else max(sol.budget_price, 0.0)
    mu, mu_t = max(sol.romi_price, 0.0), max(sol.target_price, 0.0)
    if spec.objective == "cvar":
        raw = sol.draw_weights if sol.draw_weights is not None else np.full(n_draws, 1 / n_draws)
        pi = capped_simplex(np.asarray(raw, dtype=float), 1.0 / (spec.alpha * n_draws))
    else:
        pi = np.full(n_draws, 0.0 if spec.objective == "min_spend" else 1.0 / n_draws)
    obj = value if spec.objective in REVENUE_OBJECTIVES else 1.0
    weights = pi[:, None] * obj + mu_t / n_draws + mu * value / n_draws
    kappa = {"profit": spec.spend_price, "min_spend": 1.0}.get(spec.objective, 0.0)
    price = nu + kappa + mu * (1.0 + (spec.romi_floor or 0.0))
    constant = (nu * spec.budget if spec.budget is not None else 0.0) - mu_t * (spec.target or 0)
    return Lagrangian(draws, spec, np.asarray(weights), price, constant)


def objective_value(spec: Spec, fc: Forecast) -> float:
    """The objective of ``spec`` at a forecast, as a maximisation."""
    spend = float(fc.spend.sum())
    if spec.objective == "conversions":
        return float(fc.total_kpi.mean())
    if spec.objective == "revenue":
        return float(fc.total_revenue.mean())
    if spec.objective == "profit":
        return float(fc.total_revenue.mean() - spec.spend_price * spend)
    if spec.objective == "cvar":
        return cvar(fc.total_kpi, spec.alpha)
    return -spend


def violation(spec: Spec, fc: Forecast) -> float:
    """Largest relative violation of the budget, bounds, ROMI floor and target."""
    spend = float(fc.spend.sum())
    lower, upper = spec.cell_bounds()
    size = max(float(np.max(np.where(np.isfinite(upper), upper, 0.0))), 1e-300)
    parts = [float(np.max(np.maximum(lower - fc.weekly_spend, fc.weekly_spend - upper)
                          .clip(0.0))) / size]
    if spec.budget is not None:
        excess = spend - spec.budget
        parts.append((abs(excess) if spec.budget_mode == "equal" else max(excess, 0.0))
                     / spec.budget)
    if spec.romi_floor is not None and spend > 0:
        parts.append(max((1 + spec.romi_floor) * spend - fc.total_revenue.mean(), 0.0) / spend)
    if spec.target is not None:
        parts.append(max(spec.target - fc.total_kpi.mean(), 0.0) / max(spec.target, 1e-300))
    return max(parts)


def certify(draws: ResponseDraws, spec: Spec, sol: Solution, fc: Forecast) -> Certificate:
    """Dual bound and gap of the plan ``fc`` solving ``spec`` with multipliers from ``sol``."""
    spend = float(fc.spend.sum())
    lower, upper = spec.cell_bounds(spec.budget if spec.budget is not None else spend)
    bound = lagrangian(draws, spec, sol).bound(fc.weekly_spend, lower, upper)
    primal = objective_value(spec, fc)
    gap = bound - primal
    # Profit is a difference of two large terms; measure the gap against their size.
    size = float(fc.total_revenue.mean()) + spec.spend_price * spend \
        if spec.objective == "profit" else 0.0
    scale = max(abs(primal), abs(bound), size, 1e-300)
    worst = violation(spec, fc)
    minimise = spec.objective == "min_spend"
    return Certificate(
        "minimize" if minimise else "maximize", -primal if minimise else primal,
        -bound if minimise else bound, gap, gap / scale, worst,
        bool(gap / scale <= GAP_TOLERANCE and worst <= FEASIBILITY_TOLERANCE))
