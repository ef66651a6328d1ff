"""Tests of loading and checking input files with DuckDB (attribution.duckdb_io)."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from attribution.duckdb_io import check_names, connect, load_table, open_table
from attribution.errors import InputError
from attribution.journeys import build_journeys


def load(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> int:
    """Rows of a file loaded and checked as the journey builder loads it."""
    with connect("1GB", None, 1) as con:
        table = open_table(con, path, required, optional)
        extra = "" if "value" in table.columns or "value" not in optional \
            else ", CAST(0 AS DOUBLE) AS value"
        return load_table(con, table, "loaded", extra)


def write(path: Path, text: str) -> Path:
    """A text file holding ``text``."""
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("cell", "row"),
    [("infinity", 2), ("-infinity", 3), ("Infinity", 2), (" infinity ", 3)],
)
def test_infinite_timestamps_in_csv_are_refused(tmp_path: Path, cell: str, row: int) -> None:
    """DuckDB reads infinity as a timestamp; the loader refuses it naming file, column and row."""
    lines = ["user_id,timestamp,channel", "u1,2024-01-01,search",
             "u1,2024-01-02,email", "u2,2024-01-03,search"]
    lines[row] = f"u9,{cell},email"
    path = write(tmp_path / "touches.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: row {row}: timestamp is "
                                         rf"not a finite date/time \('{cell}'\)$"):
        load(path, ("user_id", "timestamp", "channel"))


def test_typed_infinite_timestamps_in_parquet_are_refused(tmp_path: Path) -> None:
    """A Parquet TIMESTAMP column holding -infinity is refused at its position in the file."""
    path = tmp_path / "conversions.parquet"
    with duckdb.connect() as con:
        con.execute(f"""COPY (SELECT * FROM (VALUES
            ('u1', TIMESTAMP '2024-01-01 10:00:00', 2.0),
            ('u2', TIMESTAMP '2024-01-02 11:00:00', 3.0),
            ('u3', TIMESTAMP '-infinity', 4.0),
            ('u4', TIMESTAMP 'infinity', 5.0)) AS t(user_id, timestamp, value))
            TO '{path}' (FORMAT parquet)""")
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: row 3: timestamp is not a "
                                         r"finite date/time \('-infinity'\); 1 more rows have a "
                                         r"bad timestamp$"):
        load(path, ("user_id", "timestamp"), ("value",))


def test_finite_timestamps_load_and_other_problems_keep_their_message(tmp_path: Path) -> None:
    """Finite timestamps load; empty and unparseable ones are still named as before."""
    good = write(tmp_path / "good.csv", "user_id,timestamp\nu1,2024-01-01\nu2,1900-02-03T04:05\n")
    assert load(good, ("user_id", "timestamp"), ("value",)) == 2
    bad = write(tmp_path / "bad.csv", "user_id,timestamp\nu1,2024-01-01\nu2,\nu3,soon\n")
    with pytest.raises(InputError, match=r"row 2: timestamp is empty; 1 more rows have a bad "
                                         r"timestamp$"):
        load(bad, ("user_id", "timestamp"), ("value",))
    unparsed = write(tmp_path / "unparsed.csv", "user_id,timestamp\nu1,2024-01-01\nu3,soon\n")
    with pytest.raises(InputError, match=r"row 2: timestamp is not an ISO date/time \('soon'\)$"):
        load(unparsed, ("user_id", "timestamp"), ("value",))


def test_journey_builder_refuses_infinite_conversion_times(tmp_path: Path) -> None:
    """The journey builder stops at an infinite conversion time and writes no output."""
    touches = write(tmp_path / "t.csv", "user_id,timestamp,channel\nu1,2024-01-01,search\n")
    conversions = write(tmp_path / "c.csv", "user_id,timestamp,value\nu1,2024-01-02,1\n"
                                            "u1,infinity,2\n")
    with pytest.raises(InputError, match=r"c\.csv: row 2: timestamp is not a finite date/time "
                                         r"\('infinity'\)$"):
        build_journeys(touches, conversions, tmp_path / "paths.csv")
    assert not (tmp_path / "paths.csv").exists()


# -- bytes and tables in memory, personal data, limits -------------------------------------

TOUCHES_CSV = b"user_id,timestamp,channel\nu1,2024-01-01,search\nu2,2024-01-02,email\n"


def load_source(source: object, name: str | None = None, *, quote_values: bool = True,
                required: tuple[str, ...] = ("user_id", "timestamp", "channel"),
                optional: tuple[str, ...] = ()) -> int:
    """Rows of an in-memory input loaded and checked as the service loads uploads."""
    with connect("1GB", None, 1, spill=False) as con:
        table = open_table(con, source, required, optional, name=name,  # type: ignore[arg-type]
                           quote_values=quote_values)
        extra = "" if "value" in table.columns or "value" not in optional \
            else ", CAST(0 AS DOUBLE) AS value"
        return load_table(con, table, "loaded", extra)


def test_bytes_frames_and_arrow_tables_load_like_files(tmp_path: Path) -> None:
    """CSV bytes, Parquet bytes, a pandas frame and an Arrow table load the same rows."""
    path = write(tmp_path / "touches.csv", TOUCHES_CSV.decode())
    frame = pd.read_csv(path, dtype=str)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    assert load(path, ("user_id", "timestamp", "channel")) == 2
    assert load_source(TOUCHES_CSV, "touches.csv") == 2
    assert load_source(buffer.getvalue(), "touches.parquet") == 2
    assert load_source(frame) == 2
    assert load_source(pa.Table.from_pandas(frame)) == 2


def test_a_connection_without_spill_has_no_temporary_directory() -> None:
    """spill=False gives DuckDB an empty temp_directory, so it never writes to disk."""
    with connect("1GB", None, 1, spill=False) as con:
        assert con.execute("SELECT current_setting('temp_directory')").fetchone() == ("",)


@pytest.mark.parametrize(("body", "message"), [
    (b"user_id,timestamp,channel\nuser-SECRET-1,2024-01-01,search\n"
     b"user-SECRET-2,user-SECRET-2,email\n",
     r"^touches\.csv: row 2: timestamp is not an ISO date/time$"),
    (b"user_id,timestamp,channel\nuser-SECRET-1,2024-01-01,search\n"
     b"user-SECRET-2,10000-01-01,email\n",
     r"^touches\.csv: row 2: timestamp is outside the years 1 to 9999$"),
    (b"user-SECRET-1,2024-01-01,search\n",
     r"^touches\.csv: missing column 'user_id'; columns found: 3, not shown$"),
    (b"user_id,timestamp,channel\nuser-SECRET-1,2024-01-01,search,user-SECRET-9\n",
     r"^touches\.csv: cannot be read \(row 1 has 4 fields; the header has 3\)$"),
])
def test_personal_inputs_are_named_without_values(body: bytes, message: str) -> None:
    """With quote_values=False a message names the row and column but quotes no value."""
    with pytest.raises(InputError, match=message) as error:
        load_source(body, "touches.csv", quote_values=False)
    assert "SECRET" not in str(error.value)


@pytest.mark.parametrize(("cell", "problem"), [
    ("10000-01-01", "timestamp is outside the years 1 to 9999"),
    ("9999-12-31T23:59:59", None),
    ("0001-01-01", None),
])
def test_timestamps_must_fall_in_the_years_1_to_9999(tmp_path: Path, cell: str,
                                                     problem: str | None) -> None:
    """A timestamp past year 9999 is refused naming row and column; the ends are kept."""
    path = write(tmp_path / "c.csv", f"user_id,timestamp\nu1,2024-01-01\nu2,{cell}\n")
    if problem is None:
        assert load(path, ("user_id", "timestamp"), ("value",)) == 2
        return
    with pytest.raises(InputError, match=rf"row 2: {problem} \('{cell}'\)$"):
        load(path, ("user_id", "timestamp"), ("value",))


@pytest.mark.parametrize("cell", ["1e3 ", "12abc", "0x10", "1_000", " 12"])
def test_value_text_outside_the_number_grammar_is_refused(tmp_path: Path, cell: str) -> None:
    """DuckDB would cast some of these; the loader refuses them as the other readers do."""
    path = write(tmp_path / "c.csv", f'user_id,timestamp,value\nu1,2024-01-01,1e3\n'
                                     f'u2,2024-01-02,"{cell}"\n')
    with pytest.raises(InputError, match=r"row 2: value is not a number"):
        load(path, ("user_id", "timestamp"), ("value",))


def test_control_characters_in_channels_are_refused() -> None:
    """A channel with a NUL is refused naming the row and the column, checked per name."""
    body = b"user_id,timestamp,channel\nu1,2024-01-01,search\nu2,2024-01-02,e\x00mail\n"
    with connect("1GB", None, 1, spill=False) as con:
        table = open_table(con, body, ("user_id", "timestamp", "channel"), name="touches.csv",
                           quote_values=False)
        load_table(con, table, "loaded")
        with pytest.raises(InputError, match=r"^touches\.csv: row 2: channel has a control "):
            check_names(con, table, "(SELECT DISTINCT channel FROM loaded)")
    with pytest.raises(InputError, match=r"^touches\.csv: row 2: channel has a control "):
        build_journeys(body, b"user_id,timestamp\nu1,2024-01-02\n", "unused.csv",
                       names=("touches.csv", "conversions.csv"))


def test_nested_parquet_columns_are_refused_by_name() -> None:
    """A Parquet user_id column of lists is refused naming the column."""
    buffer = io.BytesIO()
    pq.write_table(pa.table({"user_id": [["a"]], "timestamp": ["2024-01-01"],
                             "channel": ["x"]}), buffer)
    with pytest.raises(InputError, match=r"^touches\.parquet: cannot be read \(column "
                                         r"'user_id' has type list"):
        load_source(buffer.getvalue(), "touches.parquet")


def test_a_wide_csv_file_is_refused_from_its_header(tmp_path: Path) -> None:
    """A 100,000-column touches file is refused before DuckDB scans it."""
    path = tmp_path / "t.csv"
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"t\.csv: cannot be read \(the header has 100,000"):
        load(path, ("user_id", "timestamp", "channel"))
    assert time.perf_counter() - start < 0.5
