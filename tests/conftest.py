"""Shared test fixtures."""

import numpy as np
import pytest

from lossviz.autodiff import value_and_grad


@pytest.fixture(scope="session")
def pred_grad():
    """``pred_grad(key, fn)`` -> ``f(y_true, y_pred)`` returning (values, d sum(values) / d y_pred).

    Built on ``lossviz.autodiff.value_and_grad`` over the stacked pair, and cached by ``key`` so that
    under JAX each loss compiles once instead of once per hypothesis example.
    """
    cache = {}

    def make(key, fn):
        if key not in cache:
            cache[key] = value_and_grad(lambda z: fn(z[0], z[1]))
        grad_fn = cache[key]

        def call(y_true, y_pred):
            value, grad = grad_fn(np.stack([np.asarray(y_true, "float32"), np.asarray(y_pred, "float32")]))
            return value, grad[1]

        return call

    return make
