"""Keras's regression losses as catalogued: against numpy formulas, with the aliases."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lossviz import losses

Y = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5]], "float32")
P = np.array([[0.5, 1.0, 5.0], [3.0, 1.0, 0.0]], "float32")
E = P - Y


def _huber(e, delta=1.0):
    a = np.abs(e)
    return np.where(a <= delta, 0.5 * e**2, delta * a - 0.5 * delta**2)


NUMPY = {
    "mse": lambda e: (e**2).mean(-1),
    "mae": lambda e: np.abs(e).mean(-1),
    "huber": lambda e: _huber(e).mean(-1),
    "log_cosh": lambda e: np.log(np.cosh(e)).mean(-1),
}


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_reference_keras_regression_losses_against_numpy(name):
    value = keras.ops.convert_to_numpy(losses.get(name, reduction=None)(Y, P))
    np.testing.assert_allclose(value, NUMPY[name](E.astype("float64")), rtol=1e-5)


def test_aliases_and_huber_delta():
    for alias, name in (("quadratic", "mse"), ("L2", "mse"), ("l1", "mae"), ("smooth-l1", "huber")):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(losses.get(alias, reduction=None)(Y, P)),
                                   NUMPY[name](E), rtol=1e-5)
    value = keras.ops.convert_to_numpy(losses.get("huber", delta=2.0, reduction=None)(Y, P))
    np.testing.assert_allclose(value, _huber(E, 2.0).mean(-1), rtol=1e-5)


vectors = arrays("float32", (3, 4), elements=st.sampled_from([-1e3, -2.0, 0.0, 0.5, 3.0, 1e3]))


@settings(max_examples=25, deadline=None)
@given(y=vectors, p=vectors)
def test_property_regression_finite_and_minimal_at_target(pred_grad, y, p):
    for name in NUMPY:
        loss = losses.get(name, reduction=None)
        value, grad = pred_grad(name, loss)(y, p)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), name
        assert np.all(keras.ops.convert_to_numpy(loss(y, y)) <= value), name
