"""The optimizers' walk down a data surface as one compiled function on the Keras backend's device.

:func:`lossviz.optimizers.trajectories` walks analytic surfaces in numpy (their gradients are numpy
formulas). A data surface's gradient comes from the backend's autodiff, and calling it once per step
costs a graph call each (~0.5 ms on TensorFlow, x 200 steps: too slow for a slider). Here the whole
walk -- gradient, update rule of every optimizer, for every step -- is one ``keras.ops.scan`` compiled
by :func:`lossviz.autodiff.compile_function`: one call per redraw, and only the path leaves the device.

The update rules are those of :mod:`lossviz.optimizers` (Keras 3's ``update_step``), in the backend's
float type; ``tests/test_device_walk.py`` checks the paths against the real ``keras.optimizers``.

Pure compute: numpy and Keras only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from lossviz.autodiff import compile_function, tensor_value_and_grad

Array = np.ndarray

# the fields of ``hyper`` (each (k, 1)) in the order the compiled walk takes them
FIELDS = ("learning_rate", "mu", "rho", "beta_1", "beta_2", "epsilon", "nesterov", "rmsprop", "adam")


def _walk_function(cost: Callable[[Any], Any]) -> Callable[..., tuple[Any, Any]]:
    value_and_grad = tensor_value_and_grad(cost)
    ops = keras.ops

    def walk(p0: Any, t: Any, *hyper: Any) -> tuple[Any, Any]:
        lr, mu, rho, b1, b2, eps, nesterov, rms, adam, one_minus_rho, one_minus_b1, one_minus_b2 = hyper

        def step(carry: tuple[Any, ...], t: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
            p, m, v, _ = carry
            # Adam's step size at step t, in the float type as Keras computes it (1 - beta_2^t loses
            # digits in float32; a more exact value would part from Keras's path)
            alpha = lr * ops.sqrt(1 - ops.power(b2, t)) / (1 - ops.power(b1, t))
            value, g = value_and_grad(p)
            g2 = g * g
            m_sgd = m * mu - g * lr  # SGD (mu = 0), momentum; Nesterov adds m * mu - g * lr
            update = ops.where(nesterov, m_sgd * mu - g * lr, m_sgd)
            v_rms = rho * v + one_minus_rho * g2  # RMSprop: eps inside the square root
            update = ops.where(rms, -(lr * g) / ops.sqrt(v_rms + eps), update)
            m_adam = m + (g - m) * one_minus_b1  # Adam: eps outside the square root
            v_adam = v + (g2 - v) * one_minus_b2
            update = ops.where(adam, -(m_adam * alpha) / (ops.sqrt(v_adam) + eps), update)
            # the carry also holds the value at the old point: Keras's scan on TensorFlow needs each
            # step's output shaped like the carry, so the output is the carry itself
            carry = (p + update, ops.where(adam, m_adam, m_sgd), ops.where(adam, v_adam, v_rms), value)
            return carry, carry

        zeros = ops.zeros_like(p0)
        (p_last, _, _, _), (points, _, _, values) = ops.scan(step, (p0, zeros, zeros, zeros[:, 0]), t)
        paths = ops.concatenate([p0[None], points], axis=0)
        values = ops.concatenate([values, cost(p_last)[None]], axis=0)
        return paths, values

    return walk


class DeviceWalk:
    """Walks of the optimizers down one data surface, compiled once per (hikers, capacity) shape.

    Example:
        >>> walker = DeviceWalk(cost)          # cost: params (P, 2) -> (P,), in keras.ops
        >>> paths, values = walker(p0, hyper, steps=200)

    Args:
        cost: the surface's cost, a function of a ``(P, 2)`` tensor of parameter pairs returning ``(P,)``,
            written with ``keras.ops`` (differentiated by the backend's autodiff).
    """

    def __init__(self, cost: Callable[[Any], Any]) -> None:
        self._compiled = compile_function(_walk_function(cost))
        self.failed = False

    @staticmethod
    def capacity(steps: int) -> int:
        """Steps the compiled walk runs for ``steps``: the next power of two (at least 16), so that a steps
        slider compiles a handful of shapes, not one per value; the extra steps are dropped."""
        return max(16, 1 << max(0, int(steps) - 1).bit_length())

    def __call__(self, p0: Array, hyper: dict[str, Array], steps: int) -> tuple[Array, Array] | None:
        """Walk ``k`` hikers ``steps`` steps.

        Args:
            p0: start points ``(k, 2)``.
            hyper: the ``(k, 1)`` arrays named in ``FIELDS`` (masks as booleans).
            steps: number of updates.

        Returns:
            ``(paths (steps + 1, k, 2), values (steps + 1, k))`` as float numpy arrays (non-finite where a
            hiker blew up), or ``None`` if the backend could not compile the walk (a user's loss that
            XLA cannot compile); the caller then walks step by step.
        """
        if self.failed:
            return None
        floatx = keras.config.floatx()
        cap = self.capacity(steps)
        args = [keras.ops.convert_to_tensor(np.asarray(p0, floatx)),
                keras.ops.convert_to_tensor(np.arange(1, cap + 1, dtype=floatx))]
        columns = [np.asarray(hyper[name]) for name in FIELDS]
        # Keras writes 1 - rho, 1 - beta with Python floats (exact, then rounded once): 1 - float32(0.999)
        # would be off by 1e-5 relative
        columns += [1.0 - np.asarray(hyper[name], float) for name in ("rho", "beta_1", "beta_2")]
        args += [keras.ops.convert_to_tensor(c if c.dtype == bool else c.astype(floatx)) for c in columns]
        try:
            paths, values = self._compiled(*args)
        except Exception:  # noqa: BLE001 -- any compile failure: fall back to the step-by-step walk
            self.failed = True
            return None
        paths = keras.ops.convert_to_numpy(paths)[: steps + 1].astype(float)
        return paths, keras.ops.convert_to_numpy(values)[: steps + 1].astype(float)
