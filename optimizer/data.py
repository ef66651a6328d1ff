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
how many more rows share the problem. Weak identifiability is not an error
but an :class:`IdentifiabilityWarning`.
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

Array = NDArray[np.float64]

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
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

_DAY_NS = 86_400 * 10**9
_UNIT = {"W": ("week", "weekly"), "D": ("day", "daily")}
LIFT_COLUMNS = ("channel", "spend_before", "spend_after", "lift", "lift_sd")


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
        if self.frequency not in _UNIT:
            raise InputError(f"frequency: must be 'W' or 'D', got {self.frequency!r}")
        dates = pd.DatetimeIndex(self.dates, name="date").as_unit("ns")
        step = (7 if self.frequency == "W" else 1) * _DAY_NS
        if not np.all(np.diff(dates.asi8) == step):
            raise InputError(f"dates: must be a sorted, regular {_UNIT[self.frequency][1]} "
                             "series")
        object.__setattr__(self, "dates", dates)
        if list(self.channels) != sorted(set(self.channels)):
            raise InputError("channels: must be sorted and unique")
        object.__setattr__(self, "spend", _read_only(self.spend, (periods, width), "spend"))
        for name in ("conversions", "revenue"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _read_only(getattr(self, name), (periods,), name))
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
            "channels": list(self.channels), "spend": _floats(self.spend),
            "conversions": _floats(self.conversions), "revenue": _floats(self.revenue),
            "controls": table(self.controls), "lift_tests": table(self.lift_tests),
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

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
        _check_every_channel_spends(spend, self.channels, "spend (complete weeks)")
        return MediaData(dates, "W", self.channels, spend, weekly(self.conversions),
                         weekly(self.revenue), controls, self.lift_tests)

    @classmethod
    def from_frames(
        cls,
        spend: pd.DataFrame,
        outcomes: pd.DataFrame,
        controls: pd.DataFrame | None = None,
        lift_tests: pd.DataFrame | None = None,
    ) -> MediaData:
        """Validate data frames in the formats of the module docstring.

        Parameters
        ----------
        spend, outcomes, controls, lift_tests
            The tables, as read from files (text) or typed (dates, numbers).

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
            Once per problem of :func:`identifiability_messages` on weekly spend.
        """
        dates, frequency, channels, matrix = _spend_matrix(spend)
        conversions, revenue = _outcomes(outcomes, dates, frequency)
        data = cls(dates, frequency, channels, matrix, conversions, revenue,
                   None if controls is None else _controls(controls, dates, frequency),
                   None if lift_tests is None else _lift_tests(lift_tests, channels))
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
        for message in identifiability_messages(weekly.spend, channels):
            warnings.warn(message, IdentifiabilityWarning, stacklevel=2)
        return data

    @classmethod
    def from_files(
        cls,
        spend: str | Path,
        outcomes: str | Path,
        controls: str | Path | None = None,
        lift_tests: str | Path | None = None,
    ) -> MediaData:
        """Read CSV or Parquet files and validate them with :meth:`from_frames`."""
        return cls.from_frames(
            read_table(spend, "spend"),
            read_table(outcomes, "outcomes"),
            None if controls is None else read_table(controls, "controls"),
            None if lift_tests is None else read_table(lift_tests, "lift_tests"),
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


# -- reading ------------------------------------------------------------------------------


def read_table(source: str | Path, table: str) -> pd.DataFrame:
    """Read a CSV (as text, no missing-value guessing) or Parquet file."""
    path = Path(source)
    name = path.name.lower()
    if not path.is_file():
        raise InputError(f"{table}: no such file {path}")
    try:
        if name.endswith(PARQUET_SUFFIXES):
            return pd.read_parquet(path)
        if name.endswith(CSV_SUFFIXES):
            sep = "\t" if name.endswith(".tsv") else ","
            return pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{table}: {path} cannot be read ({first})") from exc
    raise InputError(f"{table}: {path} has an unknown file type; use .csv, .csv.gz, .tsv, "
                     ".parquet or .pq")


def _columns(frame: pd.DataFrame, table: str, fields: Sequence[str]) -> dict[str, str]:
    """Map each required field to the frame's column, case-insensitively."""
    lower = {str(c).strip().lower(): str(c) for c in frame.columns}
    for field in fields:
        if field.lower() not in lower:
            found = ", ".join(str(c) for c in frame.columns) or "none"
            raise InputError(f"{table}: missing column '{field}'; columns found: {found}")
    if len(frame) == 0:
        raise InputError(f"{table}: the input has no rows")
    return {field: lower[field.lower()] for field in fields}


def _fail_rows(table: str, mask: Any, message: str, values: pd.Series | None = None,
               hint: str = "") -> None:
    """Raise for the first flagged row, saying how many more rows share the problem."""
    bad = np.flatnonzero(np.asarray(mask))
    if len(bad) == 0:
        return
    first = int(bad[0])
    shown = "" if values is None else f" ({values.iloc[first]!r})"
    more = f"; {len(bad) - 1} more rows have this problem" if len(bad) > 1 else ""
    raise InputError(f"{table} row {first + 1}: {message}{shown}{hint}{more}")


def _blank(raw: pd.Series) -> NDArray[np.bool_]:
    """Missing or white-space cells."""
    return np.asarray(raw.isna() | (raw.astype(str).str.strip() == ""), dtype=bool)


def _numbers(frame: pd.DataFrame, column: str, table: str, field: str, *,
             nonnegative: bool = True) -> Array:
    """A column as finite floats (non-negative unless told otherwise)."""
    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw):
        raw = raw.astype(float)
    blank = _blank(raw)
    values = pd.to_numeric(raw.where(~blank, np.nan), errors="coerce").to_numpy(dtype=float)
    textual = raw.dtype == object or pd.api.types.is_string_dtype(raw)
    _fail_rows(table, blank, f"{field} is {'empty' if textual else 'NaN'}")
    _fail_rows(table, np.isnan(values), f"{field} is not a number", raw)
    _fail_rows(table, np.isinf(values), f"{field} is infinite", raw)
    if nonnegative:
        _fail_rows(table, values < 0, f"{field} is negative", raw)
    return np.asarray(values, dtype=float)


