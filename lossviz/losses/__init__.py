"""The loss catalogue: one registry of Keras losses for image tasks, with what each is for.

``get(name, **options)`` returns a ``keras.losses.Loss`` for ``model.compile``; ``catalogue()`` lists
every entry (family, LaTeX formula, when to use it, caveats, whether it is Keras's own, options).
The losses Keras lacks are written in ``keras.ops`` (TensorFlow, JAX and torch backends) as per-sample
functions, exported here, with thin ``keras.losses.Loss`` classes around them.

Example:
    >>> from lossviz import losses
    >>> model.compile(optimizer="adam", loss=losses.get("giou"))
    >>> losses.catalogue_frame()[["name", "family", "keras_own"]]
"""

from __future__ import annotations

from lossviz.losses import boxes, classification, regression, restoration, segmentation  # noqa: F401
from lossviz.losses._registry import (
    DATA_PROPERTIES,
    FAMILIES,
    LossInfo,
    catalogue,
    catalogue_frame,
    get,
    info,
    names,
    parts,
)
from lossviz.losses.boxes import (
    CIoULoss,
    DIoULoss,
    GIoULoss,
    IoULoss,
    box_iou,
    ciou_loss,
    diou_loss,
    giou_loss,
    iou_loss,
)
from lossviz.losses.classification import (
    WeightedCategoricalCrossentropy,
    class_weights_from_counts,
    weighted_categorical_crossentropy,
)
from lossviz.losses.restoration import (
    L1MSSSIM,
    MS_SSIM_WEIGHTS,
    MSSSIMLoss,
    SSIMLoss,
    l1_ms_ssim_loss,
    ms_ssim,
    ms_ssim_loss,
    ssim,
    ssim_loss,
)
from lossviz.losses.segmentation import (
    BCEDice,
    Dice,
    Jaccard,
    Tversky,
    bce_dice,
    dice,
    jaccard,
    tversky,
)

__all__ = [
    "DATA_PROPERTIES", "FAMILIES", "LossInfo", "catalogue", "catalogue_frame", "get", "info", "names", "parts",
    "box_iou", "iou_loss", "giou_loss", "diou_loss", "ciou_loss",
    "IoULoss", "GIoULoss", "DIoULoss", "CIoULoss",
    "weighted_categorical_crossentropy", "class_weights_from_counts", "WeightedCategoricalCrossentropy",
    "dice", "jaccard", "tversky", "bce_dice", "Dice", "Jaccard", "Tversky", "BCEDice",
    "ssim", "ms_ssim", "ssim_loss", "ms_ssim_loss", "l1_ms_ssim_loss", "MS_SSIM_WEIGHTS",
    "SSIMLoss", "MSSSIMLoss", "L1MSSSIM",
]
