"""The budget problems as convex programs, built once with cvxpy Parameters.

Decision: ``y``, the share of the horizon budget ``S`` spent per channel
(steady state: weekly spend ``x_c = S y_c / H``) or per week and channel
(``X[t, c] = S y[t C + c]``). Shares are of order one whatever the currency,
which keeps the solver well conditioned; ``S`` is a Parameter, so a new budget
re-solves the problem already built (cvxpy's DPP).

Each posterior draw ``d`` contributes curve terms ``s(z_i; lam_i)`` with
``z = P (S y) + q`` affine in the decision: ``P`` repeats the weekly spend of a
channel for every draw (steady) or applies that draw's normalised adstock
weights (per week, ``q`` the carryover of the history). Horizon KPI of draw
``d``: ``K_d = sum_i G[d, i] s(z_i) - K0_d`` with ``G`` holding ``H beta``
(steady) or ``beta`` (per week) and ``K0`` the carryover alone. The draws are
constants baked into the problem; budget, bounds, target, ROMI floor and the
price of spend are Parameters.

Objectives (``Kbar = mean_d K_d``, revenue ``R_d`` with ``value_per_kpi``):

* ``conversions``: ``max Kbar``; ``revenue``: ``max Rbar``;
* ``profit``: ``max Rbar - spend`` (the budget is a cap);
* ``cvar``: ``max t - sum_d (t - K_d)_+ / (alpha D)`` (Rockafellar & Uryasev
  2000), the mean of the worst ``alpha`` share of draws;
* ``min_spend``: ``min spend`` subject to ``Kbar >= target``.

Constraints: box bounds on every cell, the budget (``sum y = 1`` or
``sum y <= 1``) and the ROMI floor ``Rbar - (1 + r) spend >= 0`` (concave >= 0).
Each side is divided by a fixed scale (the KPI or revenue at saturation) so
objective and constraints are of order one too, and as every registered curve
is a function of ``x / lam`` alone (checked), the curve arguments are
``z / lam`` (``s(z; lam) = s(z / lam; 1)``), also of order one; with raw
arguments Clarabel lost accuracy on the Michaelis-Menten form.

Reference: Rockafellar, R. T. & Uryasev, S. (2000). Optimization of conditional
value-at-risk. *Journal of Risk* 2(3), 21-41.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from optimizer.curves import CurveFamily
from optimizer.posterior import ResponseDraws
from optimizer.problem import REVENUE_OBJECTIVES, Solution, Spec

Array = NDArray[np.float64]
_TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}
#: Solver attempts in order. Clarabel's default step (0.99) stalls on some
#: exponential-cone problems of this shape; shorter steps rarely do, and the
#: tighter tolerances give spend accurate to ~1e-9 (an objective accurate to
#: 1e-8 leaves the spend at a flat optimum uncertain to ~1e-4). cvxpy's in-place
#: Clarabel update (warm_start) gave less accurate answers than a fresh solve
#: of the same data, so it is off. SCS, tightened, is the last resort.
SOLVERS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("CLARABEL", {"warm_start": False, "max_step_fraction": 0.95, **_TIGHT}),
    ("CLARABEL", {"warm_start": False, "max_step_fraction": 0.9, **_TIGHT}),
    ("SCS", {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000}),
)
OPTIMAL = ("optimal", "optimal_inaccurate")
INFEASIBLE = ("infeasible", "infeasible_inaccurate")


@dataclass(frozen=True, eq=False)
class Terms:
    """Curve terms of one mode and horizon (module docstring)."""

    spread: sp.csr_array
    offset: Array
    lam: Array
    kpi_weights: sp.csr_array
    value: Array
    carry_kpi: Array
    carry_revenue: Array
    kpi_scale: float
    revenue_scale: float
    n_decisions: int


def _scale_free(family: CurveFamily) -> bool:
    """Whether ``s(x; lam) = s(x / lam; 1)`` (true of every registered family), checked
    on a grid."""
    x = np.geomspace(1e-3, 1e3, 25)[:, None] * np.array([0.5, 7.0, 3e4])
    lam = np.array([0.5, 7.0, 3e4])
    return bool(np.allclose(family.numpy(x, lam), family.numpy(x / lam, 1.0), rtol=1e-12,
                            atol=0.0))


def curve_terms(draws: ResponseDraws, mode: str, horizon_weeks: float) -> Terms:
    """Build ``P``, ``q``, ``G`` and the scales for ``draws`` (module docstring); a steady
    horizon may be a period's fraction of weeks, a per-week one is whole."""
    n_draws, n_ch = draws.n_draws, draws.n_channels
    if mode == "steady":
        weeks = horizon_weeks
        rows = np.arange(n_draws * n_ch)
        spread = sp.csr_array((np.full(rows.size, 1.0 / weeks), (rows, rows % n_ch)),
                              shape=(rows.size, n_ch))
        offset, lam = np.zeros(rows.size), draws.lam.ravel()
        beta, value = weeks * draws.beta.ravel(), draws.revenue_factor.ravel()
        n_terms, per_draw = rows.size, n_ch
    else:
        weeks = int(horizon_weeks)
        w = draws.carryover_weights
        parts = []
        for lag in range(min(draws.max_lag, weeks)):
            d, t, c = np.meshgrid(np.arange(n_draws), np.arange(lag, weeks), np.arange(n_ch),
                                  indexing="ij")
            parts.append((((d * weeks + t) * n_ch + c).ravel(), ((t - lag) * n_ch + c).ravel(),
                          np.broadcast_to(w[:, None, :, lag], d.shape).ravel()))
        rows, cols, vals = (np.concatenate(p) for p in zip(*parts, strict=True))
        n_terms, per_draw = n_draws * weeks * n_ch, weeks * n_ch
        spread = sp.csr_array((vals, (rows, cols)), shape=(n_terms, weeks * n_ch))
        offset = draws.adstocked(np.zeros((weeks, n_ch))).ravel()
        lam = np.repeat(draws.lam[:, None, :], weeks, axis=1).ravel()
        beta = np.repeat(draws.beta[:, None, :], weeks, axis=1).ravel()
        value = np.repeat(draws.revenue_factor[:, None, :], weeks, axis=1).ravel()
    if _scale_free(draws.family):
        # s(x; lam) = s(x / lam; 1): arguments of order one condition the cones far better.
        spread = sp.csr_array(sp.diags(1.0 / lam) @ spread)
        offset, curve_lam = offset / lam, np.ones_like(lam)
    else:
        curve_lam = lam
    draw_of = np.arange(n_terms) // per_draw
    kpi_weights = sp.csr_array((beta, (draw_of, np.arange(n_terms))), shape=(n_draws, n_terms))
    carry_curve = draws.family.numpy(offset, curve_lam)
    carry = kpi_weights @ carry_curve
    carry_rev = kpi_weights.multiply(value[None, :]).tocsr() @ carry_curve
    kpi_scale = float(beta.sum() / n_draws) or 1.0
    revenue_scale = float((beta * value).sum() / n_draws) or 1.0
    return Terms(spread, offset, curve_lam, kpi_weights, value, np.asarray(carry),
                 np.asarray(carry_rev), kpi_scale, revenue_scale, spread.shape[1])


