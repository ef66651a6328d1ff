"""Exact steady-state plans for objectives that separate by channel: water filling.

The expected horizon KPI (or revenue) of a steady weekly spend ``x`` is
``H sum_c f_c(x_c)`` with ``f_c(x) = sum_d a[d, c] s(x; lam[d, c])`` and
``a = beta / D`` (or ``beta value / D``): a sum of one-dimensional concave
curves, coupled only by the budget (and the ROMI floor). The Karush-Kuhn-Tucker
conditions of

    max  H sum_c f_c(x_c) - kappa H sum_c x_c
    s.t. H sum_c x_c = B (or <= B),   lo <= x <= hi

say every channel spends where its marginal return meets a common price ``p``,

    x_c(p) = lo_c              if f_c'(lo_c) <= p
           = hi_c              if f_c'(hi_c) >= p
           = f_c'^{-1}(p)      otherwise,

with ``p = kappa + nu`` and the budget's shadow price ``nu`` set so the spend
adds up to ``B`` (``nu = 0`` under a cap that does not bind). ``sum_c x_c(p)``
falls as ``p`` rises, so ``p`` is found by Brent's method and each
``f_c'^{-1}(p)`` by a safeguarded Newton iteration on the monotone ``f_c'``.
No approximation of the objective is involved: the plan is the optimum to
rounding, and its certificate (:func:`optimizer.certificate.certify`) shows it.

The ROMI floor ``Rbar(x) - (1 + r) spend >= 0`` adds a multiplier ``mu``:
maximise ``F + mu (Rbar - (1+r) spend)``, a separable problem again, whose
solution's ROMI slack rises with ``mu`` (so ``mu`` is found by Brent too).
``min_spend`` (spend least to reach ``Kbar >= T``) is water filling at the price
``p = 1 / mu_T`` chosen so that ``Kbar(x(p)) = T``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from optimizer.posterior import ResponseDraws
from optimizer.problem import REVENUE_OBJECTIVES, Solution, Spec

Array = NDArray[np.float64]
#: Relative tolerance of the spend per channel and of the prices.
_RTOL = 1e-13
_MAX_NEWTON = 200
_MAX_BRACKET = 80


def channel_spend(marginal: Callable[[Array], Array], price: float, lo: Array, hi: Array,
                  start: Array, scale: Array) -> Array:
    """``argmax_{lo <= x <= hi} f_c(x) - price x`` for every channel at once.

    ``marginal`` is the vector of ``f_c'``, decreasing in each coordinate.
    Newton steps with a forward-difference slope, kept inside a bracket that
    shrinks with every evaluation (bisection when a step leaves it).
    """
    excess_lo, excess_hi = marginal(lo) - price, marginal(hi) - price
    x = np.where(excess_lo <= 0, lo, np.where(excess_hi >= 0, hi, np.clip(start, lo, hi)))
    active = (excess_lo > 0) & (excess_hi < 0)
    left, right = lo.copy(), hi.copy()
    for _ in range(_MAX_NEWTON):
        if not active.any():
            break
        excess = marginal(x) - price
        left = np.where(active & (excess > 0), x, left)
        right = np.where(active & (excess < 0), x, right)
        step = 1e-7 * (x + scale)
        slope = (marginal(x + step) - price - excess) / step
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - excess / slope
        inside = (newton > left) & (newton < right) & np.isfinite(newton)
        moved = np.where(inside, newton, 0.5 * (left + right))
        done = (np.abs(moved - x) <= _RTOL * (x + scale)) | (excess == 0) | \
            (right - left <= _RTOL * (x + scale))
        x = np.where(active & (excess != 0), moved, x)
        active &= ~done
    return x


class _Curves:
    """``f_c`` and ``f_c'`` of a weight matrix ``a`` (draws x channels), steady state."""

    def __init__(self, draws: ResponseDraws, weights: Array) -> None:
        self.draws, self.weights = draws, weights
        self.scale = draws.lam.mean(axis=0)

    def marginal(self, x: Array) -> Array:
        return np.asarray((self.weights * self.draws.family.derivative(x, self.draws.lam))
                          .sum(axis=0))

    def value(self, x: Array) -> Array:
        return np.asarray((self.weights * self.draws.family.numpy(x, self.draws.lam)).sum(axis=0))


