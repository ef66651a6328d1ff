"""Tests of media data reading, validation and the synthetic media fixtures."""

from __future__ import annotations

import importlib.util
import json
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.curves import curve
from optimizer.data import IdentifiabilityWarning, MediaData, minimum_periods
from optimizer.errors import InputError, ParameterError
from optimizer.tables import parse_dates, read_table

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
FIXTURE_FILES = ("media_spend.csv", "media_outcomes.csv", "media_controls.csv",
                 "media_lift_tests.csv")
START = pd.Timestamp("2024-01-01")


def weekly_frames(weeks: int = 60, channels: tuple[str, ...] = ("a", "b", "c"),
                  seed: int = 0) -> dict[str, pd.DataFrame]:
    """Valid weekly frames as a CSV is read (text): spend, outcomes, controls, lift tests."""
    rng = np.random.default_rng(seed)
    dates = [f"{d:%Y-%m-%d}" for d in pd.date_range(START, periods=weeks, freq="7D")]
    spend = np.round(rng.lognormal(8.0, 0.5, (weeks, len(channels))), 2)
    long = pd.DataFrame({"date": np.repeat(dates, len(channels)),
                         "channel": np.tile(channels, weeks), "spend": spend.ravel()})
    conversions = np.round(100 + spend.sum(axis=1) / 100 + rng.normal(0, 5, weeks), 2)
    return {
        "spend": long.astype(str),
        "outcomes": pd.DataFrame({"date": dates, "conversions": conversions}).astype(str),
        "controls": pd.DataFrame({"date": dates, "promo": rng.integers(0, 2, weeks),
                                  "price": np.round(rng.normal(10, 1, weeks), 2)}).astype(str),
        "lift_tests": pd.DataFrame({"channel": ["a"], "spend_before": ["1000"],
                                    "spend_after": ["2000"], "lift": ["5"], "lift_sd": ["1"]}),
    }


