"""Pure figure builders for lesson 05 (box losses): simulation error curves, where the residual errors
sit, and predicted boxes drawn on images. Data in (arrays / dicts), figure out; no Keras, no widgets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

COLOURS = {"iou": qualitative.Plotly[0], "giou": qualitative.Plotly[1], "diou": qualitative.Plotly[2],
           "ciou": qualitative.Plotly[3], "mae": qualitative.Plotly[4], "truth": "#00cc00"}


def _colour(name: str, i: int) -> str:
    return COLOURS.get(name.lower(), qualitative.Plotly[i % len(qualitative.Plotly)])


def error_curves(errors: Mapping[str, Sequence[float]], paper: Mapping[str, Mapping[int, float]] | None = None,
                 scale: float = 1.0, log: bool = True) -> go.Figure:
    """Total regression error per iteration, one line per loss; the paper's read-off points as markers.

    Example:
        >>> error_curves({"iou": [10, 9, 9], "diou": [10, 4, 1]}, {"iou": {0: 10, 2: 9}})  # doctest: +SKIP

    Args:
        errors: loss name -> total error after each iteration (the first before any step).
        paper: optional loss name -> {iteration: error} published values (drawn as markers).
        scale: factor applied to the paper's values (e.g. the subsample fraction).
        log: logarithmic error axis (zeros of the paper are then not drawn).

    Returns:
        A plotly ``Figure``.
    """
    fig = go.Figure()
    for i, (name, curve) in enumerate(errors.items()):
        fig.add_scatter(x=np.arange(len(curve)), y=np.asarray(curve, float), name=name, mode="lines",
                        line={"color": _colour(name, i)})
        if paper and name in paper:
            its = sorted(k for k, v in paper[name].items() if not log or v > 0)
            fig.add_scatter(x=its, y=[paper[name][k] * scale for k in its], name=f"{name} (paper)",
                            mode="markers", marker={"color": _colour(name, i), "symbol": "x", "size": 10})
    fig.update_layout(xaxis_title="iteration", yaxis_title="total error  Σ|x−x*|+|y−y*|+|w−w*|+|h−h*|",
                      yaxis_type="log" if log else "linear", height=400)
    return fig


def residual_maps(maps: Mapping[str, Mapping[str, np.ndarray]], radius: float = 3.0) -> go.Figure:
    """One panel per loss: each anchor centre (offset from the target centre), coloured by the mean
    final error of its 343 cases, on a shared colour scale.

    Args:
        maps: loss name -> ``{"x", "y", "mean"}`` (e.g. ``boxsim.residuals(sim, loss, by="point")``).
        radius: the disc's radius (axis range).

    Returns:
        A plotly ``Figure``.
    """
    names = list(maps)
    top = max(float(np.max(m["mean"])) for m in maps.values()) or 1.0
    fig = make_subplots(1, len(names), subplot_titles=names, horizontal_spacing=0.03)
    for i, name in enumerate(names):
        m = maps[name]
        fig.add_scatter(x=m["x"], y=m["y"], mode="markers", row=1, col=i + 1, showlegend=False,
                        marker={"color": m["mean"], "cmin": 0, "cmax": top, "colorscale": "Viridis", "size": 5,
                                "showscale": i == len(names) - 1, "colorbar": {"title": "mean error"}},
                        hovertemplate="dx %{x:.2f}, dy %{y:.2f}: %{marker.color:.3f}<extra></extra>")
        fig.update_xaxes(range=[-radius, radius], row=1, col=i + 1)
        fig.update_yaxes(range=[-radius, radius], scaleanchor=f"x{i + 1 if i else ''}", row=1, col=i + 1)
    fig.update_layout(height=330, title="final error by anchor centre (offset from the target centre)")
    return fig


def residual_bars(groups: Mapping[str, Mapping[str, np.ndarray]], label: str) -> go.Figure:
    """Grouped bars: mean final error per group (e.g. anchor scale), one bar colour per loss.

    Args:
        groups: loss name -> ``{"key", "mean"}`` (e.g. ``boxsim.residuals(sim, loss, by="scale")``).
        label: the x axis title.

    Returns:
        A plotly ``Figure`` (log error axis).
    """
    fig = go.Figure()
    for i, (name, g) in enumerate(groups.items()):
        fig.add_bar(x=[f"{k:.3g}" for k in g["key"]], y=np.maximum(g["mean"], 1e-6), name=name,
                    marker_color=_colour(name, i))
    fig.update_layout(barmode="group", xaxis_title=label, yaxis_title="mean final error per case",
                      yaxis_type="log", height=330)
    return fig


def boxes_on_images(images: np.ndarray, truth: np.ndarray, predictions: Mapping[str, np.ndarray],
                    columns: int = 4) -> Any:
    """Draw the true box (green, thick) and each loss's predicted box on a few images (matplotlib).

    Args:
        images: (N, H, W, 3) in [0, 1].
        truth: true boxes (N, 4) normalised (x1, y1, x2, y2).
        predictions: loss name -> predicted boxes (N, 4) normalised.
        columns: images per row.

    Returns:
        A matplotlib ``Figure`` (not registered with pyplot: show it by returning it from a cell).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    n = len(images)
    rows = max(1, -(-n // columns))
    fig = Figure(figsize=(3 * columns, 3 * rows + 0.4))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k in range(n):
        ax = axes.ravel()[k]
        h, w = images[k].shape[:2]
        ax.imshow(np.clip(images[k], 0, 1))
        sets = [("truth", truth[k], 3.0)] + [(name, p[k], 1.5) for name, p in predictions.items()]
        for i, (name, b, lw) in enumerate(sets):
            ax.add_patch(Rectangle((b[0] * w, b[1] * h), (b[2] - b[0]) * w, (b[3] - b[1]) * h, fill=False,
                                   lw=lw, ec=_colour(name, i), label=name))
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
