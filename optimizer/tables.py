"""Reading and checking the tables behind :class:`~optimizer.data.MediaData`.

Each table (spend, outcomes, controls, lift tests) is read as text or typed
columns, its fields are parsed and checked, and every problem is reported as
one :class:`~optimizer.errors.InputError` naming the table, the row (1-based,
header excluded), the field and the value.

Files and bytes are read by :mod:`spendwise.reading` within its limits (at
most 1,000 columns, 1 MiB per line, plain Parquet columns); numbers written as
text follow its grammar (``12``, ``0.5``, ``1e3``; not ``"1e3 "``, ``12abc`` or
``0x10``). Names (channels, controls) hold no control characters, and a
column's values must add up to a finite number.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer.errors import InputError
from spendwise.reading import (
    CONTROL_PATTERN,
    CSV_SUFFIXES,
    FILE_TYPES,
    PARQUET_SUFFIXES,
    ReadError,
    parse_numbers,
    read_frame,
    table_format,
)

Array = NDArray[np.float64]

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES"]  # re-exported for older imports
DAY_NS = 86_400 * 10**9
#: Name of a period, and of the frequency, per frequency code.
UNIT = {"W": ("week", "weekly"), "D": ("day", "daily")}
LIFT_COLUMNS = ("channel", "spend_before", "spend_after", "lift", "lift_sd")
#: First and last dates a nanosecond timestamp holds (1677-09-22 and 2262-04-11).
FIRST_DATE = pd.Timestamp.min.ceil("D")
LAST_DATE = pd.Timestamp.max.floor("D")


# -- reading ------------------------------------------------------------------------------


def read_table(source: str | Path | bytes | pd.DataFrame, table: str, *,
               name: str | None = None) -> pd.DataFrame:
    """Read a CSV (as text, no missing-value guessing) or Parquet file, or its bytes.

    Parameters
    ----------
    source
        A file path; the bytes of a file named ``name`` (parsed in memory); or a
        data frame, returned as it is.
    table
        The table's role (``spend``, ``outcomes``, ...), which every message names.
    name
        For bytes, the file's name: its extension gives the format (``spend.csv``).
    """
    if isinstance(source, pd.DataFrame):
        return source
    label = (name or f"{table}.csv") if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise InputError(f"{table}: no such file {source}")
    try:
        table_format(label)
    except ReadError:
        raise InputError(f"{table}: {label} has an unknown file type; use {FILE_TYPES}") \
            from None
    try:
        return read_frame(source, label)
    except ReadError as exc:
        raise InputError(f"{table}: {label} cannot be read ({exc})") from None


def columns_of(frame: pd.DataFrame, table: str, fields: Sequence[str]) -> dict[str, str]:
    """Map each required field to the frame's column, case-insensitively."""
    lower = {str(c).strip().lower(): str(c) for c in frame.columns}
    for field in fields:
        if field.lower() not in lower:
            found = ", ".join(str(c) for c in frame.columns) or "none"
            raise InputError(f"{table}: missing column '{field}'; columns found: {found}")
    if len(frame) == 0:
        raise InputError(f"{table}: the input has no rows")
    return {field: lower[field.lower()] for field in fields}


def fail_rows(table: str, mask: Any, message: str, values: pd.Series | None = None,
               hint: str = "") -> None:
    """Raise for the first flagged row, saying how many more rows share the problem."""
    bad = np.flatnonzero(np.asarray(mask))
    if len(bad) == 0:
        return
    first = int(bad[0])
    shown = "" if values is None else f" ({values.iloc[first]!r})"
    more = f"; {len(bad) - 1} more rows have this problem" if len(bad) > 1 else ""
    raise InputError(f"{table} row {first + 1}: {message}{shown}{hint}{more}")


def blank_cells(raw: pd.Series) -> NDArray[np.bool_]:
    """Missing or white-space cells."""
    return np.asarray(raw.isna() | (raw.astype(str).str.strip() == ""), dtype=bool)


def numbers(frame: pd.DataFrame, column: str, table: str, field: str, *,
             nonnegative: bool = True) -> Array:
    """A column as finite floats (non-negative unless told otherwise), adding up to a
    finite total; text must follow :data:`spendwise.reading.NUMBER_PATTERN`."""
    raw = frame[column]
    try:
        values, blank, bad = parse_numbers(raw)
    except ReadError as exc:
        raise InputError(f"{table}: column '{column}' {exc}") from None
    textual = raw.dtype == object or pd.api.types.is_string_dtype(raw)
    fail_rows(table, blank, f"{field} is {'empty' if textual else 'NaN'}")
    fail_rows(table, bad | np.isnan(values) & ~blank, f"{field} is not a number", raw)
    fail_rows(table, np.isinf(values), f"{field} is infinite", raw)
    if nonnegative:
        fail_rows(table, values < 0, f"{field} is negative", raw)
    with np.errstate(over="ignore"):
        total = np.abs(values).sum()
    if not np.isfinite(total):
        raise InputError(f"{table}: column '{column}': the values add up to more than "
                         f"{np.finfo(np.float64).max:.4g}, the largest number; use smaller units")
    return np.asarray(values, dtype=float)


