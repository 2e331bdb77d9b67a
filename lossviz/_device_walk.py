"""The optimizers' walk down a data surface as one compiled function on the Keras backend's device.

:func:`lossviz.optimizers.trajectories` walks analytic surfaces in numpy (their gradients are numpy
formulas). A data surface's gradient comes from the backend's autodiff, and calling it once per step
costs a graph call each (~0.5 ms on TensorFlow, x 200 steps: too slow for a slider). Here the whole
walk -- gradient, update rule of every optimizer, for every step -- is one ``keras.ops.fori_loop``
compiled by :func:`lossviz.autodiff.compile_function`: one call per redraw, and only the path leaves
the device. The number of steps is an input of the compiled loop, not part of its shape, so a steps
slider never waits for a compilation (a scan over the steps compiled once per length: 0.4-1.2 s).

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
HIKERS = 5
"""The compiled walk's least number of hikers (one per optimizer kind)."""

FIELDS = ("learning_rate", "mu", "rho", "beta_1", "beta_2", "epsilon", "nesterov", "rmsprop", "adam")


def _walk_function(cost: Callable[[Any], Any]) -> Callable[..., tuple[Any, Any]]:
    value_and_grad = tensor_value_and_grad(cost)
    ops = keras.ops

    def walk(p0: Any, t: Any, steps: Any, *hyper: Any) -> tuple[Any, Any]:
        lr, mu, rho, b1, b2, eps, nesterov, rms, adam, one_minus_rho, one_minus_b1, one_minus_b2 = hyper

        def step(i: Any, state: tuple[Any, ...]) -> tuple[Any, ...]:
            p, m, v, paths, values = state
            # Adam's step size at step t, in the float type as Keras computes it (1 - beta_2^t loses
            # digits in float32; a more exact value would part from Keras's path)
            alpha = lr * ops.sqrt(1 - ops.power(b2, t[i])) / (1 - ops.power(b1, t[i]))
            value, g = value_and_grad(p)
            g2 = g * g
            m_sgd = m * mu - g * lr  # SGD (mu = 0), momentum; Nesterov adds m * mu - g * lr
            update = ops.where(nesterov, m_sgd * mu - g * lr, m_sgd)
            v_rms = rho * v + one_minus_rho * g2  # RMSprop: eps inside the square root
            update = ops.where(rms, -(lr * g) / ops.sqrt(v_rms + eps), update)
            m_adam = m + (g - m) * one_minus_b1  # Adam: eps outside the square root
            v_adam = v + (g2 - v) * one_minus_b2
            update = ops.where(adam, -(m_adam * alpha) / (ops.sqrt(v_adam) + eps), update)
            p = p + update
            paths = ops.slice_update(paths, (i + 1, 0, 0), p[None])
            values = ops.slice_update(values, (i, 0), value[None])
            return p, ops.where(adam, m_adam, m_sgd), ops.where(adam, v_adam, v_rms), paths, values

        # the buffers have room for every step of the capacity; the loop runs ``steps`` of them (a
        # tensor), so one compiled function serves every step count up to the capacity
        zeros = ops.zeros_like(p0)
        paths = ops.slice_update(ops.zeros((ops.shape(t)[0] + 1, *p0.shape), p0.dtype), (0, 0, 0), p0[None])
        values = ops.zeros((ops.shape(t)[0] + 1, p0.shape[0]), p0.dtype)
        p_last, _, _, paths, values = ops.fori_loop(0, steps, step, (p0, zeros, zeros, paths, values))
        return paths, ops.slice_update(values, (steps, 0), cost(p_last)[None])

    return walk


class DeviceWalk:
    """Walks of the optimizers down one data surface, compiled once (for up to five hikers and 1,024 steps).

    Example:
        >>> walker = DeviceWalk(cost)          # cost: params (P, 2) -> (P,), in keras.ops
        >>> paths, values = walker(p0, hyper, steps=200)

    Args:
        cost: the surface's cost, a function of a ``(P, 2)`` tensor of parameter pairs returning ``(P,)``,
            written with ``keras.ops`` (differentiated by the backend's autodiff).

    Attributes:
        failed: the backend could not compile the walk (the caller walks step by step).
        traces: how many times the walk was traced for compilation (PyTorch, eager: once per call).
    """

    def __init__(self, cost: Callable[[Any], Any]) -> None:
        walk = _walk_function(cost)

        def traced(*args: Any) -> tuple[Any, Any]:
            self.traces += 1  # Python runs here only while the backend traces (compiles) the walk
            return walk(*args)

        self._compiled = compile_function(traced)
        self.failed = False
        self.traces = 0

    @staticmethod
    def capacity(steps: int) -> int:
        """Room for steps in the compiled walk's buffers: 1,024 (the DescentExplorer's slider goes to
        1,000), or the next power of two above it for longer walks (one more compilation each)."""
        return max(1024, 1 << max(0, int(steps) - 1).bit_length())

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
        # at least HIKERS hikers (copies of the first fill the gap and are dropped): choosing other
        # optimizers in the widget then never compiles a new shape
        k = len(p0)
        fill = np.r_[np.arange(k), np.zeros(max(0, HIKERS - k), int)]
        args = [keras.ops.convert_to_tensor(np.asarray(p0, floatx)[fill]),
                keras.ops.convert_to_tensor(np.arange(1, self.capacity(steps) + 1, dtype=floatx)),
                keras.ops.convert_to_tensor(np.int32(steps))]
        columns = [np.asarray(hyper[name])[fill] for name in FIELDS]
        # Keras writes 1 - rho, 1 - beta with Python floats (exact, then rounded once): 1 - float32(0.999)
        # would be off by 1e-5 relative
        columns += [1.0 - np.asarray(hyper[name], float)[fill] for name in ("rho", "beta_1", "beta_2")]
        args += [keras.ops.convert_to_tensor(c if c.dtype == bool else c.astype(floatx)) for c in columns]
        try:
            paths, values = self._compiled(*args)
        except Exception:  # noqa: BLE001 -- any compile failure: fall back to the step-by-step walk
            self.failed = True
            return None
        paths = keras.ops.convert_to_numpy(paths)[: steps + 1, :k].astype(float)
        return paths, keras.ops.convert_to_numpy(values)[: steps + 1, :k].astype(float)
