"""Reading CSV and Parquet tables from files or bytes, within limits.

The engines' readers (:mod:`attribution.validation`, :mod:`attribution.duckdb_io`,
:mod:`optimizer.tables`) take a file path, the file's bytes or a data frame.
Bytes are parsed in memory, so a service never writes an upload to disk to
read it. Every reader enforces the same limits *before* it builds a table:

* at most :data:`MAX_COLUMNS` columns (the header is counted first, so a
  100,000-column file is refused after reading one line);
* at most :data:`MAX_LINE_BYTES` bytes in a line;
* CSV is UTF-8 with a header row; every row has as many fields as the header;
* Parquet columns hold plain values (text, numbers, booleans, dates and
  times); a list, struct, map or binary column is refused by name.

Numbers written as text follow one grammar everywhere (:data:`NUMBER_PATTERN`):
an optional sign, ASCII digits with an optional decimal point, and an optional
exponent (``12``, ``-0.5``, ``.5``, ``1e3``, ``2.5E-4``). ``inf``, ``infinity``
and ``nan`` (any case) are recognised only so that they can be refused as
infinite or not a number. Nothing else is a number: no surrounding blanks
(``"1e3 "``), thousands separators (``1,000``, ``1_000``), hexadecimal
(``0x10``), units (``12abc``) or non-ASCII digits.

Errors are :class:`ReadError`, whose message is the reason a table cannot be
read; it never quotes a cell, and callers put it in their own error type with
the table's name (``touches.csv: cannot be read (row 3 has 4 fields; the
header has 3)``).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from numpy.typing import NDArray

#: Most columns a table may have.
MAX_COLUMNS = 1_000
#: Most bytes in one line of a CSV file (1 MiB).
MAX_LINE_BYTES = 1 << 20
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
FILE_TYPES = ".csv, .csv.gz, .tsv, .parquet or .pq"
#: A number written as text (RE2 and Python syntax; matched against the whole cell).
NUMBER_PATTERN = (r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                  r"|(?i:inf|infinity|nan))")

#: A control character that is not white space (NUL, ESC, DEL, C1 controls): no name holds
#: one. White space such as a tab is stripped from the ends of names like a blank.
CONTROL_PATTERN = "[\\x00-\\x08\\x0e-\\x1b\\x7f-\\x84\\x86-\\x9f]"


class ReadError(ValueError):
    """Why a table cannot be read; the message names rows and columns, never a cell's value."""


@dataclass(frozen=True)
class TableFormat:
    """How a file of a given name is read."""

    parquet: bool
    delimiter: str = ","
    gzipped: bool = False


def table_format(name: str) -> TableFormat:
    """The format of a file by its name's extension (case-insensitive)."""
    lower = name.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        return TableFormat(parquet=True)
    if lower.endswith(CSV_SUFFIXES):
        return TableFormat(False, "\t" if lower.endswith(".tsv") else ",",
                           lower.endswith(".gz"))
    raise ReadError(f"unknown file type; use {FILE_TYPES}")


def file_bytes(path: Path, form: TableFormat) -> bytes:
    """The content of a file, decompressed when it is gzipped CSV."""
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if form.gzipped else data
    except (OSError, EOFError) as exc:
        raise ReadError(type(exc).__name__) from None


# -- CSV -----------------------------------------------------------------------------------


def csv_header(data: bytes, delimiter: str = ",") -> list[str]:
    """The header's column names, after checking the limits on the raw bytes.

    Only the first line is parsed before the column count is known, and the
    line lengths are measured on the bytes, so an over-wide or over-long file
    is refused without building anything.
    """
    if not data.strip():
        raise ReadError("the file is empty; expected a header row")
    head = data[:MAX_LINE_BYTES + 1]
    end = head.find(b"\n")
    if end < 0 and len(data) > MAX_LINE_BYTES:
        raise ReadError(_long_line(1))
    line = head if end < 0 else head[:end]
    if b'"' not in line:  # the common case: count the delimiters
        width = line.count(delimiter.encode()) + 1
        if width > MAX_COLUMNS:
            raise ReadError(_too_wide(width))
    _check_lines(data)
    try:
        text = line.decode("utf-8-sig")
        names = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ReadError(f"the header row is not CSV ({type(exc).__name__}); expected "
                        "UTF-8 text with a header row") from None
    if len(names) > MAX_COLUMNS:
        raise ReadError(_too_wide(len(names)))
    return names


