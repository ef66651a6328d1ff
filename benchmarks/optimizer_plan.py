"""Timings of budget plans against the project's targets.

Data: synthetic posterior draws (exponential curves, geometric adstock with
``max_lag=4``, eight weeks of history), seed 0, built directly as
:class:`~optimizer.posterior.ResponseDraws`. What is measured, wall time
(``time.perf_counter``):

* **first**: a fresh :class:`~optimizer.allocator.BudgetAllocator` solving one
  budget: building the problem (curve terms, cvxpy expressions), compiling it
  (cvxpy's DPP compilation, shown as ``(compile)``), solving, forecasting the
  plan and the current allocation, certifying the gap;
* **re-solve**: one allocator, built once on another budget, solving the same
  budgets: only Parameter values change (``(compile)`` is then cvxpy's
  Parameter substitution, ``(solver)`` the solver's own time, all attempts);

each the median over three budgets (0.9, 1.0 and 1.2 x the current spend).

Run: ``python -m benchmarks.optimizer_plan [--quick] [--json FILE]`` (``--quick``
skips the 50-channel conic reference row, which only shows why the separable
engine exists).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

import numpy as np

from optimizer.allocator import BudgetAllocator
from optimizer.posterior import ResponseDraws

SEED = 0
WARM_UP_SHARE = 0.8
BUDGET_SHARES = (0.9, 1.0, 1.2)


@dataclass(frozen=True)
class Case:
    """One benchmark row's settings and target (seconds, first build + solve)."""

    name: str
    channels: int
    draws: int
    mode: str = "steady"
    weeks: int = 4
    objective: str = "conversions"
    engine: str = "auto"
    target: float | None = None


CASES = (
    Case("steady, mean", 10, 500, target=0.2),
    Case("steady, mean", 10, 500, engine="conic"),
    Case("steady, CVaR 10%", 10, 500, objective="cvar", target=1.0),
    Case("steady, mean", 50, 1000, target=1.0),
    Case("steady, mean", 50, 1000, engine="conic"),
    Case("per week, mean", 10, 200, mode="per_week", weeks=8, target=5.0),
    Case("per week, CVaR 10%", 10, 200, mode="per_week", weeks=8, objective="cvar"),
)


def synthetic_draws(n_draws: int, n_channels: int, seed: int = SEED) -> ResponseDraws:
    """Channels on different scales, draws spread around each channel's curve."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(5.0, 2_000.0, (1, n_channels)) * rng.lognormal(0, 0.25, (n_draws, n_channels))
    beta = rng.gamma(5.0, 100.0, (1, n_channels)) * rng.lognormal(0, 0.25, (n_draws, n_channels))
    current = lam.mean(axis=0) * rng.uniform(0.5, 1.5, n_channels)
    return ResponseDraws(
        channels=tuple(f"channel_{i:02d}" for i in range(n_channels)), curve_name="exponential",
        beta=beta, lam=lam, alpha=rng.uniform(0.1, 0.7, (n_draws, n_channels)), max_lag=4,
        value_per_kpi=np.full(n_channels, 20.0), baseline=np.zeros(n_draws),
        history=rng.uniform(0.5, 1.5, (8, n_channels)) * current, current=current,
        max_weekly_spend=2 * current)


@dataclass(frozen=True)
class Row:
    """One measured case (medians over the budgets)."""

    case: str
    engine: str
    size: str
    first_s: float
    first_compile_s: float | None
    resolve_s: float
    resolve_compile_s: float | None
    solver_s: float | None
    target_s: float | None
    gap_rel: float
    solver: str

    @property
    def met(self) -> str:
        """Whether the first build + solve met the target."""
        return "-" if self.target_s is None else ("yes" if self.first_s < self.target_s else "NO")


def _runs(model: BudgetAllocator) -> list[dict[str, Any]]:
    problems = getattr(model, "problems_", {})
    return [run for problem in problems.values() for run in problem.runs]


def run_case(case: Case) -> Row:
    """Time fresh allocators against one reused allocator on the same budgets."""
    draws = synthetic_draws(case.draws, case.channels)
    budget = case.weeks * float(draws.current.sum())

    def allocator() -> BudgetAllocator:
        return BudgetAllocator(draws, mode=case.mode, objective=case.objective,
                               horizon_weeks=case.weeks, engine=case.engine)

    reused = allocator()
    reused.solve(budget * WARM_UP_SHARE)  # builds the problem once
    first, first_compile, again, again_compile, solver = [], [], [], [], []
    for share in BUDGET_SHARES:
        fresh = allocator()
        start = time.perf_counter()
        fresh.solve(budget * share)
        first.append(time.perf_counter() - start)
        first_compile += [r["compile_s"] for r in _runs(fresh)[:1]]
        start = time.perf_counter()
        plan = reused.solve(budget * share)
        again.append(time.perf_counter() - start)
        runs = _runs(reused)
        again_compile += [sum(r["compile_s"] for r in runs)] if runs else []
        solver += [sum(r["solve_s"] for r in runs)] if runs else []
    size = f"{case.channels} ch x {case.draws} draws" + (
        f" x {case.weeks} wk" if case.mode == "per_week" else "")

    def mid(values: list[float]) -> float | None:
        return median(values) if values else None

    return Row(case.name, plan.engine, size, median(first), mid(first_compile), median(again),
               mid(again_compile), mid(solver), case.target, plan.certificate.gap_rel,
               plan.solver)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_rows(rows: list[Row]) -> str:
    """A plain-text table of the rows."""
    headers = ("case", "engine", "size", "first", "(compile)", "re-solve", "(compile)",
               "(solver)", "target", "met", "gap", "solver")
    cells = [(r.case, r.engine, r.size, _seconds(r.first_s), _seconds(r.first_compile_s),
              _seconds(r.resolve_s), _seconds(r.resolve_compile_s), _seconds(r.solver_s),
              "-" if r.target_s is None else f"< {r.target_s:g}", r.met,
              f"{r.gap_rel:.1e}", r.solver) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(c) for c in cells)])


def main(argv: list[str] | None = None) -> None:
    """Run every case and print the table (and optionally write JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 50-channel conic row")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if not (args.quick and c.channels == 50 and c.engine == "conic")]
    rows = [run_case(case) for case in cases]
    print(f"spendwise optimizer plans — {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(format_rows(rows))
    if args.json:
        payload: dict[str, Any] = {"rows": [{**asdict(r), "met": r.met} for r in rows]}
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)


if __name__ == "__main__":
    main()
