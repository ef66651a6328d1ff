"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attribution.paths import PathTable

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "fixtures" / "golden"


def load_golden(name: str) -> dict[str, Any]:
    """The expected numbers of a golden case."""
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def golden_markov() -> tuple[PathTable, dict[str, Any]]:
    """The three-path Markov case and its hand-derived numbers."""
    return PathTable.read(GOLDEN / "markov_3path.csv"), load_golden("markov_3path")


@pytest.fixture
def golden_heuristics() -> tuple[PathTable, dict[str, Any]]:
    """The small rule-based case and its hand-derived numbers."""
    return PathTable.read(GOLDEN / "heuristics_small.csv"), load_golden("heuristics_small")


@pytest.fixture
def small_paths() -> PathTable:
    """A small table with repeats, single-touch paths, value and a non-converting path."""
    return PathTable.from_sequences(
        [["search", "email"], ["search"], ["feeds", "search"], ["feeds", "feeds", "sms"],
         ["email", "search", "email"], ["sms"], ["feeds"]],
        conversions=[10, 5, 8, 2, 4, 1, 0],
        nulls=[90, 45, 40, 30, 20, 25, 50],
        value=[500, 250, 400, 90, 210, 40, 0],
    )
