"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

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


def svg_texts(draw: Callable[[], bytes]) -> list[str]:
    """The strings an SVG chart shows, drawn by ``draw`` with text kept as ``<text>`` elements.

    Matplotlib draws mathtext as separate pieces without the ``$`` signs, so a label
    read as mathtext never appears here whole.
    """
    import matplotlib

    from spendwise.charts import CHART_LOCK

    with CHART_LOCK, matplotlib.rc_context({"svg.fonttype": "none"}):
        root = ElementTree.fromstring(draw())
    return ["".join(node.itertext()).strip()
            for node in root.iter("{http://www.w3.org/2000/svg}text")]
