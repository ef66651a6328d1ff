"""Tests of the budget frontier: a golden case, the allocator's plans, calculus, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.allocator import BudgetAllocator
from optimizer.errors import InfeasibleError, ParameterError
from optimizer.frontier import Problem, budget_cut, budget_grid, frontier, next_increment
from optimizer.frontier_chart import frontier_chart
from optimizer.posterior import ResponseDraws
from optimizer.requests import PlanRequest
from tests.optimizer.conftest import make_draws, random_draws
from tests.optimizer.strategies import posteriors

PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: Relative tolerance of a frontier point against the allocator's plan at the same budget.
MATCH = 1e-7


def uncapped(**fields: object) -> PlanRequest:
    """A conversions plan request without the default cap on each channel."""
    return PlanRequest.build(**{"budget": 1.0, "max_spend_multiple": None, **fields})


@pytest.fixture
def golden() -> ResponseDraws:
    """Two channels of one draw, both with ``lam = 1000``: ``beta`` 400 and 100 a week."""
    return make_draws([400.0, 100.0], [1000.0, 1000.0], channels=("search", "email"))


def test_golden_two_channel_frontier(golden: ResponseDraws) -> None:
    """Water filling by hand at 12,000 over 4 weeks: spend, level and KPI.

    With ``f_c(x) = beta_c (1 - exp(-x/l))``, ``l = 1000``, the common level
    ``f_c'(x_c) = beta_c/l exp(-x_c/l) = p`` gives ``x_c = l log(beta_c/(l p))``,
    so ``x_1 - x_2 = l log(400/100) = 1000 log 4`` whatever the budget, and
    ``x_1 + x_2 = 12,000 / 4 = 3,000`` a week: ``x_1 = 1500 + 500 log 4 =
    2193.147``, ``x_2 = 1500 - 500 log 4 = 806.853``. Then ``x_1/l = 1.5 + log
    2`` and ``x_2/l = 1.5 - log 2``, so ``p = 0.4 exp(-x_1/l) = 0.2 exp(-1.5)
    = 0.044626`` conversions per currency unit, and the weekly KPI is
    ``400 (1 - e^-1.5/2) + 100 (1 - 2 e^-1.5) = 500 - 400 e^-1.5``: over 4
    weeks ``2000 - 1600 e^-1.5 = 1642.99``.
    """
    result = frontier(golden, uncapped(horizon_weeks=4), [12_000.0])
    point = result.points[0]
    x1 = 1500 + 500 * math.log(4)
    np.testing.assert_allclose(point.weekly_spend, [x1, 3000 - x1], rtol=1e-10)
    assert point.level == pytest.approx(0.2 * math.exp(-1.5), rel=1e-10)
    assert float(point.total_kpi[0]) == pytest.approx(2000 - 1600 * math.exp(-1.5), rel=1e-10)
    assert point.unspent == pytest.approx(0.0, abs=1e-6)


def test_golden_next_increment_and_cut(golden: ResponseDraws) -> None:
    """By hand: the next 4,000 splits 50/50 and adds ``1600 (e^-1.5 - e^-2)``; a 20% cut
    takes 1,200 from each and loses ``1600 (e^-1.2 - e^-1.5)``, half from each channel.

    ``x_1 - x_2`` stays ``1000 log 4`` (golden frontier test), so a change of
    the weekly total splits equally. The weekly KPI at a weekly total ``W`` is
    ``500 - 400 exp(-W / 2000)``: 3,000 to 4,000 a week adds ``400 (e^-1.5 -
    e^-2)`` a week (140.47 over 4 weeks); 3,000 to 2,400 loses ``400 (e^-1.2 -
    e^-1.5)`` a week (124.90 over 4 weeks), of which search loses ``1600 *
    (e^-1.2 - e^-1.5) / 2`` (its ``exp(-x_1/l)`` is half the common factor,
    its ``beta`` four times email's, email's twice: equal parts).
    """
    request = uncapped(horizon_weeks=4)
    more = next_increment(golden, request, 12_000.0, 4_000.0)
    np.testing.assert_allclose(more.spend_change, [2_000.0, 2_000.0], rtol=1e-9)
    np.testing.assert_allclose(more.shares, [0.5, 0.5], rtol=1e-9)
    assert float(more.kpi_change[0]) == pytest.approx(1600 * (math.exp(-1.5) - math.exp(-2)),
                                                      rel=1e-9)
    cut = budget_cut(golden, request, 12_000.0, 0.2)
    np.testing.assert_allclose(cut.spend_change, [-1_200.0, -1_200.0], rtol=1e-9)
    lost = 1600 * (math.exp(-1.2) - math.exp(-1.5))
    assert -float(cut.kpi_change[0]) == pytest.approx(lost, rel=1e-9)
    np.testing.assert_allclose(-cut.channel_kpi_change[0], [lost / 2, lost / 2], rtol=1e-9)


def test_points_are_the_allocators_plans() -> None:
    """Each frontier point is the allocator's certified plan at its budget, and its level the
    plan's shadow price, with bounds, a lock and a maximum change in the request."""
    draws = random_draws(60, 6, seed=4)
    request = PlanRequest.build(budget=4 * float(draws.current.sum()), horizon_weeks=4,
                                max_change=0.6, locked=("ch2",),
                                bounds={"ch0": {"min": 0.5 * float(draws.current[0])}})
    result = frontier(draws, request, span=(0.7, 1.3), points=7)
    allocator = BudgetAllocator.for_request(draws, request)
    for point in result.points:
        plan = allocator.plan(PlanRequest.build(**{**request.canonical(),
                                                   "budget": point.budget}))
        np.testing.assert_allclose(point.weekly_spend, plan.weekly_spend, rtol=MATCH,
                                   atol=MATCH * point.weekly_spend.max())
        assert point.level == pytest.approx(plan.shadow_price, rel=MATCH)
        assert point.total_kpi.mean() == pytest.approx(plan.forecast.total_kpi.mean(), rel=MATCH)


