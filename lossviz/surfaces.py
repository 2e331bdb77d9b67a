"""Loss surfaces of two parameters: the "mountains" the hiker (an optimizer) walks down.

Two kinds, one interface (:class:`Surface`): ``value(points)``, ``value_and_gradient(points)`` and
``grid(n)`` on ``(..., 2)`` arrays of parameters ``(p0, p1)``.

* **Analytic** surfaces with exact gradients and known minima: :func:`bowl`, :func:`ravine`,
  :func:`saddle`, :func:`rosenbrock`, :func:`himmelblau`, :func:`mountain_range`.
* **Data** surfaces: the cost (mean loss over real data) of a two-parameter model as a function of
  its parameters, computed with the catalogue's Keras losses in ``keras.ops`` (all grid points as one
  batch) and differentiated by the backend's autodiff (:func:`lossviz.autodiff.value_and_grad`):
  :func:`line_fit` (slope, intercept) and :func:`logistic_unit` (weight, bias). :func:`bccd_box_sizes`
  and :func:`bccd_cell_areas` give real data for them (BCCD blood-cell boxes). They are written in
  ``lossviz._data_surfaces`` and re-exported here: import everything from ``lossviz.surfaces``.

Pure compute: numpy and Keras only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossviz._data_surfaces import BOX_UNIT, bccd_box_sizes, bccd_cell_areas, line_fit, logistic_unit

__all__ = [
    "ANALYTIC", "BOX_UNIT", "HIMMELBLAU_MINIMA", "Surface", "bccd_box_sizes", "bccd_cell_areas", "bowl", "get",
    "himmelblau", "line_fit", "logistic_unit", "mountain_range", "ravine", "rosenbrock", "saddle",
]

Array = np.ndarray


def _points(points: Any) -> Array:
    p = np.asarray(points, dtype=float)
    if p.shape[-1:] != (2,):
        raise ValueError(f"Invalid value for `points`: expected an array of shape (..., 2) as (p0, p1); "
                         f"received shape {p.shape}")
    return p


@dataclass(frozen=True)
class Surface:
    """A loss surface of two parameters with its gradient, minima and plotting range.

    Formula:
        L(p0, p1), its gradient (dL/dp0, dL/dp1); see each constructor for the formula.

    Example:
        >>> s = rosenbrock()
        >>> s.value([[1.0, 1.0]])          # array([0.])
        >>> xs, ys, z = s.grid(100)        # z has shape (100, 100), rows follow ys

    Args:
        name: short name (``"rosenbrock"``).
        fn: vectorised value, ``fn(p0, p1) -> L`` on numpy arrays.
        grad_fn: vectorised exact gradient, ``grad_fn(p0, p1) -> (dL/dp0, dL/dp1)``.
        x_range, y_range: the plotting range of ``p0`` and ``p1``.
        minima: documented local minima (``(p0, p1)`` pairs).
        start: a default start point that makes a good demonstration.
        formula: LaTeX formula.
        log_display: plots show ``log10(1 + L)`` (for surfaces >= 0 spanning many orders).
        labels: axis names of the two parameters.
        description: one sentence for plot titles and lessons.
        points_value_and_grad: optional ``f(points (P, 2)) -> (values (P,), grads (P, 2))`` used by
            :meth:`value_and_gradient` instead of ``fn`` and ``grad_fn`` (data surfaces: one autodiff call).
        walker: optional compiled walk of the optimizers (:class:`lossviz._device_walk.DeviceWalk`) that
            :func:`lossviz.optimizers.trajectories` uses instead of one gradient call per step.
    """

    name: str
    fn: Callable[[Array, Array], Array]
    grad_fn: Callable[[Array, Array], tuple[Array, Array]]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    minima: tuple[tuple[float, float], ...] = ()
    start: tuple[float, float] = (0.0, 0.0)
    formula: str = ""
    log_display: bool = False
    labels: tuple[str, str] = ("p0", "p1")
    description: str = field(default="", compare=False)
    points_value_and_grad: Callable[[Array], tuple[Array, Array]] | None = field(default=None, compare=False)
    walker: Any = field(default=None, compare=False, repr=False)

    def value(self, points: Any) -> Array:
        """Loss at ``points`` of shape ``(..., 2)``; returns shape ``(...)``."""
        p = _points(points)
        return np.asarray(self.fn(p[..., 0], p[..., 1]), dtype=float)

    def value_and_gradient(self, points: Any) -> tuple[Array, Array]:
        """Loss ``(...)`` and gradient ``(..., 2)`` at ``points`` of shape ``(..., 2)``."""
        p = _points(points)
        if self.points_value_and_grad is not None:
            value, grad = self.points_value_and_grad(p.reshape(-1, 2))
            return (np.asarray(value, float).reshape(p.shape[:-1]),
                    np.asarray(grad, float).reshape(p.shape))
        g0, g1 = self.grad_fn(p[..., 0], p[..., 1])
        return self.value(p), np.stack([np.broadcast_to(g0, p.shape[:-1]),
                                        np.broadcast_to(g1, p.shape[:-1])], axis=-1).astype(float)

    def gradient(self, points: Any) -> Array:
        """Gradient ``(..., 2)`` at ``points`` of shape ``(..., 2)``."""
        if self.points_value_and_grad is not None:
            return self.value_and_gradient(points)[1]
        p = _points(points)
        g0, g1 = self.grad_fn(p[..., 0], p[..., 1])
        return np.stack([np.broadcast_to(g0, p.shape[:-1]), np.broadcast_to(g1, p.shape[:-1])], axis=-1)

    def axes(self, n: int = 100) -> tuple[Array, Array]:
        """``n`` evenly spaced values of ``p0`` and of ``p1`` over the plotting range."""
        if n < 2:
            raise ValueError(f"Invalid value for `n`: expected an integer >= 2; received {n}")
        return np.linspace(*self.x_range, n), np.linspace(*self.y_range, n)

    def grid(self, n: int = 100) -> tuple[Array, Array, Array]:
        """The surface on an ``n x n`` grid: ``(xs (n,), ys (n,), z (n, n))`` with ``z[i, j] = L(xs[j], ys[i])``."""
        xs, ys = self.axes(n)
        gx, gy = np.meshgrid(xs, ys)
        return xs, ys, self.value(np.stack([gx, gy], axis=-1))

    def grid_minimum(self, n: int = 200) -> tuple[float, float, float]:
        """The lowest point of the ``n x n`` grid: ``(p0, p1, L)`` (a data surface's minimum to grid precision)."""
        xs, ys, z = self.grid(n)
        i, j = np.unravel_index(np.nanargmin(z), z.shape)
        return float(xs[j]), float(ys[i]), float(z[i, j])

    def bounds(self, scale: float = 4.0) -> tuple[Array, Array]:
        """The "big box" outside of which a path counts as diverged: the plotting range grown ``scale`` times
        about its centre. Returns ``(low (2,), high (2,))``."""
        lo = np.array([self.x_range[0], self.y_range[0]], float)
        hi = np.array([self.x_range[1], self.y_range[1]], float)
        centre, half = (lo + hi) / 2, (hi - lo) / 2
        return centre - scale * half, centre + scale * half


# ------------------------------------------------------------------------------ analytic surfaces
def bowl() -> Surface:
    """A round convex bowl: every direction is equally steep.

    Formula:
        L(x, y) = x^2 + y^2,  minimum (0, 0)

    Example:
        >>> bowl().gradient([1.0, 2.0])    # array([2., 4.])

    Returns:
        A :class:`Surface`; plain gradient descent is stable for learning rates below 1.
    """
    return Surface("bowl", lambda x, y: x**2 + y**2, lambda x, y: (2 * x, 2 * y),
                   (-2.0, 2.0), (-2.0, 2.0), ((0.0, 0.0),), (-1.6, 1.2), r"x^2 + y^2")


def ravine(condition: float = 40.0) -> Surface:
    """An ill-conditioned quadratic valley: steep walls across, a gentle slope along it.

    Formula:
        L(x, y) = (x^2 + c y^2) / 2,  c = condition number,  minimum (0, 0)

    Example:
        >>> ravine().value([[0.0, 1.0]])   # array([20.])

    Args:
        condition: ratio of the curvatures across and along the valley (> 1).

    Returns:
        A :class:`Surface`; plain gradient descent needs a learning rate below 2 / c and then crawls
        along the valley floor, which is what momentum and Adam fix.
    """
    if condition <= 0:
        raise ValueError(f"Invalid value for `condition`: expected a positive number; received {condition}")
    c = float(condition)
    return Surface("ravine", lambda x, y: 0.5 * (x**2 + c * y**2), lambda x, y: (x, c * y),
                   (-4.0, 4.0), (-1.5, 1.5), ((0.0, 0.0),), (-3.5, 1.0), rf"\tfrac12 (x^2 + {c:g} y^2)")


def saddle() -> Surface:
    """A saddle point at the origin between two valleys.

    Formula:
        L(x, y) = x^2 - y^2 + y^4 / 4,  saddle (0, 0),  minima (0, +-sqrt 2) with L = -1

    Example:
        >>> saddle().gradient([0.0, 0.0])  # array([0., 0.]): a hiker exactly on the ridge line stays put

    Returns:
        A :class:`Surface`.
    """
    r2 = float(np.sqrt(2.0))
    return Surface("saddle", lambda x, y: x**2 - y**2 + y**4 / 4, lambda x, y: (2 * x, y**3 - 2 * y),
                   (-2.0, 2.0), (-2.2, 2.2), ((0.0, r2), (0.0, -r2)), (-1.8, 0.05), r"x^2 - y^2 + y^4/4")


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """Rosenbrock's banana valley: easy to reach the curved valley, slow to walk along it.

    Formula:
        L(x, y) = (a - x)^2 + b (y - x^2)^2,  minimum (a, a^2)

    Example:
        >>> rosenbrock().value([[1.0, 1.0]])   # array([0.])

    Args:
        a, b: the classic constants (1, 100).

    Returns:
        A :class:`Surface` (plotted as log10(1 + L)).
    """
    return Surface("rosenbrock", lambda x, y: (a - x) ** 2 + b * (y - x**2) ** 2,
                   lambda x, y: (-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)),
                   (-2.0, 2.0), (-1.0, 3.0), ((a, a * a),), (-1.5, 2.0),
                   rf"({a:g} - x)^2 + {b:g}\,(y - x^2)^2", log_display=True)


HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))


def himmelblau() -> Surface:
    """Himmelblau's function: four valleys of equal depth; where the hiker ends depends on the start.

    Formula:
        L(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2,  four minima with L = 0 (Himmelblau 1972)

    Example:
        >>> himmelblau().value([[3.0, 2.0]])   # array([0.])

    Returns:
        A :class:`Surface` (plotted as log10(1 + L)); minima to 6 decimals.
    """
    def grad(x: Array, y: Array) -> tuple[Array, Array]:
        u, v = x**2 + y - 11, x + y**2 - 7
        return 4 * x * u + 2 * v, 2 * u + 4 * y * v

    return Surface("himmelblau", lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2, grad,
                   (-5.0, 5.0), (-5.0, 5.0), HIMMELBLAU_MINIMA, (-0.5, 0.5),
                   r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2", log_display=True)


# (centre x, centre y, depth, width) of each valley of the mountain range
_VALLEYS = ((-2.0, -1.2, 1.0, 0.8), (1.5, 1.5, 1.6, 0.7), (2.2, -1.8, 0.7, 0.6), (-1.6, 2.0, 0.9, 0.9))
_BOWL = 0.04


def _range_terms(x: Array, y: Array) -> tuple[Array, Array, Array]:
    value, gx, gy = _BOWL * (x**2 + y**2), 2 * _BOWL * x, 2 * _BOWL * y
    for cx, cy, depth, width in _VALLEYS:
        e = depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2))
        value = value - e
        gx = gx + e * (x - cx) / width**2
        gy = gy + e * (y - cy) / width**2
    return value, gx, gy


