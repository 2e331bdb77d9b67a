"""A small one-box regressor (e.g. the white blood cell in a BCCD smear) and its box metrics.

The model outputs one box (x1, y1, x2, y2) normalised to [0, 1] that is always valid
(0 < x1 < x2 < 1, 0 < y1 < y2 < 1): the left edge is ``sigmoid(a)`` and the right edge
``left + (1 - left) sigmoid(b)``, so any loss on corners (L1, IoU, GIoU, DIoU, CIoU) can train it.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

_START = (0.35, 0.65)
"""Initial box edges (the output for zero features): a centred box 0.3 wide."""


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def corners_from_logits(a: Any) -> Any:
    """Map unconstrained (..., 4) outputs to valid (x1, y1, x2, y2) in [0, 1] (``keras.ops``).

    Formula:
        x1 = s(a_0), y1 = s(a_1), x2 = x1 + (1 - x1) s(a_2), y2 = y1 + (1 - y1) s(a_3), s the sigmoid

    Example:
        >>> corners_from_logits(np.zeros((1, 4), "float32"))     # [[0.5, 0.5, 0.75, 0.75]]

    Args:
        a: raw outputs (..., 4).

    Returns:
        Boxes (..., 4) with 0 < x1 < x2 < 1 and 0 < y1 < y2 < 1.
    """
    s = ops.sigmoid(a)
    x1, y1 = s[..., 0], s[..., 1]
    return ops.stack([x1, y1, x1 + (1 - x1) * s[..., 2], y1 + (1 - y1) * s[..., 3]], axis=-1)


def box_regressor(input_shape: tuple[int, int, int] = (128, 128, 3), width: int = 16, blocks: int = 4,
                  seed: int = 0, name: str = "box_regressor") -> keras.Model:
    """A small CNN that regresses one box per image, as valid normalised corners.

    ``blocks`` strided convolutions (``width``, 2 ``width``, 4 ``width``, ... filters) keep a coarse
    spatial map, which is flattened (not pooled, so the position survives) into a dense layer and the
    4 box outputs (:func:`corners_from_logits`). The output bias starts at a centred box 0.3 wide.

    Example:
        >>> model = box_regressor((64, 64, 3))
        >>> model.compile("adam", loss=lossviz.losses.get("diou"))   # doctest: +SKIP

    Args:
        input_shape: (height, width, channels) of one image.
        width: filters of the first block.
        blocks: number of stride-2 blocks (the map shrinks by ``2 ** blocks``).
        seed: seed of the weight initialisers (same seed, same initial weights).
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` mapping images (N, H, W, C) to boxes (N, 4).
    """
    if blocks < 1 or width < 1:
        raise ValueError(f"Invalid sizes: expected blocks >= 1 and width >= 1; received {blocks}, {width}")
    init = keras.initializers.GlorotUniform
    inputs = keras.Input(input_shape)
    x = inputs
    for k in range(blocks):
        filters = width * 2 ** min(k, 2)
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu",
                                kernel_initializer=init(seed + k))(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu", kernel_initializer=init(seed + blocks))(x)
    lo, hi = _START
    bias = [_logit(lo), _logit(lo), _logit((hi - lo) / (1 - lo)), _logit((hi - lo) / (1 - lo))]
    raw = keras.layers.Dense(4, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01, seed=seed + 9),
                             bias_initializer=keras.initializers.Constant(bias))(x)
    outputs = keras.layers.Lambda(corners_from_logits, output_shape=(4,), name="corners")(raw)
    return keras.Model(inputs, outputs, name=name)


def flip_augment(x: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Double a data set with left-right mirrored images and their mirrored boxes.

    Formula:
        (x1, y1, x2, y2) -> (1 - x2, y1, 1 - x1, y2)

    Args:
        x: images (N, H, W, C).
        boxes: normalised boxes (N, 4) as (x1, y1, x2, y2).

    Returns:
        ``(images (2N, H, W, C), boxes (2N, 4))``: the originals followed by the mirrors.
    """
    b = np.asarray(boxes)
    mirrored = np.stack([1 - b[:, 2], b[:, 1], 1 - b[:, 0], b[:, 3]], -1)
    return np.concatenate([x, x[:, :, ::-1]]), np.concatenate([b, mirrored]).astype(b.dtype)


def box_metrics(pred: Any, boxes: Any) -> dict[str, float]:
    """Mean IoU and the fractions of boxes with IoU above 0.5 and 0.75 (numpy).

    Example:
        >>> box_metrics([[0, 0, 1, 1]], [[0, 0, 1, 0.5]])["mean_iou"]
        0.5

    Args:
        pred: predicted boxes (N, 4) as (x1, y1, x2, y2).
        boxes: true boxes (N, 4).

    Returns:
        ``{"mean_iou", "iou>0.5", "iou>0.75"}``.
    """
    p, t = np.asarray(pred, "float64"), np.asarray(boxes, "float64")
    if p.shape != t.shape or p.shape[-1:] != (4,):
        raise ValueError(f"Invalid boxes: expected two (N, 4) arrays of the same shape; received {p.shape}, {t.shape}")
    iw = np.clip(np.minimum(p[:, 2], t[:, 2]) - np.maximum(p[:, 0], t[:, 0]), 0, None)
    ih = np.clip(np.minimum(p[:, 3], t[:, 3]) - np.maximum(p[:, 1], t[:, 1]), 0, None)
    inter = iw * ih
    area = lambda b: np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)  # noqa: E731
    iou = inter / np.maximum(area(p) + area(t) - inter, 1e-12)
    return {"mean_iou": float(iou.mean()), "iou>0.5": float((iou > 0.5).mean()),
            "iou>0.75": float((iou > 0.75).mean())}
