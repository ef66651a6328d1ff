"""Optimizer benchmark: fit, plan recovery on the true curves, and plan speed.

Runs, in one command and one table:

1. the response-model fit on the media fixture (104 weeks x 8 channels, 2 chains
   x 1000 draws, the default sampler), its convergence and how many channels'
   true total contributions fall inside their 90% intervals
   (``benchmarks.optimizer_fit``);
2. **plan recovery**: a fit of the whole fixture (with its nine lift tests),
   then a steady-state plan of the fixture's budget (the truth's
   ``optimum.budget`` per week, from the same current allocation and the same
   caps as the true optimum), evaluated on the TRUE curves of
   ``fixtures/media_truth.json``: the share of the true optimum's gain over the
   current allocation that the plan achieves (target: at least 97%). The same
   is reported for a fit without the lift tests, to show what calibration buys;
3. plan timings on synthetic posteriors (``benchmarks.optimizer_plan``).

Run: ``python -m benchmarks.optimizer [--skip-fit] [--skip-plan-timings] [--seed S]
[--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import optimizer_fit, optimizer_plan
from optimizer.allocator import BudgetAllocator
from optimizer.curves import curve
from optimizer.data import MediaData
from optimizer.response_model import ResponseModel

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
TARGET_SHARE = 0.97


def true_media_kpi(truth: dict[str, Any], spend: dict[str, float]) -> float:
    """Steady-state weekly media conversions of a weekly spend on the true curves."""
    family = curve(truth["curve"])
    total = 0.0
    for name, params in truth["channels"].items():
        total += params["beta"] * float(family.numpy(spend.get(name, 0.0), params["lam"]))
    return total


def plan_recovery(seed: int = 0, lift_tests: bool = True) -> dict[str, Any]:
    """Fit the fixture, plan its budget and score the plan on the true curves."""
    truth = json.loads((FIXTURES / "media_truth.json").read_text(encoding="utf-8"))
    optimum = truth["optimum"]
    data = MediaData.from_files(FIXTURES / "media_spend.csv", FIXTURES / "media_outcomes.csv",
                                controls=FIXTURES / "media_controls.csv",
                                lift_tests=FIXTURES / "media_lift_tests.csv" if lift_tests
                                else None)
    started = time.perf_counter()
    model = ResponseModel(seed=seed).fit(data)
    fit_seconds = time.perf_counter() - started
    draws = model.response_draws()
    current = np.array([optimum["current"][c] for c in draws.channels])
    caps = np.array([optimum["upper_bounds"][c] for c in draws.channels])
    # The true optimum's caps are 1.5 x the largest weekly spend, as the allocator's default.
    draws = replace(draws, current=current, max_weekly_spend=caps / 1.5)
    started = time.perf_counter()
    plan = BudgetAllocator(draws, horizon_weeks=1).solve(optimum["budget"])
    plan_seconds = time.perf_counter() - started
    planned = dict(zip(draws.channels, plan.weekly_spend.tolist(), strict=True))
    current_kpi = true_media_kpi(truth, optimum["current"])
    gain = true_media_kpi(truth, planned) - current_kpi
    result = model.result_
    return {
        "lift_tests": lift_tests,
        "seed": seed,
        "status": result.status,
        "max_r_hat": result.max_r_hat,
        "min_ess_bulk": result.min_ess_bulk,
        "divergences": result.divergences,
        "fit_seconds": fit_seconds,
        "plan_seconds": plan_seconds,
        "true_gain_of_plan": gain,
        "true_optimal_gain": optimum["gain"],
        "share_of_optimal_gain": gain / optimum["gain"],
        "met": gain / optimum["gain"] >= TARGET_SHARE,
        "plan": planned,
        "optimal": optimum["optimal"],
    }


def recovery_table(results: list[dict[str, Any]]) -> str:
    """Recovery as text: planned against truly optimal spend per channel, one column per fit."""
    names = [("with lift tests" if r["lift_tests"] else "no lift tests") for r in results]
    head = f"{'channel':<12}" + "".join(f"{n:>17}" for n in names) + f"{'true optimum':>14}"
    lines = [head, "-" * len(head)]
    for channel, best in results[0]["optimal"].items():
        lines.append(f"{channel:<12}" + "".join(f"{r['plan'][channel]:>17,.0f}" for r in results)
                     + f"{best:>14,.0f}")
    lines.append("")
    for name, r in zip(names, results, strict=True):
        lines.append(
            f"{name}: true gain {r['true_gain_of_plan']:.1f} of {r['true_optimal_gain']:.1f} "
            f"conversions/week, share {100 * r['share_of_optimal_gain']:.1f}% (target >= "
            f"{100 * TARGET_SHARE:.0f}%: {'met' if r['met'] else 'NOT met'}); model "
            f"{r['status']} (r_hat {r['max_r_hat']:.3f}, ESS {r['min_ess_bulk']:.0f}, "
            f"{r['divergences']} divergences), fit {r['fit_seconds']:.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run every optimizer benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-plan-timings", action="store_true")
    parser.add_argument("--skip-fit", action="store_true",
                        help="skip the sampler benchmark (the recovery fits still run)")
    parser.add_argument("--seed", type=int, default=0, help="sampler seed of the recovery fits")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    print(json.dumps(optimizer_fit.machine(), indent=2))
    if not args.skip_fit:
        optimizer_fit.main([])
    results = [plan_recovery(args.seed, lift_tests=True),
               plan_recovery(args.seed, lift_tests=False)]
    print("\nPlan recovery on the true curves (steady state, one week of the fixture budget)")
    print(recovery_table(results))
    if not args.skip_plan_timings:
        print()
        optimizer_plan.main(["--quick"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
