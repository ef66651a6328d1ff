"""Tests of building journeys and paths from raw touchpoints (attribution.journeys).

The expected journeys below are derived by hand from the rules in the module
docstring, with the default 30-day look-back:

user a  touches 01-01 search, 01-05 email, 01-10 12:00 display, 01-15 social,
        02-20 search, 03-01 email, 03-02 display; converts 01-10 12:00 (10) and 02-25 (5)
        -> search > email > display (9.5, 5.5, 0 days; the display touch is at the
           conversion time, so it counts),
        -> search (5 days; social on 01-15 is after the first conversion but more
           than 30 days before 02-25),
        -> email > display, non-converting, ending 03-02 (1, 0 days).
user b  touches 01-03 08:00 social and email (a tie: ordered by name), 01-04 08:00
        search; converts twice at 01-04 08:00 (20 and 30)
        -> email > social > search, 2 conversions worth 50.
user c  converts on 01-07 without any touch -> left out.
user d  never converts; touches 01-01 display, 02-15 search, 02-20 微信朋友圈
        -> search > 微信朋友圈, non-converting (display is 50 days before the end).
user e  touch 01-01 email, converts 03-01 (3), 60 days later -> left out; with a
        60-day look-back the touch is exactly on the window's edge and counts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from attribution.errors import InputError
from attribution.journeys import JourneySummary, build_journeys, journey_tables
from attribution.paths import PathTable
from attribution.validation import split_path

TOUCHES = [
    ("a", "2024-01-01", "search"),
    ("a", "2024-01-05", "email"),
    ("a", "2024-01-10 12:00:00", "display"),
    ("a", "2024-01-15", "social"),
    ("a", "2024-02-20", "search"),
    ("a", "2024-03-01", "email"),
    ("a", "2024-03-02", "display"),
    ("b", "2024-01-03T08:00:00", "social"),
    ("b", "2024-01-03T08:00:00", "email"),
    ("b", "2024-01-04T08:00:00", "search"),
    ("d", "2024-01-01", "display"),
    ("d", "2024-02-15", "search"),
    ("d", "2024-02-20", "微信朋友圈"),
    ("e", "2024-01-01", "email"),
]
CONVERSIONS = [
    ("a", "2024-01-10 12:00:00", "10"),
    ("a", "2024-02-25", "5"),
    ("b", "2024-01-04T08:00:00", "20"),
    ("b", "2024-01-04T08:00:00", "30"),
    ("c", "2024-01-07", "7"),
    ("e", "2024-03-01", "3"),
]
EXPECTED_PATHS = pd.DataFrame(
    {
        "path": ["email > display", "email > social > search", "search",
                 "search > email > display", "search > 微信朋友圈"],
        "conversions": [0, 2, 1, 1, 0],
        "nulls": [1, 0, 0, 0, 1],
        "value": [0.0, 50.0, 5.0, 10.0, 0.0],
    }
)
EXPECTED_JOURNEYS = pd.DataFrame(
    {
        "journey_id": [1, 2, 3, 4, 5],
        "user_id": ["a", "a", "a", "b", "d"],
        "journey_end": pd.to_datetime(["2024-01-10 12:00", "2024-02-25", "2024-03-02",
                                       "2024-01-04 08:00", "2024-02-20"], format="ISO8601"),
        "path": ["search > email > display", "search", "email > display",
                 "email > social > search", "search > 微信朋友圈"],
        "touch_days": ["9.5 > 5.5 > 0.0", "5.0", "1.0 > 0.0", "1.0 > 1.0 > 0.0", "5.0 > 0.0"],
        "conversions": [1, 1, 0, 2, 0],
        "nulls": [0, 0, 1, 0, 1],
        "value": [10.0, 5.0, 0.0, 50.0, 0.0],
    }
)


TOUCH_COLUMNS = ["user_id", "timestamp", "channel"]
CONVERSION_COLUMNS = ["user_id", "timestamp", "value"]


def write_csv(path: Path, header: str, rows: list[tuple[str, ...]]) -> Path:
    """Write rows as a CSV file (values are not quoted, so keep commas out)."""
    path.write_text(header + "\n" + "".join(",".join(row) + "\n" for row in rows),
                    encoding="utf-8")
    return path


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    """Write a data frame as a Parquet file."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """The hand-built touch and conversion tables as CSV files."""
    return (write_csv(tmp_path / "touches.csv", "user_id,timestamp,channel", TOUCHES),
            write_csv(tmp_path / "conversions.csv", "user_id,timestamp,value", CONVERSIONS))


def read_output(path: Path) -> pd.DataFrame:
    """An output file as a data frame, CSV or Parquet."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    frame = pd.read_csv(path, keep_default_na=False)
    if "journey_end" in frame:
        frame["journey_end"] = pd.to_datetime(frame["journey_end"])
    return frame


