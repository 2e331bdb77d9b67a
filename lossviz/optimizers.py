"""Keras's optimizers re-implemented in numpy, to walk many hikers down a two-parameter surface fast.

The update rules are exactly those of ``keras.optimizers`` (Keras 3) for one variable: ``SGD``
(with ``momentum`` and ``nesterov``), ``RMSprop`` and ``Adam``; ``tests/test_optimizers.py`` checks
the paths against the real Keras optimizers. All hikers step in lockstep, so a data surface needs
one autodiff call per step for all of them; a data surface that carries a compiled walk
(``Surface.walker``, :mod:`lossviz._device_walk`: the same rules in ``keras.ops``) is walked in one
call instead. A path that becomes non-finite or leaves the surface's big box
(:meth:`lossviz.surfaces.Surface.bounds`) is cut there and marked ``diverged``: no NaN is ever
returned and nothing raises.

Pure compute: numpy only (plus the surface's own gradient or compiled walk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray

KINDS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
LABELS = {"sgd": "SGD", "momentum": "SGD + momentum", "nesterov": "Nesterov", "rmsprop": "RMSprop",
          "adam": "Adam"}


@dataclass(frozen=True)
class Optimizer:
    """One optimizer's hyper-parameters, with Keras's names and defaults.

    Formula (g: gradient, t: step from 1, all element-wise; Keras 3's ``update_step``):
        sgd:       p -= lr g
        momentum:  m = mu m - lr g;  p += m
        nesterov:  m = mu m - lr g;  p += mu m - lr g
        rmsprop:   v = rho v + (1 - rho) g^2;  p -= lr g / sqrt(v + eps)
        adam:      m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2);
                   p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)

    Example:
        >>> Optimizer("nesterov", learning_rate=0.01, momentum=0.9).keras()   # the Keras twin

    Args:
        kind: one of ``sgd, momentum, nesterov, rmsprop, adam``.
        learning_rate: step size.
        momentum: ``mu`` of SGD with momentum / Nesterov.
        rho: RMSprop's decay of the squared-gradient average.
        beta_1, beta_2, epsilon: Adam's (and RMSprop's epsilon) constants, Keras's defaults.
    """

    kind: str
    learning_rate: float = 0.01
    momentum: float = 0.9
    rho: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Invalid optimizer kind {self.kind!r}: expected one of {KINDS}")
        if not self.learning_rate > 0:
            raise ValueError(f"Invalid value for `learning_rate`: expected > 0; received {self.learning_rate}")

    @property
    def label(self) -> str:
        """Display name (``"SGD + momentum"``)."""
        return LABELS[self.kind]

    def keras(self) -> Any:
        """The equivalent ``keras.optimizers`` instance."""
        import keras

        if self.kind in ("sgd", "momentum", "nesterov"):
            return keras.optimizers.SGD(self.learning_rate, momentum=0.0 if self.kind == "sgd" else self.momentum,
                                        nesterov=self.kind == "nesterov")
        if self.kind == "rmsprop":
            return keras.optimizers.RMSprop(self.learning_rate, rho=self.rho, epsilon=self.epsilon)
        return keras.optimizers.Adam(self.learning_rate, beta_1=self.beta_1, beta_2=self.beta_2,
                                     epsilon=self.epsilon)


@dataclass(frozen=True)
class Trajectory:
    """A hiker's path: the points visited and the loss at each.

    Attributes:
        optimizer: the :class:`Optimizer`.
        path: float array ``(T + 1, 2)``; ``path[0]`` is the start; shorter than ``steps + 1`` if diverged.
        losses: float array ``(T + 1,)``, the loss at each point of ``path`` (finite).
        diverged: whether the path became non-finite or left the big box.
        diverged_at: the step at which it did (``None`` if it did not).
    """

    optimizer: Optimizer
    path: np.ndarray
    losses: np.ndarray
    diverged: bool
    diverged_at: int | None


def _tf_rounding() -> bool:
    import keras

    return keras.backend.backend() == "tensorflow"


def _gradient_function(surface: Any, k: int) -> Any:
    """``points (k, 2) -> gradient (k, 2)``; analytic surfaces skip the general path (hot loop)."""
    grad_fn = getattr(surface, "grad_fn", None)
    if grad_fn is None or getattr(surface, "points_value_and_grad", None) is not None:
        return lambda p: np.asarray(surface.gradient(p), float)
    out = np.empty((k, 2))

    def analytic(p: np.ndarray) -> np.ndarray:
        out[:, 0], out[:, 1] = grad_fn(p[:, 0], p[:, 1])
        return out.copy()

    return analytic


def _spec(item: Optimizer | str, learning_rate: float | None, momentum: float | None) -> Optimizer:
    opt = item if isinstance(item, Optimizer) else Optimizer(str(item).lower())
    changes: dict[str, float] = {}
    if learning_rate is not None:
        changes["learning_rate"] = float(learning_rate)
    if momentum is not None:
        changes["momentum"] = float(momentum)
    return Optimizer(**{**opt.__dict__, **changes}) if changes else opt


def _hyper(specs: Sequence[Optimizer]) -> dict[str, Array]:
    """The optimizers' constants as ``(k, 1)`` columns (names of :data:`lossviz._device_walk.FIELDS`)."""
    col = {name: np.array([[getattr(s, name)] for s in specs], float) for name in
           ("learning_rate", "momentum", "rho", "beta_1", "beta_2", "epsilon")}
    kinds = np.array([s.kind for s in specs])
    # Keras keeps the learning rate in a float32 variable: round it the same way
    lr = col["learning_rate"].astype("float32").astype(float)
    # plain SGD is the momentum rule with mu = 0 (m = -lr g, p += m)
    hyper = {"learning_rate": lr, "mu": np.where(np.isin(kinds, ("momentum", "nesterov"))[:, None],
                                                 col["momentum"], 0.0),
             "rho": col["rho"], "beta_1": col["beta_1"], "beta_2": col["beta_2"], "epsilon": col["epsilon"]}
    for kind in ("nesterov", "rmsprop", "adam"):
        hyper[kind] = (kinds == kind)[:, None]
    return hyper


