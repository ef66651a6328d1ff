"""Tests of the attribution comparison chart (attribution.report)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from attribution.base import AttributionResult
from attribution.models import make_model
from attribution.paths import PathTable
from attribution.report import comparison_figure, plot_comparison
from tests.conftest import svg_texts

DOLLARS = "a$b$c"
SLASHED = r"tv \$ & $x$"


def dollar_results() -> list[AttributionResult]:
    """Last-touch and linear credit of paths over channels whose names hold ``$`` signs."""
    paths = PathTable.from_sequences(
        [[DOLLARS, "search"], ["search"], [SLASHED, DOLLARS], [SLASHED]],
        conversions=[4, 3, 2, 1], nulls=[10, 10, 10, 10])
    last = make_model("last_touch").fit(paths).result
    return [replace(last, model="m$1$"), make_model("linear").fit(paths).result]


def test_channel_and_model_names_are_drawn_literally():
    """Names with $ signs appear whole in the chart instead of being read as mathtext."""
    results = dollar_results()
    texts = svg_texts(lambda: plot_comparison(results, "svg"))
    assert texts.count(DOLLARS) == 1 and texts.count(SLASHED) == 1
    assert "m$1$" in texts and "linear" in texts
    assert texts.index(DOLLARS) < texts.index("search") < texts.index(SLASHED)


def test_comparison_figure_holds_the_shares():
    """The bars are each model's share of conversions in percent, channel by channel."""
    results = dollar_results()
    ax = comparison_figure(results).axes[0]
    widths = np.array([bar.get_width() for bar in ax.patches]).reshape(2, -1)
    for row, result in zip(widths, results, strict=True):
        np.testing.assert_allclose(row, 100 * result.share, rtol=1e-12)
    assert [t.get_text() for t in ax.get_yticklabels()] == \
        [name.replace("$", r"\$") for name in results[0].channels]


@pytest.mark.parametrize(("fmt", "magic"), [("png", b"\x89PNG"), ("svg", b"<?xml")])
def test_chart_bytes_are_reproducible(fmt, magic):
    """The same results give the same bytes, in either format."""
    results = dollar_results()
    first = plot_comparison(results, fmt)
    assert first.startswith(magic) and plot_comparison(results, fmt) == first
