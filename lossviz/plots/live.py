"""Pure figure builders for training runs: live loss panels, overlaid histories, per-class results.

Data in (plain lists / dicts / arrays, e.g. ``LossRecorder.snapshot()``), ``plotly`` figure out; no
Keras, no widgets. ``lossviz.LiveLoss`` copies the traces of :func:`live_figure` into its FigureWidget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

TRAIN_COLOUR, VAL_COLOUR, BATCH_COLOUR = "#1f77b4", "#ff7f0e", "#9ecae1"
TRACES_PER_PANEL = 4
"""Each panel row holds 4 traces: batch own values, running mean, epoch train, epoch validation."""


def panel_names(snapshot: Mapping[str, Any], metrics: Sequence[str] | None = None) -> list[str]:
    """The rows of the live figure: ``"loss"`` first, then the metrics (without ``val_`` twins).

    Example:
        >>> panel_names({"epoch_values": {"loss": [1], "val_loss": [2], "accuracy": [.5]}, "running": {}})
        ['loss', 'accuracy']

    Args:
        snapshot: a ``LossRecorder.snapshot()``.
        metrics: the metric rows to show (``None``: every logged metric).

    Returns:
        The row names.
    """
    if metrics is not None:
        return ["loss", *[m for m in metrics if m != "loss"]]
    keys = list(snapshot.get("epoch_values", {})) + list(snapshot.get("running", {}))
    found = []
    for key in keys:
        base = key[4:] if key.startswith("val_") else key
        if base != "loss" and base not in found:
            found.append(base)
    return ["loss", *found]


def panel_titles(rows: Sequence[str], epoch_index: int) -> list[str]:
    """Subplot titles of :func:`live_figure`, two per row (batches of the current epoch, per epoch)."""
    titles = []
    for name in rows:
        left = f"{name}: batches of epoch {epoch_index + 1}" if epoch_index >= 0 else f"{name}: batches"
        titles += [left, f"{name}: mean per epoch"]
    return titles


def live_trace_data(snapshot: Mapping[str, Any], rows: Sequence[str]) -> list[tuple[list[float], list[float]]]:
    """The (x, y) of every trace of :func:`live_figure`, in trace order, without building a figure.

    Per row: the current epoch's own batch values, its running means, the training values per epoch
    and the validation values per epoch (batches and epochs numbered from 1).

    Example:
        >>> snap = {"epochs": [0], "epoch_values": {"loss": [0.5]}, "batch_values": {"loss": [0.7, 0.3]},
        ...         "running": {"loss": [0.7, 0.5]}, "epoch_index": 0}
        >>> live_trace_data(snap, ["loss"])[:3]
        [([1, 2], [0.7, 0.3]), ([1, 2], [0.7, 0.5]), ([1], [0.5])]

    Args:
        snapshot: a ``LossRecorder.snapshot()``.
        rows: the row names (see :func:`panel_names`).

    Returns:
        ``len(rows) * TRACES_PER_PANEL`` pairs of lists.
    """
    epochs = [e + 1 for e in snapshot.get("epochs", [])]
    out: list[tuple[list[float], list[float]]] = []
    for name in rows:
        own = list(snapshot.get("batch_values", {}).get(name, []))
        running = list(snapshot.get("running", {}).get(name, []))
        train = list(snapshot.get("epoch_values", {}).get(name, []))
        val = list(snapshot.get("epoch_values", {}).get(f"val_{name}", []))
        out += [(list(range(1, len(own) + 1)), own), (list(range(1, len(running) + 1)), running),
                (epochs[: len(train)], train), (epochs[: len(val)], val)]
    return out


def live_figure(
    snapshot: Mapping[str, Any], metrics: Sequence[str] | None = None, height: int | None = None
) -> go.Figure:
    """Two panels per row: this epoch's batches (own values and running mean), and every epoch's mean.

    Row 1 is the loss; further rows are metrics. The left panel shows the loss of each batch of the
    current epoch with the running mean Keras reports; the right panel the mean loss of each epoch,
    training and validation.

    Example:
        >>> fig = live_figure(recorder.snapshot())  # doctest: +SKIP

    Args:
        snapshot: ``{"epochs", "epoch_values", "batch_values", "running", "epoch_index"}`` as returned by
            ``LossRecorder.snapshot()``.
        metrics: metric rows to show (``None``: every logged metric).
        height: figure height in pixels (default 300 per row).

    Returns:
        A ``plotly.graph_objects.Figure`` with 4 traces per row (see :data:`TRACES_PER_PANEL`).
    """
    rows = panel_names(snapshot, metrics)
    epoch_index = int(snapshot.get("epoch_index", -1))
    fig = make_subplots(rows=len(rows), cols=2, subplot_titles=panel_titles(rows, epoch_index),
                        horizontal_spacing=0.1, vertical_spacing=0.25 / max(1, len(rows)))
    styles = (("batch", "lines+markers", {"color": BATCH_COLOUR, "width": 1}),
              ("running mean", "lines", {"color": TRAIN_COLOUR, "width": 2}),
              ("training", "lines+markers", {"color": TRAIN_COLOUR}),
              ("validation", "lines+markers", {"color": VAL_COLOUR}))
    data = live_trace_data(snapshot, rows)
    for i, (x, y) in enumerate(data):
        r, k = i // TRACES_PER_PANEL + 1, i % TRACES_PER_PANEL
        label, mode, line = styles[k]
        fig.add_trace(go.Scatter(x=x, y=y, mode=mode, name=label, legendgroup=label, showlegend=r == 1,
                                 line=line, marker={"size": 4}), row=r, col=1 if k < 2 else 2)
    for r in range(1, len(rows) + 1):
        fig.update_xaxes(title_text="batch", row=r, col=1)
        fig.update_xaxes(title_text="epoch", row=r, col=2)
    fig.update_layout(height=height or 300 * len(rows), margin={"t": 40, "b": 40, "l": 50, "r": 20},
                      legend={"orientation": "h", "y": -0.12 / len(rows)})
    return fig


def history_overlay(histories: Mapping[str, Mapping[str, Sequence[float]]], metric: str = "loss") -> go.Figure:
    """The per-epoch ``metric`` of several runs overlaid: solid training, dashed validation, a colour per run.

    Example:
        >>> fig = history_overlay({"ce": {"loss": [1.0, .5]}, "focal": {"loss": [.3, .2]}})
        >>> [t.name for t in fig.data]
        ['ce', 'focal']

    Args:
        histories: run name -> ``History.history`` dict.
        metric: the key to plot (its ``val_`` twin is added when present).

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    fig = go.Figure()
    palette = qualitative.Plotly
    for i, (name, history) in enumerate(histories.items()):
        colour = palette[i % len(palette)]
        for key, dash, label in ((metric, "solid", name), (f"val_{metric}", "dash", f"{name} (validation)")):
            values = history.get(key)
            if values is None:
                continue
            fig.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=list(values), mode="lines+markers",
                                     name=label, legendgroup=name, line={"color": colour, "dash": dash}))
    fig.update_layout(xaxis_title="epoch", yaxis_title=metric, title=f"{metric} per epoch, one run per loss",
                      height=380, margin={"t": 50, "b": 40})
    return fig


