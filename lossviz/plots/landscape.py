"""Pure figure builders for loss landscapes: contours, 3-D surfaces, 1-D cuts, projected paths.

Data in, ``plotly`` figure out; no Keras. A *plane* is anything with ``alphas`` (n_a,), ``betas``
(n_b,) and ``losses`` (n_b, n_a) (rows are ``betas``), e.g. ``lossviz.landscape.Slice2D``, a
``types.SimpleNamespace`` or a dict with those keys. A *path* is an (T, 2) array of plane
coordinates, e.g. ``project_trajectory(...).coords``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

COLORSCALE = "Viridis"
PATH_COLOUR = "#d62728"


def plane_arrays(plane: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read ``(alphas, betas, losses)`` from a plane (attributes or mapping keys) and check the shapes.

    Example:
        >>> a, b, z = plane_arrays({"alphas": [0, 1], "betas": [0, 1, 2], "losses": np.zeros((3, 2))})

    Args:
        plane: an object or mapping with ``alphas``, ``betas`` and ``losses``.

    Returns:
        Three float arrays; ``losses`` has shape ``(len(betas), len(alphas))``.
    """
    get = plane.get if isinstance(plane, Mapping) else lambda k: getattr(plane, k)
    alphas, betas = np.asarray(get("alphas"), float).ravel(), np.asarray(get("betas"), float).ravel()
    losses = np.asarray(get("losses"), float)
    if losses.shape != (betas.size, alphas.size):
        raise ValueError(f"Invalid value for `plane.losses`: expected shape (len(betas), len(alphas)) = "
                         f"{(betas.size, alphas.size)}; received {losses.shape}")
    return alphas, betas, losses


def _z(losses: np.ndarray, log: bool) -> np.ndarray:
    return np.log10(np.maximum(losses, 1e-12)) if log else losses


def _zlabel(log: bool, label: str = "loss") -> str:
    return f"log10 {label}" if log else label


def _colorbar(log: bool, label: str, x: float | None = None) -> dict[str, Any]:
    bar: dict[str, Any] = {"title": {"text": _zlabel(log, label)}, "thickness": 14}
    if x is not None:
        bar.update(x=x, len=0.85)
    return bar


def shared_range(planes: Sequence[Any], log: bool = False) -> tuple[float, float]:
    """The smallest and largest value over several planes (for one colour scale across panels).

    Example:
        >>> shared_range([plane_ce, plane_mse], log=True)   # doctest: +SKIP

    Args:
        planes: planes as accepted by :func:`plane_arrays`.
        log: use ``log10`` of the losses.

    Returns:
        ``(zmin, zmax)`` over all finite values.
    """
    values = np.concatenate([_z(plane_arrays(p)[2], log).ravel() for p in planes])
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("Invalid value for `planes`: expected at least one finite loss value")
    return float(values.min()), float(values.max())


def _path_traces(path: Any, name: str = "optimizer path") -> list[go.Scatter]:
    coords = np.asarray(path, float).reshape(-1, 2)
    return [
        go.Scatter(x=coords[:, 0], y=coords[:, 1], mode="lines+markers", name=name, showlegend=False,
                   line={"color": PATH_COLOUR, "width": 2}, marker={"size": 5, "color": PATH_COLOUR}),
        go.Scatter(x=coords[:1, 0], y=coords[:1, 1], mode="markers+text", text=["start"], textposition="top center",
                   marker={"size": 9, "color": "white", "line": {"color": PATH_COLOUR, "width": 2}},
                   showlegend=False, name="start"),
    ]


def _contour(plane: Any, log: bool, zrange: tuple[float, float] | None, levels: int, label: str = "loss",
             bar_x: float | None = None, **kwargs: Any) -> go.Contour:
    alphas, betas, losses = plane_arrays(plane)
    z = _z(losses, log)
    lo, hi = zrange if zrange is not None else (float(np.nanmin(z)), float(np.nanmax(z)))
    size = (hi - lo) / max(levels, 1) or 1.0
    return go.Contour(x=alphas, y=betas, z=z, zmin=lo, zmax=hi, autocontour=False,
                      contours={"start": lo, "end": hi, "size": size}, colorscale=COLORSCALE,
                      colorbar=_colorbar(log, label, bar_x), **kwargs)


