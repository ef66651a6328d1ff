"""A budget plan: the optimised allocation, its forecast and its certificate."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from optimizer.certificate import Certificate
from optimizer.forecast import Comparison, Forecast, interval
from optimizer.problem import Spec

Array = NDArray[np.float64]


SHADOW_UNITS = {
    "conversions": "{kpi} per currency unit of horizon budget",
    "revenue": "revenue per currency unit of horizon budget",
    "profit": "profit per currency unit of horizon budget",
    "cvar": "CVaR of {kpi} per currency unit of horizon budget",
    "min_spend": "currency per unit of {kpi} target",
}


@dataclass(frozen=True, eq=False)
class Plan:
    """An optimised allocation, what it is expected to return, and its certificate.

    ``shadow_price`` is the Lagrange multiplier of the budget: the objective
    gained per extra currency unit of horizon budget (for ``min_spend``, the
    extra spend per extra unit of KPI target). Zero when a cap does not bind.
    """

    objective: str
    status: str
    solver: str
    engine: str
    spec: Spec = field(repr=False)
    forecast: Forecast = field(repr=False)
    current: Forecast = field(repr=False)
    shadow_price: float
    certificate: Certificate
    constraints: dict[str, Any] = field(default_factory=dict)

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names."""
        return self.forecast.channels

    @property
    def mode(self) -> str:
        """``"steady"`` or ``"per_week"``."""
        return self.forecast.mode

    @property
    def horizon_weeks(self) -> float:
        """Weeks in the horizon (52/12 for a month)."""
        return self.forecast.horizon_weeks

    @property
    def weekly_spend(self) -> Array:
        """``(channels,)`` (steady) or ``(weeks, channels)`` (per week) spend."""
        return self.forecast.weekly_spend

    @property
    def spend(self) -> Array:
        """``(channels,)`` spend over the horizon."""
        return self.forecast.spend

    @cached_property
    def comparison(self) -> Comparison:
        """The plan against the current allocation, draw by draw."""
        return Comparison(self.current, self.forecast)

    @cached_property
    def prob_beats_current(self) -> float:
        """Share of draws in which the plan's horizon KPI is strictly above the current one's."""
        return self.comparison.prob_beats["kpi"]

    @cached_property
    def objective_value(self) -> float:
        """The objective at the plan (spend for ``min_spend``)."""
        return self.certificate.primal

    def _channel(self, index: int) -> dict[str, Any]:
        entry = self.forecast.channel_dict(index)
        now, new = float(self.current.spend[index]), float(self.spend[index])
        return {
            "channel": entry.pop("channel"), "spend": entry.pop("spend"),
            "current_spend": now, "change": new - now,
            "change_pct": (new - now) / now if now > 0 else None,
            "min_weekly": float(self.spec.lower[index]),
            "max_weekly": float(self.spec.upper[index]) if np.isfinite(self.spec.upper[index])
            else None,
            **entry,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plan (spend in currency over the horizon unless named weekly).

        ``budget.period`` is the request's period (``"month"``, ...) or ``"horizon"``;
        ``prob_beats`` is the share of draws in which the plan's KPI, revenue and
        profit are strictly above the current allocation's (``prob_beats_current``
        is its KPI entry).
        """
        spec, kpi = self.spec, self.forecast.kpi_name
        budget = None if spec.budget is None else float(spec.budget)
        return {
            "objective": self.objective,
            "status": self.status,
            "budget": {"amount": budget, "period": spec.period or "horizon",
                       "horizon_weeks": spec.horizon_weeks,
                       "weekly": None if budget is None else budget / spec.horizon_weeks,
                       "constraint": spec.budget_mode},
            "mode": self.mode,
            "horizon_weeks": self.horizon_weeks,
            "kpi_name": kpi,
            "channels": [self._channel(i) for i in range(len(self.channels))],
            "total": {**self.forecast.total_dict(),
                      "current_spend": float(self.current.spend.sum()),
                      "current_kpi": self.current.total_dict()["kpi"],
                      "kpi_gain": interval(self.comparison.kpi_gain),
                      "revenue_gain": interval(self.comparison.revenue_gain),
                      "profit_gain": interval(self.comparison.profit_gain)},
            "shadow_price": {"value": self.shadow_price,
                             "unit": SHADOW_UNITS[self.objective].format(kpi=kpi)},
            "prob_beats_current": self.prob_beats_current,
            "certificate": self.certificate.to_dict(),
            "solver": self.solver,
            "engine": self.engine,
            "constraints": self.constraints,
            "prob_beats": self.comparison.prob_beats,
        }
