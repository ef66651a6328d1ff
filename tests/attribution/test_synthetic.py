"""Tests of the synthetic journey generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.errors import ParameterError
from attribution.paths import PathTable
from attribution.synthetic import (
    ProcessSettings,
    channel_names,
    journey_process,
    simulate_paths,
    simulate_touches,
)


def test_same_seed_same_data():
    """A seed fixes the data; another seed changes it."""
    a = simulate_paths(20_000, 6, seed=4)
    pd.testing.assert_frame_equal(a, simulate_paths(20_000, 6, seed=4))
    assert not a.equals(simulate_paths(20_000, 6, seed=5))


def test_counts_add_up_and_rate_matches_the_setting():
    """Every journey is counted once and the conversion rate is near the setting."""
    frame = simulate_paths(200_000, 8, seed=1, settings=ProcessSettings(conversion_rate=0.05))
    assert frame["conversions"].sum() + frame["nulls"].sum() == 200_000
    rate = frame["conversions"].sum() / 200_000
    assert rate == pytest.approx(0.05, abs=0.004)
    assert frame["path"].is_unique and frame["path"].is_monotonic_increasing


def test_output_is_a_valid_paths_table():
    """The generated frame passes the same validation as a user's file."""
    table = PathTable.from_frame(simulate_paths(5_000, 6, seed=2, unicode_names=True))
    assert "微信朋友圈" in table.channels
    assert table.total_conversions > 0


def test_process_parameters_do_not_depend_on_sample_size():
    """The ground truth drawn from a seed is the same whatever the number of journeys."""
    a = journey_process(7, seed=3)
    b = journey_process(7, seed=3)
    np.testing.assert_array_equal(a.lifts, b.lifts)
    np.testing.assert_allclose(a.transitions.sum(axis=1), 1.0)
    assert a.first_touch.argmax() == 0  # the most popular channel comes first


def test_channels_with_larger_lift_convert_more():
    """Journeys touching the channel with the largest lift convert more often than average."""
    process = journey_process(6, seed=0)
    best = process.channels[int(np.argmax(process.lifts))]
    frame = simulate_paths(100_000, 6, seed=0)
    touched = frame["path"].str.split(" > ").map(lambda names: best in names)
    rate_best = frame.loc[touched, "conversions"].sum() / (
        frame.loc[touched, ["conversions", "nulls"]].to_numpy().sum())
    overall = frame["conversions"].sum() / frame[["conversions", "nulls"]].to_numpy().sum()
    assert rate_best > overall


def test_names_extend_beyond_the_list():
    """More channels than named ones get generated, distinct names."""
    names = channel_names(30)
    assert len(set(names)) == 30
    assert names[0] == "search"


def test_touch_tables_have_the_builder_columns():
    """Raw events carry user_id, timestamp, channel and user_id, timestamp, value."""
    touches, conversions = simulate_touches(300, 5, seed=1)
    assert list(touches.columns) == ["user_id", "timestamp", "channel"]
    assert list(conversions.columns) == ["user_id", "timestamp", "value"]
    assert set(conversions["user_id"]) <= set(touches["user_id"])
    assert (conversions["value"] > 0).all()


@pytest.mark.parametrize("field", ["repeat_probability", "conversion_rate", "mean_length"])
def test_bad_settings_name_the_field(field):
    """Out-of-range process settings raise ParameterError naming the field."""
    with pytest.raises(ParameterError, match=field):
        ProcessSettings(**{field: -1.0})
