"""The requests of the optimizer: a fit, a plan and a forecast.

Each is what ``spendwise fit``/``plan``/``forecast``, ``POST /v1/models``,
``POST /v1/plans``, ``POST /v1/forecasts`` and the browser all build, and the
one place where a default is written: the response model
(:class:`~optimizer.response_model.ResponseModel`), the allocator
(:class:`~optimizer.allocator.BudgetAllocator`) and the forecast take theirs
from here. Rules that need no fitted model (ranges, which fields go with
which objective) are checked here, once, when a request is built; rules that
need the model (channel names, bounds against the budget) are checked by the
allocator. Validation, strictness and the canonical JSON form are those of
:class:`spendwise.requests.Request`.

Money is in the currency of the data. ``budget`` and ``target`` cover the
whole horizon (a month's budget is the month's total); channel limits,
``current`` and ``allocation`` are weekly.

Periods
    A plan or forecast covers ``horizon_weeks`` whole weeks, or one ``period``:
    a ``week``, a ``month`` (52/12 weeks, a twelfth of the year's 52 weeks) or a
    ``quarter`` (13 weeks). This module is the one place a period becomes
    weeks (:data:`PERIOD_WEEKS`): the request sets ``horizon_weeks`` to the
    period's weeks, so the engines see a horizon as before. A steady-state
    plan is linear in its horizon (``H`` times a weekly spend and its weekly
    return), so a month's horizon of 4.33 weeks is exact there; per-week plans
    and schedules count whole weeks, and refuse a month. A fractional
    ``horizon_weeks`` is accepted only with the period that gives it, so every
    horizon is either whole weeks or a named period.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Self

from pydantic import (
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from optimizer.curves import CURVES
from optimizer.errors import RequestError
from optimizer.problem import MONTH_WEEKS, OBJECTIVES, weeks_text
from spendwise.money import MAX_AMOUNT  # the largest amount of money accepted
from spendwise.requests import Channel, Request

#: Longest horizon of a plan or forecast, in weeks.
MAX_WEEKS = 104
#: Weeks a plan or forecast covers unless asked otherwise: four whole weeks (a month is
#: ``period="month"``, 52/12 weeks).
PLAN_HORIZON = 4
#: Most channels named in one request.
MAX_CHANNELS = 500
Amount = Annotated[float, Field(strict=True, ge=0, le=MAX_AMOUNT)]
Fraction = Annotated[float, Field(strict=True, ge=0, le=100)]
#: Weeks in each period a plan or forecast may cover: a month is a twelfth of 52 weeks.
PERIOD_WEEKS: dict[str, int | float] = {"week": 1, "month": MONTH_WEEKS, "quarter": 13}
Period = Literal["week", "month", "quarter"]


def _one_form(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Report a bad horizon once, in the words of the form given (a whole number of weeks,
    or a period's fraction), not once per member of the union."""
    try:
        return handler(value)
    except ValidationError as exc:
        errors = exc.errors()
        whole = not isinstance(value, float)
        chosen = next((e for e in errors if ("int" in str(e["loc"][:1])) == whole), errors[0])
        raise PydanticCustomError(chosen["type"], chosen["msg"]) from None


Weeks = Annotated[Annotated[int, Field(strict=True, ge=1, le=MAX_WEEKS)] |
                  Annotated[float, Field(strict=True, ge=1, le=MAX_WEEKS)],
                  WrapValidator(_one_form),
                  Field(description="weeks the plan or forecast covers: whole weeks, or the "
                                    "weeks of its period (4.333... for a month)")]
Spends = Annotated[dict[Channel, Amount], Field(max_length=MAX_CHANNELS)]
PeriodField = Annotated[Period | None, Field(
    description="plan or forecast one week, month (52/12 weeks) or quarter (13 weeks) "
                "instead of horizon_weeks; the budget and target are that period's")]
Value = Annotated[float, Field(strict=True, gt=0, le=1e9)]
Objective = Literal["conversions", "revenue", "profit", "cvar", "min_spend"]
Curve = Literal["exponential", "michaelis_menten", "log"]
assert Objective.__args__ == OBJECTIVES  # type: ignore[attr-defined]
assert set(Curve.__args__) == set(CURVES)  # type: ignore[attr-defined]


def period_of(weeks: float) -> str | None:
    """The period whose weeks are ``weeks`` (``"month"`` for 52/12), or ``None``."""
    return next((name for name, length in PERIOD_WEEKS.items()
                 if math.isclose(weeks, length, rel_tol=1e-12)), None)


