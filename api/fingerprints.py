"""Canonical JSON and the fingerprints of stored results.

A fingerprint is the SHA-256 (hex) of a payload's canonical JSON
(:mod:`spendwise.requests`): compact, keys sorted, no NaN. Reports hash their
dataset's fingerprint with their models and settings; models hash their data's
fingerprint with their settings; plans and forecasts hash their model's
fingerprint with their kind and parameters. The same inputs thus give the same
fingerprint in any workspace and on any machine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from spendwise.requests import canonical_json, fingerprint

__all__ = ["canonical_json", "fingerprint", "json_ready"]


def json_ready(value: Any) -> Any:
    """``value`` with numpy scalars and arrays as Python values and non-finite floats as None."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
