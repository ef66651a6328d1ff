"""Tests of loading and checking input files with DuckDB (attribution.duckdb_io)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from attribution.duckdb_io import connect, load_table, open_table
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
