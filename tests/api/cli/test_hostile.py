"""Hostile files on the command line: one line naming the problem, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from api.cli import main as spendwise

PATHS_HEAD = "path,conversions,nulls\n"
TOUCHES_HEAD = "user_id,timestamp,channel\n"
CONVERSIONS = "user_id,timestamp\nperson-SECRET-7,2024-01-02\n"


def wide() -> str:
    """A paths file of 100,000 columns."""
    names = ["path", "conversions", "nulls", *(f"c{i}" for i in range(99_997))]
    return ",".join(names) + "\n" + ",".join(["a > b", "1", "0", *["0"] * 99_997]) + "\n"


#: (what the case is, the file's name, its content, the command, what the one line says).
CASES: list[tuple[str, str, Any, list[str], str]] = [
    ("100,000 columns", "paths.csv", wide(), ["attribute"], "at most 1,000 are allowed"),
    ("a line of 1.6 MB", "paths.csv", PATHS_HEAD + "a > " * 400_000 + "b,1,0\n",
     ["attribute"], "longer than 1,048,576 bytes"),
    ("counts adding up to infinity", "paths.csv", PATHS_HEAD + "a,1e308,0\nb,1e308,0\n",
     ["attribute"], "add up to more than"),
    ("a NUL in a channel", "paths.csv", PATHS_HEAD + "a\x00x > b,1,0\n", ["attribute"],
     "row 1: path has a control character"),
    ("text in a count", "paths.csv", PATHS_HEAD + "a > b,12abc,0\n", ["attribute"],
     "row 1: conversions is not a number"),
    ("a list where a path is", "paths.parquet",
     pa.table({"path": [["a", "b"]], "conversions": [1.0], "nulls": [0.0]}), ["attribute"],
     "column 'path' has type list"),
    ("bootstrap on huge counts", "paths.csv", PATHS_HEAD + "a > b,1e17,1e17\n",
     ["attribute", "--bootstrap", "10"], "bootstrap"),
    ("a date past 9999", "touches.csv",
     TOUCHES_HEAD + "person-SECRET-7,10000-01-01,search\n", ["paths"],
     "row 1: timestamp is outside the years 1 to 9999"),
]


@pytest.mark.parametrize(("name", "content", "command", "message"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_files_give_one_line_and_write_nothing(tmp_path: Path, capsys, name, content,
                                                       command, message):
    """Each hostile file stops the command with one line that names the problem."""
    source = tmp_path / name
    if isinstance(content, pa.Table):
        pq.write_table(content, source)
    else:
        source.write_text(content, encoding="utf-8")
    output = tmp_path / "out.csv"
    if command[0] == "paths":
        conversions = tmp_path / "conversions.csv"
        conversions.write_text(CONVERSIONS, encoding="utf-8")
        argv = ["paths", source, conversions, "-o", output]
    else:
        argv = [command[0], source, *command[1:], "-o", output]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert spendwise([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spendwise: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert "SECRET" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