def _period_into_weeks(data: Any) -> Any:
    """The weeks of the ``period`` given, as ``horizon_weeks`` (the one conversion)."""
    if not isinstance(data, dict) or data.get("period") not in PERIOD_WEEKS:
        return data  # no period, or one the field refuses in its own words
    period, weeks = data["period"], PERIOD_WEEKS[data["period"]]
    given = data.get("horizon_weeks")
    if given is not None and not (isinstance(given, int | float) and
                                  not isinstance(given, bool) and
                                  math.isclose(given, weeks, rel_tol=1e-12)):
        raise PydanticCustomError("period", "period: a {period} is {weeks} weeks, not "
                                  "horizon_weeks {given}; give one of them",
                                  {"period": period, "weeks": weeks_text(weeks),
                                   "given": str(given)[:20]})
    return {**data, "horizon_weeks": weeks}


def _whole_weeks_unless_a_period(period: str | None, weeks: float, per_week: bool) -> None:
    """A fractional horizon only as a period's, and only in steady state."""
    if period is None and isinstance(weeks, float):
        raise PydanticCustomError("horizon_weeks", "horizon_weeks: a whole number of weeks "
                                  "(an integer), or a period: week, month or quarter")
    if per_week and not float(weeks).is_integer():
        raise PydanticCustomError("period", "period: a per-week plan counts whole weeks, and "
                                  "a {period} is {weeks} weeks; plan it in steady state, or "
                                  "per week over whole weeks with horizon_weeks",
                                  {"period": str(period), "weeks": weeks_text(weeks)})


class FitRequest(Request):
    """Settings of a response-model fit (:class:`~optimizer.response_model.ResponseModel`)."""

    error = RequestError

    kpi: Literal["conversions", "revenue"] = "conversions"
    curve: Curve = "exponential"
    max_lag: int = Field(default=8, strict=True, ge=1, le=52,
                         description="adstock length in weeks")
    fourier_order: int = Field(default=2, strict=True, ge=0, le=10,
                               description="yearly seasonality terms")
    # With lift tests, the saturation scale of a channel tested once mixes slowly: on the
    # media fixture with its nine lift tests, 1000 draws gave a bulk ESS of 25 to 324 (not
    # converged) over six runs and 2000 draws 530 to 760 (converged).
    draws: int = Field(default=2000, strict=True, ge=1, le=20_000,
                       description="draws per chain")
    tune: int = Field(default=1000, strict=True, ge=0, le=20_000)
    chains: int = Field(default=2, strict=True, ge=1, le=8)
    seed: int = Field(default=0, strict=True, ge=0, le=2**32 - 1)
    holdout_weeks: int = Field(default=0, strict=True, ge=0, le=104,
                               description="last weeks kept out of the fit to score forecasts")
    value_per_conversion: Value | dict[Channel, Value] | None = Field(
        default=None, description="revenue per conversion, for all channels or per channel")
    prior_width: float = Field(default=0.3, strict=True, gt=0, le=1,
                               description="width of the attribution prior on the media "
                               "shares")
    attribution_prior: dict[Channel, Annotated[float, Field(strict=True, ge=0, le=1e15)]] | \
        None = Field(default=None, description="channel -> attributed conversions (or "
                     "shares) centring the channels' shares of media contribution")


class BoundIn(Request):
    """Weekly limits of one channel; either side may be left out."""

    error = RequestError

    min: Amount | None = Field(default=None, description="weekly minimum")
    max: Amount | None = Field(default=None, description="weekly maximum")


