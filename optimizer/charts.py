"""Charts of plans: current against proposed spend, and what each is expected to return.

Rendered to bytes (PNG or SVG) so that callers write files atomically.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def plan_chart(plan: Any, fmt: str = "png") -> bytes:
    """Two panels per channel: horizon spend, current against proposed, and expected KPI
    with its 90% interval (5th to 95th percentile over posterior draws)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from attribution.report import chart_fonts, figure_bytes

    proposed, current = plan.forecast, plan.current
    channels = list(proposed.channels)
    y = np.arange(len(channels))
    height = 0.38
    rc: Any = {"svg.hashsalt": "spendwise", "font.size": 9, "font.family": chart_fonts(channels)}
    with plt.rc_context(rc):
        fig, (spend_ax, kpi_ax) = plt.subplots(
            1, 2, figsize=(10, 1.4 + 0.45 * len(channels)), sharey=True)
        for offset, forecast, label in ((-height / 2, current, "current"),
                                        (height / 2, proposed, "proposed")):
            spend_ax.barh(y + offset, forecast.spend, height=height, label=label)
            low, mid, high = np.percentile(forecast.kpi, [5, 50, 95], axis=0)
            kpi_ax.barh(y + offset, mid, height=height, label=label,
                        xerr=np.vstack([mid - low, high - mid]), capsize=2)
        spend_ax.set_yticks(y, channels)
        spend_ax.invert_yaxis()
        spend_ax.set_xlabel(f"spend over {proposed.horizon_weeks} weeks")
        kpi_ax.set_xlabel(f"expected {proposed.kpi_name} (median, 90% interval)")
        spend_ax.legend(loc="best", fontsize=8)
        for ax in (spend_ax, kpi_ax):
            ax.grid(axis="x", alpha=0.3)
        fig.suptitle(f"Plan ({plan.objective}): current against proposed")
        fig.tight_layout()
        return figure_bytes(fig, fmt)
