"""Tests of the path table and of input validation."""

from __future__ import annotations

import io
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

from attribution.errors import InputError
from attribution.paths import PathTable
from tests.strategies import path_tables


def frame(**columns):
    """A data frame of strings, as a CSV is read."""
    return pd.DataFrame({k: [str(x) for x in v] for k, v in columns.items()})


def test_duplicate_paths_are_summed():
    """Rows with the same path are merged and their counts added."""
    table = PathTable.from_frame(frame(path=["a > b", "a>b", "b"], conversions=[1, 2, 0],
                                       nulls=[3, 4, 5], value=[10, 20, 0]))
    assert table.n_rows == 2
    assert table.labels == ("a > b", "b")
    np.testing.assert_array_equal(table.conversions, [3, 0])
    np.testing.assert_array_equal(table.value, [30, 0])


def test_channelattribution_column_names_are_accepted():
    """total_conversions, total_null and total_conversion_value are read as aliases."""
    table = PathTable.from_frame(frame(path=["a"], total_conversions=[2], total_null=[1],
                                       total_conversion_value=[9]))
    assert (table.total_conversions, table.total_value) == (2.0, 9.0)


def test_unicode_channel_names():
    """Arbitrary UTF-8 channel names survive reading and labelling."""
    table = PathTable.from_frame(frame(path=["微信朋友圈 > 抖音"], conversions=[1], nulls=[0]))
    assert table.channels == ("微信朋友圈", "抖音")
    assert table.labels == ("微信朋友圈 > 抖音",)


def test_custom_separator():
    """A configurable separator splits channel names."""
    table = PathTable.from_frame(frame(path=["a|b|a"], conversions=[1], nulls=[0]), separator="|")
    assert table.path(0) == ("a", "b", "a")


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"path": ["a"], "nulls": [1]}, "missing column 'conversions'"),
        ({"path": ["a", "b"], "conversions": [1, "x"], "nulls": [0, 1]},
         "row 2: conversions is not a number"),
        ({"path": ["a"], "conversions": [-1], "nulls": [0]}, "row 1: conversions is negative"),
        ({"path": ["a"], "conversions": ["nan"], "nulls": [0]},
         "row 1: conversions is not a number"),
        ({"path": ["a"], "conversions": ["inf"], "nulls": [0]}, "row 1: conversions is infinite"),
        ({"path": ["a"], "conversions": [""], "nulls": [0]}, "row 1: conversions is empty"),
        ({"path": ["", "a"], "conversions": [1, 1], "nulls": [0, 0]}, "row 1: path is empty"),
        ({"path": ["a >  > b"], "conversions": [1], "nulls": [0]},
         "row 1: path 'a >  > b' has an empty channel name at position 2"),
        ({"path": ["a > "], "conversions": [1], "nulls": [0]}, "empty channel name at position 2"),
        ({"path": ["a", "b"], "conversions": [0, 0], "nulls": [3, 4]}, "no conversions"),
        ({"path": ["a"], "conversions": [0], "nulls": [1], "value": [5]},
         "row 1: value is positive but conversions is 0"),
        ({"path": ["a"], "conversions": [1], "nulls": [0], "value": [-5]},
         "row 1: value is negative"),
    ],
)
def test_bad_input_names_row_and_field(columns, message):
    """Each kind of bad input raises InputError with the row and field in one line."""
    with pytest.raises(InputError, match=message) as info:
        PathTable.from_frame(frame(**columns))
    assert "\n" not in str(info.value)


def test_error_counts_further_rows():
    """The message says how many more rows share the first problem."""
    with pytest.raises(InputError, match="2 more rows have this problem"):
        PathTable.from_frame(frame(path=["a", "b", "c"], conversions=[-1, -2, -3],
                                   nulls=[0, 0, 0]))


def test_touch_days_must_match_the_path():
    """touch_days with a different number of values than touches is refused."""
    with pytest.raises(InputError, match="touch_days has 1 values but the path has 2"):
        PathTable.from_frame(frame(path=["a > b"], conversions=[1], nulls=[0],
                                   touch_days=["3"]))


def test_empty_rows_are_dropped():
    """Rows with neither conversions nor nulls carry no journey and are left out."""
    table = PathTable.from_frame(frame(path=["a", "b"], conversions=[1, 0], nulls=[0, 0]))
    assert table.channels == ("a",)


def test_collapse_repeats_keeps_last_touch_times():
    """Collapsing a run of one channel keeps the touch nearest the outcome."""
    table = PathTable.from_sequences([["a", "a", "b", "b", "a"]], [1], [0],
                                     touch_days=[[5, 4, 3, 2, 1]])
    collapsed = table.collapse_repeats()
    assert collapsed.path(0) == ("a", "b", "a")
    np.testing.assert_array_equal(collapsed.touch_days, [4, 2, 1])


@settings(max_examples=50, deadline=None)
@given(path_tables())
def test_fingerprint_ignores_row_order_and_splitting(paths):
    """Reordering rows or splitting a row in two keeps the fingerprint."""
    rows = [list(paths.path(r)) for r in range(paths.n_rows)]
    reordered = PathTable.from_sequences(rows[::-1], paths.conversions[::-1],
                                         paths.nulls[::-1], paths.value[::-1])
    assert reordered.fingerprint == paths.fingerprint
    half = np.eye(1, paths.n_rows)[0] * 0.5  # move half of row 0's counts to a copy of it
    split = PathTable.from_sequences(
        rows + rows[:1],
        [*(paths.conversions * (1 - half)), paths.conversions[0] * 0.5],
        [*(paths.nulls * (1 - half)), paths.nulls[0] * 0.5],
        [*(paths.value * (1 - half)), paths.value[0] * 0.5],
    )
    assert split.fingerprint == paths.fingerprint


