"""Weight-space directions and optimisation paths for :mod:`lossviz.landscape` (Li et al., NeurIPS 2018).

Kept apart from ``landscape.py`` so that each module stays short; every public name here is re-exported
there (``lossviz.landscape.random_directions`` etc.), which is where users import them from.

* Directions: :func:`model_weights`, :func:`filter_norms`, :func:`normalize_direction` (filter
  normalisation) and :func:`random_directions`.
* Paths: :class:`WeightRecorder` (snapshots during ``fit``), :func:`project_trajectory` onto a plane,
  :func:`pca_directions` (the plane of a path) and :func:`axes_around` (a grid that covers a path).

Pure compute: numpy and Keras only.
"""

from __future__ import annotations

from collections.abc import Sequence
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
