"""Spend, outcomes, controls and lift tests, read and validated at the boundary.

Inputs (CSV or Parquet; column names are matched case-insensitively, other
columns are ignored):

* spend, long format: ``date, channel, spend``, weekly or daily;
* outcomes: ``date`` and ``conversions``, ``revenue`` or both;
* controls, optional: ``date`` and one numeric column per control
  (promotion flags, holidays, price, ...);
* lift tests, optional: ``channel, spend_before, spend_after, lift, lift_sd``,
  in weekly units: ``lift`` is the change in weekly KPI when weekly spend
  moves from ``spend_before`` to ``spend_after``, ``lift_sd`` its standard
  error.

The frequency is read off the spend dates: 7 days apart is weekly (``"W"``),
1 day apart daily (``"D"``); mixed or irregular spacing is refused, and so is
a gap (a date of the regular series with no spend row at all: write zero rows
for a period without spend). Within the series, a missing ``(date, channel)``
row means zero spend: the date is known from the other channels' rows and the
channel from its other dates. Outcome and control dates must be exactly the
spend dates.

Every problem raises one :class:`~optimizer.errors.InputError` whose one-line
message names the table, the row (1-based, header excluded), the field and
how many more rows share the problem. Weak identifiability is not an error:
:meth:`MediaData.from_frames` emits each note as an :class:`IdentifiabilityWarning`
(or not, with ``warn=False``), and :attr:`MediaData.identifiability_notes` holds
them as data, for callers that must not touch the process-wide warnings filters.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer.errors import InputError, ParameterError
from optimizer.tables import (
    DAY_NS,
    FIRST_DATE,
    LAST_DATE,
    UNIT,
    check_every_channel_spends,
    control_frame,
    floats,
    lift_test_frame,
    outcome_columns,
    read_only,
    read_table,
    spend_matrix,
)

Array = NDArray[np.float64]

#: Fourier order of yearly seasonality assumed by the boundary check of
#: :meth:`MediaData.from_frames`; a model with another order calls
#: :func:`minimum_periods` itself.
DEFAULT_FOURIER_ORDER = 2
#: Observations per model parameter required by :func:`minimum_periods`.
PERIODS_PER_PARAMETER = 3
#: No fewer periods than this, whatever the number of parameters.
MIN_PERIODS_FLOOR = 20
#: Thresholds of the identifiability warnings (on weekly spend).
COLLINEAR_CORRELATION = 0.95
LOW_VARIATION = 0.05
RARE_SPEND_SHARE = 0.10



class IdentifiabilityWarning(UserWarning):
    """The data can be fitted but some channel effects are weakly identified."""


def minimum_periods(
    n_channels: int, n_controls: int = 0, fourier_order: int = DEFAULT_FOURIER_ORDER
) -> int:
    """Fewest weeks of data a response model of this size may be fitted on.

    The model has ``p = 3 C + K + 2 F + 3`` parameters: ``beta``, ``lam`` and
    ``alpha`` per channel, one coefficient per control, a sine and a cosine
    per Fourier order, and the intercept, trend and noise scale. The rule asks
    for ``max(20, 3 p)`` weeks: three observations per parameter, which the
    priors make workable, and never fewer than 20 weeks. With 8 channels,
    2 controls and order 2 that is 99 weeks, so two years of weekly data are
    enough. Daily data are counted in complete weeks.

    Parameters
    ----------
    n_channels, n_controls, fourier_order
        Sizes of the model; non-negative integers.

    Returns
    -------
    int
        The minimum number of weeks.
    """
    sizes = {"n_channels": n_channels, "n_controls": n_controls, "fourier_order": fourier_order}
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ParameterError(f"minimum_periods: {name} must be a non-negative integer, "
                                 f"got {value!r}")
    parameters = 3 * n_channels + n_controls + 2 * fourier_order + 3
    return max(MIN_PERIODS_FLOOR, PERIODS_PER_PARAMETER * parameters)


@dataclass(frozen=True, eq=False)
class MediaData:
    """Validated media data on a regular weekly or daily date series.

    Build it with :meth:`from_files` or :meth:`from_frames`, which check
    everything; the constructor checks only shapes, channel order and the
    date series. Arrays are read-only; treat the frames as read-only too, or
    the cached fingerprint goes stale.

    Parameters
    ----------
    dates
        ``(T,)`` sorted, regular dates, one per period.
    frequency
        ``"W"`` (weekly) or ``"D"`` (daily).
    channels
        Sorted channel names, the column order of ``spend``.
    spend
        ``(T, C)`` spend per period and channel, in currency.
    conversions, revenue
        ``(T,)`` outcomes per period; at least one of them is given.
    controls
        ``(T, K)`` numeric controls indexed by ``dates``, columns sorted.
    lift_tests
        Columns ``channel, spend_before, spend_after, lift, lift_sd``,
        weekly units.
    """

    dates: pd.DatetimeIndex
    frequency: str
    channels: tuple[str, ...]
    spend: Array
    conversions: Array | None = None
    revenue: Array | None = None
    controls: pd.DataFrame | None = None
    lift_tests: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        periods, width = len(self.dates), len(self.channels)
        if self.frequency not in UNIT:
            raise InputError(f"frequency: must be 'W' or 'D', got {self.frequency!r}")
        try:
            dates = pd.DatetimeIndex(self.dates, name="date").as_unit("ns")
        except (ValueError, TypeError) as exc:  # out of the nanosecond range, not dates
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise InputError(f"dates: not dates between {FIRST_DATE:%Y-%m-%d} and "
                             f"{LAST_DATE:%Y-%m-%d} ({first})") from None
        step = (7 if self.frequency == "W" else 1) * DAY_NS
        if not np.all(np.diff(dates.asi8) == step):
            raise InputError(f"dates: must be a sorted, regular {UNIT[self.frequency][1]} "
                             "series")
        object.__setattr__(self, "dates", dates)
        if list(self.channels) != sorted(set(self.channels)):
            raise InputError("channels: must be sorted and unique")
        object.__setattr__(self, "spend", read_only(self.spend, (periods, width), "spend"))
        for name in ("conversions", "revenue"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, read_only(getattr(self, name), (periods,), name))
        if self.conversions is None and self.revenue is None:
            raise InputError("outcomes: need conversions, revenue or both")
        if self.controls is not None and not self.controls.index.equals(self.dates):
            raise InputError("controls: index must equal dates")

    @property
    def n_periods(self) -> int:
        """Number of periods ``T``."""
        return len(self.dates)

    @property
    def n_channels(self) -> int:
        """Number of channels ``C``."""
        return len(self.channels)

    @property
    def max_spend(self) -> Array:
        """``(C,)`` largest spend in one period per channel, in the data's frequency."""
        return np.asarray(self.spend.max(axis=0), dtype=float)

    @cached_property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of the canonical form of the data.

        Canonical form: compact JSON with sorted keys of the frequency, ISO
        dates, channels, spend rows, outcomes, controls (sorted columns) and
        lift tests (sorted rows), floats in shortest round-trip form. Row
        order in the input files does not change it.
        """
        def table(frame: pd.DataFrame | None) -> Any:
            return None if frame is None else [[str(c) for c in frame.columns], *(
                [v if isinstance(v, str) else float(v) + 0.0 for v in row]
                for row in frame.itertuples(index=False))]

        canonical = {
            "frequency": self.frequency, "dates": [f"{d:%Y-%m-%d}" for d in self.dates],
            "channels": list(self.channels), "spend": floats(self.spend),
            "conversions": floats(self.conversions), "revenue": floats(self.revenue),
            "controls": table(self.controls), "lift_tests": table(self.lift_tests),
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

    @cached_property
    def identifiability_notes(self) -> tuple[str, ...]:
        """One-line notes on weakly identified channels (:func:`identifiability_messages`
        of the weekly spend); empty when every channel is identifiable."""
        return tuple(identifiability_messages(self.to_weekly().spend, self.channels))

    def to_weekly(self) -> MediaData:
        """The data in weeks starting Monday, labelled by the Monday.

        Weekly data are returned unchanged, whatever weekday labels them.
        Daily spend, conversions and revenue are summed over complete
        Monday-to-Sunday weeks; controls are averaged (a daily promotion flag
        becomes the share of the week in promotion). Incomplete weeks at
        either end are dropped. Lift tests are weekly already and kept.
        """
        if self.frequency == "W":
            return self
        offset = int((7 - self.dates[0].day_of_week) % 7)
        weeks = (self.n_periods - offset) // 7
        if weeks < 1:
            raise InputError(f"spend: daily data from {self.dates[0]:%Y-%m-%d} to "
                             f"{self.dates[-1]:%Y-%m-%d} hold no complete Monday-Sunday week")
        span = slice(offset, offset + 7 * weeks)
        dates = pd.date_range(self.dates[offset], periods=weeks, freq="7D", name="date",
                              unit="ns")

        def weekly(values: Array | None, how: str = "sum") -> Array | None:
            if values is None:
                return None
            blocks = values[span].reshape(weeks, 7, *values.shape[1:])
            return np.asarray(blocks.sum(axis=1) if how == "sum" else blocks.mean(axis=1))

        controls = None
        if self.controls is not None:
            means = weekly(self.controls.to_numpy(dtype=float), "mean")
            controls = pd.DataFrame(means, index=dates, columns=self.controls.columns)
        spend = weekly(self.spend)
        assert spend is not None
        check_every_channel_spends(spend, self.channels, "spend (complete weeks)")
        return MediaData(dates, "W", self.channels, spend, weekly(self.conversions),
                         weekly(self.revenue), controls, self.lift_tests)

    @classmethod
    def from_frames(
        cls,
        spend: pd.DataFrame,
        outcomes: pd.DataFrame,
        controls: pd.DataFrame | None = None,
        lift_tests: pd.DataFrame | None = None,
        *,
        warn: bool = True,
    ) -> MediaData:
        """Validate data frames in the formats of the module docstring.

        Parameters
        ----------
        spend, outcomes, controls, lift_tests
            The tables, as read from files (text) or typed (dates, numbers).
        warn
            Emit each of :attr:`identifiability_notes` as an
            :class:`IdentifiabilityWarning` (the default). With ``False`` nothing
            is emitted; read the notes from the result instead. The warnings
            filters are process-wide, so a threaded caller such as a web service
            should not collect warnings with :func:`warnings.catch_warnings`.

        Returns
        -------
        MediaData

        Raises
        ------
        InputError
            On the first problem, including fewer weeks (complete weeks for
            daily data) than ``minimum_periods(C, K, DEFAULT_FOURIER_ORDER)``.

        Warns
        -----
        IdentifiabilityWarning
            Once per note of :attr:`identifiability_notes`, unless ``warn`` is false.
        """
        dates, frequency, channels, matrix = spend_matrix(spend)
        conversions, revenue = outcome_columns(outcomes, dates, frequency)
        data = cls(dates, frequency, channels, matrix, conversions, revenue,
                   None if controls is None else control_frame(controls, dates, frequency),
                   None if lift_tests is None else lift_test_frame(lift_tests, channels))
        weekly = data.to_weekly()
        n_controls = 0 if data.controls is None else data.controls.shape[1]
        needed = minimum_periods(len(channels), n_controls, DEFAULT_FOURIER_ORDER)
        if weekly.n_periods < needed:
            complete = "complete weeks of daily data" if frequency == "D" else "weeks"
            sizes = f"{len(channels)} channel{'s' * (len(channels) != 1)} and {n_controls} " \
                    f"control{'s' * (n_controls != 1)}"
            raise InputError(
                f"spend: {weekly.n_periods} {complete}, fewer than the {needed} that {sizes} "
                f"need (minimum_periods: {PERIODS_PER_PARAMETER} weeks per parameter, at least "
                f"{MIN_PERIODS_FLOOR})")
        if warn:
            for message in data.identifiability_notes:
                warnings.warn(message, IdentifiabilityWarning, stacklevel=2)
        return data

    @classmethod
    def from_files(
        cls,
        spend: str | Path,
        outcomes: str | Path,
        controls: str | Path | None = None,
        lift_tests: str | Path | None = None,
        *,
        warn: bool = True,
    ) -> MediaData:
        """Read CSV or Parquet files and validate them with :meth:`from_frames`."""
        return cls.from_frames(
            read_table(spend, "spend"),
            read_table(outcomes, "outcomes"),
            None if controls is None else read_table(controls, "controls"),
            None if lift_tests is None else read_table(lift_tests, "lift_tests"),
            warn=warn,
        )


def identifiability_messages(weekly_spend: Array, channels: Sequence[str]) -> list[str]:
    """One-line warnings about channels whose effects the spend hardly identifies.

    Flags a channel that spends in fewer than 10% of weeks, a channel whose
    weekly spend has a coefficient of variation below 0.05, and every pair of
    channels whose weekly spend has ``|corr| > 0.95``.
    """
    x = np.asarray(weekly_spend, dtype=float)
    periods = len(x)
    messages = []
    mean, std = x.mean(axis=0), x.std(axis=0)
    for c, name in enumerate(channels):
        active = int(np.count_nonzero(x[:, c] > 0))
        if active < RARE_SPEND_SHARE * periods:
            messages.append(f"channel '{name}' spends in only {active} of {periods} weeks "
                            f"({active / periods:.0%}); its curve is weakly identified")
        cv = std[c] / mean[c] if mean[c] > 0 else 0.0
        if cv < LOW_VARIATION:
            messages.append(f"channel '{name}' weekly spend hardly varies (coefficient of "
                            f"variation {cv:.3f}); its curve is weakly identified")
    varying = np.flatnonzero(std > 0)
    if len(varying) > 1:
        corr = np.corrcoef(x[:, varying], rowvar=False)
        for i, j in zip(*np.triu_indices(len(varying), k=1), strict=True):
            if abs(corr[i, j]) > COLLINEAR_CORRELATION:
                a, b = channels[varying[i]], channels[varying[j]]
                messages.append(f"channels '{a}' and '{b}' have almost collinear weekly spend "
                                f"(corr {corr[i, j]:.3f}); their effects cannot be told apart")
    return messages


