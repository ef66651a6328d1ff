"""Tests of the response-curve registry and the adstock transform."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from optimizer.adstock import adstock_weights, geometric_adstock, geometric_adstock_pt
from optimizer.curves import CURVES, curve
from optimizer.errors import ParameterError

GRID = np.concatenate([[0.0], np.geomspace(1e-3, 5.0, 40)])  # up to 10 x the smallest lam
LAMS = np.array([0.5, 2.0, 10.0])


@pytest.mark.parametrize("name", list(CURVES))
def test_forms_agree_on_a_grid(name):
    """numpy, pytensor and cvxpy forms give the same values on a grid of spends."""
    family = curve(name)
    x = GRID[:, None] * np.ones_like(LAMS)
    expected = family.numpy(x, LAMS)
    xt, lt = pt.matrix("x"), pt.vector("lam")
    evaluate = pytensor.function([xt, lt], family.pytensor(xt, lt))
    np.testing.assert_allclose(evaluate(x, LAMS), expected, rtol=1e-12, atol=1e-14)
    variable = cp.Variable(x.shape)
    variable.value = x
    np.testing.assert_allclose(family.cvxpy(variable, LAMS).value, expected, rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("name", list(CURVES))
def test_cvxpy_form_is_concave(name):
    """The cvxpy form is concave, so maximising a sum of curves is a convex program."""
    expression = curve(name).cvxpy(cp.Variable(3, nonneg=True), LAMS)
    assert expression.is_concave()
    assert cp.Problem(cp.Maximize(cp.sum(expression)), []).is_dcp()


@pytest.mark.parametrize("name", list(CURVES))
def test_derivative_and_its_inverse(name):
    """The derivative matches finite differences and its inverse returns the spend."""
    family = curve(name)
    x = GRID[1:, None] * np.ones_like(LAMS)
    h = 1e-6
    numeric = (family.numpy(x + h, LAMS) - family.numpy(x - h, LAMS)) / (2 * h)
    np.testing.assert_allclose(family.derivative(x, LAMS), numeric, rtol=1e-5)
    np.testing.assert_allclose(family.inverse_derivative(family.derivative(x, LAMS), LAMS), x,
                               rtol=1e-8)
    # Above the slope at zero the best spend is zero.
    top = family.derivative(np.zeros_like(LAMS), LAMS)
    np.testing.assert_array_equal(family.inverse_derivative(top * 2, LAMS), 0.0)


@pytest.mark.parametrize("name", list(CURVES))
def test_curves_are_increasing_and_start_at_zero(name):
    """Every family starts at 0 and rises with spend."""
    values = curve(name).numpy(GRID[:, None], LAMS)
    assert np.all(values[0] == 0)
    assert np.all(np.diff(values, axis=0) > 0)


def test_unknown_family_names_the_choices():
    """An unknown family raises ParameterError listing the registered ones."""
    with pytest.raises(ParameterError, match="choose from exponential, michaelis_menten, log"):
        curve("hill")


def test_adstock_weights_sum_to_one():
    """Normalised weights sum to 1 and decay geometrically."""
    w = adstock_weights([0.5, 0.0], 4)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(w[0], np.array([8, 4, 2, 1]) / 15)
    np.testing.assert_allclose(w[1], [1, 0, 0, 0])


def test_constant_spend_has_steady_adstock():
    """After max_lag weeks a constant spend is its own adstocked level."""
    spend = np.full((10, 2), 100.0)
    out = geometric_adstock(spend, [0.6, 0.3], 4)
    np.testing.assert_allclose(out[3:], 100.0)
    assert out[0, 0] < 100.0


def test_history_carries_over():
    """Spend before the first week, given as history, carries into it."""
    out = geometric_adstock(np.zeros((2, 1)), [0.5], 3, history=np.array([[0.0], [70.0]]))
    w = adstock_weights([0.5], 3)[0]
    np.testing.assert_allclose(out[:, 0], [70.0 * w[1], 70.0 * w[2]])


def test_numpy_and_pytensor_adstock_agree():
    """The numpy and pytensor adstock transforms agree."""
    rng = np.random.default_rng(0)
    spend = rng.gamma(2.0, 50.0, size=(30, 3))
    alpha = np.array([0.1, 0.5, 0.9])
    x, a = pt.matrix("x"), pt.vector("a")
    evaluate = pytensor.function([x, a], geometric_adstock_pt(x, a, 6))
    np.testing.assert_allclose(evaluate(spend, alpha), geometric_adstock(spend, alpha, 6),
                               rtol=1e-12)