def _numpy_walk(gradient: Any, p0: Array, hyper: dict[str, Array], steps: int) -> Array:
    """The lockstep walk in float64 numpy, one ``gradient(points (k, 2))`` call per step: ``(steps + 1, k, 2)``."""
    lr, mu, rho, eps = hyper["learning_rate"], hyper["mu"], hyper["rho"], hyper["epsilon"]
    b1, b2, nesterov, rms, adam = (hyper[n] for n in ("beta_1", "beta_2", "nesterov", "rmsprop", "adam"))
    # for the bias-correction powers Keras casts the betas to tensors: on TensorFlow a Python float
    # becomes float32 first; copy that rounding so paths agree to float64 precision
    b1_32, b2_32 = (b.astype("float32").astype(float) if _tf_rounding() else b for b in (b1, b2))
    t = np.arange(1, steps + 1, dtype=float)[:, None, None]
    alphas = lr * np.sqrt(1 - b2_32 ** t) / (1 - b1_32 ** t)  # Adam's step size at each step (steps, k, 1)
    k = lr.shape[0]
    paths = np.empty((steps + 1, k, 2))
    paths[0] = p0
    m, v = np.zeros((k, 2)), np.zeros((k, 2))
    p = paths[0].copy()
    with np.errstate(all="ignore"):
        for step_index in range(steps):
            g = gradient(p)
            g2 = g * g
            m_sgd = m * mu - g * lr  # Keras SGD: m = m * mu - g * lr; nesterov adds m * mu - g * lr
            step = np.where(nesterov, m_sgd * mu - g * lr, m_sgd)
            v_rms = rho * v + (1 - rho) * g2  # Keras RMSprop: eps inside the square root
            step = np.where(rms, -(lr * g) / np.sqrt(v_rms + eps), step)
            m_adam = m + (g - m) * (1 - b1)  # Keras Adam: eps outside the square root
            v_adam = v + (g2 - v) * (1 - b2)
            step = np.where(adam, -(m_adam * alphas[step_index]) / (np.sqrt(v_adam) + eps), step)
            m, v = np.where(adam, m_adam, m_sgd), np.where(adam, v_adam, v_rms)
            p = p + step
            paths[step_index + 1] = p
    return paths


