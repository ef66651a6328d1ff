"""Customer journeys from raw touchpoints, built out of core with DuckDB.

:func:`build_journeys` turns a touch table (``user_id, timestamp, channel``) and a
conversion table (``user_id, timestamp[, value]``) into the aggregated paths file that
:class:`~attribution.paths.PathTable` reads, and optionally one row per journey. DuckDB
runs under a memory limit and spills to a temporary directory, so the inputs may be
larger than memory. The rules, per user:

* conversions at the same timestamp are one journey (their count, their summed value);
* a converting journey holds the touches strictly after the previous conversion and at
  or before its own, with ``touch_time >= conversion_time - lookback``;
* the touches after the last conversion (all touches of a user who never converts) are
  one non-converting journey that ends at its last touch, with the same window;
* touches are ordered by time, ties by channel name (code point order);
* a conversion with no touch in its window is left out and counted in the summary.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

import duckdb

from attribution.errors import InputError
from attribution.paths import DEFAULT_SEPARATOR
from attribution.validation import CSV_SUFFIXES, PARQUET_SUFFIXES

DEFAULT_LOOKBACK_DAYS = 30.0
_US_PER_DAY = 86_400_000_000
#: Every character ``str.strip`` removes, so names are stripped as the path reader does.
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: Name of each field in the loaded tables.
_COLUMN = {"user_id": "user_id", "timestamp": "ts", "channel": "channel", "value": "value"}
#: SQL text of the problem of a bad row, per field.
_PROBLEMS = {
    "user_id": "'user_id is empty'",
    "channel": "'channel is empty'",
    "timestamp": "CASE WHEN {text} IS NULL THEN 'timestamp is empty' "
                 "ELSE 'timestamp is not an ISO date/time' END",
    "value": "CASE WHEN {text} IS NULL THEN 'value is empty' "
             "WHEN {clean} IS NULL OR isnan({clean}) THEN 'value is not a number' "
             "WHEN isinf({clean}) THEN 'value is infinite' ELSE 'value is negative' END",
}


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
    touches: str | Path,
    conversions: str | Path,
    output: str | Path,
    *,
    lookback_days: float = DEFAULT_LOOKBACK_DAYS,
    journeys_output: str | Path | None = None,
    separator: str = DEFAULT_SEPARATOR,
    memory_limit: str = "2GB",
    temp_directory: str | Path | None = None,
    threads: int | None = None,
) -> JourneySummary:
    """Turn touchpoints and conversions into journeys and write the aggregated paths.

    Parameters
    ----------
    touches, conversions
        CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet (``.parquet``, ``.pq``) files with
        columns ``user_id, timestamp, channel`` and ``user_id, timestamp[, value]``
        (names case-insensitive). Timestamps are ISO dates or date-times (an offset is
        converted to UTC) or Parquet dates/timestamps; values are non-negative numbers.
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
    lookback_us = _lookback_us(lookback_days)
    if not separator:
        raise InputError("separator: must not be empty")
    targets = _targets(output, journeys_output)
    with _connection(memory_limit, temp_directory, threads) as con:
        touch_table = _open(con, touches, ("user_id", "timestamp", "channel"))
        conversion_table = _open(con, conversions, ("user_id", "timestamp"), ("value",))
        touch_rows = _load(con, touch_table, "touches")
        no_value = "" if "value" in conversion_table.columns else ", CAST(0 AS DOUBLE) AS value"
        conversion_rows = _load(con, conversion_table, "conversions", no_value)
        coding = _channels(con, touch_table, separator)
        _build(con, coding, lookback_us, with_days=journeys_output is not None)
        journeys, converting, converted = _one(
            con, "SELECT count(*), count(*) FILTER (conversions > 0), "
            "coalesce(sum(conversions), 0) FROM journeys")
        if converting == 0:
            raise conversion_table.fail(
                f"no conversion has a touch of {touch_table.path} in its "
                f"{lookback_us / _US_PER_DAY:g}-day look-back window; check the user ids")
        with _atomic(targets) as temporaries:
            distinct = _write(con, _PATHS_QUERY, temporaries[0], targets[0])
            if journeys_output is not None:
                _write(con, _JOURNEYS_QUERY, temporaries[1], targets[1])
    return JourneySummary(
        touch_rows=touch_rows,
        conversion_rows=conversion_rows,
        journeys=int(journeys),
        converting_journeys=int(converting),
        distinct_paths=distinct,
        conversions_without_touches=conversion_rows - int(converted),
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
        _copy_options(target)
        if not target.parent.is_dir():
            raise InputError(f"{target}: the directory {target.parent} does not exist")
    return targets


@contextmanager
def _connection(
    memory_limit: str, temp_directory: str | Path | None, threads: int | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with a memory limit, a spill directory and UTC as time zone."""
    own = temp_directory is None
    spill = tempfile.mkdtemp(prefix="spendwise-duckdb-") if own else str(temp_directory)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "temp_directory": spill,
        "threads": threads or os.cpu_count() or 1,
        "preserve_insertion_order": False,
    }
    try:
        try:
            con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:
            raise InputError(f"DuckDB settings: {_first_line(exc)}") from None
        with con:
            con.execute("SET TimeZone = 'UTC'; SET enable_progress_bar = false")
            yield con
    finally:
        if own:
            shutil.rmtree(spill, ignore_errors=True)


@dataclass(frozen=True)
class _Table:
    """One input file: where it is, how to read it, and its column and type per field."""

    path: Path
    parquet: bool
    delimiter: str = ","
    columns: dict[str, str] = dataclasses.field(default_factory=dict)
    types: dict[str, str] = dataclasses.field(default_factory=dict)

    def scan(self, *, numbered: bool = False) -> str:
        """FROM clause reading the file; ``numbered`` adds its 1-based ``row_number_``."""
        name = _literal(self.path)
        if self.parquet:
            scan = f"read_parquet({name}, file_row_number = {str(numbered).lower()})"
            number = "file_row_number + 1"
        else:  # row_number() follows the file while insertion order is preserved
            scan = (f"read_csv({name}, header = true, all_varchar = true, skip = 0, "
                    f"delim = {_literal(self.delimiter)}, quote = '\"', escape = '\"', "
                    "comment = '')")
            number = "row_number() OVER ()"
        return f"(SELECT {number} AS row_number_, * FROM {scan})" if numbered else scan

    def clean(self, name: str) -> str:
        """SQL of a field as stripped text, UTC timestamp or DOUBLE; NULL when unusable."""
        column, kind = self.columns[name], self.types[name]
        if name in ("user_id", "channel"):
            return _text(column)
        if kind == "VARCHAR" and name == "timestamp":
            return f"CAST(TRY_CAST({_text(column)} AS TIMESTAMPTZ) AS TIMESTAMP)"
        if kind == "VARCHAR":
            return f"TRY_CAST({_text(column)} AS DOUBLE)"
        if name == "timestamp" and kind.startswith(("DATE", "TIMESTAMP")):
            return f"CAST({column} AS TIMESTAMP)"
        if name == "value" and kind.endswith(("INT", "INTEGER", "FLOAT", "DOUBLE", ")")):
            return f"CAST({column} AS DOUBLE)"  # ")" ends DECIMAL(p, s)
        expected = "ISO dates/times or timestamps" if name == "timestamp" else "numbers"
        raise self.fail(f"column '{name}' has type {kind}; expected {expected}")

    def fail(self, message: str) -> InputError:
        """An input error that names this file."""
        return InputError(f"{self.path}: {message}")


def _open(
    con: duckdb.DuckDBPyConnection, source: str | Path, required: Sequence[str],
    optional: Sequence[str] = (),
) -> _Table:
    """Find an input file's columns (case-insensitive) and their types."""
    path = Path(source)
    name = path.name.lower()
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if not name.endswith(PARQUET_SUFFIXES + CSV_SUFFIXES):
        raise InputError(f"{path}: unknown file type; use .csv, .csv.gz, .tsv, .parquet or .pq")
    table = _Table(path, name.endswith(PARQUET_SUFFIXES), "\t" if name.endswith(".tsv") else ",")
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {table.scan()}").fetchall()
    except duckdb.Error as exc:
        raise table.fail(f"cannot be read ({_first_line(exc)})") from None
    found = {str(row[0]).strip().lower(): (str(row[0]), str(row[1])) for row in described}
    missing = [name for name in required if name not in found]
    if missing:
        names = ", ".join(str(row[0]) for row in described) or "none"
        raise table.fail(f"missing column '{missing[0]}'; columns found: {names}")
    fields = [name for name in (*required, *optional) if name in found]
    quoted = {f: '"' + found[f][0].replace('"', '""') + '"' for f in fields}
    return replace(table, columns=quoted,
                   types={f: found[f][1] for f in fields})


def _copy_options(target: Path) -> str:
    """COPY options for an output file, by its extension."""
    name = target.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "FORMAT parquet"
    if name.endswith(CSV_SUFFIXES):
        delimiter = "\t" if name.endswith(".tsv") else ","
        compression = "gzip" if name.endswith(".gz") else "none"
        return f"FORMAT csv, HEADER true, DELIMITER '{delimiter}', COMPRESSION {compression}"
    raise InputError(f"{target}: unknown file type; use .csv, .csv.gz, .tsv, .parquet or .pq")


@contextmanager
def _atomic(targets: Sequence[Path]) -> Iterator[list[Path]]:
    """Temporary files next to the targets, renamed onto them only if the block succeeds."""
    temporaries = [t.with_name(f".{t.name}.{uuid.uuid4().hex}.part") for t in targets]
    try:
        yield temporaries
        for temporary, target in zip(temporaries, targets, strict=True):
            os.replace(temporary, target)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def _write(con: duckdb.DuckDBPyConnection, query: str, temporary: Path, target: Path) -> int:
    """COPY a query to a file; return the number of rows written."""
    return int(_one(con, f"COPY ({query}) TO {_literal(temporary)} ({_copy_options(target)})")[0])


# -- loading and checking the inputs ------------------------------------------------------


def _load(con: duckdb.DuckDBPyConnection, table: _Table, name: str, extra: str = "") -> int:
    """Load a file's cleaned fields into a temporary table, check them, count the rows."""
    fields = list(table.columns)
    select = ", ".join(f"{table.clean(field)} AS {_COLUMN[field]}" for field in fields)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT {select}{extra} FROM {table.scan()}")
    except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException) as exc:
        raise table.fail(f"cannot be read ({_first_line(exc)})") from None
    counts = ", ".join(f"count(*) FILTER ({_bad(field, _COLUMN[field])})" for field in fields)
    rows, *bad = _one(con, f"SELECT count(*), {counts} FROM {name}")
    if rows == 0:
        raise table.fail("the table has no rows")
    for field, count in zip(fields, bad, strict=True):
        if count:
            _fail_row(con, table, field, int(count))
    return int(rows)


def _bad(field: str, clean: str) -> str:
    """SQL test of a bad cleaned value."""
    if field == "value":
        return f"coalesce(NOT isfinite({clean}) OR {clean} < 0, true)"
    return f"{clean} IS NULL"


def _fail_row(con: duckdb.DuckDBPyConnection, table: _Table, field: str, count: int) -> NoReturn:
    """Raise for the first of ``count`` rows with a bad value of ``field``."""
    column, clean = table.columns[field], table.clean(field)
    problem = _PROBLEMS[field].format(text=_text(column), clean=clean)
    row, raw, message = _first_row(con, table, _bad(field, clean),
                                   f"CAST({column} AS VARCHAR), {problem}")
    shown = f" ({raw!r})" if raw is not None and raw.strip() else ""
    more = f"; {count - 1} more rows have a bad {field}" if count > 1 else ""
    raise table.fail(f"row {row}: {message}{shown}{more}")


def _first_row(
    con: duckdb.DuckDBPyConnection, table: _Table, condition: str, columns: str
) -> tuple[Any, ...]:
    """Row number and ``columns`` of the first row of a file that meets ``condition``."""
    con.execute("SET preserve_insertion_order = true")
    return _one(con, f"SELECT row_number_, {columns} FROM {table.scan(numbered=True)} "
                f"WHERE {condition} ORDER BY row_number_ LIMIT 1")


def _channels(con: duckdb.DuckDBPyConnection, table: _Table, separator: str) -> _KeyCoding:
    """Number the distinct channels in name order; no name may clash with the separator."""
    con.execute("CREATE TEMP TABLE channels AS SELECT channel, CAST(row_number() OVER "
                "(ORDER BY channel) - 1 AS BIGINT) AS code FROM (SELECT DISTINCT channel "
                "FROM touches)")
    con.execute("CREATE TEMP TABLE channel_names AS SELECT list(channel ORDER BY code) AS names "
                "FROM channels")
    if _one(con, f"SELECT count(*) FROM channels WHERE {_ambiguous('channel', separator)}")[0]:
        text = _text(table.columns["channel"])
        row, channel = _first_row(con, table, _ambiguous(text, separator), text)
        core = separator.strip() or separator
        problem = f"contains the separator {core!r}" if core in channel \
            else f"would be ambiguous next to the separator {separator!r}"
        raise table.fail(f"row {row}: channel {channel!r} {problem}; rename the channel or "
                         "choose another separator")
    n, first, last = _one(con, "SELECT (SELECT count(*) FROM channels), epoch_us(min(ts)), "
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
    padded = (f"({_literal(separator[at + len(core):])} || {channel} || "
              f"{_literal(separator[:at])})")
    tests = [f"contains({padded}, {_literal(core)})"]
    tests += [f"ends_with({padded}, {_literal(core[:-border])})"
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
        return _literal(self.separator)


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


def _one(con: duckdb.DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    row = con.execute(query).fetchone()
    assert row is not None
    return row


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    """The gist of a DuckDB error: its first lines, up to a list or the query excerpt."""
    lines: list[str] = []
    for line in filter(None, map(str.strip, str(exc).splitlines())):
        if line.startswith("LINE ") or line.endswith(":") or len(lines) == 3:
            break
        lines.append(line)
    return "; ".join(lines) or type(exc).__name__


def _text(column: str) -> str:
    """SQL of a column as stripped text, NULL when empty.

    Trimming a set of characters is slow in DuckDB, so only values that start or end
    with white space are trimmed.
    """
    text = f"CAST({column} AS VARCHAR)"
    edge = _literal(f"^[{_WHITESPACE}]|[{_WHITESPACE}]$")
    trimmed = f"trim({text}, {_literal(_WHITESPACE)})"
    return f"NULLIF(CASE WHEN regexp_matches({text}, {edge}) THEN {trimmed} ELSE {text} END, '')"