def test_paths_follow_the_journey_rules(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """The aggregated paths of the hand-built case match the hand-derived ones."""
    summary = build_journeys(*inputs, tmp_path / "paths.csv")
    pd.testing.assert_frame_equal(read_output(tmp_path / "paths.csv"), EXPECTED_PATHS)
    facts = summary.to_dict()
    assert isinstance(summary, JourneySummary) and facts.pop("seconds") >= 0
    assert facts == {"touch_rows": 14, "conversion_rows": 6, "journeys": 5,
                     "converting_journeys": 3, "distinct_paths": 5,
                     "conversions_without_touches": 2}


def test_journey_rows_carry_ids_ends_and_touch_days(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    """The journey file has one hand-derived row per journey, ordered by user and end."""
    build_journeys(*inputs, tmp_path / "paths.csv", journeys_output=tmp_path / "journeys.csv")
    journeys = read_output(tmp_path / "journeys.csv")
    pd.testing.assert_frame_equal(journeys, EXPECTED_JOURNEYS, check_dtype=False)


def test_parquet_inputs_and_outputs_give_the_same_journeys(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    """Parquet inputs with timestamp and float columns give the same paths and journeys."""
    touches = pd.DataFrame(TOUCHES, columns=["user_id", "timestamp", "channel"])
    touches["timestamp"] = pd.to_datetime(touches["timestamp"], format="ISO8601")
    conversions = pd.DataFrame(CONVERSIONS, columns=["user_id", "timestamp", "value"])
    conversions["timestamp"] = pd.to_datetime(conversions["timestamp"], format="ISO8601")
    conversions["value"] = conversions["value"].astype(float)
    build_journeys(write_parquet(tmp_path / "t.parquet", touches),
                   write_parquet(tmp_path / "c.parquet", conversions),
                   tmp_path / "paths.parquet", journeys_output=tmp_path / "journeys.parquet")
    pd.testing.assert_frame_equal(read_output(tmp_path / "paths.parquet"), EXPECTED_PATHS)
    journeys = read_output(tmp_path / "journeys.parquet")
    pd.testing.assert_frame_equal(journeys, EXPECTED_JOURNEYS, check_dtype=False)


def test_outputs_round_trip_through_path_table(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """Both output files are valid inputs of PathTable.read, with the expected content."""
    build_journeys(*inputs, tmp_path / "paths.csv", journeys_output=tmp_path / "journeys.csv")
    paths = PathTable.read(tmp_path / "paths.csv")
    assert [" > ".join(paths.path(r)) for r in range(paths.n_rows)] == list(EXPECTED_PATHS.path)
    np.testing.assert_array_equal(paths.conversions, EXPECTED_PATHS.conversions)
    np.testing.assert_array_equal(paths.value, EXPECTED_PATHS.value)
    journeys = PathTable.read(tmp_path / "journeys.csv")
    assert journeys.journey_ids == ("1", "2", "3", "4", "5")
    assert journeys.touch_days is not None
    np.testing.assert_allclose(journeys.touch_days, [9.5, 5.5, 0, 5, 1, 0, 1, 1, 0, 5, 0])
    assert journeys.fingerprint != paths.fingerprint
    assert journeys.aggregated().fingerprint == paths.fingerprint


def test_longer_lookback_keeps_touches_on_the_window_edge(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    """With 60 days, e's touch exactly 60 days before its conversion and older touches count."""
    summary = build_journeys(*inputs, tmp_path / "paths.csv", lookback_days=60)
    paths = read_output(tmp_path / "paths.csv")
    assert dict(zip(paths.path, paths.conversions, strict=True)) == {
        "display > search > 微信朋友圈": 0, "email": 1, "email > display": 0,
        "email > social > search": 2, "search > email > display": 1, "social > search": 1,
    }
    assert summary.conversions_without_touches == 1


def test_short_fractional_lookback_cuts_within_a_day(inputs: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    """A half-day window keeps only touches at most 12 hours before each journey end."""
    build_journeys(*inputs, tmp_path / "paths.csv", lookback_days=0.5)
    paths = read_output(tmp_path / "paths.csv")
    assert list(paths.path) == ["display", "search", "微信朋友圈"]
    assert list(paths.conversions) == [1, 2, 0]
    assert list(paths.nulls) == [1, 0, 1]


def test_names_are_stripped_and_offsets_become_utc(tmp_path: Path) -> None:
    """User ids and channels lose surrounding white space; offsets are converted to UTC."""
    touches = write_csv(tmp_path / "t.csv", "User_ID,Timestamp,Channel", [
        (" u1 ", "2024-05-01T10:00:00+02:00", "\u3000Search\t"),
        ("u1", "2024-05-01 09:30:00", " Email "),
        ("u1", "2024-05-01T09:00:00Z", "Search"),
    ])
    conversions = write_csv(tmp_path / "c.csv", "user_id,timestamp", [("u1", "2024-05-01 09:15")])
    build_journeys(touches, conversions, tmp_path / "p.csv", journeys_output=tmp_path / "j.csv")
    journeys = pd.read_csv(tmp_path / "j.csv")
    assert list(journeys.path) == ["Search > Search", "Email"]
    assert list(journeys.touch_days) == ["0.052083 > 0.010417", "0.0"]
    assert list(journeys.conversions) == [1, 0]
    assert list(journeys.value) == [0.0, 0.0]


def test_distant_times_and_endless_lookback_use_wide_keys(tmp_path: Path) -> None:
    """Touches 2,000 years apart among 201 channels overflow 64-bit keys and still work."""
    others = [(f"x{i}", "2024-01-01", f"c{i:03d}") for i in range(200)]
    touches = write_csv(tmp_path / "t.csv", "user_id,timestamp,channel",
                        [("old", "0001-01-01", "ancient"), ("old", "2024-01-01", "c000"), *others])
    conversions = write_csv(tmp_path / "c.csv", "user_id,timestamp", [("old", "2024-01-02")])
    build_journeys(touches, conversions, tmp_path / "p.csv", journeys_output=tmp_path / "j.csv",
                   lookback_days=float("inf"))
    journeys = pd.read_csv(tmp_path / "j.csv", keep_default_na=False)
    old = journeys[journeys.user_id == "old"].iloc[0]
    assert old.path == "ancient > c000"
    days = (datetime(2024, 1, 2) - datetime(1, 1, 1)).days
    assert old.touch_days == f"{days:.1f} > 1.0"
    assert len(journeys) == 201


def test_output_is_deterministic(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """Shuffled input rows give byte-identical outputs."""
    rng = np.random.default_rng(7)
    shuffled = write_csv(tmp_path / "shuffled.csv", "user_id,timestamp,channel",
                         [TOUCHES[i] for i in rng.permutation(len(TOUCHES))])
    build_journeys(*inputs, tmp_path / "p1.csv", journeys_output=tmp_path / "j1.csv")
    build_journeys(shuffled, inputs[1], tmp_path / "p2.csv", journeys_output=tmp_path / "j2.csv",
                   threads=1)
    assert (tmp_path / "p1.csv").read_bytes() == (tmp_path / "p2.csv").read_bytes()
    assert (tmp_path / "j1.csv").read_bytes() == (tmp_path / "j2.csv").read_bytes()


def test_engine_settings_do_not_change_the_output(inputs: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    """One thread, a small memory limit and a given spill directory give the same files."""
    build_journeys(*inputs, tmp_path / "p1.parquet", journeys_output=tmp_path / "j1.csv")
    build_journeys(*inputs, tmp_path / "p2.parquet", journeys_output=tmp_path / "j2.csv",
                   threads=1, memory_limit="64MB", temp_directory=tmp_path / "spill")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p1.parquet"),
                                  pd.read_parquet(tmp_path / "p2.parquet"))
    assert (tmp_path / "j1.csv").read_bytes() == (tmp_path / "j2.csv").read_bytes()


def test_awkward_names_and_another_separator_survive_the_round_trip(tmp_path: Path) -> None:
    """Names with commas, quotes and '>' are quoted in CSV and read back whole with ' | '."""
    touches = pd.DataFrame({"user_id": ["u1", "u1", "u1"],
                            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
                            "channel": ['TV "prime", late', "a>b", "Search"]})
    touches.to_csv(tmp_path / "t.csv", index=False)
    conversions = write_csv(tmp_path / "c.csv", "user_id,timestamp", [("u1", "2024-01-03")])
    build_journeys(tmp_path / "t.csv", conversions, tmp_path / "p.csv", separator=" | ")
    paths = PathTable.read(tmp_path / "p.csv", separator=" | ")
    assert paths.path(0) == ('TV "prime", late', "a>b", "Search")


@pytest.mark.parametrize(
    ("separator", "channel", "ambiguous"),
    [("--", "x-", True), ("--", "-x", False), ("->", "x-", False), ("->", ">x", False),
     (" > ", "x >", True), (" > ", "x>y", True), ("aba", "ab", True), ("aba", "b", False),
     ("abab", "xab", True), ("abab", "xa", False), (" ", "x y", True)],
)
def test_names_that_would_straddle_the_separator_are_refused(
    tmp_path: Path, separator: str, channel: str, ambiguous: bool
) -> None:
    """A name is refused exactly when the path reader would not split it back out."""
    names = ["first", channel, "last"]
    assert (split_path(separator.join(names), separator) != names) == ambiguous
    touches = write_csv(tmp_path / "t.csv", "user_id,timestamp,channel", [
        ("u1", "2024-01-01", "first"), ("u1", "2024-01-02", channel), ("u1", "2024-01-03", "last")])
    conversions = write_csv(tmp_path / "c.csv", "user_id,timestamp", [("u1", "2024-01-03")])
    if ambiguous:
        with pytest.raises(InputError, match=r"row 2: channel .* separator"):
            build_journeys(touches, conversions, tmp_path / "p.csv", separator=separator)
    else:
        build_journeys(touches, conversions, tmp_path / "p.csv", separator=separator)
        paths = PathTable.read(tmp_path / "p.csv", separator=separator)
        assert paths.path(0) == ("first", channel, "last")


def test_gzip_and_tsv_files_are_read_and_written(inputs: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    """A tab-separated touch file works, and a .csv.gz output is gzip-compressed CSV."""
    tsv = tmp_path / "touches.tsv"
    tsv.write_text(inputs[0].read_text(encoding="utf-8").replace(",", "\t"), encoding="utf-8")
    build_journeys(tsv, inputs[1], tmp_path / "paths.csv.gz")
    assert (tmp_path / "paths.csv.gz").read_bytes()[:2] == b"\x1f\x8b"
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "paths.csv.gz"), EXPECTED_PATHS)


def reference_journeys(
    touches: list[tuple[str, datetime, str]], conversions: list[tuple[str, datetime, float]],
    lookback: timedelta,
) -> list[tuple[str, datetime, str, int, int, float]]:
    """The journey rules written out directly, user by user (slow; for small inputs)."""
    user_touches = defaultdict(list)
    for user, time, channel in touches:
        user_touches[user].append((time, channel))
    user_ends: dict[str, dict[datetime, list[float]]] = defaultdict(lambda: defaultdict(list))
    for user, time, value in conversions:
        user_ends[user][time].append(value)
    journeys = []
    for user in sorted(user_touches.keys() | user_ends.keys()):
        ordered, previous = sorted(user_touches[user]), None
        for end, values in sorted(user_ends[user].items()):
            window = [c for t, c in ordered
                      if (previous is None or t > previous) and end - lookback <= t <= end]
            if window:
                journeys.append((user, end, " > ".join(window), len(values), 0, sum(values)))
            previous = end
        tail = [(t, c) for t, c in ordered if previous is None or t > previous]
        if tail:
            end = tail[-1][0]
            path = " > ".join(c for t, c in tail if t >= end - lookback)
            journeys.append((user, end, path, 0, 1, 0.0))
    return journeys


def test_random_journeys_match_a_direct_implementation(tmp_path: Path) -> None:
    """Seeded random touches with ties and repeated conversions match the reference rules."""
    rng = np.random.default_rng(20240501)
    start, channels = datetime(2024, 1, 1), ["a", "b", "c", "d", "e", "é"]
    def when(n: int, hours: int) -> list[datetime]:  # on a grid over 60 days, so times tie
        return [start + timedelta(hours=int(h) * hours) for h in rng.integers(0, 1440 // hours, n)]
    touches = list(zip([f"u{u}" for u in rng.integers(0, 150, 3000)], when(3000, 1),
                       [channels[i] for i in rng.integers(0, len(channels), 3000)], strict=True))
    conversions = list(zip([f"u{u}" for u in rng.integers(0, 200, 400)], when(400, 24),
                           np.round(rng.uniform(0, 100, 400), 2).tolist(), strict=True))
    write_parquet(tmp_path / "t.parquet", pd.DataFrame(touches, columns=TOUCH_COLUMNS))
    write_parquet(tmp_path / "c.parquet", pd.DataFrame(conversions, columns=CONVERSION_COLUMNS))
    summary = build_journeys(tmp_path / "t.parquet", tmp_path / "c.parquet", tmp_path / "p.csv",
                             journeys_output=tmp_path / "j.csv", lookback_days=7.5)
    expected = reference_journeys(touches, conversions, timedelta(days=7.5))
    journeys = pd.read_csv(tmp_path / "j.csv", keep_default_na=False)
    actual = list(zip(journeys.user_id, pd.to_datetime(journeys.journey_end), journeys.path,
                      journeys.conversions, journeys.nulls, strict=True))
    assert actual == [row[:5] for row in expected]
    np.testing.assert_allclose(journeys.value, [row[5] for row in expected], rtol=1e-12)
    left_out = sum(1 for _ in conversions) - sum(row[3] for row in expected)
    assert summary.conversions_without_touches == left_out > 0
    assert max(row[3] for row in expected) > 1  # same-time conversions occur


# -- bad input ---------------------------------------------------------------------------


def bad_csv(tmp_path: Path, name: str, header: str, rows: list[tuple[str, ...]]) -> Path:
    """A CSV file in a subdirectory, so that it is never mistaken for an output."""
    (tmp_path / "in").mkdir(exist_ok=True)
    return write_csv(tmp_path / "in" / name, header, rows)


GOOD_TOUCH = ("u1", "2024-01-01", "search")
GOOD_CONVERSION = ("u1", "2024-01-02", "1.5")


@pytest.mark.parametrize(
    ("touch_rows", "conversion_rows", "message"),
    [
        ([GOOD_TOUCH, ("u1", "2024-01-01", "email"), ("u2", "yesterday", "email"),
          ("u2", "tomorrow", "email")],
         [GOOD_CONVERSION],
         r"t\.csv: row 3: timestamp is not an ISO date/time \('yesterday'\); 1 more rows"),
        ([GOOD_TOUCH, ("u1", "", "email")], [GOOD_CONVERSION],
         r"t\.csv: row 2: timestamp is empty$"),
        ([GOOD_TOUCH, ("u1", "2024-01-01", "  ")], [GOOD_CONVERSION],
         r"t\.csv: row 2: channel is empty$"),
        ([GOOD_TOUCH, (" ", "2024-01-01", "email")], [GOOD_CONVERSION],
         r"t\.csv: row 2: user_id is empty$"),
        ([GOOD_TOUCH], [GOOD_CONVERSION, ("", "2024-01-02", "1")],
         r"c\.csv: row 2: user_id is empty$"),
        ([GOOD_TOUCH], [GOOD_CONVERSION, ("u1", "2024-13-02", "1")],
         r"c\.csv: row 2: timestamp is not an ISO date/time \('2024-13-02'\)"),
        ([GOOD_TOUCH], [GOOD_CONVERSION, ("u1", "2024-01-02", "-2")],
         r"c\.csv: row 2: value is negative \('-2'\)"),
        ([GOOD_TOUCH], [GOOD_CONVERSION, ("u1", "2024-01-02", "12 EUR")],
         r"c\.csv: row 2: value is not a number \('12 EUR'\)"),
        ([GOOD_TOUCH], [GOOD_CONVERSION, ("u1", "2024-01-02", "")],
         r"c\.csv: row 2: value is empty$"),
        ([GOOD_TOUCH], [GOOD_CONVERSION, ("u1", "2024-01-02", "inf")],
         r"c\.csv: row 2: value is infinite"),
        ([GOOD_TOUCH, ("u1", "2024-01-01", "Display > Retargeting")], [GOOD_CONVERSION],
         r"t\.csv: row 2: channel 'Display > Retargeting' contains the separator '>'"),
        ([GOOD_TOUCH, GOOD_TOUCH, ("u1", "2024-01-01", "a>b")], [GOOD_CONVERSION],
         r"t\.csv: row 3: channel 'a>b' contains the separator '>'; rename the channel"),
        ([GOOD_TOUCH], [], r"c\.csv: the table has no rows$"),
        ([], [GOOD_CONVERSION], r"t\.csv: the table has no rows$"),
        ([GOOD_TOUCH], [("u2", "2024-01-02", "1")],
         r"c\.csv: no conversion has a touch of .*t\.csv in its 30-day look-back window"),
    ],
)
def test_bad_rows_are_named(
    tmp_path: Path, touch_rows: list[tuple[str, ...]], conversion_rows: list[tuple[str, ...]],
    message: str,
) -> None:
    """Each kind of bad row raises one InputError naming the file, the row and the field."""
    touches = bad_csv(tmp_path, "t.csv", "user_id,timestamp,channel", touch_rows)
    conversions = bad_csv(tmp_path, "c.csv", "user_id,timestamp,value", conversion_rows)
    with pytest.raises(InputError, match=message) as error:
        build_journeys(touches, conversions, tmp_path / "paths.csv")
    assert "\n" not in str(error.value)
    assert list(tmp_path.iterdir()) == [tmp_path / "in"]


def test_bad_parquet_row_is_named_by_file_position(tmp_path: Path) -> None:
    """In Parquet the row number of a missing channel is its position in the file."""
    frame = pd.DataFrame({"user_id": ["u1"] * 5,
                          "timestamp": pd.date_range("2024-01-01", periods=5),
                          "channel": ["a", "b", "c", None, "e"]})
    touches = write_parquet(tmp_path / "t.parquet", frame)
    conversions = write_csv(tmp_path / "c.csv", "user_id,timestamp", [("u1", "2024-02-01")])
    with pytest.raises(InputError, match=r"t\.parquet: row 4: channel is empty$"):
        build_journeys(touches, conversions, tmp_path / "paths.csv")


@pytest.mark.parametrize(
    ("touch_header", "conversion_header", "message"),
    [
        ("user_id,timestamp,medium", "user_id,timestamp,value",
         r"t\.csv: missing column 'channel'; columns found: user_id, timestamp, medium"),
        ("user_id,timestamp,channel", "user_id,time,value",
         r"c\.csv: missing column 'timestamp'; columns found: user_id, time, value"),
    ],
)
def test_missing_columns_are_named(
    tmp_path: Path, touch_header: str, conversion_header: str, message: str
) -> None:
    """A missing column is named together with the columns that were found."""
    touches = bad_csv(tmp_path, "t.csv", touch_header, [GOOD_TOUCH])
    conversions = bad_csv(tmp_path, "c.csv", conversion_header, [GOOD_CONVERSION])
    with pytest.raises(InputError, match=message):
        build_journeys(touches, conversions, tmp_path / "paths.csv")


def test_bad_column_type_is_named(tmp_path: Path) -> None:
    """A Parquet timestamp column of integers is refused with its type."""
    frame = pd.DataFrame({"user_id": ["u1"], "timestamp": [1_700_000_000], "channel": ["a"]})
    touches = write_parquet(tmp_path / "t.parquet", frame)
    conversions = write_csv(tmp_path / "c.csv", "user_id,timestamp", [GOOD_CONVERSION[:2]])
    with pytest.raises(InputError, match=r"t\.parquet: column 'timestamp' has type BIGINT"):
        build_journeys(touches, conversions, tmp_path / "paths.csv")


@pytest.mark.parametrize(
    ("touches", "conversions", "output", "settings", "message"),
    [
        ("nope.csv", "c.csv", "p.csv", {}, r"nope\.csv: no such file$"),
        ("t.csv", "nope.parquet", "p.csv", {}, r"nope\.parquet: no such file$"),
        ("t.txt", "c.csv", "p.csv", {}, r"t\.txt: unknown file type; use \.csv"),
        ("t.csv", "c.csv", "p.json", {}, r"p\.json: unknown file type"),
        ("t.csv", "c.csv", "p.csv", {"journeys_output": "j.xlsx"}, r"j\.xlsx: unknown file"),
        ("t.csv", "c.csv", "missing/p.csv", {}, r"missing/p\.csv: the directory .* not exist"),
        ("t.csv", "c.csv", "p.csv", {"lookback_days": 0}, r"lookback_days: must be a positive"),
        ("t.csv", "c.csv", "p.csv", {"lookback_days": -3}, r"lookback_days: must be a positive"),
        ("t.csv", "c.csv", "p.csv", {"lookback_days": float("nan")}, r"lookback_days: must be"),
        ("t.csv", "c.csv", "p.csv", {"lookback_days": "a month"}, r"lookback_days: 'a month' is"),
        ("t.csv", "c.csv", "p.csv", {"separator": ""}, r"separator: must not be empty"),
        ("t.csv", "c.csv", "p.csv", {"journeys_output": "p.csv"}, r"p\.csv: the journeys file"),
        ("t.csv", "c.csv", "p.csv", {"memory_limit": "lots"}, r"DuckDB settings: .*Memory"),
        ("t.parquet", "c.csv", "p.csv", {}, r"t\.parquet: cannot be read \(.*too small"),
    ],
)
def test_bad_files_and_settings_are_named(
    tmp_path: Path, touches: str, conversions: str, output: str, settings: dict[str, object],
    message: str,
) -> None:
    """Missing files, unknown extensions and bad settings raise one-line InputErrors."""
    write_csv(tmp_path / "t.csv", "user_id,timestamp,channel", [GOOD_TOUCH])
    (tmp_path / "t.txt").write_text("user_id,timestamp,channel\n", encoding="utf-8")
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    write_csv(tmp_path / "c.csv", "user_id,timestamp", [GOOD_CONVERSION[:2]])
    if "journeys_output" in settings:
        settings = {**settings, "journeys_output": tmp_path / str(settings["journeys_output"])}
    with pytest.raises(InputError, match=message):
        build_journeys(tmp_path / touches, tmp_path / conversions, tmp_path / output, **settings)


def test_error_leaves_existing_outputs_untouched(inputs: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    """A failing run neither changes earlier outputs nor leaves temporary files behind."""
    build_journeys(*inputs, tmp_path / "paths.csv", journeys_output=tmp_path / "journeys.csv")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with inputs[0].open("a", encoding="utf-8") as file:
        file.write("z,not a time,email\n")
    with pytest.raises(InputError, match="row 15: timestamp"):
        build_journeys(*inputs, tmp_path / "paths.csv", journeys_output=tmp_path / "journeys.csv")
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after.keys() == before.keys()
    assert after["paths.csv"] == before["paths.csv"]
    assert after["journeys.csv"] == before["journeys.csv"]


# -- in-memory inputs ----------------------------------------------------------------------


def test_journey_tables_from_bytes_and_frames_match_the_files(inputs: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    """Bytes and frames give the paths and journeys that build_journeys writes to files."""
    build_journeys(*inputs, tmp_path / "p.csv", journeys_output=tmp_path / "j.parquet")
    from_bytes = journey_tables(*(p.read_bytes() for p in inputs), with_journeys=True,
                                names=("touches.csv", "conversions.csv"))
    frames = [pd.read_csv(p, dtype=str) for p in inputs]
    from_frames = journey_tables(*frames, names=("touches", "conversions"))
    for built in (from_bytes, from_frames):
        pd.testing.assert_frame_equal(built.paths, EXPECTED_PATHS, check_dtype=False)
        assert built.summary.distinct_paths == len(EXPECTED_PATHS)
    assert from_frames.journeys is None and from_bytes.journeys is not None
    pd.testing.assert_frame_equal(from_bytes.journeys, read_output(tmp_path / "j.parquet"),
                                  check_dtype=False)


def test_journey_tables_name_in_memory_inputs_without_values() -> None:
    """With quote_values=False a bad channel is named by row, and the separator problem too."""
    touches = pd.DataFrame({"user_id": ["user-SECRET"], "timestamp": ["2024-01-01"],
                            "channel": ["a > b"]})
    conversions = pd.DataFrame({"user_id": ["user-SECRET"], "timestamp": ["2024-01-02"]})
    with pytest.raises(InputError, match=r"^touches: row 1: channel contains the separator") \
            as error:
        journey_tables(touches, conversions, names=("touches", "conversions"),
                       quote_values=False)
    assert "SECRET" not in str(error.value) and "a > b" not in str(error.value)
