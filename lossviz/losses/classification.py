"""Classification losses: Keras's cross-entropies and focal losses, plus a class-weighted cross-entropy.

``weighted_categorical_crossentropy`` is written in ``keras.ops``; with all weights 1 it is exactly
Keras's categorical cross-entropy (same normalisation and clipping of probabilities).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from lossviz.losses._base import CatalogueLoss, serializable
from lossviz.losses._registry import LossInfo, options_of, register


def weighted_categorical_crossentropy(
    y_true: Any, y_pred: Any, class_weights: Sequence[float] | Any = None, from_logits: bool = False
) -> Any:
    """Categorical cross-entropy with a weight per class, per sample (one-hot or soft ``y_true``).

    Probabilities are normalised to sum 1 and clipped to ``[eps, 1 - eps]`` as Keras does; logits go
    through a stable log-softmax.

    Formula:
        L = -\\sum_c w_c \\, y_c \\log p_c   (one-hot y: w_{true class} times the cross-entropy)

    Example:
        >>> weighted_categorical_crossentropy([[0., 1.]], [[0.5, 0.5]], class_weights=[1.0, 3.0])
        array([2.0794415], dtype=float32)       # 3 * log 2

    Args:
        y_true: one-hot (or soft) targets (..., C).
        y_pred: probabilities or logits (..., C).
        class_weights: C weights, e.g. from :func:`class_weights_from_counts`; None means all 1.
        from_logits: True when ``y_pred`` holds logits.

    Returns:
        Loss values of shape (...) (the class axis removed).
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    if from_logits:
        log_p = ops.log_softmax(y_pred, axis=-1)
    else:
        p = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        eps = keras.config.epsilon()
        log_p = ops.log(ops.clip(p, eps, 1.0 - eps))
    terms = -y_true * log_p
    if class_weights is not None:
        w = ops.convert_to_tensor(class_weights, dtype=y_pred.dtype)
        if len(w.shape) != 1 or (y_pred.shape[-1] is not None and w.shape[0] != y_pred.shape[-1]):
            raise ValueError(
                f"Invalid value for `class_weights`: expected one weight per class ({y_pred.shape[-1]}); "
                f"received shape {tuple(w.shape)}"
            )
        terms = terms * w
    return ops.sum(terms, axis=-1)


def class_weights_from_counts(
    counts: Sequence[float] | np.ndarray, scheme: str = "inverse", beta: float = 0.999
) -> np.ndarray:
    """Per-class loss weights from the number of training samples of each class.

    ``"inverse"``: inverse frequency, scaled so the weights average 1 over the samples (the "balanced"
    weights of scikit-learn): every class then contributes the same total weight.
    ``"effective"``: Cui et al. (CVPR 2019), the inverse "effective number" of samples
    ``(1 - beta^n) / (1 - beta)``, scaled so the weights sum to the number of classes (as in the paper).
    With ``beta -> 1`` it approaches inverse frequency; with ``beta = 0`` all weights are 1.

    Formula:
        inverse: w_c = N / (K n_c);   effective: w_c \\propto (1 - \\beta) / (1 - \\beta^{n_c}), \\sum_c w_c = K

    Example:
        >>> class_weights_from_counts([100, 10, 10])        # BCCD-like 10:1:1
        array([0.4, 4. , 4. ], dtype=float32)

    Args:
        counts: number of samples per class (K positive numbers).
        scheme: ``"inverse"`` or ``"effective"``.
        beta: the effective-number hyper-parameter in [0, 1) (``"effective"`` only).

    Returns:
        float32 array of K weights.
    """
    n = np.asarray(counts, dtype=np.float64)
    if n.ndim != 1 or n.size == 0 or not np.all(np.isfinite(n)) or np.any(n <= 0):
        raise ValueError(
            f"Invalid value for `counts`: expected a 1-D sequence of positive class counts; received {counts!r}"
        )
    if scheme == "inverse":
        w = n.sum() / (n.size * n)
    elif scheme == "effective":
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid value for `beta`: expected 0 <= beta < 1; received {beta!r}")
        w = (1.0 - beta) / (1.0 - np.power(beta, n))
        w = w * n.size / w.sum()
    else:
        raise ValueError(f"Invalid value for `scheme`: expected 'inverse' or 'effective'; received {scheme!r}")
    return w.astype(np.float32)


@serializable
class WeightedCategoricalCrossentropy(CatalogueLoss):
    """``keras.losses.Loss`` for :func:`weighted_categorical_crossentropy`.

    Example:
        >>> loss = WeightedCategoricalCrossentropy(class_weights=[0.4, 4.0, 4.0], from_logits=True)
    """

    def __init__(self, class_weights: Sequence[float] | None = None, from_logits: bool = False,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "weighted_categorical_crossentropy", dtype: Any = None) -> None:
        weights = None if class_weights is None else [float(w) for w in np.asarray(class_weights).ravel()]
        super().__init__(weighted_categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         align=False, class_weights=weights, from_logits=from_logits)


