"""Canonical JSON and the fingerprints of stored results.

A fingerprint is the SHA-256 (hex) of a payload's canonical JSON: compact, keys
sorted, no NaN. Reports hash their dataset's fingerprint with their models and
settings; models hash their data's fingerprint with their settings; plans and
forecasts hash their model's fingerprint with their kind and parameters. The
same inputs thus give the same fingerprint in any workspace and on any machine.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def fingerprint(payload: Any) -> str:
    """SHA-256 (hex) of ``payload``'s canonical JSON."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


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
