"""The response model's design: weekly series, scaling, baseline features, forward pass.

Everything the model sees is built here from a ``MediaData`` and nothing else,
so a saved model can rebuild it from the stored series:

* **Weeks.** Daily data are summed to weeks by ``MediaData.to_weekly`` (Monday
  to Sunday, incomplete weeks dropped, controls averaged), so the model, its
  adstock lag and its :class:`~optimizer.posterior.ResponseDraws` are weekly.
* **Scaling.** ``y_t / ybar`` with ``ybar`` the mean KPI of the fit weeks; spend
  ``x_tc / m_c`` with ``m_c`` channel ``c``'s mean over its weeks of nonzero
  spend. Every curve family depends on ``x / lam`` only, so in original units
  ``beta = beta' * ybar`` and ``lam = lam' * m_c``.
* **Baseline features.** Trend ``(t - (n - 1) / 2) / n`` over fit weeks
  ``t = 0 .. n-1`` (continuing into held-out weeks); yearly Fourier terms
  ``sin(2 pi k d / 365.25)``, ``cos(2 pi k d / 365.25)``, ``k = 1 .. K``, with
  ``d`` the week's date in days since 1970-01-01; controls standardised with their
  fit-week mean and standard deviation.
* **Carryover before the first week.** Spend before the data is taken to be the
  mean of each channel's first ``max_lag`` weeks (zero would make the first
  weeks' adstock too low).

The forward pass :func:`predict` is the model's mean in numpy,
``mu_t = intercept + f_t . gamma + sum_c beta_c s(a_tc; lam_c)``, for any number
of posterior draws at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer.adstock import adstock_weights
from optimizer.curves import curve
from optimizer.data import MediaData
from optimizer.errors import InputError

Array = NDArray[np.float64]
DAYS_PER_YEAR = 365.25
#: Fourier terms count days from here, so a date has the same phase in every data set.
EPOCH = pd.Timestamp("1970-01-01")


@dataclass(frozen=True, eq=False)
class Series:
    """Weekly series of one data set, fit weeks first, held-out weeks last."""

    dates: pd.DatetimeIndex
    channels: tuple[str, ...]
    spend: Array  # (weeks, channels)
    kpi: Array  # (weeks,)
    controls: Array  # (weeks, controls)
    control_names: tuple[str, ...]
    n_fit: int

    @property
    def n_weeks(self) -> int:
        """Number of weeks, fit and held out."""
        return len(self.kpi)


def weekly(data: MediaData, kpi: str, holdout_weeks: int) -> Series:
    """The weekly series of ``data`` for ``kpi``, the last ``holdout_weeks`` held out."""
    data = data.to_weekly()
    values = data.conversions if kpi == "conversions" else data.revenue
    if values is None:
        raise InputError(f"kpi={kpi!r} but the data have no {kpi} column")
    y = np.asarray(values, dtype=float)
    controls = (np.zeros((len(y), 0)) if data.controls is None
                else np.asarray(data.controls.to_numpy(), dtype=float))
    names = () if data.controls is None else tuple(str(c) for c in data.controls.columns)
    if not 0 <= holdout_weeks < len(y):
        raise InputError(f"holdout_weeks={holdout_weeks} must be below the {len(y)} weeks")
    return Series(pd.DatetimeIndex(data.dates), tuple(data.channels),
                  np.asarray(data.spend, dtype=float), y, controls, names,
                  len(y) - holdout_weeks)


@dataclass(frozen=True)
class Scales:
    """Divisors that bring the data to the model's units (see the module docstring)."""

    kpi: float
    spend: tuple[float, ...]
    control_mean: tuple[float, ...]
    control_sd: tuple[float, ...]

    @classmethod
    def of(cls, series: Series) -> Scales:
        """Scales from the fit weeks of ``series``."""
        fit = slice(0, series.n_fit)
        kpi = float(np.mean(series.kpi[fit]))
        if not kpi > 0:
            raise InputError("the KPI's mean over the fit weeks must be positive")
        spend = []
        for j, name in enumerate(series.channels):
            on = series.spend[fit, j][series.spend[fit, j] > 0]
            if not len(on):
                raise InputError(f"channel {name!r} has no spend in the fit weeks")
            spend.append(float(on.mean()))
        controls = series.controls[fit]
        sd = controls.std(axis=0)
        flat = [n for n, s in zip(series.control_names, sd, strict=True) if not s > 0]
        if flat:
            raise InputError("controls constant over the fit weeks: " + ", ".join(flat))
        return cls(kpi, tuple(spend), tuple(controls.mean(axis=0).tolist()),
                   tuple(sd.tolist()))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kpi": self.kpi, "spend": list(self.spend), "control_mean":
                list(self.control_mean), "control_sd": list(self.control_sd)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scales:
        """Inverse of :meth:`to_dict`."""
        return cls(float(d["kpi"]), tuple(d["spend"]), tuple(d["control_mean"]),
                   tuple(d["control_sd"]))


