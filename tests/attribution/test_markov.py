"""Tests of the exact Markov-chain model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution import absorbing, markov
from attribution.errors import NotFittedError, ParameterError
from attribution.markov import Markov, build_chain, removal_effects
from attribution.paths import PathTable
from tests.strategies import path_tables


def test_golden_three_paths(golden_markov):
    """The three-path example reproduces the removal effects and credit derived by hand."""
    paths, expected = golden_markov
    result = Markov(order=1).fit(paths).result
    details = result.details
    assert details["conversion_probability"] == pytest.approx(expected["conversion_probability"])
    assert details["expected_value"] == pytest.approx(expected["expected_value"])
    for name, key in (("removal_effects", "removal_effects"),
                      ("value_removal_effects", "value_removal_effects")):
        assert details[name] == pytest.approx(expected[key], rel=1e-12)
    channels = list(result.channels)
    assert dict(zip(channels, result.conversions, strict=True)) == pytest.approx(
        expected["conversions"], rel=1e-12)
    assert dict(zip(channels, result.value, strict=True)) == pytest.approx(
        expected["value"], rel=1e-12)


def test_transition_matrix_matches_hand_counts(golden_markov):
    """The exported transition table holds the counts and probabilities of the derivation."""
    paths, _ = golden_markov
    model = Markov().fit(paths)
    table = model.transition_matrix().set_index(["from", "to"])
    assert table.loc[("(start)", "A"), "count"] == 8
    assert table.loc[("A", "C"), "probability"] == pytest.approx(0.5)
    assert table.loc[("C", "(conversion)"), "probability"] == pytest.approx(0.25)
    assert table.groupby(level="from")["probability"].sum().to_numpy() == pytest.approx(1.0)


def simulate_conversion_probability(
    paths: PathTable, removed: int | None, walks: int, seed: int
) -> float:
    """Brute-force estimate of P(conversion) by walking the order-1 chain at random."""
    walked = paths.collapse_repeats()
    chain = build_chain(walked, 1)
    counts = chain.counts(paths.conversions + paths.nulls, paths.conversions, paths.nulls,
                          paths.value)
    q, conv, null, _ = markov.transition_probabilities(chain, counts)
    dense = q.toarray()
    size = dense.shape[0]
    # Columns: next state, then conversion, then null.
    table = np.hstack([dense, conv[:, None], null[:, None]])
    cumulative = np.cumsum(table, axis=1)
    holds = chain.contains.toarray()
    rng = np.random.default_rng(seed)
    state = np.zeros(walks, dtype=np.int64)
    converted = np.zeros(walks, dtype=bool)
    alive = np.ones(walks, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        draw = rng.random(len(idx))[:, None]
        nxt = (draw > cumulative[state[idx]]).sum(axis=1)
        converted[idx[nxt == size]] = True
        alive[idx[nxt >= size]] = False
        moving = idx[nxt < size]
        state[moving] = nxt[nxt < size]
        if removed is not None:
            alive[moving[holds[state[moving], removed]]] = False
    return float(converted.mean())


def test_exact_solver_agrees_with_simulation(small_paths):
    """Removal effects from the linear solve match a seeded random-walk simulation."""
    model = Markov(order=1).fit(small_paths)
    exact = model.result.details
    walks = 400_000
    p = simulate_conversion_probability(small_paths, None, walks, seed=1)
    assert p == pytest.approx(exact["conversion_probability"], abs=5 * np.sqrt(p * (1 - p) / walks))
    for c, name in enumerate(small_paths.channels):
        p_without = simulate_conversion_probability(small_paths, c, walks, seed=2 + c)
        effect = 1 - p_without / p
        assert effect == pytest.approx(exact["removal_effects"][name], abs=0.03)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_every_order_credits_all_conversions(small_paths, order):
    """Credit adds up to the total conversions and value at every order."""
    result = Markov(order=order).fit(small_paths).result
    assert result.conversions.sum() == pytest.approx(small_paths.total_conversions)
    assert result.value.sum() == pytest.approx(small_paths.total_value)
    assert result.details["order"] == order


def test_higher_order_states_are_suffixes(small_paths):
    """Order-2 states are the last two channels, shorter at the start of a path."""
    chain = build_chain(small_paths.collapse_repeats(), 2)
    names = small_paths.channels
    states = {tuple(names[c] for c in code if c >= 0) for code in chain.state_codes}
    assert ("feeds",) in states and ("feeds", "sms") in states
    assert ("feeds", "feeds") not in states  # repeats are collapsed first


def test_keeping_repeats_adds_self_loops(small_paths):
    """With collapse_repeats=False a repeated channel becomes a self-transition."""
    model = Markov(order=1, collapse_repeats=False).fit(small_paths)
    table = model.transition_matrix()
    assert ((table["from"] == "feeds") & (table["to"] == "feeds")).any()


@settings(max_examples=60, deadline=None)
@given(path_tables())
def test_order_one_is_unchanged_by_collapsing_repeats(paths):
    """Self-loops only delay a first-order walk, so collapsing repeats changes nothing."""
    collapsed = Markov(order=1, collapse_repeats=True).fit(paths).result
    kept = Markov(order=1, collapse_repeats=False).fit(paths).result
    np.testing.assert_allclose(collapsed.conversions, kept.conversions, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(collapsed.value, kept.value, rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(path_tables(max_rows=20, max_length=7), st.integers(2, 4))
def test_solvers_agree(paths, order):
    """Dense LU, the forward sweep and mass propagation inside components agree."""
    chain = build_chain(paths.collapse_repeats(), order)
    counts = chain.counts(paths.conversions + paths.nulls, paths.conversions, paths.nulls,
                          paths.value)
    q, conv, _, value = markov.transition_probabilities(chain, counts)
    rhs = np.column_stack([conv, value])
    keep = np.ones((chain.n_states + 1, chain.n_channels + 1), dtype=bool)
    keep[:, 1:] = ~chain.contains.toarray()
    dense = absorbing._dense_absorption(q, rhs, keep)
    swept = absorbing._forward_sweep(q, rhs, keep)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(absorbing, "DENSE_LIMIT", 1)  # every multi-state component propagates
        propagated = absorbing._forward_sweep(q, rhs, keep)
        patch.setattr(absorbing, "MAX_STEPS", 1)  # and falls back to sparse LU at once
        factorised = absorbing._forward_sweep(q, rhs, keep)
    np.testing.assert_allclose(swept, dense, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(propagated, dense, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(factorised, dense, rtol=1e-10, atol=1e-12)


def test_removal_effect_is_probability_of_visiting(golden_markov):
    """RE_c equals P(visit c | conversion): a channel on every converting path has effect 1."""
    paths = PathTable.from_sequences([["a", "b"], ["a"], ["c"]], [3, 1, 0], [1, 1, 4])
    chain = build_chain(paths, 1)
    counts = chain.counts(paths.conversions + paths.nulls, paths.conversions, paths.nulls,
                          paths.value)
    effects = removal_effects(chain, counts)
    assert effects.conversions[0] == pytest.approx(1.0)
    assert effects.conversions[2] == pytest.approx(0.0)


def test_journey_credit_reconciles_with_channel_totals(small_paths):
    """Per-journey credit sums to the channel totals, and rows to journeys within the fit error."""
    result = Markov(order=2).fit(small_paths).result
    table = result.journey_table()
    by_channel = table.groupby("channel")["conversions"].sum()
    expected = dict(zip(result.channels, result.conversions, strict=True))
    assert by_channel.to_dict() == pytest.approx(expected, rel=1e-9)
    assert (table["conversions"] >= 0).all()
    journeys = table.groupby("journey")["conversions"].sum()
    converting = {small_paths.labels[r]: small_paths.conversions[r]
                  for r in range(small_paths.n_rows) if small_paths.conversions[r] > 0}
    error = result.details["journey_credit_row_error"] * small_paths.total_conversions
    for journey, credit in journeys.items():
        assert credit == pytest.approx(converting[journey], abs=error + 1e-9)


def test_auto_order_prefers_the_order_that_predicts():
    """When conversion depends on the last two channels, auto picks an order of at least 2."""
    rng = np.random.default_rng(7)
    channels = ["a", "b", "c"]
    paths, conv, null = [], [], []
    for _ in range(600):
        path = list(rng.choice(channels, size=rng.integers(2, 5)))
        converts = path[-2:] == ["a", "b"] or path[-2:] == ["b", "a"]
        rate = 0.6 if converts else 0.05
        n = 50
        c = rng.binomial(n, rate)
        paths.append(path)
        conv.append(c)
        null.append(n - c)
    table = PathTable.from_sequences(paths, conv, null)
    result = Markov(order="auto", max_order=3, seed=3).fit(table).result
    scores = result.details["order_scores"]
    assert result.details["order"] >= 2
    assert scores["2"] < scores["1"]


@pytest.mark.parametrize("order", [0, 6, "two", 1.5])
def test_order_out_of_range_is_refused(order):
    """An order outside 1..5 or 'auto' raises ParameterError naming the setting."""
    with pytest.raises(ParameterError, match="order"):
        Markov(order=order)


def test_transition_matrix_before_fit_raises():
    """Asking for the chain before fitting raises NotFittedError."""
    with pytest.raises(NotFittedError):
        Markov().transition_matrix()
