"""DescentExplorer: hikers (optimizers) walking down a loss surface, with the controls to play with.

Wires ipywidgets controls to :mod:`lossviz.optimizers` (compute) and :mod:`lossviz.plots.descent`
(figure); no maths here. The figure always holds traces for all five optimizers (unselected ones
are hidden), so every update only sets data inside ``figure.batch_update()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.basedatatypes import Undefined  # restyle: leave this property of this trace as it is

from lossviz import surfaces
from lossviz.optimizers import KINDS, LABELS, Optimizer, Trajectory, trajectories
from lossviz.plots import descent as plots
from lossviz.widgets._style import widen_labels

# a learning rate that makes a good first picture on each analytic surface
DEFAULT_RATES = {"bowl": 0.1, "ravine": 0.03, "saddle": 0.05, "rosenbrock": 1e-3, "himmelblau": 0.01,
                 "mountain_range": 0.3}


class DescentExplorer:
    """Animate SGD, momentum, Nesterov, RMSprop and Adam walking down a loss surface.

    Controls (``.controls``): ``learning_rate`` (log slider), ``momentum``, ``steps``, ``optimizers``,
    ``start_x`` / ``start_y`` (a click on the contour map sets them too), ``play`` (an ipywidgets
    ``Play`` driving ``frame``), ``frame``, ``step``, ``reset`` and ``fog`` (reveal only what the hikers
    have seen). A learning rate that is too large shows the path leaving the map and "diverged".

    Example:
        >>> ex = DescentExplorer("rosenbrock", optimizers=("sgd", "adam"))
        >>> ex                                    # in JupyterLab: the controls and the figure
        >>> ex.controls["learning_rate"].value = 3e-3
        >>> ex.to_figure().write_html("descent.html")   # animation with no kernel

    Args:
        surface: a :class:`lossviz.surfaces.Surface` or an analytic surface's name.
        optimizers: the kinds shown at first (``sgd, momentum, nesterov, rmsprop, adam``).
        learning_rate: initial learning rate (default: a good one for the surface).
        momentum: initial momentum of SGD + momentum and Nesterov.
        steps: initial number of steps.
        start: initial start point (default: the surface's ``start``).
        fog: start with the fog on.
        radius: fog visibility radius, a fraction of the plotting range.
        n: grid points per axis of the drawn surface.
        height: figure height in pixels.
    """

    def __init__(self, surface: surfaces.Surface | str = "rosenbrock",
                 optimizers: Sequence[str] = ("sgd", "momentum", "adam"), learning_rate: float | None = None,
                 momentum: float = 0.9, steps: int = 150, start: Sequence[float] | None = None,
                 fog: bool = False, radius: float = 0.15, n: int = 80, height: int = 480) -> None:
        self.surface = surfaces.get(surface) if isinstance(surface, str) else surface
        unknown = sorted(set(optimizers) - set(KINDS))
        if unknown:
            raise ValueError(f"Invalid value for `optimizers`: expected kinds from {KINDS}; received {unknown}")
        rate = float(learning_rate or DEFAULT_RATES.get(self.surface.name, 0.01))
        (x0, x1), (y0, y1) = self.surface.x_range, self.surface.y_range
        sx, sy = self.surface.start if start is None else (float(start[0]), float(start[1]))
        self.radius = float(radius)
        self.grid = self.surface.grid(n)
        self.paths: list[Trajectory] = []
        self._holding = False
        self._drawn: set[str] = set(KINDS)
        self._sent_z: np.ndarray | None = None   # the surface's z as last sent (changes with the fog)
        log_rate = float(np.log10(rate))
        self.controls: dict[str, widgets.Widget] = {
            "learning_rate": widgets.FloatLogSlider(value=rate, base=10, min=min(-5.0, log_rate - 1),
                                                    max=max(1.0, log_rate + 1), step=0.05,
                                                    description="learning rate", readout_format=".2e"),
            "momentum": widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description="momentum"),
            "steps": widgets.IntSlider(value=int(steps), min=1, max=1000, description="steps"),
            "optimizers": widgets.SelectMultiple(options=[(LABELS[k], k) for k in KINDS], value=tuple(optimizers),
                                                 rows=5, description="optimizers"),
            "start_x": widgets.FloatSlider(value=sx, min=x0, max=x1, step=(x1 - x0) / 200,
                                           description=f"start {self.surface.labels[0]}"),
            "start_y": widgets.FloatSlider(value=sy, min=y0, max=y1, step=(y1 - y0) / 200,
                                           description=f"start {self.surface.labels[1]}"),
            "play": widgets.Play(value=int(steps), min=0, max=int(steps), interval=60, description="play"),
            "frame": widgets.IntSlider(value=int(steps), min=0, max=int(steps), description="step shown"),
            "step": widgets.Button(description="step ▸", tooltip="one step forward"),
            "reset": widgets.Button(description="reset", tooltip="back to the start"),
            "fog": widgets.Checkbox(value=bool(fog), description="fog (limited visibility)"),
        }
        widen_labels(self.controls)
        self.figure = go.FigureWidget(plots.descent_figure(self.surface, self._placeholders(), grid=self.grid,
                                                           height=height))
        self.figure.data[1].on_click(self._clicked)
        c = self.controls
        for name in ("learning_rate", "momentum", "steps", "optimizers", "start_x", "start_y"):
            c[name].observe(self._recompute, names="value")
        c["play"].observe(lambda change: setattr(c["frame"], "value", change["new"]), names="value")
        c["frame"].observe(self._redraw, names="value")
        c["fog"].observe(self._redraw, names="value")
        c["step"].on_click(lambda _: self.step())
        c["reset"].on_click(lambda _: self.reset())
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([c["learning_rate"], c["momentum"], c["steps"]]),
                          widgets.VBox([c["start_x"], c["start_y"], c["fog"]]), c["optimizers"]]),
            widgets.HBox([c["play"], c["step"], c["reset"], c["frame"]]),
            self.figure,
        ])
        self._recompute()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _placeholders(self) -> list[Trajectory]:
        start = np.array([[self.controls["start_x"].value, self.controls["start_y"].value]])
        value = self.surface.value(start)
        return [Trajectory(Optimizer(k), start, value, False, None) for k in KINDS]

    def optimizer_specs(self) -> list[Optimizer]:
        """The selected optimizers with the current learning rate and momentum."""
        c = self.controls
        return [Optimizer(k, learning_rate=float(c["learning_rate"].value), momentum=float(c["momentum"].value))
                for k in KINDS if k in c["optimizers"].value]

    def _recompute(self, change: Any = None) -> None:
        if self._holding:
            return
        c = self.controls
        start = (float(c["start_x"].value), float(c["start_y"].value))
        self.paths = trajectories(self.surface, start, self.optimizer_specs(), int(c["steps"].value))
        steps = int(c["steps"].value)
        with c["frame"].hold_trait_notifications():
            c["play"].max = c["frame"].max = steps
        if c["frame"].value != steps:
            c["play"].value = steps  # shows the whole path; the observer redraws
            c["frame"].value = steps
        else:
            self._redraw()

    def _redraw(self, change: Any = None) -> None:
        c = self.controls
        frame = int(c["frame"].value)
        by_kind = {t.optimizer.kind: t for t in self.paths}
        shown = [by_kind.get(k) or p for k, p in zip(KINDS, self._placeholders(), strict=True)]
        ups = plots.frame_updates(self.surface, self.grid, shown, frame, bool(c["fog"].value), self.radius)
        # one restyle for every trace, without plotly's per-property validation (the arrays come from our
        # own builders; validating 20 traces cost more than computing the paths). The surface (traces 0,
        # 1) only when the fog changed it: a new surface makes the browser rebuild the 3-D scene.
        # (An Undefined entry reaches plotly.js as null, which *removes* that property: only the z of the
        # 2-D traces, which have none, is ever left Undefined.)
        indexes, visible = [], []
        if self._sent_z is None or not np.array_equal(ups[0]["z"], self._sent_z, equal_nan=True):
            indexes, visible, self._sent_z = [0, 1], [True, True], ups[0]["z"]
        for j, kind in enumerate(KINDS):
            if kind in by_kind or kind in self._drawn:  # else: hidden before and now, nothing to update
                first = 2 + plots.TRACES_PER_PATH * j
                indexes += range(first, first + plots.TRACES_PER_PATH)
                visible += [kind in by_kind] * plots.TRACES_PER_PATH
        # contiguous copies: the widget sends 1-D arrays as raw buffers, which must be contiguous
        restyle = {key: [np.ascontiguousarray(ups[i][key]) if key in ups[i] else Undefined for i in indexes]
                   for key in ("x", "y", "z")}
        self.figure.plotly_update(restyle_data={**restyle, "visible": visible}, trace_indexes=indexes)
        with self.figure.batch_update():
            notes = plots.diverged_annotations(self.paths, frame)
            shown_notes = [a for a in self.figure.layout.annotations if a.name == "diverged"]
            if [(a.text, a.x, a.y) for a in shown_notes] != [(n["text"], n["x"], n["y"]) for n in notes]:
                # a layout change makes the browser redraw the 3-D scene: only when the labels change
                self.figure.layout.annotations = [a for a in self.figure.layout.annotations
                                                  if a.name != "diverged"]
                for note in notes:
                    self.figure.add_annotation(**note)
        self._drawn = set(by_kind)

    def _clicked(self, trace: Any, points: Any, selector: Any = None) -> None:
        if points is not None and len(points.xs):
            self.drop_hiker(points.xs[0], points.ys[0])

    def drop_hiker(self, x: float, y: float) -> None:
        """Move the start point to ``(x, y)`` (what a click on the contour map does) and recompute once."""
        self._holding = True
        try:
            self.controls["start_x"].value = float(x)
            self.controls["start_y"].value = float(y)
        finally:
            self._holding = False
        self._recompute()

    def step(self) -> None:
        """Show one more step (what the "step" button does)."""
        frame = self.controls["frame"]
        frame.value = min(frame.value + 1, frame.max)

    def reset(self) -> None:
        """Back to step 0: the hikers at the start point (what the "reset" button does)."""
        self.controls["play"].playing = False
        self.controls["play"].value = 0
        self.controls["frame"].value = 0

    def to_figure(self, frames: int = 40, n: int = 60) -> go.Figure:
        """A plain ``go.Figure`` of the current paths with plotly's own play button and slider (no kernel)."""
        return plots.to_figure(self.surface, self.paths, fog=bool(self.controls["fog"].value), radius=self.radius,
                               frames=frames, n=n)