def _refine_minima(grad: Callable[[Array, Array], tuple[Array, Array]], seeds: Array) -> tuple:
    """Walk from ``seeds`` down to the nearby stationary minima (Newton with a numeric Hessian)."""
    p = np.array(seeds, float)
    h = 1e-6
    for _ in range(50):
        g = np.stack(grad(p[:, 0], p[:, 1]), -1)
        hx = (np.stack(grad(p[:, 0] + h, p[:, 1]), -1) - np.stack(grad(p[:, 0] - h, p[:, 1]), -1)) / (2 * h)
        hy = (np.stack(grad(p[:, 0], p[:, 1] + h), -1) - np.stack(grad(p[:, 0], p[:, 1] - h), -1)) / (2 * h)
        p = p - np.linalg.solve(np.stack([hx, hy], -1), g[..., None])[..., 0]
    return tuple((float(a), float(b)) for a, b in p)


def mountain_range() -> Surface:
    """A "mountain range": four valleys of different depths on a gentle bowl.

    Formula:
        L(x, y) = 0.04 (x^2 + y^2) - sum_k d_k exp(-|(x, y) - c_k|^2 / (2 s_k^2))

    Example:
        >>> s = mountain_range(); s.minima[1]   # the deepest valley, near (1.5, 1.5)

    Returns:
        A :class:`Surface`; its four minima are found to machine precision by Newton's method from the
        valley centres (the bowl and the neighbouring valleys shift them slightly).
    """
    def fn(x: Array, y: Array) -> Array:
        return _range_terms(x, y)[0]

    def grad(x: Array, y: Array) -> tuple[Array, Array]:
        return _range_terms(x, y)[1:]

    minima = _refine_minima(grad, np.array([v[:2] for v in _VALLEYS]))
    return Surface("mountain_range", fn, grad, (-4.0, 4.0), (-4.0, 4.0), minima, (-0.3, -3.5),
                   r"0.04\,|p|^2 - \sum_k d_k \exp(-|p - c_k|^2 / 2 s_k^2)")


ANALYTIC = {"bowl": bowl, "ravine": ravine, "saddle": saddle, "rosenbrock": rosenbrock,
            "himmelblau": himmelblau, "mountain_range": mountain_range}


def get(name: str) -> Surface:
    """An analytic surface by name: one of ``bowl, ravine, saddle, rosenbrock, himmelblau, mountain_range``."""
    key = str(name).lower().replace("-", "_")
    if key not in ANALYTIC:
        raise ValueError(f"Invalid surface name {name!r}: expected one of {sorted(ANALYTIC)}")
    return ANALYTIC[key]()
