"""DuckDB plumbing for the journey builder: connections, inputs and outputs.

An input is a file, a file's bytes, or a table in memory (pandas or Arrow):

* files are scanned in place (CSV or Parquet), so they may be larger than
  memory; a CSV file's header is checked against the limits of
  :mod:`spendwise.reading` first, and DuckDB refuses lines over its limit;
* bytes are parsed in memory by :mod:`spendwise.reading` (CSV or Parquet, by
  the name given with them) and, like tables, registered on the connection as
  Arrow, so nothing is written to disk.

Fields are cleaned in SQL and checked, and the first bad row of a field is
reported by its number in the input. Inputs that may hold personal data are
opened with ``quote_values=False``: their messages then name the row and the
column but never quote a value or the header. Outputs are written with
``COPY`` into temporary files beside their targets and renamed into place only
when everything succeeded.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

import duckdb
import pandas as pd
import pyarrow as pa

from attribution.errors import InputError
from attribution.validation import CSV_SUFFIXES, PARQUET_SUFFIXES
from spendwise.reading import (
    CONTROL_PATTERN,
    FILE_TYPES,
    MAX_LINE_BYTES,
    NUMBER_PATTERN,
    ReadError,
    csv_header,
    plain_columns,
    read_arrow,
    table_format,
)

#: An input: a file, a file's bytes (with its name), or a table in memory.
Source: TypeAlias = str | Path | bytes | pd.DataFrame | pa.Table

#: Every character ``str.strip`` removes, so names are stripped as the path reader does.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


#: Name of each field in the loaded tables.
COLUMN = {"user_id": "user_id", "timestamp": "ts", "channel": "channel", "value": "value"}


#: SQL text of the problem of a bad row, per field.
PROBLEMS = {
    "user_id": "'user_id is empty'",
    "channel": "'channel is empty'",
    "timestamp": "CASE WHEN {text} IS NULL THEN 'timestamp is empty' "
                 "WHEN {clean} IS NULL THEN 'timestamp is not an ISO date/time' "
                 "WHEN NOT isfinite({clean}) THEN 'timestamp is not a finite date/time' "
                 "ELSE 'timestamp is outside the years 1 to 9999' END",
    "value": "CASE WHEN {text} IS NULL THEN 'value is empty' "
             "WHEN {clean} IS NULL OR isnan({clean}) THEN 'value is not a number' "
             "WHEN isinf({clean}) THEN 'value is infinite' ELSE 'value is negative' END",
}


@contextmanager
def connect(
    memory_limit: str, temp_directory: str | Path | None, threads: int | None, *,
    spill: bool = True,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with a memory limit, a spill directory and UTC as time zone.

    With ``spill=False`` DuckDB gets no temporary directory at all: past the
    memory limit it fails instead of writing to disk, which is what a reader of
    raw personal data needs (nothing may reach a file before pseudonymisation).
    """
    own = temp_directory is None and spill
    if not spill:
        temp_directory = ""
    spill_to = tempfile.mkdtemp(prefix="spendwise-duckdb-") if own else str(temp_directory)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "temp_directory": spill_to,
        "threads": threads or os.cpu_count() or 1,
        "preserve_insertion_order": False,
    }
    try:
        try:
            con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:
            raise InputError(f"DuckDB settings: {first_line(exc)}") from None
        with con:
            con.execute("SET TimeZone = 'UTC'; SET enable_progress_bar = false")
            yield con
    finally:
        if own:
            shutil.rmtree(spill_to, ignore_errors=True)


@dataclass(frozen=True)
class InputTable:
    """One input: its name in messages, how to scan it, and its column and type per field.

    ``path`` is set for a file scanned in place; otherwise ``view`` names the
    Arrow table registered on the connection. With ``quote_values`` false,
    messages never quote a value.
    """

    name: str
    parquet: bool
    delimiter: str = ","
    path: Path | None = None
    view: str | None = None
    quote_values: bool = True
    columns: dict[str, str] = dataclasses.field(default_factory=dict)
    types: dict[str, str] = dataclasses.field(default_factory=dict)

    def scan(self, *, numbered: bool = False) -> str:
        """FROM clause reading the input; ``numbered`` adds its 1-based ``row_number_``."""
        if self.view is not None:
            scan, number = self.view, "row_number() OVER ()"
        elif self.parquet:
            scan = f"read_parquet({literal(self.path)}, file_row_number = " \
                   f"{str(numbered).lower()})"
            number = "file_row_number + 1"
        else:  # row_number() follows the file while insertion order is preserved
            scan = (f"read_csv({literal(self.path)}, header = true, all_varchar = true, "
                    f"skip = 0, delim = {literal(self.delimiter)}, quote = '\"', escape = '\"', "
                    f"comment = '', max_line_size = {MAX_LINE_BYTES})")
            number = "row_number() OVER ()"
        return f"(SELECT {number} AS row_number_, * FROM {scan})" if numbered else scan

    def clean(self, name: str) -> str:
        """SQL of a field as stripped text, UTC timestamp or DOUBLE; NULL when unusable.

        Text is a number only in the grammar of :data:`spendwise.reading.NUMBER_PATTERN`.
        """
        column, kind = self.columns[name], self.types[name]
        if name in ("user_id", "channel"):
            if kind.endswith("]") or kind.startswith(("STRUCT", "MAP", "UNION", "BLOB")):
                raise self.fail(f"column '{name}' has type {kind}; expected text")
            return text_sql(column)
        if kind == "VARCHAR" and name == "timestamp":
            return f"CAST(TRY_CAST({text_sql(column)} AS TIMESTAMPTZ) AS TIMESTAMP)"
        if kind == "VARCHAR":
            return (f"CASE WHEN regexp_full_match({column}, {literal(NUMBER_PATTERN)}) "
                    f"THEN TRY_CAST({column} AS DOUBLE) END")
        if name == "timestamp" and kind.startswith(("DATE", "TIMESTAMP")):
            return f"CAST({column} AS TIMESTAMP)"
        if name == "value" and kind.endswith(("INT", "INTEGER", "FLOAT", "DOUBLE", ")")):
            return f"CAST({column} AS DOUBLE)"  # ")" ends DECIMAL(p, s)
        expected = "ISO dates/times or timestamps" if name == "timestamp" else "numbers"
        raise self.fail(f"column '{name}' has type {kind}; expected {expected}")

    def fail(self, message: str) -> InputError:
        """An input error that names this input."""
        return InputError(f"{self.name}: {message}")


