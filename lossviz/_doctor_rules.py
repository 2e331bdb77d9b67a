"""The loss doctor's individual checks (pure numpy): used by :func:`lossviz.doctor.check`.

Each check takes a :class:`LossInfo` and the two arrays as float64 numpy arrays and returns a list of
:class:`Finding`. Kept apart from ``doctor.py`` so that each module stays short; the names, kinds and
data classes the checks share are in ``_doctor_info.py`` and re-exported here.
"""

from __future__ import annotations

import numpy as np

from lossviz._doctor_info import (
    ALIASES,
    CE_KINDS,
    LOSSVIZ_NAMES,
    REGRESSION,
    Finding,
    LossInfo,
    canonical_name,
    entry_field,
    is_weighted,
    kind_of,
)

__all__ = [
    "ALIASES", "CE_KINDS", "LOSSVIZ_NAMES", "REGRESSION", "Finding", "LossInfo", "canonical_name", "check_finite",
    "check_imbalance", "check_logits", "check_shapes", "check_targets", "entry_field", "is_weighted", "kind_of",
    "run_checks",
]


def _few(values: np.ndarray, limit: int = 6) -> str:
    values = np.unique(values)
    shown = ", ".join(f"{v:g}" for v in values[:limit])
    return shown + (", ..." if values.size > limit else "")


def _span(a: np.ndarray) -> str:
    return f"[{a.min():.4g}, {a.max():.4g}]"


def check_finite(y_true: np.ndarray, y_pred: np.ndarray) -> list[Finding]:
    out = []
    for label, a in (("y_true", y_true), ("y_pred", y_pred)):
        bad = ~np.isfinite(a)
        if bad.any():
            out.append(Finding(
                "non-finite-input", "error",
                f"{label} has {int(np.isnan(a).sum())} NaN and {int(np.isinf(a).sum())} inf value(s) out of "
                f"{a.size}; expected finite numbers (one NaN makes the loss and every gradient NaN).",
                f"Find where they come from (e.g. a division by zero in preprocessing); drop or repair them: "
                f"{label} = np.nan_to_num({label}), or keep = np.isfinite({label}).all(axis=-1)",
            ))
    return out


def _squeezable(a: tuple, b: tuple) -> bool:
    return (len(a) == len(b) + 1 and a[-1] == 1 and a[:-1] == b) or (len(b) == len(a) + 1 and b[-1] == 1
                                                                       and b[:-1] == a)


def check_shapes(info: LossInfo, yt: np.ndarray, yp: np.ndarray) -> list[Finding]:
    """Shape, rank, one-hot vs integer label checks; returns findings (shape errors stop value checks)."""
    k = yp.shape[-1] if yp.ndim else 1
    integer = bool(np.all(yt == np.round(yt)))
    label_shapes = (yp.shape[:-1], (*yp.shape[:-1], 1))
    opts = {"from_logits": info.from_logits} if info.from_logits is not None else {}
    if info.kind == "sparse":
        if yt.shape == yp.shape and k > 1 and _is_one_hot(yt):
            return [Finding(
                "one-hot-labels-to-sparse-loss", "error",
                f"y_true has shape {yt.shape} with one-hot rows, but {info.name} expects integer class "
                f"indices of shape {yp.shape[:-1]} (one per sample).",
                f"{info.get_code('categorical_crossentropy', **opts)}   # or y_true = np.argmax(y_true, axis=-1)",
            )]
        if yt.shape not in label_shapes:
            return [_shape_mismatch(yt, yp, f"{yp.shape[:-1]} (integer class indices)")]
        return []
    if info.kind == "categorical":
        if yt.shape in label_shapes and yt.shape != yp.shape and k > 1 and integer:
            return [Finding(
                "integer-labels-to-categorical-loss", "error",
                f"y_true has shape {yt.shape} with integer labels ({_few(yt)}), but {info.name} expects "
                f"one-hot rows of shape {yp.shape}.",
                f"{info.get_code('sparse_categorical_crossentropy', **opts)}   # or y_true = "
                f"keras.utils.to_categorical(y_true, num_classes={k})",
            )]
        if yt.shape != yp.shape:
            return [_shape_mismatch(yt, yp, f"{yp.shape} (one-hot)")]
        return []
    if info.kind == "detection" and (yp.shape[-1:] != (4,) or yt.shape[-1:] != (4,)):
        return [Finding(
            "box-shape", "error",
            f"y_true has shape {yt.shape} and y_pred {yp.shape}; a box loss expects (..., 4) boxes "
            "(x1, y1, x2, y2) in both.",
            "Give one box per row: y_true.reshape(-1, 4); drop extra columns (class id, score) first.",
        )]
    if yt.shape == yp.shape:
        return []
    if _squeezable(yt.shape, yp.shape):
        severity = "warning" if info.squeezes_rank else "error"
        note = ("Keras's built-in loss squeezes the extra axis, but a loss written with keras.ops "
                f"broadcasts them to shape {np.broadcast_shapes(yt.shape, yp.shape)} and averages the "
                "wrong pairs.")
        return [Finding(
            "rank-mismatch", severity,
            f"y_true has shape {yt.shape} and y_pred {yp.shape}: the ranks differ. {note}",
            "y_true = np.reshape(y_true, y_pred.shape)   # make both the same shape",
        )]
    return [_shape_mismatch(yt, yp, f"{yp.shape} (the same as y_pred)")]