def _binary_focal(**options: Any) -> keras.losses.Loss:
    """Keras's BinaryFocalCrossentropy; passing ``alpha`` turns on ``apply_class_balancing``."""
    if "alpha" in options and "apply_class_balancing" not in options:
        options["apply_class_balancing"] = True
    return keras.losses.BinaryFocalCrossentropy(**options)


_LOGITS = ("Give from_logits=True when the model has no final sigmoid/softmax: it is numerically "
           "stable; probabilities are clipped to [1e-7, 1 - 1e-7], so saturated outputs get no gradient.")
_LAST = "Averages over the last axis only: masks (N, H, W, 1) give (N, H, W) values with reduction=None."

register(LossInfo(
    name="binary_crossentropy", aliases=("bce", "log_loss"), family="classification",
    formula=r"-\frac{1}{d}\sum_i y_i \log p_i + (1 - y_i)\log(1 - p_i)",
    when="Two classes, or several independent yes/no labels (multi-label), and per-pixel foreground "
         "masks in segmentation; the default for a sigmoid output.",
    caveats=f"Every pixel or label counts the same, so a rare positive class is swamped: weight it, or "
            f"use focal, dice or bce_dice. {_LOGITS} {_LAST}",
    keras_own=True, options=options_of(keras.losses.BinaryCrossentropy), good_for=("logits",),
    reference="keras.losses.BinaryCrossentropy"), keras.losses.BinaryCrossentropy)
register(LossInfo(
    name="categorical_crossentropy", aliases=("cce",), family="classification",
    formula=r"-\sum_c y_c \log p_c",
    when="One label out of K classes with one-hot (or smoothed) targets and a softmax output, e.g. "
         "RBC / WBC / platelet crops.",
    caveats="Needs one-hot targets: integer labels need sparse_categorical_crossentropy. With strong "
            f"class imbalance the majority class dominates: use class weights or focal loss. {_LOGITS}",
    keras_own=True, options=options_of(keras.losses.CategoricalCrossentropy), good_for=("logits",),
    reference="keras.losses.CategoricalCrossentropy"), keras.losses.CategoricalCrossentropy)
register(LossInfo(
    name="sparse_categorical_crossentropy", aliases=("scce",), family="classification",
    formula=r"-\log p_{y}",
    when="The same as categorical cross-entropy when labels are integers 0..K-1 (no one-hot needed).",
    caveats="Labels must be integers in [0, K): an out-of-range label gives NaN or an error depending on "
            f"the backend. {_LOGITS}",
    keras_own=True, options=options_of(keras.losses.SparseCategoricalCrossentropy), good_for=("logits",),
    reference="keras.losses.SparseCategoricalCrossentropy"), keras.losses.SparseCategoricalCrossentropy)
register(LossInfo(
    name="weighted_categorical_crossentropy", aliases=("wcce",), family="classification",
    formula=r"-\sum_c w_c\, y_c \log p_c",
    when="Imbalanced classes (BCCD has about 11 red cells per white cell or platelet): up-weight rare "
         "classes, with weights from class_weights_from_counts (inverse frequency or effective number).",
    caveats="Large weights make training noisier and can over-predict rare classes, so check per-class "
            "recall, not only accuracy. Keras's fit(class_weight=...) does the same per sample. Needs "
            "one-hot targets; class_weights=None means all weights 1 (plain cross-entropy).",
    keras_own=False, options=options_of(WeightedCategoricalCrossentropy),
    good_for=("imbalance", "logits"), reference="King & Zeng 2001; Cui et al., CVPR 2019 (weights)"),
    WeightedCategoricalCrossentropy)
register(LossInfo(
    name="binary_focal", aliases=("binary_focal_crossentropy", "focal"), family="classification",
    formula=r"-\alpha_t (1 - p_t)^\gamma \log p_t",
    when="Binary or per-pixel tasks with many easy negatives (small foreground, rare positives): "
         "(1 - p_t)^gamma down-weights examples the model already gets right.",
    caveats="In Keras alpha is only used when apply_class_balancing=True; get() turns that on when you "
            "pass alpha. gamma = 0 gives plain BCE; gamma around 2 is typical, larger values can stall "
            f"training. {_LOGITS}",
    keras_own=True, options=options_of(keras.losses.BinaryFocalCrossentropy),
    good_for=("imbalance", "small_objects", "logits"),
    reference="Lin et al., Focal Loss for Dense Object Detection, ICCV 2017"), _binary_focal)
register(LossInfo(
    name="categorical_focal", aliases=("categorical_focal_crossentropy",), family="classification",
    formula=r"-\sum_c \alpha\, y_c (1 - p_c)^\gamma \log p_c",
    when="Multi-class problems with imbalance or many easy examples: focuses training on the hard, "
         "misclassified samples.",
    caveats="alpha is a single scalar here, not per class: combine with class weights for per-class "
            f"balancing. Needs one-hot targets. {_LOGITS}",
    keras_own=True, options=options_of(keras.losses.CategoricalFocalCrossentropy),
    good_for=("imbalance", "logits"),
    reference="Lin et al., ICCV 2017; keras.losses.CategoricalFocalCrossentropy"),
    keras.losses.CategoricalFocalCrossentropy)