def fail_control(table: str, names: pd.Series, field: str) -> None:
    """Refuse names holding a control character other than white space (NUL, ESC, ...)."""
    odd = names.astype("str").str.contains(CONTROL_PATTERN, regex=True)
    fail_rows(table, odd.fillna(False).to_numpy(dtype=bool),
              f"{field} has a control character; names must be printable text")


def parse_dates(frame: pd.DataFrame, column: str, table: str) -> pd.DatetimeIndex:
    """Parse a date column (ISO 8601 text or datetimes) to midnight timestamps.

    Dates are held in nanoseconds, so they must fall between :data:`FIRST_DATE`
    and :data:`LAST_DATE`; a date outside (``9999-12-31``, ``0001-01-01``) is
    refused naming the row and the value, like any other bad date.
    """
    raw = frame[column]
    fail_rows(table, blank_cells(raw), "date is empty")
    try:
        if isinstance(raw.dtype, pd.DatetimeTZDtype):
            raw = raw.dt.tz_localize(None)
        parsed = pd.Series(pd.to_datetime(raw, errors="coerce", format="ISO8601"))
    except (ValueError, TypeError) as exc:  # mixed time zones, odd objects, overflow
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{table}: date column '{column}' cannot be parsed ({first})") from None
    fail_rows(table, parsed.isna(), "date is not a date", raw, "; use YYYY-MM-DD")
    fail_rows(table, (parsed < FIRST_DATE) | (parsed > LAST_DATE), "date is out of range", raw,
              f"; dates must fall between {FIRST_DATE:%Y-%m-%d} and {LAST_DATE:%Y-%m-%d}")
    fail_rows(table, parsed != parsed.dt.normalize(), "date has a time of day", raw,
               "; give one date per period")
    return pd.DatetimeIndex(parsed, name="date").as_unit("ns")


def fail_duplicates(table: str, keys: pd.DataFrame, what: str) -> None:
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


def date_grid(dates: pd.DatetimeIndex, table: str) -> tuple[pd.DatetimeIndex, str]:
    """The regular weekly or daily series spanned by the dates, and its frequency."""
    unique = dates.unique().sort_values()
    if len(unique) < 2:
        raise InputError(f"{table}: only one date ({unique[0]:%Y-%m-%d}); the frequency "
                         "needs a series of weekly or daily dates")
    days = np.diff(unique.asi8) // DAY_NS
    steps, counts = np.unique(days, return_counts=True)
    step = int(steps[np.argmax(counts)])
    if step not in (1, 7):
        raise InputError(f"{table}: dates are mostly {step} days apart; expected 7 (weekly) "
                         "or 1 (daily)")
    frequency = "W" if step == 7 else "D"
    unit, adjective = UNIT[frequency]
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


def spend_matrix(frame: pd.DataFrame) -> tuple[pd.DatetimeIndex, str, tuple[str, ...], Array]:
    """Dates, frequency, sorted channels and the ``(T, C)`` spend of a long spend table."""
    cols = columns_of(frame, "spend", ("date", "channel", "spend"))
    dates = parse_dates(frame, cols["date"], "spend")
    fail_rows("spend", blank_cells(frame[cols["channel"]]), "channel is empty")
    fail_control("spend", frame[cols["channel"]], "channel")
    names = frame[cols["channel"]].astype(str).str.strip().to_numpy()
    amounts = numbers(frame, cols["spend"], "spend", "spend")
    fail_duplicates("spend", pd.DataFrame({"date": dates, "channel": names}), "(date, channel)")
    grid, frequency = date_grid(dates, "spend")
    channels = tuple(sorted(set(names)))
    matrix = np.zeros((len(grid), len(channels)))
    matrix[grid.get_indexer(dates), pd.Categorical(names, categories=channels).codes] = amounts
    check_every_channel_spends(matrix, channels, "spend")
    return grid, frequency, channels, matrix


def check_every_channel_spends(matrix: Array, channels: Sequence[str], table: str) -> None:
    """Refuse a channel whose spend is zero in every period."""
    idle = [name for name, total in zip(channels, matrix.sum(axis=0), strict=True) if total <= 0]
    if idle:
        more = f"; {len(idle) - 1} more channels never spend" if len(idle) > 1 else ""
        raise InputError(f"{table}: channel '{idle[0]}' never spends (all "
                         f"{len(matrix)} periods are 0); drop its rows{more}")


