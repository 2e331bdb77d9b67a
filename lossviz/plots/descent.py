"""Pure figure builders for the descent picture: 3-D terrain and contour map side by side, hikers.

Data in (a :class:`lossviz.surfaces.Surface`, its grid and :class:`lossviz.optimizers.Trajectory`
objects), ``plotly`` figure out. Each optimizer has one colour; its hiker is a marker, its trail a
line. With ``fog`` only the neighbourhood of the points already visited is drawn (limited
visibility). A diverged path is drawn up to the first point off the big box and labelled.

Trace order (used by the widget to update in place): ``0`` terrain (3-D surface), ``1`` contour map,
then per trajectory ``trail 3-D, hiker 3-D, trail 2-D, hiker 2-D``, and last the minima markers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLOURS = {"sgd": "#1f77b4", "momentum": "#ff7f0e", "nesterov": "#2ca02c", "rmsprop": "#9467bd",
           "adam": "#d62728"}
COLORSCALE = "Earth"
TRACES_PER_PATH = 4



_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SYMBOLS = {r"\tfrac12": "½", r"\,": " ", r"\sum_k": "Σₖ", r"\exp": "exp", r"\cdot": "·", "-": "−"}


def plain_formula(latex: str) -> str:
    r"""A surface's LaTeX formula as plain text for a figure title (no MathJax in a plotly widget).

    Example:
        >>> plain_formula(r"(1 - x)^2 + 100\,(y - x^2)^2")
        '(1 − x)² + 100 (y − x²)²'
    """
    text = latex
    for old, new in _SYMBOLS.items():
        text = text.replace(old, new)
    return re.sub(r"\^(\d+)", lambda m: m.group(1).translate(_SUPERSCRIPTS), text)


def display_z(surface: Any, values: Any) -> np.ndarray:
    """Heights as drawn: ``log10(1 + L)`` for surfaces with ``log_display``, else ``L``."""
    v = np.asarray(values, float)
    return np.log10(1.0 + np.maximum(v, 0.0)) if surface.log_display else v


def fog_mask(xs: np.ndarray, ys: np.ndarray, points: Any, radius: float = 0.15) -> np.ndarray:
    """Which grid cells the hikers have seen: within ``radius`` (a fraction of each axis's range) of a point.

    Example:
        >>> fog_mask(np.linspace(0, 1, 5), np.linspace(0, 1, 5), [[0.0, 0.0]], radius=0.3)[0, :3]
        array([ True,  True, False])

    Args:
        xs, ys: grid axes, shapes ``(n,)`` and ``(m,)``.
        points: visited points ``(K, 2)`` (non-finite rows are ignored).
        radius: visibility radius as a fraction of the plotting range.

    Returns:
        Boolean ``(m, n)`` mask, ``True`` where the surface is revealed.
    """
    p = np.asarray(points, float).reshape(-1, 2)
    p = p[np.all(np.isfinite(p), axis=1)]
    mask = np.zeros((len(ys), len(xs)), bool)
    if len(p) == 0:
        return mask
    dx, dy = (xs[-1] - xs[0]) / (len(xs) - 1), (ys[-1] - ys[0]) / (len(ys) - 1)
    ri, rj = radius * (ys[-1] - ys[0]) / dy, radius * (xs[-1] - xs[0]) / dx
    cells = np.unique(np.round(np.stack([(p[:, 1] - ys[0]) / dy, (p[:, 0] - xs[0]) / dx], 1)).astype(int), axis=0)
    di, dj = np.mgrid[-int(ri) - 1: int(ri) + 2, -int(rj) - 1: int(rj) + 2]
    disc = (di / max(ri, 1e-9)) ** 2 + (dj / max(rj, 1e-9)) ** 2 <= 1.0
    off = np.stack([di[disc], dj[disc]], 1)
    hit = (cells[:, None, :] + off[None]).reshape(-1, 2)
    hit = hit[(hit[:, 0] >= 0) & (hit[:, 0] < len(ys)) & (hit[:, 1] >= 0) & (hit[:, 1] < len(xs))]
    mask[hit[:, 0], hit[:, 1]] = True
    return mask


def _zrange(zd: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.nanmin(zd)), float(np.nanmax(zd))
    return lo - 0.05 * (hi - lo), hi


def _shown(trajectory: Any, frame: int | None) -> int:
    last = len(trajectory.path) - 1
    return last if frame is None else max(0, min(int(frame), last))


def frame_updates(surface: Any, grid: tuple[np.ndarray, np.ndarray, np.ndarray], trajectories: Sequence[Any],
                  frame: int | None = None, fog: bool = False, radius: float = 0.15) -> list[dict[str, Any]]:
    """The data of every trace at one animation frame (hikers after ``frame`` steps; ``None``: the end).

    Example:
        >>> ups = frame_updates(s, s.grid(60), paths, frame=10)   # one dict per trace, in trace order

    Args:
        surface: the :class:`lossviz.surfaces.Surface` (for ``log_display``).
        grid: ``(xs, ys, z)`` from ``surface.grid(n)``.
        trajectories: :class:`lossviz.optimizers.Trajectory` objects.
        frame: step to show (clipped to each path's length).
        fog: hide the surface outside ``radius`` of the points visited so far.
        radius: visibility radius, a fraction of the plotting range.

    Returns:
        A list of dicts (``x``, ``y``, ``z``, ...), one per trace, in the figure's trace order.
    """
    xs, ys, z = grid
    zd = display_z(surface, z)
    zlo, zhi = _zrange(zd)
    if fog:
        seen = [t.path[: _shown(t, frame) + 1] for t in trajectories]
        mask = fog_mask(xs, ys, np.concatenate(seen) if seen else np.empty((0, 2)), radius)
        zd = np.where(mask, zd, np.nan)
    out: list[dict[str, Any]] = [{"x": xs, "y": ys, "z": zd}, {"x": xs, "y": ys, "z": zd}]
    for t in trajectories:
        k = _shown(t, frame)
        path, h = t.path[: k + 1], np.clip(display_z(surface, t.losses[: k + 1]), zlo, zhi)
        out += [{"x": path[:, 0], "y": path[:, 1], "z": h},
                {"x": path[-1:, 0], "y": path[-1:, 1], "z": h[-1:]},
                {"x": path[:, 0], "y": path[:, 1]},
                {"x": path[-1:, 0], "y": path[-1:, 1]}]
    return out


def diverged_annotations(trajectories: Sequence[Any], frame: int | None = None) -> list[dict[str, Any]]:
    """One "diverged" label per path that has diverged by ``frame`` (placed over the contour map)."""
    notes = []
    for t in trajectories:
        if t.diverged and _shown(t, frame) == len(t.path) - 1:
            notes.append({"text": f"{t.optimizer.label} diverged at step {t.diverged_at}", "showarrow": False,
                          "xref": "paper", "yref": "paper", "x": 0.99, "y": 0.98 - 0.07 * len(notes),
                          "xanchor": "right", "font": {"color": COLOURS.get(t.optimizer.kind, "black")},
                          "bgcolor": "rgba(255,255,255,0.8)", "name": "diverged"})
    return notes


def descent_figure(surface: Any, trajectories: Sequence[Any], frame: int | None = None, fog: bool = False,
                   radius: float = 0.15, n: int = 80, grid: Any = None, height: int = 480) -> go.Figure:
    """3-D terrain and contour map side by side with every optimizer's hiker and trail.

    Example:
        >>> from lossviz import surfaces, optimizers
        >>> s = surfaces.rosenbrock()
        >>> fig = descent_figure(s, optimizers.trajectories(s, s.start, steps=200, learning_rate=1e-3))

    Args:
        surface: a :class:`lossviz.surfaces.Surface`.
        trajectories: :class:`lossviz.optimizers.Trajectory` objects (one colour per optimizer kind).
        frame: step shown (``None``: each path's end).
        fog: reveal only the neighbourhood the hikers have seen.
        radius: fog visibility radius, a fraction of the plotting range.
        n: grid size per axis (ignored when ``grid`` is given).
        grid: a precomputed ``surface.grid(n)``.
        height: figure height in pixels.

    Returns:
        A ``plotly.graph_objects.Figure`` (trace order in the module docstring).
    """
    grid = surface.grid(n) if grid is None else grid
    ups = frame_updates(surface, grid, trajectories, frame, fog, radius)
    zlabel = "log10(1 + loss)" if surface.log_display else "loss"
    full = display_z(surface, grid[2])
    lo, hi = float(np.nanmin(full)), float(np.nanmax(full))  # fixed colours and levels, whatever the fog hides
    fig = make_subplots(rows=1, cols=2, specs=[[{"type": "scene"}, {"type": "xy"}]],
                        subplot_titles=("terrain", "map (click to drop the hiker)"), horizontal_spacing=0.06)
    fig.add_trace(go.Surface(**ups[0], colorscale=COLORSCALE, showscale=False, opacity=0.9, name="loss",
                             cmin=lo, cmax=hi,
                             hovertemplate="%{x:.3g}, %{y:.3g}: %{z:.4g}<extra></extra>"), 1, 1)
    fig.add_trace(go.Contour(**ups[1], colorscale=COLORSCALE, name="loss", zmin=lo, zmax=hi, autocontour=False,
                             contours={"start": lo, "end": hi, "size": (hi - lo) / 30 or 1.0},
                             colorbar={"title": {"text": zlabel}, "thickness": 12},
                             hovertemplate="%{x:.3g}, %{y:.3g}: %{z:.4g}<extra></extra>"), 1, 2)
    for i, t in enumerate(trajectories):
        colour, label = COLOURS.get(t.optimizer.kind, "black"), t.optimizer.label
        trail3, hiker3, trail2, hiker2 = ups[2 + TRACES_PER_PATH * i: 2 + TRACES_PER_PATH * (i + 1)]
        fig.add_trace(go.Scatter3d(**trail3, mode="lines", line={"color": colour, "width": 5}, name=label,
                                   legendgroup=label, showlegend=False), 1, 1)
        fig.add_trace(go.Scatter3d(**hiker3, mode="markers", marker={"color": colour, "size": 6,
                                   "line": {"color": "white", "width": 1}}, name=label, legendgroup=label,
                                   showlegend=False), 1, 1)
        fig.add_trace(go.Scatter(**trail2, mode="lines+markers", line={"color": colour, "width": 2},
                                 marker={"size": 3}, name=label, legendgroup=label), 1, 2)
        fig.add_trace(go.Scatter(**hiker2, mode="markers", marker={"color": colour, "size": 12, "symbol": "circle",
                                 "line": {"color": "white", "width": 2}}, name=f"{label} (hiker)",
                                 legendgroup=label, showlegend=False), 1, 2)
    minima = np.asarray(surface.minima, float).reshape(-1, 2)
    fig.add_trace(go.Scatter(x=minima[:, 0], y=minima[:, 1], mode="markers", name="minimum",
                             marker={"symbol": "x", "color": "white", "size": 9,
                                     "line": {"color": "black", "width": 1}}), 1, 2)
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    zlo, zhi = _zrange(full)
    fig.update_xaxes(range=[x0, x1], title_text=surface.labels[0], row=1, col=2)
    fig.update_yaxes(range=[y0, y1], title_text=surface.labels[1], row=1, col=2)
    fig.update_scenes(xaxis={"range": [x0, x1], "title": surface.labels[0]},
                      yaxis={"range": [y0, y1], "title": surface.labels[1]},
                      zaxis={"range": [zlo, zhi], "title": zlabel},
                      aspectmode="cube", camera={"eye": {"x": -1.4, "y": -1.6, "z": 1.1}})
    for note in diverged_annotations(trajectories, frame):
        fig.add_annotation(**note)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      title={"text": f"{surface.name}: {plain_formula(surface.formula)}", "x": 0.01},
                      legend={"orientation": "h", "y": -0.08}, uirevision="descent")
    return fig


def to_figure(surface: Any, trajectories: Sequence[Any], fog: bool = False, radius: float = 0.15,
              frames: int = 40, n: int = 60, height: int = 520, duration: int = 120) -> go.Figure:
    """A self-contained animation: the descent figure with plotly's own play button and step slider.

    Works with no kernel (exported HTML, a rendered notebook).

    Example:
        >>> to_figure(s, paths, fog=True).write_html("descent.html")

    Args:
        surface, trajectories, fog, radius: as in :func:`descent_figure`.
        frames: at most this many animation frames (evenly spaced steps, the last one included).
        n: grid size per axis (smaller keeps fogged animations light).
        height: figure height in pixels.
        duration: milliseconds per frame.

    Returns:
        A ``plotly.graph_objects.Figure`` with ``frames``, a play/pause menu and a slider.
    """
    grid = surface.grid(n)
    longest = max([len(t.path) - 1 for t in trajectories], default=0)
    steps = np.unique(np.linspace(0, longest, max(2, int(frames))).round().astype(int))
    fig = descent_figure(surface, trajectories, frame=0, fog=fog, radius=radius, grid=grid, height=height)
    moving = list(range(0 if fog else 2, len(fig.data) - 1))
    animation = []
    for k in steps:
        ups = frame_updates(surface, grid, trajectories, int(k), fog, radius)
        data = [{**ups[i], "type": fig.data[i].type} for i in moving]
        animation.append(go.Frame(name=str(k), traces=moving, data=data,
                                  layout={"annotations": diverged_annotations(trajectories, int(k))}))
    fig.frames = animation
    play = {"label": "▶ play", "method": "animate",
            "args": [None, {"frame": {"duration": duration, "redraw": True}, "fromcurrent": True,
                            "transition": {"duration": 0}}]}
    pause = {"label": "❚❚ pause", "method": "animate",
             "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]}
    fig.update_layout(
        updatemenus=[{"type": "buttons", "buttons": [play, pause], "x": 0.0, "y": -0.02, "xanchor": "left",
                      "yanchor": "top", "direction": "left"}],
        sliders=[{"active": 0, "x": 0.15, "len": 0.85, "y": -0.02, "currentvalue": {"prefix": "step "},
                  "steps": [{"label": str(k), "method": "animate",
                             "args": [[str(k)], {"frame": {"duration": 0, "redraw": True},
                                                 "mode": "immediate"}]} for k in steps]}],
        legend={"orientation": "h", "y": 1.1, "x": 1.0, "xanchor": "right", "yanchor": "bottom"},
        margin={"t": 100})
    return fig
