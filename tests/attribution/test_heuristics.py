"""Tests of the rule-based models."""

from __future__ import annotations

import numpy as np
import pytest

from attribution.errors import ParameterError
from attribution.heuristics import (
    FirstTouch,
    LastTouch,
    Linear,
    PositionBased,
    TimeDecay,
    position_based_weights,
)
from attribution.paths import PathTable

MODELS = {"first_touch": FirstTouch, "last_touch": LastTouch, "linear": Linear,
          "position_based": PositionBased, "time_decay": TimeDecay}


@pytest.mark.parametrize("name", list(MODELS))
def test_golden_small_file(golden_heuristics, name):
    """Each rule reproduces the credit derived by hand in heuristics_small.md."""
    paths, expected = golden_heuristics
    result = MODELS[name]().fit(paths).result
    got = dict(zip(result.channels, result.conversions, strict=True))
    assert got == pytest.approx(expected[name]["conversions"], rel=1e-12, abs=1e-12)
    got_value = dict(zip(result.channels, result.value, strict=True))
    assert got_value == pytest.approx(expected[name]["value"], rel=1e-12, abs=1e-12)


def test_position_based_one_and_two_touches():
    """One touch takes all credit; two touches share in the ratio first:last."""
    paths = PathTable.from_sequences([["a"], ["a", "b"]], [1, 1], [0, 0])
    w = position_based_weights(paths, first=0.3, last=0.5)
    np.testing.assert_allclose(w, [1.0, 0.375, 0.625])


def test_position_based_rejects_weights_above_one():
    """first + last above 1 is refused, naming both settings."""
    with pytest.raises(ParameterError, match=r"first .* and last"):
        PositionBased(first=0.7, last=0.6)


def test_time_decay_uses_days_when_present():
    """With touch times a touch one half-life older gets half the weight."""
    paths = PathTable.from_sequences([["a", "b"]], [3], [0], touch_days=[[7.0, 0.0]])
    result = TimeDecay(half_life_days=7).fit(paths).result
    np.testing.assert_allclose(result.conversions, [1.0, 2.0])


def test_time_decay_survives_very_old_touches():
    """Touches thousands of half-lives old do not underflow the journey to zero."""
    paths = PathTable.from_sequences([["a", "b"]], [1], [0], touch_days=[[9000.0, 8000.0]])
    result = TimeDecay(half_life_days=1).fit(paths).result
    assert result.conversions.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("value", [0, -1, float("nan")])
def test_time_decay_rejects_bad_half_life(value):
    """A half-life that is not a positive number is refused."""
    with pytest.raises(ParameterError, match="half_life_days"):
        TimeDecay(half_life_days=value)
