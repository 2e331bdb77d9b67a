"""Segmentation metrics of thresholded predictions: per-image and mean Dice and IoU, by object size.

A prediction counts as foreground where ``y_pred >= threshold`` (as ``keras.metrics.BinaryIoU``); the
target where ``y_true >= 0.5``. Scores are computed per image, then averaged over images.

**Empty masks.** When an image's target *and* thresholded prediction are both empty, there is nothing
to find and nothing was found: its Dice and IoU are 1 (not 0/0). An empty target with a non-empty
prediction (or the reverse) scores 0.

Pure compute (numpy; Keras tensors are accepted and converted): never imports plotly or ipywidgets.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np


def _numpy(x: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x) if not isinstance(x, np.ndarray) else x)


def _pair(y_true: Any, y_pred: Any, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    t, p = _numpy(y_true), _numpy(y_pred)
    if t.shape != p.shape or t.ndim < 2:
        raise ValueError(f"Invalid masks: expected y_true and y_pred of the same shape (N, H, W[, 1]); received "
                         f"{t.shape} and {p.shape}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"Invalid value for `threshold`: expected a probability in [0, 1]; received {threshold}")
    n = t.shape[0]
    return (t >= 0.5).reshape(n, -1), (p >= threshold).reshape(n, -1)


def confusion_counts(y_true: Any, y_pred: Any, threshold: float = 0.5) -> dict[str, np.ndarray]:
    """Per-image pixel counts of true positives, false positives, false negatives and true negatives.

    Formula:
        tp = #(y = 1, p >= t), fp = #(y = 0, p >= t), fn = #(y = 1, p < t), tn = #(y = 0, p < t)

    Example:
        >>> confusion_counts([[1, 1, 0, 0]], [[0.9, 0.2, 0.7, 0.1]])["fp"]
        array([1])

    Args:
        y_true: target masks (N, H, W[, 1]) of 0 and 1.
        y_pred: predicted probabilities, same shape.
        threshold: the probability from which a pixel is predicted foreground.

    Returns:
        ``{"tp", "fp", "fn", "tn"}``, integer arrays (N,).
    """
    t, p = _pair(y_true, y_pred, threshold)
    return {"tp": np.sum(t & p, axis=1), "fp": np.sum(~t & p, axis=1), "fn": np.sum(t & ~p, axis=1),
            "tn": np.sum(~t & ~p, axis=1)}


def dice_scores(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """Dice coefficient (F1 score) of each image's thresholded prediction; both masks empty gives 1.

    Formula:
        D = 2 tp / (2 tp + fp + fn)

    Example:
        >>> dice_scores([[1, 1, 0, 0]], [[1, 0, 1, 0]])        # 2 / (2 + 1 + 1)
        array([0.5])

    Args:
        y_true: target masks (N, H, W[, 1]) of 0 and 1.
        y_pred: predicted probabilities, same shape.
        threshold: the probability from which a pixel is predicted foreground.

    Returns:
        float64 array (N,) in [0, 1].
    """
    c = confusion_counts(y_true, y_pred, threshold)
    den = 2 * c["tp"] + c["fp"] + c["fn"]
    return np.where(den == 0, 1.0, 2 * c["tp"] / np.maximum(den, 1)).astype(np.float64)


def iou_scores(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """Intersection over union (Jaccard index) of each image's thresholded prediction; both empty gives 1.

    Formula:
        IoU = tp / (tp + fp + fn) = D / (2 - D)

    Example:
        >>> iou_scores([[1, 1, 0, 0]], [[1, 0, 1, 0]])         # 1 / 3
        array([0.33333333])

    Args:
        y_true: target masks (N, H, W[, 1]) of 0 and 1.
        y_pred: predicted probabilities, same shape.
        threshold: the probability from which a pixel is predicted foreground.

    Returns:
        float64 array (N,) in [0, 1].
    """
    c = confusion_counts(y_true, y_pred, threshold)
    den = c["tp"] + c["fp"] + c["fn"]
    return np.where(den == 0, 1.0, c["tp"] / np.maximum(den, 1)).astype(np.float64)


def pooled_iou(y_true: Any, y_pred: Any, threshold: float = 0.5) -> float:
    """IoU of the foreground over all pixels of all images together (what ``keras.metrics.BinaryIoU`` with
    ``target_class_ids=[1]`` accumulates): large objects weigh more than in the mean of per-image IoUs.

    Formula:
        IoU = sum tp / (sum tp + sum fp + sum fn)   (1 when every mask is empty)

    Args:
        y_true: target masks (N, H, W[, 1]) of 0 and 1.
        y_pred: predicted probabilities, same shape.
        threshold: the probability from which a pixel is predicted foreground.

    Returns:
        A float in [0, 1].
    """
    c = confusion_counts(y_true, y_pred, threshold)
    tp, den = int(c["tp"].sum()), int((c["tp"] + c["fp"] + c["fn"]).sum())
    return 1.0 if den == 0 else tp / den


def foreground_fractions(masks: Any) -> np.ndarray:
    """Fraction of foreground pixels (>= 0.5) in each mask (N, H, W[, 1]), float64 (N,)."""
    m = _numpy(masks)
    if m.ndim < 2:
        raise ValueError(f"Invalid value for `masks`: expected (N, H, W[, 1]); received shape {m.shape}")
    return (m >= 0.5).reshape(m.shape[0], -1).mean(axis=1)


def small_objects(y_true: Any, split: float | None = None) -> np.ndarray:
    """Which images hold a small object: foreground fraction below ``split`` (default: the median).

    Example:
        >>> small_objects(masks)              # about half the images, those with the smaller objects

    Args:
        y_true: target masks (N, H, W[, 1]).
        split: the foreground fraction below which an object counts as small; None takes the median of
            ``y_true``'s fractions (so the two groups are about the same size).

    Returns:
        Boolean array (N,).
    """
    fractions = foreground_fractions(y_true)
    cut = float(np.median(fractions)) if split is None else float(split)
    return fractions < cut


def segmentation_scores(y_true: Any, y_pred: Any, threshold: float = 0.5, split: float | None = None) -> dict[str, Any]:
    """Mean Dice and IoU over images, overall and for small and large objects, plus pooled IoU.

    Example:
        >>> s = segmentation_scores(y_test, model.predict(x_test))    # doctest: +SKIP
        >>> s["dice"], s["dice_small"], s["dice_large"]                 # doctest: +SKIP

    Args:
        y_true: target masks (N, H, W[, 1]) of 0 and 1.
        y_pred: predicted probabilities, same shape.
        threshold: the probability from which a pixel is predicted foreground.
        split: foreground fraction that separates small from large objects (default: the median).

    Returns:
        ``{"dice", "iou", "dice_small", "iou_small", "dice_large", "iou_large", "pooled_iou",
        "precision", "recall", "predicted_fraction"}`` as floats (pooled over pixels for precision and
        recall, NaN where nothing is predicted or nothing is to be found; NaN for a size group without
        images), and the arrays ``"dice_per_image"``,
        ``"iou_per_image"`` and ``"small"``.
    """
    dice, iou = dice_scores(y_true, y_pred, threshold), iou_scores(y_true, y_pred, threshold)
    small = small_objects(y_true, split)
    c = confusion_counts(y_true, y_pred, threshold)
    tp, fp, fn = (float(c[k].sum()) for k in ("tp", "fp", "fn"))

    def mean(values: np.ndarray, where: np.ndarray) -> float:
        return float(values[where].mean()) if where.any() else float("nan")

    everything = np.ones_like(small)
    return {
        "dice": mean(dice, everything), "iou": mean(iou, everything),
        "dice_small": mean(dice, small), "iou_small": mean(iou, small),
        "dice_large": mean(dice, ~small), "iou_large": mean(iou, ~small),
        "pooled_iou": pooled_iou(y_true, y_pred, threshold),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "predicted_fraction": float(np.mean((c["tp"] + c["fp"]) / (c["tp"] + c["fp"] + c["fn"] + c["tn"]))),
        "dice_per_image": dice, "iou_per_image": iou, "small": small,
    }
