"""The requests of the attribution engine: which models, with which settings, and journeys.

:class:`AttributionRequest` is what ``spendwise attribute``, ``POST /v1/reports``
and the browser all build; :func:`attribution.run.attribute` runs it. (The
journey builder's request, :class:`attribution.journeys.JourneyRequest`, lives
beside the builder.) The defaults of the model settings are the
estimators' own (read from their signatures), so a model fitted from Python
and one fitted from a request agree. Validation, strictness and the canonical
JSON form are those of :class:`spendwise.requests.Request`.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from attribution.base import AttributionModel
from attribution.bootstrap import METHODS
from attribution.errors import RequestError
from attribution.markov import MAX_ORDER
from attribution.models import MODELS, make_model, model_class
from attribution.shapley import VALUE_FUNCTIONS
from spendwise.requests import Request

ModelName = Literal["first_touch", "last_touch", "linear", "position_based", "time_decay",
                    "markov", "shapley"]
ShapleyValue = Literal["simplified", "ordered", "conversion_rate"]
BootstrapMethod = Literal["poisson", "multinomial"]
assert set(ModelName.__args__) == set(MODELS)  # type: ignore[attr-defined]
assert ShapleyValue.__args__ == VALUE_FUNCTIONS  # type: ignore[attr-defined]
assert BootstrapMethod.__args__ == METHODS  # type: ignore[attr-defined]
#: Most bootstrap replicates a request may ask for.
MAX_REPLICATES = 1000
MAX_SEED = 2**32 - 1
Share = Annotated[float, Field(strict=True, ge=0, le=1)]
Number = Annotated[float, Field(strict=True)]


def _default(model: str, setting: str) -> Any:
    """The estimator's default of a model setting."""
    return inspect.signature(model_class(model).__init__).parameters[setting].default


class AttributionSettings(Request):
    """The settings of the models; each applies to the models that use it."""

    error = RequestError

    order: int | Literal["auto"] = Field(
        default=_default("markov", "order"),
        description=f"markov: order 1 to {MAX_ORDER}, or 'auto' (chosen by held-out log loss)")
    keep_repeats: bool = Field(default=False, strict=True, description="markov: keep "
                               "consecutive repeats of a channel as separate states")
    shapley_value: ShapleyValue = Field(default=_default("shapley", "value_function"),
                                        description="shapley: value function")
    min_support: Number = Field(default=_default("shapley", "min_support"), ge=0, le=1e15,
                                description="shapley conversion_rate: journeys a channel set "
                                "needs to count")
    position_weights: tuple[Share, Share] = Field(
        default=(_default("position_based", "first"), _default("position_based", "last")),
        description="position_based: shares of the first and the last touch [FIRST, LAST]")
    half_life_days: Number = Field(default=_default("time_decay", "half_life_days"),
                                   ge=0.001, le=36500, description="time_decay: half-life "
                                   "in days")
    half_life_touches: Number = Field(default=_default("time_decay", "half_life_touches"),
                                      ge=0.001, le=1000, description="time_decay: half-life "
                                      "in touches, for paths without touch times")
    bootstrap: int = Field(default=0, strict=True, ge=0, le=MAX_REPLICATES,
                           description="bootstrap replicates for confidence intervals: 0 "
                           f"(none) or 2 to {MAX_REPLICATES}")
    bootstrap_method: BootstrapMethod = "poisson"
    ci_level: Number = Field(default=0.95, gt=0, lt=1, description="confidence level")
    seed: int = Field(default=0, strict=True, ge=0, le=MAX_SEED, description="random seed of "
                      "the bootstrap, the Markov order folds and Monte Carlo Shapley")

    @field_validator("order", mode="before")
    @classmethod
    def _check_order(cls, value: Any) -> Any:
        if value == "auto" or (type(value) is int and 1 <= value <= MAX_ORDER):
            return value
        raise PydanticCustomError("markov_order", "must be an integer from 1 to {high} or "
                                  "'auto', got {got}", {"high": MAX_ORDER,
                                                         "got": repr(value)[:40]})

    @field_validator("position_weights")
    @classmethod
    def _check_weights(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] + value[1] > 1 + 1e-12:
            raise PydanticCustomError("position_weights", "first and last must add up to at "
                                      "most 1, got {total}", {"total": value[0] + value[1]})
        return value

    @field_validator("bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: int) -> int:
        if value == 1:
            raise PydanticCustomError("bootstrap", "must be 0 (no intervals) or from 2 to "
                                      "{high} replicates, got 1", {"high": MAX_REPLICATES})
        return value

    def model_options(self) -> dict[str, Any]:
        """Keyword settings for :func:`attribution.models.make_model`."""
        first, last = self.position_weights
        return {"order": self.order, "collapse_repeats": not self.keep_repeats,
                "value_function": self.shapley_value, "min_support": self.min_support,
                "first": first, "last": last, "half_life_days": self.half_life_days,
                "half_life_touches": self.half_life_touches, "seed": self.seed}


class AttributionRequest(Request):
    """Models to run side by side on one table of paths, and their settings."""

    error = RequestError

    models: tuple[ModelName, ...] = Field(default=("markov",), min_length=1,
                                          max_length=len(MODELS), description="models to run, "
                                          "in the order of the report")
    settings: AttributionSettings = Field(default_factory=AttributionSettings)

    @field_validator("models")
    @classmethod
    def _check_models(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({m for m in value if value.count(m) > 1})
        if twice:
            raise PydanticCustomError("duplicate_model", "each model at most once; repeated: "
                                      "{twice}", {"twice": ", ".join(twice)})
        return value

    def make_models(self) -> list[AttributionModel]:
        """A new, unfitted estimator for each model, in order."""
        options = self.settings.model_options()
        return [make_model(name, **options) for name in self.models]
