"""``LiveLoss``: a Keras callback with a live plot and a Stop button (the Loss tab of a training run).

Recording is :class:`lossviz.callbacks.LossRecorder`'s job, drawing is :func:`lossviz.plots.live.live_figure`'s;
this widget only copies fresh data into its FigureWidget, at most every ``min_interval`` seconds, and
wires the Stop button to :meth:`~lossviz.callbacks.LossRecorder.request_stop`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import keras
import plotly.graph_objects as go

from lossviz.callbacks import LossRecorder
from lossviz.plots.live import live_figure, live_trace_data, panel_names, panel_titles
from lossviz.training import FitHandle, fit_async


class LiveLoss(LossRecorder):
    """Watch ``model.fit`` live: per-batch loss of the current epoch, per-epoch loss, metrics; stop it.

    Pass it as a callback (``model.fit(..., callbacks=[live])``) and display it; or let it start the
    run in a background thread with :meth:`fit_in_background`, which keeps the kernel free so the Stop
    button works while the model trains. Stop ends ``fit`` after the batch that is running, keeping the
    weights of that batch.

    Example:
        >>> live = LiveLoss()
        >>> live                                  # shows the panels and the Stop button  # doctest: +SKIP
        >>> handle = live.fit_in_background(model, x, y, epochs=10, batch_size=32)  # doctest: +SKIP

    Args:
        metrics: metric rows to show below the loss (``None``: every logged metric).
        min_interval: least seconds between two redraws during training (the end of training always
            redraws); raise it if the callback slows training.
        samples: training samples per epoch, with ``batch_size`` (see ``LossRecorder``).
        batch_size: batch size of ``fit`` (see ``LossRecorder``).
        per_batch: logged names whose per-batch own value is derived from the running means.
        height: figure height in pixels.

    Attributes:
        controls: ``{"stop": ipywidgets.Button}``.
        figure: the ``plotly.graph_objects.FigureWidget``.
        widget: the whole view (button, status line, figure).
        redraws: how many times the figure was redrawn.
        draw_seconds: total seconds spent redrawing (the callback's visible cost).
    """

    def __init__(
        self,
        metrics: Sequence[str] | None = None,
        min_interval: float = 0.5,
        samples: int | None = None,
        batch_size: int | None = None,
        per_batch: Sequence[str] = ("loss", "accuracy"),
        height: int | None = None,
    ) -> None:
        if min_interval < 0:
            raise ValueError(f"Invalid value for `min_interval`: expected seconds >= 0; received {min_interval}")
        super().__init__(samples=samples, batch_size=batch_size, per_batch=per_batch)
        self.metrics = None if metrics is None else list(metrics)
        self.min_interval = float(min_interval)
        self.height = height
        snapshot = self.snapshot()
        self._rows = panel_names(snapshot, self.metrics)
        self.figure = go.FigureWidget(live_figure(snapshot, self.metrics, height))
        stop = widgets.Button(description="Stop", icon="stop", button_style="danger", disabled=True,
                              tooltip="End training after the current batch")
        stop.on_click(lambda _button: self.stop())
        self.controls: dict[str, widgets.Widget] = {"stop": stop}
        self.status = widgets.HTML(value="waiting for <code>fit</code>")
        self.widget = widgets.VBox([widgets.HBox([stop, self.status]), self.figure])
        self.run_name = ""
        self.redraws = 0
        self.draw_seconds = 0.0
        self._last_draw = float("-inf")
        self._drawn_version = -1

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # ----- actions ------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop training after the current batch (what the Stop button does)."""
        self.request_stop()
        self.status.value = "stopping after this batch..."

    def for_run(self, name: str = "") -> list[keras.callbacks.Callback]:
        """Start afresh for a new run and return ``[self]``, e.g. ``compare_losses(..., callbacks=live.for_run)``.

        Args:
            name: the run's name, shown in the status line.

        Returns:
            ``[self]``, ready to pass as ``callbacks``.
        """
        self.reset()
        self.run_name = name
        return [self]

    def fit_in_background(self, model: keras.Model, x: Any = None, y: Any = None, **kwargs: Any) -> FitHandle:
        """Run ``model.fit(x, y, **kwargs)`` in a background thread with this widget as a callback.

        Example:
            >>> handle = live.fit_in_background(model, x, y, epochs=5, batch_size=32)  # doctest: +SKIP
            >>> handle.result()      # waits; the History  # doctest: +SKIP

        Args:
            model: a compiled ``keras.Model``.
            x: training inputs (arrays; their length tells the recorder the epoch's size).
            y: training targets.
            **kwargs: other ``fit`` arguments (``epochs``, ``batch_size``, ``validation_data``, ...).

        Returns:
            A :class:`lossviz.training.FitHandle` (``.result()`` waits and returns the ``History``).
        """
        callbacks = [c for c in kwargs.pop("callbacks", []) if c is not self]
        if x is not None and hasattr(x, "__len__") and kwargs.get("steps_per_epoch") is None:
            self.set_sizes(len(x), int(kwargs.get("batch_size") or 32))
        return fit_async(model, x, y, callbacks=[self, *callbacks], **kwargs)

    # ----- drawing ------------------------------------------------------------------------------------
    def redraw(self) -> None:
        """Copy what was recorded into the figure (rebuilds the panels when new metrics appear)."""
        start = time.perf_counter()
        snapshot = self.snapshot()
        rows = panel_names(snapshot, self.metrics)
        if rows != self._rows:
            fresh = live_figure(snapshot, self.metrics, self.height)
            with self.figure.batch_update():
                self.figure.data = ()
                self.figure.layout = fresh.layout
                self.figure.add_traces(list(fresh.data))
            self._rows = rows
        else:
            data = live_trace_data(snapshot, rows)
            titles = panel_titles(rows, int(snapshot["epoch_index"]))
            with self.figure.batch_update():
                for trace, (x, y) in zip(self.figure.data, data, strict=True):
                    trace.x, trace.y = x, y
                for annotation, title in zip(self.figure.layout.annotations, titles, strict=False):
                    if annotation.text != title:
                        annotation.text = title
        self._drawn_version = int(snapshot["version"])
        self._last_draw = time.perf_counter()
        self.redraws += 1
        self.draw_seconds += self._last_draw - start

    def _maybe_redraw(self, force: bool = False) -> None:
        if self.version == self._drawn_version:
            return
        if force or time.perf_counter() - self._last_draw >= self.min_interval:
            self.redraw()

    # ----- Keras hooks --------------------------------------------------------------------------------
    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        self.controls["stop"].disabled = False
        self.status.value = f"training {self.run_name}..." if self.run_name else "training..."
        self._last_draw = float("-inf")  # draw the first batch at once

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        super().on_train_batch_end(batch, logs)
        self._maybe_redraw()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        self._maybe_redraw()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self._maybe_redraw(force=True)
        self.controls["stop"].disabled = True
        epochs, batches = len(self.epochs), len(next(iter(self.running[-1].values()), [])) if self.running else 0
        how = "stopped" if self.stopped_early else "finished"
        run = f" {self.run_name}" if self.run_name else ""
        self.status.value = f"{how}{run}: {epochs} epoch(s), {batches} batch(es) in the last one"
