"""Reports of attribution results: JSON, CSV, a text table and a comparison chart.

Everything here renders to bytes in memory; writing files is left to the
caller, so a failure never leaves a half-written report behind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from attribution.base import AttributionResult
from spendwise.charts import chart_text, drawing, figure_bytes
from spendwise.export import to_csv

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = ("json", "csv", "table")
def to_json(results: Sequence[AttributionResult]) -> str:
    """One JSON object per model; a list of them when there are several."""
    payload: Any = [r.to_dict() for r in results]
    if len(payload) == 1:
        payload = payload[0]
    return json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def comparison_table(results: Sequence[AttributionResult]) -> pd.DataFrame:
    """Channel tables of several models stacked, one row per model and channel."""
    return pd.concat([r.channel_table() for r in results], ignore_index=True)


def to_table(results: Sequence[AttributionResult]) -> str:
    """A fixed-width text table for reading in a terminal, intervals in brackets."""
    blocks = []
    for result in results:
        rows = {"channel": list(result.channels)}
        rows["conversions"] = [f"{x:,.1f}" for x in result.conversions]
        rows["share"] = [f"{100 * x:.1f}%" for x in result.share]
        rows["value"] = [f"{x:,.0f}" for x in result.value]
        if result.intervals is not None:
            level = f"{100 * result.intervals.level:g}%"
            ivs = result.intervals.by_channel
            rows[f"conversions {level} CI"] = [
                f"[{i.conversions[0]:,.1f}, {i.conversions[1]:,.1f}]" for i in ivs]
            rows[f"share {level} CI"] = [
                f"[{100 * i.share[0]:.1f}%, {100 * i.share[1]:.1f}%]" for i in ivs]
        frame = pd.DataFrame(rows)
        header = (f"{result.model}: {result.total_conversions:,.1f} conversions, "
                  f"value {result.total_value:,.2f}")
        with pd.option_context("display.unicode.east_asian_width", True):
            blocks.append(header + "\n" + frame.to_string(index=False))
    return "\n\n".join(blocks) + "\n"


def render(results: Sequence[AttributionResult], fmt: str) -> str:
    """The report in ``fmt`` (``json``, ``csv`` or ``table``)."""
    if fmt == "json":
        return to_json(results)
    if fmt == "csv":
        return to_csv(comparison_table(results))
    return to_table(results)


#: The words of the comparison chart, in English; a page in another language passes its own.
COMPARISON_WORDS = {"axis": "share of conversions (%)",
                    "title": "Attributed conversions by channel and model"}


def comparison_figure(results: Sequence[AttributionResult],
                      words: Mapping[str, str] | None = None) -> Figure:
    """Grouped bars of each channel's share of conversions by model, with the
    bootstrap intervals as error bars when present, labelled in ``words``
    (:data:`COMPARISON_WORDS` by default).

    Channel and model names are drawn literally (:func:`spendwise.charts.chart_text`);
    the figure is built under :data:`spendwise.charts.CHART_LOCK`.
    """
    from matplotlib.figure import Figure

    channels = list(results[0].channels)
    n_models = len(results)
    height = 0.8 / n_models
    y = np.arange(len(channels))
    with drawing(channels, font_size=9):
        fig = Figure(figsize=(8, 1.2 + 0.45 * len(channels) * max(1, n_models / 2)))
        ax = fig.subplots()
        for i, result in enumerate(results):
            share = 100 * result.share
            err = None
            if result.intervals is not None:
                bounds = 100 * np.array([iv.share for iv in result.intervals.by_channel])
                err = np.vstack([share - bounds[:, 0], bounds[:, 1] - share]).clip(min=0)
            ax.barh(y + (i - (n_models - 1) / 2) * height, share, height=height,
                    xerr=err, capsize=2, label=chart_text(result.model))
        ax.set_yticks(y, [chart_text(c) for c in channels])
        ax.invert_yaxis()
        said = {**COMPARISON_WORDS, **(words or {})}
        ax.set_xlabel(said["axis"])
        ax.set_title(said["title"])
        ax.legend(loc="lower right", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        return fig


def plot_comparison(results: Sequence[AttributionResult], fmt: str = "png",
                    words: Mapping[str, str] | None = None) -> bytes:
    """The chart of :func:`comparison_figure` as ``png`` or ``svg`` bytes."""
    return figure_bytes(comparison_figure(results, words), fmt)