@dataclass(eq=False)
class ConicProblem:
    """A built problem, its Parameters and the constraints whose duals we read."""

    problem: cp.Problem
    share: cp.Variable
    params: dict[str, cp.Parameter]
    duals: dict[str, cp.Constraint]
    terms: Terms
    structure: tuple[str, str | None, bool]
    scale: dict[str, float] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def assign(self, spec: Spec, scale: float) -> None:
        """Set the Parameters for ``spec`` with decision shares of ``scale`` (horizon spend)."""
        lower, upper = spec.cell_bounds(spec.budget)
        weeks = spec.cell_weeks
        upper = np.where(np.isfinite(upper), upper, 1e6 * scale)
        self.runs = []
        p = self.params
        p["scale"].value = float(scale)
        p["lower"].value = (weeks * lower / scale).ravel()
        p["upper"].value = (weeks * upper / scale).ravel()
        t = self.terms
        if "spend_price" in p:
            p["spend_price"].value = spec.spend_price * scale / t.revenue_scale
        if "romi_price" in p:
            p["romi_price"].value = (1.0 + float(spec.romi_floor or 0.0)) * scale / \
                t.revenue_scale
        if "target" in p:
            p["target"].value = (float(spec.target or 0.0) + t.carry_kpi.mean()) / t.kpi_scale
        objective_scale = scale if spec.objective == "min_spend" else (
            t.revenue_scale if spec.objective in REVENUE_OBJECTIVES else t.kpi_scale)
        self.scale = {"spend": scale, "objective": objective_scale}

    def run(self, solver: str, options: dict[str, Any]) -> str:
        """Solve with ``solver`` (built problem, current Parameter values); the status.

        Each attempt's cvxpy compilation time (the full DPP compilation the first
        time, Parameter substitution after) and solver time go to ``runs``.
        """
        start = time.perf_counter()
        status = "solver error"
        try:
            with warnings.catch_warnings():
                # The status is checked and the answer certified by the caller.
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                self.problem.solve(solver=solver, **options)
            status = str(self.problem.status)
        finally:
            compile_s = float(self.problem.compilation_time or 0.0)
            self.runs.append({"solver": solver, "status": status, "compile_s": compile_s,
                              "solve_s": time.perf_counter() - start - compile_s})
        return status

    def solution(self, spec: Spec, solver: str) -> Solution:
        """The weekly spend and the multipliers converted back to original units."""
        spend, objective = self.scale["spend"], self.scale["objective"]
        share = np.asarray(self.share.value, dtype=float)
        weekly = spec.per_cell(spend) * share if spec.mode == "steady" else \
            (spend * share).reshape(int(spec.horizon_weeks), -1)

        def dual(name: str, per: float) -> float:
            con = self.duals.get(name)
            return 0.0 if con is None else float(np.sum(con.dual_value)) * objective / per

        pi = self.duals.get("cvar")
        return Solution(
            np.maximum(weekly, 0.0), str(self.problem.status), solver, "conic",
            budget_price=dual("budget", spend),
            romi_price=dual("romi", self.terms.revenue_scale),
            target_price=dual("target", self.terms.kpi_scale),
            draw_weights=None if pi is None else np.asarray(pi.dual_value, dtype=float),
        )