def _dates(frame: pd.DataFrame, column: str, table: str) -> pd.DatetimeIndex:
    """Parse a date column (ISO 8601 text or datetimes) to midnight timestamps."""
    raw = frame[column]
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        raw = raw.dt.tz_localize(None)
    _fail_rows(table, _blank(raw), "date is empty")
    try:
        parsed = pd.Series(pd.to_datetime(raw, errors="coerce", format="ISO8601"))
    except (ValueError, TypeError) as exc:  # mixed time zones, odd objects
        raise InputError(f"{table}: date column cannot be parsed ({exc})") from exc
    _fail_rows(table, parsed.isna(), "date is not a date", raw, "; use YYYY-MM-DD")
    _fail_rows(table, parsed != parsed.dt.normalize(), "date has a time of day", raw,
               "; give one date per period")
    return pd.DatetimeIndex(parsed, name="date").as_unit("ns")


def _fail_duplicates(table: str, keys: pd.DataFrame, what: str) -> None:
    """Raise for the first row repeating an earlier row's key, naming both rows."""
    repeated = keys.duplicated(keep="first").to_numpy()
    if not repeated.any():
        return
    row = int(np.flatnonzero(repeated)[0])
    key = tuple(keys.iloc[row])
    first = int(np.flatnonzero((keys == keys.iloc[row]).all(axis=1).to_numpy())[0])
    shown = ", ".join(f"{k:%Y-%m-%d}" if isinstance(k, pd.Timestamp) else str(k) for k in key)
    shown = f"({shown})" if len(key) > 1 else shown
    more = int(repeated.sum()) - 1
    raise InputError(f"{table} row {row + 1}: duplicate {what} {shown}, first in row "
                     f"{first + 1}" + (f"; {more} more rows have this problem" if more else ""))