@dataclass(frozen=True, eq=False)
class Design:
    """Scaled inputs of the model for every week of a :class:`Series`."""

    series: Series
    scales: Scales
    max_lag: int
    fourier_order: int

    @classmethod
    def of(cls, series: Series, max_lag: int, fourier_order: int) -> Design:
        """The design of ``series`` with scales from its fit weeks."""
        return cls(series, Scales.of(series), max_lag, fourier_order)

    @cached_property
    def y(self) -> Array:
        """``(weeks,)`` scaled KPI."""
        return np.asarray(self.series.kpi / self.scales.kpi)

    @cached_property
    def spend(self) -> Array:
        """``(weeks, channels)`` scaled spend."""
        return np.asarray(self.series.spend / np.asarray(self.scales.spend))

    @cached_property
    def padded_spend(self) -> Array:
        """``(max_lag - 1 + weeks, channels)`` scaled spend with the assumed earlier weeks."""
        lead = np.repeat(self.spend[: self.max_lag].mean(axis=0, keepdims=True),
                         self.max_lag - 1, axis=0)
        return np.vstack([lead, self.spend])

    @cached_property
    def trend(self) -> Array:
        """``(weeks,)`` centred time, 1 per fit period."""
        n = self.series.n_fit
        return np.asarray((np.arange(self.series.n_weeks) - (n - 1) / 2) / n)

    @cached_property
    def season(self) -> Array:
        """``(weeks, 2 * fourier_order)`` yearly Fourier terms."""
        days = (self.series.dates - EPOCH) / pd.Timedelta(days=1)
        phase = 2 * np.pi * np.asarray(days, dtype=float) / DAYS_PER_YEAR
        k = np.arange(1, self.fourier_order + 1)
        angles = phase[:, None] * k[None, :]
        return np.asarray(np.hstack([np.sin(angles), np.cos(angles)]))

    @cached_property
    def controls(self) -> Array:
        """``(weeks, controls)`` standardised controls."""
        mean, sd = np.asarray(self.scales.control_mean), np.asarray(self.scales.control_sd)
        return np.asarray((self.series.controls - mean) / sd) if len(sd) else \
            np.zeros((self.series.n_weeks, 0))

    @property
    def season_names(self) -> list[str]:
        """Names of the Fourier terms."""
        k = range(1, self.fourier_order + 1)
        return [f"sin{i}" for i in k] + [f"cos{i}" for i in k]


def adstocked(padded: Array, alpha: Array, max_lag: int) -> Array:
    """``(draws, weeks, channels)`` adstock of padded spend for ``(draws, channels)`` alpha."""
    w = adstock_weights(alpha, max_lag)  # (draws, channels, L)
    weeks = len(padded) - (max_lag - 1)
    out = np.zeros((len(alpha), weeks, padded.shape[1]))
    for lag in range(max_lag):
        out += w[:, None, :, lag] * padded[None, max_lag - 1 - lag: max_lag - 1 - lag + weeks]
    return out


def media(design: Design, curve_name: str, beta: Array, lam: Array, alpha: Array) -> Array:
    """``(draws, weeks, channels)`` scaled weekly contribution of each channel."""
    a = adstocked(design.padded_spend, alpha, design.max_lag)
    return np.asarray(beta[:, None, :] * curve(curve_name).numpy(a, lam[:, None, :]))


def baseline(design: Design, params: dict[str, Array]) -> Array:
    """``(draws, weeks)`` scaled baseline: intercept, trend, season and controls."""
    out = params["intercept"][:, None] + params["trend"][:, None] * design.trend[None, :]
    if design.fourier_order:
        out = out + params["season"] @ design.season.T
    if design.controls.shape[1]:
        out = out + params["control"] @ design.controls.T
    return np.asarray(out)


def predict(design: Design, curve_name: str, params: dict[str, Array]) -> tuple[Array, Array]:
    """``(draws, weeks)`` scaled mean KPI and ``(draws, weeks, channels)`` media parts."""
    parts = media(design, curve_name, params["beta"], params["lam"], params["alpha"])
    return baseline(design, params) + parts.sum(axis=-1), parts


@dataclass(frozen=True, eq=False)
class LiftTests:
    """Lift tests in scaled units: channel index, spends before and after, lift and sd."""

    channel: NDArray[np.int64]
    before: Array
    after: Array
    lift: Array
    sd: Array

    def __len__(self) -> int:
        return len(self.channel)


LIFT_COLUMNS = ("channel", "spend_before", "spend_after", "lift", "lift_sd")


def lift_tests(data: MediaData, scales: Scales) -> LiftTests | None:
    """The lift tests of ``data`` (weekly spends and lifts) in the model's units, or ``None``."""
    frame = data.lift_tests
    if frame is None or not len(frame):
        return None
    missing = [c for c in LIFT_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError("lift_tests: missing columns " + ", ".join(missing))
    unknown = sorted(set(map(str, frame["channel"])) - set(data.channels))
    if unknown:
        raise InputError("lift_tests: unknown channels " + ", ".join(unknown))
    values = frame[list(LIFT_COLUMNS[1:])].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values[:, :2] < 0) or np.any(values[:, 3] <= 0):
        raise InputError("lift_tests: spends must be non-negative, lift finite and lift_sd "
                         "positive")
    index = np.array([data.channels.index(str(c)) for c in frame["channel"]], dtype=np.int64)
    m = np.asarray(scales.spend)[index]
    return LiftTests(index, values[:, 0] / m, values[:, 1] / m, values[:, 2] / scales.kpi,
                     values[:, 3] / scales.kpi)
