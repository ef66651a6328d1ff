"""Hostile uploads over HTTP, on SQLite and PostgreSQL: each is a 4xx problem naming the
field, row or column, and leaves every table and the data directory as they were."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from api.app import PROBLEM_JSON
from api.tables import Base, Dataset

PARQUET = "application/vnd.apache.parquet"
#: Ids that must never appear in an answer about a touches or conversions upload.
SECRET_IDS = ("user-SECRET-000123", "user-SECRET-000456")
DATES = [f"{d:%Y-%m-%d}" for d in pd.date_range("2024-01-01", periods=4, freq="7D")]


def spend_csv(*, cell: str = "10", date: str = DATES[1], channel: str = "feeds",
              extra: str = "") -> bytes:
    """A small weekly spend table whose second row holds the given cell, date and channel."""
    rows = [f"{DATES[0]},search,5", f"{date},{channel},{cell}",
            *(f"{d},search,7" for d in DATES[2:])]
    return ("date,channel,spend\n" + "\n".join(rows) + "\n" + extra).encode()


def parquet(frame: pd.DataFrame) -> bytes:
    """A frame written as Parquet, in memory."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def touches_csv(timestamp: str = "2024-01-02", channel: str = "email") -> bytes:
    """Touches of two recognisable users; the second row holds the given cells."""
    return (f"user_id,timestamp,channel\n{SECRET_IDS[0]},2024-01-01,search\n"
            f"{SECRET_IDS[1]},{timestamp},{channel}\n").encode()


@dataclass(frozen=True)
class Case:
    """One hostile request: what is sent, the status and the words the detail must hold."""

    kind: str
    body: bytes
    words: tuple[str, ...]
    media_type: str = "text/csv"
    status: int = 422
    seconds: float | None = None
    personal: bool = False
    patch: Callable[[pytest.MonkeyPatch], None] | None = field(default=None, compare=False)


def failing_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the database refuse the new dataset's row at flush, as it would a bad JSON value."""
    flush = Session.flush

    def refusing(self: Session, *args: Any, **kwargs: Any) -> None:
        if any(isinstance(row, Dataset) for row in self.new):
            raise DataError("INSERT INTO datasets", {}, Exception("unsupported Unicode escape"))
        flush(self, *args, **kwargs)

    monkeypatch.setattr(Session, "flush", refusing)


WIDE = ("date,channel,spend," + ",".join(f"x{i}" for i in range(100_000)) + "\n").encode()
CASES = {
    "100,000 columns": Case("spend", WIDE, ("spend.csv cannot be read", "100,003 columns",
                                            "at most 1,000"), seconds=1.0),
    "over-long line": Case("spend", spend_csv(extra=f"{DATES[3]},x," + "9" * (1 << 20) + "\n"),
                           ("spend.csv cannot be read", "line 6 is longer than 1,048,576")),
    "year 10000 in spend": Case("spend", spend_csv(date="10000-01-01"),
                                ("spend row 2: date is not a date",)),
    "year 10000 in touches": Case("touches", touches_csv(timestamp="10000-01-08"),
                                  ("touches.csv: row 2: timestamp is outside the years 1 to "
                                   "9999",), personal=True),
    "Parquet list column": Case("spend", parquet(pd.DataFrame(
        {"date": DATES[:2], "channel": [["search"], ["feeds"]], "spend": [1.0, 2.0]})),
        ("spend.parquet cannot be read", "column 'channel' has type list"), PARQUET),
    "Parquet text in a number column": Case("spend", parquet(pd.DataFrame(
        {"date": DATES[:2], "channel": ["search", "feeds"], "spend": ["1", "lots"]})),
        ("spend row 2: spend is not a number",), PARQUET),
    "text in a number column": Case("spend", spend_csv(cell="12abc"),
                                    ("spend row 2: spend is not a number",)),
    "number with a blank": Case("conversions", (f"user_id,timestamp,value\n{SECRET_IDS[0]},"
                                                "2024-01-02,1e3 \n").encode(),
                                ("conversions.csv: row 1: value is not a number",),
                                personal=True),
    "hexadecimal": Case("spend", spend_csv(cell="0x10"), ("spend row 2: spend is not a number",)),
    "counts adding up to infinity": Case("paths", b"path,conversions,nulls\na,1e308,0\n"
                                                  b"b,1e308,0\n",
                                         ("column 'conversions': the values add up",)),
    "spend adding up to infinity": Case("spend", spend_csv(cell="1.7e308").replace(
        b"search,5", b"search,1.7e308"), ("column 'spend': the values add up",)),
    "NUL in a spend channel": Case("spend", spend_csv(channel="fe\x00eds"),
                                   ("spend row 2: channel has a control character",)),
    "NUL in a path": Case("paths", b"path,conversions,nulls\na > b\x00c,1,0\n",
                          ("row 1: path has a control character",)),
    "NUL in a touch channel": Case("touches", touches_csv(channel="e\x00mail"),
                                   ("touches.csv: row 2: channel has a control character",),
                                   personal=True),
    "row wider than the header": Case("touches", touches_csv() + f"{SECRET_IDS[1]},2024-01-03,"
                                      f"email,{SECRET_IDS[0]}\n".encode(),
                                      ("touches.csv: cannot be read (row 3 has 4 fields",),
                                      personal=True),
    "no header": Case("touches", touches_csv().split(b"\n", 1)[1],
                      ("missing column 'user_id'", "not shown"), personal=True),
    "summary fails to store": Case("lift_tests", b"channel,spend_before,spend_after,lift,"
                                                 b"lift_sd\nsearch,1,2,3,1\n",
                                   ("cannot be stored", "database refused"), patch=failing_flush),
}


