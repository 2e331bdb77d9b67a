"""Data surfaces for :mod:`lossviz.surfaces`: the cost of a two-parameter model over real data.

The cost (mean loss over the data) is computed with the catalogue's Keras losses in ``keras.ops``
(all grid points as one batch) and differentiated by the backend's autodiff
(:func:`lossviz.autodiff.value_and_grad`): :func:`line_fit` (slope, intercept) and
:func:`logistic_unit` (weight, bias). :func:`bccd_box_sizes` and :func:`bccd_cell_areas` give real
data for them (BCCD blood-cell boxes).

Kept apart from ``surfaces.py`` so that each module stays short; every public name here is re-exported
there (``lossviz.surfaces.line_fit`` etc.), which is where users import them from.

Pure compute: numpy and Keras only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
import numpy as np

if TYPE_CHECKING:
    from lossviz.surfaces import Surface

Array = np.ndarray


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
    from lossviz._device_walk import DeviceWalk
    from lossviz.autodiff import compile_function, value_and_grad
    from lossviz.surfaces import Surface  # here: surfaces.py imports this module

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

    grad = value_and_grad(cost, graph=True)
    # the grid: one fused (XLA) kernel per chunk shape instead of a (chunk, N) array per op
    compiled = {"cost": compile_function(cost)}

    def chunk_cost(points: Array) -> Array:
        try:
            return keras.ops.convert_to_numpy(compiled["cost"](keras.ops.convert_to_tensor(points)))
        except Exception:  # a user's loss that XLA cannot compile: evaluate it op by op from now on
            compiled["cost"] = cost
            return keras.ops.convert_to_numpy(cost(points))

    def values(p0: Array, p1: Array) -> Array:
        flat = np.stack(np.broadcast_arrays(p0, p1), -1).reshape(-1, 2).astype(keras.config.floatx())
        parts = [chunk_cost(flat[i:i + chunk]) for i in range(0, len(flat), chunk)]
        return np.concatenate(parts).astype(float).reshape(np.shape(np.broadcast_arrays(p0, p1)[0]))

    def grads(p0: Array, p1: Array) -> tuple[Array, Array]:
        g = grad(np.stack(np.broadcast_arrays(p0, p1), -1).reshape(-1, 2))[1].reshape(np.shape(p0) + (2,))
        return g[..., 0].astype(float), g[..., 1].astype(float)

    formula = ("mean_i loss(y_i, w x_i + b)" if model == "line"
               else "mean_i loss(y_i, sigmoid(w x_i + b))" + (" (from logits)" if logits else ""))
    return Surface(name, values, grads, x_range, y_range, (), start, formula, labels=labels,
                   description=f"{loss.name} of a {model} model on {x.size} points",
                   points_value_and_grad=lambda p: grad(np.asarray(p, keras.config.floatx())),
                   walker=DeviceWalk(cost))


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
