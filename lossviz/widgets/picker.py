"""``LossPicker``: choose a loss from the catalogue with its options and an optimizer, then train live.

The Training component of a visual ML tool, in a notebook: a loss drop-down (the catalogue's entries),
one control per option of the chosen loss (focal ``gamma`` and ``alpha``, ``class_weights``, ...), an
optimizer and its learning rate, epochs, and Train / Stop buttons; the run is drawn by
:class:`lossviz.widgets.live.LiveLoss`. Every (re)training starts from the same initial weights.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import keras
import numpy as np

from lossviz.training import FitHandle, make_optimizer
from lossviz.widgets.live import LiveLoss

HIDDEN_OPTIONS = ("axis", "reduction", "name", "dtype")
SLIDERS = {"gamma": (0.0, 5.0, 0.25), "alpha": (0.0, 1.0, 0.05), "label_smoothing": (0.0, 0.5, 0.05),
           "delta": (0.05, 5.0, 0.05), "beta": (0.0, 1.0, 0.05)}
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")


def _option_control(name: str, default: Any, prefill: Any = None) -> widgets.Widget:
    """A control for one loss option, chosen from its default's type."""
    value = default if prefill is None else prefill
    if isinstance(default, bool):
        return widgets.Checkbox(value=bool(value), description=name, indent=False)
    if isinstance(default, float) and name in SLIDERS:
        low, high, step = SLIDERS[name]
        return widgets.FloatSlider(value=float(value), min=low, max=high, step=step, description=name,
                                   continuous_update=False)
    if isinstance(default, float):
        return widgets.FloatText(value=float(value), description=name)
    if isinstance(default, int):
        return widgets.IntText(value=int(value), description=name)
    if isinstance(default, str):
        return widgets.Text(value=value, description=name)
    text = "" if value is None else repr([round(float(v), 4) for v in np.ravel(value)])
    return widgets.Text(value=text, description=name, placeholder="None, or a list such as [1.0, 5.0]")


def _option_value(name: str, control: widgets.Widget) -> Any:
    if not isinstance(control, widgets.Text):
        return control.value
    text = control.value.strip()
    if isinstance(control.placeholder, str) and control.placeholder.startswith("None"):
        if not text or text == "None":
            return None
        try:
            value = ast.literal_eval(text)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            return [float(v) for v in np.ravel(value)]
        except (ValueError, SyntaxError, TypeError) as exc:
            raise ValueError(
                f"Invalid value for option `{name}`: expected None, a number or a list of numbers such as "
                f"[1.0, 5.0]; received {text!r}"
            ) from exc
    return text


