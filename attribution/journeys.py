"""Customer journeys from raw touchpoints, built out of core with DuckDB.

:func:`build_journeys` turns a touch table (``user_id, timestamp, channel``) and a
conversion table (``user_id, timestamp[, value]``) into the aggregated paths file that
:class:`~attribution.paths.PathTable` reads, and optionally one row per journey.
:func:`journey_tables` does the same from files, bytes or tables in memory and returns
the tables instead of writing files. DuckDB runs under a memory limit and spills to a
temporary directory, so file inputs may be larger than memory. The rules, per user:

* conversions at the same timestamp are one journey (their count, their summed value);
* a converting journey holds the touches strictly after the previous conversion and at
  or before its own, with ``touch_time >= conversion_time - lookback``;
* the touches after the last conversion (all touches of a user who never converts) are
  one non-converting journey that ends at its last touch, with the same window;
* touches are ordered by time, ties by channel name (code point order);
* a conversion with no touch in its window is left out and counted in the summary.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import duckdb
import pandas as pd
from pydantic import Field

from attribution.duckdb_io import (
    InputTable,
    Source,
    atomic_outputs,
    check_names,
    connect,
    copy_options,
    fetch_one,
    first_row,
    literal,
    load_table,
    open_table,
    text_sql,
    write_query,
)
from attribution.errors import InputError, RequestError
from attribution.paths import DEFAULT_SEPARATOR
from spendwise.requests import Label, Request

#: DuckDB's memory limit unless the caller gives one; past it, DuckDB spills to disk.
MEMORY_LIMIT = "2GB"
_US_PER_DAY = 86_400_000_000


class JourneyRequest(Request):
    """The rules that turn touches and conversions into journeys: what ``spendwise paths``
    and ``POST /v1/datasets/journeys`` build (:class:`spendwise.requests.Request`)."""

    error = RequestError

    lookback_days: float = Field(default=30.0, strict=True, gt=0, le=3650, description="a "
                                 "touch counts for a conversion up to this many days before it")
    separator: Annotated[Label, Field(min_length=1, max_length=16)] = Field(
        default=DEFAULT_SEPARATOR, description="channel separator in the written paths")


DEFAULT_LOOKBACK_DAYS: float = JourneyRequest.model_fields["lookback_days"].default


@dataclass(frozen=True)
class JourneySummary:
    """What :func:`build_journeys` read and wrote."""

    touch_rows: int
    conversion_rows: int
    journeys: int
    converting_journeys: int
    distinct_paths: int
    conversions_without_touches: int
    seconds: float

    def to_dict(self) -> dict[str, int | float]:
        """The summary as a plain dictionary (JSON-ready)."""
        return asdict(self)


def build_journeys(
    touches: Source,
    conversions: Source,
    output: str | Path,
    *,
    lookback_days: float = DEFAULT_LOOKBACK_DAYS,
    journeys_output: str | Path | None = None,
    separator: str = DEFAULT_SEPARATOR,
    memory_limit: str = MEMORY_LIMIT,
    temp_directory: str | Path | None = None,
    threads: int | None = None,
    names: Sequence[str | None] = (None, None),
) -> JourneySummary:
    """Turn touchpoints and conversions into journeys and write the aggregated paths.

    Parameters
    ----------
    touches, conversions
        CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet (``.parquet``, ``.pq``) files with
        columns ``user_id, timestamp, channel`` and ``user_id, timestamp[, value]``
        (names case-insensitive). Timestamps are ISO dates or date-times (an offset is
        converted to UTC) or Parquet dates/timestamps, within the years 1 to 9999;
        values are non-negative numbers. Either may also be a file's bytes, named by
        ``names``, or a pandas or Arrow table (see :func:`journey_tables`).
    output
        Aggregated paths ``path, conversions, nulls, value``, one row per distinct path,
        sorted by path; CSV or Parquet by extension.
    lookback_days
        Look-back window: a touch belongs to a journey ending at ``t`` only if its time
        is at or after ``t - lookback_days``.
    journeys_output
        Optional file with one row per journey, ordered by user and end: ``journey_id,
        user_id, journey_end, path, touch_days, conversions, nulls, value``, where
        ``touch_days`` holds the days from each touch to the journey end.
    separator
        Text between channels in a path; a channel name must not contain it.
    memory_limit, temp_directory, threads
        DuckDB settings. Data beyond the memory limit spills to the temporary
        directory (a fresh one, removed afterwards, when not given); ``threads``
        defaults to the number of cores.
    names
        Names of in-memory inputs (``touches.csv`` for bytes), as for
        :func:`attribution.duckdb_io.open_table`.

    Returns
    -------
    JourneySummary
        Rows read, journeys and paths written, conversions left out, elapsed seconds.

    Raises
    ------
    InputError
        A bad setting, a missing or unreadable file, a missing column or a bad value;
        the message names the file, the field and the row (1-based, header excluded).
        Outputs are written to temporary files and renamed at the end, so an error
        leaves no partial file behind.
    """
    start = time.perf_counter()
    targets = _targets(output, journeys_output)
    settings = _Settings(lookback_days, separator, memory_limit, temp_directory, threads)
    with (_journeys(touches, conversions, settings, names, journeys_output is not None,
                    quote_values=True) as (con, counts),
          atomic_outputs(targets) as temporaries):
        distinct = write_query(con, _PATHS_QUERY, temporaries[0], targets[0])
        if journeys_output is not None:
            write_query(con, _JOURNEYS_QUERY, temporaries[1], targets[1])
    return _summary(counts, distinct, start)


@dataclass(frozen=True)
class JourneyTables:
    """What :func:`journey_tables` built: the paths, the journeys if asked, the summary."""

    paths: pd.DataFrame
    journeys: pd.DataFrame | None
    summary: JourneySummary


def journey_tables(
    touches: Source,
    conversions: Source,
    *,
    lookback_days: float = DEFAULT_LOOKBACK_DAYS,
    with_journeys: bool = False,
    separator: str = DEFAULT_SEPARATOR,
    memory_limit: str = MEMORY_LIMIT,
    temp_directory: str | Path | None = None,
    threads: int | None = None,
    names: Sequence[str | None] = (None, None),
    quote_values: bool = True,
) -> JourneyTables:
    """The journeys of :func:`build_journeys` as data frames, without writing files.

    Parameters
    ----------
    touches, conversions
        Files as for :func:`build_journeys`; the bytes of such files, parsed in memory
        (their ``names``, such as ``touches.parquet``, give the format); or pandas or
        Arrow tables with the same columns.
    with_journeys
        Also return one row per journey (the columns of ``journeys_output``).
    names
        The names of the two inputs in messages (and the format of bytes).
    quote_values
        Whether messages may quote values; false for inputs holding personal data.
    lookback_days, separator, memory_limit, temp_directory, threads
        As for :func:`build_journeys`.

    Returns
    -------
    JourneyTables
        ``paths`` with columns ``path, conversions, nulls, value`` sorted by path.
    """
    start = time.perf_counter()
    settings = _Settings(lookback_days, separator, memory_limit, temp_directory, threads)
    with _journeys(touches, conversions, settings, names, with_journeys,
                   quote_values=quote_values) as (con, counts):
        paths = con.execute(_PATHS_QUERY).df()
        journeys = con.execute(_JOURNEYS_QUERY).df() if with_journeys else None
    return JourneyTables(paths, journeys, _summary(counts, len(paths), start))


@dataclass(frozen=True)
class _Settings:
    lookback_days: float
    separator: str
    memory_limit: str
    temp_directory: str | Path | None
    threads: int | None


@contextmanager
def _journeys(
    touches: Source, conversions: Source, settings: _Settings, names: Sequence[str | None],
    with_days: bool, *, quote_values: bool,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, tuple[int, int, int, int, int]]]:
    """A connection holding the ``journeys`` table, and the counts of the summary."""
    lookback_us = _lookback_us(settings.lookback_days)
    if not settings.separator:
        raise InputError("separator: must not be empty")
    touch_name, conversion_name = names
    with connect(settings.memory_limit, settings.temp_directory, settings.threads) as con:
        touch_table = open_table(con, touches, ("user_id", "timestamp", "channel"),
                                 name=touch_name, quote_values=quote_values)
        conversion_table = open_table(con, conversions, ("user_id", "timestamp"), ("value",),
                                      name=conversion_name, quote_values=quote_values)
        touch_rows = load_table(con, touch_table, "touches")
        no_value = "" if "value" in conversion_table.columns else ", CAST(0 AS DOUBLE) AS value"
        conversion_rows = load_table(con, conversion_table, "conversions", no_value)
        coding = _channels(con, touch_table, settings.separator)
        _build(con, coding, lookback_us, with_days=with_days)
        journeys, converting, converted = fetch_one(
            con, "SELECT count(*), count(*) FILTER (conversions > 0), "
            "coalesce(sum(conversions), 0) FROM journeys")
        if converting == 0:
            raise conversion_table.fail(
                f"no conversion has a touch of {touch_table.name} in its "
                f"{lookback_us / _US_PER_DAY:g}-day look-back window; check the user ids")
        yield con, (touch_rows, conversion_rows, int(journeys), int(converting),
                    int(converted))


def _summary(counts: tuple[int, int, int, int, int], distinct: int,
             start: float) -> JourneySummary:
    touch_rows, conversion_rows, journeys, converting, converted = counts
    return JourneySummary(
        touch_rows=touch_rows,
        conversion_rows=conversion_rows,
        journeys=journeys,
        converting_journeys=converting,
        distinct_paths=distinct,
        conversions_without_touches=conversion_rows - converted,
        seconds=time.perf_counter() - start,
    )


# -- settings, connection and files ------------------------------------------------------


def _lookback_us(lookback_days: float) -> int:
    """The look-back window in whole microseconds (capped far beyond any real data)."""
    try:
        days = float(lookback_days)
    except (TypeError, ValueError):
        raise InputError(f"lookback_days: {lookback_days!r} is not a number") from None
    if math.isnan(days) or days <= 0:
        raise InputError(f"lookback_days: must be a positive number of days, got {days:g}")
    return round(min(days, 2**62 / _US_PER_DAY) * _US_PER_DAY)


def _targets(output: str | Path, journeys_output: str | Path | None) -> list[Path]:
    """The output files, checked for a known extension and an existing directory."""
    targets = [Path(output)] + ([] if journeys_output is None else [Path(journeys_output)])
    if len(targets) == 2 and targets[0].resolve() == targets[1].resolve():
        raise InputError(f"{targets[1]}: the journeys file must differ from the paths file")
    for target in targets:
        copy_options(target)
        if not target.parent.is_dir():
            raise InputError(f"{target}: the directory {target.parent} does not exist")
    return targets


# -- loading and checking the inputs ------------------------------------------------------


def _channels(con: duckdb.DuckDBPyConnection, table: InputTable, separator: str) -> _KeyCoding:
    """Number the distinct channels in name order; no name may clash with the separator."""
    con.execute("CREATE TEMP TABLE channels AS SELECT channel, CAST(row_number() OVER "
                "(ORDER BY channel) - 1 AS BIGINT) AS code FROM (SELECT DISTINCT channel "
                "FROM touches)")
    con.execute("CREATE TEMP TABLE channel_names AS SELECT list(channel ORDER BY code) AS names "
                "FROM channels")
    check_names(con, table, "channels")
    if fetch_one(con, f"SELECT count(*) FROM channels WHERE {_ambiguous('channel', separator)}")[0]:
        text = text_sql(table.columns["channel"])
        row, channel = first_row(con, table, _ambiguous(text, separator), text)
        core = separator.strip() or separator
        problem = f"contains the separator {core!r}" if core in channel \
            else f"would be ambiguous next to the separator {separator!r}"
        shown = f" {channel!r}" if table.quote_values else ""
        raise table.fail(f"row {row}: channel{shown} {problem}; rename the channel or "
                         "choose another separator")
    n, first, last = fetch_one(con, "SELECT (SELECT count(*) FROM channels), epoch_us(min(ts)), "
                          "epoch_us(max(ts)) FROM touches")
    fits = (int(last) - int(first) + 1) * int(n) < 2**62
    return _KeyCoding(int(first), int(n), "BIGINT" if fits else "HUGEINT", separator)


def _ambiguous(channel: str, separator: str) -> str:
    """SQL test of a channel name that would not split back out of a joined path.

    The path reader splits at the separator's core (its blanks are optional), leftmost
    first, and strips the parts. A name, with the separator's blanks around it, comes
    back whole unless it contains the core or ends with a start of the core that the
    core repeats at its own start (a border), which lets an occurrence begin inside the
    name and swallow the real separator after it.
    """
    core = separator.strip() or separator
    at = separator.index(core)
    padded = (f"({literal(separator[at + len(core):])} || {channel} || "
              f"{literal(separator[:at])})")
    tests = [f"contains({padded}, {literal(core)})"]
    tests += [f"ends_with({padded}, {literal(core[:-border])})"
              for border in range(1, len(core)) if core[:border] == core[-border:]]
    return "(" + " OR ".join(tests) + ")"


# -- building the journeys -----------------------------------------------------------------


@dataclass(frozen=True)
class _KeyCoding:
    """A touch as one sortable integer, ``(time_us - t0) * n_channels + channel_code``.

    Sorting a list of keys orders the touches by time, ties by channel name, several
    times faster in DuckDB than an ordered aggregate over (time, name).
    """

    t0: int
    n: int
    key_type: str
    separator: str

    def key(self, ts: str, code: str) -> str:
        return f"CAST(epoch_us({ts}) - {self.t0} AS {self.key_type}) * {self.n} + {code}"

    def time_us(self, key: str) -> str:
        return f"(CAST({key} // {self.n} AS BIGINT) + {self.t0})"

    def path(self, keys: str) -> str:
        name = f"names[CAST(k % {self.n} AS BIGINT) + 1]"
        return f"array_to_string(list_transform({keys}, lambda k: {name}), {self.joiner})"

    def days(self, keys: str, end_us: str) -> str:
        day = f"CAST(round(({end_us} - {self.time_us('k')}) / {_US_PER_DAY}.0, 6) AS VARCHAR)"
        return f"array_to_string(list_transform({keys}, lambda k: {day}), {self.joiner})"

    @property
    def joiner(self) -> str:
        return literal(self.separator)


def _build(
    con: duckdb.DuckDBPyConnection, coding: _KeyCoding, lookback_us: int, *, with_days: bool
) -> None:
    """Create the ``journeys`` table: user, end, path, touch days and outcome per journey."""
    con.execute("CREATE TEMP TABLE ends AS SELECT user_id, ts AS journey_end, count(*) AS "
                "conversions, fsum(value) AS value FROM conversions GROUP BY user_id, ts")
    con.execute("CREATE TEMP TABLE last_ends AS SELECT user_id, max(journey_end) AS last_end "
                "FROM ends GROUP BY user_id")
    keyed = (f"SELECT t.user_id, t.ts, {coding.key('t.ts', 'c.code')} AS key, l.last_end "
             "FROM touches t JOIN channels c USING (channel) {how} JOIN last_ends l "
             "USING (user_id)")
    # Touches after the last conversion: the end is the last key; cut the window in lists.
    lower = (f"CAST(greatest(end_us - {coding.t0} - {lookback_us}, 0) AS {coding.key_type})"
             f" * {coding.n}")
    con.execute(
        "CREATE TEMP TABLE journeys AS SELECT user_id, make_timestamp(end_us) AS journey_end, "
        f"{coding.path('keys')} AS path, "
        f"CAST({coding.days('keys', 'end_us') if with_days else 'NULL'} AS VARCHAR) AS "
        "touch_days, CAST(0 AS BIGINT) AS conversions, CAST(1 AS BIGINT) AS nulls, "
        "CAST(0 AS DOUBLE) AS value FROM (SELECT user_id, end_us, "
        f"list_sort(list_filter(keys, lambda k: k >= {lower})) AS keys "
        f"FROM (SELECT user_id, {coding.time_us('max(key)')} AS end_us, list(key) AS keys "
        f"FROM ({keyed.format(how='LEFT')}) WHERE last_end IS NULL OR ts > last_end "
        "GROUP BY user_id)), channel_names"
    )
    # Touches up to the last conversion go to the first conversion at or after them.
    days = coding.days("keys", "epoch_us(journey_end)") if with_days else "NULL"
    con.execute(
        f"INSERT INTO journeys SELECT user_id, journey_end, {coding.path('keys')}, {days}, "
        "e.conversions, 0, e.value FROM (SELECT k.user_id, e.journey_end, "
        f"list_sort(list(k.key)) AS keys FROM ({keyed.format(how='INNER')}) k "
        "ASOF JOIN ends e ON k.user_id = e.user_id AND k.ts <= e.journey_end "
        f"WHERE k.ts <= k.last_end AND epoch_us(k.ts) >= epoch_us(e.journey_end) - {lookback_us} "
        "GROUP BY k.user_id, e.journey_end) JOIN ends e USING (user_id, journey_end), channel_names"
    )


_PATHS_QUERY = (
    "SELECT path, CAST(sum(conversions) AS BIGINT) AS conversions, "
    "CAST(sum(nulls) AS BIGINT) AS nulls, fsum(value) AS value "
    "FROM journeys GROUP BY path ORDER BY path"
)
_JOURNEYS_QUERY = (
    "SELECT row_number() OVER (ORDER BY user_id, journey_end) AS journey_id, user_id, "
    "journey_end, path, touch_days, conversions, nulls, value "
    "FROM journeys ORDER BY user_id, journey_end"
)


# -- SQL text -----------------------------------------------------------------------------