@pytest.mark.parametrize("objective", ["conversions", "revenue"])
def test_the_level_is_the_slope_of_the_expected_objective(objective: str) -> None:
    """The marginal return equals the central difference of the expected KPI (or revenue),
    ``(V(B + h) - V(B - h)) / 2h`` with ``h = B / 10,000``, to a relative 1e-6 (the
    difference's own error is ``h^2 V''' / 6``, about 1e-9 here)."""
    draws = random_draws(200, 6, seed=7, value=25.0)
    budget = 4 * float(draws.current.sum())
    h = budget / 10_000
    request = PlanRequest.build(budget=budget, objective=objective, horizon_weeks=4)
    result = frontier(draws, request, [budget - h, budget, budget + h])
    values = result.revenue if objective == "revenue" else result.kpi
    slope = (values[2].mean() - values[0].mean()) / (2 * h)
    assert result.levels[1] == pytest.approx(slope, rel=1e-6)


@PROPERTY
@given(draws=posteriors(max_channels=5, max_draws=6),
       fractions=st.lists(st.floats(0.02, 0.98), min_size=3, max_size=3, unique=True))
def test_the_frontier_increases_and_is_concave(draws: ResponseDraws,
                                                fractions: list[float]) -> None:
    """Over any three budgets below the channels' ceiling, the expected KPI rises, lies above
    the chord of its neighbours and the marginal return falls."""
    problem = Problem(draws, PlanRequest.build(budget=1.0, horizon_weeks=4))
    low, mid, high = sorted(f * problem.ceiling for f in fractions)
    result = frontier(draws, PlanRequest.build(budget=1.0, horizon_weeks=4), [low, mid, high])
    v = result.expected_kpi
    scale = float(np.abs(v).max()) + 1.0
    assert v[0] <= v[1] + 1e-9 * scale and v[1] <= v[2] + 1e-9 * scale
    chord = v[0] + (v[2] - v[0]) * (mid - low) / (high - low)
    assert v[1] >= chord - 1e-9 * scale
    assert result.levels[0] >= result.levels[1] * (1 - 1e-9) >= \
        result.levels[2] * (1 - 1e-9) ** 2


@PROPERTY
@given(draws=posteriors(max_channels=5, max_draws=6), share=st.floats(0.05, 0.8),
       step=st.floats(0.01, 0.15))
def test_the_next_increment_splits_into_its_amount(draws: ResponseDraws, share: float,
                                                    step: float) -> None:
    """Within the channels' limits, the split of the next increment adds up to it and every
    channel's part is non-negative; a cut's parts are non-positive and add up to the cut."""
    request = PlanRequest.build(budget=1.0, horizon_weeks=4)
    ceiling = Problem(draws, request).ceiling
    budget, amount = share * ceiling, step * ceiling
    more = next_increment(draws, request, budget, amount)
    assert more.moved == pytest.approx(amount, rel=1e-9)
    assert more.shares.sum() == pytest.approx(1.0, rel=1e-9)
    assert np.all(more.spend_change >= -1e-9 * amount)
    cut = budget_cut(draws, request, budget, 0.2)
    assert cut.moved == pytest.approx(-0.2 * budget, rel=1e-9)
    assert np.all(cut.spend_change <= 1e-9 * budget)


