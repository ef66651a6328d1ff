"""Geometric adstock with normalised weights and a maximum lag.

Spend in week ``t`` keeps working for ``max_lag`` weeks with weights
``w_l = alpha^l / sum_{j<L} alpha^j`` (``l = 0 .. L-1``), so the weights sum to
one: a constant weekly spend ``x`` has an adstocked level of exactly ``x``,
and a steady-state plan can be evaluated on the curve directly. The weekly
adstocked spend is ``a_t = sum_l w_l x_{t-l}``, with spend before the first
week taken from ``history`` when given (else zero).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from optimizer.errors import ParameterError


def adstock_weights(alpha: ArrayLike, max_lag: int) -> NDArray[np.float64]:
    """Normalised weights of shape ``alpha.shape + (max_lag,)``."""
    if not (isinstance(max_lag, int) and max_lag >= 1):
        raise ParameterError(f"adstock: max_lag must be a positive integer, got {max_lag!r}")
    alpha = np.asarray(alpha, dtype=float)[..., None]
    raw = alpha ** np.arange(max_lag)
    return np.asarray(raw / raw.sum(axis=-1, keepdims=True))


def geometric_adstock(
    spend: ArrayLike, alpha: ArrayLike, max_lag: int, history: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Adstocked spend of a ``(weeks, channels)`` array, numpy.

    ``alpha`` has one value per channel; ``history`` holds earlier weeks
    ``(h, channels)``, most recent last.
    """
    x = np.asarray(spend, dtype=float)
    weights = adstock_weights(alpha, max_lag)  # (channels, L)
    past = np.zeros((max_lag - 1, x.shape[1]))
    if history is not None:
        h = np.asarray(history, dtype=float)[-(max_lag - 1):] if max_lag > 1 else np.zeros((0,))
        if max_lag > 1 and len(h):
            past[-len(h):] = h
    padded = np.vstack([past, x])
    out = np.zeros_like(x)
    for lag in range(max_lag):
        out += weights[:, lag] * padded[max_lag - 1 - lag: max_lag - 1 - lag + len(x)]
    return out


def geometric_adstock_pt(spend: Any, alpha: Any, max_lag: int) -> Any:
    """Adstocked spend of a ``(weeks, channels)`` tensor, pytensor, zero before week 0."""
    import pytensor.tensor as pt

    raw = pt.power(alpha[None, :], pt.arange(max_lag)[:, None])  # (L, channels)
    weights = raw / raw.sum(axis=0, keepdims=True)
    padded = pt.concatenate([pt.zeros((max_lag - 1, spend.shape[1])), spend], axis=0)
    weeks = spend.shape[0]
    return sum(
        weights[lag] * padded[max_lag - 1 - lag: max_lag - 1 - lag + weeks]
        for lag in range(max_lag)
    )