def per_class_bars(values: Mapping[str, Mapping[str, float]], title: str = "recall per class") -> go.Figure:
    """Grouped bars: one group per class, one bar per run (e.g. per-class recall of each loss).

    Example:
        >>> fig = per_class_bars({"ce": {"RBC": .9, "WBC": .1}, "weighted": {"RBC": .8, "WBC": .6}})
        >>> len(fig.data)
        2

    Args:
        values: run name -> {class name -> value}.
        title: the figure title (also the y axis label's first word).

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    fig = go.Figure()
    for name, per_class in values.items():
        fig.add_trace(go.Bar(x=list(per_class), y=list(per_class.values()), name=name))
    fig.update_layout(barmode="group", title=title, yaxis={"range": [0, 1]}, height=350, margin={"t": 50, "b": 40})
    return fig


def confusion_figure(matrices: Mapping[str, Any], class_names: Sequence[str]) -> go.Figure:
    """Confusion matrices side by side, coloured by row share (recall) and labelled with counts.

    Example:
        >>> fig = confusion_figure({"ce": [[5, 1], [2, 2]]}, ["a", "b"])
        >>> fig.data[0].z.tolist()
        [[0.8333333333333334, 0.16666666666666666], [0.5, 0.5]]

    Args:
        matrices: run name -> (C, C) counts, rows true class, columns predicted.
        class_names: the C names.

    Returns:
        A ``plotly.graph_objects.Figure`` with one heatmap per run.
    """
    names = list(class_names)
    fig = make_subplots(rows=1, cols=len(matrices), subplot_titles=list(matrices), horizontal_spacing=0.08)
    for c, matrix in enumerate(matrices.values(), start=1):
        counts = np.asarray(matrix, dtype=float)
        rows = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
        fig.add_trace(go.Heatmap(z=share, x=names, y=names, zmin=0, zmax=1, colorscale="Blues",
                                 text=counts.astype(int), texttemplate="%{text}", showscale=c == len(matrices)),
                      row=1, col=c)
        fig.update_xaxes(title_text="predicted", row=1, col=c)
        fig.update_yaxes(title_text="true" if c == 1 else None, autorange="reversed", row=1, col=c)
    fig.update_layout(height=330, width=max(420, 320 * len(matrices)), margin={"t": 50, "b": 40})
    return fig


def example_loss_figure(p: Sequence[float], curves: Mapping[str, Sequence[float]], p_mark: float | None = None,
                        title: str = "loss of one example") -> go.Figure:
    """Loss of one example against the probability given to its true class, one line per loss.

    Example:
        >>> fig = example_loss_figure([.1, .5, .9], {"CE": [2.3, .69, .1]}, p_mark=.5)
        >>> fig.data[0].name
        'CE'

    Args:
        p: probabilities of the true class (x axis).
        curves: loss name -> loss values at ``p``.
        p_mark: draw a vertical line at this probability (the example's own).
        title: figure title.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    fig = go.Figure()
    for name, values in curves.items():
        fig.add_trace(go.Scatter(x=list(p), y=list(np.asarray(values, dtype=float)), mode="lines", name=name))
    if p_mark is not None:
        fig.add_vline(x=float(p_mark), line_dash="dot", line_color="grey")
    fig.update_layout(title=title, xaxis_title="probability of the true class p", yaxis_title="loss",
                      height=350, margin={"t": 50, "b": 40})
    return fig
