"""Loss landscapes of trained Keras models (Li, Xu, Taylor, Studer and Goldstein, NeurIPS 2018).

A network's loss is a function of millions of weights, so we look at it along one or two directions
through the trained weights ``w``: ``L(w + a d1 + b d2)``. Random directions only make pictures of
different networks comparable after *filter normalisation*: every filter of a direction is rescaled
to the norm of the matching filter of the weights, so a step ``a = 0.1`` moves every filter by 10 %
of its own size, whatever the layer's scale (Li et al., Section 4).

Conventions (the same as the paper's reference code):

* A *filter* is one output unit's slice of a kernel, i.e. everything but the last axis: for a
  ``Conv2D`` kernel of shape ``(kh, kw, in, out)`` filter ``j`` is ``kernel[..., j]``; for a ``Dense``
  kernel ``(in, out)`` it is column ``kernel[:, j]``.
* Biases and batch-normalisation parameters (every variable with at most one axis) are set to zero
  in the direction by default (``ignore_biases=True``), so they stay at their trained values; with
  ``ignore_biases=False`` the direction for them is a copy of the weights, as in the reference code.
* Only trainable variables move; non-trainable state (BN moving statistics) stays as the model has
  it, and the model is called in inference mode.

Losses are evaluated on a fixed data subset in batches that are converted to backend tensors once.
Per grid point, the ``"predict"`` engine (every backend) assigns the weights and calls the model's
own compiled ``predict_on_batch`` (a ``tf.function`` / ``jax.jit`` that Keras builds once); on JAX
the ``"jit"`` engine instead passes the weights to a ``jax.jit``-compiled ``model.stateless_call``.
Both are much faster than ``model.evaluate`` per point (see ``benchmarks/bench_landscape.py``).
Every function that moves the weights restores all of them afterwards, also on error.

Directions (filter normalisation) and paths (recording, projection, PCA) are written in
``lossviz._landscape_dirs`` and re-exported here: import everything from ``lossviz.landscape``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from lossviz._landscape_dirs import (
    NORMS,
    Arrays,
    Trajectory,
    WeightRecorder,
    _check_like,
    axes_around,
    filter_norms,
    model_weights,
    normalize_direction,
    pca_directions,
    project_trajectory,
    random_directions,
)

__all__ = [
    "NORMS", "Arrays", "LossEvaluator", "Sharpness", "Slice1D", "Slice2D", "Trajectory", "WeightRecorder",
    "axes_around", "filter_norms", "interpolate", "model_weights", "normalize_direction", "pca_directions",
    "project_trajectory", "random_directions", "sharpness", "slice_1d", "slice_2d",
]


class LossEvaluator:
    """Mean loss of a model on a fixed data subset, for weights you choose; fast and repeatable.

    The data is split into batches converted to backend tensors once. Each call assigns the weights
    (if given) and runs the model's compiled ``predict_on_batch`` on every batch, in inference mode.
    It does not restore the weights: use it inside ``try/finally`` or use the slice functions.

    Formula:
        L(w) = (1 / N) sum_batches n_b * mean(loss(y_b, model_w(x_b)))

    Example:
        >>> evaluate = LossEvaluator(model, keras.losses.MeanSquaredError(), x, y)   # doctest: +SKIP
        >>> evaluate(model_weights(model))                                           # doctest: +SKIP

    Args:
        model: a built Keras model.
        loss: ``loss(y_true, y_pred)`` returning a batch mean (Keras's default) or per-sample values.
        x: inputs, first axis the examples.
        y: targets, same first axis.
        batch_size: examples per forward pass (bigger is faster until memory runs out).
        engine: ``"predict"`` assigns the weights and calls the model's compiled ``predict_on_batch``
            (every backend); ``"jit"`` (JAX only) calls a ``jax.jit``-compiled ``model.stateless_call``
            with the weights as arguments, which avoids Keras's per-call overhead; ``"auto"`` picks
            ``"jit"`` on JAX and ``"predict"`` elsewhere.
    """

    def __init__(self, model: keras.Model, loss: Callable[[Any, Any], Any], x: Any, y: Any,
                 batch_size: int = 1024, engine: str = "auto") -> None:
        x, y = np.asarray(x), np.asarray(y)
        if len(x) == 0 or len(x) != len(y):
            raise ValueError(f"Invalid value for `x`, `y`: expected the same non-zero number of examples; "
                             f"received {len(x)} and {len(y)}")
        if batch_size < 1:
            raise ValueError(f"Invalid value for `batch_size`: expected >= 1; received {batch_size}")
        if engine not in ("auto", "jit", "predict"):
            raise ValueError(f"Invalid value for `engine`: expected 'auto', 'jit' or 'predict'; received {engine!r}")
        if engine == "jit" and keras.backend.backend() != "jax":
            raise ValueError(f"Invalid value for `engine`: 'jit' needs the JAX backend; "
                             f"the backend is {keras.backend.backend()!r}")
        if not model.trainable_variables:
            raise ValueError(f"Invalid value for `model`: expected a built model with trainable variables; "
                             f"{model.name!r} has none (build it, e.g. with keras.Input, or call it once)")
        self.model, self.loss, self.count = model, loss, len(x)
        self.variables = list(model.trainable_variables)
        self.engine = "jit" if engine == "jit" or (engine == "auto" and keras.backend.backend() == "jax") else "predict"
        self._jitted = _jax_batch_loss(model, loss) if self.engine == "jit" else None
        self._batches = [(keras.ops.convert_to_tensor(x[i:i + batch_size]),
                          keras.ops.convert_to_tensor(y[i:i + batch_size]), len(x[i:i + batch_size]))
                         for i in range(0, len(x), batch_size)]
        self.calls = 0

    def assign(self, weights: Sequence[np.ndarray]) -> None:
        """Set the model's trainable variables to ``weights`` (one array per variable)."""
        for variable, value in zip(self.variables, _check_like(weights, self.variables, "weights"), strict=True):
            variable.assign(value)

    def __call__(self, weights: Sequence[np.ndarray] | None = None) -> float:
        """Assign ``weights`` (unless ``None``) and return the mean loss over the subset."""
        if self._jitted is not None:  # stateless: the model's variables are not touched
            values = [v.value for v in self.variables] if weights is None else [
                keras.ops.convert_to_tensor(w) for w in _check_like(weights, self.variables, "weights")]
            fixed = [v.value for v in self.model.non_trainable_variables]
            sums = [self._jitted(values, fixed, xb, yb) * n for xb, yb, n in self._batches]
            self.calls += 1
            return float(sum(float(s) for s in sums)) / self.count
        if weights is not None:
            self.assign(weights)
        total = 0.0
        for xb, yb, n in self._batches:
            pred = self.model.predict_on_batch(xb)
            total += float(keras.ops.convert_to_numpy(keras.ops.mean(self.loss(yb, pred)))) * n
        self.calls += 1
        return total / self.count


def _jax_batch_loss(model: keras.Model, loss: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """A ``jax.jit``-compiled mean loss of one batch for given weights (the JAX backend's own jit)."""
    import jax

    def batch_loss(trainable: list, non_trainable: list, xb: Any, yb: Any) -> Any:
        pred, _ = model.stateless_call(trainable, non_trainable, xb, training=False)
        return keras.ops.mean(loss(yb, pred))

    return jax.jit(batch_loss)


@dataclass
class Slice1D:
    """A 1-D cut through the loss: ``losses[i] = L(centre + alphas[i] * direction)``."""

    alphas: np.ndarray
    losses: np.ndarray
    direction: Arrays
    centre: Arrays
    centre_loss: float


@dataclass
class Slice2D:
    """A 2-D cut: ``losses[j, i] = L(centre + alphas[i] * d1 + betas[j] * d2)`` (rows are ``betas``)."""

    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    directions: tuple[Arrays, Arrays]
    centre: Arrays
    centre_loss: float


def _axis(values: Sequence[float] | None, span: float, steps: int, name: str) -> np.ndarray:
    if values is None:
        if steps < 2 or span <= 0:
            raise ValueError(f"Invalid value for `steps`/`span`: expected steps >= 2 and span > 0; "
                             f"received {steps}, {span}")
        return np.linspace(-span, span, steps)
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size < 1 or not np.all(np.isfinite(values)):
        raise ValueError(f"Invalid value for `{name}`: expected a non-empty list of finite numbers; received {values}")
    return values


def _combine(centre: Arrays, terms: Sequence[tuple[float, Arrays]]) -> Arrays:
    out = [c.copy() for c in centre]
    for coef, direction in terms:
        if coef:
            for o, d in zip(out, direction, strict=True):
                o += np.float32(coef) * d
    return out


def _run(model: keras.Model, body: Callable[[Arrays], Any]) -> Any:
    """Call ``body(current trainable weights)`` and always restore all of the model's weights."""
    saved = model.get_weights()
    try:
        return body(model_weights(model))
    finally:
        model.set_weights(saved)


def slice_1d(model: keras.Model, loss: Callable[[Any, Any], Any], x: Any, y: Any, *,
             direction: Sequence[np.ndarray] | None = None, alphas: Sequence[float] | None = None,
             span: float = 1.0, steps: int = 21, seed: int = 0, norm: str = "filter", ignore_biases: bool = True,
             batch_size: int = 1024, engine: str = "auto") -> Slice1D:
    """Loss along one (by default random, filter-normalised) direction through the model's weights.

    Formula:
        f(a) = L(w + a d)

    Example:
        >>> cut = slice_1d(model, keras.losses.CategoricalCrossentropy(), x, y, steps=21)   # doctest: +SKIP

    Args:
        model, loss, x, y: the model (its weights are restored afterwards, also on error), the loss
            ``loss(y_true, y_pred)`` and the data subset, as for :class:`LossEvaluator`.
        direction: a direction (one array per trainable variable); ``None`` draws one from ``seed``.
        alphas: step sizes to evaluate; ``None`` means ``steps`` values evenly in ``[-span, span]``.
        span: half-width of the default range.
        steps: number of default step sizes.
        seed: seed of the random direction.
        norm: normalisation of a random direction, see :func:`normalize_direction`.
        ignore_biases: see :func:`normalize_direction`.
        batch_size, engine: as for :class:`LossEvaluator`.

    Returns:
        A :class:`Slice1D`.
    """
    alphas = _axis(alphas, span, steps, "alphas")
    evaluate = LossEvaluator(model, loss, x, y, batch_size, engine)

    def body(centre: Arrays) -> Slice1D:
        d = (random_directions(centre, 1, seed, norm, ignore_biases)[0] if direction is None
             else _check_like(direction, centre, "direction"))
        losses = np.array([evaluate(_combine(centre, [(a, d)])) for a in alphas])
        return Slice1D(alphas, losses, d, centre, evaluate(centre))

    return _run(model, body)


def slice_2d(model: keras.Model, loss: Callable[[Any, Any], Any], x: Any, y: Any, *,
             directions: tuple[Sequence[np.ndarray], Sequence[np.ndarray]] | None = None,
             alphas: Sequence[float] | None = None, betas: Sequence[float] | None = None, span: float = 1.0,
             steps: int = 11, seed: int = 0, norm: str = "filter", ignore_biases: bool = True,
             batch_size: int = 1024, engine: str = "auto") -> Slice2D:
    """Loss on a plane through the model's weights spanned by two (by default random) directions.

    Formula:
        f(a, b) = L(w + a d1 + b d2)

    Example:
        >>> plane = slice_2d(model, keras.losses.CategoricalCrossentropy(), x, y, steps=11)   # doctest: +SKIP
        >>> plane.losses.shape   # (11, 11), rows are b, columns are a

    Args:
        model, loss, x, y: the model (its weights are restored afterwards, also on error), the loss
            ``loss(y_true, y_pred)`` and the data subset, as for :class:`LossEvaluator`.
        directions: ``(d1, d2)``; ``None`` draws two from ``seed`` (see :func:`random_directions`).
        alphas: coordinates along ``d1``; ``None`` means ``steps`` values evenly in ``[-span, span]``.
        betas: coordinates along ``d2``; same default.
        span: half-width of the default ranges (1.0 moves every filter by its own norm).
        steps: number of default coordinates per axis.
        seed: seed of the random directions.
        norm: normalisation of random directions, see :func:`normalize_direction`.
        ignore_biases: see :func:`normalize_direction`.
        batch_size, engine: as for :class:`LossEvaluator`.

    Returns:
        A :class:`Slice2D` with ``losses`` of shape ``(len(betas), len(alphas))``.
    """
    alphas, betas = _axis(alphas, span, steps, "alphas"), _axis(betas, span, steps, "betas")
    evaluate = LossEvaluator(model, loss, x, y, batch_size, engine)

    def body(centre: Arrays) -> Slice2D:
        if directions is None:
            d1, d2 = random_directions(centre, 2, seed, norm, ignore_biases)
        else:
            if len(directions) != 2:
                raise ValueError(f"Invalid value for `directions`: expected a pair (d1, d2); "
                                 f"received {len(directions)} items")
            d1, d2 = (_check_like(d, centre, "directions") for d in directions)
        losses = np.array([[evaluate(_combine(centre, [(a, d1), (b, d2)])) for a in alphas] for b in betas])
        return Slice2D(alphas, betas, losses, (d1, d2), centre, evaluate(centre))

    return _run(model, body)


def interpolate(model: keras.Model, loss: Callable[[Any, Any], Any], x: Any, y: Any,
                start: Sequence[np.ndarray], end: Sequence[np.ndarray], *, alphas: Sequence[float] | None = None,
                steps: int = 21, batch_size: int = 1024, engine: str = "auto") -> Slice1D:
    """Loss on the straight line between two solutions (Goodfellow, Vinyals and Saxe 2015).

    Only trainable weights are interpolated; non-trainable state (BN moving statistics) is the model's.

    Formula:
        f(a) = L((1 - a) w_start + a w_end)

    Example:
        >>> line = interpolate(model, loss, x, y, initial_weights, model_weights(model))   # doctest: +SKIP

    Args:
        model, loss, x, y: the model (its weights are restored afterwards, also on error), the loss
            ``loss(y_true, y_pred)`` and the data subset, as for :class:`LossEvaluator`.
        start: trainable weights at ``a = 0`` (e.g. the initial weights).
        end: trainable weights at ``a = 1`` (e.g. the trained weights).
        alphas: positions on the line; ``None`` means ``steps`` values evenly in ``[-0.5, 1.5]``.
        steps: number of default positions (``4k + 1`` of them include 0 and 1 exactly).
        batch_size, engine: as for :class:`LossEvaluator`.

    Returns:
        A :class:`Slice1D` with ``centre = start``, ``direction = end - start``.
    """
    alphas = np.linspace(-0.5, 1.5, steps) if alphas is None else _axis(alphas, 1.0, steps, "alphas")
    evaluate = LossEvaluator(model, loss, x, y, batch_size, engine)

    def body(current: Arrays) -> Slice1D:
        a0 = _check_like(start, current, "start")
        d = [e - s for e, s in zip(_check_like(end, current, "end"), a0, strict=True)]
        losses = np.array([evaluate(_combine(a0, [(a, d)])) for a in alphas])
        return Slice1D(alphas, losses, d, a0, evaluate(a0))

    return _run(model, body)


@dataclass
class Sharpness:
    """Loss around the minimum at a fixed filter-normalised radius: how fast the valley's walls rise."""

    radius: float
    centre_loss: float
    losses: np.ndarray

    @property
    def mean_increase(self) -> float:
        """Average of ``L(w +- r d_k) - L(w)`` over the sampled directions."""
        return float(np.mean(self.losses) - self.centre_loss)

    @property
    def max_increase(self) -> float:
        """Largest ``L(w +- r d_k) - L(w)``."""
        return float(np.max(self.losses) - self.centre_loss)


def sharpness(model: keras.Model, loss: Callable[[Any, Any], Any], x: Any, y: Any, *, radius: float = 0.25,
              count: int = 8, seed: int = 0, ignore_biases: bool = True, batch_size: int = 1024,
              engine: str = "auto") -> Sharpness:
    """Loss increase at distance ``radius`` along ``count`` random filter-normalised directions (both signs).

    Filter normalisation makes the radius mean the same thing for every network ("move each filter
    by ``radius`` times its own norm"), so the increases of two models can be compared.

    Formula:
        losses = [L(w + s r d_k) for k < count, s in (+1, -1)]

    Example:
        >>> sharpness(model, loss, x, y, radius=0.25).mean_increase   # doctest: +SKIP

    Args:
        model, loss, x, y: the model (its weights are restored afterwards, also on error), the loss
            ``loss(y_true, y_pred)`` and the data subset, as for :class:`LossEvaluator`.
        radius: the filter-normalised step.
        count: number of random directions.
        seed: seed of the directions.
        ignore_biases: see :func:`normalize_direction`.
        batch_size, engine: as for :class:`LossEvaluator`.

    Returns:
        A :class:`Sharpness`.
    """
    if radius <= 0:
        raise ValueError(f"Invalid value for `radius`: expected > 0; received {radius}")
    evaluate = LossEvaluator(model, loss, x, y, batch_size, engine)

    def body(centre: Arrays) -> Sharpness:
        ds = random_directions(centre, count, seed, "filter", ignore_biases)
        losses = [evaluate(_combine(centre, [(sign * radius, d)])) for d in ds for sign in (1.0, -1.0)]
        return Sharpness(float(radius), evaluate(centre), np.array(losses))

    return _run(model, body)
