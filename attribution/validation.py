"""Reading and validating path files at the boundary.

Every problem is reported as one :class:`InputError` whose message names the
row (1-based, header excluded) and the field, and says how many other rows
share the problem, so a user can fix a file in one pass per kind of error.

This module knows nothing of :class:`~attribution.paths.PathTable`: it turns a
frame into checked columns (:class:`PathColumns`), from which the table is
built, so :mod:`attribution.paths` depends on it and not the other way round.
Files and bytes are read by :mod:`spendwise.reading`, within its limits on
columns and line length, and numbers written as text follow its grammar.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from attribution.errors import InputError
from spendwise.reading import (
    CONTROL_PATTERN,
    CSV_SUFFIXES,
    FILE_TYPES,
    NUMBER_PATTERN,
    PARQUET_SUFFIXES,
    ReadError,
    parse_numbers,
    read_frame,
    table_format,
)

__all__ = ["COLUMN_ALIASES", "CSV_SUFFIXES", "DEFAULT_SEPARATOR", "PARQUET_SUFFIXES",
           "PathColumns", "check_channel_names", "path_columns", "read_table"]

DEFAULT_SEPARATOR = " > "

#: Accepted column names, first the spendwise name, then the aliases
#: used by ChannelAttribution.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "path": ("path",),
    "conversions": ("conversions", "total_conversions"),
    "nulls": ("nulls", "total_null", "total_nulls"),
    "value": ("value", "total_conversion_value"),
}
_NUMBER = re.compile(NUMBER_PATTERN)
_CONTROL = re.compile(CONTROL_PATTERN)
#: Largest float: a column (or conversions plus nulls) must add up to less.
LARGEST = float(np.finfo(np.float64).max)


def read_table(source: str | Path | bytes | pd.DataFrame, *,
               name: str | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file, or its bytes, as text/typed columns without guessing.

    Parameters
    ----------
    source
        A file path; the bytes of a file named ``name`` (read in memory, never
        written to disk); or a data frame, returned as it is.
    name
        For bytes: the file's name, whose extension gives the format and which
        messages name (``paths.csv``). For a path, messages name the path.

    Raises
    ------
    InputError
        A missing file, an unknown type, or a file beyond the limits of
        :mod:`spendwise.reading` (more than 1,000 columns, a line over 1 MiB, rows
        of another width than the header, a nested Parquet column).
    """
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, bytes):
        label = name or "table"
    else:
        path = Path(source)
        label = str(path)
        if not path.exists():
            raise InputError(f"{path}: no such file")
    try:
        table_format(label)
        return read_frame(source, label)
    except ReadError as exc:
        if str(exc).startswith("unknown file type"):
            raise InputError(f"{label}: unknown file type; use {FILE_TYPES}") from None
        raise InputError(f"{label}: cannot be read ({exc})") from None


def resolve_column(frame: pd.DataFrame, field: str, *, required: bool) -> str | None:
    """The frame's column for a field, accepting the field's aliases, case-insensitively."""
    lower = {str(c).strip().lower(): c for c in frame.columns}
    for alias in COLUMN_ALIASES.get(field, (field,)):
        if alias in lower:
            return str(lower[alias])
    if required:
        names = COLUMN_ALIASES.get(field, (field,))
        also = f" (also accepted: {', '.join(names[1:])})" if len(names) > 1 else ""
        found = ", ".join(str(c) for c in frame.columns) or "none"
        raise InputError(f"missing column '{field}'{also}; columns found: {found}")
    return None


def fail_rows(mask: NDArray[np.bool_], message: str, values: pd.Series | None = None) -> None:
    """Raise for the first row flagged in ``mask``, mentioning how many more there are."""
    bad = np.flatnonzero(mask)
    if len(bad) == 0:
        return
    first = int(bad[0])
    shown = "" if values is None else f" ({values.iloc[first]!r})"
    more = f"; {len(bad) - 1} more rows have this problem" if len(bad) > 1 else ""
    raise InputError(f"row {first + 1}: {message}{shown}{more}")


def numeric_column(frame: pd.DataFrame, column: str, field: str) -> NDArray[np.float64]:
    """A column as finite, non-negative floats; anything else is an :class:`InputError`.

    Text must be a number in the grammar of :data:`spendwise.reading.NUMBER_PATTERN`
    (``12``, ``0.5``, ``1e3``); ``12abc``, ``0x10`` or ``"1e3 "`` are not numbers.
    """
    raw = frame[column]
    try:
        values, blank, bad = parse_numbers(raw)
    except ReadError as exc:
        raise InputError(f"column '{column}' {exc}") from None
    fail_rows(blank, f"{field} is empty")
    fail_rows(bad | np.isnan(values) & ~blank, f"{field} is not a number", raw)
    fail_rows(np.isinf(values), f"{field} is infinite", raw)
    fail_rows(values < 0, f"{field} is negative", raw)
    return values


def check_sum(values: NDArray[np.float64], column: str) -> None:
    """Refuse a column whose total overflows: totals and shares are computed from it."""
    with np.errstate(over="ignore"):
        total = values.sum()
    if not np.isfinite(total):
        raise InputError(f"column '{column}': the values add up to more than {LARGEST:.4g}, "
                         "the largest number; use smaller units")


def split_path(text: str, separator: str) -> list[str]:
    """The channel names of a path text, stripped of surrounding white space.

    The separator's blanks are optional: with ``" > "``, ``a>b`` and ``a >  b``
    both read as ``a``, ``b``, and ``a > > b`` has an empty name.
    """
    core = separator.strip() or separator
    return [part.strip() for part in text.split(core)]


