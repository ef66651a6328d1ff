"""Summaries of posterior response: curves on a spend grid, contributions, a chart.

Pure functions of :class:`~optimizer.posterior.ResponseDraws` (or of draws of
contributions), so they work on a fitted model and on hand-built draws alike.
For draw ``d``, channel ``c`` and weekly spend ``x`` held constant (steady
state), the weekly KPI is ``beta[d, c] * s(x; lam[d, c])`` and the marginal
ROMI is ``v_c * beta[d, c] * s'(x; lam[d, c])``: revenue from the next unit of
weekly spend, ``v_c`` the value per unit of KPI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from optimizer.errors import InputError, ParameterError
from optimizer.posterior import ResponseDraws
from spendwise.charts import chart_text, compact_number, drawing, figure_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Array = NDArray[np.float64]
#: Statistics reported for each quantity, in this order.
STATS = ("mean", "p5", "p50", "p95")
DEFAULT_GRID_POINTS = 41
#: The default grid runs from 0 to this multiple of the largest weekly spend.
GRID_REACH = 1.5
#: Tick spacings allowed on the chart's axes (times a power of ten).
TICK_STEPS = (1, 2, 2.5, 5, 10)


def summarise(draws: Array, axis: int = 0) -> Array:
    """Mean and 5/50/95% quantiles over ``axis``, stacked on a new last axis."""
    q = np.quantile(draws, [0.05, 0.5, 0.95], axis=axis)
    return np.asarray(np.stack([draws.mean(axis=axis), *q], axis=-1))


@dataclass(frozen=True, eq=False)
class ResponseCurves:
    """Weekly KPI and marginal ROMI per channel on a spend grid.

    ``spend`` is ``(channels, points)``; ``kpi`` and ``romi`` are
    ``(channels, points, 4)`` with the statistics :data:`STATS`.
    """

    channels: tuple[str, ...]
    spend: Array
    kpi: Array
    romi: Array
    current: Array
    kpi_name: str = "conversions"

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per channel and spend, for CSV."""
        rows: dict[str, Any] = {
            "channel": np.repeat(self.channels, self.spend.shape[1]),
            "spend": self.spend.ravel(),
        }
        for name, values in (("kpi", self.kpi), ("romi", self.romi)):
            for i, stat in enumerate(STATS):
                rows[f"{name}_{stat}"] = values[..., i].ravel()
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: per channel its grid and statistics."""
        out = []
        for i, channel in enumerate(self.channels):
            entry: dict[str, Any] = {"channel": channel, "current": float(self.current[i]),
                                     "spend": self.spend[i].tolist()}
            for name, values in (("kpi", self.kpi), ("romi", self.romi)):
                entry[name] = {s: values[i, :, j].tolist() for j, s in enumerate(STATS)}
            out.append(entry)
        return {"kpi": self.kpi_name, "unit": "per week, steady state", "channels": out}


def spend_grid(draws: ResponseDraws, grid: ArrayLike | None = None) -> Array:
    """``(channels, points)`` grid: ``grid`` per channel or shared, else 0 to 1.5 x max."""
    c = draws.n_channels
    if grid is None:
        top = GRID_REACH * np.maximum(draws.max_weekly_spend, draws.current)
        return np.asarray(np.linspace(0.0, 1.0, DEFAULT_GRID_POINTS)[None, :] * top[:, None])
    g = np.asarray(grid, dtype=float)
    if g.ndim == 1:
        g = np.broadcast_to(g, (c, len(g)))
    if g.ndim != 2 or g.shape[0] != c or not np.all(np.isfinite(g)) or np.any(g < 0):
        raise InputError(f"grid: expected non-negative spends, shape (points,) or ({c}, points)")
    return np.asarray(g, dtype=float).copy()


def response_curves(draws: ResponseDraws, grid: ArrayLike | None = None) -> ResponseCurves:
    """Posterior summary of each channel's steady-state response on a spend grid."""
    x = spend_grid(draws, grid)  # (C, G)
    beta, lam = draws.beta[:, :, None], draws.lam[:, :, None]
    kpi = beta * draws.family.numpy(x[None], lam)  # (D, C, G)
    romi = draws.revenue_factor[:, :, None] * beta * draws.family.derivative(x[None], lam)
    return ResponseCurves(draws.channels, x, summarise(kpi), summarise(romi),
                          np.asarray(draws.current, dtype=float), draws.kpi)