class LossPicker:
    """Pick a loss, its options and an optimizer, and (re)train a model with a live plot.

    Example:
        >>> picker = LossPicker(lambda: small_cnn((32, 32, 3), 3, activation="softmax"), (x, y_onehot),
        ...                     losses=["categorical_crossentropy", "weighted_categorical_crossentropy",
        ...                             "categorical_focal"], class_counts=[4155, 372, 361])  # doctest: +SKIP
        >>> picker                           # choose, then press Train  # doctest: +SKIP

    Args:
        model_fn: builds the (uncompiled) model; called once per training, weights reset to the first build.
        data: ``(x, y)`` training data.
        validation_data: optional ``(x_val, y_val)``.
        losses: catalogue names offered (default: the ``classification`` family).
        class_counts: training samples per class; prefills ``class_weights`` options with
            ``lossviz.losses.class_weights_from_counts(class_counts)``.
        metrics: Keras metrics to compile with.
        epochs: initial number of epochs.
        batch_size: batch size.
        learning_rate: initial learning rate.
        background: train in a background thread (keeps Jupyter responsive; Stop works); ``False``
            trains in the caller's thread (tests, scripts).
        seed: seed of the first build and of every training run.
        min_interval: least seconds between redraws of the live plot.

    Attributes:
        controls: ``loss``, ``optimizer``, ``learning_rate``, ``epochs``, ``train``, ``stop`` and one
            ``option_<name>`` per option of the chosen loss.
        figure: the live plot (``LiveLoss.figure``).
        live: the :class:`LiveLoss`.
        model: the model of the last run (``None`` before).
        handle: the :class:`~lossviz.training.FitHandle` of the last background run.
    """

    def __init__(
        self,
        model_fn: Callable[[], keras.Model],
        data: tuple[Any, Any],
        validation_data: tuple[Any, Any] | None = None,
        losses: Sequence[str] | None = None,
        class_counts: Sequence[float] | None = None,
        metrics: Sequence[Any] = ("accuracy",),
        epochs: int = 5,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        background: bool = True,
        seed: int = 0,
        min_interval: float = 0.5,
    ) -> None:
        from lossviz import losses as catalogue

        self._catalogue = catalogue
        names = list(losses) if losses is not None else [i.name for i in catalogue.catalogue("classification")]
        if not names:
            raise ValueError("Invalid value for `losses`: expected at least one catalogue name; received none")
        self.infos = {n: catalogue.info(n) for n in names}
        if not (isinstance(data, (tuple, list)) and len(data) == 2):
            raise ValueError("Invalid value for `data`: expected a pair (x, y) of arrays")
        self.model_fn, self.data, self.validation_data = model_fn, data, validation_data
        self.metrics, self.batch_size, self.background, self.seed = list(metrics), batch_size, background, seed
        self.class_weights = None if class_counts is None else catalogue.class_weights_from_counts(class_counts)
        keras.utils.set_random_seed(seed)
        self.initial_weights = model_fn().get_weights()
        self.model: keras.Model | None = None
        self.history: keras.callbacks.History | None = None
        self.handle: FitHandle | None = None

        self.live = LiveLoss(min_interval=min_interval)
        self.figure = self.live.figure
        self.controls: dict[str, widgets.Widget] = {
            "loss": widgets.Dropdown(options=names, value=names[0], description="loss"),
            "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), value="adam", description="optimizer"),
            "learning_rate": widgets.FloatLogSlider(value=learning_rate, base=10, min=-5, max=0, step=0.25,
                                                    description="learning rate", readout_format=".1e"),
            "epochs": widgets.IntSlider(value=epochs, min=1, max=max(100, epochs), description="epochs"),
            "train": widgets.Button(description="Train", icon="play", button_style="success"),
            "stop": self.live.controls["stop"],
        }
        self.info = widgets.HTML()
        self._options_box = widgets.VBox()
        self.controls["loss"].observe(lambda _change: self._show_options(), names="value")
        self.controls["train"].on_click(lambda _button: self.train())
        self._show_options()
        self.widget = widgets.VBox([
            widgets.HBox([self.controls["loss"], self.controls["optimizer"], self.controls["learning_rate"]]),
            self._options_box, self.info,
            widgets.HBox([self.controls["epochs"], self.controls["train"], self.controls["stop"], self.live.status]),
            self.figure,
        ])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _show_options(self) -> None:
        for key in [k for k in self.controls if k.startswith("option_")]:
            del self.controls[key]
        info = self.infos[self.controls["loss"].value]
        boxes = []
        for name, default in info.options.items():
            if name in HIDDEN_OPTIONS:
                continue
            prefill = self.class_weights if name == "class_weights" else None
            control = _option_control(name, default, prefill)
            self.controls[f"option_{name}"] = control
            boxes.append(control)
        self._options_box.children = tuple(boxes)
        self.info.value = f"<b>{info.name}</b>: {info.when}<br><i>Caveats</i>: {info.caveats}"

    def loss_options(self) -> dict[str, Any]:
        """The options of the chosen loss, as read from the controls."""
        return {k[len("option_"):]: _option_value(k[len("option_"):], c)
                for k, c in self.controls.items() if k.startswith("option_")}

    def make_loss(self) -> keras.losses.Loss:
        """The chosen loss with the chosen options (``lossviz.losses.get``)."""
        return self._catalogue.get(self.controls["loss"].value, **self.loss_options())

    def train(self) -> FitHandle | keras.callbacks.History:
        """(Re)train from the initial weights with the chosen loss and optimizer (the Train button).

        Returns:
            A :class:`FitHandle` when ``background`` is true, else the ``History``.
        """
        if self.handle is not None and not self.handle.done():
            self.live.status.value = "still training: press Stop first"
            return self.handle
        keras.utils.set_random_seed(self.seed)
        model = self.model_fn()
        model.set_weights(self.initial_weights)
        model.compile(optimizer=make_optimizer(self.controls["optimizer"].value, self.controls["learning_rate"].value),
                      loss=self.make_loss(), metrics=list(self.metrics))
        self.model = model
        self.live.reset()
        self.controls["train"].description = "Retrain"
        x, y = self.data
        kwargs = {"epochs": int(self.controls["epochs"].value), "batch_size": self.batch_size,
                  "validation_data": self.validation_data, "verbose": 0}
        if self.background:
            self.handle = self.live.fit_in_background(model, x, y, **kwargs)
            return self.handle
        self.live.set_sizes(len(x), self.batch_size)
        self.history = model.fit(x, y, callbacks=[self.live], **kwargs)
        return self.history