def headers(client: Any, admin: dict[str, str]) -> dict[str, str]:
    """The owner key of a new workspace."""
    assert client.post("/v1/workspaces", json={"name": "acme"}, headers=admin).status_code == 201
    key = client.post("/v1/keys", json={"role": "owner", "workspace": "acme"}, headers=admin)
    return {"Authorization": f"Bearer {key.json['key']}"}


def state(client: Any) -> tuple[dict[str, int], set[tuple[str, int]]]:
    """Row counts of every table and every file under the data directory."""
    services = client.application.extensions["spendwise"]
    with services.sessions() as session:
        rows = {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables}
    root = Path(services.settings.data_dir)
    files = {(str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file()}
    return rows, files


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_upload_is_a_4xx_that_changes_nothing(client, admin, monkeypatch, case):
    """Each hostile upload is a 4xx problem naming what is wrong; no row or file changes."""
    spec = CASES[case]
    owner = headers(client, admin)
    before = state(client)
    if spec.patch is not None:
        spec.patch(monkeypatch)
    start = time.perf_counter()
    response = client.post("/v1/datasets", query_string={"kind": spec.kind, "name": case},
                           data=spec.body, headers={**owner, "Content-Type": spec.media_type})
    elapsed = time.perf_counter() - start
    assert (response.status_code, response.content_type) == (spec.status, PROBLEM_JSON), \
        response.get_data(as_text=True)[:500]
    detail = response.json["detail"]
    assert all(words in detail for words in spec.words), detail
    assert len(detail) < 400, detail
    if spec.seconds is not None:
        assert elapsed < spec.seconds, elapsed
    if spec.personal:
        text = response.get_data(as_text=True)
        assert not any(user_id in text for user_id in SECRET_IDS), text
    monkeypatch.undo()
    assert state(client) == before


def test_bootstrap_on_huge_counts_is_a_4xx_naming_the_limit(client, admin):
    """A report bootstrapping paths of 2e18 journeys is refused naming the limit; no row."""
    owner = headers(client, admin)
    body = b"path,conversions,nulls\na,1e18,0\na > b,1e18,1\n"
    upload = client.post("/v1/datasets", query_string={"kind": "paths", "name": "huge"},
                         data=body, headers={**owner, "Content-Type": "text/csv"})
    assert upload.status_code == 201, upload.json
    before = state(client)
    for method in ("poisson", "multinomial"):
        response = client.post("/v1/reports", headers=owner, json={
            "dataset": upload.json["id"], "models": ["last_touch"],
            "settings": {"bootstrap": 10, "bootstrap_method": method}})
        assert (response.status_code, response.content_type) == (422, PROBLEM_JSON), \
            response.json
        assert "more than the 1e+15 the bootstrap" in response.json["detail"]
        assert state(client) == before
