"""Reading and validating path files at the boundary.

Every problem is reported as one :class:`InputError` whose message names the
row (1-based, header excluded) and the field, and says how many other rows
share the problem, so a user can fix a file in one pass per kind of error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from attribution.errors import InputError
from attribution.paths import COLUMN_ALIASES, DEFAULT_SEPARATOR, PathTable

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(source: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file as strings/numbers without guessing missing values."""
    path = Path(source)
    name = path.name.lower()
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        if name.endswith(PARQUET_SUFFIXES):
            return pd.read_parquet(path)
        if name.endswith(CSV_SUFFIXES):
            sep = "\t" if name.endswith(".tsv") else ","
            return pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from exc
    raise InputError(f"{path}: unknown file type; use .csv, .csv.gz, .tsv, .parquet or .pq")


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
    """A column as finite, non-negative floats; anything else is an :class:`InputError`."""
    raw = frame[column]
    textual = raw.dtype == object or pd.api.types.is_string_dtype(raw)
    blank = (raw.astype(str).str.strip() == "") | raw.isna() if textual else raw.isna()
    values = pd.to_numeric(raw.where(~blank, np.nan), errors="coerce").to_numpy(dtype=float)
    fail_rows(blank.to_numpy(), f"{field} is empty")
    fail_rows(np.isnan(values), f"{field} is not a number", raw)
    fail_rows(np.isinf(values), f"{field} is infinite", raw)
    fail_rows(values < 0, f"{field} is negative", raw)
    return values


def split_path(text: str, separator: str) -> list[str]:
    """The channel names of a path text, stripped of surrounding white space.

    The separator's blanks are optional: with ``" > "``, ``a>b`` and ``a >  b``
    both read as ``a``, ``b``, and ``a > > b`` has an empty name.
    """
    core = separator.strip() or separator
    return [part.strip() for part in text.split(core)]


def validate_paths_frame(
    frame: pd.DataFrame, *, separator: str = DEFAULT_SEPARATOR
) -> PathTable:
    """Check a frame of aggregated paths or journeys and build a :class:`PathTable`.

    Accepted columns: ``path``, ``conversions``, ``nulls``, optional ``value``
    (or ChannelAttribution's ``total_conversions``, ``total_null``,
    ``total_conversion_value``), optional ``touch_days`` (days from each touch
    to the journey's end, joined by the separator) and ``journey_id``.
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
    fail_rows((value > 0) & (conversions == 0), "value is positive but conversions is 0",
              frame[value_col] if value_col else None)

    texts = frame[path_col]
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

    touch_days = None
    if days_col is not None:
        touch_days = []
        for row, (text, channels) in enumerate(zip(frame[days_col], paths, strict=True)):
            parts = split_path(str(text), separator)
            try:
                days = [float(p) for p in parts]
            except ValueError:
                raise InputError(
                    f"row {row + 1}: touch_days {text!r} is not a list of numbers"
                ) from None
            if len(days) != len(channels):
                raise InputError(
                    f"row {row + 1}: touch_days has {len(days)} values but the path has "
                    f"{len(channels)} touches"
                )
            if any(not np.isfinite(d) or d < 0 for d in days):
                raise InputError(f"row {row + 1}: touch_days must be finite and non-negative")
            touch_days.append(days)

    keep = (conversions + nulls) > 0
    if not np.any(conversions > 0):
        raise InputError(f"the input has no conversions (all {len(frame)} rows have 0)")
    index = np.flatnonzero(keep)
    return PathTable.from_sequences(
        [paths[i] for i in index],
        conversions[index],
        nulls[index],
        value[index],
        touch_days=None if touch_days is None else [touch_days[i] for i in index],
        journey_ids=None if id_col is None else [str(frame[id_col].iloc[i]) for i in index],
        separator=separator,
    )
