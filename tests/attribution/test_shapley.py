"""Tests of Shapley attribution: golden case, brute-force oracles, properties."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attribution.shapley as shapley_module
from attribution.base import AttributionModel
from attribution.errors import ParameterError
from attribution.paths import PathTable
from attribution.shapley import (
    Shapley,
    lookup_values,
    monte_carlo_shapley,
    shapley_from_values,
    subset_keys,
)

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "golden"
NAMES = ("display", "email", "search", "social", "tv")
VALUE_FUNCTIONS = ("simplified", "ordered", "conversion_rate")


# -- strategies and oracles -------------------------------------------------------------


@st.composite
def path_tables(draw: st.DrawFn, max_channels: int = 5, max_rows: int = 8) -> PathTable:
    """Small aggregated path tables with integer counts."""
    names = NAMES[: draw(st.integers(1, max_channels))]
    row = st.tuples(
        st.lists(st.sampled_from(names), min_size=1, max_size=5),
        st.integers(0, 20), st.integers(0, 20), st.integers(0, 500),
    )
    rows = draw(st.lists(row, min_size=1, max_size=max_rows))
    paths, conv, nulls, value = zip(*rows, strict=True)
    return PathTable.from_sequences(list(paths), conv, nulls, value)


def random_table(rng: np.random.Generator, n_channels: int, n_rows: int) -> PathTable:
    """A random aggregated table drawn with ``rng``."""
    names = NAMES[:n_channels]
    paths = [list(rng.choice(names, size=rng.integers(1, 6))) for _ in range(n_rows)]
    conv = rng.integers(0, 30, n_rows)
    return PathTable.from_sequences(paths, conv, rng.integers(0, 30, n_rows), conv * 7.5)


def permutation_shapley(players: Iterable[str], v: Callable[[frozenset[str]], float]
                        ) -> dict[str, float]:
    """Shapley values by averaging marginal gains over every order of the players."""
    players = tuple(players)
    phi = dict.fromkeys(players, 0.0)
    orders = list(itertools.permutations(players))
    for order in orders:
        coalition: frozenset[str] = frozenset()
        for p in order:
            phi[p] += v(coalition | {p}) - v(coalition)
            coalition = coalition | {p}
    return {p: x / len(orders) for p, x in phi.items()}


def brute_force_rate_credit(table: PathTable, min_support: float) -> dict[tuple[int, str], float]:
    """Conversion-rate Shapley credit per (row, channel) from dictionaries and permutations."""
    sets = [frozenset(table.path(r)) for r in range(table.n_rows)]
    conv: dict[frozenset[str], float] = {}
    seen: dict[frozenset[str], float] = {}
    for r, s in enumerate(sets):
        conv[s] = conv.get(s, 0.0) + table.conversions[r]
        seen[s] = seen.get(s, 0.0) + table.conversions[r] + table.nulls[r]

    def rate(t: frozenset[str]) -> float:
        n = seen.get(t, 0.0)
        return conv[t] / n if n >= min_support and n > 0 else 0.0

    credit = {}
    for r, s in enumerate(sets):
        phi = permutation_shapley(sorted(s), rate)
        positive = {c: max(x, 0.0) for c, x in phi.items()}
        total = sum(positive.values())
        for c in s:
            share = positive[c] / total if total > 1e-12 else 1.0 / len(s)
            credit[(r, c)] = share * table.conversions[r]
    return credit


def credit_by_path(model: AttributionModel, table: PathTable) -> dict[tuple[Any, str], float]:
    """Fitted conversions credit keyed by (path, channel) for the channels of each path."""
    dense = model.fit(table).result.credit.conversions.toarray()
    return {
        (table.path(r), c): float(dense[r, j])
        for r in range(table.n_rows) for j, c in enumerate(table.channels) if c in table.path(r)
    }


def flatten(obj: Any, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    """Nested dicts and lists as one flat dict keyed by the path to each leaf."""
    if isinstance(obj, dict):
        return {k: v for key, item in obj.items() for k, v in flatten(item, (*prefix, key)).items()}
    if isinstance(obj, list):
        return {k: v for i, item in enumerate(obj) for k, v in flatten(item, (*prefix, i)).items()}
    return {prefix: obj}


# -- golden case ------------------------------------------------------------------------


GOLDEN_CASES = json.loads((GOLDEN / "shapley_3channel.json").read_text())


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES["cases"]))
def test_golden_three_channels(case: str) -> None:
    """Each value function reproduces the hand-derived numbers of shapley_3channel.md."""
    expected = GOLDEN_CASES["cases"][case]
    tol = GOLDEN_CASES["tolerance"]
    table = PathTable.read(GOLDEN / GOLDEN_CASES["input"])
    result = Shapley(**expected["params"]).fit(table).result
    assert list(result.channels) == GOLDEN_CASES["channels"]
    for field in ("conversions", "value"):
        got = dict(zip(result.channels, getattr(result, field).tolist(), strict=True))
        assert got == pytest.approx(expected[field], abs=tol)
    details = {key: result.details[key] for key in expected.get("details", {})}
    assert flatten(details) == pytest.approx(flatten(expected.get("details", {})), abs=tol)
    if "journeys" in expected:
        rows = result.journey_table()
        got_rows: dict[str, dict[str, float]] = {}
        for journey, channel, conv in rows[["journey", "channel", "conversions"]].itertuples(
            index=False
        ):
            got_rows.setdefault(journey, {})[channel] = conv
        assert flatten(got_rows) == pytest.approx(flatten(expected["journeys"]), abs=tol)


# -- kernels ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_shapley_from_values_matches_permutations(n: int) -> None:
    """The vectorised exact kernel equals averaging over all orders on random games."""
    rng = np.random.default_rng(n)
    v = rng.normal(size=(3, 1 << n))
    phi = shapley_from_values(v)
    for g in range(3):
        def worth(s: frozenset[str], g: int = g) -> float:
            return float(v[g, sum(1 << int(p) for p in s)])
        want = permutation_shapley([str(i) for i in range(n)], worth)
        assert phi[g] == pytest.approx([want[str(i)] for i in range(n)], abs=1e-12)


def test_subset_keys_enumerates_unions() -> None:
    """Column s of the subset keys is the union of the players whose bits are set in s."""
    bits = np.array([[1, 8, 32]], dtype=np.uint64)
    keys = subset_keys(bits)
    assert keys.tolist() == [[0, 1, 8, 9, 32, 33, 40, 41]]


def test_monte_carlo_kernel_agrees_with_exact() -> None:
    """Permutation estimates lie within 4 standard errors of the exact values."""
    rng = np.random.default_rng(7)
    n = 6
    v = rng.uniform(size=(2, 1 << n))
    v[:, 0] = 0.0
    bits = np.tile(1 << np.arange(n, dtype=np.int64), (2, 1))

    def value(keys: np.ndarray) -> np.ndarray:
        game = np.broadcast_to(np.arange(2)[:, None, None], keys.shape)
        return v[game, keys]

    phi, se = monte_carlo_shapley(bits, value, n_permutations=4000, rng=rng)
    exact = shapley_from_values(v)
    assert np.all(se > 0)
    assert np.all(np.abs(phi - exact) <= 4 * se)
    assert phi.sum(axis=1) == pytest.approx(v[:, -1], abs=1e-12)


def test_lookup_values_returns_zero_for_unknown_keys() -> None:
    """Keys not in the table, and keys whose worth is 0, are worth 0."""
    value = lookup_values(np.array([3, 5, 9], dtype=np.uint64), np.array([0.5, 0.0, 0.25]))
    query = np.array([[3, 4, 5, 9, 10]], dtype=np.uint64)
    assert value(query).tolist() == [[0.5, 0.0, 0.0, 0.25, 0.0]]


# -- simplified and ordered -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_simplified_closed_form_equals_enumeration(seed: int) -> None:
    """The equal split per journey equals the Shapley value of v(S) enumerated over subsets."""
    table = random_table(np.random.default_rng(seed), n_channels=5, n_rows=12)
    sets = [frozenset(table.path(r)) for r in range(table.n_rows)]
    result = Shapley(value_function="simplified").fit(table).result
    for field in ("conversions", "value"):
        amount = getattr(table, field)

        def v(s: frozenset[str], amount: np.ndarray = amount) -> float:
            return float(sum(a for t, a in zip(sets, amount, strict=True) if t <= s))

        want = permutation_shapley(table.channels, v)
        assert getattr(result, field) == pytest.approx([want[c] for c in table.channels])


@settings(max_examples=60, deadline=None)
@given(path_tables())
def test_ordered_sums_back_to_simplified(table: PathTable) -> None:
    """Ordered credit summed over touch positions is the simplified credit, row by row."""
    simplified = Shapley(value_function="simplified").fit(table).result
    ordered = Shapley(value_function="ordered").fit(table).result
    assert (ordered.credit.conversions != simplified.credit.conversions).nnz == 0
    for label, totals in (("by_position", simplified.conversions),
                          ("by_position_value", simplified.value)):
        by_position = ordered.details[label]
        got = [sum(by_position[c]) for c in table.channels]
        assert got == pytest.approx(totals.tolist())
        assert all(len(v) == table.lengths.max() for v in by_position.values())


def test_channel_totals_matches_refits() -> None:
    """The vectorised bootstrap totals equal refitting each replicate of counts."""
    rng = np.random.default_rng(3)
    table = random_table(rng, n_channels=4, n_rows=10)
    weights = rng.poisson(1.0, size=(table.n_rows, 6)).astype(float)
    counts = [a[:, None] * weights for a in (table.conversions, table.nulls, table.value)]
    for vf in VALUE_FUNCTIONS:
        model = Shapley(value_function=vf)
        fast = model.channel_totals(table, *counts)
        slow = AttributionModel.channel_totals(model, table, *counts)
        np.testing.assert_allclose(fast, slow, atol=1e-9)


# -- conversion rate --------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "min_support"), [(0, 1.0), (1, 1.0), (2, 25.0), (3, 0.0)])
def test_conversion_rate_matches_brute_force(seed: int, min_support: float) -> None:
    """Per-row credit equals an independent dictionary-and-permutations implementation."""
    table = random_table(np.random.default_rng(seed), n_channels=5, n_rows=25)
    model = Shapley(value_function="conversion_rate", min_support=min_support)
    dense = model.fit(table).result.credit.conversions.toarray()
    want = brute_force_rate_credit(table, min_support)
    for r in range(table.n_rows):
        for j, c in enumerate(table.channels):
            assert dense[r, j] == pytest.approx(want.get((r, c), 0.0), abs=1e-9)


def convex_game_table() -> tuple[PathTable, dict[frozenset[str], float]]:
    """Every non-empty set of 5 channels with rate (sum of channel effects)**2, no clipping."""
    effect = dict(zip(NAMES, (0.1, 0.15, 0.2, 0.25, 0.3), strict=True))
    paths, conv, nulls, rates = [], [], [], {}
    for k in range(1, 6):
        for combo in itertools.combinations(NAMES, k):
            c = round(1000 * sum(effect[x] for x in combo) ** 2)
            paths.append(list(combo))
            conv.append(c)
            nulls.append(1000 - c)
            rates[frozenset(combo)] = c / 1000
    return PathTable.from_sequences(paths, conv, nulls, [2.0 * c for c in conv]), rates


def test_monte_carlo_model_agrees_with_exact() -> None:
    """With max_exact_channels forced low, credit is within 4 standard errors of exact."""
    table, rates = convex_game_table()
    exact = Shapley(value_function="conversion_rate").fit(table).result
    mc = Shapley(value_function="conversion_rate", max_exact_channels=2,
                 n_permutations=4000, seed=11).fit(table).result
    info = mc.details["monte_carlo"]
    assert info["sets"] == 16 and mc.details["clipped_sets"] == 0
    assert exact.details["monte_carlo"]["sets"] == 0
    row_of = {frozenset(table.path(r)): r for r in range(table.n_rows)}
    exact_conv = exact.credit.conversions.toarray()
    mc_conv = mc.credit.conversions.toarray()
    for entry in info["estimated"]:
        r = row_of[frozenset(entry["channels"])]
        # Without clipping a share is phi / v(S), so its error is se / v(S).
        scale = table.conversions[r] / rates[frozenset(entry["channels"])]
        for c, se in zip(entry["channels"], entry["standard_errors"], strict=True):
            j = table.channels.index(c)
            assert abs(mc_conv[r, j] - exact_conv[r, j]) <= 4 * se * scale + 1e-12
    assert info["max_standard_error"] == max(
        se for e in info["estimated"] for se in e["standard_errors"]
    )


def test_monte_carlo_is_seeded() -> None:
    """The same seed gives the same Monte Carlo credit; another seed differs."""
    table, _ = convex_game_table()

    def fit(seed: int) -> np.ndarray:
        model = Shapley(value_function="conversion_rate", max_exact_channels=1, seed=seed,
                        n_permutations=50)
        return model.fit(table).result.credit.conversions.toarray()

    np.testing.assert_array_equal(fit(5), fit(5))
    assert not np.array_equal(fit(5), fit(6))


def test_python_int_keys_match_uint64(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python-int bitmask path (used above 64 channels) gives the uint64 results."""
    table, _ = convex_game_table()
    settings_: dict[str, Any] = {"value_function": "conversion_rate",
                                 "max_exact_channels": 3, "n_permutations": 200}
    narrow = Shapley(**settings_).fit(table).result
    monkeypatch.setattr(shapley_module, "UINT64_CHANNELS", 0)
    wide = Shapley(**settings_).fit(table).result
    np.testing.assert_allclose(wide.credit.conversions.toarray(),
                               narrow.credit.conversions.toarray(), atol=1e-12)
    assert wide.details["monte_carlo"]["sets"] == narrow.details["monte_carlo"]["sets"] == 6


