"""A budget problem as every engine sees it, and what an engine returns.

:class:`Spec` is one validated plan request with the channel limits resolved
to arrays; :class:`Solution` is an engine's answer. Both are plain data, so
the exact water filling (:mod:`optimizer.waterfill`) and the convex programs
(:mod:`optimizer.objectives`) share them without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
OBJECTIVES = ("conversions", "revenue", "profit", "cvar", "min_spend")
REVENUE_OBJECTIVES = ("revenue", "profit")


#: Weeks in a month: a twelfth of a 52-week year.
MONTH_WEEKS = 52 / 12


def weeks_text(weeks: float) -> str:
    """A horizon in weeks as people read it: ``4``, ``13``, ``4.33`` (a month)."""
    return f"{weeks:g}" if float(weeks).is_integer() else f"{weeks:.2f}"


def horizon_words(weeks: float) -> str:
    """A horizon in words: ``"4 weeks"``, ``"1 week"``, ``"a month (4.33 weeks)"``."""
    if abs(weeks - MONTH_WEEKS) <= 1e-12 * MONTH_WEEKS:
        return f"a month ({weeks_text(weeks)} weeks)"
    return f"{weeks_text(weeks)} week" + ("" if weeks == 1 else "s")


@dataclass(frozen=True, eq=False)
class Spec:
    """One validated plan request: the objective, its data and its constraints.

    ``lower`` and ``upper`` are weekly spend per channel (the same every week
    in per-week mode); ``budget`` is the spend over the whole horizon.
    ``horizon_weeks`` is whole in per-week mode and may be a period's fraction
    (52/12 for a month, named by ``period``) in steady state, where every
    amount is linear in it.
    """

    objective: str
    mode: str
    horizon_weeks: float
    budget: float | None
    budget_mode: str | None
    lower: Array
    upper: Array
    romi_floor: float | None = None
    target: float | None = None
    alpha: float = 0.1
    spend_price: float = 1.0
    period: str | None = None

    @property
    def cell_weeks(self) -> float:
        """Weeks a decision cell's weekly spend is held: the whole horizon in steady state
        (one cell per channel), one week per week (one cell per channel and week)."""
        return self.horizon_weeks if self.mode == "steady" else 1

    def horizon_spend(self, cells: Array) -> float:
        """Spend over the horizon of the decision ``cells`` (weekly spend per cell)."""
        return float(np.sum(cells)) * self.cell_weeks

    def per_cell(self, amount: float) -> float:
        """A horizon ``amount`` in the units of the decision cells' sum."""
        return amount / self.cell_weeks

    @property
    def structure(self) -> tuple[str, str | None, bool]:
        """What changes the problem's shape (everything else is a Parameter value)."""
        return self.objective, self.budget_mode, self.romi_floor is not None

    def cell_bounds(self, ceiling: float | None = None) -> tuple[Array, Array]:
        """Lower and upper weekly spend per decision cell, the upper one also capped
        at ``ceiling`` (horizon spend no cell can exceed), shaped like the decision."""
        upper = self.upper.copy()
        if ceiling is not None:
            upper = np.minimum(upper, self.per_cell(ceiling))
        if self.mode == "steady":
            return self.lower.copy(), upper
        shape = (int(self.horizon_weeks), len(self.lower))
        return np.broadcast_to(self.lower, shape).copy(), np.broadcast_to(upper, shape).copy()


@dataclass(frozen=True, eq=False)
class Solution:
    """What an engine returns: the weekly spend and the Lagrange multipliers.

    Multipliers are in original units: ``budget_price`` in objective units per
    currency unit of horizon budget, ``romi_price`` per unit of ``Rbar - (1+r)
    spend``, ``target_price`` in currency per unit of KPI, ``draw_weights`` the
    CVaR dual weights of the draws.
    """

    weekly_spend: Array
    status: str
    solver: str
    engine: str
    budget_price: float = 0.0
    romi_price: float = 0.0
    target_price: float = 0.0
    draw_weights: Array | None = None
