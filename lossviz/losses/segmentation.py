"""Segmentation (mask overlap) losses, per sample: dice, tversky (Keras's functions), jaccard, bce_dice.

Keras's ``Dice`` / ``Tversky`` with ``axis=None`` reduce over the whole batch to one number; here every
loss reduces over all non-batch axes, so masks (N, H, W, C) give N values (one per image).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from lossviz.losses._base import CatalogueLoss, sample_axes, serializable
from lossviz.losses._registry import LossInfo, options_of, register


def _axes(x: Any, axis: Any) -> Any:
    return sample_axes(x) if axis is None else axis


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Any:
    """Soft Dice loss per sample: Keras's ``keras.losses.dice`` over the non-batch axes.

    Formula:
        L = 1 - 2 \\sum y p / (\\sum y + \\sum p + eps)

    Example:
        >>> dice([[1., 1., 0., 0.]], [[1., 0., 1., 0.]])    # 1 - 2 * 1 / 4
        array([0.5], dtype=float32)

    Args:
        y_true: target masks (N, ...) in [0, 1].
        y_pred: predicted probabilities (N, ...).
        axis: axes to reduce; None means every axis but the first.

    Returns:
        Loss values (N,) in [0, 1]; an empty target with an empty prediction gives 1.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    return keras.losses.dice(y_true, y_pred, axis=_axes(y_pred, axis))


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None) -> Any:
    """Tversky loss per sample (Salehi et al. 2017): alpha weights false positives, beta false negatives.

    Computed by Keras's ``keras.losses.tversky``, whose own ``alpha`` multiplies ``sum(y (1 - p))``
    (the false negatives), so the arguments are passed swapped to follow the paper.

    Formula:
        L = 1 - \\sum y p / (\\sum y p + \\alpha \\sum (1 - y) p + \\beta \\sum y (1 - p) + eps)

    Example:
        >>> tversky([[1., 1., 0., 0.]], [[1., 0., 1., 0.]], alpha=0.3, beta=0.7)   # 1 - 1 / (1 + .3 + .7)
        array([0.5], dtype=float32)

    Args:
        y_true: target masks (N, ...) in [0, 1].
        y_pred: predicted probabilities (N, ...).
        alpha: weight of false positives.
        beta: weight of false negatives (beta > alpha favours recall, for small structures).
        axis: axes to reduce; None means every axis but the first.

    Returns:
        Loss values (N,) in [0, 1]; alpha = beta = 0.5 gives the Dice loss.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    return keras.losses.tversky(y_true, y_pred, alpha=beta, beta=alpha, axis=_axes(y_pred, axis))


def jaccard(y_true: Any, y_pred: Any, form: str = "soft", smooth: float = 1e-5, axis: Any = None) -> Any:
    """Soft Jaccard (IoU) loss per sample, in the product form or the min/max form.

    The two forms agree for binary targets; they differ for soft targets (smoothed or fuzzy masks).

    Formula:
        soft:   L = 1 - (\\sum y p + s) / (\\sum y + \\sum p - \\sum y p + s)
        minmax: L = 1 - (\\sum \\min(y, p) + s) / (\\sum \\max(y, p) + s)

    Example:
        >>> jaccard([[1., 1., 0., 0.]], [[1., 0., 1., 0.]])   # 1 - 1 / 3
        array([0.6666667], dtype=float32)

    Args:
        y_true: target masks (N, ...) in [0, 1].
        y_pred: predicted probabilities (N, ...).
        form: ``"soft"`` or ``"minmax"``.
        smooth: s, added to numerator and denominator (an empty target and prediction give 0).
        axis: axes to reduce; None means every axis but the first.

    Returns:
        Loss values (N,) in [0, 1].
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    ax = _axes(y_pred, axis)
    if form == "soft":
        inter = ops.sum(y_true * y_pred, axis=ax)
        union = ops.sum(y_true, axis=ax) + ops.sum(y_pred, axis=ax) - inter
    elif form == "minmax":
        inter = ops.sum(ops.minimum(y_true, y_pred), axis=ax)
        union = ops.sum(ops.maximum(y_true, y_pred), axis=ax)
    else:
        raise ValueError(f"Invalid value for `form`: expected 'soft' or 'minmax'; received {form!r}")
    return 1.0 - (inter + smooth) / (union + smooth)


def bce_dice(y_true: Any, y_pred: Any, bce_weight: float = 0.5, dice_weight: float = 0.5,
             from_logits: bool = False) -> Any:
    """Weighted sum of binary cross-entropy (mean per sample) and Dice loss, per sample.

    Formula:
        L = w_{bce} \\cdot \\mathrm{mean}(BCE(y, p)) + w_{dice} (1 - 2 \\sum y p / (\\sum y + \\sum p))

    Example:
        >>> bce_dice(masks, logits, from_logits=True)       # (N,) values

    Args:
        y_true: target masks (N, ...) in [0, 1].
        y_pred: probabilities, or logits with ``from_logits=True``.
        bce_weight: weight of the cross-entropy term (Keras's ``binary_crossentropy``).
        dice_weight: weight of the Dice term (Keras's ``dice`` on the probabilities).
        from_logits: True when ``y_pred`` holds logits (sigmoid applied for the Dice term).

    Returns:
        Loss values (N,).
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    bce = keras.losses.binary_crossentropy(y_true, y_pred, from_logits=from_logits)
    if len(bce.shape) > 1:
        bce = ops.mean(bce, axis=tuple(range(1, len(bce.shape))))
    probs = ops.sigmoid(y_pred) if from_logits else y_pred
    return bce_weight * bce + dice_weight * dice(y_true, probs)


@serializable
class Dice(CatalogueLoss):
    """``keras.losses.Loss`` for the per-sample :func:`dice` (Keras's formula, one value per image)."""

    def __init__(self, axis: Any = None, reduction: str | None = "sum_over_batch_size",
                 name: str = "dice", dtype: Any = None) -> None:
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)


