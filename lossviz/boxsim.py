"""The box-regression simulation of Zheng et al. (Distance-IoU loss, AAAI 2020), vectorised.

Seven target boxes of area 1 centred at (10, 10) with aspect ratios 1:4 ... 4:1; anchors centred at
points drawn uniformly in a disc of radius 3 around (10, 10), each with 7 areas (0.5 ... 2 times the
target's) and 7 aspect ratios. Every (point, target, area, ratio) is one *case*: with 5,000 points that is
5,000 x 7 x 7 x 7 = 1,715,000 cases. Each anchor, parametrised as (x, y, w, h), descends its box loss for
``T`` iterations with the paper's update ``B <- B - lr (2 - IoU) dL/dB`` and learning rate 0.1, then 0.01
after 0.8 T, then 0.001 after 0.9 T. The error after each iteration is the sum over all cases of
``|x - x_gt| + |y - y_gt| + |w - w_gt| + |h - h_gt|``.

Gradients are exact: the catalogue's losses (:mod:`lossviz.losses.boxes`) differentiated by the backend
(:func:`lossviz.autodiff.tensor_value_and_grad`), all cases and losses in one compiled step per iteration
that keeps the boxes on the backend's device (GPU where there is one): only each loss's total error comes
back. (The paper derived
its gradients by hand in MATLAB, so its curves need not be reproduced exactly.) Pure compute: no plotly.

Example:
    >>> from lossviz import boxsim
    >>> sim = boxsim.simulate(n_points=50, losses=("iou", "diou"))
    >>> sim.errors["diou"][-1] < sim.errors["iou"][-1]
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from keras import ops

from lossviz.autodiff import compile_function, tensor_value_and_grad, value_and_grad
from lossviz.losses import boxes as box_losses

CENTRE = (10.0, 10.0)
RADIUS = 3.0
N_POINTS = 5000
ITERATIONS = 200
ASPECT_RATIOS = (1 / 4, 1 / 3, 1 / 2, 1.0, 2.0, 3.0, 4.0)
"""Aspect ratios w / h of the targets and of the anchors."""
ANCHOR_SCALES = (0.5, 0.67, 0.75, 1.0, 1.33, 1.5, 2.0)
"""Anchor areas as multiples of the target's area (1)."""
LOSSES = ("iou", "giou", "diou", "ciou")
CHECKPOINTS = (0, 20, 40, 60, 100, 160, 180, 200)
PAPER_ERRORS = {
    "iou": {0: 6.5e6, 200: 5.9e6},
    "giou": {0: 6.5e6, 200: 1.5e6},
    "diou": {0: 6.5e6, 200: 0.0},
    "ciou": {0: 6.5e6, 200: 0.0},
}
"""Total errors of the full simulation (5,000 points) read off Zheng et al.'s figure, approximately:
only the start and the end of each curve (about 6.5e6 at the start; IoU ~5.9e6, GIoU ~1.5e6 and
DIoU ~ CIoU ~ 0 after 200 iterations)."""

_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "iou": box_losses.iou_loss, "giou": box_losses.giou_loss,
    "diou": box_losses.diou_loss, "ciou": box_losses.ciou_loss,
}


def learning_rate(t: int, iterations: int = ITERATIONS) -> float:
    """The paper's step size at iteration ``t`` (1-based): 0.1, then 0.01, then 0.001.

    Formula:
        lr = 0.1 if t <= 0.8 T; 0.01 if t <= 0.9 T; 0.001 otherwise

    Example:
        >>> [learning_rate(t) for t in (160, 161, 180, 181)]
        [0.1, 0.01, 0.01, 0.001]

    Args:
        t: the iteration, from 1 to ``iterations``.
        iterations: the total number of iterations ``T``.

    Returns:
        The learning rate.
    """
    if t <= 0.8 * iterations:
        return 0.1
    if t <= 0.9 * iterations:
        return 0.01
    return 0.001