def _shape_mismatch(yt: np.ndarray, yp: np.ndarray, expected: str) -> Finding:
    return Finding(
        "shape-mismatch", "error",
        f"y_true has shape {yt.shape} and y_pred {yp.shape}; expected y_true of shape {expected}.",
        "Check the model's output layer (units = number of classes / values) and how labels are encoded; "
        "print(y_true.shape, y_pred.shape).",
    )


def _is_one_hot(a: np.ndarray) -> bool:
    return bool(np.isin(a, (0.0, 1.0)).all() and np.all(a.sum(axis=-1) == 1))


def check_logits(info: LossInfo, yt: np.ndarray, yp: np.ndarray) -> list[Finding]:
    """Probabilities given to a from_logits=True loss, logits to a probability loss."""
    if info.kind not in (*CE_KINDS, "segmentation") or yp.size == 0:
        return []
    from_logits = bool(info.from_logits)
    in01 = yp.min() >= 0.0 and yp.max() <= 1.0
    multiclass = info.kind in ("categorical", "sparse") and yp.ndim >= 1 and yp.shape[-1] > 1
    sums_to_one = multiclass and bool(np.allclose(yp.sum(axis=-1), 1.0, atol=1e-3))
    has_option = "from_logits" in info.config
    if from_logits and in01 and yp.size >= 2:
        what = "each row sums to 1" if sums_to_one else "every value is in [0, 1]"
        return [Finding(
            "probabilities-to-logits-loss", "error",
            f"y_pred looks like probabilities ({what}; range {_span(yp)}), but {info.name} has "
            "from_logits=True and will apply softmax/sigmoid a second time; expected raw scores (logits).",
            f"{info.get_code(from_logits=False)}   # or drop the final softmax/sigmoid activation",
        )]
    if not from_logits and not in01:
        act = "softmax" if multiclass else "sigmoid"
        fix = (f"{info.get_code(from_logits=True)}   # or add activation='{act}' to the last layer"
               if has_option else f"y_pred = keras.ops.{act}(y_pred)   # or add activation='{act}' to the last layer")
        return [Finding(
            "logits-to-probability-loss", "error",
            f"y_pred has values in {_span(yp)}, outside [0, 1]: these look like logits, but {info.name} "
            "expects probabilities (from_logits=False).",
            fix,
        )]
    if not from_logits and multiclass and not sums_to_one:
        return [Finding(
            "probabilities-do-not-sum-to-one", "warning",
            "y_pred is in [0, 1] but its rows do not sum to 1 (sigmoid outputs?); a categorical "
            "cross-entropy expects a softmax distribution over the classes (Keras rescales rows silently).",
            "Use activation='softmax' on the last layer (one label per sample), or binary_crossentropy "
            "for multi-label targets.",
        )]
    return []