def _too_wide(width: int) -> str:
    return f"the header has {width:,} columns; at most {MAX_COLUMNS:,} are allowed"


def _long_line(number: int) -> str:
    return f"line {number} is longer than {MAX_LINE_BYTES:,} bytes, the limit per line"


def _check_lines(data: bytes) -> None:
    """Refuse a line longer than :data:`MAX_LINE_BYTES`, naming the first one."""
    if len(data) <= MAX_LINE_BYTES:
        return
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends, [len(data)]])
    long = np.flatnonzero(stops - starts > MAX_LINE_BYTES)
    if len(long):
        raise ReadError(_long_line(int(long[0]) + 1))


def csv_table(data: bytes, delimiter: str = ",") -> pa.Table:
    """CSV bytes as an Arrow table of text columns, blank cells as empty text.

    Raises :class:`ReadError` for a file over the limits, a row with another
    number of fields than the header (naming the row, 1-based, header
    excluded) or text that is not UTF-8 (naming the column).
    """
    names = csv_header(data, delimiter)
    if data.count(b'"') % 2:  # quotes inside quoted values are doubled, so they pair up
        raise ReadError('a quoted value is not closed (the file has an odd number of \'"\')')
    if len({n.strip().lower() for n in names}) < len(names):
        raise ReadError("two columns have the same name; names must differ, ignoring case")
    invalid: list[tuple[int | None, int, int]] = []

    def refuse(row: pa_csv.InvalidRow) -> str:
        invalid.append((row.number, row.expected_columns, row.actual_columns))
        return "error"

    def parse(threads: bool) -> pa.Table:
        return pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1,
                                            use_threads=threads,
                                            block_size=4 * MAX_LINE_BYTES),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                              invalid_row_handler=refuse),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False, null_values=[]))

    try:
        return parse(True)
    except pa.ArrowInvalid as exc:
        if invalid:
            if invalid[0][0] is None:  # the row number is known only when read in order
                invalid.clear()
                with contextlib.suppress(pa.ArrowInvalid):
                    parse(False)
            number, expected, actual = invalid[0]
            where = f"row {number - 1}" if number is not None else "a row"
            raise ReadError(f"{where} has {actual} field{'s' * (actual != 1)}; the header has "
                            f"{expected}") from None
        raise ReadError(_arrow_reason(str(exc), names)) from None


def _arrow_reason(message: str, names: list[str]) -> str:
    """Arrow's CSV error without the text of the row it may quote."""
    if "UTF8" in message or "UTF-8" in message:
        column = message.partition("CSV column #")[2].partition(":")[0]
        where = f"column {int(column) + 1}" if column.isdigit() else "a column"
        return f"{where} is not UTF-8 text"
    if "straddl" in message or "block" in message:
        return f"a row is longer than {4 * MAX_LINE_BYTES:,} bytes"
    return "not valid CSV"


# -- Parquet -------------------------------------------------------------------------------


