"""Loss surfaces of two parameters: the "mountains" the hiker (an optimizer) walks down.

Two kinds, one interface (:class:`Surface`): ``value(points)``, ``value_and_gradient(points)`` and
``grid(n)`` on ``(..., 2)`` arrays of parameters ``(p0, p1)``.

* **Analytic** surfaces with exact gradients and known minima: :func:`bowl`, :func:`ravine`,
  :func:`saddle`, :func:`rosenbrock`, :func:`himmelblau`, :func:`mountain_range`.
* **Data** surfaces (:class:`DataSurface`): the cost (mean loss over real data) of a two-parameter
  model as a function of its parameters, computed with the catalogue's Keras losses in ``keras.ops``
  (all grid points as one batch) and differentiated by the backend's autodiff
  (:func:`lossviz.autodiff.value_and_grad`): :func:`line_fit` (slope, intercept) and
  :func:`logistic_unit` (weight, bias). :func:`bccd_box_sizes` and :func:`bccd_cell_areas` give real
  data for them (BCCD blood-cell boxes).

Pure compute: numpy and Keras only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

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


# ------------------------------------------------------------------------------ data surfaces
def _as_loss(loss: str | keras.losses.Loss) -> keras.losses.Loss:
    if isinstance(loss, str):
        from lossviz import losses

        return losses.get(loss, reduction=None)
    if not isinstance(loss, keras.losses.Loss) or loss.reduction is not None:
        raise ValueError(f"Invalid value for `loss`: expected a catalogue name (e.g. 'mse') or a "
                         f"keras.losses.Loss with reduction=None; received {loss!r}")
    return loss


def _data(x: Any, y: Any) -> tuple[Array, Array]:
    xa, ya = np.asarray(x, "float32").ravel(), np.asarray(y, "float32").ravel()
    if xa.size == 0 or xa.shape != ya.shape:
        raise ValueError(f"Invalid values for `x`, `y`: expected two non-empty 1-D arrays of equal length; "
                         f"received shapes {np.shape(x)} and {np.shape(y)}")
    return xa, ya


def _data_surface(name: str, x: Array, y: Array, loss: keras.losses.Loss, model: str,
                  x_range: tuple[float, float], y_range: tuple[float, float], start: tuple[float, float],
                  labels: tuple[str, str], chunk: int) -> Surface:
    from lossviz.autodiff import value_and_grad

    xt, yt = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y)
    logits = model == "logistic" and bool(loss.get_config().get("from_logits", False))

    def cost(params: Any) -> Any:  # (P, 2) -> (P,): the mean loss over the data at each parameter pair
        params = keras.ops.convert_to_tensor(params)
        out = params[:, :1] * xt[None, :] + params[:, 1:]
        if model == "logistic" and not logits:
            out = keras.ops.sigmoid(out)
        # (1, N) targets broadcast against (P, N) predictions (cross-entropies need equal shapes); with
        # reduction=None Keras's losses average over the last (data) axis: the cost at each of P pairs
        truth = yt[None, :] if model == "line" else keras.ops.broadcast_to(yt[None, :], keras.ops.shape(out))
        return loss(truth, out)

    grad = value_and_grad(cost)

    def values(p0: Array, p1: Array) -> Array:
        flat = np.stack(np.broadcast_arrays(p0, p1), -1).reshape(-1, 2).astype(keras.config.floatx())
        parts = [keras.ops.convert_to_numpy(cost(flat[i:i + chunk])) for i in range(0, len(flat), chunk)]
        return np.concatenate(parts).astype(float).reshape(np.shape(np.broadcast_arrays(p0, p1)[0]))

    def grads(p0: Array, p1: Array) -> tuple[Array, Array]:
        g = grad(np.stack(np.broadcast_arrays(p0, p1), -1).reshape(-1, 2))[1].reshape(np.shape(p0) + (2,))
        return g[..., 0].astype(float), g[..., 1].astype(float)

    formula = ("mean_i loss(y_i, w x_i + b)" if model == "line"
               else "mean_i loss(y_i, sigmoid(w x_i + b))" + (" (from logits)" if logits else ""))
    return Surface(name, values, grads, x_range, y_range, (), start, formula, labels=labels,
                   description=f"{loss.name} of a {model} model on {x.size} points",
                   points_value_and_grad=lambda p: grad(np.asarray(p, keras.config.floatx())))


def line_fit(x: Any, y: Any, loss: str | keras.losses.Loss = "mse", *,
             x_range: tuple[float, float] = (-1.0, 3.0), y_range: tuple[float, float] = (-2.0, 2.0),
             start: tuple[float, float] = (-0.5, 1.5), chunk: int = 10000) -> Surface:
    """The cost surface of a straight line ``y = w x + b`` fitted to data, over (slope w, intercept b).

    Same data, different loss, different mountain: MSE gives a smooth bowl whose bottom is pulled by
    outliers; MAE gives a polyhedral cone whose bottom (a median line) barely moves.

    Formula:
        C(w, b) = (1/N) sum_i loss(y_i, w x_i + b)

    Example:
        >>> x, y = bccd_box_sizes(outliers=True)
        >>> s = line_fit(x, y, "huber"); s.value([[0.8, 0.1]])

    Args:
        x, y: the data, 1-D arrays of equal length.
        loss: a catalogue name (``"mse"``, ``"mae"``, ``"huber"``, ``"log_cosh"``) or a Keras loss with
            ``reduction=None``.
        x_range, y_range: plotting ranges of the slope and the intercept.
        start: default start point of the hiker.
        chunk: grid points evaluated per batch (memory: ``chunk * N`` floats).

    Returns:
        A :class:`Surface` (``minima`` empty: find them with an optimizer or on the grid); values by
        ``keras.ops``, gradients by the backend's autodiff.
    """
    xa, ya = _data(x, y)
    lo = _as_loss(loss)
    return _data_surface(f"line fit ({lo.name})", xa, ya, lo, "line", x_range, y_range, start,
                         ("slope w", "intercept b"), chunk)


def logistic_unit(x: Any, y: Any, loss: str | keras.losses.Loss = "binary_crossentropy", *,
                  x_range: tuple[float, float] = (-8.0, 8.0), y_range: tuple[float, float] = (-8.0, 8.0),
                  start: tuple[float, float] = (-6.0, 6.0), chunk: int = 10000) -> Surface:
    """The cost surface of one logistic unit ``p = sigmoid(w x + b)`` over (weight w, bias b).

    Cross-entropy gives a surface that keeps sloping where the unit is confidently wrong; a quadratic
    loss on the sigmoid's output has flat plateaus there (the sigmoid saturates), where gradient
    descent stalls.

    Formula:
        C(w, b) = (1/N) sum_i loss(y_i, sigmoid(w x_i + b))

    Example:
        >>> x, y = bccd_cell_areas()
        >>> ce = logistic_unit(x, y, "binary_crossentropy"); sq = logistic_unit(x, y, "mse")

    Args:
        x: the feature, 1-D; y: labels in {0, 1}, same length.
        loss: a catalogue name or a Keras loss with ``reduction=None``; a loss built with
            ``from_logits=True`` receives ``w x + b`` instead of the sigmoid.
        x_range, y_range: plotting ranges of the weight and the bias.
        start: default start point of the hiker (a confidently wrong unit).
        chunk: grid points evaluated per batch.

    Returns:
        A :class:`Surface` computed with ``keras.ops`` and differentiated by the backend's autodiff.
    """
    xa, ya = _data(x, y)
    if not np.all((ya == 0) | (ya == 1)):
        raise ValueError("Invalid value for `y`: expected labels 0 or 1")
    lo = _as_loss(loss)
    return _data_surface(f"logistic unit ({lo.name})", xa, ya, lo, "logistic", x_range, y_range, start,
                         ("weight w", "bias b"), chunk)


BOX_UNIT = 100.0  # pixels per unit of the box-size data
_IMAGE = (640.0, 480.0)


def _bccd_boxes(split: str) -> tuple[Array, Array, Array]:
    from lossviz import datasets

    boxes, labels, cut = [], [], []
    for record in datasets.bccd_annotations(split):
        b = np.asarray(record["boxes"], float).reshape(-1, 4)
        width, height = float(record.get("width", _IMAGE[0])), float(record.get("height", _IMAGE[1]))
        boxes.append(b)
        labels.append(np.asarray(record["labels"], int).ravel())
        cut.append((b[:, 0] <= 1) | (b[:, 1] <= 1) | (b[:, 2] >= width) | (b[:, 3] >= height))
    return np.concatenate(boxes), np.concatenate(labels), np.concatenate(cut)


def bccd_box_sizes(outliers: bool = False, n: int | None = None, seed: int = 0,
                   split: str = "all") -> tuple[Array, Array]:
    """Width and height (in units of 100 px) of BCCD blood-cell boxes: a nearly linear relation.

    Cells are round, so a box's height is close to its width (RBC ~1.0, platelets ~0.4, WBC ~1.9).
    Boxes cut by the image border are the real outliers: a cell half outside the picture has a box
    much narrower or flatter than the cell. The clean set keeps boxes that touch no border; the
    outliers are cut boxes whose height/width ratio is off by more than 1.5x.

    Data: BCCD (Shenggan, MIT licence; images and boxes from cosmicad and akshaylamba).

    Example:
        >>> x, y = bccd_box_sizes(outliers=True, n=1000)

    Args:
        outliers: append the cut boxes with a wrong aspect ratio to the clean boxes.
        n: keep a random subset of ``n`` clean boxes (and the same fraction of outliers); ``None``: all.
        seed: seed of the subset.
        split: BCCD split ("train", "val", "test" or "all").

    Returns:
        ``(width, height)``, float32 arrays of box sizes / 100 px.
    """
    boxes, _, cut = _bccd_boxes(split)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    ok = (w > 0) & (h > 0)
    clean = np.flatnonzero(ok & ~cut)
    bad = np.flatnonzero(ok & cut & (np.abs(np.log(np.where(ok, h, 1) / np.where(ok, w, 1))) > np.log(1.5)))
    rng = np.random.default_rng(seed)
    keep = clean if n is None else rng.permutation(clean)[: int(n)]
    if outliers:
        count = len(bad) if n is None else round(len(bad) * len(keep) / len(clean))
        keep = np.concatenate([keep, rng.permutation(bad)[:count]])
    return (w[keep] / BOX_UNIT).astype("float32"), (h[keep] / BOX_UNIT).astype("float32")


def bccd_cell_areas(split: str = "all") -> tuple[Array, Array]:
    """A one-feature classification task: is a BCCD cell a white (1) or a red (0) blood cell, from its size?

    The feature is the box's equivalent diameter ``sqrt(width * height)``, standardised (mean 0, std 1
    over these boxes). Boxes cut by the image border and platelets are left out.

    Data: BCCD (Shenggan, MIT licence; images and boxes from cosmicad and akshaylamba).

    Example:
        >>> x, y = bccd_cell_areas(); y.mean()   # about 0.08: WBCs are rare

    Args:
        split: BCCD split.

    Returns:
        ``(x, y)``: float32 standardised diameters and float32 labels (1 = WBC).
    """
    from lossviz import datasets

    boxes, labels, cut = _bccd_boxes(split)
    names = tuple(datasets.BCCD_CLASSES)
    rbc, wbc = names.index("RBC"), names.index("WBC")
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = ~cut & (w > 0) & (h > 0) & np.isin(labels, [rbc, wbc])
    d = np.sqrt(w[keep] * h[keep])
    return ((d - d.mean()) / d.std()).astype("float32"), (labels[keep] == wbc).astype("float32")
