"""Tests of what the engines' charts share (spendwise.charts): the lock, text, bytes.

The threaded test draws the charts of both packages at once and compares each
with the same chart drawn alone; the charts are deterministic, so any mixing
of settings or drawing state between threads shows as different bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from attribution.models import make_model
from attribution.paths import PathTable
from attribution.report import plot_comparison
from optimizer.response_summary import plot_response_curves, response_curves
from spendwise.charts import CHART_LOCK, chart_text, compact_number, drawing, figure_bytes
from tests.conftest import svg_texts
from tests.optimizer.conftest import make_draws


@pytest.mark.parametrize(("value", "text"), [
    (0.0, "0"), (0.5, "0.5"), (999.0, "999"), (1500.0, "1.5k"), (250_000.0, "250k"),
    (999_999.0, "1M"), (1_250_000.0, "1.25M"), (-2_000_000.0, "-2M"), (3.2e9, "3.2B"),
    (7e12, "7T"), (0.30000000000000004, "0.3"),
])
def test_compact_number(value, text):
    """Tick values get three significant digits and a thousands suffix."""
    assert compact_number(value) == text


@pytest.mark.parametrize("name", ["a$b$c", "$", "$5 off", r"a\$b", "tv $\\alpha$", "plain"])
def test_chart_text_is_drawn_as_written(name):
    """Any name passed through chart_text is drawn character for character."""
    def draw() -> bytes:
        fig = Figure()
        fig.subplots().set_title(chart_text(name))
        return figure_bytes(fig, "svg")

    assert svg_texts(draw)[-1] == name


def test_the_lock_is_reentrant_and_held_while_drawing():
    """Charts hold the one lock while drawing; a thread holding it may draw again."""
    seen: list[bool] = []

    def probe() -> None:
        seen.append(CHART_LOCK.acquire(blocking=False))

    with drawing(["x"], font_size=7):
        assert matplotlib.rcParams["font.size"] == 7
        worker = threading.Thread(target=probe)
        worker.start()
        worker.join()
        with drawing(["y"], font_size=9):
            assert matplotlib.rcParams["font.size"] == 9
        assert matplotlib.rcParams["font.size"] == 7
    assert seen == [False]


def comparison_chart(index: int, fmt: str) -> Callable[[], bytes]:
    """An attribution chart whose channel names carry ``index`` and ``$`` signs."""
    names = [f"ch{index} $a$", f"search {index}", f"$x{index}"]
    paths = PathTable.from_sequences(
        [[names[0], names[1]], [names[1]], [names[2], names[0]], [names[2]]],
        conversions=[4 + index, 3, 2, 1], nulls=[10, 10, 10, 10])
    results = [make_model("linear").fit(paths).result]
    return lambda: plot_comparison(results, fmt)


def curves_chart(index: int, fmt: str) -> Callable[[], bytes]:
    """A response-curve chart of two channels whose names carry ``index``."""
    draws = make_draws(np.array([[100.0 + index, 80.0]]), np.array([[5e4, 2e5]]),
                       channels=(f"tv ${index}$", f"radio {index}"))
    curves = response_curves(draws)
    return lambda: plot_response_curves(curves, fmt)


def test_concurrent_charts_are_valid_and_each_its_own():
    """Charts drawn from eight threads at once equal the same charts drawn one by one."""
    charts = [(comparison_chart if i % 2 else curves_chart)(i, "svg" if i % 3 else "png")
              for i in range(8)]
    alone = [draw() for draw in charts]
    font_size = matplotlib.rcParams["font.size"]
    start = threading.Barrier(len(charts))

    def run(draw: Callable[[], bytes]) -> bytes:
        start.wait()
        return draw()

    for _ in range(2):
        with ThreadPoolExecutor(len(charts)) as pool:
            together = list(pool.map(run, charts))
        assert together == alone
    assert len(set(alone)) == len(alone)
    for data in alone:
        assert data.startswith((b"\x89PNG\r\n\x1a\n", b"<?xml"))
    assert matplotlib.rcParams["font.size"] == font_size