def open_table(
    con: duckdb.DuckDBPyConnection, source: Source, required: Sequence[str],
    optional: Sequence[str] = (), *, name: str | None = None, quote_values: bool = True,
) -> InputTable:
    """Find an input's columns (case-insensitive) and their types.

    Parameters
    ----------
    con
        The connection the input is scanned or registered on.
    source
        A CSV or Parquet file; the bytes of one (parsed in memory, see
        :mod:`spendwise.reading`); or a pandas or Arrow table.
    required, optional
        The fields to find.
    name
        For bytes, the file's name (``touches.csv``): its extension gives the
        format and messages name it. For a table, its name in messages.
    quote_values
        Whether messages may quote values and column names; false for inputs
        that may hold personal data.
    """
    if isinstance(source, bytes | pd.DataFrame | pa.Table):
        table = _registered(con, source, name, quote_values)
    else:
        table = _file(source, quote_values)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {table.scan()}").fetchall()
    except duckdb.Error as exc:
        raise table.fail(f"cannot be read ({first_line(exc)})") from None
    found = {str(row[0]).strip().lower(): (str(row[0]), str(row[1])) for row in described}
    missing = [name for name in required if name not in found]
    if missing:
        names = ", ".join(str(row[0]) for row in described) or "none"
        if not quote_values:  # a file without a header would show a user id here
            names = f"{len(described)}, not shown"
        raise table.fail(f"missing column '{missing[0]}'; columns found: {names}")
    fields = [name for name in (*required, *optional) if name in found]
    quoted = {f: '"' + found[f][0].replace('"', '""') + '"' for f in fields}
    return replace(table, columns=quoted,
                   types={f: found[f][1] for f in fields})


def _file(source: str | Path, quote_values: bool) -> InputTable:
    """A file to scan in place, its CSV header checked against the limits first."""
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        form = table_format(path.name)
    except ReadError:
        raise InputError(f"{path}: unknown file type; use {FILE_TYPES}") from None
    table = InputTable(str(path), form.parquet, form.delimiter, path=path,
                       quote_values=quote_values)
    if not form.parquet:
        try:
            with (gzip.open(path) if form.gzipped else path.open("rb")) as handle:
                csv_header(handle.read(MAX_LINE_BYTES + 1), form.delimiter)
        except ReadError as exc:
            raise table.fail(f"cannot be read ({exc})") from None
        except (OSError, EOFError) as exc:
            raise table.fail(f"cannot be read ({type(exc).__name__})") from None
    return table


def _registered(con: duckdb.DuckDBPyConnection, source: bytes | pd.DataFrame | pa.Table,
                name: str | None, quote_values: bool) -> InputTable:
    """Bytes parsed in memory, or a table, registered on the connection as Arrow."""
    label = name or "table"
    try:
        if isinstance(source, bytes):
            if name is None:
                raise ReadError("bytes need a file name to tell CSV from Parquet")
            arrow = read_arrow(source, name)
        elif isinstance(source, pd.DataFrame):
            arrow = plain_columns(pa.Table.from_pandas(source, preserve_index=False))
        else:
            arrow = plain_columns(source)
    except ReadError as exc:
        raise InputError(f"{label}: cannot be read ({exc})") from None
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise InputError(f"{label}: cannot be read ({type(exc).__name__})") from None
    view = f"input_{uuid.uuid4().hex}"
    con.register(view, arrow)
    return InputTable(label, parquet=False, view=view, quote_values=quote_values)


