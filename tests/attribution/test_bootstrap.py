"""Tests of the bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest

from attribution.base import AttributionModel
from attribution.bootstrap import bootstrap, resample_counts
from attribution.errors import ParameterError
from attribution.heuristics import PositionBased
from attribution.markov import Markov
from attribution.paths import PathTable


def test_same_seed_same_intervals(small_paths):
    """Intervals are reproducible for a seed and change with it."""
    model = Markov().fit(small_paths)
    a = bootstrap(model, small_paths, replicates=30, seed=5)
    b = bootstrap(model, small_paths, replicates=30, seed=5)
    c = bootstrap(model, small_paths, replicates=30, seed=6)
    assert a.by_channel == b.by_channel
    assert a.by_channel != c.by_channel


@pytest.mark.parametrize("model", [PositionBased(), Markov(order=2)], ids=["linear", "markov"])
def test_fast_replicates_match_refitting(small_paths, model):
    """A model's batched replicate totals equal refitting it on each resampled table."""
    rng = np.random.default_rng(0)
    conv, null, value = resample_counts(small_paths, rng, 4, "poisson")
    fast_conv, fast_value = model.channel_totals(small_paths, conv, null, value)
    slow_conv, slow_value = AttributionModel.channel_totals(model, small_paths, conv, null, value)
    np.testing.assert_allclose(fast_conv, slow_conv, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fast_value, slow_value, rtol=1e-10, atol=1e-10)


def test_multinomial_keeps_the_number_of_journeys(small_paths):
    """The multinomial bootstrap redraws exactly as many journeys as there were."""
    rng = np.random.default_rng(1)
    conv, null, _ = resample_counts(small_paths, rng, 7, "multinomial")
    total = small_paths.conversions.sum() + small_paths.nulls.sum()
    np.testing.assert_array_equal(conv.sum(axis=0) + null.sum(axis=0), np.full(7, total))


def test_resampled_value_keeps_value_per_conversion(small_paths):
    """A resampled path keeps its average value per conversion."""
    conv, _, value = resample_counts(small_paths, np.random.default_rng(2), 3, "poisson")
    per = small_paths.value / small_paths.conversions.clip(min=1e-300)
    np.testing.assert_allclose(value, conv * per[:, None])


def test_intervals_cover_the_estimate_and_scale_with_data(small_paths):
    """The 95% interval contains the point estimate and narrows with ten times the data."""
    model = Markov().fit(small_paths)
    point = model.result.conversions
    small = bootstrap(model, small_paths, replicates=300, seed=0)
    big_paths = small_paths.with_counts(small_paths.conversions * 10, small_paths.nulls * 10,
                                        small_paths.value * 10)
    big = bootstrap(Markov().fit(big_paths), big_paths, replicates=300, seed=0)
    for i, interval in enumerate(small.by_channel):
        low, high = interval.conversions
        assert low <= point[i] <= high
        big_low, big_high = big.by_channel[i].share
        assert big_high - big_low < interval.share[1] - interval.share[0]
    # Standard errors shrink roughly like 1/sqrt(n) in share terms.
    ratio = (big.conversions_se / 10) / small.conversions_se
    assert np.all((ratio > 0.2) & (ratio < 0.5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"replicates": 1}, "replicates"), ({"method": "jackknife"}, "method"),
     ({"level": 1.5}, "level")],
)
def test_bad_settings(small_paths, kwargs, message):
    """Bad bootstrap settings raise ParameterError naming the setting."""
    with pytest.raises(ParameterError, match=message):
        bootstrap(Markov().fit(small_paths), small_paths, **kwargs)


@pytest.mark.parametrize("count", [1e18, 1e300])
@pytest.mark.parametrize("method", ["poisson", "multinomial"])
def test_counts_beyond_the_limit_are_refused_naming_it(count, method):
    """Journey counts past MAX_JOURNEYS raise a ParameterError that names the limit."""
    paths = PathTable.from_sequences([["a"], ["a", "b"]], [count, 1.0], [count, 0.0])
    with pytest.raises(ParameterError, match=r"more than the 1e\+15 the bootstrap"):
        bootstrap(Markov().fit(paths), paths, replicates=2, method=method)


def test_counts_at_the_limit_still_resample():
    """Counts just under the limit resample to finite intervals with either method."""
    paths = PathTable.from_sequences([["a"], ["a", "b"]], [4e14, 1e14], [4e14, 1e14])
    for method in ("poisson", "multinomial"):
        intervals = bootstrap(PositionBased().fit(paths), paths, replicates=3, method=method)
        assert all(np.isfinite(i.conversions).all() for i in intervals.by_channel)