def build(frames: dict[str, pd.DataFrame]) -> MediaData:
    """MediaData from the frames, turning identifiability warnings into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentifiabilityWarning)
        return MediaData.from_frames(frames["spend"], frames["outcomes"], frames.get("controls"),
                                     frames.get("lift_tests"))


def fixture_data() -> MediaData:
    """The media fixture, read from its CSV files."""
    return MediaData.from_files(*(FIXTURES / name for name in FIXTURE_FILES))


@pytest.fixture(scope="module")
def truth() -> dict:
    """The true process of the media fixture."""
    return json.loads((FIXTURES / "media_truth.json").read_text(encoding="utf-8"))


# -- reading and round trips ------------------------------------------------------------------


def test_weekly_frames_are_read():
    """Valid weekly frames give sorted channels, a regular series and sorted controls."""
    data = build(weekly_frames())
    assert (data.frequency, data.n_periods, data.n_channels) == ("W", 60, 3)
    assert data.channels == ("a", "b", "c")
    assert data.dates[0] == START and (data.dates[1] - data.dates[0]).days == 7
    assert data.spend.shape == (60, 3) and data.revenue is None
    assert data.controls is not None and list(data.controls.columns) == ["price", "promo"]
    assert data.controls.index.equals(data.dates)
    np.testing.assert_array_equal(data.max_spend, data.spend.max(axis=0))
    assert data.fingerprint.startswith("sha256:") and len(data.fingerprint) == 71


def test_arrays_are_read_only():
    """Spend and outcomes cannot be changed in place, so the fingerprint stays true."""
    data = build(weekly_frames())
    with pytest.raises(ValueError):
        data.spend[0, 0] = 1.0
    assert data.conversions is not None and not data.conversions.flags.writeable


def test_csv_and_parquet_round_trip(tmp_path):
    """The same data written as CSV and as typed Parquet read back to the same fingerprint."""
    frames = weekly_frames()
    expected = build(frames).fingerprint
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        typed = frame.copy()
        typed["date" if "date" in typed else "channel"] = (
            pd.to_datetime(typed["date"]) if "date" in typed else typed["channel"])
        numeric = [c for c in typed.columns if c not in ("date", "channel")]
        typed[numeric] = typed[numeric].astype(float)
        typed.to_parquet(tmp_path / f"{name}.parquet", index=False)
    for suffix in ("csv", "parquet"):
        paths = [tmp_path / f"{name}.{suffix}" for name in frames]
        assert MediaData.from_files(*paths).fingerprint == expected


def test_fingerprint_ignores_row_order_and_sees_values():
    """Shuffling rows keeps the fingerprint; changing one spend changes it."""
    frames = weekly_frames()
    base = build(frames).fingerprint
    shuffled = {k: v.sample(frac=1.0, random_state=1) for k, v in frames.items()}
    assert build(shuffled).fingerprint == base
    frames["spend"].loc[5, "spend"] = "123.45"
    assert build(frames).fingerprint != base


def test_missing_channel_row_means_zero_spend():
    """A (date, channel) row left out inside the series is read as zero spend."""
    frames = weekly_frames()
    frames["spend"] = frames["spend"].drop(index=4)  # week 2, channel "b"
    data = build(frames)
    assert data.spend[1, 1] == 0.0 and data.spend[1, 0] > 0


def test_typed_frames_revenue_only_and_column_case():
    """Typed frames as the API passes them, revenue without conversions, any column case."""
    frames = weekly_frames()
    spend = frames["spend"].rename(columns=str.upper).astype({"SPEND": float})
    spend["DATE"] = pd.to_datetime(spend["DATE"]).dt.date
    outcomes = pd.DataFrame({"Date": pd.to_datetime(frames["outcomes"]["date"]),
                             "Revenue": frames["outcomes"]["conversions"].astype(float) * 80})
    controls = frames["controls"].rename(columns={"promo": "Promo"})
    data = build({"spend": spend, "outcomes": outcomes, "controls": controls})
    assert data.conversions is None and data.revenue is not None
    assert list(data.controls.columns) == ["Promo", "price"]
    np.testing.assert_allclose(data.spend, build(frames).spend)
    spend.loc[3, "SPEND"] = np.nan
    with pytest.raises(InputError, match=r"^spend row 4: spend is NaN$"):
        build({"spend": spend, "outcomes": outcomes})


def test_lift_tests_without_rows_are_none():
    """A lift-test table with a header and no rows means no lift tests."""
    frames = weekly_frames()
    frames["lift_tests"] = frames["lift_tests"].iloc[:0]
    assert build(frames).lift_tests is None


def test_daily_data_to_weekly():
    """Daily data sum to Monday-labelled weeks, controls average, partial weeks are dropped."""
    frames = weekly_frames(weeks=60)
    weekly = build(frames)
    days = pd.date_range(START - pd.Timedelta(days=2), START + pd.Timedelta(days=7 * 60 + 2))
    week_of = np.clip((days - START).days // 7, -1, 60)
    inside = (week_of >= 0) & (week_of < 60)
    rows = np.where(inside, week_of, 0)
    spend = np.where(inside[:, None], weekly.spend[rows] / 7, 1.0)
    conversions = np.where(inside, weekly.conversions[rows] / 7, 1.0)
    text = [f"{d:%Y-%m-%d}" for d in days]
    daily = MediaData.from_frames(
        pd.DataFrame({"date": np.repeat(text, 3), "channel": np.tile(["a", "b", "c"], len(days)),
                      "spend": spend.ravel()}),
        pd.DataFrame({"date": text, "conversions": conversions}),
        pd.DataFrame({"date": text, "promo": (days.day_of_week == 0).astype(float)}),
    )
    assert daily.frequency == "D" and daily.n_periods == len(days)
    result = daily.to_weekly()
    assert result.frequency == "W" and result.dates.equals(weekly.dates)
    np.testing.assert_allclose(result.spend, weekly.spend, rtol=1e-12)
    np.testing.assert_allclose(result.conversions, weekly.conversions, rtol=1e-12)
    np.testing.assert_allclose(result.controls["promo"], 1 / 7)
    assert weekly.to_weekly() is weekly


def test_daily_data_need_enough_complete_weeks():
    """Daily data are held to the minimum number of periods in complete weeks."""
    days = pd.date_range("2024-01-03", periods=7 * 30)  # a Wednesday: 29 complete weeks
    text = [f"{d:%Y-%m-%d}" for d in days]
    rng = np.random.default_rng(3)
    spend = pd.DataFrame({"date": text, "channel": "a", "spend": rng.uniform(1, 2, len(days))})
    outcomes = pd.DataFrame({"date": text, "conversions": 1.0})
    with pytest.raises(InputError, match=r"^spend: 29 complete weeks of daily data, fewer "
                                         r"than the 30 that 1 channel and 0 controls need"):
        MediaData.from_frames(spend, outcomes)


# -- errors -----------------------------------------------------------------------------------


def set_cell(table: str, row: int, column: str, value: str):
    """A change that writes one cell."""
    def change(frames):
        frames[table].loc[row, column] = value
    return change


def drop_rows(table: str, mask):
    """A change that drops the rows selected by ``mask(frame)``."""
    def change(frames):
        frames[table] = frames[table][~mask(frames[table])].reset_index(drop=True)
    return change


def append_rows(table: str, rows: dict):
    """A change that appends rows."""
    def change(frames):
        frames[table] = pd.concat([frames[table], pd.DataFrame(rows)], ignore_index=True)
    return change


def shift_spend_dates(days: int, since: str):
    """A change that moves every spend and outcome date from ``since`` on by some days."""
    def change(frames):
        for table in ("spend", "outcomes", "controls"):
            dates = pd.to_datetime(frames[table]["date"])
            moved = dates.where(dates < pd.Timestamp(since), dates + pd.Timedelta(days=days))
            frames[table]["date"] = moved.dt.strftime("%Y-%m-%d")
    return change


def rename(table: str, old: str, new: str):
    """A change that renames a column."""
    def change(frames):
        frames[table] = frames[table].rename(columns={old: new})
    return change


def every_date_every(days: int):
    """A change that spaces all dates ``days`` apart."""
    def change(frames):
        for table in ("spend", "outcomes", "controls"):
            dates = pd.to_datetime(frames[table]["date"])
            frames[table]["date"] = (START + (dates - START) / 7 * days).dt.strftime("%Y-%m-%d")
    return change


ERRORS = {
    "missing spend column": (rename("spend", "channel", "source"),
                             r"^spend: missing column 'channel'; columns found: date, source"),
    "missing outcome column": (rename("outcomes", "conversions", "sales"),
                               r"^outcomes: missing column 'conversions' \(or 'revenue'\)"),
    "non-numeric spend": (set_cell("spend", 2, "spend", "12,5"),
                          r"^spend row 3: spend is not a number \('12,5'\)$"),
    "empty spend": (set_cell("spend", 7, "spend", " "), r"^spend row 8: spend is empty$"),
    "NaN spend": (set_cell("spend", 7, "spend", "nan"),
                  r"^spend row 8: spend is not a number \('nan'\)$"),
    "negative spend": (set_cell("spend", 4, "spend", "-5"),
                       r"^spend row 5: spend is negative \('-5'\)$"),
    "duplicate spend row": (append_rows("spend", {"date": ["2024-01-08"] * 2,
                                                  "channel": ["b"] * 2, "spend": ["1"] * 2}),
                            r"^spend row 181: duplicate \(date, channel\) \(2024-01-08, b\), "
                            r"first in row 5; 1 more rows have this problem$"),
    "duplicate outcome date": (append_rows("outcomes", {"date": ["2024-01-15"],
                                                        "conversions": ["1"]}),
                               r"^outcomes row 61: duplicate date 2024-01-15, first in row 3$"),
    "gap in weeks": (drop_rows("spend", lambda f: f["date"].isin(["2024-02-05", "2024-02-12"])),
                     r"^spend: 2 week\(s\) missing from the weekly series, first 2024-02-05; "
                     r"every week from 2024-01-01 to 2025-02-17 needs rows"),
    "daily dates in weekly data": (append_rows("spend", {"date": ["2024-01-02"],
                                                         "channel": ["a"], "spend": ["1"]}),
                                   r"^spend: irregular date spacing: 2024-01-01 to 2024-01-02 is "
                                   r"1 day\(s\) in weekly data; use one frequency per dataset$"),
    "weekday changes": (shift_spend_dates(1, "2024-06-01"),
                        r"^spend: irregular date spacing: 2024-05-27 to 2024-06-04 is 8 "
                        r"day\(s\) in weekly data"),
    "fortnightly": (every_date_every(14),
                    r"^spend: dates are mostly 14 days apart; expected 7 \(weekly\) or 1"),
    "channel never spends": (set_cell("spend", slice(None), "spend", "0"),
                             r"^spend: channel 'a' never spends \(all 60 periods are 0\); drop "
                             r"its rows; 2 more channels never spend$"),
    "outcome date missing": (drop_rows("outcomes", lambda f: f["date"] == "2024-03-04"),
                             r"^outcomes: dates do not match the weekly spend dates: 1 spend "
                             r"date\(s\) have no outcomes row, first 2024-03-04$"),
    "outcome date extra": (append_rows("outcomes", {"date": ["2030-01-07", "2030-01-14"],
                                                    "conversions": ["1", "2"]}),
                           r"^outcomes: dates do not match the weekly spend dates: 2 outcomes "
                           r"date\(s\) are not spend dates, first 2030-01-07$"),
    "unparseable date": (set_cell("spend", 9, "date", "03/04/2024"),
                         r"^spend row 10: date is not a date \('03/04/2024'\); use YYYY-MM-DD$"),
    "date after 2262": (set_cell("spend", 4, "date", "9999-12-31"),
                        r"^spend row 5: date is out of range \('9999-12-31'\); dates must fall "
                        r"between 1677-09-22 and 2262-04-11$"),
    "date in year 1": (set_cell("outcomes", 2, "date", "0001-01-01"),
                       r"^outcomes row 3: date is out of range \('0001-01-01'\); dates must "
                       r"fall between 1677-09-22 and 2262-04-11$"),
    "control date in 3000": (set_cell("controls", 59, "date", "3000-01-01"),
                             r"^controls row 60: date is out of range \('3000-01-01'\)"),
    "date with time": (set_cell("outcomes", 0, "date", "2024-01-01 10:30"),
                       r"^outcomes row 1: date has a time of day \('2024-01-01 10:30'\); give one "
                       r"date per period$"),
    "unknown lift channel": (set_cell("lift_tests", 0, "channel", "tv"),
                             r"^lift_tests row 1: unknown channel \('tv'\); channels in spend: "
                             r"a, b, c$"),
    "zero lift_sd": (set_cell("lift_tests", 0, "lift_sd", "0"),
                     r"^lift_tests row 1: lift_sd must be positive \('0'\)$"),
    "negative lift_sd": (set_cell("lift_tests", 0, "lift_sd", "-1"),
                         r"^lift_tests row 1: lift_sd must be positive \('-1'\)$"),
    "lift without change": (set_cell("lift_tests", 0, "spend_after", "1000"),
                            r"^lift_tests row 1: spend_after equals spend_before"),
    "control dates": (drop_rows("controls", lambda f: f.index >= 58),
                      r"^controls: dates do not match the weekly spend dates: 2 spend date\(s\) "
                      r"have no controls row, first 2025-02-10$"),
    "non-numeric control": (set_cell("controls", 3, "price", "high"),
                            r"^controls row 4: price is not a number \('high'\)$"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_input_errors_name_the_problem(case):
    """Each kind of bad input raises one InputError whose one-line message names it."""
    change, pattern = ERRORS[case]
    frames = weekly_frames()
    change(frames)
    with pytest.raises(InputError, match=pattern) as error:
        build(frames)
    assert "\n" not in str(error.value)


def test_too_few_periods():
    """Fewer weeks than minimum_periods asks for is refused, with the rule in the message."""
    frames = weekly_frames(weeks=50)
    with pytest.raises(InputError, match=r"^spend: 50 weeks, fewer than the 54 that 3 channels "
                                         r"and 2 controls need \(minimum_periods: 3 weeks per "
                                         r"parameter, at least 20\)$"):
        build(frames)
    del frames["controls"]
    assert build(frames).n_periods == 50


def test_mixed_daily_and_weekly_dates():
    """A weekly stretch inside daily data is refused as mixed frequency."""
    days = list(pd.date_range("2024-01-01", periods=200)) + list(
        pd.date_range("2024-07-25", periods=5, freq="7D"))
    spend = pd.DataFrame({"date": days, "channel": "a", "spend": 1.0})
    with pytest.raises(InputError, match=r"^spend: irregular date spacing: 2024-07-18 to "
                                         r"2024-07-25 is 7 day\(s\) in daily data"):
        MediaData.from_frames(spend, pd.DataFrame({"date": days, "conversions": 1.0}))


@pytest.mark.parametrize(
    ("column", "shown"),
    [
        (np.array(["2024-01-01", "3000-01-01"], dtype="datetime64[us]"),
         r"Timestamp\('3000-01-01 00:00:00'\)"),
        (np.array(["0001-01-01", "2024-01-01"], dtype="datetime64[s]"),
         r"Timestamp\('0001-01-01 00:00:00'\)"),
        (pd.Series([date(2024, 1, 1), date(9999, 12, 31)], dtype=object),
         r"datetime\.date\(9999, 12, 31\)"),
        (pd.Series(pd.to_datetime(["2024-01-01", "2500-06-01"]).as_unit("us")).dt.tz_localize(
            "Europe/Berlin"), r"Timestamp\('2500-06-01 00:00:00'\)"),
    ],
    ids=["datetime64[us]", "datetime64[s]", "date objects", "time zone"],
)
def test_typed_dates_out_of_range_are_input_errors(column, shown):
    """Typed dates beyond the nanosecond range (as Parquet holds them) name the row and value."""
    frame = pd.DataFrame({"day": column})
    row = 1 if "0001" in shown else 2
    with pytest.raises(InputError, match=rf"^spend row {row}: date is out of range \({shown}\); "
                                         r"dates must fall between 1677-09-22 and 2262-04-11$"):
        parse_dates(frame, "day", "spend")


def test_dates_at_the_edges_of_the_range_are_kept():
    """The first and last whole days of the nanosecond range are dates like any other."""
    frame = pd.DataFrame({"date": ["1677-09-22", "2262-04-11"]})
    parsed = parse_dates(frame, "date", "spend")
    assert list(parsed) == [pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-11")]
    assert parsed.dtype == "datetime64[ns]"


def test_parquet_dates_out_of_range_are_input_errors(tmp_path):
    """A Parquet spend file with a year-3000 date fails with the row, not a pandas error."""
    frames = weekly_frames()
    spend = frames["spend"].assign(date=pd.to_datetime(frames["spend"]["date"]).dt.as_unit("us"),
                                   spend=frames["spend"]["spend"].astype(float))
    spend.loc[7, "date"] = pd.Timestamp("3000-01-06").as_unit("us")
    spend.to_parquet(tmp_path / "spend.parquet")
    frames["outcomes"].to_csv(tmp_path / "outcomes.csv", index=False)
    with pytest.raises(InputError, match=r"^spend row 8: date is out of range"):
        MediaData.from_files(tmp_path / "spend.parquet", tmp_path / "outcomes.csv")


def test_file_errors(tmp_path):
    """A missing file or an unknown file type is named in the message."""
    with pytest.raises(InputError, match=r"^spend: no such file .*nowhere\.csv$"):
        MediaData.from_files(tmp_path / "nowhere.csv", tmp_path / "o.csv")
    (tmp_path / "spend.xlsx").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"^spend: .*spend\.xlsx has an unknown file type"):
        MediaData.from_files(tmp_path / "spend.xlsx", tmp_path / "o.csv")


def test_constructor_checks_shapes():
    """Building MediaData by hand still checks the shapes and the channel order."""
    dates = pd.date_range(START, periods=3, freq="7D")
    with pytest.raises(InputError, match=r"^spend: expected shape \(3, 2\), got \(3, 1\)$"):
        MediaData(dates, "W", ("a", "b"), np.ones((3, 1)), np.ones(3))
    with pytest.raises(InputError, match="sorted"):
        MediaData(dates, "W", ("b", "a"), np.ones((3, 2)), np.ones(3))
    with pytest.raises(InputError, match=r"^dates: must be a sorted, regular daily series$"):
        MediaData(dates, "D", ("a", "b"), np.ones((3, 2)), np.ones(3))
    far = np.array(["2999-12-23", "2999-12-30", "3000-01-06"], dtype="datetime64[us]")
    with pytest.raises(InputError, match=r"^dates: not dates between 1677-09-22 and 2262-04-11"):
        MediaData(far, "W", ("a",), np.ones((3, 1)), np.ones(3))


def test_minimum_periods_rule():
    """Three weeks per parameter, at least 20; bad sizes are a ParameterError."""
    assert minimum_periods(8, 2, 2) == 3 * (24 + 2 + 4 + 3) == 99
    assert minimum_periods(1, 0, 0) == 20
    assert minimum_periods(3) == 3 * (9 + 0 + 4 + 3)
    with pytest.raises(ParameterError, match="n_channels must be a non-negative integer"):
        minimum_periods(-1, 0, 2)


# -- identifiability warnings -----------------------------------------------------------------


def with_spend(change) -> dict[str, pd.DataFrame]:
    """Valid frames whose (T, C) spend matrix is rewritten by ``change``."""
    frames = weekly_frames()
    matrix = np.array(frames["spend"]["spend"], dtype=float).reshape(60, 3)
    change(matrix)
    frames["spend"]["spend"] = [str(v) for v in matrix.ravel()]
    return frames


def test_collinear_channels_warn():
    """Two channels with almost proportional spend are named with their correlation."""
    def change(m):
        m[:, 1] = 2 * m[:, 0] + np.random.default_rng(1).normal(0, 300, 60)
    with pytest.warns(IdentifiabilityWarning, match=r"^channels 'a' and 'b' have almost "
                                                    r"collinear weekly spend \(corr 0\.99"):
        MediaData.from_frames(**with_spend(change))


def test_flat_spend_warns():
    """A channel whose spend hardly varies is flagged with its coefficient of variation."""
    def change(m):
        m[:, 2] = 1000 + np.arange(60) % 3
    with pytest.warns(IdentifiabilityWarning, match=r"^channel 'c' weekly spend hardly varies "
                                                    r"\(coefficient of variation 0\.001\)"):
        MediaData.from_frames(**with_spend(change))


def test_rare_spend_warns():
    """A channel that spends in under 10% of weeks is flagged with its count."""
    def change(m):
        m[5:, 0] = 0.0
    with pytest.warns(IdentifiabilityWarning, match=r"^channel 'a' spends in only 5 of 60 weeks "
                                                    r"\(8%\)"):
        MediaData.from_frames(**with_spend(change))


def test_identifiability_notes_are_data_without_warnings():
    """With warn=False nothing is emitted and the notes are the messages the warnings carry."""
    def change(m):
        m[5:, 0] = 0.0
        m[:, 2] = 1000 + np.arange(60) % 3
    frames = with_spend(change)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = MediaData.from_frames(**frames, warn=False)
    assert quiet.identifiability_notes == (
        "channel 'a' spends in only 5 of 60 weeks (8%); its curve is weakly identified",
        "channel 'c' weekly spend hardly varies (coefficient of variation 0.001); its curve "
        "is weakly identified")
    with pytest.warns(IdentifiabilityWarning) as caught:
        loud = MediaData.from_frames(**frames)
    assert tuple(str(w.message) for w in caught) == loud.identifiability_notes
    assert loud.fingerprint == quiet.fingerprint


def test_identifiability_notes_of_clean_and_daily_data(tmp_path):
    """Clean data have no notes; daily data are judged on their complete weeks."""
    assert build(weekly_frames()).identifiability_notes == ()
    days = pd.date_range(START, periods=7 * 60)
    rng = np.random.default_rng(4)
    spend = pd.DataFrame({"date": np.repeat(days, 2), "channel": np.tile(["a", "b"], len(days)),
                          "spend": rng.uniform(100, 200, 2 * len(days))})
    spend.loc[spend["channel"].eq("b") & (spend["date"] >= START + pd.Timedelta(days=14)),
              "spend"] = 0.0
    outcomes = pd.DataFrame({"date": days, "conversions": 1.0})
    spend.to_csv(tmp_path / "spend.csv", index=False)
    outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
    data = MediaData.from_files(tmp_path / "spend.csv", tmp_path / "outcomes.csv", warn=False)
    assert data.frequency == "D"
    assert data.identifiability_notes == (
        "channel 'b' spends in only 2 of 60 weeks (3%); its curve is weakly identified",)


# -- the media fixture ------------------------------------------------------------------------


def test_fixture_loads_cleanly():
    """The fixture files load without errors or identifiability warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = fixture_data()
    assert (data.frequency, data.n_periods, data.n_channels) == ("W", 104, 8)
    assert data.dates[0] == START and data.dates[-1] == pd.Timestamp("2025-12-22")
    assert set(data.dates.day_of_week) == {0}
    assert data.controls is not None and list(data.controls.columns) == ["holiday", "promotion"]
    assert data.lift_tests is not None and len(data.lift_tests) == 9
    assert data.revenue is not None and data.conversions is not None
    corr = np.corrcoef(data.spend, rowvar=False)
    assert np.abs(corr[np.triu_indices(8, k=1)]).max() < 0.9