def contour_figure(plane: Any, *, path: Any | None = None, log: bool = False,
                   zrange: tuple[float, float] | None = None, levels: int = 25, title: str | None = None,
                   axis_titles: tuple[str, str] = ("α (direction 1)", "β (direction 2)"),
                   label: str = "loss") -> go.Figure:
    """Filled contour plot of a 2-D slice, with the centre marked and an optional optimizer path.

    Example:
        >>> contour_figure(plane, path=trajectory.coords, log=True)   # doctest: +SKIP

    Args:
        plane: a plane (see :func:`plane_arrays`).
        path: (T, 2) coordinates of a trajectory to draw on top, or ``None``.
        log: colour by ``log10(loss)``.
        zrange: colour range ``(zmin, zmax)`` in plotted units; ``None``: this plane's own range.
        levels: number of contour levels.
        title: figure title.
        axis_titles: titles of the x and y axes.
        label: what the values are (colour bar title).

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    fig = go.Figure(_contour(plane, log, zrange, levels, label, name=label))
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name="trained weights", showlegend=False,
                             marker={"symbol": "x", "size": 10, "color": "white"}))
    for trace in _path_traces(path) if path is not None else []:
        fig.add_trace(trace)
    fig.update_layout(title=title, xaxis_title=axis_titles[0], yaxis_title=axis_titles[1],
                      width=520, height=460, margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return fig


def contour_grid(planes: Mapping[str, Any], *, paths: Mapping[str, Any] | None = None, log: bool = False,
                 shared_scale: bool = True, levels: int = 25, title: str | None = None,
                 label: str = "loss") -> go.Figure:
    """Contour plots of several planes side by side, on one colour scale if ``shared_scale``.

    Example:
        >>> contour_grid({"cross-entropy": plane_ce, "MSE": plane_mse}, log=True)   # doctest: +SKIP

    Args:
        planes: panel title -> plane.
        paths: panel title -> (T, 2) path coordinates (optional per panel).
        log: colour by ``log10(loss)``.
        shared_scale: same colour range and levels in every panel (one colour bar); otherwise each
            panel has its own range and colour bar.
        levels: number of contour levels.
        title: figure title.
        label: what the values are (colour bar title).

    Returns:
        A ``plotly.graph_objects.Figure`` with one column per plane.
    """
    if not planes:
        raise ValueError("Invalid value for `planes`: expected at least one plane")
    names = list(planes)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names,
                        horizontal_spacing=0.08 if shared_scale else 0.14)
    zrange = shared_range(list(planes.values()), log) if shared_scale else None
    for col, name in enumerate(names, start=1):
        bar_x = None if shared_scale else fig.layout[f"xaxis{col if col > 1 else ''}"].domain[1] + 0.01
        trace = _contour(planes[name], log, zrange, levels, label, bar_x, name=name,
                         showscale=(not shared_scale or col == 1))
        fig.add_trace(trace, row=1, col=col)
        for extra in _path_traces(paths[name]) if paths and name in paths else []:
            fig.add_trace(extra, row=1, col=col)
        fig.update_xaxes(title_text="α", row=1, col=col)
    fig.update_yaxes(title_text="β", row=1, col=1)
    fig.update_layout(title=title, width=440 * len(names), height=430, margin={"l": 50, "r": 20, "t": 70, "b": 50})
    return fig


def surface_figure(planes: Any | Mapping[str, Any], *, log: bool = False, shared_scale: bool = True,
                   title: str | None = None, label: str = "loss") -> go.Figure:
    """3-D surface plot of one plane, or of several side by side (``{title: plane}``).

    Example:
        >>> surface_figure({"cross-entropy": plane_ce, "MSE": plane_mse})   # doctest: +SKIP

    Args:
        planes: a plane, or a mapping panel title -> plane.
        log: height is ``log10(loss)``.
        shared_scale: one colour range (and z range) for all panels; otherwise one colour bar per panel.
        title: figure title.
        label: what the values are (colour bar and z axis title).

    Returns:
        A ``plotly.graph_objects.Figure`` with one 3-D scene per plane.
    """
    named = dict(planes) if isinstance(planes, Mapping) and "losses" not in planes else {"": planes}
    zrange = shared_range(list(named.values()), log) if shared_scale else None
    fig = make_subplots(rows=1, cols=len(named), specs=[[{"type": "scene"}] * len(named)],
                        subplot_titles=[n for n in named] if len(named) > 1 else None)
    for col, (_, plane) in enumerate(named.items(), start=1):
        alphas, betas, losses = plane_arrays(plane)
        lo, hi = zrange if zrange else (None, None)
        key = f"scene{col if col > 1 else ''}"
        bar_x = None if shared_scale or len(named) == 1 else fig.layout[key].domain.x[1] - 0.02
        fig.add_trace(go.Surface(x=alphas, y=betas, z=_z(losses, log), colorscale=COLORSCALE, cmin=lo, cmax=hi,
                                 showscale=(not shared_scale or col == 1), colorbar=_colorbar(log, label, bar_x)),
                      row=1, col=col)
        scene = {"xaxis_title": "α", "yaxis_title": "β", "zaxis_title": _zlabel(log, label)}
        if zrange:
            scene["zaxis"] = {"range": list(zrange)}
        fig.update_layout({key: scene})
    fig.update_layout(title=title, width=480 * len(named), height=460, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def line_figure(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, log: bool = False,
                xaxis_title: str = "α", title: str | None = None, marks: Sequence[float] = (0.0,)) -> go.Figure:
    """1-D cuts or interpolations as lines, one per name.

    Example:
        >>> line_figure({"cross-entropy": (cut.alphas, cut.losses)}, marks=(0, 1))   # doctest: +SKIP

    Args:
        curves: name -> ``(positions, losses)``.
        log: logarithmic loss axis.
        xaxis_title: title of the x axis.
        title: figure title.
        marks: x positions to mark with a dotted vertical line (e.g. the two solutions at 0 and 1).

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    fig = go.Figure()
    for i, (name, (xs, ys)) in enumerate(curves.items()):
        xs, ys = np.asarray(xs, float), np.asarray(ys, float)
        if xs.shape != ys.shape:
            raise ValueError(f"Invalid value for `curves[{name!r}]`: expected positions and losses of the same "
                             f"shape; received {xs.shape} and {ys.shape}")
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=name,
                                 line={"color": qualitative.Plotly[i % len(qualitative.Plotly)]}))
    for x in marks:
        fig.add_vline(x=x, line={"dash": "dot", "color": "grey"})
    fig.update_layout(title=title, xaxis_title=xaxis_title, yaxis_title="loss", width=620, height=400,
                      yaxis_type="log" if log else "linear", margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return fig