def test_beyond_the_limits_the_budget_stays_unspent() -> None:
    """Above the sum of the channels' maximums (1.5 x their largest weekly spend, which
    ``make_draws`` sets to twice the current) the plan spends the maximums, its marginal
    return is 0 and the rest of an increment is unspent."""
    draws = make_draws([400.0, 100.0], [1000.0, 1000.0], current=[1000.0, 500.0])
    request = PlanRequest.build(budget=1.0, horizon_weeks=4)
    ceiling = 4 * 1.5 * 2 * 1500.0  # 18,000
    more = next_increment(draws, request, ceiling - 1_000.0, 5_000.0)
    assert more.moved == pytest.approx(1_000.0, rel=1e-9)
    assert more.end.unspent == pytest.approx(4_000.0, rel=1e-9)
    assert more.end.level == 0.0
    np.testing.assert_allclose(more.end.weekly_spend, [3000.0, 1500.0])


def test_a_month_is_52_twelfths_of_a_week() -> None:
    """Over a month of 52/12 weeks, the same weekly plans give 52/12 times the weekly KPI
    (steady state is linear in the weeks) at the same marginal return."""
    draws = random_draws(30, 4, seed=2)
    weekly = float(draws.current.sum())
    week = frontier(draws, PlanRequest.build(budget=weekly, period="week"), [weekly])
    month = frontier(draws, PlanRequest.build(budget=weekly, period="month"),
                     [weekly * 52 / 12])
    np.testing.assert_allclose(month.points[0].weekly_spend, week.points[0].weekly_spend,
                               rtol=1e-9)
    assert month.horizon_weeks == 52 / 12
    assert month.expected_kpi[0] == pytest.approx(52 / 12 * week.expected_kpi[0], rel=1e-9)
    assert month.levels[0] == pytest.approx(week.levels[0], rel=1e-9)


def test_the_default_grid_runs_from_half_to_twice_the_reference() -> None:
    """25 budgets from 50% to 200% of the reference in steps of 6.25%; with minimums of 700,
    the four budgets under them (500 to 687.5) become one of 700: 22 budgets."""
    np.testing.assert_allclose(budget_grid(1000.0, 0.0), 1000 * (0.5 + 0.0625 * np.arange(25)))
    raised = budget_grid(1000.0, 700.0)
    assert raised[0] == 700.0 and len(raised) == 22 and raised[1] == 750.0


def test_refusals() -> None:
    """A budget under the channel minimums, a per-week plan, another objective and a ROMI
    floor are refused with the field they concern."""
    draws = random_draws(10, 3, seed=1)
    floor = {"ch0": {"min": 1000.0}}
    with pytest.raises(InfeasibleError, match="below the channel minimums") as caught:
        budget_cut(draws, PlanRequest.build(budget=1.0, horizon_weeks=4, bounds=floor),
                   4_500.0, 0.2)
    assert caught.value.field == "budget"
    for fields in ({"per_week": True}, {"objective": "profit"}, {"romi_floor": 0.5}):
        with pytest.raises(ParameterError):
            frontier(draws, PlanRequest.build(budget=1.0, **fields))


def test_the_chart_keeps_its_words_as_text() -> None:
    """The SVG holds the axis words as text, in the language given, and the KPI's name."""
    draws = random_draws(20, 3, seed=5)
    result = frontier(draws, PlanRequest.build(budget=4 * float(draws.current.sum())))
    svg = frontier_chart(result, labels={"today": "今天的分配"}).decode()
    assert "今天的分配" in svg and "expected conversions (mean, 90% band)" in svg
    assert "conversions from the next 1k" in svg and "<text" in svg


def test_the_default_grid_reaches_the_current_budget() -> None:
    """With a reference of a quarter of the current budget, the grid runs from 50% to 200% of
    the reference, then in 8 equal steps on to the current budget (twice the grid's end)."""
    draws = random_draws(20, 3, seed=5)
    current = 4 * float(draws.current.sum())
    result = frontier(draws, PlanRequest.build(budget=current / 4, horizon_weeks=4))
    expected = np.union1d(current / 4 * (0.5 + 0.0625 * np.arange(25)),
                          np.linspace(current / 2, current, 9))
    np.testing.assert_allclose(result.budgets, expected)
    assert result.at(current).budget == pytest.approx(current)