def check_targets(info: LossInfo, yt: np.ndarray, yp: np.ndarray) -> list[Finding]:
    """Label ranges, one-hot rows, 0/255 masks, box formats, scales."""
    out: list[Finding] = []
    opts = {"from_logits": info.from_logits} if info.from_logits is not None else {}
    k = yp.shape[-1] if yp.ndim else 1
    if info.kind == "sparse" or (info.kind == "categorical" and yt.shape != yp.shape):
        ignore = info.config.get("ignore_class")
        labels = yt[yt != ignore] if ignore is not None else yt
        if not np.all(labels == np.round(labels)):
            out.append(Finding(
                "non-integer-labels", "error",
                f"y_true has non-integer values ({_few(labels)}); a sparse cross-entropy expects class indices.",
                "y_true = y_true.astype('int32')   # soft labels? use categorical_crossentropy",
            ))
        bad = labels[(labels < 0) | (labels >= k)]
        if bad.size:
            out.append(Finding(
                "label-out-of-range", "error",
                f"y_true has class indices {_few(bad)}, but y_pred has {k} outputs, so valid labels are 0..{k - 1}.",
                f"Give the last layer {int(labels.max()) + 1} units (Dense({int(labels.max()) + 1})), or remap "
                "labels to 0..K-1 (1-based labels: y_true = y_true - 1).",
            ))
    elif info.kind in ("binary", "segmentation") and (yt.min() < 0 or yt.max() > 1):
        eight_bit = yt.min() >= 0 and yt.max() <= 255
        if eight_bit and (set(np.unique(yt)) <= {0.0, 255.0} or yt.ndim >= 3 or info.kind == "segmentation"):
            out.append(Finding(
                "mask-in-0-255", "error",
                f"y_true has values {_few(yt)}: a mask stored as an 8-bit image (0/255), but {info.name} "
                "expects 0/1 targets; 255 makes the loss huge and meaningless.",
                "y_true = (y_true > 127).astype('float32')   # or y_true / 255.0",
            ))
        else:
            out.append(Finding(
                "label-out-of-range", "error",
                f"y_true has values {_few(yt)}, but {info.name} expects targets in [0, 1].",
                f"Several classes? {info.get_code('sparse_categorical_crossentropy', **opts)} with one output "
                "per class",
            ))
    if info.kind == "categorical" and yt.shape == yp.shape and (yt.min() < 0 or yt.max() > 1):
        out.append(Finding(
            "label-out-of-range", "error",
            f"y_true has values {_few(yt)}; one-hot labels must be 0/1 (or probabilities summing to 1).",
            "y_true = keras.utils.to_categorical(labels, num_classes)",
        ))
    if info.kind == "detection":
        out += _check_boxes(yt, yp)
    if info.kind in ("regression", "restoration", "detection"):
        out += _check_scale(info, yt, yp)
    return out


def _check_boxes(yt: np.ndarray, yp: np.ndarray) -> list[Finding]:
    out = []
    for label, a in (("y_true", yt), ("y_pred", yp)):
        boxes = a.reshape(-1, 4)
        inv_x, inv_y = boxes[:, 2] < boxes[:, 0], boxes[:, 3] < boxes[:, 1]
        inverted = inv_x | inv_y
        if not inverted.any():
            continue
        first = boxes[np.argmax(inverted)]
        count = (f"{int(inverted.sum())} of {len(boxes)} boxes in {label} have x2 < x1 or y2 < y1 "
                 f"(e.g. {np.round(first, 4).tolist()})")
        if label == "y_pred":
            out.append(Finding(
                "predicted-boxes-inverted", "warning",
                f"{count}; IoU-type losses treat such boxes as empty, so their gradient is misleading.",
                "Make the head output valid boxes, e.g. x2 = x1 + keras.ops.softplus(w), "
                "y2 = y1 + keras.ops.softplus(h).",
            ))
            continue
        swapped = bool(np.all(inv_x & inv_y))
        hint = ("every box is inverted on both axes: corners given as (x2, y2, x1, y1), or (x, y, w, h) boxes "
                "far from the origin" if swapped else
                "some boxes are fine and some are not, the pattern of (x, y, w, h) boxes (inverted whenever w < x)")
        out.append(Finding(
            "boxes-not-xyxy", "error",
            f"{count}; expected (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1. Likely cause: {hint}.",
            "(x, y, w, h): y_true = keras.utils.bounding_boxes.convert_format(y_true, source='xywh', "
            "target='xyxy'); swapped corners: y_true = np.concatenate([np.minimum(b[..., :2], b[..., 2:]), "
            "np.maximum(b[..., :2], b[..., 2:])], axis=-1)",
        ))
    return out


