"""Every registered model goes through the same estimator-contract checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from attribution.base import AttributionModel, AttributionResult
from attribution.errors import NotFittedError, ParameterError
from attribution.models import MODELS, make_model, settings_of
from tests.strategies import path_tables, renamed

CONFIGURATIONS = [
    ("first_touch", {}), ("last_touch", {}), ("linear", {}), ("position_based", {}),
    ("time_decay", {}), ("markov", {"order": 1}), ("markov", {"order": 3}),
    ("shapley", {"value_function": "simplified"}), ("shapley", {"value_function": "ordered"}),
    ("shapley", {"value_function": "conversion_rate"}),
]
IDS = [f"{name}-{'-'.join(map(str, opts.values()))}" for name, opts in CONFIGURATIONS]


def build(name: str, options: dict) -> AttributionModel:
    """A model of the registry with the given settings."""
    return make_model(name, **options)


def test_registry_lists_every_model():
    """The registry names the five rules, Markov and Shapley."""
    assert set(MODELS) == {"first_touch", "last_touch", "linear", "position_based",
                           "time_decay", "markov", "shapley"}


def test_unknown_model_is_refused():
    """An unknown model name raises ParameterError listing the choices."""
    with pytest.raises(ParameterError, match="unknown model 'lasttouch'; choose from"):
        make_model("lasttouch")


@pytest.mark.parametrize(("name", "options"), CONFIGURATIONS, ids=IDS)
def test_fit_returns_self_and_result(small_paths, name, options):
    """fit() returns the model itself and a result tied to the input."""
    model = build(name, options)
    assert model.fit(small_paths) is model
    assert isinstance(model.result, AttributionResult)
    assert model.result.fingerprint == small_paths.fingerprint
    assert model.result.params == model.get_params()
    assert set(model.get_params()) <= set(settings_of(name))


@pytest.mark.parametrize(("name", "options"), CONFIGURATIONS, ids=IDS)
def test_result_before_fit_raises(name, options):
    """Reading the result of an unfitted model raises NotFittedError."""
    with pytest.raises(NotFittedError, match="not fitted"):
        _ = build(name, options).result


@pytest.mark.parametrize(("name", "options"), CONFIGURATIONS, ids=IDS)
def test_output_is_reproducible(small_paths, name, options):
    """Two fits of the same input give the same JSON apart from the timestamp."""
    first = build(name, options).fit(small_paths).result.to_dict()
    second = build(name, options).fit(small_paths).result.to_dict()
    first.pop("created_at")
    second.pop("created_at")
    assert first == second


@pytest.mark.parametrize(("name", "options"), CONFIGURATIONS, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(paths=path_tables())
def test_credit_sums_to_totals_and_is_non_negative(name, options, paths):
    """Credit adds up to the conversions and value of the input and is never negative."""
    result = build(name, options).fit(paths).result
    assert result.conversions.sum() == pytest.approx(paths.total_conversions, rel=1e-9)
    assert result.value.sum() == pytest.approx(paths.total_value, rel=1e-9, abs=1e-9)
    assert (result.conversions >= -1e-12).all()
    assert (result.value >= -1e-12).all()
    assert result.share.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("name", "options"), CONFIGURATIONS, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(paths=path_tables())
def test_renaming_channels_permutes_credit(name, options, paths):
    """Renaming channels (which reorders them) moves each channel's credit with its name."""
    names = list(paths.channels)
    mapping = {c: f"z{len(names) - i}_{c}" for i, c in enumerate(names)}
    original = build(name, options).fit(paths).result
    moved = build(name, options).fit(renamed(paths, mapping)).result
    by_name = dict(zip(moved.channels, moved.conversions, strict=True))
    for channel, credit in zip(original.channels, original.conversions, strict=True):
        assert by_name[mapping[channel]] == pytest.approx(credit, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(("name", "options"), CONFIGURATIONS, ids=IDS)
def test_journey_table_has_only_channels_of_the_journey(small_paths, name, options):
    """Per-journey credit goes only to channels that occur in that journey."""
    table = build(name, options).fit(small_paths).result.journey_table()
    for journey, channel in zip(table["journey"], table["channel"], strict=True):
        assert channel in journey.split(" > ")
    assert np.isfinite(table["conversions"]).all()
