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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

Arrays = list[np.ndarray]
NORMS = ("filter", "layer", "none")


def model_weights(model: keras.Model) -> Arrays:
    """Return copies of a model's trainable weights as numpy arrays (the space directions live in).

    Example:
        >>> w = model_weights(model)   # doctest: +SKIP

    Args:
        model: a built Keras model.

    Returns:
        One array per entry of ``model.trainable_variables``.
    """
    return [np.array(v.numpy()) for v in model.trainable_variables]


def filter_norms(array: np.ndarray) -> np.ndarray:
    """Euclidean norm of every filter (last-axis slice) of a kernel.

    Formula:
        n_j = sqrt(sum_{all axes but the last} array[..., j]^2)

    Example:
        >>> filter_norms(np.ones((3, 3, 2, 4)))   # array([4.243, 4.243, 4.243, 4.243])

    Args:
        array: a kernel with at least two axes, output units on the last axis.

    Returns:
        The norms, shape ``(array.shape[-1],)``.
    """
    array = np.asarray(array, dtype=np.float64)
    if array.ndim < 2:
        raise ValueError(f"Invalid value for `array`: expected a kernel with >= 2 axes; received shape {array.shape}")
    return np.sqrt(np.sum(array**2, axis=tuple(range(array.ndim - 1))))


def _check_like(arrays: Sequence[Any], weights: Sequence[np.ndarray], name: str) -> Arrays:
    if len(arrays) != len(weights):
        raise ValueError(f"Invalid value for `{name}`: expected {len(weights)} arrays (one per trainable "
                         f"variable); received {len(arrays)}")
    out = []
    for i, (a, w) in enumerate(zip(arrays, weights, strict=True)):
        a = np.asarray(a, dtype=np.float32)
        if a.shape != np.shape(w):
            raise ValueError(f"Invalid value for `{name}[{i}]`: expected shape {np.shape(w)}; received {a.shape}")
        out.append(a)
    return out


def normalize_direction(direction: Sequence[np.ndarray], weights: Sequence[np.ndarray], norm: str = "filter",
                        ignore_biases: bool = True) -> Arrays:
    """Rescale a direction so that each of its filters has the norm of the matching weight filter.

    Formula:
        filter:  d[..., j] <- d[..., j] * ||w[..., j]|| / (||d[..., j]|| + 1e-10)
        layer:   d <- d * ||w|| / (||d|| + 1e-10)
        1-axis variables (biases, BN): d <- 0 (``ignore_biases``) or d <- w

    Example:
        >>> d = normalize_direction(d, model_weights(model))   # doctest: +SKIP

    Args:
        direction: one array per trainable variable.
        weights: the weights the direction is normalised against (same shapes).
        norm: ``"filter"`` (the paper's default), ``"layer"`` (a whole variable at once) or ``"none"``.
        ignore_biases: zero the direction on variables with at most one axis (biases, BN scale and
            offset), as the paper does by default; if ``False`` use a copy of those weights instead.

    Returns:
        The normalised direction, a new list of float32 arrays.
    """
    if norm not in NORMS:
        raise ValueError(f"Invalid value for `norm`: expected one of {NORMS}; received {norm!r}")
    weights = [np.asarray(w, dtype=np.float32) for w in weights]
    out = []
    for d, w in zip(_check_like(direction, weights, "direction"), weights, strict=True):
        d64 = d.astype(np.float64)
        if d.ndim <= 1:
            d64 = np.zeros_like(d64) if ignore_biases else w.astype(np.float64)
        elif norm == "filter":
            d64 = d64 * (filter_norms(w) / (filter_norms(d64) + 1e-10))
        elif norm == "layer":
            d64 = d64 * (np.linalg.norm(w) / (np.linalg.norm(d64) + 1e-10))
        out.append(d64.astype(np.float32))
    return out