def parquet_table(data: bytes | Path) -> pa.Table:
    """Parquet bytes (or a file) as an Arrow table of plain columns.

    The column count is read from the file's footer before any data. Decimal
    columns become float64; nested and binary columns are refused by name.
    """
    # Imported here: the Parquet reader costs about 5 MB that a CSV-only run never needs.
    import pyarrow.parquet as pq

    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        handle = pq.ParquetFile(source)
        width = len(handle.schema_arrow)
        if width > MAX_COLUMNS:
            raise ReadError(f"the file has {width:,} columns; at most {MAX_COLUMNS:,} are "
                            "allowed")
        table = handle.read()
    except (pa.ArrowException, OSError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ReadError(first) from None
    return plain_columns(table)


def plain_columns(table: pa.Table) -> pa.Table:
    """The table with decimals as float64; a nested or binary column is a :class:`ReadError`."""
    if table.num_columns > MAX_COLUMNS:
        raise ReadError(f"the table has {table.num_columns:,} columns; at most "
                        f"{MAX_COLUMNS:,} are allowed")
    for index, field in enumerate(table.schema):
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
            table = table.set_column(index, field.name, table.column(index).cast(kind))
        if pa.types.is_nested(kind) or pa.types.is_binary(kind) or \
                pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
            raise ReadError(f"column '{field.name}' has type {kind}; expected plain values "
                            "(text, numbers, booleans, dates or times)")
        if pa.types.is_decimal(kind):
            table = table.set_column(index, field.name, table.column(index).cast(pa.float64()))
    return table


def read_arrow(data: bytes, name: str) -> pa.Table:
    """The bytes of a file called ``name`` (its extension gives the format) as Arrow."""
    form = table_format(name)
    if form.parquet:
        return parquet_table(data)
    if form.gzipped:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ReadError(f"not gzip ({type(exc).__name__})") from None
    return csv_table(data, form.delimiter)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as a data frame (text stays text; dates become datetimes)."""
    return table.to_pandas()


def read_frame(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """A file, or a file's bytes named ``name``, as a data frame within the limits."""
    if isinstance(source, bytes):
        if name is None:
            raise ReadError("the file name is needed to tell CSV from Parquet")
        return to_frame(read_arrow(source, name))
    path = Path(source)
    form = table_format(path.name)
    if form.parquet:
        return to_frame(parquet_table(path))
    return to_frame(csv_table(file_bytes(path, form), form.delimiter))


# -- numbers -------------------------------------------------------------------------------


def parse_numbers(raw: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_],
                                           NDArray[np.bool_]]:
    """A column's values as floats, its blank cells and its cells that are not numbers.

    Text cells must match :data:`NUMBER_PATTERN`; numeric and boolean columns
    are taken as they are. Blank and non-number cells are NaN in the values.
    A column of another type (dates, for example) is a :class:`ReadError`.
    """
    if pd.api.types.is_bool_dtype(raw) or (pd.api.types.is_numeric_dtype(raw)
                                           and not pd.api.types.is_object_dtype(raw)):
        values = np.array(raw.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        blank = np.isnan(values) & raw.isna().to_numpy(dtype=bool)
        return values, blank, np.zeros(len(raw), dtype=bool)
    if not (pd.api.types.is_string_dtype(raw) or pd.api.types.is_object_dtype(raw)):
        raise ReadError(f"has type {raw.dtype}; expected numbers")
    if pd.api.types.is_object_dtype(raw) and not pd.api.types.is_string_dtype(
            raw.dropna()):
        # Python objects (frames built by hand): numbers count as numbers, text is parsed.
        numeric = raw.map(lambda v: isinstance(v, int | float | np.number)
                          and not isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
        values, blank, bad = parse_numbers(raw.where(~numeric).astype("str").where(
            raw.notna() & ~numeric))
        values[numeric] = raw[numeric].to_numpy(dtype=float)
        return values, blank & ~numeric, bad & ~numeric
    text = raw.astype("str")
    blank = (raw.isna() | (text.str.strip() == "")).to_numpy(dtype=bool)
    good = text.str.fullmatch(NUMBER_PATTERN).fillna(False).to_numpy(dtype=bool)
    values = np.array(pd.to_numeric(text.where(good), errors="coerce"), dtype=float)
    return values, blank, ~good & ~blank