def test_more_than_64_channels() -> None:
    """A 70-channel table is attributed and matches the brute-force oracle."""
    rng = np.random.default_rng(70)
    names = [f"ch{i:02d}" for i in range(70)]
    paths = [names[i: i + 1 + i % 3] for i in range(70)] + [list(rng.choice(names, 3))]
    conv = rng.integers(1, 10, len(paths))
    table = PathTable.from_sequences(paths, conv, rng.integers(0, 10, len(paths)), conv)
    result = Shapley(value_function="conversion_rate").fit(table).result
    dense = result.credit.conversions.toarray()
    want = brute_force_rate_credit(table, 1.0)
    for (r, c), x in want.items():
        assert dense[r, table.channels.index(c)] == pytest.approx(x, abs=1e-9)
    assert result.total_conversions == pytest.approx(table.total_conversions)


# -- contract and properties ------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"value_function": "markov"}, "'simplified', 'ordered', 'conversion_rate'"),
        ({"min_support": -1.0}, "min_support"),
        ({"min_support": math.nan}, "min_support"),
        ({"max_exact_channels": 0}, "max_exact_channels"),
        ({"max_exact_channels": 21}, "max_exact_channels"),
        ({"max_exact_channels": 2.5}, "max_exact_channels"),
        ({"n_permutations": 1}, "n_permutations"),
        ({"n_permutations": True}, "n_permutations"),
        ({"seed": -1}, "seed"),
        ({"seed": "0"}, "seed"),
    ],
)
def test_bad_settings_raise_parameter_error(settings_: dict[str, Any], message: str) -> None:
    """Unknown value functions and out-of-range settings raise ParameterError naming them."""
    with pytest.raises(ParameterError, match=message):
        Shapley(**settings_)