def xywh_to_xyxy(b: Any) -> Any:
    """(x, y, w, h) centre-size boxes -> (x1, y1, x2, y2) corners, in ``keras.ops`` (differentiable).

    Formula:
        (x1, y1, x2, y2) = (x - w/2, y - h/2, x + w/2, y + h/2)

    Args:
        b: boxes (..., 4) as (x, y, w, h).

    Returns:
        Boxes (..., 4) as (x1, y1, x2, y2).
    """
    x, y, w, h = (b[..., i] for i in range(4))
    return ops.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], axis=-1)


def iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of (x, y, w, h) boxes in numpy (negative sizes count as 0), for the ``(2 - IoU)`` factor."""
    aw, ah, bw, bh = (np.maximum(v, 0.0) for v in (a[:, 2], a[:, 3], b[:, 2], b[:, 3]))
    iw = np.maximum(np.minimum(a[:, 0] + aw / 2, b[:, 0] + bw / 2) - np.maximum(a[:, 0] - aw / 2, b[:, 0] - bw / 2), 0)
    ih = np.maximum(np.minimum(a[:, 1] + ah / 2, b[:, 1] + bh / 2) - np.maximum(a[:, 1] - ah / 2, b[:, 1] - bh / 2), 0)
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter + box_losses.EPSILON)


@dataclass
class Cases:
    """The simulated cases, flattened: ``anchors`` and ``targets`` (M, 4) as (x, y, w, h), and per case
    the index of its anchor ``point`` and ``offset`` (dx, dy) from the target centre, its ``target``
    (aspect ratio index), anchor ``scale`` index and anchor ``ratio`` index."""

    anchors: np.ndarray
    targets: np.ndarray
    point: np.ndarray
    offset: np.ndarray
    target: np.ndarray
    scale: np.ndarray
    ratio: np.ndarray


def make_cases(n_points: int = N_POINTS, seed: int = 0) -> Cases:
    """Build the simulation's cases: ``n_points`` anchor centres x 7 targets x 7 scales x 7 ratios.

    The centres are uniform in the disc of radius 3 around (10, 10) (radius ``3 sqrt(u)``, angle
    uniform). A target with aspect ratio ``r`` has ``w = sqrt(r)``, ``h = 1 / sqrt(r)``; an anchor with
    scale ``s`` and ratio ``a`` has ``w = sqrt(s a)``, ``h = sqrt(s / a)``.

    Example:
        >>> make_cases(10).anchors.shape
        (3430, 4)

    Args:
        n_points: number of anchor centres (5,000 in the paper).
        seed: seed of the centres.

    Returns:
        The :class:`Cases`, ordered point-major (point, target, scale, ratio).
    """
    if int(n_points) < 1:
        raise ValueError(f"Invalid value for `n_points`: expected an integer >= 1; received {n_points!r}")
    rng = np.random.default_rng(seed)
    radius = RADIUS * np.sqrt(rng.uniform(size=n_points))
    angle = rng.uniform(0, 2 * np.pi, size=n_points)
    offset = np.stack([radius * np.cos(angle), radius * np.sin(angle)], -1)
    n_t, n_s, n_r = len(ASPECT_RATIOS), len(ANCHOR_SCALES), len(ASPECT_RATIOS)
    p, t, s, r = (g.ravel() for g in np.meshgrid(np.arange(n_points), np.arange(n_t), np.arange(n_s),
                                                 np.arange(n_r), indexing="ij"))
    ratios, scales = np.asarray(ASPECT_RATIOS), np.asarray(ANCHOR_SCALES)
    centre = np.asarray(CENTRE)
    targets = np.column_stack([np.full(p.size, centre[0]), np.full(p.size, centre[1]),
                               np.sqrt(ratios[t]), 1 / np.sqrt(ratios[t])])
    anchors = np.column_stack([centre[0] + offset[p, 0], centre[1] + offset[p, 1],
                               np.sqrt(scales[s] * ratios[r]), np.sqrt(scales[s] / ratios[r])])
    return Cases(anchors.astype("float32"), targets.astype("float32"), p, offset[p].astype("float32"), t, s, r)


def case_errors(boxes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-case L1 error ``|x - x_gt| + |y - y_gt| + |w - w_gt| + |h - h_gt|`` (float64)."""
    return np.abs(np.asarray(boxes, "float64") - np.asarray(targets, "float64")).sum(-1)


