"""Tests of plan and forecast reports as JSON, CSV and a text table (optimizer.report)."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from optimizer.allocator import BudgetAllocator
from optimizer.errors import ParameterError
from optimizer.forecast import compare, forecast
from optimizer.report import band, channel_rows, render
from tests.optimizer.conftest import make_draws

CHANNELS = ("=cmd", "search", "tv")


@pytest.fixture(scope="module")
def draws():
    """Three channels, two draws; one name looks like a spreadsheet formula."""
    return make_draws(np.array([[120.0, 80.0, 150.0], [100.0, 90.0, 140.0]]),
                      np.array([[2e4, 5e4, 3e4], [2.5e4, 4e4, 3e4]]), channels=CHANNELS,
                      value=50.0)


@pytest.fixture(scope="module")
def plan_payload(draws):
    """The JSON form of a conversions plan of 110% of the current spend over four weeks."""
    budget = 4 * 1.1 * float(draws.current.sum())
    return BudgetAllocator(draws, horizon_weeks=4).solve(budget).to_dict()


@pytest.fixture(scope="module")
def forecast_payload(draws):
    """A forecast of twice the current spend with its comparison against current."""
    allocation = 2 * draws.current
    return {"forecast": forecast(draws, allocation).to_dict(),
            "against_current": compare(draws, "current", allocation).to_dict()}


def test_json_is_the_payload(plan_payload):
    """JSON text parses back to the payload."""
    text = render(plan_payload, "json")
    assert text.endswith("}\n") and json.loads(text) == plan_payload


def test_csv_is_the_channel_table(plan_payload):
    """The CSV holds one row per channel with the flattened statistics, formulas quoted."""
    table = pd.read_csv(io.StringIO(render(plan_payload, "csv")))
    assert list(table["channel"]) == ["'=cmd", "search", "tv"]
    np.testing.assert_allclose(table["spend"], [c["spend"] for c in plan_payload["channels"]],
                               rtol=1e-15)
    np.testing.assert_allclose(table["kpi.p50"],
                               [c["kpi"]["p50"] for c in plan_payload["channels"]], rtol=1e-15)
    assert list(channel_rows(plan_payload).columns) == list(table.columns)


def test_forecast_csv_uses_the_forecast_channels(forecast_payload):
    """A forecast payload's CSV is the table of its forecast, not of the comparison."""
    table = pd.read_csv(io.StringIO(render(forecast_payload, "csv")))
    rows = forecast_payload["forecast"]["channels"]
    np.testing.assert_allclose(table["spend"], [c["spend"] for c in rows], rtol=1e-15)


def test_plan_table_lines(plan_payload):
    """The table prints each channel, the totals and the certificate line."""
    lines = render(plan_payload, "table").splitlines()
    total = plan_payload["total"]
    assert lines[-2] == (f"total spend {total['spend']:,.0f}; kpi {band(total['kpi'])}; "
                         f"ROMI {band(total['romi'], 100.0)} %")
    assert lines[-1].startswith("objective conversions, status optimal; shadow price of the "
                                f"budget {plan_payload['shadow_price']['value']:.6g}; ")
    search = next(line for line in lines if line.split()[0] == "search")
    row = next(c for c in plan_payload["channels"] if c["channel"] == "search")
    assert search.split()[1:4] == [f"{row['spend']:,.0f}", f"{row['current_spend']:,.0f}",
                                   f"{row['change']:+,.0f}"]


def test_forecast_table_ends_with_the_comparison(forecast_payload):
    """A forecast's table ends with the gain against current and the chances of beating it."""
    lines = render(forecast_payload, "table").splitlines()
    gain = forecast_payload["against_current"]["difference"]
    assert lines[-2] == f"against current: kpi {band(gain['kpi'])}, profit {band(gain['profit'])}"
    assert lines[-1].startswith("probability of beating the current allocation: kpi ")


def test_band_and_unknown_format():
    """A band is median [p05, p95] scaled; an unknown format is a ParameterError."""
    assert band({"p05": 0.01, "p50": 0.02, "p95": 0.035}, 100.0, 1) == "2.0 [1.0, 3.5]"
    assert band(None) == band({"p50": None}) == "-"
    with pytest.raises(ParameterError, match=r"^format must be one of json, csv, table, got "
                                             r"'xlsx'$"):
        render({"channels": []}, "xlsx")
