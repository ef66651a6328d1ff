"""Tests of forecasts and comparisons of allocations over posterior draws."""

from __future__ import annotations

import json

import numpy as np
import pytest

from optimizer.allocator import BudgetAllocator
from optimizer.errors import InputError, ParameterError
from optimizer.forecast import compare, cvar, forecast, interval
from tests.optimizer.conftest import make_draws, random_draws


def test_steady_forecast_is_the_horizon_times_the_weekly_curve(posterior):
    """A steady spend returns H beta s(x) per draw and channel."""
    spend = 0.8 * posterior.current
    fc = forecast(posterior, spend, horizon_weeks=6)
    np.testing.assert_allclose(fc.kpi, 6 * posterior.steady_kpi(spend))
    np.testing.assert_allclose(fc.spend, 6 * spend)
    np.testing.assert_allclose(fc.revenue, fc.kpi * posterior.revenue_factor)
    assert np.all(fc.carryover_kpi == 0)


def test_per_week_kpi_is_what_the_schedule_adds_to_the_carryover(posterior):
    """Per-week KPI is the schedule's KPI less what the history alone would give."""
    schedule = np.random.default_rng(1).uniform(0.5, 1.5, (5, 6)) * posterior.current
    fc = forecast(posterior, schedule)
    with_plan = posterior.plan_kpi(schedule).sum(axis=1)
    history_only = posterior.plan_kpi(np.zeros_like(schedule)).sum(axis=1)
    np.testing.assert_allclose(fc.kpi, with_plan - history_only)
    np.testing.assert_allclose(fc.carryover_kpi, history_only)
    assert fc.mode == "per_week" and fc.horizon_weeks == 5


def test_per_week_equals_steady_when_history_is_the_same_spend():
    """With history at the plan's constant spend, carryover plus plan KPI is the steady KPI."""
    spend = np.array([4e3, 9e3, 2e3])
    draws = random_draws(15, 3, seed=2, max_lag=5)
    draws = make_draws(draws.beta, draws.lam, alpha=draws.alpha, max_lag=5,
                       history=np.tile(spend, (4, 1)), current=spend)
    steady = forecast(draws, spend, horizon_weeks=7)
    weekly = forecast(draws, spend, horizon_weeks=7, mode="per_week")
    np.testing.assert_allclose(weekly.kpi + weekly.carryover_kpi, steady.kpi, rtol=1e-12)


@pytest.mark.parametrize("mode", ["steady", "per_week"])
def test_marginal_kpi_matches_finite_differences(posterior, mode):
    """Marginal KPI is the KPI of one more unit spread evenly over the weeks."""
    spend = posterior.current.copy()
    step = 1e-3 * spend.min()
    base = forecast(posterior, spend, mode=mode, horizon_weeks=4)
    for c in range(posterior.n_channels):
        up, down = spend.copy(), spend.copy()
        up[c] += step / 8  # half a step over 4 weeks each way: central difference
        down[c] -= step / 8
        numeric = (forecast(posterior, up, mode=mode, horizon_weeks=4).kpi[:, c]
                   - forecast(posterior, down, mode=mode, horizon_weeks=4).kpi[:, c]) / step
        np.testing.assert_allclose(base.marginal_kpi[:, c], numeric, rtol=1e-7)


def test_romi_definitions(posterior):
    """ROMI is (revenue - spend) / spend and marginal ROMI is value x marginal KPI - 1."""
    fc = forecast(posterior, posterior.current)
    np.testing.assert_allclose(fc.romi, (fc.revenue - fc.spend) / fc.spend)
    np.testing.assert_allclose(fc.marginal_romi, posterior.revenue_factor * fc.marginal_kpi - 1)
    total = fc.spend.sum()
    np.testing.assert_allclose(fc.total_romi, (fc.total_revenue - total) / total)


def test_channel_without_spend_has_no_romi(posterior):
    """A channel that spends nothing reports null ROMI; the JSON stays strict."""
    spend = posterior.current.copy()
    spend[2] = 0.0
    out = json.loads(json.dumps(forecast(posterior, spend).to_dict(), allow_nan=False))
    assert out["channels"][2]["romi"] == {"mean": None, "p05": None, "p50": None, "p95": None}
    assert out["channels"][2]["marginal_romi"]["mean"] is not None