def build_problem(draws: ResponseDraws, terms: Terms, spec: Spec) -> ConicProblem:
    """Build the problem of ``spec.structure`` once; :meth:`ConicProblem.assign` fills it."""
    objective_name, budget_mode, has_romi = spec.structure
    m = terms.n_decisions
    params = {"scale": cp.Parameter(pos=True, name="scale"),
              "lower": cp.Parameter(m, nonneg=True, name="lower"),
              "upper": cp.Parameter(m, nonneg=True, name="upper")}
    share = cp.Variable(m, name="share")
    z = terms.spread @ cp.multiply(params["scale"], share)
    if np.any(terms.offset):
        z = z + terms.offset
    curves = draws.family.cvxpy(z, terms.lam)
    n_draws = draws.n_draws
    mean_kpi = np.asarray(terms.kpi_weights.sum(axis=0)).ravel() / n_draws
    kpi_bar = mean_kpi @ curves / terms.kpi_scale
    rev_bar = (mean_kpi * terms.value) @ curves / terms.revenue_scale
    constraints: list[cp.Constraint] = [share >= params["lower"], share <= params["upper"]]
    duals: dict[str, cp.Constraint] = {}
    if budget_mode is not None:
        duals["budget"] = cp.sum(share) == 1 if budget_mode == "equal" else cp.sum(share) <= 1
    if has_romi:
        params["romi_price"] = cp.Parameter(nonneg=True, name="romi_price")
        duals["romi"] = rev_bar - params["romi_price"] * cp.sum(share) >= \
            terms.carry_revenue.mean() / terms.revenue_scale
    objective: cp.Minimize | cp.Maximize
    if objective_name == "conversions":
        objective = cp.Maximize(kpi_bar)
    elif objective_name == "revenue":
        objective = cp.Maximize(rev_bar)
    elif objective_name == "profit":
        params["spend_price"] = cp.Parameter(nonneg=True, name="spend_price")
        objective = cp.Maximize(rev_bar - params["spend_price"] * cp.sum(share))
    elif objective_name == "cvar":
        level, worst = cp.Variable(name="var_level"), cp.Variable(n_draws, nonneg=True)
        kpi = terms.kpi_weights @ curves / terms.kpi_scale - terms.carry_kpi / terms.kpi_scale
        duals["cvar"] = worst >= level - kpi
        objective = cp.Maximize(level - cp.sum(worst) / (spec.alpha * n_draws))
    else:
        params["target"] = cp.Parameter(name="target")
        duals["target"] = kpi_bar >= params["target"]
        objective = cp.Minimize(cp.sum(share))
    problem = cp.Problem(objective, constraints + list(duals.values()))
    return ConicProblem(problem, share, params, duals, terms, spec.structure)
