"""``LossComparer``: perturb a prediction with a slider and watch every chosen loss respond.

Compute is :func:`lossviz.perturbations.responses`'s job (all strengths of a family at once, one call
per loss); drawing is :mod:`lossviz.plots.comparer`'s. A strength change only moves the markers and the
picture (the curves are precomputed); a family or loss-set change recomputes the curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go

from lossviz import perturbations
from lossviz.plots.comparer import comparer_figure, marker_data, n_curve_traces, picture_data, static_figure
from lossviz.widgets._style import widen_labels

_DEFAULT_LOSSES = {
    "image": ("mse", "mae", "ssim", "ms_ssim"),
    "classification": ("categorical_crossentropy", "mse"),
    "segmentation": ("binary_crossentropy", "dice", "jaccard", "mse"),
    "boxes": ("iou", "giou", "diou", "ciou"),
}


class LossComparer:
    """Compare how losses respond to a perturbed prediction: value and gradient size vs strength.

    Example:
        >>> cmp = LossComparer("image", patch, losses=["mse", "mae", "ssim"], family="noise")
        >>> cmp                                            # shows controls and figure  # doctest: +SKIP
        >>> cmp.controls["strength"].value = 0.2           # moves the markers and the picture
        >>> cmp.to_figure(strengths=[0, 0.1, 0.2])         # a static figure with a slider

    Args:
        task: ``"image"`` (alias ``"regression"``), ``"classification"``, ``"segmentation"`` or ``"boxes"``.
        target: the ground truth (image (H, W[, C]); class probabilities (K,); mask (H, W[, 1]); box (4,)).
        losses: catalogue names (or ``(name, options)``, Keras losses, callables), or label -> spec;
            default: a few losses suited to the task. Every catalogue loss of the task can be picked.
        family: the perturbation family (default: the task's first).
        strengths: grid points per family.
        logits: classification only: gradients with respect to the logits (see ``responses``).
        normalised: start with curves rescaled to [0, 1].
        seed: seed of the random families.
        height: figure height in pixels.

    Attributes:
        controls: ``{"family": Dropdown, "strength": FloatSlider, "losses": SelectMultiple,
            "scale": ToggleButtons}``.
        figure: the ``plotly.graph_objects.FigureWidget``.
        responses: the current :class:`lossviz.perturbations.Responses`.
        widget: the whole view.
    """

    def __init__(
        self,
        task: str,
        target: Any,
        losses: Sequence[Any] | Mapping[str, Any] | None = None,
        family: str | None = None,
        strengths: int = 64,
        logits: bool = False,
        normalised: bool = False,
        seed: int = 0,
        height: int = 400,
    ) -> None:
        self.task = perturbations.task_name(task)
        self.target = np.asarray(target, dtype=np.float32)
        chosen = _DEFAULT_LOSSES[self.task] if losses is None else losses
        given = perturbations.loss_labels(chosen)
        self._specs = {**given, **{n: n for n in perturbations.task_losses(self.task) if n not in given}}
        names = [f.name for f in perturbations.families(self.task)]
        family = names[0] if family is None else perturbations.family(self.task, family).name
        self.count, self.logits, self.seed, self.height = int(strengths), bool(logits), int(seed), int(height)
        self._cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._functions: dict[str, Any] = {}     # label -> compiled response function (traced once)
        self.controls: dict[str, widgets.Widget] = {
            "family": widgets.Dropdown(options=names, value=family, description="perturbation"),
            "strength": widgets.FloatSlider(description="strength", continuous_update=True, readout_format=".3g"),
            "losses": widgets.SelectMultiple(options=list(self._specs), value=tuple(given), rows=6,
                                             description="losses"),
            "scale": widgets.ToggleButtons(options=["raw", "normalised"],
                                           value="normalised" if normalised else "raw"),
        }
        self.responses = self._compute()
        self._set_slider()
        self.figure = go.FigureWidget(comparer_figure(self.responses, self.index, self.normalised, self.height))
        widen_labels(self.controls)
        self.controls["family"].observe(self._on_family, names="value")
        self.controls["losses"].observe(self._on_losses, names="value")
        self.controls["strength"].observe(self._on_strength, names="value")
        self.controls["scale"].observe(self._on_scale, names="value")
        c = self.controls
        self.widget = widgets.VBox([widgets.HBox([widgets.VBox([c["family"], c["strength"], c["scale"]]),
                                                  c["losses"]]), self.figure])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # ----- state --------------------------------------------------------------------------------------
    @property
    def normalised(self) -> bool:
        """Whether the curves are shown rescaled to [0, 1]."""
        return self.controls["scale"].value == "normalised"

    @property
    def index(self) -> int:
        """Grid index of the slider's strength."""
        return self.responses.index(self.controls["strength"].value)

    def clear_cache(self) -> None:
        """Forget the computed curves (the next family or loss change recomputes every loss; the losses'
        compiled functions are kept)."""
        self._cache.clear()

    def _compute(self) -> perturbations.Responses:
        fam = self.controls["family"].value
        labels = list(self.controls["losses"].value)
        todo = {k: self._specs[k] for k in labels if (fam, k) not in self._cache}
        options = {"seed": self.seed} if "seed" in _params(self.task, fam) else {}
        fresh = perturbations.responses(self.task, self.target, todo, fam, self.count, logits=self.logits,
                                        functions=self._functions, **options)
        for k in todo:
            self._cache[(fam, k)] = (fresh.values[k], fresh.grad_norms[k])
        fresh.values = {k: self._cache[(fam, k)][0] for k in labels}
        fresh.grad_norms = {k: self._cache[(fam, k)][1] for k in labels}
        return fresh

    def _set_slider(self) -> None:
        grid = self.responses.strengths
        slider = self.controls["strength"]
        step = float(grid[1] - grid[0]) if len(grid) > 1 else 1.0
        slider.value = 0.0  # every family's range contains 0, so this value stays valid below
        slider.min, slider.max = min(slider.min, float(grid[0])), max(slider.max, float(grid[-1]))
        slider.min, slider.max, slider.step = float(grid[0]), float(grid[-1]), step

    # ----- events -------------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        fresh = comparer_figure(self.responses, self.index, self.normalised, self.height)
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.layout = fresh.layout
            self.figure.add_traces(list(fresh.data))

    def _on_family(self, _change: Any = None) -> None:
        self.responses = self._compute()
        self._strength_events = False
        try:
            self._set_slider()
        finally:
            self._strength_events = True
        self._refresh()

    def _refresh(self) -> None:
        """Put the new family's curves into the existing traces (same losses, so the same traces)."""
        r = self.responses
        x = r.strengths.astype(float)
        curves = [*r.curves("value", self.normalised).values(), *r.curves("grad", self.normalised).values()]
        with self.figure.batch_update():
            for trace, y in zip(self.figure.data[:len(curves)], curves, strict=True):
                trace.x, trace.y = x, np.asarray(y, float)
            self.move(self.index)   # the title names the family's unit

    def _on_losses(self, _change: Any = None) -> None:
        self.responses = self._compute()
        self._rebuild()

    def _on_scale(self, _change: Any = None) -> None:
        self._rebuild()

    _strength_events = True

    def _on_strength(self, _change: Any = None) -> None:
        if not self._strength_events:
            return
        self.move(self.index)

    def move(self, index: int) -> None:
        """Put the markers and the picture at grid point ``index`` (what the strength slider does)."""
        r = self.responses
        first = n_curve_traces(r)
        pics = picture_data(r.task, r.target, r.predictions[index], r.logits)
        with self.figure.batch_update():
            for trace, data in zip(self.figure.data[first:], marker_data(r, index, self.normalised) + pics,
                                   strict=True):
                trace.update(data)
            fam = perturbations.family(r.task, r.family)
            self.figure.layout.title.text = (f"{r.task} · {fam.name}: strength {float(r.strengths[index]):.3g} "
                                             f"({fam.unit})")

    def to_figure(self, strengths: Sequence[float] | None = None) -> go.Figure:
        """A static figure of the current family and losses with a plotly slider over ``strengths``
        (works without a Python kernel, e.g. on a static site)."""
        return static_figure(self.responses, strengths, self.normalised, self.height)


def _params(task: str, fam: str) -> tuple[str, ...]:
    import inspect

    return tuple(inspect.signature(perturbations.family(task, fam).fn).parameters)