def random_directions(weights: Sequence[np.ndarray], count: int = 2, seed: int = 0, norm: str = "filter",
                      ignore_biases: bool = True) -> list[Arrays]:
    """Draw ``count`` Gaussian directions in weight space and normalise them (filter-wise by default).

    The draws are sequential from one ``numpy`` generator, so the first direction for a seed is the
    same whether you ask for one or two: a 1-D slice is the ``b = 0`` row of the 2-D slice.

    Example:
        >>> d1, d2 = random_directions(model_weights(model), count=2, seed=0)   # doctest: +SKIP

    Args:
        weights: one array per trainable variable (e.g. :func:`model_weights`).
        count: how many directions.
        seed: seed of the generator; the same seed gives the same directions.
        norm: see :func:`normalize_direction`.
        ignore_biases: see :func:`normalize_direction`.

    Returns:
        A list of ``count`` directions, each a list of float32 arrays shaped like ``weights``.
    """
    if count < 1:
        raise ValueError(f"Invalid value for `count`: expected >= 1; received {count}")
    rng = np.random.default_rng(seed)
    return [normalize_direction([rng.standard_normal(np.shape(w)) for w in weights], weights, norm, ignore_biases)
            for _ in range(count)]


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


class WeightRecorder(keras.callbacks.Callback):
    """Record the trainable weights during ``fit``: at the start, every n batches and after every epoch.

    An epoch's end is not recorded twice when its last batch was just recorded.

    It only records (``snapshots``, a list of weight lists); it changes nothing in training.

    Example:
        >>> recorder = WeightRecorder()
        >>> model.fit(x, y, epochs=5, callbacks=[recorder])   # doctest: +SKIP
        >>> len(recorder.snapshots)                            # 6: initial + one per epoch

    Args:
        every_batches: also record every this many training batches (``None``: epochs only).
    """

    def __init__(self, every_batches: int | None = None) -> None:
        super().__init__()
        if every_batches is not None and every_batches < 1:
            raise ValueError(f"Invalid value for `every_batches`: expected None or >= 1; received {every_batches}")
        self.every_batches = every_batches
        self.snapshots: list[Arrays] = []
        self._just_recorded = False

    def _record(self) -> None:
        sync = getattr(self.model, "jax_state_sync", None)  # JAX keeps weights off the variables mid-epoch
        if callable(sync):
            sync()
        self.snapshots.append(model_weights(self.model))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._record()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._just_recorded = bool(self.every_batches and (batch + 1) % self.every_batches == 0)
        if self._just_recorded:
            self._record()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self._just_recorded:  # the epoch's last batch may already be recorded
            self._record()
        self._just_recorded = False


def _flat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def _unflat(vector: np.ndarray, like: Sequence[np.ndarray]) -> Arrays:
    out, start = [], 0
    for a in like:
        out.append(vector[start:start + np.size(a)].reshape(np.shape(a)).astype(np.float32))
        start += np.size(a)
    return out


@dataclass
class Trajectory:
    """Snapshots projected on a plane: ``coords[t] = (a_t, b_t)`` with ``w_t - centre ~ a_t d1 + b_t d2``.

    ``residual[t]`` is the part of ``w_t - centre`` off the plane, relative to its length (0 = on it).
    """

    coords: np.ndarray
    residual: np.ndarray