def copy_options(target: Path) -> str:
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
def atomic_outputs(targets: Sequence[Path]) -> Iterator[list[Path]]:
    """Temporary files next to the targets, renamed onto them only if the block succeeds."""
    temporaries = [t.with_name(f".{t.name}.{uuid.uuid4().hex}.part") for t in targets]
    try:
        yield temporaries
        for temporary, target in zip(temporaries, targets, strict=True):
            os.replace(temporary, target)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def write_query(con: duckdb.DuckDBPyConnection, query: str, temporary: Path, target: Path) -> int:
    """COPY a query to a file; return the number of rows written."""
    copy = f"COPY ({query}) TO {literal(temporary)} ({copy_options(target)})"
    return int(fetch_one(con, copy)[0])


def load_table(
    con: duckdb.DuckDBPyConnection, table: InputTable, name: str, extra: str = ""
) -> int:
    """Load a file's cleaned fields into a temporary table, check them, count the rows."""
    fields = list(table.columns)
    select = ", ".join(f"{table.clean(field)} AS {COLUMN[field]}" for field in fields)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT {select}{extra} FROM {table.scan()}")
    except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException) as exc:
        raise table.fail(f"cannot be read ({first_line(exc)})") from None
    counts = ", ".join(
        f"count(*) FILTER ({bad_value_sql(field, COLUMN[field])})" for field in fields
    )
    rows, *bad = fetch_one(con, f"SELECT count(*), {counts} FROM {name}")
    if rows == 0:
        raise table.fail("the table has no rows")
    for field, count in zip(fields, bad, strict=True):
        if count:
            fail_row(con, table, field, int(count))
    return int(rows)


def bad_value_sql(field: str, clean: str) -> str:
    """SQL test of a bad cleaned value.

    DuckDB casts ``infinity`` and ``-infinity`` to timestamps, so a timestamp
    must be finite as well as present, and within the years 1 to 9999 of ISO
    8601. Channel names are checked apart, once per distinct name
    (:func:`check_names`).
    """
    if field == "value":
        return f"coalesce(NOT isfinite({clean}) OR {clean} < 0, true)"
    if field == "timestamp":
        return (f"coalesce(NOT isfinite({clean}) OR {clean} < TIMESTAMP '0001-01-01' "
                f"OR {clean} >= TIMESTAMP '10000-01-01', true)")
    return f"{clean} IS NULL"


def fail_row(con: duckdb.DuckDBPyConnection, table: InputTable, field: str, count: int) -> NoReturn:
    """Raise for the first of ``count`` rows with a bad value of ``field``."""
    column, clean = table.columns[field], table.clean(field)
    problem = PROBLEMS[field].format(text=text_sql(column), clean=clean)
    row, raw, message = first_row(con, table, bad_value_sql(field, clean),
                                   f"CAST({column} AS VARCHAR), {problem}")
    shown = f" ({raw!r})" if table.quote_values and raw is not None and raw.strip() else ""
    more = f"; {count - 1} more rows have a bad {field}" if count > 1 else ""
    raise table.fail(f"row {row}: {message}{shown}{more}")


def check_names(con: duckdb.DuckDBPyConnection, table: InputTable, names: str) -> None:
    """Refuse a channel name with a control character other than white space (NUL, ESC).

    ``names`` is a relation of the distinct names (column ``channel``), so the test
    runs once per name rather than once per row; the first row holding an offending
    name is looked up only to name it.
    """
    control = literal(CONTROL_PATTERN)
    if fetch_one(con, f"SELECT count(*) FROM {names} WHERE regexp_matches(channel, {control})")[0]:
        text = text_sql(table.columns["channel"])
        row = first_row(con, table, f"regexp_matches({text}, {control})", "NULL")[0]
        raise table.fail(f"row {row}: channel has a control character; names must be "
                         "printable text")


def first_row(
    con: duckdb.DuckDBPyConnection, table: InputTable, condition: str, columns: str
) -> tuple[Any, ...]:
    """Row number and ``columns`` of the first row of a file that meets ``condition``."""
    con.execute("SET preserve_insertion_order = true")
    return fetch_one(con, f"SELECT row_number_, {columns} FROM {table.scan(numbered=True)} "
                f"WHERE {condition} ORDER BY row_number_ LIMIT 1")


def fetch_one(con: duckdb.DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    row = con.execute(query).fetchone()
    assert row is not None
    return row


def literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def first_line(exc: BaseException) -> str:
    """The gist of a DuckDB error: its first lines, up to a list or the query excerpt."""
    lines: list[str] = []
    for line in filter(None, map(str.strip, str(exc).splitlines())):
        if line.startswith("LINE ") or line.endswith(":") or len(lines) == 3:
            break
        lines.append(line)
    return "; ".join(lines) or type(exc).__name__


def text_sql(column: str) -> str:
    """SQL of a column as stripped text, NULL when empty.

    Trimming a set of characters is slow in DuckDB, so only values that start or end
    with white space are trimmed.
    """
    text = f"CAST({column} AS VARCHAR)"
    edge = literal(f"^[{WHITESPACE}]|[{WHITESPACE}]$")
    trimmed = f"trim({text}, {literal(WHITESPACE)})"
    return f"NULLIF(CASE WHEN regexp_matches({text}, {edge}) THEN {trimmed} ELSE {text} END, '')"
