"""Charts of plans and forecasts: spend of each allocation, and what each is expected to return.

Rendered to bytes (PNG or SVG) so that callers write files atomically. Channel
names are drawn literally (:func:`spendwise.charts.chart_text`) and every
figure is built and saved under :data:`spendwise.charts.CHART_LOCK`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.problem import horizon_words
from spendwise.charts import chart_text, drawing, figure_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plan_figure(plan: Any) -> Figure:
    """Two panels per channel of an :class:`optimizer.plan.Plan`: horizon spend, current
    against proposed, and expected KPI with its 90% interval (5th to 95th percentile over
    posterior draws)."""
    from matplotlib.figure import Figure

    proposed, current = plan.forecast, plan.current
    channels = list(proposed.channels)
    y = np.arange(len(channels))
    height = 0.38
    with drawing(channels, font_size=9):
        fig = Figure(figsize=(10, 1.4 + 0.45 * len(channels)))
        spend_ax, kpi_ax = fig.subplots(1, 2, sharey=True)
        for offset, forecast, label in ((-height / 2, current, "current"),
                                        (height / 2, proposed, "proposed")):
            spend_ax.barh(y + offset, forecast.spend, height=height, label=label)
            low, mid, high = np.percentile(forecast.kpi, [5, 50, 95], axis=0)
            kpi_ax.barh(y + offset, mid, height=height, label=label,
                        xerr=np.vstack([mid - low, high - mid]), capsize=2)
        spend_ax.set_yticks(y, [chart_text(c) for c in channels])
        spend_ax.invert_yaxis()
        spend_ax.set_xlabel(f"spend over {horizon_words(proposed.horizon_weeks)}")
        kpi_ax.set_xlabel(chart_text(f"expected {proposed.kpi_name} (median, 90% interval)"))
        spend_ax.legend(loc="best", fontsize=8)
        for ax in (spend_ax, kpi_ax):
            ax.grid(axis="x", alpha=0.3)
        fig.suptitle(chart_text(f"Plan ({plan.objective}): current against proposed"))
        fig.tight_layout()
        return fig


def plan_chart(plan: Any, fmt: str = "png") -> bytes:
    """The chart of :func:`plan_figure` as ``png`` or ``svg`` bytes."""
    return figure_bytes(plan_figure(plan), fmt)


def _number(value: Any) -> float:
    """A statistic read from JSON as a float; NaN when absent or not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value) if math.isfinite(value) else math.nan


def allocation_figure(channels: Sequence[str], spend: Mapping[str, Sequence[float]],
                      kpi: Mapping[str, Sequence[Any]], horizon_weeks: float, kpi_name: str,
                      title: str, axes: tuple[str, str] | None = None) -> Figure:
    """Two panels per channel from the JSON form of a plan or forecast.

    Parameters
    ----------
    channels
        Channel names, one bar group each, top to bottom.
    spend
        ``allocation name -> horizon spend per channel`` (e.g. ``current``, ``proposed``).
    kpi
        ``allocation name -> interval dictionary per channel`` (``p05``, ``p50``,
        ``p95``, as :func:`optimizer.forecast.interval`); a missing or non-finite
        statistic draws no bar.
    horizon_weeks, kpi_name, title
        Axis labels and the title.
    axes
        The two axis labels as written (in the reader's language), instead of the
        English ones made from ``horizon_weeks`` and ``kpi_name``.

    Returns
    -------
    matplotlib.figure.Figure
        Horizon spend of each allocation, and expected KPI (median, 90% interval).
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    y = np.arange(len(channels))
    with drawing(channels, font_size=9):
        fig = Figure(figsize=(10, 1.4 + 0.45 * len(channels)))
        spend_ax, kpi_ax = fig.subplots(1, 2, sharey=True)
        for ax, series in ((spend_ax, spend), (kpi_ax, kpi)):
            height = 0.8 / max(1, len(series))
            for i, (name, values) in enumerate(series.items()):
                offset = (i - (len(series) - 1) / 2) * height
                if ax is spend_ax:
                    ax.barh(y + offset, np.asarray(values, dtype=float), height=height,
                            label=chart_text(name))
                    continue
                low, mid, high = (np.array([_number(s.get(k)) if isinstance(s, Mapping)
                                            else math.nan for s in values])
                                  for k in ("p05", "p50", "p95"))
                err = np.nan_to_num(np.vstack([mid - low, high - mid])).clip(min=0)
                ax.barh(y + offset, np.nan_to_num(mid), height=height, label=chart_text(name),
                        xerr=err, capsize=2)
            ax.grid(axis="x", alpha=0.3)
            ax.legend(loc="best", fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        spend_ax.set_yticks(y, [chart_text(c) for c in channels])
        spend_ax.invert_yaxis()
        spend_label, kpi_label = axes or (f"spend over {horizon_words(horizon_weeks)}",
                                          f"expected {kpi_name} (median, 90% interval)")
        spend_ax.set_xlabel(chart_text(spend_label))
        kpi_ax.set_xlabel(chart_text(kpi_label))
        fig.suptitle(chart_text(title))
        fig.tight_layout()
        return fig


def allocation_chart(channels: Sequence[str], spend: Mapping[str, Sequence[float]],
                     kpi: Mapping[str, Sequence[Any]], horizon_weeks: float, kpi_name: str,
                     title: str, fmt: str = "svg", axes: tuple[str, str] | None = None) -> bytes:
    """The chart of :func:`allocation_figure` as ``svg`` (default) or ``png`` bytes."""
    return figure_bytes(allocation_figure(channels, spend, kpi, horizon_weeks, kpi_name, title,
                                          axes),
                        fmt)