def test_intervals_are_ordered(posterior):
    """Every interval reads p05 <= p50 <= p95 and the mean lies between p05 and p95 here."""
    out = forecast(posterior, posterior.current).to_dict()
    for entry in [*out["channels"], out["total"]]:
        for name in ("kpi", "revenue", "romi"):
            band = entry[name]
            assert band["p05"] <= band["p50"] <= band["p95"]
            assert band["p05"] <= band["mean"] <= band["p95"]


def test_probability_of_beating_counts_draws():
    """The probability that a proposal beats the current allocation is the share of draws."""
    beta = np.array([[100.0, 100.0], [100.0, 300.0], [100.0, 50.0], [100.0, 400.0]])
    draws = make_draws(beta, [1e4, 1e4], current=[1e4, 1e4])
    result = compare(draws, "current", np.array([5e3, 1.5e4]))
    gains = result.proposed.total_kpi - result.current.total_kpi
    assert result.prob_beats["kpi"] == 0.5 == np.mean(gains > 0)
    out = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert out["prob_proposed_beats_current"]["kpi"] == 0.5
    assert out["difference"]["spend"] == 0.0
    assert out["difference"]["kpi"]["mean"] == pytest.approx(gains.mean())


def test_plan_comparison_uses_the_plan_schedule(posterior):
    """Comparing against a per-week plan evaluates the current spend per week too."""
    plan = BudgetAllocator(posterior, mode="per_week").solve(4 * posterior.current.sum())
    result = compare(posterior, "current", plan)
    assert result.current.mode == "per_week" and result.current.horizon_weeks == 4
    assert result.prob_beats["kpi"] == plan.prob_beats_current
    np.testing.assert_allclose(result.proposed.weekly_spend, plan.weekly_spend)


def test_compare_refuses_different_horizons(posterior):
    """Allocations over different horizons are not compared."""
    with pytest.raises(ParameterError, match="horizons differ"):
        compare(posterior, np.tile(posterior.current, (3, 1)), np.tile(posterior.current, (5, 1)))


@pytest.mark.parametrize(("allocation", "error", "message"), [
    (np.ones(3), InputError, r"expected shape \(6,\) or \(weeks, 6\)"),
    (-np.ones(6), InputError, "finite and non-negative"),
    ("last_year", ParameterError, "unknown name 'last_year'"),
])
def test_bad_allocations_are_named(posterior, allocation, error, message):
    """Malformed allocations raise errors that say what is wrong."""
    with pytest.raises(error, match=message):
        forecast(posterior, allocation)


def test_schedule_cannot_be_steady(posterior):
    """A (weeks, channels) schedule is per week; asking for steady state is refused."""
    with pytest.raises(ParameterError, match="evaluated per_week"):
        forecast(posterior, np.tile(posterior.current, (2, 1)), mode="steady")


def test_cvar_is_the_mean_of_the_worst_share():
    """CVaR averages the worst alpha share, the boundary draw counted fractionally."""
    values = np.arange(1.0, 11.0)
    assert cvar(values, 0.2) == pytest.approx(1.5)
    assert cvar(values, 0.25) == pytest.approx((1 + 2 + 0.5 * 3) / 2.5)
    assert cvar(values, 1.0) == pytest.approx(values.mean())


def test_cvar_matches_rockafellar_uryasev():
    """CVaR equals max_t t - E[(t - K)_+] / alpha, searched over the draws."""
    values = np.random.default_rng(0).normal(100, 20, 37)
    for alpha in (0.05, 0.1, 0.33, 1.0):
        best = max(t - np.maximum(t - values, 0).mean() / alpha for t in values)
        assert cvar(values, alpha) == pytest.approx(best, rel=1e-12)


def test_interval_of_constant_draws():
    """One draw (or identical draws) gives a degenerate interval at that value."""
    assert interval([3.0]) == {"mean": 3.0, "p05": 3.0, "p50": 3.0, "p95": 3.0}
