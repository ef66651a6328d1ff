"""Plans and forecasts of a week, a month (52/12 weeks) or a quarter (13 weeks)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from optimizer.allocator import BudgetAllocator
from optimizer.charts import allocation_figure
from optimizer.errors import InfeasibleError, RequestError
from optimizer.forecast import forecast, forecast_of
from optimizer.requests import PERIOD_WEEKS, ForecastRequest, PlanRequest, period_of
from tests.optimizer.conftest import random_draws

MONTH = 52 / 12


@pytest.fixture
def draws():
    """Four channels, 30 draws, exponential curves."""
    return random_draws(30, 4, seed=11)


def test_a_period_is_its_weeks_and_round_trips() -> None:
    """A month is 52/12 weeks, a quarter 13 and a week 1; the canonical JSON rebuilds it."""
    assert PERIOD_WEEKS == {"week": 1, "month": MONTH, "quarter": 13}
    for period, weeks in PERIOD_WEEKS.items():
        request = PlanRequest.build(budget=1e6, period=period)
        assert request.horizon_weeks == weeks and request.period == period
        again = PlanRequest.build(**json.loads(request.canonical_json()))
        assert again == request and again.canonical_json() == request.canonical_json()
        assert period_of(weeks) == period
    assert PlanRequest.build(budget=1e6).period is None
    assert ForecastRequest.build(allocation={"a": 1.0}, period="month").horizon_weeks == MONTH


@pytest.mark.parametrize(("fields", "message"), [
    ({"period": "month", "horizon_weeks": 4}, "period: a month is 4.33 weeks, not horizon_weeks 4"),
    ({"period": "month", "per_week": True}, "period: a per-week plan counts whole weeks, and a "
                                            "month is 4.33 weeks"),
    ({"horizon_weeks": 4.5}, "horizon_weeks: a whole number of weeks (an integer), or a period"),
    ({"horizon_weeks": 4.0}, "horizon_weeks: a whole number of weeks"),
    ({"horizon_weeks": 0}, "horizon_weeks: Input should be greater than or equal to 1"),
    ({"period": "fortnight"}, "period: Input should be 'week', 'month' or 'quarter'"),
])
def test_conflicting_horizons_are_refused(fields: dict, message: str) -> None:
    """A period and another horizon, a per-week month and a fraction without a period are
    refused, naming the field."""
    with pytest.raises(RequestError) as caught:
        PlanRequest.build(budget=1e6, **fields)
    assert message in str(caught.value)


def test_a_per_week_quarter_and_a_schedule_without_period() -> None:
    """A quarter is whole weeks, so it may be planned per week; a schedule brings its weeks."""
    assert PlanRequest.build(budget=1e6, period="quarter", per_week=True).horizon_weeks == 13
    with pytest.raises(RequestError, match="period: a schedule covers its own weeks"):
        ForecastRequest.build(schedule=({"a": 1.0},), period="month")


def test_a_months_plan_is_the_weekly_plan_over_52_12_weeks(draws) -> None:
    """In steady state a month's budget B gives the weekly allocation of a week's budget
    B / (52/12), and its KPI is 52/12 times the week's."""
    budget = 1.1 * MONTH * float(draws.current.sum())
    month = PlanRequest.build(budget=budget, period="month")
    plan = BudgetAllocator.for_request(draws, month).plan(month)
    week = PlanRequest.build(budget=budget / MONTH, period="week")
    weekly = BudgetAllocator.for_request(draws, week).plan(week)
    np.testing.assert_allclose(plan.weekly_spend, weekly.weekly_spend, rtol=1e-7)
    assert plan.spend.sum() == pytest.approx(budget, rel=1e-9)
    assert plan.forecast.total_kpi.mean() == pytest.approx(
        MONTH * weekly.forecast.total_kpi.mean(), rel=1e-7)
    out = plan.to_dict()
    assert out["budget"] == {"amount": budget, "period": "month", "horizon_weeks": MONTH,
                             "weekly": pytest.approx(budget / MONTH), "constraint": "equal"}
    assert out["certificate"]["certified"] is True
    conic = BudgetAllocator.for_request(draws, month, engine="conic").plan(month)
    np.testing.assert_allclose(conic.weekly_spend, plan.weekly_spend, rtol=1e-4)


def test_a_months_forecast_and_its_words(draws) -> None:
    """A month's forecast is 52/12 weeks of the weekly return; charts and conflicts say so."""
    weekly = np.asarray(draws.current, dtype=float)
    month = forecast(draws, weekly, horizon_weeks=MONTH)
    one = forecast(draws, weekly, horizon_weeks=1)
    np.testing.assert_allclose(month.total_kpi, MONTH * one.total_kpi, rtol=1e-12)
    request = ForecastRequest.build(allocation=dict(zip(draws.channels, weekly.tolist(),
                                                        strict=True)), period="month")
    body = forecast_of(draws, request)["forecast"]
    assert body["period"] == "month" and body["horizon_weeks"] == MONTH
    assert body["total"]["spend"] == pytest.approx(MONTH * weekly.sum())
    figure = allocation_figure(list(draws.channels), {"now": weekly * MONTH},
                               {"now": [c["kpi"] for c in body["channels"]]}, MONTH,
                               "conversions", "a month")
    assert figure.axes[0].get_xlabel() == "spend over a month (4.33 weeks)"
    too_much = PlanRequest.build(budget=1e12, period="month")
    with pytest.raises(InfeasibleError, match=r"over the 4\.33-week horizon, below the budget"):
        BudgetAllocator.for_request(draws, too_much).plan(too_much)
    with pytest.raises(ValueError, match="a per-week schedule needs whole weeks"):
        forecast(draws, weekly, horizon_weeks=MONTH, mode="per_week")
