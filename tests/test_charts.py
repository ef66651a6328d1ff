"""Tests of what the engines' charts share (spendwise.charts): the lock, text, fonts, bytes.

The threaded test draws the charts of both packages at once and compares each
with the same chart drawn alone; the charts are deterministic, so any mixing
of settings or drawing state between threads shows as different bytes. The
font tests hide the system's CJK fonts from matplotlib's font manager, as a
cache built before they were installed would, and need one such font on the
machine (Debian: ``apt-get install fonts-noto-cjk``).
"""

from __future__ import annotations

import io
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import matplotlib
import numpy as np
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure

from attribution.models import make_model
from attribution.paths import PathTable
from attribution.report import plot_comparison
from optimizer.response_summary import plot_response_curves, response_curves
from spendwise import charts
from spendwise.charts import (
    CHART_LOCK,
    chart_fonts,
    chart_text,
    cjk_font_files,
    compact_number,
    drawing,
    figure_bytes,
    register_cjk_font,
)
from tests.conftest import svg_texts
from tests.optimizer.conftest import make_draws

#: A channel name in Chinese ("WeChat Moments").
CHINESE = "微信朋友圈"
#: Debian's Noto Sans CJK (fonts-noto-cjk), the font CI installs.
NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


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


# -- fonts for other scripts -----------------------------------------------------------------------


@pytest.fixture
def cjk_files() -> tuple[Path, ...]:
    """The CJK font files of this machine, best first; skips the test when there are none."""
    found = cjk_font_files()
    if not found:
        pytest.skip("no CJK font on this machine (Debian: apt-get install fonts-noto-cjk)")
    return found


def hide_fonts(manager: Any, files: tuple[Path, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove ``files`` from ``manager``, as if its cache predated them, and forget that
    :func:`register_cjk_font` gave it one."""
    hidden = {os.path.realpath(path) for path in files}
    monkeypatch.setattr(manager, "ttflist", [entry for entry in manager.ttflist
                                             if os.path.realpath(entry.fname) not in hidden])
    monkeypatch.setattr(charts, "_CJK_FAMILIES", weakref.WeakKeyDictionary())
    manager._findfont_cached.cache_clear()


@pytest.fixture
def cache_without_cjk(cjk_files: tuple[Path, ...],
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Matplotlib's own font manager without the system's CJK fonts, restored afterwards."""
    manager = font_manager.fontManager
    hide_fonts(manager, cjk_files, monkeypatch)
    yield manager
    monkeypatch.undo()
    manager._findfont_cached.cache_clear()  # lookups made while the fonts were hidden


def chinese_chart(fmt: str) -> bytes:
    """An attribution chart of a Chinese channel and a Latin one."""
    paths = PathTable.from_sequences([[CHINESE, "search"], ["search"], [CHINESE]],
                                     conversions=[4, 3, 2], nulls=[10, 10, 10])
    return plot_comparison([make_model("linear").fit(paths).result], fmt)


def missing_glyphs(families: list[str], text: str) -> list[str]:
    """Matplotlib's warnings of glyphs it cannot find while drawing ``text`` in ``families``."""
    with CHART_LOCK, matplotlib.rc_context({"font.family": families}), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = Figure()
        fig.text(0.1, 0.5, text)
        fig.savefig(io.BytesIO(), format="png")
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_cjk_font_files_are_found_by_name_and_by_fontconfig(monkeypatch):
    """Noto Sans CJK is found by its file name without fontconfig, and by fontconfig alone."""
    if not NOTO.exists():
        pytest.skip(f"{NOTO} is not installed (Debian: apt-get install fonts-noto-cjk)")
    lookup = cjk_font_files.__wrapped__  # not the once-per-process answer
    assert NOTO in lookup() and lookup()[0].name == NOTO.name
    with monkeypatch.context() as patch:
        patch.setattr(charts.shutil, "which", lambda _name: None)
        assert NOTO in lookup() and lookup()[0].name == NOTO.name
    if charts.shutil.which("fc-list"):
        monkeypatch.setattr(charts, "font_dirs", lambda: [])
        assert NOTO in lookup()


def test_cjk_font_is_registered_with_a_manager_that_lacks_it(cjk_files, monkeypatch):
    """A fresh font manager without the system's CJK fonts is given the best one, once."""
    manager = font_manager.FontManager()
    hide_fonts(manager, cjk_files, monkeypatch)
    before = len(manager.ttflist)
    family = register_cjk_font(manager)
    best = os.path.realpath(cjk_files[0])
    added = manager.ttflist[before:]
    assert added and {os.path.realpath(entry.fname) for entry in added} == {best}
    assert family == added[0].name
    if cjk_files[0].name == NOTO.name:
        assert family == "Noto Sans CJK JP"
        assert {"Noto Sans CJK SC", "Noto Sans CJK KR"} <= {entry.name for entry in added}
    path = manager.findfont(font_manager.FontProperties(family=family),
                            fallback_to_default=False)
    assert os.path.realpath(path) == best
    assert all(font_manager.get_font(path).get_char_index(ord(ch)) for ch in CHINESE)
    assert register_cjk_font(manager) == family and len(manager.ttflist) == before + len(added)


def test_png_chart_draws_chinese_with_a_font_missing_from_the_cache(request):
    """With the CJK fonts hidden from matplotlib's cache, the PNG still has every glyph."""
    expected = chinese_chart("png")
    request.getfixturevalue("cache_without_cjk")
    assert missing_glyphs(["DejaVu Sans"], CHINESE)  # the check sees boxes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        families = chart_fonts([CHINESE])
        drawn = chinese_chart("png")
    assert missing_glyphs(families, CHINESE) == []
    assert families[0] == "DejaVu Sans" and families[-1] == "sans-serif" and len(families) > 2
    assert drawn == expected  # the same font as when the cache lists it


def test_no_cjk_font_warns_once_per_chart(monkeypatch):
    """Without any CJK font a chart of a Chinese name warns, once, that it shows boxes."""
    monkeypatch.setattr(charts, "cjk_font_files", lambda: ())
    monkeypatch.setattr(charts, "FALLBACK_FONTS", ())
    monkeypatch.setattr(charts, "_CJK_FAMILIES", weakref.WeakKeyDictionary())
    with pytest.warns(UserWarning, match="no font for some channel names") as caught:
        chinese_chart("png")
    assert len(caught) == 1
    assert chart_fonts(["search"]) == ["DejaVu Sans", "sans-serif"]


def test_svg_chart_keeps_channel_names_as_text():
    """SVG charts hold names as <text>, with no glyph outlines, for the browser to draw."""
    data = chinese_chart("svg").decode("utf-8")
    assert f">{CHINESE}</text>" in data and 'id="DejaVuSans-' not in data
    root = ElementTree.fromstring(data)
    texts = ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]
    assert CHINESE in texts and "search" in texts
    assert chinese_chart("svg").decode("utf-8") == data