@dataclass(frozen=True, eq=False)
class PathColumns:
    """The checked content of a paths frame: the rows that carry journeys."""

    paths: list[list[str]]
    conversions: NDArray[np.float64]
    nulls: NDArray[np.float64]
    value: NDArray[np.float64]
    touch_days: list[list[float]] | None
    journey_ids: list[str] | None
    separator: str
    path_column: str


def path_columns(frame: pd.DataFrame, *, separator: str = DEFAULT_SEPARATOR) -> PathColumns:
    """Check a frame of aggregated paths or journeys; the columns of its table.

    Accepted columns: ``path``, ``conversions``, ``nulls``, optional ``value``
    (or ChannelAttribution's ``total_conversions``, ``total_null``,
    ``total_conversion_value``), optional ``touch_days`` (days from each touch
    to the journey's end, joined by the separator) and ``journey_id``. Counts
    and values are finite and non-negative, and so are their column totals.
    Rows without journeys are left out. Channel names are checked by
    :func:`check_channel_names` once the distinct names are known.
    """
    if not separator:
        raise InputError("separator: must not be empty")
    path_col = resolve_column(frame, "path", required=True)
    conv_col = resolve_column(frame, "conversions", required=True)
    null_col = resolve_column(frame, "nulls", required=True)
    value_col = resolve_column(frame, "value", required=False)
    days_col = resolve_column(frame, "touch_days", required=False)
    id_col = resolve_column(frame, "journey_id", required=False)
    assert path_col is not None and conv_col is not None and null_col is not None
    if len(frame) == 0:
        raise InputError("the input has no rows")

    conversions = numeric_column(frame, conv_col, "conversions")
    nulls = numeric_column(frame, null_col, "nulls")
    value = (
        numeric_column(frame, value_col, "value") if value_col else np.zeros(len(frame))
    )
    for column, values in ((conv_col, conversions), (null_col, nulls),
                           (value_col, value if value_col else None)):
        if column is not None and values is not None:
            check_sum(values, column)
    with np.errstate(over="ignore"):
        journeys = conversions.sum() + nulls.sum()
    if not np.isfinite(journeys):
        raise InputError(f"columns '{conv_col}' and '{null_col}': the journeys add up to more "
                         f"than {LARGEST:.4g}, the largest number; use smaller units")
    fail_rows((value > 0) & (conversions == 0), "value is positive but conversions is 0",
              frame[value_col] if value_col else None)

    texts = _text_column(frame, path_col)
    missing = texts.isna().to_numpy() | (texts.astype(str).str.strip() == "").to_numpy()
    fail_rows(missing, "path is empty")
    paths = [split_path(str(t), separator) for t in texts]
    for row, channels in enumerate(paths):
        if "" in channels:
            position = channels.index("") + 1
            raise InputError(
                f"row {row + 1}: path {texts.iloc[row]!r} has an empty channel name at "
                f"position {position} (separator {separator!r})"
            )
    touch_days = None if days_col is None else _touch_days(frame[days_col], paths, separator)

    keep = (conversions + nulls) > 0
    if not np.any(conversions > 0):
        raise InputError(f"the input has no conversions (all {len(frame)} rows have 0)")
    index = np.flatnonzero(keep)
    ids = None if id_col is None else _text_column(frame, id_col)
    return PathColumns(
        paths=[paths[i] for i in index],
        conversions=conversions[index],
        nulls=nulls[index],
        value=value[index],
        touch_days=None if touch_days is None else [touch_days[i] for i in index],
        journey_ids=None if ids is None else [str(ids.iloc[i]) for i in index],
        separator=separator,
        path_column=path_col,
    )


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column of names, refused when it holds something else (lists, dates, bytes)."""
    raw = frame[column]
    if pd.api.types.is_string_dtype(raw) or pd.api.types.is_integer_dtype(raw):
        return raw
    if pd.api.types.is_object_dtype(raw):
        inferred = pd.api.types.infer_dtype(raw, skipna=True)
        if inferred in ("string", "empty", "integer", "mixed-integer"):
            return raw
        kind = inferred
    else:
        kind = str(raw.dtype)
    raise InputError(f"column '{column}' holds {kind} values; expected text")


def check_channel_names(channels: Sequence[str], frame: pd.DataFrame, column: str) -> None:
    """Refuse a channel name with a control character other than white space (NUL, ESC).

    Only the distinct names are checked, so the cost does not grow with the rows; the
    row of the first offending name is then looked up for the message.
    """
    odd = [name for name in channels if _CONTROL.search(name)]
    if odd:
        rows = frame[column].astype("str").str.contains(odd[0], regex=False)
        row = int(np.flatnonzero(rows.fillna(False).to_numpy(dtype=bool))[0])
        raise InputError(f"row {row + 1}: path has a control character; channel names must "
                         "be printable text")


def _touch_days(column: pd.Series, paths: Sequence[list[str]],
                separator: str) -> list[list[float]]:
    """Days from each touch to its journey's end, one list per row, checked against the path."""
    touch_days = []
    for row, (text, channels) in enumerate(zip(column, paths, strict=True)):
        parts = split_path(str(text), separator)
        if not all(_NUMBER.fullmatch(p) for p in parts):
            raise InputError(f"row {row + 1}: touch_days {text!r} is not a list of numbers")
        days = [float(p) for p in parts]
        if len(days) != len(channels):
            raise InputError(
                f"row {row + 1}: touch_days has {len(days)} values but the path has "
                f"{len(channels)} touches"
            )
        if any(not math.isfinite(d) or d < 0 for d in days):
            raise InputError(f"row {row + 1}: touch_days must be finite and non-negative")
        touch_days.append(days)
    return touch_days