def _per_case(names: Sequence[str]) -> Callable[[Any], Any]:
    """``z`` (L, M, 8) = anchors and targets (x, y, w, h) -> (3, L, M): each loss on its own slice, and
    the IoU and the case's L1 error, these two without gradient."""
    unknown = [n for n in names if n not in _FUNCTIONS]
    if unknown or not names:
        raise ValueError(f"Invalid value for `losses`: expected names from {sorted(_FUNCTIONS)}; received {names!r}")
    fns = [_FUNCTIONS[n] for n in names]

    def per_case(z: Any) -> Any:
        pred, true = xywh_to_xyxy(z[..., :4]), xywh_to_xyxy(z[..., 4:])
        value = ops.stack([fn(true[i], pred[i]) for i, fn in enumerate(fns)])
        iou = ops.stop_gradient(box_losses.box_iou(true, pred))
        error = ops.stop_gradient(ops.sum(ops.abs(z[..., :4] - z[..., 4:]), axis=-1))
        return ops.stack([value, iou, error])

    return per_case


def _stacked(names: Sequence[str]) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """One backend call for all losses: ``z`` (L, M, 8) -> (values (3, L, M) as in :func:`_per_case`;
    gradient (L, M, 8) of the summed losses), as numpy."""
    return value_and_grad(_per_case(names), graph=True)


def _device_step(names: Sequence[str]) -> Callable[[Any, Any], tuple[Any, Any]]:
    """One compiled iteration on the backend's device: ``(z, lr) -> (z after the step, total error of
    each loss's boxes before the step (L,))``. Only the L totals need to leave the device."""
    vg = tensor_value_and_grad(_per_case(names))

    def step_fn(z: Any, lr: Any) -> tuple[Any, Any]:
        values, grad = vg(z)
        factor = ops.expand_dims(2.0 - values[1], -1)           # the paper's (2 - IoU), before the step
        moved = z[..., :4] - lr * factor * grad[..., :4]
        return ops.concatenate([moved, z[..., 4:]], axis=-1), ops.sum(values[2], axis=-1)

    return compile_function(step_fn)