def fill(curves: _Curves, offset: float, lo: Array, hi: Array, total: float, cap: bool
         ) -> tuple[Array, float]:
    """Water filling: ``(x, nu)`` maximising ``sum f_c(x_c) - offset sum x_c`` with
    ``sum x_c = total`` (or ``<= total`` if ``cap``) and ``lo <= x <= hi``."""
    state = {"x": lo.copy()}

    def spend_at(price: float) -> Array:
        state["x"] = channel_spend(curves.marginal, price, lo, hi, state["x"], curves.scale)
        return state["x"]

    if cap and spend_at(offset).sum() <= total:
        return state["x"], 0.0
    low, high = float(curves.marginal(hi).min()), float(curves.marginal(lo).max())
    if high - low <= _RTOL * max(high, 1e-300):
        return spend_at(high), high - offset
    price = brentq(lambda p: spend_at(p).sum() - total, low, high, xtol=1e-300,
                   rtol=4 * np.finfo(float).eps, maxiter=400)
    return spend_at(price), float(price) - offset


def _objective_weights(draws: ResponseDraws, objective: str) -> Array:
    base = draws.beta / draws.n_draws
    return np.asarray(base * draws.revenue_factor if objective in REVENUE_OBJECTIVES else base)


def _with_romi(draws: ResponseDraws, spec: Spec, total: float, kappa: float) -> Solution:
    """Brent on the ROMI multiplier ``mu``: the smallest ``mu`` whose plan meets the floor."""
    base = _objective_weights(draws, spec.objective)
    revenue = draws.beta * draws.revenue_factor / draws.n_draws
    rate = 1.0 + float(spec.romi_floor or 0.0)
    cap = spec.budget_mode == "cap"

    def plan(mu: float) -> tuple[Array, float, float]:
        x, nu = fill(_Curves(draws, base + mu * revenue), kappa + mu * rate, spec.lower,
                     spec.upper, total, cap)
        slack = float(_Curves(draws, revenue).value(x).sum() - rate * x.sum())
        return x, nu, slack

    x, nu, slack = plan(0.0)
    if slack >= 0:
        return Solution(x, "optimal", "water-filling", "separable", budget_price=nu)
    best, _ = fill(_Curves(draws, revenue), rate, spec.lower, spec.upper, total, cap)
    # Spending nothing meets Rbar - (1+r) spend >= 0 trivially; that is no plan.
    if _Curves(draws, revenue).value(best).sum() - rate * best.sum() < 0 or best.sum() <= 0:
        return Solution(best, "infeasible", "water-filling", "separable")
    high = 1.0
    for _ in range(_MAX_BRACKET):
        if plan(high)[2] >= 0:
            break
        high *= 4.0
    else:
        return Solution(best, "infeasible", "water-filling", "separable")
    mu = brentq(lambda m: plan(m)[2], 0.0, high, xtol=1e-300, rtol=_RTOL, maxiter=400)
    x, nu, slack = plan(float(mu))
    return Solution(x, "optimal", "water-filling", "separable", budget_price=nu,
                    romi_price=float(mu))


def _min_spend(draws: ResponseDraws, spec: Spec) -> Solution:
    """Water filling at the price that makes the expected KPI equal the target."""
    curves = _Curves(draws, draws.beta / draws.n_draws)
    weeks, target = spec.horizon_weeks, float(spec.target or 0.0)
    lo, hi = spec.lower, spec.upper
    if weeks * curves.value(lo).sum() >= target:
        return Solution(lo.copy(), "optimal", "water-filling", "separable")
    if weeks * curves.value(hi).sum() < target:
        return Solution(hi.copy(), "infeasible", "water-filling", "separable")
    state = {"x": lo.copy()}

    def shortfall(price: float) -> float:
        state["x"] = channel_spend(curves.marginal, price, lo, hi, state["x"], curves.scale)
        return float(weeks * curves.value(state["x"]).sum() - target)

    low, high = float(curves.marginal(hi).min()), float(curves.marginal(lo).max())
    price = float(brentq(shortfall, low, high, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                         maxiter=400))
    shortfall(price)
    x = state["x"]
    status = "optimal"
    if spec.budget is not None and weeks * x.sum() > spec.budget:
        status = "infeasible"
    return Solution(x, status, "water-filling", "separable", target_price=1.0 / price)


def solve_separable(draws: ResponseDraws, spec: Spec) -> Solution:
    """Exact steady-state plan of a mean-type objective (module docstring)."""
    if spec.budget is not None:
        # No channel can take more than the whole budget: keeps every bracket finite.
        spec = replace(spec, upper=np.minimum(spec.upper, spec.per_cell(spec.budget)))
    if spec.objective == "min_spend":
        return _min_spend(draws, spec)
    total = spec.per_cell(float(spec.budget or 0.0))
    kappa = spec.spend_price if spec.objective == "profit" else 0.0
    if spec.romi_floor is not None:
        return _with_romi(draws, spec, total, kappa)
    x, nu = fill(_Curves(draws, _objective_weights(draws, spec.objective)), kappa, spec.lower,
                 spec.upper, total, spec.budget_mode == "cap")
    return Solution(x, "optimal", "water-filling", "separable", budget_price=nu)