@serializable
class Tversky(CatalogueLoss):
    """``keras.losses.Loss`` for the per-sample :func:`tversky` (alpha: false positives, beta: negatives)."""

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, axis: Any = None,
                 reduction: str | None = "sum_over_batch_size", name: str = "tversky",
                 dtype: Any = None) -> None:
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha, beta=beta,
                         axis=axis)


@serializable
class Jaccard(CatalogueLoss):
    """``keras.losses.Loss`` for the per-sample :func:`jaccard`."""

    def __init__(self, form: str = "soft", smooth: float = 1e-5, axis: Any = None,
                 reduction: str | None = "sum_over_batch_size", name: str = "jaccard",
                 dtype: Any = None) -> None:
        if form not in ("soft", "minmax"):
            raise ValueError(f"Invalid value for `form`: expected 'soft' or 'minmax'; received {form!r}")
        super().__init__(jaccard, name=name, reduction=reduction, dtype=dtype, form=form, smooth=smooth,
                         axis=axis)


@serializable
class BCEDice(CatalogueLoss):
    """``keras.losses.Loss`` for the per-sample :func:`bce_dice`."""

    def __init__(self, bce_weight: float = 0.5, dice_weight: float = 0.5, from_logits: bool = False,
                 reduction: str | None = "sum_over_batch_size", name: str = "bce_dice",
                 dtype: Any = None) -> None:
        super().__init__(bce_dice, name=name, reduction=reduction, dtype=dtype, bce_weight=bce_weight,
                         dice_weight=dice_weight, from_logits=from_logits)


_MASKS = "Expects probabilities in [0, 1] (apply a sigmoid first) and masks (N, H, W, 1) with values 0/1."

register(LossInfo(
    name="dice", aliases=("dice_loss",), family="segmentation",
    formula=r"1 - \frac{2\sum y p}{\sum y + \sum p}",
    when="Binary segmentation with a small foreground (a nucleus in a large image): it scores overlap "
         "per image, so the background's many easy pixels do not dominate.",
    caveats="One value per image (Keras's own Dice with axis=None pools the whole batch). An empty "
            "target mask gives loss 1 whatever the prediction, with no gradient against false "
            "positives; the gradient is also noisy early in training, so it is often paired with BCE "
            f"(bce_dice). {_MASKS}",
    keras_own=True, options=options_of(Dice), good_for=("imbalance", "small_objects"),
    reference="Milletari et al., V-Net, 3DV 2016; keras.losses.dice"), Dice)
register(LossInfo(
    name="jaccard", aliases=("soft_iou", "jaccard_loss"), family="segmentation",
    formula=r"1 - \frac{\sum y p}{\sum y + \sum p - \sum y p}\ \text{or}\ "
            r"1 - \frac{\sum \min(y, p)}{\sum \max(y, p)}",
    when="Segmentation judged by IoU: optimises a soft version of the metric itself; like Dice it is "
         "robust to a small foreground.",
    caveats="Penalises errors more than Dice at the same overlap (J = D / (2 - D)). The min/max form "
            "equals the soft form for 0/1 targets and differs only for soft targets. smooth keeps an "
            f"empty target with an empty prediction at loss 0. {_MASKS}",
    keras_own=False, options=options_of(Jaccard), good_for=("imbalance", "small_objects"),
    reference="Rahman & Wang 2016; Berman et al. 2018"), Jaccard)
register(LossInfo(
    name="tversky", aliases=("tversky_loss",), family="segmentation",
    formula=r"1 - \frac{\sum y p}{\sum y p + \alpha \sum (1 - y) p + \beta \sum y (1 - p)}",
    when="Segmentation of small or thin structures where missing pixels is worse than extra ones: "
         "beta > alpha (e.g. alpha 0.3, beta 0.7) trades precision for recall.",
    caveats="Here alpha weights false positives and beta false negatives, as in Salehi et al.; Keras's "
            "own keras.losses.tversky applies its alpha to the false negatives, so the arguments are "
            f"passed swapped. alpha = beta = 0.5 is the Dice loss. {_MASKS}",
    keras_own=True, options=options_of(Tversky), good_for=("imbalance", "small_objects"),
    reference="Salehi et al., Tversky loss, MLMI 2017; keras.losses.tversky"), Tversky)
register(LossInfo(
    name="bce_dice", aliases=("dice_bce",), family="segmentation",
    formula=r"w_{bce}\,\overline{BCE}(y, p) + w_{dice}\left(1 - \frac{2\sum y p}{\sum y + \sum p}\right)",
    when="A robust default for binary segmentation: BCE gives smooth per-pixel gradients from the "
         "start, Dice keeps the small foreground from being ignored.",
    caveats="The two terms have different scales (BCE is unbounded, Dice in [0, 1]): tune the weights. "
            "Use from_logits=True with a linear output layer. Empty target masks still give a Dice "
            "term of 1.",
    keras_own=False, options=options_of(BCEDice), good_for=("imbalance", "small_objects", "logits"),
    reference="Isensee et al., nnU-Net, 2021 (BCE/CE + Dice)",
    # a plain weighted sum of two entries on probabilities (on logits the Dice term sees their sigmoid)
    parts=lambda o: None if o["from_logits"] else (
        (float(o["bce_weight"]), "binary_crossentropy"), (float(o["dice_weight"]), "dice"))), BCEDice)
