"""Hypothesis strategies for posterior draws and plan requests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from optimizer.curves import CURVES
from optimizer.posterior import ResponseDraws
from tests.optimizer.conftest import make_draws

Array = NDArray[np.float64]


@st.composite
def posteriors(draw: st.DrawFn, *, max_channels: int = 5, max_draws: int = 6,
               families: tuple[str, ...] = tuple(CURVES), max_lag: int = 1) -> ResponseDraws:
    """Draws of 2 to ``max_channels`` channels on scales from 1,000 to 100,000 a week,
    with adstock and a few weeks of history when ``max_lag > 1``."""
    n_channels = draw(st.integers(2, max_channels))
    n_draws = draw(st.integers(1, max_draws))
    family = draw(st.sampled_from(families))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lam = 10 ** rng.uniform(3, 5, (1, n_channels)) * rng.lognormal(0, 0.3, (n_draws, n_channels))
    beta = 10 ** rng.uniform(1, 3, (1, n_channels)) * rng.lognormal(0, 0.3, (n_draws, n_channels))
    current = lam.mean(axis=0) * rng.uniform(0.3, 1.5, n_channels)
    history = rng.uniform(0.0, 2.0, (max_lag - 1, n_channels)) * current
    return make_draws(beta, lam, value=rng.uniform(5, 50, n_channels), current=current,
                      max_weekly=current * rng.uniform(1.0, 3.0, n_channels), family=family,
                      alpha=rng.uniform(0.0, 0.8, (n_draws, n_channels)), max_lag=max_lag,
                      history=history)


@dataclass(frozen=True)
class Request:
    """Feasible bounds and a budget for a posterior."""

    bounds: dict[str, tuple[float, float]]
    budget: float
    budget_mode: str
    horizon_weeks: int

    def limits(self, draws: ResponseDraws) -> tuple[Array, Array]:
        """Weekly minimum and maximum per channel, in channel order."""
        pairs = np.array([self.bounds[c] for c in draws.channels])
        return pairs[:, 0], pairs[:, 1]


@st.composite
def requests(draw: st.DrawFn, draws: ResponseDraws, *, budget_modes: tuple[str, ...] =
             ("equal", "cap")) -> Request:
    """Explicit weekly bounds for every channel and a budget they can meet."""
    weeks = draw(st.integers(1, 6))
    lower, upper = [], []
    for scale in draws.lam.mean(axis=0):
        low = draw(st.sampled_from([0.0, 0.1, 0.3])) * scale
        lower.append(low)
        upper.append(low + draw(st.sampled_from([0.2, 0.5, 1.0, 3.0])) * scale)
    share = draw(st.floats(0.05, 0.95))
    mode = draw(st.sampled_from(budget_modes))
    budget = weeks * (sum(lower) + share * (sum(upper) - sum(lower)))
    if mode == "cap" and draw(st.booleans()):
        budget = weeks * sum(upper) * 1.5  # a cap that need not bind
    bounds = {c: (lo, hi) for c, lo, hi in zip(draws.channels, lower, upper, strict=True)}
    return Request(bounds, budget, mode, weeks)


def feasible_allocations(rng: np.random.Generator, lower: Array, upper: Array, total: float,
                         count: int) -> list[Array]:
    """Random weekly spends within ``[lower, upper]`` that add up to ``total``.

    Convex combinations of the uniform fill and greedy fills in random channel
    order, all of which are feasible.
    """
    room = upper - lower
    extra = total - lower.sum()
    corners = [lower + room * extra / room.sum()]
    for _ in range(3):
        fill, left = lower.copy(), extra
        for c in rng.permutation(len(lower)):
            fill[c] += min(left, room[c])
            left -= min(left, room[c])
        corners.append(fill)
    stack = np.array(corners)
    return [rng.dirichlet(np.ones(len(stack))) @ stack for _ in range(count)]
