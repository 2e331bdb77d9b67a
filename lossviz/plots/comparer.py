"""Pure figure builders for the LossComparer: loss value and gradient curves over a perturbation's
strength, with a marker at the current strength, next to a picture of the target and the prediction.

Data in (a :class:`lossviz.perturbations.Responses`), ``plotly.graph_objects.Figure`` out. The figure's
traces are, in order: one value curve per loss, one gradient curve per loss, the value markers, the
gradient markers, then the picture traces (see :func:`picture_traces`).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lossviz.perturbations import Responses, family

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
          "#7f7f7f", "#bcbd22")
"""One colour per loss, in order."""

_GAP = 4


def _softmax(z: np.ndarray, binary: bool) -> np.ndarray:
    if binary:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z - z.max())
    return e / e.sum()


def _side_by_side(target: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    t = np.clip(np.asarray(target, np.float32), 0.0, 1.0)
    p = np.clip(np.asarray(prediction, np.float32), 0.0, 1.0)
    if t.ndim == 3 and t.shape[-1] == 1:
        t, p = t[..., 0], p[..., 0]
    gap = np.ones((t.shape[0], _GAP, *t.shape[2:]), np.float32)
    return np.concatenate([t, gap, p], axis=1)


def _is_rgb(target: np.ndarray) -> bool:
    return target.ndim == 3 and target.shape[-1] == 3


def png_source(rgb: np.ndarray) -> str:
    """An RGB array in [0, 1] as a PNG data URI (for ``go.Image(source=...)``: far cheaper to send to the
    browser than a nested-list ``z``)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(buffer, format="png", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _box_xy(box: np.ndarray) -> tuple[list[float], list[float]]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, x2, x2, x1, x1], [y1, y1, y2, y2, y1]


def picture_data(task: str, target: Any, prediction: Any, logits: bool = False) -> list[dict[str, Any]]:
    """The data of each picture trace (``{"z": ...}`` or ``{"x": ..., "y": ...}``) for one prediction.

    Args:
        task: canonical task name (``"image"``, ``"classification"``, ``"segmentation"``, ``"boxes"``).
        target: the target.
        prediction: one prediction (logits when ``logits``).
        logits: classification predictions are logits (shown as probabilities).

    Returns:
        A list of dicts, one per trace of :func:`picture_traces` (RGB pictures as a PNG ``source``).
    """
    t, p = np.asarray(target), np.asarray(prediction)
    if task in ("image", "segmentation"):
        z = _side_by_side(t, p)
        return [{"source": png_source(z)}] if _is_rgb(t) else [{"z": z}]
    if task == "classification":
        probs = _softmax(p.astype(np.float64), t.shape[-1] == 1) if logits else p
        return [{"y": t.astype(float)}, {"y": np.asarray(probs, float)}]
    tx, ty = _box_xy(t)
    px, py = _box_xy(p)
    return [{"x": tx, "y": ty}, {"x": px, "y": py}]


def picture_traces(task: str, target: Any, prediction: Any, logits: bool = False) -> list[go.BaseTraceType]:
    """The traces of the picture panel: target and prediction side by side (images, masks), as bars
    (classes) or as outlines (boxes)."""
    data = picture_data(task, target, prediction, logits)
    t = np.asarray(target)
    if task in ("image", "segmentation"):
        if _is_rgb(t):
            return [go.Image(name="target | prediction", hoverinfo="skip", **data[0])]
        return [go.Heatmap(name="target | prediction", colorscale="gray", zmin=0, zmax=1, showscale=False,
                           hoverinfo="skip", **data[0])]
    if task == "classification":
        x = list(range(max(t.shape[-1], 1)))
        return [go.Bar(x=x, name="target", marker_color="#bbbbbb", **data[0]),
                go.Bar(x=x, name="prediction", marker_color="#333333", **data[1])]
    return [go.Scatter(mode="lines", name="target box", line={"color": "#2ca02c", "width": 3}, **data[0]),
            go.Scatter(mode="lines", name="predicted box", line={"color": "#d62728", "dash": "dash"}, **data[1])]


def marker_data(responses: Responses, index: int, normalised: bool = False) -> list[dict[str, Any]]:
    """The data of the value-marker and gradient-marker traces at grid point ``index``."""
    s = float(responses.strengths[index])
    out = []
    for kind in ("value", "grad"):
        curves = responses.curves(kind, normalised)
        out.append({"x": [s] * len(curves), "y": [float(c[index]) for c in curves.values()]})
    return out


def _title(responses: Responses, index: int) -> str:
    fam = family(responses.task, responses.family)
    return f"{responses.task} · {fam.name}: strength {float(responses.strengths[index]):.3g} ({fam.unit})"