@dataclass(frozen=True, eq=False)
class Contributions:
    """Each channel's total KPI over the fit weeks: ``(channels, 4)`` statistics,
    and its share of total media contribution."""

    channels: tuple[str, ...]
    total: Array
    share: Array
    weeks: int
    kpi_name: str = "conversions"

    @classmethod
    def of(cls, channels: tuple[str, ...], totals: Array, weeks: int,
           kpi_name: str = "conversions") -> Contributions:
        """Summary of ``(draws, channels)`` totals."""
        shares = totals / np.maximum(totals.sum(axis=1, keepdims=True), 1e-300)
        return cls(channels, summarise(totals), summarise(shares), weeks, kpi_name)

    def to_frame(self) -> pd.DataFrame:
        """One row per channel."""
        rows: dict[str, Any] = {"channel": list(self.channels)}
        for name, values in ((self.kpi_name, self.total), ("share", self.share)):
            for i, stat in enumerate(STATS):
                rows[f"{name}_{stat}"] = values[:, i]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kpi": self.kpi_name, "weeks": self.weeks,
                "channels": self.to_frame().to_dict(orient="records")}


#: The words of the response-curve chart, in English; ``{kpi}`` is the KPI's name. A
#: front door in another language passes its own (same keys).
CURVE_WORDS = {"interval": "90% interval", "median": "median", "current": "current",
               "spend": "weekly spend", "kpi": "weekly {kpi}"}


def response_curves_figure(curves: ResponseCurves,
                           words: Mapping[str, str] | None = None) -> Figure:
    """One panel per channel: median weekly KPI, its 90% band, the current spend, labelled
    in ``words`` (:data:`CURVE_WORDS` by default).

    Spend and KPI ticks are few and compact (``250k``, ``1.5M``:
    :func:`spendwise.charts.compact_number`), so large spends stay readable in
    narrow panels. Channel names are drawn literally and the figure is built
    under :data:`spendwise.charts.CHART_LOCK`.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    said = {**CURVE_WORDS, **(words or {})}
    n = len(curves.channels)
    cols = min(n, 4)
    rows = -(-n // cols)
    ticks = FuncFormatter(compact_number)
    with drawing(curves.channels, font_size=8):
        fig = Figure(figsize=(3 * cols, 2.4 * rows))
        axes = fig.subplots(rows, cols, squeeze=False)
        for i, channel in enumerate(curves.channels):
            ax = axes.flat[i]
            x, k = curves.spend[i], curves.kpi[i]
            ax.fill_between(x, k[:, 1], k[:, 3], alpha=0.3, label=said["interval"])
            ax.plot(x, k[:, 2], label=said["median"])
            ax.axvline(curves.current[i], color="grey", lw=0.8, ls="--", label=said["current"])
            ax.set_title(chart_text(channel))
            ax.set_xlabel(said["spend"])
            ax.set_ylabel(chart_text(said["kpi"].format(kpi=curves.kpi_name)))
            for axis, bins in ((ax.xaxis, 4), (ax.yaxis, 5)):
                axis.set_major_locator(MaxNLocator(nbins=bins, steps=TICK_STEPS, min_n_ticks=3))
                axis.set_major_formatter(ticks)
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        axes.flat[0].legend(fontsize=7)
        fig.tight_layout()
        return fig


def plot_response_curves(curves: ResponseCurves, fmt: str = "png",
                         words: Mapping[str, str] | None = None) -> bytes:
    """The chart of :func:`response_curves_figure` as ``png`` or ``svg`` bytes."""
    if fmt not in ("png", "svg"):
        raise ParameterError(f"plot format must be png or svg, got {fmt!r}")
    return figure_bytes(response_curves_figure(curves, words), fmt, dpi=110)
