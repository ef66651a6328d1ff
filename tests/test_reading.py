"""Tests of the shared table reader: limits, CSV strictness, Parquet types, the number grammar."""

from __future__ import annotations

import io
import re
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendwise.reading import (
    MAX_COLUMNS,
    MAX_LINE_BYTES,
    NUMBER_PATTERN,
    ReadError,
    csv_table,
    parse_numbers,
    read_arrow,
    read_frame,
)


def parquet_bytes(table: pa.Table) -> bytes:
    """A table written as Parquet, in memory."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def wide_csv(columns: int) -> bytes:
    """A CSV file with ``columns`` columns and one row."""
    header = ",".join(f"c{i}" for i in range(columns))
    return f"{header}\n{','.join('1' * columns)}\n".encode()


def test_a_100000_column_csv_is_refused_at_once():
    """A 100,000-column CSV is refused from its header, well under a second."""
    data = wide_csv(100_000)
    start = time.perf_counter()
    with pytest.raises(ReadError, match=r"^the header has 100,000 columns; at most 1,000"):
        read_arrow(data, "spend.csv")
    assert time.perf_counter() - start < 0.5


def test_the_column_limit_is_inclusive():
    """A file of exactly MAX_COLUMNS columns is read; one more is refused."""
    assert csv_table(wide_csv(MAX_COLUMNS)).num_columns == MAX_COLUMNS
    with pytest.raises(ReadError, match="1,001 columns"):
        csv_table(wide_csv(MAX_COLUMNS + 1))


def test_a_line_over_the_limit_is_refused_by_number():
    """A line longer than MAX_LINE_BYTES is refused naming the line, without its text."""
    data = b"a,b\n1,2\n3," + b"x" * MAX_LINE_BYTES + b"\n"
    with pytest.raises(ReadError, match=r"^line 3 is longer than 1,048,576 bytes") as error:
        csv_table(data)
    assert "xxx" not in str(error.value)
    with pytest.raises(ReadError, match=r"^line 1 is longer"):
        csv_table(b"a" * (MAX_LINE_BYTES + 2))


@pytest.mark.parametrize(("data", "message"), [
    (b"a,b\n1,2\nsecret-id,2,3\n", r"^row 2 has 3 fields; the header has 2$"),
    (b"a,b\n1,2\nsecret-id\n", r"^row 2 has 1 field; the header has 2$"),
    (b'a,b\n1,"secret-id\n', r"^a quoted value is not closed"),
    (b"a,b\n1,secret-\xff\n", r"^column 2 is not UTF-8 text$"),
    (b"a,A\n1,2\n", r"^two columns have the same name"),
    (b"", r"^the file is empty"),
])
def test_malformed_csv_is_named_without_its_content(data, message):
    """Rows of the wrong width, open quotes, bad UTF-8 and duplicate names never quote data."""
    with pytest.raises(ReadError, match=message) as error:
        csv_table(data)
    assert "secret" not in str(error.value)


def test_csv_keeps_text_as_text():
    """Every cell is text: blanks stay empty, nothing is guessed as a number or missing."""
    table = csv_table(b"a,b\n007,\nNA,\"x\ny\"\n")
    assert table.to_pydict() == {"a": ["007", "NA"], "b": ["", "x\ny"]}


@pytest.mark.parametrize("column", [
    pa.array([["a", "b"], ["c"]]),
    pa.array([{"x": 1}, {"x": 2}]),
    pa.array([b"a", b"b"]),
])
def test_nested_and_binary_parquet_columns_are_refused_by_name(column):
    """A list, struct or binary column is refused, naming the column."""
    data = parquet_bytes(pa.table({"channel": column, "spend": [1.0, 2.0]}))
    with pytest.raises(ReadError, match=r"^column 'channel' has type .*; expected plain"):
        read_arrow(data, "spend.parquet")


def test_parquet_decimals_and_dictionaries_become_plain():
    """Decimal columns are read as floats and dictionary columns as their values."""
    table = pa.table({"spend": pa.array([1, 2], pa.int32()).cast(pa.decimal128(12, 2)),
                      "channel": pa.array(["a", "b"]).dictionary_encode()})
    read = read_arrow(parquet_bytes(table), "x.pq")
    assert read.schema.field("spend").type == pa.float64()
    assert read.column("channel").to_pylist() == ["a", "b"]


def test_bytes_and_files_read_alike(tmp_path):
    """A file and its bytes give the same frame, for CSV, gzipped CSV, TSV and Parquet."""
    frame = pd.DataFrame({"date": ["2024-01-01"], "spend": ["1.5"]})
    for name, write in [("t.csv", lambda p: frame.to_csv(p, index=False)),
                        ("t.csv.gz", lambda p: frame.to_csv(p, index=False, compression="gzip")),
                        ("t.tsv", lambda p: frame.to_csv(p, index=False, sep="\t")),
                        ("t.parquet", lambda p: frame.to_parquet(p, index=False))]:
        path = tmp_path / name
        write(path)
        pd.testing.assert_frame_equal(read_frame(path.read_bytes(), name), frame)
        pd.testing.assert_frame_equal(read_frame(path), frame)


GOOD_NUMBERS = {"12": 12.0, "-0.5": -0.5, ".5": 0.5, "5.": 5.0, "+3": 3.0, "1e3": 1000.0,
                "2.5E-4": 2.5e-4}
BAD_NUMBERS = ["1e3 ", " 12", "12abc", "0x10", "1_000", "1,000", "١٢", "１２", "e3", "1e",
               "--1", "1.2.3", "12 EUR"]


def test_the_number_grammar():
    """Plain and scientific decimals are numbers; blanks, units, hex and separators are not."""
    raw = pd.Series([*GOOD_NUMBERS, *BAD_NUMBERS, "", "  "], dtype="str")
    values, blank, bad = parse_numbers(raw)
    n = len(GOOD_NUMBERS)
    np.testing.assert_array_equal(values[:n], list(GOOD_NUMBERS.values()))
    assert not bad[:n].any() and bad[n:-2].all() and blank[-2:].all() and not blank[:-2].any()
    specials, _, flagged = parse_numbers(pd.Series(["inf", "-Infinity", "NaN"], dtype="str"))
    assert not flagged.any() and np.isinf(specials[:2]).all() and np.isnan(specials[2])


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_as_python_writes_it_is_a_number(x):
    """The shortest round-trip text of any finite float reads back as that float."""
    values, _, bad = parse_numbers(pd.Series([repr(x)], dtype="str"))
    assert not bad[0] and values[0] == x


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789.eE+-x_, abc\t", min_size=1, max_size=8))
def test_text_is_a_number_only_if_it_matches_the_grammar(text):
    """The reader's verdict on any text agrees with the documented pattern, never coerces."""
    values, blank, bad = parse_numbers(pd.Series([text], dtype="str"))
    if blank[0]:
        assert not text.strip()
    elif re.fullmatch(NUMBER_PATTERN, text):
        assert not bad[0] and values[0] == float(text)
    else:
        assert bad[0] and np.isnan(values[0])


def test_columns_of_other_types_are_not_numbers():
    """A date column where numbers belong is a ReadError naming its type."""
    with pytest.raises(ReadError, match=r"has type datetime64.*expected numbers"):
        parse_numbers(pd.Series(pd.to_datetime(["2024-01-01"])))