def on_grid(frame: pd.DataFrame, table: str, fields: Sequence[str], grid: pd.DatetimeIndex,
             frequency: str, *, nonnegative: bool = True) -> Array:
    """``(T, len(fields))`` columns of a per-date table, rows placed on the spend dates.

    Dates must be unique and exactly the spend dates.
    """
    cols = columns_of(frame, table, ("date", *fields))
    dates = parse_dates(frame, cols["date"], table)
    fail_duplicates(table, pd.DataFrame({"date": dates}), "date")
    missing, extra = grid.difference(dates), dates.difference(grid)
    parts = [f"{len(missing)} spend date(s) have no {table} row, first {missing[0]:%Y-%m-%d}"
             ] if len(missing) else []
    if len(extra):
        parts.append(f"{len(extra)} {table} date(s) are not spend dates, first "
                     f"{extra[0]:%Y-%m-%d}")
    if parts:
        raise InputError(f"{table}: dates do not match the {UNIT[frequency][1]} spend dates: "
                         + "; ".join(parts))
    values = np.empty((len(grid), len(fields)))
    order = grid.get_indexer(dates)
    for k, field in enumerate(fields):
        values[order, k] = numbers(frame, cols[field], table, field, nonnegative=nonnegative)
    return values


def outcome_columns(frame: pd.DataFrame, grid: pd.DatetimeIndex,
              frequency: str) -> tuple[Array | None, Array | None]:
    """Conversions and revenue on the spend dates."""
    lower = {str(c).strip().lower() for c in frame.columns}
    kpis = [kpi for kpi in ("conversions", "revenue") if kpi in lower]
    if not kpis:
        found = ", ".join(str(c) for c in frame.columns) or "none"
        raise InputError(f"outcomes: missing column 'conversions' (or 'revenue'); columns "
                         f"found: {found}")
    values = on_grid(frame, "outcomes", kpis, grid, frequency)
    result = {kpi: values[:, k] for k, kpi in enumerate(kpis)}
    return result.get("conversions"), result.get("revenue")


def control_frame(frame: pd.DataFrame, grid: pd.DatetimeIndex, frequency: str) -> pd.DataFrame:
    """Numeric controls (any sign) on the spend dates, columns sorted by name."""
    names = [str(c).strip() for c in frame.columns if str(c).strip().lower() != "date"]
    if pd.Series(names, dtype="str").str.contains(CONTROL_PATTERN, regex=True).any():
        raise InputError("controls: a column name has a control character; names must be "
                         "printable text")
    if not names or "" in names or len({n.lower() for n in names}) < len(names):
        raise InputError("controls: need control columns besides 'date', with non-empty, "
                         f"unique names; columns found: {', '.join(map(str, frame.columns))}")
    renamed = frame.rename(columns=lambda c: str(c).strip())
    values = on_grid(renamed, "controls", names, grid, frequency, nonnegative=False)
    return pd.DataFrame(values, index=grid, columns=names)[sorted(names)]


def lift_test_frame(frame: pd.DataFrame, channels: tuple[str, ...]) -> pd.DataFrame | None:
    """Lift tests on known channels, sorted; ``None`` for a table without rows."""
    if len(frame) == 0:
        return None
    cols = columns_of(frame, "lift_tests", LIFT_COLUMNS)
    fail_rows("lift_tests", blank_cells(frame[cols["channel"]]), "channel is empty")
    fail_control("lift_tests", frame[cols["channel"]], "channel")
    names = frame[cols["channel"]].astype(str).str.strip()
    fail_rows("lift_tests", ~names.isin(channels).to_numpy(), "unknown channel", names,
               f"; channels in spend: {', '.join(channels)}")
    table: dict[str, Any] = {"channel": names.to_numpy()}
    for field in LIFT_COLUMNS[1:]:
        table[field] = numbers(frame, cols[field], "lift_tests", field,
                                nonnegative=field.startswith("spend"))
    fail_rows("lift_tests", table["lift_sd"] <= 0, "lift_sd must be positive",
               frame[cols["lift_sd"]])
    fail_rows("lift_tests", table["spend_after"] == table["spend_before"],
               "spend_after equals spend_before, so the test measures nothing")
    return pd.DataFrame(table).sort_values(list(LIFT_COLUMNS), ignore_index=True)


def read_only(values: Any, shape: tuple[int, ...], name: str) -> Array:
    """A read-only float copy of ``values`` with the given shape."""
    array = np.array(values, dtype=float)
    if array.shape != shape:
        raise InputError(f"{name}: expected shape {shape}, got {array.shape}")
    array.setflags(write=False)
    return array


def floats(values: Array | None) -> Any:
    """Nested lists of floats with -0.0 folded into 0.0, for the canonical form."""
    return None if values is None else (np.asarray(values, dtype=float) + 0.0).tolist()
