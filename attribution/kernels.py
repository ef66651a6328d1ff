"""Counting kernels shared by the Markov chain and its order selection."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def unique_rows(
    window: NDArray[np.int64], n_channels: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct rows of ``window`` (sorted) and each row's index among them."""
    base = n_channels + 1
    if base ** window.shape[1] < 2**62:
        weights = base ** np.arange(window.shape[1] - 1, -1, -1, dtype=np.int64)
        keys, inverse = np.unique((window + 1) @ weights, return_inverse=True)
        codes = (keys[:, None] // weights) % base - 1
        return codes, inverse
    codes, inverse = np.unique(window, axis=0, return_inverse=True)
    return codes, inverse


def weighted_count(
    index: NDArray[np.int64], weights: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    """``np.bincount`` with weights, typed as the floats it returns."""
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)
