"""Shared test fixtures."""

import contextlib

import keras
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


@pytest.fixture(scope="session")
def keras_path():
    """``keras_path(surface, start, optimizer, steps, dtype="float64")``: the path of the real Keras
    optimizer (``optimizer.keras()``) on a ``keras.Variable`` of ``dtype``, fed ``surface.gradient``.

    float64 is the exact reference for the numpy walk; float32 (Keras's default) for the compiled walk.
    """

    def float64():  # JAX keeps float64 only with x64 enabled (scoped here); TensorFlow has it always
        if keras.backend.backend() == "jax":
            import jax

            return jax.enable_x64(True)
        return contextlib.nullcontext()

    def path(surface, start, opt, steps, dtype="float64"):
        with float64() if dtype == "float64" else contextlib.nullcontext():
            var = keras.Variable(np.asarray(start, dtype), dtype=dtype)
            k_opt = opt.keras()
            out = [np.asarray(start, float)]
            for _ in range(steps):
                grad = surface.gradient(keras.ops.convert_to_numpy(var))
                k_opt.apply_gradients([(keras.ops.convert_to_tensor(grad, dtype), var)])
                out.append(keras.ops.convert_to_numpy(var).astype(float))
            return np.stack(out)

    return path