def _check_scale(info: LossInfo, yt: np.ndarray, yp: np.ndarray) -> list[Finding]:
    out = []
    max_val = info.config.get("max_val")
    top = max(np.abs(yt).max(initial=0.0), np.abs(yp).max(initial=0.0))
    if max_val is not None and top > float(max_val) * (1 + 1e-6):
        out.append(Finding(
            "image-range-exceeds-max-val", "error",
            f"The images reach {top:.4g}, but {info.name} has max_val={max_val}: SSIM's constants assume "
            "pixels in [0, max_val].",
            f"{info.get_code(max_val=255.0 if top <= 255 else float(np.ceil(top)))}   # or scale images to "
            "[0, 1]: x / 255.0",
        ))
    t, p = np.abs(yt).max(initial=0.0), np.abs(yp).max(initial=0.0)
    if min(t, p) > 0 and max(t, p) > 2.0 and max(t, p) / min(t, p) > 20:
        big, small = ("y_true", "y_pred") if t > p else ("y_pred", "y_true")
        out.append(Finding(
            "scale-mismatch", "warning",
            f"{big} reaches {max(t, p):.4g} while {small} stays within {min(t, p):.4g}: the two look like "
            "different units (pixels 0..255 vs 0..1, or box corners in pixels vs normalised).",
            f"Put both on one scale, e.g. {big} = {big} / 255.0, or divide boxes by (width, height, width, height).",
        ))
    return out


def check_imbalance(info: LossInfo, yt: np.ndarray, yp: np.ndarray) -> list[Finding]:
    """Strong class (or foreground) imbalance with an unweighted cross-entropy."""
    if info.kind not in CE_KINDS or info.weighted:
        return []
    k = yp.shape[-1] if yp.ndim else 1
    if info.kind == "categorical" and yt.shape == yp.shape:
        counts = np.bincount(np.argmax(yt, axis=-1).ravel(), minlength=k)
    elif info.kind in ("categorical", "sparse"):
        labels = yt.ravel().astype(int)
        counts = np.bincount(labels[(labels >= 0) & (labels < k)], minlength=k)
    else:
        counts = np.array([np.sum(yt < 0.5), np.sum(yt >= 0.5)])
    present = counts[counts > 0]
    if counts.sum() < 20 or present.size < 2 or present.max() / present.min() < 5:
        return []
    ratio = present.max() / present.min()
    if info.kind == "binary" and yt.ndim >= 3:
        fraction = counts[1] / counts.sum()
        return [Finding(
            "class-imbalance-unweighted", "warning",
            f"Only {100 * min(fraction, 1 - fraction):.1f}% of the pixels are in the minority class, and "
            f"{info.name} is unweighted: the majority dominates the loss (predicting all background scores well).",
            'lossviz.losses.get("bce_dice")   # or "dice", "tversky", "binary_focal"',
        )]
    fam = "binary_focal" if info.kind == "binary" else "categorical_focal"
    fix = (f'lossviz.losses.get("{fam}")' if info.kind == "binary" else
           'lossviz.losses.get("weighted_categorical_crossentropy", class_weights='
           f"lossviz.losses.class_weights_from_counts({counts.tolist()}))   # one-hot y_true; or \"{fam}\"")
    return [Finding(
        "class-imbalance-unweighted", "warning",
        f"Class counts in y_true are {counts.tolist()} (largest / smallest = {ratio:.1f}), and {info.name} is "
        "unweighted: the frequent class dominates the gradient and rare classes are learned poorly.",
        fix,
    )]


def run_checks(info: LossInfo, yt: np.ndarray, yp: np.ndarray) -> list[Finding]:
    """All checks in order; later checks are skipped where an earlier error makes them meaningless."""
    empty = [label for label, a in (("y_true", yt), ("y_pred", yp)) if a.size == 0]
    if empty:
        return [Finding(
            "empty-input", "error",
            f"{' and '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty (shapes {yt.shape} and {yp.shape}); "
            "expected at least one sample.",
            "Check the data pipeline: a filter or a slice removed every sample.",
        )]
    findings = check_finite(yt, yp)
    yt, yp = np.nan_to_num(yt, nan=0.0, posinf=0.0, neginf=0.0), np.nan_to_num(yp, nan=0.0, posinf=0.0, neginf=0.0)
    shape = check_shapes(info, yt, yp)
    if findings:  # value checks on repaired arrays would report artefacts of the repair
        return findings + shape
    findings += shape + check_logits(info, yt, yp)
    if any(f.severity == "error" and f.code not in ("integer-labels-to-categorical-loss",) for f in shape):
        return findings
    targets = check_targets(info, yt, yp)
    findings += targets
    if not any(f.severity == "error" for f in targets) and not shape:
        findings += check_imbalance(info, yt, yp)
    return findings