def trajectories(surface: Any, start: Sequence[float], optimizers: Sequence[Optimizer | str] = KINDS,
                 steps: int = 100, learning_rate: float | None = None, momentum: float | None = None,
                 escape: float = 4.0) -> list[Trajectory]:
    """Walk several optimizers down ``surface`` from ``start`` in lockstep (one gradient call per step, or
    one compiled call for the whole walk on a data surface).

    Example:
        >>> from lossviz import surfaces
        >>> paths = trajectories(surfaces.ravine(), (-3.5, 1.0), ["sgd", "adam"], steps=200, learning_rate=0.03)
        >>> paths[1].path.shape            # (201, 2)

    Args:
        surface: anything with ``value_and_gradient(points (K, 2)) -> (values (K,), grads (K, 2))``
            and ``bounds(scale)`` (a :class:`lossviz.surfaces.Surface`).
        start: the start point ``(p0, p1)``.
        optimizers: :class:`Optimizer` instances or kinds (``"adam"``).
        steps: number of updates.
        learning_rate, momentum: when given, override every optimizer's value.
        escape: the big box is the plotting range grown ``escape`` times; leaving it means diverged.

    Returns:
        One :class:`Trajectory` per optimizer, in order.
    """
    specs = [_spec(o, learning_rate, momentum) for o in optimizers]
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"Invalid value for `steps`: expected an integer >= 0; received {steps}")
    p0 = np.asarray(start, float).reshape(-1)
    if p0.shape != (2,) or not np.all(np.isfinite(p0)):
        raise ValueError(f"Invalid value for `start`: expected two finite numbers; received {start!r}")
    k = len(specs)
    if k == 0:
        return []
    lo, hi = surface.bounds(escape)
    hyper = _hyper(specs)
    walked = None
    walker = getattr(surface, "walker", None)
    if walker is not None and steps > 0:  # a data surface: the whole walk compiled on the device
        walked = walker(np.tile(p0, (k, 1)), hyper, steps)
    if walked is None:
        paths = _numpy_walk(_gradient_function(surface, k), p0, hyper, steps)
    with np.errstate(all="ignore"):
        if walked is not None:
            paths, losses = walked
        else:
            losses = surface.value(np.where(np.isfinite(paths), paths, 0.0))
        inside = np.all(np.isfinite(paths) & (paths >= lo) & (paths <= hi), axis=-1)  # (steps + 1, k)
    out = []
    for j, spec in enumerate(specs):
        bad = np.flatnonzero(~inside[:, j])
        diverged = bad.size > 0
        last = int(bad[0]) if diverged else steps
        path, loss = paths[: last + 1, j].copy(), losses[: last + 1, j].copy()
        # keep the first point off the box when it is finite (the path visibly leaves the map)
        if diverged and not (np.all(np.isfinite(path[-1])) and np.isfinite(loss[-1])):
            path, loss = path[:-1], loss[:-1]
        out.append(Trajectory(spec, path, loss, diverged, last if diverged else None))
    return out


def trajectory(surface: Any, start: Sequence[float], optimizer: Optimizer | str = "sgd",
               steps: int = 100, **options: Any) -> Trajectory:
    """One optimizer's path down ``surface``: :func:`trajectories` with a single optimizer.

    Example:
        >>> from lossviz import surfaces
        >>> tr = trajectory(surfaces.bowl(), (1.0, 1.0), Optimizer("sgd", learning_rate=0.1), steps=50)

    Args:
        surface, start, steps: as in :func:`trajectories`.
        optimizer: an :class:`Optimizer` or a kind.
        **options: ``learning_rate``, ``momentum``, ``escape``.

    Returns:
        A :class:`Trajectory`.
    """
    return trajectories(surface, start, [optimizer], steps, **options)[0]
