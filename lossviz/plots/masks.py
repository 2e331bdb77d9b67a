"""Pure figure builders for lesson 04 (segmentation losses): images, true masks and each loss's predicted
mask side by side, score bars, and loss curves in panels. Data in (arrays / dicts), figure out; no Keras,
no widgets.

In a predicted-mask panel every pixel is coloured by what it is: white where foreground was found
(true positive), red where foreground was predicted on background (false positive, an extra pixel),
blue where foreground was missed (false negative), black for background correctly left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

ERROR_COLOURS = {"tp": (1.0, 1.0, 1.0), "fp": (0.9, 0.15, 0.15), "fn": (0.2, 0.45, 1.0), "tn": (0.0, 0.0, 0.0)}
"""RGB colours of the pixel kinds in a predicted-mask panel."""


def _plane(mask: Any) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim != 2:
        raise ValueError(f"Invalid mask: expected (H, W) or (H, W, 1); received shape {np.shape(mask)}")
    return m


def error_map(truth: Any, prediction: Any, threshold: float = 0.5) -> np.ndarray:
    """An RGB picture (H, W, 3) of one prediction against its mask, coloured by :data:`ERROR_COLOURS`.

    Example:
        >>> error_map([[1, 0]], [[0.9, 0.8]])[0, 1]          # a false positive: red
        array([0.9 , 0.15, 0.15])

    Args:
        truth: target mask (H, W[, 1]) of 0 and 1.
        prediction: predicted probabilities, same shape.
        threshold: the probability from which a pixel is predicted foreground.

    Returns:
        float array (H, W, 3) in [0, 1].
    """
    t, p = _plane(truth) >= 0.5, _plane(prediction) >= threshold
    if t.shape != p.shape:
        raise ValueError(f"Invalid masks: expected the same shape; received {t.shape} and {p.shape}")
    out = np.zeros((*t.shape, 3))
    for kind, where in (("tp", t & p), ("fp", ~t & p), ("fn", t & ~p)):
        out[where] = ERROR_COLOURS[kind]
    return out


def mask_grid(images: Any, truth: Any, predictions: Mapping[str, Any], threshold: float = 0.5,
              scores: Mapping[str, Sequence[float]] | None = None, panel_size: float = 1.8) -> Any:
    """One row per image: the image, its true mask, then each loss's thresholded prediction (matplotlib).

    Prediction panels use :func:`error_map` (white found, red extra, blue missed).

    Example:
        >>> mask_grid(x_test[:4], y_test[:4], {"dice": p_dice, "bce": p_bce})   # doctest: +SKIP

    Args:
        images: (N, H, W, 3) in [0, 1].
        truth: true masks (N, H, W[, 1]).
        predictions: loss name -> predicted probabilities (N, H, W[, 1]).
        threshold: the probability from which a pixel is predicted foreground.
        scores: optional loss name -> per-image scores (e.g. Dice) shown above each panel.
        panel_size: inches per panel.

    Returns:
        A matplotlib ``Figure`` with N x (2 + len(predictions)) axes (not registered with pyplot: show
        it by returning it from a cell).
    """
    from matplotlib.figure import Figure

    x, y = np.asarray(images), np.asarray(truth)
    n, names = len(x), list(predictions)
    if len(y) != n or any(len(np.asarray(p)) != n for p in predictions.values()):
        raise ValueError(f"Invalid inputs: expected {n} masks and {n} predictions per loss, like the images")
    columns = 2 + len(names)
    fig = Figure(figsize=(panel_size * columns, panel_size * n + 0.5), layout="constrained")
    axes = fig.subplots(n, columns, squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(np.clip(x[i], 0, 1))
        axes[i, 1].imshow(_plane(y[i]), cmap="gray", vmin=0, vmax=1)
        for j, name in enumerate(names):
            axes[i, 2 + j].imshow(error_map(y[i], np.asarray(predictions[name])[i], threshold))
            if scores is not None and name in scores:
                axes[i, 2 + j].set_title(f"{float(scores[name][i]):.2f}", fontsize=8)
    for ax, title in zip(axes[0], ["image", "true mask", *names], strict=True):
        ax.set_title(title if scores is None or title not in scores else f"{title}\n{ax.get_title()}", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("white: found   red: extra (false positive)   blue: missed (false negative)", fontsize=9)
    return fig


def _colour(i: int) -> str:
    return qualitative.Plotly[i % len(qualitative.Plotly)]


def score_bars(scores: Mapping[str, Mapping[str, float]], keys: Sequence[str] = ("dice", "iou"),
               title: str = "test scores") -> go.Figure:
    """Grouped bars of a few scores per loss: one group per score, one bar colour per loss (plotly).

    Example:
        >>> score_bars({"dice": {"dice": 0.8, "iou": 0.7}, "bce": {"dice": 0.6, "iou": 0.5}})  # doctest: +SKIP

    Args:
        scores: loss name -> {score name: value} (e.g. ``segmetrics.segmentation_scores``).
        keys: the score names to show, in order.
        title: the figure title.

    Returns:
        A plotly ``Figure`` with one bar trace per loss.
    """
    fig = go.Figure()
    for i, (name, values) in enumerate(scores.items()):
        missing = [k for k in keys if k not in values]
        if missing:
            raise ValueError(f"Invalid scores for {name!r}: expected the keys {list(keys)}; missing {missing}")
        fig.add_bar(x=list(keys), y=[float(values[k]) for k in keys], name=name, marker_color=_colour(i),
                    hovertemplate=f"{name}<br>%{{x}}: %{{y:.3f}}<extra></extra>")
    fig.update_layout(barmode="group", yaxis_range=[0, 1], title=title, height=360)
    return fig


def curve_panels(panels: Mapping[str, Mapping[str, tuple[Any, Any]]], x_title: str, y_title: str = "loss",
                 height: int = 340) -> go.Figure:
    """Side-by-side panels of curves, one line per label, the same label in the same colour everywhere.

    Example:
        >>> curve_panels({"nucleus": {"dice": (s, v1)}, "cell": {"dice": (s, v2)}}, "erosion")  # doctest: +SKIP

    Args:
        panels: panel title -> {line label: (x values, y values)}.
        x_title: the x axes' title.
        y_title: the first y axis' title.
        height: figure height in pixels.

    Returns:
        A plotly ``Figure`` with ``len(panels)`` subplots (y axes shared).
    """
    if not panels:
        raise ValueError("Invalid value for `panels`: expected at least one panel; received none")
    titles = list(panels)
    labels = list(dict.fromkeys(label for lines in panels.values() for label in lines))
    fig = make_subplots(1, len(titles), subplot_titles=titles, shared_yaxes=True, horizontal_spacing=0.04)
    for col, title in enumerate(titles, start=1):
        for label, (xs, ys) in panels[title].items():
            i = labels.index(label)
            fig.add_scatter(x=np.asarray(xs, float), y=np.asarray(ys, float), name=label, mode="lines",
                            line={"color": _colour(i)}, legendgroup=label, showlegend=col == 1, row=1, col=col)
        fig.update_xaxes(title_text=x_title, row=1, col=col)
    fig.update_yaxes(title_text=y_title, row=1, col=1)
    fig.update_layout(height=height)
    return fig