def test_settings_are_keyword_only_and_reported() -> None:
    """Settings are keyword-only and come back unchanged in get_params and the report."""
    with pytest.raises(TypeError):
        Shapley("ordered")  # type: ignore[call-arg]
    model = Shapley(value_function="ordered", seed=3)
    assert model.get_params() == {"value_function": "ordered", "min_support": 1.0,
                                  "max_exact_channels": 15, "n_permutations": 2000, "seed": 3}


@pytest.mark.parametrize("value_function", VALUE_FUNCTIONS)
def test_report_is_json(value_function: str) -> None:
    """The result's to_dict, details included, survives a JSON round trip."""
    table, _ = convex_game_table()
    model = Shapley(value_function=value_function, max_exact_channels=3, n_permutations=20)
    report = model.fit(table).result.to_dict()
    assert json.loads(json.dumps(report))["details"] == report["details"]


@settings(max_examples=60, deadline=None)
@given(path_tables(), st.sampled_from(VALUE_FUNCTIONS))
def test_credit_sums_to_outcomes_and_is_non_negative(table: PathTable, value_function: str
                                                     ) -> None:
    """Every row's credit is non-negative and sums to its conversions and its value."""
    credit = Shapley(value_function=value_function).fit(table).result.credit
    for matrix, amount in ((credit.conversions, table.conversions), (credit.value, table.value)):
        dense = matrix.toarray()
        assert np.all(dense >= 0)
        np.testing.assert_allclose(dense.sum(axis=1), amount, rtol=1e-9, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(path_tables(), st.sampled_from(VALUE_FUNCTIONS), st.randoms(use_true_random=False))
def test_renaming_channels_permutes_credit(table: PathTable, value_function: str,
                                           random: Any) -> None:
    """Renaming (and so reordering) channels moves each channel's credit with its name."""
    new_names = [f"c{i}" for i in range(table.n_channels)]
    random.shuffle(new_names)
    rename = dict(zip(table.channels, new_names, strict=True))
    renamed = PathTable.from_sequences(
        [[rename[c] for c in table.path(r)] for r in range(table.n_rows)],
        table.conversions, table.nulls, table.value,
    )
    model = Shapley(value_function=value_function)
    before = credit_by_path(model, table)
    after = credit_by_path(model, renamed)
    mapped = {(tuple(rename[c] for c in p), rename[c]): x for (p, c), x in before.items()}
    assert after.keys() == mapped.keys()
    assert after == pytest.approx(mapped, abs=1e-9)
