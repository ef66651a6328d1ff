"""Per-channel spend limits of a plan, and the conflicts that can be seen without solving.

All limits are **weekly** spend per channel, like ``ResponseDraws.current``
and ``max_weekly_spend`` (in per-week mode they hold in every week); the budget
is the spend over the whole horizon, so a limit counts ``horizon_weeks`` times
against it. A channel's limits combine, in this order:

1. the default cap ``max_spend_multiple x`` its largest historical weekly
   spend (the curve is unknown beyond the data; ``None`` disables it);
2. explicit ``bounds`` ``{channel: (minimum, maximum)}``, either side ``None``;
   an explicit maximum replaces the default cap for that channel;
3. ``max_change``: at most ``+-max_change`` of the current spend (``0.3`` is
   +-30%), intersected with the above;
4. ``locked`` channels spend exactly their current amount (overriding 1 and 3,
   conflicting with explicit bounds that exclude it).

Every conflict raises :class:`~optimizer.errors.InfeasibleError` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from optimizer.errors import InfeasibleError, ParameterError
from optimizer.posterior import ResponseDraws
from optimizer.problem import weeks_text

Array = NDArray[np.float64]
Bounds = Mapping[str, tuple[float | None, float | None]]
#: Relative slack when comparing sums of limits with the budget (rounding only).
_SLACK = 1e-9


def money(amount: float) -> str:
    """Amounts the way a media plan shows them: ``1.3M``, ``50,000``, ``12.5``."""
    if not np.isfinite(amount):
        return "unlimited"
    if abs(amount) >= 1e6:
        return f"{amount / 1e6:.4g}M"
    return f"{amount:,.0f}" if abs(amount) >= 100 else f"{amount:.4g}"


@dataclass(frozen=True, eq=False)
class Limits:
    """Weekly minimum and maximum per channel, with where each came from."""

    lower: Array
    upper: Array
    lower_source: tuple[str, ...]
    upper_source: tuple[str, ...]
    locked: tuple[str, ...]


def _index(draws: ResponseDraws, name: str, what: str) -> int:
    try:
        return draws.channels.index(name)
    except ValueError:
        raise ParameterError(f"{what}: unknown channel {name!r}; channels are "
                             f"{', '.join(draws.channels)}", field=what) from None


def _amount(value: float | None, what: str) -> float | None:
    if value is None:
        return None
    amount = float(value)
    if not (np.isfinite(amount) or amount == np.inf) or amount < 0:
        raise ParameterError(f"{what}: must be a non-negative amount, got {value!r}")
    return amount


def _changes(draws: ResponseDraws, max_change: float | Mapping[str, float] | None) -> Array:
    change = np.full(draws.n_channels, np.nan)
    if max_change is None:
        return change
    items = max_change.items() if isinstance(max_change, Mapping) else \
        ((c, max_change) for c in draws.channels)
    for name, value in items:
        if not (np.isfinite(value) and value >= 0):
            raise ParameterError(f"max_change: must be a non-negative fraction, got {value!r}")
        change[_index(draws, name, "max_change")] = float(value)
    return change


def _default_cap(draws: ResponseDraws, multiple: float | None) -> tuple[Array, list[str]]:
    if multiple is None:
        return np.full(draws.n_channels, np.inf), ["no cap"] * draws.n_channels
    if not (np.isfinite(multiple) and multiple > 0):
        raise ParameterError(f"max_spend_multiple: must be a positive number or None, got "
                             f"{multiple!r}")
    largest = np.asarray(draws.max_weekly_spend, dtype=float)
    return multiple * largest, [f"{multiple:g} x its largest weekly spend {money(m)}"
                                for m in largest]


def channel_limits(
    draws: ResponseDraws, *, bounds: Bounds | None = None,
    max_change: float | Mapping[str, float] | None = None, locked: Iterable[str] = (),
    max_spend_multiple: float | None = 1.5,
) -> Limits:
    """Combine the default cap, ``bounds``, ``max_change`` and ``locked`` (module docstring)."""
    n = draws.n_channels
    lower, lo_src = np.zeros(n), ["no minimum"] * n
    upper, hi_src = _default_cap(draws, max_spend_multiple)
    explicit: dict[int, tuple[float | None, float | None]] = {}
    for name, pair in (bounds or {}).items():
        i = _index(draws, name, "bounds")
        low, high = _amount(pair[0], f"bounds[{name!r}] minimum"), \
            _amount(pair[1], f"bounds[{name!r}] maximum")
        explicit[i] = (low, high)
        if low is not None:
            lower[i], lo_src[i] = low, "its bound"
        if high is not None:
            upper[i], hi_src[i] = high, "its bound"
    current = np.asarray(draws.current, dtype=float)
    for i, change in enumerate(_changes(draws, max_change)):
        if np.isnan(change):
            continue
        floor, ceiling = current[i] * (1 - change), current[i] * (1 + change)
        if floor > lower[i]:
            lower[i], lo_src[i] = floor, f"current {money(current[i])} - {change:.0%}"
        if ceiling < upper[i]:
            upper[i], hi_src[i] = ceiling, f"current {money(current[i])} + {change:.0%}"
    locked = tuple(dict.fromkeys(locked))
    for name in locked:
        i = _index(draws, name, "locked")
        low, high = explicit.get(i, (None, None))
        if (low is not None and current[i] < low) or (high is not None and current[i] > high):
            raise InfeasibleError(
                f"channel {name}: locked at its current {money(current[i])}, outside its "
                f"bounds {money(low or 0.0)} to {money(np.inf if high is None else high)}")
        lower[i] = upper[i] = current[i]
        lo_src[i] = hi_src[i] = "locked at current"
    for i, name in enumerate(draws.channels):
        if lower[i] > upper[i] * (1 + _SLACK):
            raise InfeasibleError(
                f"channel {name}: minimum {money(lower[i])} ({lo_src[i]}) is above its maximum "
                f"{money(upper[i])} ({hi_src[i]})")
    return Limits(lower, np.maximum(upper, lower), tuple(lo_src), tuple(hi_src), locked)


def check_budget(draws: ResponseDraws, limits: Limits, budget: float, budget_mode: str,
                 horizon_weeks: float) -> None:
    """Raise if the locked channels, the minimums or (equal budget) the maximums cannot
    meet a horizon ``budget``."""
    weeks = f"over the {weeks_text(horizon_weeks)}-week horizon"
    locked = [draws.channels.index(c) for c in limits.locked]
    locked_spend = horizon_weeks * float(np.asarray(draws.current)[locked].sum())
    if locked_spend > budget * (1 + _SLACK):
        raise InfeasibleError(f"locked channels alone spend {money(locked_spend)} {weeks}, "
                              f"above the budget of {money(budget)}")
    minimum = horizon_weeks * float(limits.lower.sum())
    if minimum > budget * (1 + _SLACK):
        raise InfeasibleError(f"channel minimums add up to {money(minimum)} {weeks}, above "
                              f"the budget of {money(budget)}")
    maximum = horizon_weeks * float(limits.upper.sum())
    if budget_mode == "equal" and maximum < budget * (1 - _SLACK):
        raise InfeasibleError(
            f"channel maximums add up to {money(maximum)} {weeks}, below the budget of "
            f"{money(budget)}; widen the channels' maximums (bounds, max_change, "
            f"max_spend_multiple), or let the plan spend less than the budget "
            f"(budget_mode 'cap')")
