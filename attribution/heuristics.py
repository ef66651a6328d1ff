"""Rule-based attribution: first touch, last touch, linear, position-based, time decay.

Each rule gives every touch of a journey a fixed weight, the weights of a
journey summing to 1; a journey's conversions and value are split by those
weights. Repeated touches of a channel each count as a touch.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from attribution.base import LinearModel, touch_split
from attribution.errors import ParameterError
from attribution.paths import PathTable


def first_touch_weights(paths: PathTable) -> NDArray[np.float64]:
    """1 for the first touch of each journey, 0 elsewhere."""
    return (paths.touch_position == 0).astype(np.float64)


def last_touch_weights(paths: PathTable) -> NDArray[np.float64]:
    """1 for the last touch of each journey, 0 elsewhere."""
    return (paths.touch_position == paths.lengths[paths.touch_row] - 1).astype(np.float64)


def linear_weights(paths: PathTable) -> NDArray[np.float64]:
    """``1 / n`` for every touch of a journey with ``n`` touches."""
    return 1.0 / paths.lengths[paths.touch_row].astype(np.float64)


def position_based_weights(
    paths: PathTable, first: float = 0.4, last: float = 0.4
) -> NDArray[np.float64]:
    """U-shaped weights: ``first`` to the first touch, ``last`` to the last, the rest
    split equally over the touches between.

    A one-touch journey gives its touch 1. A two-touch journey has no middle, so
    the two ends share in the ratio ``first : last`` (50/50 by default).
    """
    n = paths.lengths[paths.touch_row].astype(np.float64)
    pos = paths.touch_position
    middle = (1.0 - first - last) / np.maximum(n - 2.0, 1.0)
    weights = np.where(pos == 0, first, np.where(pos == n - 1, last, middle))
    two = n == 2
    ends = first + last
    weights[two] = np.where(pos[two] == 0, first, last) / ends if ends > 0 else 0.5
    weights[n == 1] = 1.0
    return weights


def time_decay_weights(
    paths: PathTable, half_life_days: float = 7.0, half_life_touches: float = 1.0
) -> NDArray[np.float64]:
    """Weights ``2 ** (-age / half_life)``, normalised per journey.

    The age of a touch is its distance in days to the journey's end when the
    table carries touch times, otherwise its distance in touches to the last
    touch (the last touch has age 0).
    """
    if paths.touch_days is not None:
        age = paths.touch_days / half_life_days
    else:
        age = (paths.lengths[paths.touch_row] - 1 - paths.touch_position) / half_life_touches
    # Shift by the youngest touch of each journey so no journey underflows to 0.
    youngest = np.minimum.reduceat(age, paths.offsets[:-1]) if len(age) else age
    raw = np.exp2(-(age - youngest[paths.touch_row]))
    total = np.add.reduceat(raw, paths.offsets[:-1]) if len(raw) else raw
    return raw / total[paths.touch_row]


class FirstTouch(LinearModel):
    """All credit to the first touch of each journey."""

    name = "first_touch"

    def shares(self, paths: PathTable) -> sp.csr_array:
        return touch_split(paths, first_touch_weights(paths))


class LastTouch(LinearModel):
    """All credit to the last touch of each journey."""

    name = "last_touch"

    def shares(self, paths: PathTable) -> sp.csr_array:
        return touch_split(paths, last_touch_weights(paths))


class Linear(LinearModel):
    """Equal credit to every touch of a journey."""

    name = "linear"

    def shares(self, paths: PathTable) -> sp.csr_array:
        return touch_split(paths, linear_weights(paths))


class PositionBased(LinearModel):
    """U-shaped credit: ``first`` and ``last`` to the ends, the rest to the middle.

    Parameters
    ----------
    first, last
        Shares of the first and last touch; ``first + last`` must be at most 1.
    """

    name = "position_based"

    def __init__(self, *, first: float = 0.4, last: float = 0.4) -> None:
        if not (0 <= first <= 1 and 0 <= last <= 1 and first + last <= 1 + 1e-12):
            raise ParameterError(
                f"position_based: first ({first}) and last ({last}) must be in [0, 1] "
                "and add up to at most 1"
            )
        self.first = first
        self.last = last

    def shares(self, paths: PathTable) -> sp.csr_array:
        return touch_split(paths, position_based_weights(paths, self.first, self.last))


class TimeDecay(LinearModel):
    """Credit halving with every ``half_life`` of age before the journey's end.

    Parameters
    ----------
    half_life_days
        Half-life in days, used when the paths carry touch times.
    half_life_touches
        Half-life in touches, used otherwise.
    """

    name = "time_decay"

    def __init__(self, *, half_life_days: float = 7.0, half_life_touches: float = 1.0) -> None:
        for label, value in (("half_life_days", half_life_days),
                             ("half_life_touches", half_life_touches)):
            if not (np.isfinite(value) and value > 0):
                raise ParameterError(f"time_decay: {label} must be a positive number, got {value}")
        self.half_life_days = half_life_days
        self.half_life_touches = half_life_touches

    def shares(self, paths: PathTable) -> sp.csr_array:
        return touch_split(
            paths, time_decay_weights(paths, self.half_life_days, self.half_life_touches)
        )