def comparer_figure(responses: Responses, index: int | None = None, normalised: bool = False,
                    height: int = 400) -> go.Figure:
    """The LossComparer figure: value curves | gradient-magnitude curves | target and prediction.

    Example:
        >>> r = lossviz.perturbations.responses("boxes", box, ["iou", "giou"], "separation")
        >>> comparer_figure(r, index=40).show()  # doctest: +SKIP

    Args:
        responses: what :func:`lossviz.perturbations.responses` returned.
        index: grid point of the marker and the picture (default: the strength 0).
        normalised: rescale every curve to [0, 1].
        height: figure height in pixels.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    i = responses.index(0.0) if index is None else int(index)
    scale = " (normalised)" if normalised else ""
    grad_of = "logits" if responses.logits else "prediction"
    fig = make_subplots(rows=1, cols=3, column_widths=[0.34, 0.34, 0.32], horizontal_spacing=0.07,
                        subplot_titles=(f"loss value{scale}", f"|gradient| w.r.t. the {grad_of}{scale}",
                                        "target | prediction"))
    labels = responses.losses
    colors = [COLORS[k % len(COLORS)] for k in range(len(labels))]
    s = responses.strengths.astype(float)
    for col, kind in ((1, "value"), (2, "grad")):
        for k, (label, curve) in enumerate(responses.curves(kind, normalised).items()):
            fig.add_trace(go.Scatter(x=s, y=np.asarray(curve, float), mode="lines", name=label, legendgroup=label,
                                     showlegend=col == 1, line={"color": colors[k]}), row=1, col=col)
    for col, data in zip((1, 2), marker_data(responses, i, normalised), strict=True):
        fig.add_trace(go.Scatter(mode="markers", name="current", showlegend=False, hoverinfo="skip",
                                 marker={"color": colors, "size": 10, "line": {"width": 1, "color": "black"}},
                                 **data), row=1, col=col)
    for trace in picture_traces(responses.task, responses.target, responses.predictions[i], responses.logits):
        fig.add_trace(trace, row=1, col=3)
    # the unit is in the figure's title (it is long, and two long axis titles side by side overlap)
    fig.update_xaxes(title_text="strength", row=1, col=1)
    fig.update_xaxes(title_text="strength", row=1, col=2)
    if responses.task in ("image", "segmentation"):
        fig.update_yaxes(autorange="reversed", scaleanchor="x3", showticklabels=False, row=1, col=3)
        fig.update_xaxes(showticklabels=False, row=1, col=3)
    elif responses.task == "boxes":
        fig.update_yaxes(autorange="reversed", scaleanchor="x3", row=1, col=3)
    else:
        fig.update_layout(barmode="group")
        fig.update_xaxes(title_text="class", row=1, col=3)
    fig.update_layout(height=height, title=_title(responses, i), margin={"l": 50, "r": 20, "t": 70, "b": 50},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def n_curve_traces(responses: Responses) -> int:
    """Number of curve traces (value and gradient) before the marker traces."""
    return 2 * len(responses.losses)


def static_figure(responses: Responses, strengths: Sequence[float] | None = None, normalised: bool = False,
                  height: int = 440) -> go.Figure:
    """A self-contained figure (no Python needed, e.g. for a static site): a plotly slider over
    ``strengths`` moves the markers and the picture, through animation frames.

    Args:
        responses: what :func:`lossviz.perturbations.responses` returned.
        strengths: strengths to offer (each snaps to the nearest grid point); default 9 evenly spaced.
        normalised: rescale every curve to [0, 1].
        height: figure height in pixels.

    Returns:
        A ``plotly.graph_objects.Figure`` with frames and a slider.
    """
    grid = responses.strengths
    wanted = np.linspace(grid[0], grid[-1], 9) if strengths is None else np.asarray(strengths, float)
    indices = list(dict.fromkeys(responses.index(v) for v in wanted))
    fig = comparer_figure(responses, indices[0], normalised, height)
    first = n_curve_traces(responses)
    moving = list(range(first, len(fig.data)))
    frames, steps = [], []
    for i in indices:
        name = f"{float(grid[i]):.4g}"
        data = [{"type": fig.data[first].type, **d} for d in marker_data(responses, i, normalised)]
        pics = picture_data(responses.task, responses.target, responses.predictions[i], responses.logits)
        data += [{"type": fig.data[first + 2 + k].type, **d} for k, d in enumerate(pics)]
        frames.append(go.Frame(name=name, data=data, traces=moving, layout={"title": {"text": _title(responses, i)}}))
        steps.append({"method": "animate", "label": name,
                      "args": [[name], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                        "transition": {"duration": 0}}]})
    fig.frames = frames
    fig.update_layout(sliders=[{"active": 0, "steps": steps, "currentvalue": {"prefix": "strength: "},
                                "pad": {"t": 60}}], height=height + 80)
    return fig


def image_grid(columns: dict[str, Any], rows: int = 3, height_per_row: int = 150) -> go.Figure:
    """Images side by side: one column per name, one row per image (RGB or grey, values in [0, 1]).

    Example:
        >>> image_grid({"clean": clean[:3], "noisy": noisy[:3], "L1": restored[:3]}).show()  # doctest: +SKIP

    Args:
        columns: column title -> images (N, H, W, C) or (N, H, W); the first ``rows`` are drawn.
        rows: images per column.
        height_per_row: pixels per row of the figure.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    names = list(columns)
    fig = make_subplots(rows=rows, cols=len(names), subplot_titles=names, horizontal_spacing=0.01,
                        vertical_spacing=0.02)
    for c, name in enumerate(names, start=1):
        images = np.asarray(columns[name], np.float32)
        for r in range(1, min(rows, len(images)) + 1):
            img = images[r - 1] if images.ndim == 4 else images[r - 1][..., None]
            img = np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img
            fig.add_trace(go.Image(source=png_source(img), hoverinfo="skip"), row=r, col=c)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=rows * height_per_row + 60, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