def project_trajectory(snapshots: Sequence[Sequence[np.ndarray]], directions: tuple[Sequence[np.ndarray], ...],
                       centre: Sequence[np.ndarray]) -> Trajectory:
    """Coordinates of weight snapshots in the plane of two directions, by least squares.

    The directions need not be orthogonal (random ones are only nearly so).

    Formula:
        (a_t, b_t) = argmin ||(w_t - w) - a d1 - b d2||^2   (normal equations with the 2 x 2 Gram matrix)

    Example:
        >>> path = project_trajectory(recorder.snapshots, plane.directions, plane.centre)   # doctest: +SKIP

    Args:
        snapshots: weight lists (e.g. :attr:`WeightRecorder.snapshots`).
        directions: ``(d1, d2)`` as used for the slice.
        centre: the weights at the origin of the plane (e.g. :attr:`Slice2D.centre`).

    Returns:
        A :class:`Trajectory` with ``coords`` of shape ``(len(snapshots), 2)``.
    """
    if len(directions) != 2:
        raise ValueError(f"Invalid value for `directions`: expected a pair (d1, d2); received {len(directions)}")
    c = _flat(centre)
    basis = np.stack([_flat(_check_like(d, centre, "directions")) for d in directions], axis=1)
    gram = basis.T @ basis
    if np.linalg.matrix_rank(gram) < 2:
        raise ValueError("Invalid value for `directions`: expected two linearly independent directions")
    coords, residual = [], []
    for snap in snapshots:
        v = _flat(_check_like(snap, centre, "snapshots")) - c
        ab = np.linalg.solve(gram, basis.T @ v)
        coords.append(ab)
        length = np.linalg.norm(v)
        residual.append(np.linalg.norm(v - basis @ ab) / length if length > 0 else 0.0)
    return Trajectory(np.array(coords).reshape(-1, 2), np.array(residual))


def pca_directions(snapshots: Sequence[Sequence[np.ndarray]], centre: Sequence[np.ndarray] | None = None,
                   ignore_biases: bool = True) -> tuple[tuple[Arrays, Arrays], np.ndarray]:
    """The two principal directions of an optimisation path (Li et al., Section 7).

    Random directions are nearly orthogonal to the path in high dimensions, so the path looks like a
    dot on a random plane; the plane of the path's two main directions shows it. As in the paper, the
    matrix ``M = [w_0 - w_n; ...; w_{n-1} - w_n]`` is centred and decomposed (PCA); variables with
    at most one axis are zeroed first when ``ignore_biases``.

    Formula:
        M - mean(M) = U S V^T,  d1, d2 = V[:, 0], V[:, 1],  explained_i = S_i^2 / sum S^2

    Example:
        >>> (d1, d2), ratio = pca_directions(recorder.snapshots)   # doctest: +SKIP

    Args:
        snapshots: at least three weight lists along the path.
        centre: the path's reference point ``w_n``; ``None`` uses the last snapshot.
        ignore_biases: zero biases and BN parameters, as for random directions.

    Returns:
        ``((d1, d2), explained)``: unit-length directions and the fraction of the path's variance each explains.
    """
    if len(snapshots) < 3:
        raise ValueError(f"Invalid value for `snapshots`: expected at least 3 weight lists; received {len(snapshots)}")
    ref = list(snapshots[-1]) if centre is None else list(centre)
    mask = [np.full(np.shape(a), 0.0 if (ignore_biases and np.ndim(a) <= 1) else 1.0) for a in ref]
    m = np.stack([_flat(_check_like(s, ref, "snapshots")) - _flat(ref) for s in snapshots[:-1]]) * _flat(mask)
    m -= m.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(m, full_matrices=False)
    if s.size < 2 or s[1] <= 0:
        raise ValueError("Invalid value for `snapshots`: the path spans fewer than two directions")
    return (_unflat(vt[0], ref), _unflat(vt[1], ref)), (s**2 / np.sum(s**2))[:2]


def axes_around(coords: Any, steps: int = 11, margin: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Grid coordinates that cover a projected path (and the origin) with a margin on every side.

    Example:
        >>> alphas, betas = axes_around(path.coords, steps=21)   # doctest: +SKIP

    Args:
        coords: (T, 2) plane coordinates, e.g. :attr:`Trajectory.coords`.
        steps: number of values per axis.
        margin: extra room on each side, as a fraction of the path's extent.

    Returns:
        ``(alphas, betas)``, each of ``steps`` evenly spaced values.
    """
    coords = np.vstack([np.asarray(coords, dtype=np.float64).reshape(-1, 2), np.zeros((1, 2))])
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-6)
    return np.linspace(lo[0] - pad[0], hi[0] + pad[0], steps), np.linspace(lo[1] - pad[1], hi[1] + pad[1], steps)


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
