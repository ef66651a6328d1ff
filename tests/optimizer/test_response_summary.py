"""Tests of the response-curve chart (optimizer.response_summary)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from optimizer.errors import ParameterError
from optimizer.response_summary import (
    plot_response_curves,
    response_curves,
    response_curves_figure,
)
from spendwise.charts import CHART_LOCK
from tests.conftest import svg_texts
from tests.optimizer.conftest import make_draws

CHANNELS = ("a$b$c", "radio", "search", "tv")


def large_curves():
    """Curves of four channels whose grids run to 750,000 a week (1.5 x 500,000) and less."""
    draws = make_draws(np.array([[900.0, 700.0, 1200.0, 500.0]]),
                       np.array([[2e5, 1.5e5, 3e5, 1e5]]), channels=CHANNELS,
                       current=[2e5, 1e5, 3e5, 5e4], max_weekly=[5e5, 2.5e5, 4e5, 1.5e5])
    return response_curves(draws)


def test_channel_names_are_drawn_literally():
    """A channel named a$b$c titles its panel as written, not as mathtext."""
    texts = svg_texts(lambda: plot_response_curves(large_curves(), "svg"))
    assert texts.count("a$b$c") == 1
    assert texts.count("weekly conversions") == len(CHANNELS)


def visible_tick_labels(ax, axis: str) -> list:
    """The drawn tick labels of one axis of ``ax`` (those inside the view limits)."""
    which = ax.xaxis if axis == "x" else ax.yaxis
    low, high = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    return [tick.label1 for tick in which.get_major_ticks()
            if low <= tick.get_loc() <= high and tick.label1.get_visible()
            and tick.label1.get_text()]


def test_large_spend_ticks_are_compact_and_apart():
    """Spend ticks to 750,000 read 0, 250k, 500k, 750k; labels stay 10 pixels apart or more."""
    curves = large_curves()
    fig = response_curves_figure(curves)
    with CHART_LOCK:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
    first = fig.axes[0]
    assert first.get_xlim()[1] == pytest.approx(7.5e5 * 1.05, rel=1e-9)  # default 5% margin
    x_labels = visible_tick_labels(first, "x")
    assert [t.get_text() for t in x_labels] == ["0", "250k", "500k", "750k"]
    for ax in fig.axes:
        for axis in ("x", "y"):
            boxes = sorted((t.get_window_extent(renderer) for t in
                            visible_tick_labels(ax, axis)),
                           key=lambda b: b.x0 if axis == "x" else b.y0)
            assert 3 <= len(boxes) <= 6
            for a, b in pairwise(boxes):
                gap = b.x0 - a.x1 if axis == "x" else b.y0 - a.y1
                assert gap >= 10, (ax.get_title(), axis, gap)


def test_unknown_format_is_refused():
    """Only png and svg charts are drawn."""
    with pytest.raises(ParameterError, match="png or svg"):
        plot_response_curves(large_curves(), "pdf")