def _grid(dates: pd.DatetimeIndex, table: str) -> tuple[pd.DatetimeIndex, str]:
    """The regular weekly or daily series spanned by the dates, and its frequency."""
    unique = dates.unique().sort_values()
    if len(unique) < 2:
        raise InputError(f"{table}: only one date ({unique[0]:%Y-%m-%d}); the frequency "
                         "needs a series of weekly or daily dates")
    days = np.diff(unique.asi8) // _DAY_NS
    steps, counts = np.unique(days, return_counts=True)
    step = int(steps[np.argmax(counts)])
    if step not in (1, 7):
        raise InputError(f"{table}: dates are mostly {step} days apart; expected 7 (weekly) "
                         "or 1 (daily)")
    frequency = "W" if step == 7 else "D"
    unit, adjective = _UNIT[frequency]
    # A weekly run inside daily data (two 7-day steps in a row) is mixed frequency too.
    odd = np.flatnonzero((days % step != 0)
                         | ((step == 1) & (days == 7) & (np.roll(days, -1) == 7)))
    if len(odd):
        i = int(odd[0])
        raise InputError(f"{table}: irregular date spacing: {unique[i]:%Y-%m-%d} to "
                         f"{unique[i + 1]:%Y-%m-%d} is {days[i]} day(s) in {adjective} data; "
                         "use one frequency per dataset")
    grid = pd.date_range(unique[0], unique[-1], freq=f"{step}D", name="date", unit="ns")
    missing = grid.difference(unique)
    if len(missing):
        raise InputError(
            f"{table}: {len(missing)} {unit}(s) missing from the {adjective} series, first "
            f"{missing[0]:%Y-%m-%d}; every {unit} from {grid[0]:%Y-%m-%d} to "
            f"{grid[-1]:%Y-%m-%d} needs rows (spend 0 is fine)")
    return grid, frequency


def _spend_matrix(frame: pd.DataFrame) -> tuple[pd.DatetimeIndex, str, tuple[str, ...], Array]:
    """Dates, frequency, sorted channels and the ``(T, C)`` spend of a long spend table."""
    cols = _columns(frame, "spend", ("date", "channel", "spend"))
    dates = _dates(frame, cols["date"], "spend")
    _fail_rows("spend", _blank(frame[cols["channel"]]), "channel is empty")
    names = frame[cols["channel"]].astype(str).str.strip().to_numpy()
    amounts = _numbers(frame, cols["spend"], "spend", "spend")
    _fail_duplicates("spend", pd.DataFrame({"date": dates, "channel": names}), "(date, channel)")
    grid, frequency = _grid(dates, "spend")
    channels = tuple(sorted(set(names)))
    matrix = np.zeros((len(grid), len(channels)))
    matrix[grid.get_indexer(dates), pd.Categorical(names, categories=channels).codes] = amounts
    _check_every_channel_spends(matrix, channels, "spend")
    return grid, frequency, channels, matrix


def _check_every_channel_spends(matrix: Array, channels: Sequence[str], table: str) -> None:
    """Refuse a channel whose spend is zero in every period."""
    idle = [name for name, total in zip(channels, matrix.sum(axis=0), strict=True) if total <= 0]
    if idle:
        more = f"; {len(idle) - 1} more channels never spend" if len(idle) > 1 else ""
        raise InputError(f"{table}: channel '{idle[0]}' never spends (all "
                         f"{len(matrix)} periods are 0); drop its rows{more}")