def gradient_function(losses: str | Sequence[str]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Exact gradients of box losses with respect to the anchors' (x, y, w, h), for all cases at once.

    All losses go through one backend call: anchors of shape (L, M, 4), one slice per loss, are
    stacked with the targets into an (L, M, 8) array (so the backend compiles no large constant), and
    the gradient of the sum of every loss over its own slice is taken; its first 4 columns are returned.

    Example:
        >>> f = gradient_function(["iou", "diou"])
        >>> grad = f(np.zeros((2, 1, 4), "float32") + [0, 0, 1, 1], np.array([[1, 0, 1, 1]], "float32"))
        >>> grad.shape
        (2, 1, 4)

    Args:
        losses: one or more of ``"iou"``, ``"giou"``, ``"diou"``, ``"ciou"``.

    Returns:
        ``f(anchors (L, M, 4), targets (M, 4)) -> gradient (L, M, 4)`` (float32 numpy).
    """
    names = [losses] if isinstance(losses, str) else list(losses)
    vg = _stacked(names)

    def call(anchors: np.ndarray, targets: np.ndarray) -> np.ndarray:
        anchors = np.asarray(anchors, "float32")
        if anchors.ndim != 3 or anchors.shape[0] != len(names) or anchors.shape[-1] != 4:
            raise ValueError(f"Invalid value for `anchors`: expected shape ({len(names)}, M, 4); "
                             f"received {anchors.shape}")
        tiled = np.broadcast_to(np.asarray(targets, "float32"), anchors.shape)
        _, grad = vg(np.concatenate([anchors, tiled], axis=-1))
        return grad[..., :4]

    return call


def step(boxes: np.ndarray, targets: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
    """One update of the paper: ``B <- B - lr (2 - IoU(B, B_gt)) dL/dB``, IoU taken before the step.

    Args:
        boxes: current anchors (M, 4) as (x, y, w, h).
        targets: targets (M, 4).
        grad: the loss gradient with respect to ``boxes``.
        lr: the learning rate.

    Returns:
        The updated boxes (float32).
    """
    factor = 2.0 - iou_xywh(boxes, targets)
    return (boxes - lr * factor[:, None] * grad).astype("float32")


@dataclass
class Simulation:
    """A simulation's result: ``errors[loss]`` the total error after each iteration (T + 1 values, the
    first before any step); ``final_errors[loss]`` the per-case error at the end (M,); ``final_iou``
    per case; ``cases``; ``n_points`` and ``fraction`` (= n_points / 5,000) for scaling the paper."""

    iterations: int
    n_points: int
    cases: Cases
    errors: dict[str, np.ndarray] = field(default_factory=dict)
    final_errors: dict[str, np.ndarray] = field(default_factory=dict)
    final_iou: dict[str, np.ndarray] = field(default_factory=dict)
    finite: dict[str, bool] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return self.n_points / N_POINTS

    @property
    def n_cases(self) -> int:
        return int(self.cases.anchors.shape[0])


def simulate(n_points: int = N_POINTS, losses: Sequence[str] = LOSSES, iterations: int = ITERATIONS,
             seed: int = 0, callback: Callable[[str, int, float], None] | None = None) -> Simulation:
    """Run the simulation for each loss on the same cases.

    Formula:
        B_t = B_{t-1} - lr_t (2 - IoU(B_{t-1}, B^{gt})) dL/dB_{t-1};
        E_t = sum over cases |x - x^{gt}| + |y - y^{gt}| + |w - w^{gt}| + |h - h^{gt}|

    Example:
        >>> sim = simulate(n_points=200)   # a 4 % subsample: 68,600 cases
        >>> {k: round(v[-1] / sim.errors["iou"][0], 2) for k, v in sim.errors.items()}  # doctest: +SKIP

    Args:
        n_points: anchor centres (5,000 in the paper; fewer for a quick run — the errors then scale
            with ``n_points / 5000``).
        losses: losses to run, from ``"iou"``, ``"giou"``, ``"diou"``, ``"ciou"``.
        iterations: ``T`` (200 in the paper); the schedule's switch points scale with it.
        seed: seed of the anchor centres.
        callback: optional ``callback(loss, t, error)`` after each iteration (progress).

    Returns:
        A :class:`Simulation`.
    """
    if int(iterations) < 1:
        raise ValueError(f"Invalid value for `iterations`: expected an integer >= 1; received {iterations!r}")
    cases = make_cases(n_points, seed)
    sim = Simulation(int(iterations), int(n_points), cases)
    names = list(losses)
    step_fn = _device_step(names)
    rates = {lr: ops.convert_to_tensor(lr, "float32")
             for lr in {learning_rate(t, iterations) for t in range(1, iterations + 1)}}
    # one (L, M, 8) state on the device: anchors in [..., :4], targets in [..., 4:]
    z = ops.convert_to_tensor(np.concatenate([np.stack([cases.anchors] * len(names)),
                                              np.stack([cases.targets] * len(names))], -1))
    totals = []
    for t in range(1, iterations + 1):
        z, total = step_fn(z, rates[learning_rate(t, iterations)])
        totals.append(total)                      # stays on the device (asynchronous) unless reported
        if callback is not None and t > 1:
            reported = ops.convert_to_numpy(total)
            for i, name in enumerate(names):
                callback(name, t - 1, float(reported[i]))
    final = ops.convert_to_numpy(z)
    final_errors = [case_errors(final[i, :, :4], cases.targets) for i in range(len(names))]
    curves = np.concatenate([ops.convert_to_numpy(ops.stack(totals)).astype("float64"),
                             [[e.sum() for e in final_errors]]])
    for i, name in enumerate(names):
        if callback is not None:
            callback(name, iterations, float(curves[-1, i]))
        sim.errors[name] = curves[:, i]
        sim.final_errors[name] = final_errors[i]
        sim.final_iou[name] = iou_xywh(final[i, :, :4], cases.targets)
        sim.finite[name] = bool(np.isfinite(final[i]).all())
    return sim


def checkpoint_table(sim: Simulation, checkpoints: Sequence[int] = CHECKPOINTS) -> Any:
    """Errors at the checkpoints, ours next to the paper's scaled by ``sim.fraction`` (pandas).

    Columns ``<loss>`` (this run) and ``<loss> paper`` (NaN where the paper's value was not read off);
    the index is the iteration. Checkpoints beyond ``sim.iterations`` are dropped.

    Args:
        sim: a :class:`Simulation`.
        checkpoints: iterations to show.

    Returns:
        A ``pandas.DataFrame``.
    """
    import pandas as pd

    its = [c for c in checkpoints if c <= sim.iterations]
    cols: dict[str, list[float]] = {}
    for loss, curve in sim.errors.items():
        cols[loss] = [float(curve[c]) for c in its]
        paper = PAPER_ERRORS.get(loss, {})
        cols[f"{loss} paper"] = [paper.get(c, np.nan) * sim.fraction if c in paper else np.nan for c in its]
    return pd.DataFrame(cols, index=pd.Index(its, name="iteration"))


def residuals(sim: Simulation, loss: str, by: str = "target") -> dict[str, np.ndarray]:
    """Where the final errors sit: mean per-case final error grouped by ``by``.

    Args:
        sim: a :class:`Simulation`.
        loss: one of the simulated losses.
        by: ``"target"`` (target aspect ratio), ``"scale"`` (anchor area), ``"ratio"`` (anchor aspect
            ratio), ``"point"`` (anchor centre) or ``"distance"`` (anchor centre's distance, 6 bins).

    Returns:
        ``{"key": group labels, "mean": mean final error, "count": cases}``; for ``"point"`` also
        ``"x"``, ``"y"`` (offsets of the centres).
    """
    if loss not in sim.final_errors:
        raise ValueError(f"Invalid value for `loss`: expected one of {list(sim.final_errors)}; received {loss!r}")
    err, c = sim.final_errors[loss], sim.cases
    if by == "distance":
        edges = np.linspace(0, RADIUS, 7)
        group = np.clip(np.digitize(np.hypot(*c.offset.T), edges) - 1, 0, 5)
        keys = np.round((edges[:-1] + edges[1:]) / 2, 2)
    elif by in ("target", "ratio"):
        group, keys = getattr(c, by), np.asarray(ASPECT_RATIOS)
    elif by == "scale":
        group, keys = c.scale, np.asarray(ANCHOR_SCALES)
    elif by == "point":
        group, keys = c.point, np.arange(sim.n_points)
    else:
        raise ValueError(f"Invalid value for `by`: expected 'target', 'scale', 'ratio', 'point' or "
                         f"'distance'; received {by!r}")
    total = np.bincount(group, weights=err, minlength=len(keys))
    count = np.bincount(group, minlength=len(keys))
    out = {"key": keys, "mean": total / np.maximum(count, 1), "count": count}
    if by == "point":
        first = np.unique(c.point, return_index=True)[1]
        out["x"], out["y"] = c.offset[first, 0], c.offset[first, 1]
    return out
