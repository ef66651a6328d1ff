"""The chart of a budget frontier: expected KPI and the return of the last unit, by budget.

Two panels over the total budget of the horizon (:class:`optimizer.frontier.Frontier`):
the expected KPI of the best plan at each budget with its 90% band (5th to
95th percentile over the posterior draws) and the current allocation as a
point, and the marginal return (the water-filling level) per ``per``
currency units. The current budget is a dashed line, the reference budget
a dotted one. The words are arguments, so a page draws them in its reader's
language; text stays text in SVG.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from spendwise.charts import chart_text, compact_number, drawing, figure_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The chart's words, in English; a caller may replace any of them.
LABELS = {
    "budget": "total budget of the period",
    "kpi": "expected {kpi} (mean, 90% band)",
    "marginal": "{kpi} from the next {per}",
    "best": "best plan at each budget",
    "band": "90% band",
    "today": "today's allocation",
    "current": "current budget",
    "reference": "reference budget",
}


def frontier_figure(frontier: Any, *, per: float = 1000.0,
                    labels: Mapping[str, str] | None = None) -> Figure:
    """Expected KPI (with band) and marginal return against the budget.

    Parameters
    ----------
    frontier
        An :class:`optimizer.frontier.Frontier`.
    per
        The marginal return is drawn per this many currency units.
    labels
        Words replacing those of :data:`LABELS`; ``{kpi}`` and ``{per}`` are filled in.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    words = {**LABELS, **(labels or {})}
    fill = {"kpi": frontier.kpi_name, "per": compact_number(per)}
    text = {k: chart_text(v.format(**fill)) for k, v in words.items()}
    budgets = frontier.budgets
    low, high = np.percentile(frontier.kpi, [5, 95], axis=1)
    with drawing(list(text.values()), font_size=9):
        fig = Figure(figsize=(9, 6.2))
        kpi_ax, marginal_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        kpi_ax.fill_between(budgets, low, high, alpha=0.25, label=text["band"])
        kpi_ax.plot(budgets, frontier.expected_kpi, marker="o", markersize=3,
                    label=text["best"])
        kpi_ax.plot([frontier.current_budget], [float(np.mean(frontier.current_kpi))],
                    marker="D", linestyle="none", color="black", label=text["today"])
        marginal_ax.plot(budgets, per * frontier.levels, marker="o", markersize=3,
                         color="tab:orange")
        for ax in (kpi_ax, marginal_ax):
            ax.axvline(frontier.current_budget, linestyle="--", color="gray",
                       label=text["current"] if ax is kpi_ax else None)
            if not np.isclose(frontier.reference, frontier.current_budget, rtol=1e-3):
                ax.axvline(frontier.reference, linestyle=":", color="gray",
                           label=text["reference"] if ax is kpi_ax else None)
            ax.grid(alpha=0.3)
            ax.yaxis.set_major_formatter(FuncFormatter(compact_number))
        marginal_ax.set_ylim(bottom=0)
        marginal_ax.xaxis.set_major_formatter(FuncFormatter(compact_number))
        kpi_ax.set_ylabel(text["kpi"])
        marginal_ax.set_ylabel(text["marginal"])
        marginal_ax.set_xlabel(text["budget"])
        kpi_ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        return fig


def frontier_chart(frontier: Any, fmt: str = "svg", *, per: float = 1000.0,
                   labels: Mapping[str, str] | None = None) -> bytes:
    """The chart of :func:`frontier_figure` as ``svg`` or ``png`` bytes."""
    return figure_bytes(frontier_figure(frontier, per=per, labels=labels), fmt)
