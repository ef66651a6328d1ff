"""The registry of attribution models by name, as used by the CLI and the service."""

from __future__ import annotations

import inspect
from typing import Any

from attribution.base import AttributionModel
from attribution.errors import ParameterError
from attribution.heuristics import FirstTouch, LastTouch, Linear, PositionBased, TimeDecay
from attribution.markov import Markov
from attribution.shapley import Shapley

MODELS: dict[str, type[AttributionModel]] = {
    model.name: model
    for model in (FirstTouch, LastTouch, Linear, PositionBased, TimeDecay, Markov, Shapley)
}


def settings_of(name: str) -> tuple[str, ...]:
    """The keyword settings accepted by the model called ``name``."""
    signature = inspect.signature(model_class(name).__init__)
    return tuple(p for p in signature.parameters if p != "self")


def model_class(name: str) -> type[AttributionModel]:
    """The class registered under ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ParameterError(
            f"unknown model {name!r}; choose from {', '.join(MODELS)}"
        ) from None


def make_model(name: str, **options: Any) -> AttributionModel:
    """A model from its name, taking from ``options`` only the settings it accepts.

    Options set to ``None`` are left at the model's default.
    """
    cls = model_class(name)
    accepted = settings_of(name)
    settings = {k: v for k, v in options.items() if k in accepted and v is not None}
    return cls(**settings)
