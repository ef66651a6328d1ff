"""Synthetic :class:`~optimizer.data.MediaData` with a known truth, for the model tests.

The process, for ``T`` weeks and ``C`` channels (seeded):

1. Spend: channel ``c`` has a level ``m_c`` (log-uniform, 2,000 to 40,000 a
   week) times lognormal week-to-week noise (sd 0.35); every third channel
   is flighted (off in about a third of the weeks).
2. Truth: adstock decay ``alpha_c ~ U(0.1, 0.6)``, saturation scale
   ``lam_c = m_c * U(0.6, 2.0)``, exponential curve, and ``beta_c`` set so the
   channel adds ``U(0.04, 0.12)`` of the baseline level at spend ``m_c``.
3. KPI: ``y_t = B (1 + 0.1 trend_t + 0.08 sin + 0.04 cos) + sum_c beta_c
   s(adstock(x)_tc; lam_c) + Normal(0, 0.03 B)``, ``B = 2,000`` conversions a
   week, with 26 weeks of spend before the first week feeding the adstock.
4. Revenue is conversions times 80.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimizer.adstock import geometric_adstock
from optimizer.curves import curve
from optimizer.data import MediaData

BURN_IN = 26
VALUE = 80.0


def synthetic_media(weeks: int = 52, n_channels: int = 3, seed: int = 0, max_lag: int = 8,
                    noise: float = 0.03) -> tuple[MediaData, dict[str, Any]]:
    """Weekly synthetic data and the truth: curves and total contributions per channel."""
    rng = np.random.default_rng(seed)
    total = weeks + BURN_IN
    level = np.exp(rng.uniform(np.log(2_000), np.log(40_000), n_channels))
    spend = level * rng.lognormal(-0.06, 0.35, (total, n_channels))
    for c in range(2, n_channels, 3):
        spend[rng.random(total) < 0.33, c] = 0.0
    alpha = rng.uniform(0.1, 0.6, n_channels)
    lam = level * rng.uniform(0.6, 2.0, n_channels)
    family = curve("exponential")
    base = 2_000.0
    beta = base * rng.uniform(0.04, 0.12, n_channels) / family.numpy(level, lam)
    parts = beta * family.numpy(geometric_adstock(spend, alpha, max_lag), lam)[BURN_IN:]
    dates = pd.date_range("2023-01-02", periods=weeks, freq="7D")
    t = np.arange(weeks) / weeks - 0.5
    phase = 2 * np.pi * dates.day_of_year.to_numpy() / 365.25
    baseline = base * (1 + 0.1 * t + 0.08 * np.sin(phase) + 0.04 * np.cos(phase))
    y = baseline + parts.sum(axis=1) + rng.normal(0, noise * base, weeks)
    channels = tuple(f"ch{c}" for c in range(n_channels))
    truth = {"alpha": alpha, "lam": lam, "beta": beta, "contribution": parts.sum(axis=0),
             "baseline": baseline}
    return MediaData(dates, "W", channels, spend[BURN_IN:], y, y * VALUE), truth
