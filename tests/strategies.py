"""Hypothesis strategies for path tables."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from attribution.models import MODELS as MODEL_NAMES
from attribution.paths import PathTable

CHANNELS = ("search", "feeds", "short_video", "email", "sms", "微信朋友圈")


@st.composite
def path_tables(
    draw: st.DrawFn, *, max_channels: int = 5, max_rows: int = 8, max_length: int = 5,
    integer_counts: bool = True,
) -> PathTable:
    """A valid table: at least one conversion, every row with some journeys."""
    n_channels = draw(st.integers(1, max_channels))
    channels = CHANNELS[:n_channels]
    n_rows = draw(st.integers(1, max_rows))
    paths = [
        draw(st.lists(st.sampled_from(channels), min_size=1, max_size=max_length))
        for _ in range(n_rows)
    ]
    count = st.integers(0, 40) if integer_counts else st.floats(0, 40, allow_nan=False)
    conversions = [float(draw(count)) for _ in paths]
    nulls = [float(draw(count)) for _ in paths]
    if sum(conversions) == 0:
        conversions[0] = 1.0
    nulls = [n if c + n > 0 else 1.0 for c, n in zip(conversions, nulls, strict=True)]
    value = [c * draw(st.floats(0, 100, allow_nan=False, allow_subnormal=False))
             for c in conversions]
    return PathTable.from_sequences(paths, conversions, nulls, value)


def renamed(table: PathTable, mapping: dict[str, str]) -> PathTable:
    """The same journeys with channels renamed (which also reorders them)."""
    rows = [[mapping[c] for c in table.path(r)] for r in range(table.n_rows)]
    return PathTable.from_sequences(rows, table.conversions, table.nulls, table.value)


# -- requests -----------------------------------------------------------------------------

#: Channel names as users write them, including scripts other than Latin.
NAMES = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30)
AMOUNTS = st.floats(0, 1e12, allow_nan=False)
POSITIVE = st.floats(1e-6, 1e12, allow_nan=False)


@st.composite
def attribution_requests(draw: st.DrawFn) -> dict[str, Any]:
    """The fields of a valid :class:`attribution.requests.AttributionRequest`."""
    first = draw(st.floats(0, 1))
    settings = draw(st.fixed_dictionaries({}, optional={
        "order": st.one_of(st.integers(1, 5), st.just("auto")),
        "keep_repeats": st.booleans(),
        "shapley_value": st.sampled_from(["simplified", "ordered", "conversion_rate"]),
        "min_support": st.floats(0, 1e6),
        "position_weights": st.just((first, draw(st.floats(0, 1 - first)))),
        "half_life_days": st.floats(0.001, 36500),
        "half_life_touches": st.floats(0.001, 1000),
        "bootstrap": st.one_of(st.just(0), st.integers(2, 1000)),
        "bootstrap_method": st.sampled_from(["poisson", "multinomial"]),
        "ci_level": st.floats(0.01, 0.99),
        "seed": st.integers(0, 2**32 - 1),
    }))
    models = draw(st.lists(st.sampled_from(list(MODEL_NAMES)), min_size=1, unique=True))
    return {"models": tuple(models), "settings": settings}


@st.composite
def plan_requests(draw: st.DrawFn) -> dict[str, Any]:
    """The fields of a valid :class:`optimizer.requests.PlanRequest`."""
    objective = draw(st.sampled_from(["conversions", "revenue", "profit", "cvar", "min_spend"]))
    fields: dict[str, Any] = {"objective": objective}
    if objective == "min_spend":
        fields["target"] = draw(POSITIVE)
    if objective != "min_spend" or draw(st.booleans()):
        fields["budget"] = draw(POSITIVE)
    if objective not in ("profit", "min_spend") and draw(st.booleans()):
        fields["budget_mode"] = draw(st.sampled_from(["equal", "cap"]))
    channels = draw(st.lists(NAMES, max_size=4, unique=True))
    fields |= draw(st.fixed_dictionaries({}, optional={
        "alpha": st.floats(1e-6, 1), "horizon_weeks": st.integers(1, 104),
        "per_week": st.booleans(),
        "current": st.fixed_dictionaries({c: AMOUNTS for c in channels}),
        "bounds": st.fixed_dictionaries({c: st.fixed_dictionaries(
            {}, optional={"min": AMOUNTS, "max": AMOUNTS}) for c in channels}),
        "max_change": st.one_of(st.floats(0, 100), st.fixed_dictionaries(
            {c: st.floats(0, 100) for c in channels})),
        "locked": st.just(tuple(channels)),
        "romi_floor": st.floats(-0.999, 1e6),
        "max_spend_multiple": st.one_of(st.none(), st.floats(1e-6, 1000)),
        "allow_unconverged": st.booleans(),
    }))
    return fields


@st.composite
def fit_requests(draw: st.DrawFn) -> dict[str, Any]:
    """The fields of a valid :class:`optimizer.requests.FitRequest`."""
    return draw(st.fixed_dictionaries({}, optional={
        "kpi": st.sampled_from(["conversions", "revenue"]),
        "curve": st.sampled_from(["exponential", "michaelis_menten", "log"]),
        "max_lag": st.integers(1, 52), "fourier_order": st.integers(0, 10),
        "draws": st.integers(1, 20_000), "tune": st.integers(0, 20_000),
        "chains": st.integers(1, 8), "seed": st.integers(0, 2**32 - 1),
        "holdout_weeks": st.integers(0, 104),
        "value_per_conversion": st.one_of(st.floats(1e-6, 1e9), st.dictionaries(
            NAMES, st.floats(1e-6, 1e9), max_size=3)),
        "prior_width": st.floats(1e-6, 1),
        "attribution_prior": st.dictionaries(NAMES, st.floats(0, 1e6), max_size=3),
    }))


@st.composite
def forecast_requests(draw: st.DrawFn) -> dict[str, Any]:
    """The fields of a valid :class:`optimizer.requests.ForecastRequest`."""
    spends = st.dictionaries(NAMES, AMOUNTS, max_size=4)
    fields: dict[str, Any] = (
        {"allocation": draw(spends)} if draw(st.booleans())
        else {"schedule": tuple(draw(st.lists(spends, min_size=1, max_size=6)))})
    return fields | draw(st.fixed_dictionaries({}, optional={
        "horizon_weeks": st.integers(1, 104), "compare_with_current": st.booleans(),
        "allow_unconverged": st.booleans()}))


@st.composite
def journey_requests(draw: st.DrawFn) -> dict[str, Any]:
    """The fields of a valid :class:`attribution.journeys.JourneyRequest`."""
    return draw(st.fixed_dictionaries({}, optional={
        "lookback_days": st.floats(1e-3, 3650),
        "separator": st.sampled_from([" > ", ">", "|", " → "]),
    }))
