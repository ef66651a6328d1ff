"""Hand-built posterior draws for the optimizer tests (no sampling anywhere)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import ArrayLike

from optimizer.posterior import ResponseDraws
from tests.conftest import load_golden


def make_draws(
    beta: ArrayLike, lam: ArrayLike, *, alpha: ArrayLike | float = 0.0, max_lag: int = 1,
    value: ArrayLike | float = 1.0, current: ArrayLike | None = None,
    max_weekly: ArrayLike | None = None, history: ArrayLike | None = None,
    family: str = "exponential", channels: tuple[str, ...] | None = None,
    kpi: str = "conversions",
) -> ResponseDraws:
    """A ``ResponseDraws`` straight from arrays; 1-d ``beta``/``lam`` mean one draw."""
    beta = np.atleast_2d(np.asarray(beta, dtype=float))
    lam = np.broadcast_to(np.atleast_2d(np.asarray(lam, dtype=float)), beta.shape).copy()
    n_draws, n_channels = beta.shape
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), beta.shape).copy()
    current = lam.mean(axis=0) if current is None else np.asarray(current, dtype=float)
    max_weekly = 2 * current if max_weekly is None else np.asarray(max_weekly, dtype=float)
    history = np.zeros((0, n_channels)) if history is None else np.asarray(history, dtype=float)
    return ResponseDraws(
        channels=channels or tuple(f"ch{i}" for i in range(n_channels)), curve_name=family,
        beta=beta, lam=lam, alpha=alpha, max_lag=max_lag,
        value_per_kpi=np.asarray(value, dtype=float) * np.ones(n_channels),
        baseline=np.zeros(n_draws), history=history, current=current,
        max_weekly_spend=max_weekly, kpi=kpi)


def random_draws(n_draws: int, n_channels: int, *, seed: int = 0, family: str = "exponential",
                 max_lag: int = 1, value: float = 20.0, history_weeks: int = 0) -> ResponseDraws:
    """Channels of different scale, each with a spread of draws around its own curve."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(5.0, 2_000.0, (1, n_channels)) * rng.lognormal(0, 0.25, (n_draws, n_channels))
    beta = rng.gamma(5.0, 100.0, (1, n_channels)) * rng.lognormal(0, 0.25, (n_draws, n_channels))
    alpha = rng.uniform(0.1, 0.7, (n_draws, n_channels))
    current = lam.mean(axis=0) * rng.uniform(0.5, 1.5, n_channels)
    history = rng.uniform(0.5, 1.5, (history_weeks, n_channels)) * current
    return make_draws(beta, lam, alpha=alpha, max_lag=max_lag, value=value, current=current,
                      max_weekly=2 * current, history=history, family=family)


@pytest.fixture
def golden_two_channel() -> tuple[ResponseDraws, dict[str, Any]]:
    """The two-channel exponential case of ``fixtures/golden`` and its hand-derived numbers."""
    expected = load_golden("allocator_two_channel")
    inputs = expected["inputs"]
    draws = make_draws(inputs["beta"], inputs["lam"], value=inputs["value_per_kpi"],
                       current=inputs["current"], max_weekly=inputs["max_weekly_spend"],
                       channels=tuple(inputs["channels"]), family=inputs["curve"])
    return draws, expected


@pytest.fixture
def posterior() -> ResponseDraws:
    """Six channels, 40 draws, exponential curves, four weeks of adstock and history."""
    return random_draws(40, 6, seed=3, max_lag=4, history_weeks=6)
