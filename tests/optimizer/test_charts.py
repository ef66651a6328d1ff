"""Tests of the plan and allocation charts (optimizer.charts)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.allocator import BudgetAllocator
from optimizer.charts import allocation_chart, allocation_figure, plan_chart, plan_figure
from optimizer.forecast import forecast
from tests.conftest import svg_texts
from tests.optimizer.conftest import make_draws

CHANNELS = ("a$b$c", "tv $5$ deals", "search")


@pytest.fixture(scope="module")
def plan():
    """A conversions plan over three channels, two of them named with ``$`` signs."""
    draws = make_draws(np.array([[120.0, 80.0, 150.0], [100.0, 90.0, 140.0]]),
                       np.array([[2e4, 5e4, 3e4], [2.5e4, 4e4, 3e4]]), channels=CHANNELS)
    return BudgetAllocator(draws, horizon_weeks=4).solve(4 * 1.1 * float(draws.current.sum()))


def test_plan_chart_draws_names_literally(plan):
    """Channel names with $ signs are drawn as written in the plan chart."""
    texts = svg_texts(lambda: plan_chart(plan, "svg"))
    for name in CHANNELS:
        assert texts.count(name) == 1
    assert "Plan (conversions): current against proposed" in texts


def test_plan_figure_bars_are_the_plan(plan):
    """The spend bars are the current and proposed horizon spend; KPI bars their medians."""
    spend_ax, kpi_ax = plan_figure(plan).axes[:2]
    widths = np.array([bar.get_width() for bar in spend_ax.patches]).reshape(2, -1)
    np.testing.assert_allclose(widths, [plan.current.spend, plan.forecast.spend], rtol=1e-12)
    medians = np.array([bar.get_width() for bar in kpi_ax.patches]).reshape(2, -1)
    np.testing.assert_allclose(medians[1], np.percentile(plan.forecast.kpi, 50, axis=0),
                               rtol=1e-12)


def test_allocation_chart_of_json_draws_names_and_gaps():
    """A JSON allocation is drawn with literal names; a missing KPI statistic draws no bar."""
    kpi = [{"p05": 1.0, "p50": 2.0, "p95": 4.0}, None, {"p05": 3.0, "p50": None, "p95": 5.0}]
    args = (list(CHANNELS), {"current": [10.0, 20.0, 30.0], "new $plan$": [15.0, 15.0, 30.0]},
            {"new $plan$": kpi}, 4, "conversions", "Forecast of $ spend$")
    texts = svg_texts(lambda: allocation_chart(*args))
    for name in (*CHANNELS, "Forecast of $ spend$"):
        assert texts.count(name) == 1
    assert texts.count("new $plan$") == 2  # the legend of each panel
    spend_ax, kpi_ax = allocation_figure(*args).axes[:2]
    assert [bar.get_width() for bar in kpi_ax.patches] == [2.0, 0.0, 0.0]
    assert [bar.get_width() for bar in spend_ax.patches] == [10.0, 20.0, 30.0, 15.0, 15.0, 30.0]


def test_allocation_chart_is_reproducible_svg():
    """The same allocation gives the same SVG bytes."""
    body = forecast(make_draws([100.0, 50.0], [1e4, 2e4], channels=("x", "y")), [5e3, 5e3])
    kpi = [{"p05": float(q[0]), "p50": float(q[1]), "p95": float(q[2])}
           for q in np.percentile(body.kpi, [5, 50, 95], axis=0).T]
    first = allocation_chart(["x", "y"], {"allocation": list(body.spend)}, {"allocation": kpi},
                             4, "conversions", "ROMI forecast")
    assert first.startswith(b"<?xml")
    assert first == allocation_chart(["x", "y"], {"allocation": list(body.spend)},
                                     {"allocation": kpi}, 4, "conversions", "ROMI forecast")
