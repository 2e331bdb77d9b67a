"""Perturb a target into a batch of predictions, and measure how losses respond (value and gradient).

Every perturbation family takes one target and a 1-D array of strengths and returns all perturbed
predictions at once, as a batch ``(S, *target.shape)``; strength 0 gives back the target exactly.
Families are seeded (the same seed gives the same noise field at every strength, so curves are smooth).

Tasks: ``"image"`` (alias ``"regression"``: any array, images (H, W) or (H, W, C)), ``"classification"``
(class probabilities (K,); K = 1 is one binary probability), ``"segmentation"`` (binary masks (H, W) or
(H, W, 1)) and ``"boxes"`` (one box (4,) as x1, y1, x2, y2).

:func:`responses` evaluates catalogue losses on such a batch, one vectorised call per loss, giving each
loss's value and the size of its gradient with respect to the prediction at every strength.

Pure compute: never imports plotly or ipywidgets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossviz import _perturb_ops as ops_
from lossviz._perturb_losses import (  # noqa: F401  (re-exported: response_function)
    evaluate,
    loss_function,
    loss_label,
    loss_labels,
    loss_response,
    response_function,
)

TASKS = ("image", "classification", "segmentation", "boxes")
"""The tasks, in display order."""

_TASK_ALIASES = {"regression": "image", "images": "image", "restoration": "image", "detection": "boxes",
                 "box": "boxes", "mask": "segmentation", "masks": "segmentation"}


@dataclass(frozen=True)
class Family:
    """One perturbation family of a task.

    Args:
        task: one of :data:`TASKS`.
        name: the family's name within the task.
        description: what it does, in one sentence.
        strength_range: (low, high) of the default strength grid (contains 0).
        unit: what a strength of 1 means.
        fn: ``fn(target, strengths, **options) -> (S, *target.shape)`` array.
    """

    task: str
    name: str
    description: str
    strength_range: tuple[float, float]
    unit: str
    fn: Callable[..., np.ndarray] = field(repr=False)


_FAMILIES: dict[str, dict[str, Family]] = {t: {} for t in TASKS}


def _add(task: str, name: str, fn: Callable[..., np.ndarray], low: float, high: float, unit: str,
         description: str) -> None:
    _FAMILIES[task][name] = Family(task, name, description, (float(low), float(high)), unit, fn)


_add("image", "noise", ops_.gaussian_noise, 0.0, 0.3, "noise standard deviation",
     "Adds the same Gaussian noise field scaled by the strength (its standard deviation).")
_add("image", "offset", ops_.offset, -0.3, 0.3, "added constant",
     "Adds a constant to every value (a brightness change).")
_add("image", "outliers", ops_.outliers, 0.0, 1.0, "outlier size",
     "Moves 1% of the values (chosen once, seeded) by the strength, away from the middle of [0, 1].")
_add("image", "blur", ops_.blur, 0.0, 3.0, "Gaussian sigma in pixels",
     "Blurs with a Gaussian of standard deviation = strength pixels (mirrored borders).")
_add("image", "shift", ops_.shift, -4.0, 4.0, "pixels",
     "Moves the picture right by strength pixels (linear interpolation, edges repeated).")
_add("classification", "confidence", ops_.confidence, 0.0, 0.999, "probability taken from the true class",
     "Takes probability s from the true class and spreads it evenly over the other classes.")
_add("classification", "temperature", ops_.temperature, 0.0, 4.0, "softmax temperature T",
     "softmax(4 y / T) of a one-hot target: T = 0 is the target, large T tends to uniform.")
_add("classification", "label_flip", ops_.label_flip, 0.0, 0.999, "probability moved to a wrong class",
     "Moves probability s from the true class to one wrong class: s near 1 is a confident mistake.")
_add("classification", "label_smoothing", ops_.label_smoothing, 0.0, 1.0, "smoothing factor",
     "Mixes the target with the uniform distribution: (1 - s) y + s / K.")
_add("segmentation", "dilation", ops_.dilate, 0.0, 8.0, "pixels",
     "Grows the mask: adds every pixel within strength pixels of it (a false-positive rim).")
_add("segmentation", "erosion", ops_.erode, 0.0, 8.0, "pixels",
     "Shrinks the mask: removes every pixel within strength pixels of the background.")
_add("segmentation", "shift", ops_.mask_shift, -12.0, 12.0, "pixels",
     "Moves the mask right by strength pixels (rounded to whole pixels).")
_add("segmentation", "drop", ops_.drop_part, 0.0, 1.0, "fraction of the object's width",
     "Removes the right-hand fraction s of the object (a partly missed object).")
_add("segmentation", "small_object", ops_.drop_small_object, 0.0, 1.0, "fraction of the smallest object",
     "Removes the right-hand fraction s of the smallest object only (compare with `drop`, which "
     "removes the same fraction of everything).")
_add("boxes", "translation", ops_.box_translate, -1.0, 1.0, "box sizes",
     "Moves the box diagonally by s times its width and height.")
_add("boxes", "scale", ops_.box_scale, -2.0, 2.0, "log2 of the size factor",
     "Scales width and height by 2**s about the centre.")
_add("boxes", "aspect", ops_.box_aspect, -2.0, 2.0, "log2 of the aspect change",
     "Changes the aspect ratio at constant area: width * 2**(s/2), height / 2**(s/2).")
_add("boxes", "separation", ops_.box_separate, 0.0, 3.0, "box widths",
     "Moves the box right by s widths: no overlap from s = 1 on, where IoU loss stops giving a "
     "gradient and GIoU / DIoU do not.")

_TASK_LOSSES = {
    "image": ("mse", "mae", "huber", "log_cosh", "ssim", "ms_ssim", "l1_ms_ssim"),
    "classification": ("categorical_crossentropy", "binary_crossentropy", "mse", "mae",
                       "categorical_focal", "binary_focal", "weighted_categorical_crossentropy"),
    "segmentation": ("binary_crossentropy", "dice", "jaccard", "tversky", "bce_dice", "binary_focal",
                     "mse", "mae"),
    "boxes": ("iou", "giou", "diou", "ciou", "mse", "mae", "huber"),
}


def task_name(task: str) -> str:
    """The canonical task name for a task or alias (``"regression"`` -> ``"image"``, ...)."""
    key = str(task).strip().lower()
    key = _TASK_ALIASES.get(key, key)
    if key not in TASKS:
        raise ValueError(f"Invalid value for `task`: expected one of {TASKS} (or aliases "
                         f"{sorted(_TASK_ALIASES)}); received {task!r}")
    return key


def families(task: str | None = None) -> list[Family]:
    """The registry of perturbation families, of one task or of all.

    Example:
        >>> [f.name for f in families("boxes")]
        ['translation', 'scale', 'aspect', 'separation']

    Args:
        task: a task name or alias, or None for every task.

    Returns:
        A list of :class:`Family`.
    """
    tasks = TASKS if task is None else (task_name(task),)
    return [f for t in tasks for f in _FAMILIES[t].values()]


def family(task: str, name: str) -> Family:
    """One family of a task, by name (see :func:`families`)."""
    table = _FAMILIES[task_name(task)]
    if name not in table:
        raise ValueError(f"Invalid value for `family`: expected one of {list(table)} for task "
                         f"{task_name(task)!r}; received {name!r}")
    return table[name]


def task_losses(task: str) -> list[str]:
    """Catalogue loss names that make sense for a task's targets (used by the widget's loss list)."""
    return list(_TASK_LOSSES[task_name(task)])


def strength_grid(task: str, name: str, count: int = 64) -> np.ndarray:
    """``count`` evenly spaced strengths over a family's range, always containing 0 exactly.

    When 0 falls between two grid points, the nearest one is moved onto it.

    Args:
        task: task name.
        name: family name.
        count: number of strengths (at least 2).

    Returns:
        float32 array (count,), increasing.
    """
    if int(count) < 2:
        raise ValueError(f"Invalid value for `count`: expected at least 2 strengths; received {count}")
    low, high = family(task, name).strength_range
    grid = np.linspace(low, high, int(count))
    grid[np.argmin(np.abs(grid))] = 0.0
    return grid.astype(np.float32)


def perturb(task: str, name: str, target: Any, strengths: Any, **options: Any) -> np.ndarray:
    """All perturbed predictions of one family, as one batch.

    Example:
        >>> batch = perturb("image", "noise", image, [0.0, 0.1, 0.2], seed=0)   # (3, H, W, C)
        >>> bool(np.array_equal(batch[0], image))
        True

    Args:
        task: task name or alias.
        name: family name (see :func:`families`).
        target: the ground truth (see the module docstring for each task's shape).
        strengths: 1-D strengths.
        **options: passed to the family's function (``seed`` for random families, ``logits=True`` for
            classification families to get logits instead of probabilities).

    Returns:
        float32 array (S, *target.shape).
    """
    return family(task, name).fn(target, strengths, **options)


# ----- loss responses --------------------------------------------------------------------------------


@dataclass
class Responses:
    """How a set of losses responds to one perturbation family (returned by :func:`responses`).

    Attributes:
        task: canonical task name.
        family: family name.
        strengths: (S,) strengths.
        target: the target.
        predictions: (S, *target.shape) perturbed predictions (logits when ``logits`` is True).
        values: loss label -> (S,) loss values.
        grad_norms: loss label -> (S,) L2 norms of the gradient with respect to the prediction.
        logits: whether predictions (and gradients) are in logit space.
    """

    task: str
    family: str
    strengths: np.ndarray
    target: np.ndarray
    predictions: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)
    grad_norms: dict[str, np.ndarray] = field(default_factory=dict)
    logits: bool = False

    @property
    def losses(self) -> list[str]:
        """The loss labels, in order."""
        return list(self.values)

    def curves(self, kind: str = "value", normalised: bool = False) -> dict[str, np.ndarray]:
        """Loss label -> curve over the strengths: ``kind`` "value" or "grad"; optionally in [0, 1]."""
        if kind not in ("value", "grad"):
            raise ValueError(f"Invalid value for `kind`: expected 'value' or 'grad'; received {kind!r}")
        table = self.values if kind == "value" else self.grad_norms
        return {k: normalise(v) if normalised else v for k, v in table.items()}

    def index(self, strength: float) -> int:
        """Index of the grid strength nearest to ``strength``."""
        return int(np.argmin(np.abs(self.strengths - float(strength))))


def normalise(curve: Any) -> np.ndarray:
    """Rescale a curve to [0, 1] (min -> 0, max -> 1); a constant curve gives zeros.

    Formula:
        (c - min c) / (max c - min c)
    """
    c = np.asarray(curve, dtype=np.float64)
    finite = c[np.isfinite(c)]
    if finite.size == 0:
        return np.zeros_like(c)
    low, span = finite.min(), finite.max() - finite.min()
    return (c - low) / span if span > 0 else np.zeros_like(c)


def responses(
    task: str,
    target: Any,
    losses: Sequence[Any] | Mapping[str, Any],
    family_name: str,
    strengths: int | Sequence[float] | np.ndarray = 64,
    logits: bool = False,
    functions: dict[Any, Any] | None = None,
    **options: Any,
) -> Responses:
    """Perturb ``target`` with one family and evaluate every loss on all strengths (one call per loss).

    Example:
        >>> r = responses("boxes", [0.2, 0.2, 0.6, 0.6], ["iou", "giou"], "separation", 32)
        >>> r.grad_norms["iou"][-1], r.grad_norms["giou"][-1] > 0        # (0.0, True)

    Args:
        task: task name or alias.
        target: the ground truth.
        losses: loss specs (names, ``(name, options)``, Keras losses, callables), or label -> spec.
        family_name: the perturbation family.
        strengths: a number of grid points (:func:`strength_grid`) or the strengths themselves.
        logits: classification only: perturb probabilities, then evaluate on logits ``log p`` (losses
            with ``from_logits`` use it, the others see softmax / sigmoid); gradients are then with
            respect to the logits, as a network's last layer sees them.
        functions: a cache of compiled functions kept by the caller between calls (a widget; an empty
            dict the first time): each loss is then traced once and the terms that weighted-sum losses
            share are computed once (see ``evaluate``); None: every loss is evaluated eagerly, once.
        **options: passed to the family (e.g. ``seed``).

    Returns:
        A :class:`Responses`.
    """
    task = task_name(task)
    grid = strength_grid(task, family_name, strengths) if np.isscalar(strengths) else \
        np.asarray(strengths, dtype=np.float32).reshape(-1)
    if logits and task != "classification":
        raise ValueError(f"Invalid value for `logits`: only the classification task has logits; task is {task!r}")
    if logits:
        options["logits"] = True
    target = np.asarray(target, dtype=np.float32)
    preds = perturb(task, family_name, target, grid, **options)
    out = Responses(task, family_name, grid, target, preds, logits=logits)
    specs = loss_labels(losses)
    binary = task == "classification" and target.shape[-1] == 1
    if functions is None:
        for label, spec in specs.items():
            fn = loss_function(spec, logits=logits, binary=binary)
            out.values[label], out.grad_norms[label] = loss_response(fn, target, preds)
        return out
    for label, (values, norms) in evaluate(specs, target, preds, functions, logits, binary).items():
        out.values[label], out.grad_norms[label] = values, norms
    return out


def strength_for(task: str, target: Any, family_name: str, loss: Any, value: float,
                 strengths: Sequence[float] | np.ndarray, **options: Any) -> float:
    """The strength at which ``loss`` first reaches ``value`` along a family (linear interpolation).

    Used to compare perturbations at equal loss, e.g. noise, blur and shift at the same L2 error.

    Example:
        >>> s = strength_for("image", patch, "blur", "mse", 1e-4, np.linspace(0, 8, 161))  # doctest: +SKIP

    Args:
        task: task name.
        target: the ground truth.
        family_name: the family.
        loss: the reference loss spec (e.g. ``"mse"``).
        value: the loss value to reach.
        strengths: increasing strengths to search, starting where the loss is below ``value``.
        **options: passed to the family.

    Returns:
        The interpolated strength (a float).
    """
    grid = np.asarray(strengths, dtype=np.float32)
    curve = responses(task, target, [loss], family_name, grid, **options).values[loss_label(loss)]
    above = np.flatnonzero(curve >= value)
    if above.size == 0 or above[0] == 0:
        raise ValueError(f"Invalid value for `value`: {value} is not crossed by {loss_label(loss)} over strengths "
                         f"{grid[0]:.3g}..{grid[-1]:.3g} (values {curve.min():.3g}..{curve.max():.3g})")
    k = int(above[0])
    v0, v1 = curve[k - 1], curve[k]
    return float(grid[k - 1] + (value - v0) / (v1 - v0) * (grid[k] - grid[k - 1]))