def test_fingerprint_changes_with_counts(small_paths):
    """Changing one count changes the fingerprint."""
    changed = small_paths.with_counts(small_paths.conversions + np.eye(1, small_paths.n_rows)[0],
                                      small_paths.nulls, small_paths.value)
    assert changed.fingerprint != small_paths.fingerprint


def test_csv_and_parquet_read_alike(tmp_path, small_paths):
    """The same table written as CSV and as Parquet reads back identically."""
    data = small_paths.to_frame()
    data.to_csv(tmp_path / "p.csv", index=False)
    data.to_parquet(tmp_path / "p.parquet", index=False)
    a = PathTable.read(tmp_path / "p.csv")
    b = PathTable.read(tmp_path / "p.parquet")
    assert a.fingerprint == b.fingerprint == small_paths.fingerprint


def test_unknown_file_type(tmp_path):
    """A file that is neither CSV nor Parquet is refused with the allowed types."""
    target = tmp_path / "paths.xlsx"
    target.write_text("x")
    with pytest.raises(InputError, match="unknown file type"):
        PathTable.read(target)


# -- reading bytes and frames, limits and numbers ----------------------------------------


def test_bytes_frames_and_files_read_alike(tmp_path, small_paths):
    """CSV bytes, Parquet bytes, a frame and the files give the same table."""
    data = small_paths.to_frame()
    data.to_csv(tmp_path / "p.csv", index=False)
    data.to_parquet(tmp_path / "p.parquet", index=False)
    fingerprints = {
        PathTable.read((tmp_path / "p.csv").read_bytes(), name="paths.csv").fingerprint,
        PathTable.read((tmp_path / "p.parquet").read_bytes(), name="paths.parquet").fingerprint,
        PathTable.read(data).fingerprint,
        PathTable.read(tmp_path / "p.csv").fingerprint,
    }
    assert fingerprints == {small_paths.fingerprint}


def test_a_wide_csv_is_refused_before_it_is_parsed():
    """A 100,000-column upload is refused in well under a second, naming the file."""
    header = "path,conversions,nulls," + ",".join(f"x{i}" for i in range(100_000))
    data = (header + "\n" + "a,1,0" + ",0" * 100_000 + "\n").encode()
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"^paths\.csv: cannot be read \(the header has "
                                         r"100,003 columns"):
        PathTable.read(data, name="paths.csv")
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("text", ["12abc", "0x10", "1e3 ", " 12", "1_000", "1,5"])
def test_text_is_never_coerced_to_a_number(text):
    """Text outside the number grammar is named as not a number, with its row."""
    with pytest.raises(InputError, match=r"^row 2: conversions is not a number"):
        PathTable.from_frame(frame(path=["a", "b"], conversions=["1", text], nulls=[0, 0]))


def test_scientific_notation_is_a_number():
    """1e3 and 2.5E-1 are numbers, as the grammar documents."""
    table = PathTable.from_frame(frame(path=["a", "b"], conversions=["1e3", "2.5E-1"],
                                       nulls=[0, 0]))
    assert table.total_conversions == 1000.25


@pytest.mark.parametrize(("columns", "message"), [
    ({"conversions": ["1e308", "1e308"], "nulls": [0, 0]}, r"^column 'conversions': the values"),
    ({"conversions": ["1", "1"], "nulls": ["1e308", "1e308"]}, r"^column 'nulls': the values"),
    ({"conversions": ["1e308", "1"], "nulls": ["1e308", "0"]},
     r"^columns 'conversions' and 'nulls': the journeys add up"),
])
def test_counts_adding_up_to_infinity_are_refused(columns, message):
    """Finite counts whose total overflows are an InputError naming the column."""
    with pytest.raises(InputError, match=message):
        PathTable.from_frame(frame(path=["a", "a"], **columns))


@pytest.mark.parametrize("name", ["a\x00b", "\x1bx", "x\x7f"])
def test_control_characters_in_channel_names_are_refused(name):
    """NUL, ESC or DEL in a channel name is refused naming the row, not the name."""
    with pytest.raises(InputError, match=r"^row 2: path has a control character") as error:
        PathTable.from_frame(frame(path=["a", f"b > {name}"], conversions=[1, 1], nulls=[0, 0]))
    assert name not in str(error.value)


def test_a_parquet_list_column_is_refused_by_name():
    """A Parquet path column of lists is refused naming the column."""
    buffer = io.BytesIO()
    pq.write_table(pa.table({"path": [["a", "b"]], "conversions": [1], "nulls": [0]}), buffer)
    with pytest.raises(InputError, match=r"^paths\.parquet: cannot be read \(column 'path' has "
                                         r"type list"):
        PathTable.read(buffer.getvalue(), name="paths.parquet")


def test_a_frame_of_lists_is_refused_by_name():
    """A frame whose path column holds lists is refused naming the column."""
    with pytest.raises(InputError, match=r"^column 'path' holds mixed values; expected text"):
        PathTable.from_frame(pd.DataFrame({"path": [["a"], "b"], "conversions": [1, 1],
                                           "nulls": [0, 0]}))


def test_validation_does_not_import_the_path_table():
    """attribution.validation imports without attribution.paths: there is no import circle."""
    code = ("import sys, attribution.validation; "
            "sys.exit('attribution.paths' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
