"""The registry of response-curve families.

A family is a concave, increasing saturation curve ``s(x; lam)`` with
``s(0) = 0``, where ``x`` is (adstocked) weekly spend and ``lam > 0`` sets the
scale at which the channel saturates. A channel's weekly contribution is
``beta * s(x; lam)``. Each family is written once here in every form the
project needs, and a test checks the forms agree on a grid:

* ``numpy``: for forecasts and reports,
* ``pytensor``: inside the PyMC model,
* ``cvxpy``: inside the convex budget problems (concave in ``x``, so that
  maximising a sum of them is a convex program),
* ``derivative`` and ``inverse_derivative``: marginal returns, and the spend
  at which the marginal return falls to a given level (water filling).

| family | ``s(x)`` | ``s'(x)`` | ``x`` where ``s'(x) = g`` |
|---|---|---|---|
| ``exponential`` | ``1 - exp(-x/lam)`` | ``exp(-x/lam) / lam`` | ``lam * log(1 / (g lam))`` |
| ``michaelis_menten`` | ``x / (lam + x)`` | ``lam / (lam + x)^2`` | ``sqrt(lam / g) - lam`` |
| ``log`` | ``log(1 + x/lam)`` | ``1 / (lam + x)`` | ``1/g - lam`` |

(the last column is clipped at 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from optimizer.errors import ParameterError

Array = NDArray[np.float64]


@dataclass(frozen=True)
class CurveFamily:
    """One saturation family in all its forms."""

    name: str
    formula: str
    numpy: Callable[[ArrayLike, ArrayLike], Array]
    derivative: Callable[[ArrayLike, ArrayLike], Array]
    inverse_derivative: Callable[[ArrayLike, ArrayLike], Array]
    pytensor: Callable[[Any, Any], Any]
    cvxpy: Callable[[Any, ArrayLike], Any]


# -- exponential --------------------------------------------------------------------------


def _exp_np(x: ArrayLike, lam: ArrayLike) -> Array:
    return -np.expm1(-np.asarray(x, dtype=float) / np.asarray(lam, dtype=float))


def _exp_d(x: ArrayLike, lam: ArrayLike) -> Array:
    lam = np.asarray(lam, dtype=float)
    return np.exp(-np.asarray(x, dtype=float) / lam) / lam


def _exp_inv(g: ArrayLike, lam: ArrayLike) -> Array:
    g, lam = np.asarray(g, dtype=float), np.asarray(lam, dtype=float)
    with np.errstate(divide="ignore"):
        return np.maximum(-lam * np.log(g * lam), 0.0)


def _exp_pt(x: Any, lam: Any) -> Any:
    import pytensor.tensor as pt

    return -pt.expm1(-x / lam)


def _exp_cp(x: Any, lam: ArrayLike) -> Any:
    import cvxpy as cp

    return 1 - cp.exp(-cp.multiply(1.0 / np.asarray(lam, dtype=float), x))


# -- Michaelis-Menten ---------------------------------------------------------------------


def _mm_np(x: ArrayLike, lam: ArrayLike) -> Array:
    x = np.asarray(x, dtype=float)
    return x / (np.asarray(lam, dtype=float) + x)


def _mm_d(x: ArrayLike, lam: ArrayLike) -> Array:
    lam = np.asarray(lam, dtype=float)
    return lam / (lam + np.asarray(x, dtype=float)) ** 2


def _mm_inv(g: ArrayLike, lam: ArrayLike) -> Array:
    g, lam = np.asarray(g, dtype=float), np.asarray(lam, dtype=float)
    with np.errstate(divide="ignore"):
        return np.maximum(np.sqrt(lam / g) - lam, 0.0)


def _mm_pt(x: Any, lam: Any) -> Any:
    return x / (lam + x)


def _mm_cp(x: Any, lam: ArrayLike) -> Any:
    import cvxpy as cp

    lam = np.asarray(lam, dtype=float)
    # x / (lam + x) = 1 - lam / (lam + x): inv_pos keeps it concave for cvxpy.
    return 1 - cp.multiply(lam, cp.inv_pos(lam + x))


# -- log ----------------------------------------------------------------------------------


def _log_np(x: ArrayLike, lam: ArrayLike) -> Array:
    return np.log1p(np.asarray(x, dtype=float) / np.asarray(lam, dtype=float))


def _log_d(x: ArrayLike, lam: ArrayLike) -> Array:
    return 1.0 / (np.asarray(lam, dtype=float) + np.asarray(x, dtype=float))


def _log_inv(g: ArrayLike, lam: ArrayLike) -> Array:
    g, lam = np.asarray(g, dtype=float), np.asarray(lam, dtype=float)
    with np.errstate(divide="ignore"):
        return np.maximum(1.0 / g - lam, 0.0)


def _log_pt(x: Any, lam: Any) -> Any:
    import pytensor.tensor as pt

    return pt.log1p(x / lam)


def _log_cp(x: Any, lam: ArrayLike) -> Any:
    import cvxpy as cp

    return cp.log(1 + cp.multiply(1.0 / np.asarray(lam, dtype=float), x))


CURVES: dict[str, CurveFamily] = {
    family.name: family
    for family in (
        CurveFamily("exponential", "1 - exp(-x/lam)", _exp_np, _exp_d, _exp_inv, _exp_pt,
                    _exp_cp),
        CurveFamily("michaelis_menten", "x / (lam + x)", _mm_np, _mm_d, _mm_inv, _mm_pt,
                    _mm_cp),
        CurveFamily("log", "log(1 + x/lam)", _log_np, _log_d, _log_inv, _log_pt, _log_cp),
    )
}


def curve(name: str) -> CurveFamily:
    """The family registered under ``name``."""
    try:
        return CURVES[name]
    except KeyError:
        raise ParameterError(
            f"curve: unknown family {name!r}; choose from {', '.join(CURVES)}"
        ) from None