def true_media(data: MediaData, truth: dict) -> np.ndarray:
    """``(weeks, channels)`` true media conversions, recomputed from the truth by hand."""
    lags = truth["max_lag"]
    out = np.zeros_like(data.spend)
    for c, name in enumerate(data.channels):
        p = truth["channels"][name]
        x = data.spend[:, c]
        padded = np.concatenate([np.full(lags - 1, x[:lags].mean()), x])
        w = p["alpha"] ** np.arange(lags)
        w = w / w.sum()
        stock = np.array([padded[t:t + lags][::-1] @ w for t in range(len(x))])
        out[:, c] = p["beta"] * (1 - np.exp(-stock / p["lam"]))
    return out


def test_fixture_outcomes_match_the_truth(truth):
    """Recomputing the outcomes from the truth leaves exactly the recorded noise."""
    data = fixture_data()
    media = true_media(data, truth)
    for c, name in enumerate(data.channels):
        recorded = truth["channels"][name]["total_contribution"]
        assert media[:, c].sum() == pytest.approx(recorded, rel=1e-9)
    t = np.arange(104)
    base = truth["baseline"]
    baseline = base["intercept"] + base["trend_per_week"] * t
    for k in (1, 2):
        angle = 2 * np.pi * k * t / truth["fourier_period_weeks"]
        baseline += base["sin"][k - 1] * np.sin(angle) + base["cos"][k - 1] * np.cos(angle)
    for name, effect in truth["control_effects"].items():
        baseline += effect * data.controls[name].to_numpy()
    assert baseline.sum() == pytest.approx(truth["total_baseline_conversions"], rel=1e-9)
    noise = data.conversions - baseline - media.sum(axis=1)
    assert noise.mean() == pytest.approx(truth["noise"]["realised_mean"], abs=0.01)
    assert noise.std() == pytest.approx(truth["noise"]["realised_sd"], abs=0.01)
    assert truth["noise"]["sd"] == pytest.approx(0.05 * data.conversions.mean(), rel=0.05)
    values = np.array([truth["channels"][n]["value_per_conversion"] for n in data.channels])
    revenue = truth["baseline_value_per_conversion"] * (baseline + noise) + media @ values
    np.testing.assert_allclose(data.revenue, revenue, atol=0.5)