class PlanRequest(Request):
    """A budget plan: the objective, the budget for the horizon and the limits."""

    error = RequestError

    budget: float | None = Field(default=None, strict=True, gt=0, le=MAX_AMOUNT,
                                 description="spend over the whole horizon")
    budget_mode: Literal["equal", "cap"] | None = Field(
        default=None, description="spend exactly the budget or at most (default: equal; cap "
                                  "for profit and min_spend)")
    objective: Objective = "conversions"
    alpha: float = Field(default=0.1, strict=True, gt=0, le=1, description="CVaR level")
    target: float | None = Field(default=None, strict=True, gt=0, le=MAX_AMOUNT,
                                 description="KPI over the horizon, for min_spend")
    horizon_weeks: Weeks = PLAN_HORIZON
    period: PeriodField = None
    per_week: bool = Field(default=False, strict=True, description="a spend per channel and "
                           "week, with adstock carryover")
    current: Spends | None = Field(default=None, description="current weekly spend per "
                                   "channel (channels left out spend 0)")
    bounds: Annotated[dict[Channel, BoundIn], Field(max_length=MAX_CHANNELS)] | None = Field(
        default=None, description="weekly limits per channel")
    max_change: Fraction | Annotated[dict[Channel, Fraction],
                                     Field(max_length=MAX_CHANNELS)] | None = Field(
        default=None, description="largest relative change against current (0.3 = +-30%)")
    locked: Annotated[tuple[Channel, ...], Field(max_length=MAX_CHANNELS)] = Field(
        default=(), description="channels kept at their current spend")
    romi_floor: float | None = Field(default=None, strict=True, gt=-1, le=1e6,
                                     description="minimum (revenue - spend) / spend")
    max_spend_multiple: float | None = Field(
        default=1.5, strict=True, gt=0, le=1000, description="cap per channel as a multiple "
        "of its largest weekly spend; null for no cap")
    allow_unconverged: bool = Field(default=False, strict=True, description="plan even if "
                                    "the model's sampler did not converge")

    @model_validator(mode="before")
    @classmethod
    def _period(cls, data: Any) -> Any:
        return _period_into_weeks(data)

    @model_validator(mode="after")
    def _fits_the_objective(self) -> Self:
        _whole_weeks_unless_a_period(self.period, self.horizon_weeks, self.per_week)
        objective = self.objective
        if self.budget is None and objective != "min_spend":
            raise PydanticCustomError("budget", f"budget: required for the {objective} "
                                      "objective")
        if (self.target is None) == (objective == "min_spend"):
            raise PydanticCustomError("target", "target: required by min_spend and only used "
                                      "by it")
        if self.budget_mode == "equal" and objective in ("profit", "min_spend"):
            raise PydanticCustomError("budget_mode", f"budget_mode: the budget of {objective} "
                                      "is a cap")
        return self

    @property
    def mode(self) -> str:
        """``"per_week"`` or ``"steady"``."""
        return "per_week" if self.per_week else "steady"

    @property
    def effective_budget_mode(self) -> str:
        """``"cap"`` for profit and min_spend, else the budget mode asked for (default equal)."""
        if self.objective in ("profit", "min_spend"):
            return "cap"
        return self.budget_mode or "equal"

    def bounds_pairs(self) -> dict[str, tuple[float | None, float | None]]:
        """``bounds`` as ``{channel: (minimum, maximum)}``."""
        return {c: (b.min, b.max) for c, b in (self.bounds or {}).items()}

    @classmethod
    def with_bounds(cls, bounds: dict[str, tuple[float | None, float | None]] | None,
                    **fields: Any) -> Self:
        """A request whose ``bounds`` are given as ``{channel: (minimum, maximum)}``."""
        if bounds is not None:
            fields["bounds"] = {c: {"min": lo, "max": hi} for c, (lo, hi) in bounds.items()}
        return cls.build(**fields)


class ForecastRequest(Request):
    """What a weekly allocation returns over a horizon, and against the current one."""

    error = RequestError

    allocation: Spends | None = Field(default=None, description="weekly spend per channel, "
                                      "the same every week (channels left out spend 0)")
    schedule: Annotated[tuple[Spends, ...], Field(min_length=1, max_length=MAX_WEEKS)] | \
        None = Field(default=None, description="instead of allocation: the spend per "
                     "channel of each week in turn")
    horizon_weeks: Weeks = PLAN_HORIZON
    period: PeriodField = None
    compare_with_current: bool = Field(default=True, strict=True)
    allow_unconverged: bool = Field(default=False, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _period(cls, data: Any) -> Any:
        return _period_into_weeks(data)

    @model_validator(mode="after")
    def _one_allocation(self) -> Self:
        if (self.allocation is None) == (self.schedule is None):
            raise PydanticCustomError("allocation", "allocation: give either allocation (a "
                                      "weekly spend) or schedule (a spend per week)")
        if self.schedule is not None and self.period is not None:
            raise PydanticCustomError("period", "period: a schedule covers its own weeks, one "
                                      "spend per week")
        _whole_weeks_unless_a_period(self.period, self.horizon_weeks, False)
        return self


#: The defaults of a plan, for the engines' own signatures.
PLAN_DEFAULTS = PlanRequest(budget=1.0)
FIT_DEFAULTS = FitRequest()
