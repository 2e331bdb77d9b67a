"""Bounding-box losses on (..., 4) boxes (x1, y1, x2, y2): IoU, GIoU, DIoU, CIoU, in ``keras.ops``.

All functions return one value per box (the shape of the boxes without the last axis), stay finite with
finite gradients on zero-area boxes and on disjoint boxes (``eps`` guards every ratio), and clip a
negative width or height (x2 < x1) to zero.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from lossviz.losses._base import EPSILON, CatalogueLoss, serializable
from lossviz.losses._registry import LossInfo, register


def _check(boxes: Any, arg: str) -> Any:
    x = ops.convert_to_tensor(boxes)
    shape = tuple(x.shape)
    if len(shape) == 0 or (shape[-1] is not None and shape[-1] != 4):
        raise ValueError(
            f"Invalid value for `{arg}`: expected (..., 4) as (x1, y1, x2, y2) with x2 >= x1; "
            f"received shape {shape}"
        )
    return x


def _pair(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    t = _check(y_true, "y_true")
    p = _check(y_pred, "y_pred")
    dtype = p.dtype if "float" in str(p.dtype) else keras.config.floatx()
    return ops.cast(t, dtype), ops.cast(p, dtype)


def _geometry(y_true: Any, y_pred: Any, eps: float) -> dict[str, Any]:
    """IoU and the enclosing-box terms shared by the losses."""
    t, p = _pair(y_true, y_pred)
    tx1, ty1, tx2, ty2 = (t[..., i] for i in range(4))
    px1, py1, px2, py2 = (p[..., i] for i in range(4))
    tw, th = ops.maximum(tx2 - tx1, 0.0), ops.maximum(ty2 - ty1, 0.0)
    pw, ph = ops.maximum(px2 - px1, 0.0), ops.maximum(py2 - py1, 0.0)
    iw = ops.maximum(ops.minimum(tx2, px2) - ops.maximum(tx1, px1), 0.0)
    ih = ops.maximum(ops.minimum(ty2, py2) - ops.maximum(ty1, py1), 0.0)
    inter = iw * ih
    union = tw * th + pw * ph - inter
    cw = ops.maximum(ops.maximum(tx2, px2) - ops.minimum(tx1, px1), 0.0)
    ch = ops.maximum(ops.maximum(ty2, py2) - ops.minimum(ty1, py1), 0.0)
    return {
        "iou": inter / (union + eps),
        "union": union,
        "enclose_area": cw * ch,
        "enclose_diag2": cw * cw + ch * ch,
        "center_dist2": ((px1 + px2 - tx1 - tx2) ** 2 + (py1 + py2 - ty1 - ty2) ** 2) / 4.0,
        "tw": tw, "th": th, "pw": pw, "ph": ph,
    }


def box_iou(a: Any, b: Any, eps: float = EPSILON) -> Any:
    """Intersection over union of two sets of boxes, box by box (broadcasting over leading axes).

    Formula:
        IoU = |A \\cap B| / (|A| + |B| - |A \\cap B| + eps)

    Example:
        >>> box_iou([[0., 0., 2., 2.]], [[1., 1., 3., 3.]])     # 1 / 7
        array([0.14285714], dtype=float32)

    Args:
        a: boxes (..., 4) as (x1, y1, x2, y2).
        b: boxes broadcastable to ``a``.
        eps: guard added to the union (two zero-area boxes give IoU 0).

    Returns:
        IoU values of shape (...), in [0, 1].
    """
    return _geometry(a, b, eps)["iou"]


def iou_loss(y_true: Any, y_pred: Any, eps: float = EPSILON) -> Any:
    """IoU loss ``1 - IoU`` per box.

    Formula:
        L = 1 - IoU(B, B^{gt})

    Example:
        >>> iou_loss([[-1., -1., 1., 1.]], [[0., 0., 1., 1.]])   # 1 - 1/4
        array([0.75], dtype=float32)

    Args:
        y_true: target boxes (..., 4) as (x1, y1, x2, y2).
        y_pred: predicted boxes (..., 4).
        eps: denominator guard.

    Returns:
        Loss values of shape (...), in [0, 1]; 1 (with zero gradient) for every pair of disjoint boxes.
    """
    return 1.0 - _geometry(y_true, y_pred, eps)["iou"]


def giou_loss(y_true: Any, y_pred: Any, eps: float = EPSILON) -> Any:
    """Generalized IoU loss (Rezatofighi et al., CVPR 2019) per box.

    Formula:
        L = 1 - IoU + (|C| - |B \\cup B^{gt}|) / |C|, C the smallest box enclosing both

    Example:
        >>> giou_loss([[0., 0., 1., 1.]], [[1., 1., 2., 2.]])    # disjoint: 1 - 0 + (4 - 2) / 4
        array([1.5], dtype=float32)

    Args:
        y_true: target boxes (..., 4) as (x1, y1, x2, y2).
        y_pred: predicted boxes (..., 4).
        eps: denominator guard.

    Returns:
        Loss values of shape (...), in [0, 2).
    """
    g = _geometry(y_true, y_pred, eps)
    return 1.0 - g["iou"] + (g["enclose_area"] - g["union"]) / (g["enclose_area"] + eps)


def diou_loss(y_true: Any, y_pred: Any, eps: float = EPSILON) -> Any:
    """Distance-IoU loss (Zheng et al., AAAI 2020) per box.

    Formula:
        L = 1 - IoU + \\rho^2(b, b^{gt}) / c^2, rho the distance of the centres, c the enclosing diagonal

    Example:
        >>> diou_loss([[-1., -1., 1., 1.]], [[0., 0., 1., 1.]])  # 1 - 1/4 + 0.5 / 8
        array([0.8125], dtype=float32)

    Args:
        y_true: target boxes (..., 4) as (x1, y1, x2, y2).
        y_pred: predicted boxes (..., 4).
        eps: denominator guard.

    Returns:
        Loss values of shape (...), in [0, 2).
    """
    g = _geometry(y_true, y_pred, eps)
    return 1.0 - g["iou"] + g["center_dist2"] / (g["enclose_diag2"] + eps)


def ciou_loss(y_true: Any, y_pred: Any, eps: float = EPSILON) -> Any:
    """Complete-IoU loss (Zheng et al., AAAI 2020) per box: DIoU plus an aspect-ratio term.

    As in the paper (and the authors' code), the trade-off weight ``alpha`` is treated as a constant
    when differentiating (``stop_gradient``); the paper's replacement of ``1 / (w^2 + h^2)`` by 1 in the
    gradient of ``v`` is not applied (the ``eps`` guards keep it finite).

    Formula:
        L = 1 - IoU + \\rho^2 / c^2 + \\alpha v,
        v = (4 / \\pi^2) (\\arctan(w^{gt}/h^{gt}) - \\arctan(w/h))^2, \\alpha = v / ((1 - IoU) + v)

    Example:
        >>> ciou_loss([[-1., -1., 1., 1.]], [[1., 1., 2., 2.]])  # squares: v = 0, so equals DIoU
        array([1.25], dtype=float32)

    Args:
        y_true: target boxes (..., 4) as (x1, y1, x2, y2).
        y_pred: predicted boxes (..., 4).
        eps: denominator guard.

    Returns:
        Loss values of shape (...), in [0, 3).
    """
    g = _geometry(y_true, y_pred, eps)
    diou = 1.0 - g["iou"] + g["center_dist2"] / (g["enclose_diag2"] + eps)
    v = (4.0 / math.pi**2) * (ops.arctan(g["tw"] / (g["th"] + eps)) - ops.arctan(g["pw"] / (g["ph"] + eps))) ** 2
    alpha = ops.stop_gradient(v / ((1.0 - g["iou"]) + v + eps))
    return diou + alpha * v


class _BoxLoss(CatalogueLoss):
    def __init__(self, fn: Any, eps: float, reduction: str | None, name: str, dtype: Any) -> None:
        super().__init__(fn, name=name, reduction=reduction, dtype=dtype, align=False, eps=eps)


@serializable
class IoULoss(_BoxLoss):
    """``keras.losses.Loss`` for :func:`iou_loss` (boxes (N, 4) or (N, K, 4) as x1, y1, x2, y2)."""

    def __init__(self, eps: float = EPSILON, reduction: str | None = "sum_over_batch_size",
                 name: str = "iou", dtype: Any = None) -> None:
        super().__init__(iou_loss, eps, reduction, name, dtype)


@serializable
class GIoULoss(_BoxLoss):
    """``keras.losses.Loss`` for :func:`giou_loss`."""

    def __init__(self, eps: float = EPSILON, reduction: str | None = "sum_over_batch_size",
                 name: str = "giou", dtype: Any = None) -> None:
        super().__init__(giou_loss, eps, reduction, name, dtype)


@serializable
class DIoULoss(_BoxLoss):
    """``keras.losses.Loss`` for :func:`diou_loss`."""

    def __init__(self, eps: float = EPSILON, reduction: str | None = "sum_over_batch_size",
                 name: str = "diou", dtype: Any = None) -> None:
        super().__init__(diou_loss, eps, reduction, name, dtype)


@serializable
class CIoULoss(_BoxLoss):
    """``keras.losses.Loss`` for :func:`ciou_loss`."""

    def __init__(self, eps: float = EPSILON, reduction: str | None = "sum_over_batch_size",
                 name: str = "ciou", dtype: Any = None) -> None:
        super().__init__(ciou_loss, eps, reduction, name, dtype)


_BOXES = "Boxes are (x1, y1, x2, y2) in the same units for target and prediction (pixels or [0, 1])."
_ZERO = "Zero-area and disjoint boxes give finite values and gradients thanks to a small eps guard."

register(LossInfo(
    name="iou", aliases=("iou_loss",), family="detection",
    formula=r"1 - \frac{|B \cap B^{gt}|}{|B \cup B^{gt}|}",
    when="Box regression when boxes already overlap their targets: the loss is scale-invariant, so a "
         "platelet and a white blood cell count the same, unlike an L1/L2 loss on coordinates.",
    caveats="Disjoint boxes all get loss 1 with zero gradient, so a prediction that misses its target "
            f"learns nothing; prefer GIoU/DIoU/CIoU early in training. {_BOXES} {_ZERO}",
    keras_own=False, options={"eps": EPSILON}, good_for=("small_objects",),
    reference="Yu et al., UnitBox, ACM MM 2016"), IoULoss)
register(LossInfo(
    name="giou", aliases=("giou_loss",), family="detection",
    formula=r"1 - IoU + \frac{|C| - |B \cup B^{gt}|}{|C|}",
    when="Box regression from scratch, when predictions may not overlap their targets yet: the "
         "enclosing-box term still gives a gradient that pulls disjoint boxes together.",
    caveats="When one box contains the other the enclosing-box term vanishes and GIoU reduces to IoU, "
            "so convergence there is slow; DIoU/CIoU converge faster. Values lie in [0, 2). "
            f"{_BOXES} {_ZERO}",
    keras_own=False, options={"eps": EPSILON}, good_for=("small_objects",),
    reference="Rezatofighi et al., Generalized Intersection over Union, CVPR 2019"), GIoULoss)
register(LossInfo(
    name="diou", aliases=("diou_loss",), family="detection",
    formula=r"1 - IoU + \frac{\rho^2(b, b^{gt})}{c^2}",
    when="Box regression where fast convergence matters: the centre-distance term moves the box "
         "centre directly, also when one box contains the other.",
    caveats="Ignores the aspect ratio: boxes with the right centre and area but wrong shape are only "
            f"penalised through IoU. {_BOXES} {_ZERO}",
    keras_own=False, options={"eps": EPSILON}, good_for=("small_objects",),
    reference="Zheng et al., Distance-IoU Loss, AAAI 2020"), DIoULoss)
register(LossInfo(
    name="ciou", aliases=("ciou_loss",), family="detection",
    formula=r"1 - IoU + \frac{\rho^2(b, b^{gt})}{c^2} + \alpha v,\quad "
            r"v = \frac{4}{\pi^2}\left(\arctan\frac{w^{gt}}{h^{gt}} - \arctan\frac{w}{h}\right)^2",
    when="Box regression where overlap, centre and shape all matter, e.g. elongated or odd-shaped "
         "cells; the usual default of modern detectors.",
    caveats="alpha = v / ((1 - IoU) + v) is held constant in the gradient (as in the authors' code); "
            "the paper's gradient rescaling of v is not applied. The aspect term is undefined for "
            f"zero-height boxes and is computed as w / (h + eps). {_BOXES} {_ZERO}",
    keras_own=False, options={"eps": EPSILON}, good_for=("small_objects",),
    reference="Zheng et al., Distance-IoU Loss, AAAI 2020"), CIoULoss)
