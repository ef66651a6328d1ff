"""Tests of the channel checks and spend vectors of posterior draws (optimizer.posterior)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InputError
from tests.optimizer.conftest import make_draws


@pytest.fixture
def draws():
    """Three channels, one draw."""
    return make_draws([1.0, 2.0, 3.0], [10.0, 20.0, 30.0], channels=("email", "search", "tv"))


def test_known_channels_keep_the_order_given(draws):
    """Known names come back as a list in the order given, repeats included."""
    assert draws.known_channels(("tv", "email", "tv"), "locked") == ["tv", "email", "tv"]
    assert draws.known_channels([], "locked") == []


@pytest.mark.parametrize("field", ["--lock", Path("bounds.csv")])
def test_unknown_channel_names_the_field(draws, field):
    """The first unknown name is reported with the field or file and the model's channels."""
    with pytest.raises(InputError, match=r"^(--lock|bounds\.csv): unknown channel 'radio'; "
                                         r"the model has email, search, tv$"):
        draws.known_channels(["tv", "radio", "cinema"], field)


def test_spend_of_a_mapping_is_in_channel_order(draws):
    """A channel -> spend mapping becomes a vector in the draws' order, missing channels 0."""
    spend = draws.spend_by_channel({"tv": 300, "email": 12.5}, "allocation")
    assert spend.dtype == np.float64
    np.testing.assert_array_equal(spend, [12.5, 0.0, 300.0])


def test_spend_of_a_table_matches_the_mapping(draws):
    """A channel, spend table gives the mapping's vector; a repeated channel's last row wins."""
    frame = pd.DataFrame({"channel": ["search", "tv", "search"], "spend": [1.0, 2.0, 7.0]})
    np.testing.assert_array_equal(draws.spend_by_channel(frame, Path("current.csv")),
                                  [0.0, 7.0, 2.0])
    np.testing.assert_array_equal(draws.spend_by_channel({"search": 7.0, "tv": 2.0}, "current"),
                                  [0.0, 7.0, 2.0])


@pytest.mark.parametrize(("spend", "message"), [
    ({"radio": 5.0}, r"^current: unknown channel 'radio'; the model has email, search, tv$"),
    ({"tv": -1.0}, r"^current: spend of channel 'tv' must be a finite, non-negative number, "
                   r"got -1\.0$"),
    ({"tv": float("nan")}, r"^current: spend of channel 'tv' must be .* got nan$"),
    ({"email": float("inf")}, r"^current: spend of channel 'email' must be .* got inf$"),
    ({"email": "lots"}, r"^current: spend of channel 'email' must be .* got 'lots'$"),
])
def test_bad_spend_names_the_field(draws, spend, message):
    """Unknown channels and spends that are not finite non-negative numbers are InputErrors."""
    with pytest.raises(InputError, match=message):
        draws.spend_by_channel(spend, "current")