def _on_grid(frame: pd.DataFrame, table: str, fields: Sequence[str], grid: pd.DatetimeIndex,
             frequency: str, *, nonnegative: bool = True) -> Array:
    """``(T, len(fields))`` columns of a per-date table, rows placed on the spend dates.

    Dates must be unique and exactly the spend dates.
    """
    cols = _columns(frame, table, ("date", *fields))
    dates = _dates(frame, cols["date"], table)
    _fail_duplicates(table, pd.DataFrame({"date": dates}), "date")
    missing, extra = grid.difference(dates), dates.difference(grid)
    parts = [f"{len(missing)} spend date(s) have no {table} row, first {missing[0]:%Y-%m-%d}"
             ] if len(missing) else []
    if len(extra):
        parts.append(f"{len(extra)} {table} date(s) are not spend dates, first "
                     f"{extra[0]:%Y-%m-%d}")
    if parts:
        raise InputError(f"{table}: dates do not match the {_UNIT[frequency][1]} spend dates: "
                         + "; ".join(parts))
    values = np.empty((len(grid), len(fields)))
    order = grid.get_indexer(dates)
    for k, field in enumerate(fields):
        values[order, k] = _numbers(frame, cols[field], table, field, nonnegative=nonnegative)
    return values


def _outcomes(frame: pd.DataFrame, grid: pd.DatetimeIndex,
              frequency: str) -> tuple[Array | None, Array | None]:
    """Conversions and revenue on the spend dates."""
    lower = {str(c).strip().lower() for c in frame.columns}
    kpis = [kpi for kpi in ("conversions", "revenue") if kpi in lower]
    if not kpis:
        found = ", ".join(str(c) for c in frame.columns) or "none"
        raise InputError(f"outcomes: missing column 'conversions' (or 'revenue'); columns "
                         f"found: {found}")
    values = _on_grid(frame, "outcomes", kpis, grid, frequency)
    result = {kpi: values[:, k] for k, kpi in enumerate(kpis)}
    return result.get("conversions"), result.get("revenue")


def _controls(frame: pd.DataFrame, grid: pd.DatetimeIndex, frequency: str) -> pd.DataFrame:
    """Numeric controls (any sign) on the spend dates, columns sorted by name."""
    names = [str(c).strip() for c in frame.columns if str(c).strip().lower() != "date"]
    if not names or "" in names or len({n.lower() for n in names}) < len(names):
        raise InputError("controls: need control columns besides 'date', with non-empty, "
                         f"unique names; columns found: {', '.join(map(str, frame.columns))}")
    renamed = frame.rename(columns=lambda c: str(c).strip())
    values = _on_grid(renamed, "controls", names, grid, frequency, nonnegative=False)
    return pd.DataFrame(values, index=grid, columns=names)[sorted(names)]


def _lift_tests(frame: pd.DataFrame, channels: tuple[str, ...]) -> pd.DataFrame | None:
    """Lift tests on known channels, sorted; ``None`` for a table without rows."""
    if len(frame) == 0:
        return None
    cols = _columns(frame, "lift_tests", LIFT_COLUMNS)
    _fail_rows("lift_tests", _blank(frame[cols["channel"]]), "channel is empty")
    names = frame[cols["channel"]].astype(str).str.strip()
    _fail_rows("lift_tests", ~names.isin(channels).to_numpy(), "unknown channel", names,
               f"; channels in spend: {', '.join(channels)}")
    table: dict[str, Any] = {"channel": names.to_numpy()}
    for field in LIFT_COLUMNS[1:]:
        table[field] = _numbers(frame, cols[field], "lift_tests", field,
                                nonnegative=field.startswith("spend"))
    _fail_rows("lift_tests", table["lift_sd"] <= 0, "lift_sd must be positive",
               frame[cols["lift_sd"]])
    _fail_rows("lift_tests", table["spend_after"] == table["spend_before"],
               "spend_after equals spend_before, so the test measures nothing")
    return pd.DataFrame(table).sort_values(list(LIFT_COLUMNS), ignore_index=True)


def _read_only(values: Any, shape: tuple[int, ...], name: str) -> Array:
    """A read-only float copy of ``values`` with the given shape."""
    array = np.array(values, dtype=float)
    if array.shape != shape:
        raise InputError(f"{name}: expected shape {shape}, got {array.shape}")
    array.setflags(write=False)
    return array


def _floats(values: Array | None) -> Any:
    """Nested lists of floats with -0.0 folded into 0.0, for the canonical form."""
    return None if values is None else (np.asarray(values, dtype=float) + 0.0).tolist()
