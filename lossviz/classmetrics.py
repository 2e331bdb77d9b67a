"""Per-class metrics of a classifier in numpy: confusion matrix, recall, precision, F1, macro F1.

On imbalanced data the accuracy hides the rare classes (predicting the majority class everywhere is
already accurate); per-class recall and precision, and their macro average, show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _labels(values: Any, name: str) -> np.ndarray:
    """Integer labels from integer labels, one-hot rows or probability rows (argmax of the last axis)."""
    arr = np.asarray(values)
    if arr.ndim == 2:
        arr = arr.argmax(axis=-1)
    elif arr.ndim != 1:
        raise ValueError(
            f"Invalid value for `{name}`: expected integer labels (N,) or scores (N, C); received shape {arr.shape}"
        )
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ValueError(f"Invalid value for `{name}`: expected integer class labels; received {arr.dtype}")
    return arr.astype(np.int64)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """Count how often each true class was predicted as each class.

    Formula:
        ``M[i, j] = #{n : true_n = i and pred_n = j}`` (rows: true class, columns: predicted class).

    Example:
        >>> confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], 3).tolist()
        [[1, 1, 0], [0, 1, 0], [0, 0, 1]]

    Args:
        y_true: labels (N,) or one-hot rows (N, C).
        y_pred: predicted labels (N,) or scores / probabilities (N, C) (their argmax is the prediction).
        num_classes: C.

    Returns:
        An int64 array (C, C).
    """
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"Invalid inputs: expected as many predictions as labels; received {t.shape} and {p.shape}")
    for arr, name in ((t, "y_true"), (p, "y_pred")):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ValueError(
                f"Invalid value for `{name}`: expected labels in [0, {num_classes}); "
                f"received range [{arr.min()}, {arr.max()}]"
            )
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (t, p), 1)
    return matrix


def per_class_scores(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Recall, precision and F1 of every class from a confusion matrix.

    Formula:
        ``recall_c = M[c, c] / sum_j M[c, j]``, ``precision_c = M[c, c] / sum_i M[i, c]``,
        ``F1_c = 2 P R / (P + R)``; a ratio with a zero denominator is 0 (as scikit-learn's
        ``zero_division=0``).

    Example:
        >>> per_class_scores(np.array([[3, 1], [0, 1]]))["recall"].tolist()
        [0.75, 1.0]

    Args:
        matrix: (C, C) confusion matrix, rows true, columns predicted.

    Returns:
        ``{"recall": (C,), "precision": (C,), "f1": (C,), "support": (C,)}``.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"Invalid value for `matrix`: expected a square (C, C) array; received shape {m.shape}")
    diag, rows, cols = np.diag(m), m.sum(axis=1), m.sum(axis=0)
    recall = np.divide(diag, rows, out=np.zeros_like(diag), where=rows > 0)
    precision = np.divide(diag, cols, out=np.zeros_like(diag), where=cols > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(diag), where=denom > 0)
    return {"recall": recall, "precision": precision, "f1": f1, "support": rows.astype(np.int64)}


def classification_summary(
    y_true: Any, y_pred: Any, class_names: Sequence[str]
) -> dict[str, Any]:
    """Confusion matrix, per-class recall / precision / F1, macro F1 and accuracy in one dict.

    Formula:
        ``macro F1 = (1 / C) sum_c F1_c`` (every class counts the same, however rare);
        ``accuracy = trace(M) / sum(M)``.

    Example:
        >>> s = classification_summary([0, 0, 1], [0, 1, 1], ["a", "b"])
        >>> round(s["macro_f1"], 4), s["recall"]
        (0.6667, {'a': 0.5, 'b': 1.0})

    Args:
        y_true: labels (N,) or one-hot rows (N, C).
        y_pred: predicted labels (N,) or scores (N, C).
        class_names: the C class names, in label order.

    Returns:
        ``{"confusion": (C, C) array, "recall": {name: float}, "precision": {...}, "f1": {...},
        "macro_f1": float, "macro_recall": float, "accuracy": float}``.
    """
    names = list(class_names)
    matrix = confusion_matrix(y_true, y_pred, len(names))
    scores = per_class_scores(matrix)
    total = matrix.sum()
    return {
        "confusion": matrix,
        "recall": {n: float(v) for n, v in zip(names, scores["recall"], strict=True)},
        "precision": {n: float(v) for n, v in zip(names, scores["precision"], strict=True)},
        "f1": {n: float(v) for n, v in zip(names, scores["f1"], strict=True)},
        "macro_f1": float(scores["f1"].mean()),
        "macro_recall": float(scores["recall"].mean()),
        "accuracy": float(np.trace(matrix) / total) if total else 0.0,
    }
