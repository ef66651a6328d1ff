"""Properties of every request type: canonical JSON round-trips, bad fields are named."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attribution.errors import AttributionError
from attribution.journeys import JourneyRequest
from attribution.requests import AttributionRequest
from optimizer.errors import OptimizerError
from optimizer.requests import FitRequest, ForecastRequest, PlanRequest
from spendwise.requests import FieldProblem, Request
from tests.strategies import (
    attribution_requests,
    fit_requests,
    forecast_requests,
    journey_requests,
    plan_requests,
)

VALID: list[tuple[type[Request], st.SearchStrategy[dict[str, Any]]]] = [
    (AttributionRequest, attribution_requests()), (JourneyRequest, journey_requests()),
    (FitRequest, fit_requests()), (PlanRequest, plan_requests()),
    (ForecastRequest, forecast_requests()),
]
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
TEXT_NUMBER = st.sampled_from(["7", "1e3", "0x10", " 5", "true"])
CONTROL = st.sampled_from(["a\x00b", "tab\there", "line\nbreak", "\x7f", "\x1b[31m"])

#: (request type, valid fields, dotted field to spoil, bad values for it).
INVALID: list[tuple[type[Request], st.SearchStrategy[dict[str, Any]], str,
                    st.SearchStrategy[Any]]] = [
    (AttributionRequest, attribution_requests(), "models",
     st.sampled_from([(), ("magic",), ("linear", "linear"), "markov"])),
    (AttributionRequest, attribution_requests(), "settings.order",
     st.one_of(st.integers(max_value=0), st.integers(min_value=6), st.just(True), TEXT_NUMBER)),
    (AttributionRequest, attribution_requests(), "settings.bootstrap",
     st.one_of(st.just(1), st.integers(max_value=-1), st.integers(min_value=1001), TEXT_NUMBER)),
    (AttributionRequest, attribution_requests(), "settings.ci_level",
     st.one_of(st.floats(max_value=0), st.floats(min_value=1), NOT_FINITE, TEXT_NUMBER)),
    (AttributionRequest, attribution_requests(), "settings.seed",
     st.one_of(st.integers(max_value=-1), st.integers(min_value=2**32), TEXT_NUMBER)),
    (AttributionRequest, attribution_requests(), "settings.position_weights",
     st.sampled_from([(0.7, 0.6), (1.5, 0.0), (-0.1, 0.2), (0.4,), "0.4,0.4"])),
    (AttributionRequest, attribution_requests(), "settings.colour", st.just("red")),
    (JourneyRequest, journey_requests(), "lookback_days",
     st.one_of(st.floats(max_value=0), st.floats(min_value=3651), NOT_FINITE, TEXT_NUMBER)),
    (JourneyRequest, journey_requests(), "separator", st.one_of(st.just(""), CONTROL)),
    (FitRequest, fit_requests(), "draws",
     st.one_of(st.integers(max_value=0), st.integers(min_value=20_001), TEXT_NUMBER)),
    (FitRequest, fit_requests(), "curve", st.sampled_from(["hill", "", "log "])),
    (FitRequest, fit_requests(), "value_per_conversion",
     st.one_of(st.floats(max_value=0), NOT_FINITE, TEXT_NUMBER,
               st.dictionaries(CONTROL, st.just(1.0), min_size=1))),
    (PlanRequest, plan_requests(), "budget",
     st.one_of(st.floats(max_value=0), st.floats(min_value=1.01e12), NOT_FINITE, TEXT_NUMBER)),
    (PlanRequest, plan_requests(), "horizon_weeks",
     st.one_of(st.integers(max_value=0), st.integers(min_value=105), st.just(4.5))),
    (PlanRequest, plan_requests(), "alpha",
     st.one_of(st.floats(max_value=0), st.floats(min_value=1.0001), NOT_FINITE)),
    (PlanRequest, plan_requests(), "locked", st.lists(CONTROL, min_size=1, max_size=2)),
    (PlanRequest, plan_requests(), "current",
     st.one_of(st.dictionaries(st.just("search"), st.one_of(st.floats(max_value=-1e-9),
                                                           NOT_FINITE), min_size=1),
               st.dictionaries(CONTROL, st.just(1.0), min_size=1))),
    (PlanRequest, plan_requests(), "objective", st.sampled_from(["roas", "", "Conversions"])),
    (ForecastRequest, forecast_requests(), "horizon_weeks",
     st.one_of(st.integers(max_value=0), st.integers(min_value=105))),
    (ForecastRequest, forecast_requests(), "compare_with_current",
     st.sampled_from(["yes", 1, "true"])),
]


@pytest.mark.parametrize(("cls", "fields"), VALID, ids=[c.__name__ for c, _ in VALID])
@given(data=st.data())
def test_valid_requests_round_trip_through_canonical_json(cls, fields, data):
    """A request built from valid parts is rebuilt exactly from its canonical JSON."""
    request = cls.build(**data.draw(fields))
    text = request.canonical_json()
    again = cls.build(**json.loads(text))
    assert again == request and again.canonical_json() == text
    assert json.loads(text) == request.canonical()


@pytest.mark.parametrize(("cls", "fields", "field", "bad"), INVALID,
                         ids=[f"{c.__name__}.{f}" for c, _, f, _ in INVALID])
@given(data=st.data())
def test_invalid_fields_raise_the_packages_error_naming_them(cls, fields, field, bad, data):
    """Anything invalid raises the engine package's error, and the error names the field."""
    given_fields = data.draw(fields)
    head, _, leaf = field.partition(".")
    if leaf:
        given_fields[head] = {**given_fields.get(head, {}), leaf: data.draw(bad)}
    else:
        given_fields[head] = data.draw(bad)
    package = AttributionError if cls in (AttributionRequest, JourneyRequest) else OptimizerError
    with pytest.raises(FieldProblem) as caught:
        cls.build(**given_fields)
    assert isinstance(caught.value, package) and isinstance(caught.value, ValueError)
    assert any(name.startswith(field) or sentence.startswith(f"{field}:")
               for name, sentence in caught.value.problems), caught.value.problems
    assert "\x00" not in str(caught.value) and "\n" not in str(caught.value)


def test_requests_are_frozen():
    """A built request cannot be changed afterwards."""
    request = PlanRequest.build(budget=1000.0)
    with pytest.raises(ValueError, match="frozen"):
        request.budget = 5.0  # type: ignore[misc]


def test_each_default_is_the_engines():
    """The estimators take their defaults from the requests (one place for each)."""
    from optimizer.allocator import BudgetAllocator
    from optimizer.response_model import ResponseModel

    allocator = BudgetAllocator.__init__.__kwdefaults__
    assert allocator["horizon_weeks"] == PlanRequest.model_fields["horizon_weeks"].default
    assert allocator["max_spend_multiple"] == 1.5 == \
        PlanRequest.model_fields["max_spend_multiple"].default
    settings = ResponseModel().settings()
    assert {k: settings[k] for k in ("draws", "tune", "chains", "prior_width")} == \
        {k: FitRequest().canonical()[k] for k in ("draws", "tune", "chains", "prior_width")}


@given(data=st.data())
def test_a_request_within_a_body_is_the_request_of_its_fields(data):
    """``within`` takes the request out of a body that extends it, as building it would."""
    from api.routes.plans import PlanIn

    fields = data.draw(plan_requests())
    body = PlanIn.model_validate({"model": "rm_any", **fields})
    request = PlanRequest.within(body)
    assert type(request) is PlanRequest
    assert request == PlanRequest.build(**fields)
    assert request.canonical_json() == PlanRequest.build(**fields).canonical_json()