def test_fixture_truth_is_varied(truth):
    """The true channels span the documented ranges and saturation states."""
    channels = truth["channels"].values()
    assert all(0.1 <= p["alpha"] <= 0.7 for p in channels)
    saturation = [p["saturation_at_mean_spend"] for p in channels]
    assert max(saturation) > 0.8 and min(saturation) < 0.2
    spends = [p["mean_weekly_spend"] for p in channels]
    assert min(spends) < 2_000 and max(spends) > 50_000


def test_fixture_optimum_is_the_water_filling_solution(truth):
    """The recorded optimum spends the budget within bounds with equal marginal returns."""
    data = fixture_data()
    opt = truth["optimum"]
    names = data.channels
    beta, lam = (np.array([truth["channels"][n][k] for n in names]) for k in ("beta", "lam"))
    current = np.array([opt["current"][n] for n in names])
    upper = np.array([opt["upper_bounds"][n] for n in names])
    best = np.array([opt["optimal"][n] for n in names])
    np.testing.assert_allclose(current, data.spend[-8:].mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(upper, 1.5 * data.spend.max(axis=0), rtol=1e-9)
    assert opt["budget"] == pytest.approx(current.sum(), rel=1e-9)
    assert best.sum() == pytest.approx(opt["budget"], rel=1e-8)
    family = curve(truth["curve"])
    marginal = beta * family.derivative(best, lam)
    g = opt["marginal_return"]
    inside = (best > 1e-6) & (best < upper - 1e-6)
    assert inside.sum() >= 2 and (best >= upper - 1e-6).any()
    np.testing.assert_allclose(marginal[inside], g, rtol=1e-6)
    assert np.all(marginal[best >= upper - 1e-6] >= g * (1 - 1e-6))
    kpi = (beta * family.numpy(best, lam)).sum()
    now = (beta * family.numpy(current, lam)).sum()
    assert kpi == pytest.approx(opt["optimal_media_conversions"], rel=1e-9)
    assert opt["gain"] == pytest.approx(kpi - now, rel=1e-6) and opt["gain"] > 0


def test_fixture_lift_tests_follow_the_truth(truth):
    """Each lift test is within four standard errors of its true steady-state lift."""
    data = fixture_data()
    family = curve(truth["curve"])
    assert data.lift_tests is not None
    recorded = {(t["channel"], t["spend_before"], t["spend_after"]): t["true_lift"]
                for t in truth["lift_tests"]}
    assert len(recorded) == len(data.lift_tests) == len(truth["lift_tests"])
    for row in data.lift_tests.itertuples(index=False):
        p = truth["channels"][row.channel]
        true = p["beta"] * (family.numpy(row.spend_after, p["lam"])
                            - family.numpy(row.spend_before, p["lam"]))
        key = (row.channel, row.spend_before, row.spend_after)
        assert recorded[key] == pytest.approx(float(true), abs=1e-6)
        assert abs(row.lift - true) < 4 * row.lift_sd


def test_fixture_generator_is_deterministic(tmp_path, monkeypatch):
    """Running the generator again writes byte-identical files."""
    spec = importlib.util.spec_from_file_location("generate_media",
                                                  FIXTURES / "generate_media.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path / "fixtures")
    (tmp_path / "fixtures").mkdir()
    module.main()
    for name in (*FIXTURE_FILES, "media_truth.json"):
        assert (tmp_path / "fixtures" / name).read_bytes() == (FIXTURES / name).read_bytes()


# -- bytes, limits, the number grammar and totals ------------------------------------------


def test_bytes_read_like_files(tmp_path):
    """Spend and outcomes as CSV or Parquet bytes give the data their files give."""
    frames = weekly_frames()
    frames["spend"].to_csv(tmp_path / "spend.csv", index=False)
    frames["outcomes"].to_parquet(tmp_path / "outcomes.parquet", index=False)
    from_files = MediaData.from_files(tmp_path / "spend.csv", tmp_path / "outcomes.parquet")
    from_bytes = MediaData.from_frames(
        read_table((tmp_path / "spend.csv").read_bytes(), "spend", name="spend.csv"),
        read_table((tmp_path / "outcomes.parquet").read_bytes(), "outcomes",
                   name="outcomes.parquet"))
    assert from_bytes.fingerprint == from_files.fingerprint == build(
        {k: frames[k] for k in ("spend", "outcomes")}).fingerprint


def test_a_wide_spend_file_is_refused_in_well_under_a_second():
    """A 100,000-column spend upload is refused from its header, naming the table."""
    data = ("date,channel,spend," + ",".join(f"x{i}" for i in range(100_000)) + "\n").encode()
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"^spend: spend\.csv cannot be read \(the header has "
                                         r"100,003 columns; at most 1,000 are allowed\)$"):
        read_table(data, "spend", name="spend.csv")
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("text", ["1e3 ", "12abc", "0x10", "1_000", " 5"])
def test_spend_text_is_never_coerced_to_a_number(text):
    """Text outside the number grammar is named as not a number, with row and field."""
    frames = weekly_frames()
    set_cell("spend", 2, "spend", text)(frames)
    with pytest.raises(InputError, match=r"^spend row 3: spend is not a number"):
        build(frames)


def test_spend_adding_up_to_infinity_is_refused():
    """Finite spend whose total overflows is refused naming the column."""
    frames = weekly_frames()
    set_cell("spend", slice(0, 1), "spend", "1e308")(frames)
    with pytest.raises(InputError, match=r"^spend: column 'spend': the values add up to more"):
        build(frames)


def test_dates_past_year_9999_are_refused_naming_the_row():
    """A year-10000 date is refused with its row and field."""
    frames = weekly_frames()
    set_cell("spend", 4, "date", "10000-01-01")(frames)
    with pytest.raises(InputError, match=r"^spend row 5: date is not a date"):
        build(frames)


@pytest.mark.parametrize(("table", "column"), [("spend", "channel"), ("lift_tests", "channel")])
def test_control_characters_in_names_are_refused(table, column):
    """A NUL in a channel name is refused naming the table, row and field."""
    frames = weekly_frames()
    frames[table][column] = frames[table][column].str.replace("a", "a\x00")
    with pytest.raises(InputError, match=rf"^{table} row 1: channel has a control character"):
        build(frames)


def test_a_parquet_string_where_a_number_belongs_names_row_and_column(tmp_path):
    """A Parquet spend column of text is read by the number grammar; bad text names its row."""
    frames = weekly_frames()
    frames["spend"].loc[5, "spend"] = "lots"
    frames["spend"].to_parquet(tmp_path / "spend.parquet", index=False)
    with pytest.raises(InputError, match=r"^spend row 6: spend is not a number"):
        MediaData.from_frames(read_table(tmp_path / "spend.parquet", "spend"),
                              frames["outcomes"])


def test_a_parquet_list_column_is_refused_by_name(tmp_path):
    """A Parquet channel column of lists is refused naming the column."""
    pd.DataFrame({"date": ["2024-01-01"], "channel": [["a"]], "spend": [1.0]}).to_parquet(
        tmp_path / "spend.parquet")
    with pytest.raises(InputError, match=r"spend\.parquet cannot be read \(column 'channel' has "
                                         r"type list"):
        read_table(tmp_path / "spend.parquet", "spend")
