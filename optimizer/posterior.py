"""Posterior draws of the media response, the contract between model and optimizer.

The PyMC model produces a :class:`ResponseDraws`; the optimizer and the
forecasts consume one. Tests build them by hand. Everything is in original
units: spend in currency per week, KPI (conversions or revenue) per week.

For draw ``d`` and channel ``c`` the weekly KPI contributed by a spend path
``x`` is ``beta[d, c] * s(adstock(x; alpha[d, c])_t ; lam[d, c])`` with ``s``
the curve family. A constant weekly spend ``x`` has an adstocked level of
``x`` (the adstock weights are normalised), so its steady-state contribution
is ``beta * s(x; lam)``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from optimizer.adstock import adstock_weights
from optimizer.curves import CurveFamily, curve
from optimizer.errors import InputError

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ResponseDraws:
    """Posterior draws of each channel's response curve and adstock.

    Parameters
    ----------
    channels
        Channel names, in the column order of every array.
    curve_name
        Name of the curve family (see :mod:`optimizer.curves`).
    beta, lam, alpha
        ``(draws, channels)``: weekly KPI at saturation, saturation scale in
        spend per week, adstock decay.
    max_lag
        Adstock length in weeks.
    value_per_kpi
        ``(channels,)`` or ``(draws, channels)``: revenue per unit of KPI from
        each channel (all ones when the KPI is revenue).
    baseline
        ``(draws,)``: expected weekly KPI without media, for totals.
    history
        ``(weeks, channels)``: the most recent weeks of spend, most recent last,
        for the carryover into a plan; at least ``max_lag - 1`` weeks or empty.
    current
        ``(channels,)``: the current weekly spend per channel.
    max_weekly_spend
        ``(channels,)``: the largest weekly spend seen per channel.
    kpi
        ``"conversions"`` or ``"revenue"``.
    """

    channels: tuple[str, ...]
    curve_name: str
    beta: Array
    lam: Array
    alpha: Array
    max_lag: int
    value_per_kpi: Array
    baseline: Array
    history: Array
    current: Array
    max_weekly_spend: Array
    kpi: str = "conversions"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (len(self.beta), len(self.channels))
        for name in ("beta", "lam", "alpha"):
            if np.shape(getattr(self, name)) != shape:
                raise InputError(f"{name}: expected shape {shape}, got "
                                 f"{np.shape(getattr(self, name))}")
        if np.any(self.lam <= 0) or np.any(self.beta < 0):
            raise InputError("beta must be non-negative and lam positive in every draw")

    @property
    def n_draws(self) -> int:
        """Number of posterior draws."""
        return int(self.beta.shape[0])

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.channels)

    def known_channels(self, names: Iterable[str], field: str | os.PathLike[str]) -> list[str]:
        """``names`` as a list, once each is checked to be a channel of the draws.

        Parameters
        ----------
        names
            Channel names given by a user (locked channels, keys of bounds, ...).
        field
            The option, request field or file the names came from; errors name it.

        Returns
        -------
        list of str
            ``names`` in the order given.

        Raises
        ------
        InputError
            ``"<field>: unknown channel '<name>'; the model has <channels>"`` for
            the first name that is not a channel.
        """
        given = list(names)
        unknown = [name for name in given if name not in self.channels]
        if unknown:
            raise InputError(f"{os.fspath(field)}: unknown channel {unknown[0]!r}; the model "
                             f"has {', '.join(self.channels)}", field=os.fspath(field))
        return given

    def spend_by_channel(self, spend: Mapping[str, float] | pd.DataFrame,
                         field: str | os.PathLike[str]) -> Array:
        """``(channels,)`` weekly spend in the channel order of the draws.

        Parameters
        ----------
        spend
            ``channel -> weekly spend``, or a table with columns ``channel`` and
            ``spend`` (a later row of a channel replaces an earlier one).
            Channels left out spend 0.
        field
            The option, request field or file the spend came from; errors name it.

        Returns
        -------
        numpy.ndarray
            Spend per channel of :attr:`channels`, as floats.

        Raises
        ------
        InputError
            For a channel the draws do not have (as :meth:`known_channels`) or a
            spend that is not a finite, non-negative number; the message names
            ``field``.
        """
        if isinstance(spend, pd.DataFrame):
            pairs = list(zip(spend["channel"].astype(str), spend["spend"], strict=True))
        else:
            pairs = [(str(name), value) for name, value in spend.items()]
        self.known_channels([name for name, _ in pairs], field)
        by_channel: dict[str, float] = {}
        for name, value in pairs:
            try:
                amount = float(value)
            except (TypeError, ValueError):
                amount = math.nan
            if not (math.isfinite(amount) and amount >= 0):
                raise InputError(f"{os.fspath(field)}: spend of channel {name!r} must be a "
                                 f"finite, non-negative number, got {value!r}",
                                 field=os.fspath(field))
            by_channel[name] = amount
        return np.array([by_channel.get(c, 0.0) for c in self.channels], dtype=float)

    @cached_property
    def family(self) -> CurveFamily:
        """The curve family."""
        return curve(self.curve_name)

    @cached_property
    def revenue_factor(self) -> Array:
        """``(draws, channels)`` revenue per unit of KPI."""
        return np.broadcast_to(np.asarray(self.value_per_kpi, dtype=float),
                               self.beta.shape).copy()

    def steady_kpi(self, spend: ArrayLike) -> Array:
        """``(draws, channels)`` weekly KPI of a constant weekly spend per channel."""
        return self.beta * self.family.numpy(np.asarray(spend, dtype=float), self.lam)

    def steady_marginal_kpi(self, spend: ArrayLike) -> Array:
        """``(draws, channels)`` KPI of the next unit of weekly spend, at steady state."""
        return self.beta * self.family.derivative(np.asarray(spend, dtype=float), self.lam)

    @cached_property
    def carryover_weights(self) -> Array:
        """``(draws, channels, max_lag)`` normalised adstock weights."""
        return adstock_weights(self.alpha, self.max_lag)

    def adstocked(self, plan: ArrayLike) -> Array:
        """``(draws, weeks, channels)`` adstocked spend of a ``(weeks, channels)`` plan,
        with the carryover from ``history``."""
        x = np.asarray(plan, dtype=float)
        lags = self.max_lag
        past = np.zeros((lags - 1, self.n_channels))
        if lags > 1 and len(self.history):
            recent = self.history[-(lags - 1):]
            past[-len(recent):] = recent
        padded = np.vstack([past, x])
        w = self.carryover_weights
        out = np.zeros((self.n_draws, *x.shape))
        for lag in range(lags):
            out += w[:, None, :, lag] * padded[None, lags - 1 - lag: lags - 1 - lag + len(x)]
        return out

    def plan_kpi(self, plan: ArrayLike) -> Array:
        """``(draws, weeks, channels)`` weekly KPI of a week-by-week plan, with carryover."""
        return self.beta[:, None, :] * self.family.numpy(self.adstocked(plan),
                                                         self.lam[:, None, :])
