"""What a fitted model says: contributions, the fit over time, margins, lift tests."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import explain as ex
from optimizer.priors import NO_VALUE
from optimizer.response_model import ResponseModel
from tests.api.cli.test_optimizer import hand_posterior
from tests.optimizer.conftest import make_draws
from tests.optimizer.conftest_model import synthetic_media


@pytest.fixture(scope="module")
def model() -> ResponseModel:
    """Three synthetic channels on a hand-made posterior, 8 weeks held out (nothing samples)."""
    data, _ = synthetic_media(weeks=60, n_channels=3, seed=1)
    return ResponseModel.from_posterior(data, hand_posterior(3), value_per_conversion=80.0,
                                        holdout_weeks=8)


def test_contributions_add_up_in_every_draw(model):
    """Baseline plus channels is the fitted total in every draw; the shares sum to one."""
    parts = ex.decomposition(model)
    assert np.allclose(parts.parts.sum(axis=1), parts.fitted, rtol=1e-12)
    assert np.allclose((parts.parts / parts.fitted[:, None]).sum(axis=1), 1.0)
    assert parts.amounts[:, 0].sum() == pytest.approx(parts.total[0], rel=1e-12)
    assert parts.weeks == 52 and parts.actual == pytest.approx(
        model.design_.series.kpi[:52].sum())


def test_fitted_series_marks_held_out_weeks(model):
    """The series covers every week, holds its mean inside the band and marks 8 weeks."""
    series = ex.fitted_series(model)
    assert len(series.actual) == 60 and series.n_fit == 52 and series.held_out == 8
    assert np.all(series.low <= series.mean) and np.all(series.mean <= series.high)
    svg = ex.plot_fitted(series).decode("utf-8")
    assert "held out" in svg and "weekly conversions" in svg


def test_marginal_return_is_the_derivative_at_current_spend():
    """For beta 100, lam 1,000 at 500 a week: 0.1 exp(-0.5) per unit, 8 times that in revenue."""
    draws = make_draws([[100.0, 50.0]], [[1000.0, 2000.0]], value=8.0, current=[500.0, 0.0])
    found = ex.marginal_returns(draws, step=1000.0)
    assert found.marginal[0, 0] == pytest.approx(0.1 * np.exp(-0.5))
    assert found.romi[0, 0] == pytest.approx(0.8 * np.exp(-0.5))
    assert found.gain[0, 0] == pytest.approx(100 * (np.exp(-0.5) - np.exp(-1.5)))
    # the second channel, at zero spend: 50 (1 - exp(-0.5)) = 19.7 against 100 x 0.383 = 38.3
    assert found.gain[1, 0] == pytest.approx(50 * (1 - np.exp(-0.5)))
    assert found.best == 0 and found.valued


def test_without_a_value_returns_count_conversions():
    """Without a value per conversion the best channel is the one adding most conversions."""
    draws = make_draws([[10.0, 50.0]], [[1000.0, 1000.0]], current=[0.0, 0.0])
    draws.meta["value_source"] = NO_VALUE
    found = ex.marginal_returns(draws)
    assert not found.valued and found.best == 1


def test_lift_coverage_counts_tests_per_model_channel():
    """Each model channel gets its number of tests; tests of other channels are ignored."""
    assert ex.lift_coverage(("a", "b", "c"), ["b", "b", "x"]) == {"a": 0, "b": 2, "c": 0}


def test_explanation_names_untested_channels(model):
    """With one channel tested the others are untested; unknown tests name none."""
    found = ex.explain(model, tested=["ch1"])
    assert found.untested == ["ch0", "ch2"] and found.lift_tests == {"ch0": 0, "ch1": 1,
                                                                     "ch2": 0}
    assert ex.explain(model).untested == []
