"""Training helpers: run ``fit`` in a background thread, and compare losses from the same initial weights.

* :func:`fit_async` runs ``model.fit`` in a thread, so a Jupyter kernel stays free to handle widget
  events (the Stop button of ``lossviz.LiveLoss``) while the model trains.
* :func:`compare_losses` trains the same model from the same initial weights and on the same batch
  order once per loss, and returns a :class:`LossComparison` (histories, a pandas table, models).

Pure compute: this module never imports plotly or ipywidgets (``LossComparison.figure`` imports the
pure builder of ``lossviz.plots.live`` only when called).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from lossviz.callbacks import LossRecorder


class FitHandle:
    """A ``model.fit`` running in a background thread (returned by :func:`fit_async`).

    Attributes:
        thread: the ``threading.Thread``.
        history: the ``keras.callbacks.History`` once done (``None`` before, or after an error).
        error: the exception ``fit`` raised, if any.
    """

    def __init__(self, model: keras.Model, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.model = model
        self.history: keras.callbacks.History | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(args, kwargs), name="lossviz-fit", daemon=True)

    def _run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self.history = self.model.fit(*args, **kwargs)
        except BaseException as exc:  # kept and re-raised by result()
            self.error = exc

    def done(self) -> bool:
        """Whether ``fit`` has returned (or raised)."""
        return not self.thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for ``fit`` to end, at most ``timeout`` seconds; return whether it ended."""
        self.thread.join(timeout)
        return self.done()

    def result(self, timeout: float | None = None) -> keras.callbacks.History:
        """Wait for ``fit`` and return its ``History`` (re-raises the error ``fit`` raised).

        Args:
            timeout: seconds to wait at most (``None``: no limit).

        Returns:
            The ``History`` of the run.
        """
        if not self.join(timeout):
            raise TimeoutError(f"`fit` is still running after {timeout} s; call result() again later")
        if self.error is not None:
            raise self.error
        if self.history is None:  # fit returned nothing, which Keras never does
            raise RuntimeError("`fit` ended without a History")
        return self.history


def fit_async(model: keras.Model, *args: Any, **kwargs: Any) -> FitHandle:
    """Start ``model.fit(*args, **kwargs)`` in a background thread and return at once.

    In Jupyter, a cell running ``fit`` keeps the kernel busy, so a button click would wait until
    training ends; in a thread, the kernel handles the click (and ``LiveLoss`` redraws meanwhile).

    Example:
        >>> handle = fit_async(model, x, y, epochs=5, callbacks=[live])  # doctest: +SKIP
        >>> history = handle.result()   # wait for it  # doctest: +SKIP

    Args:
        model: a compiled ``keras.Model``.
        *args: positional arguments of ``fit``.
        **kwargs: keyword arguments of ``fit``.

    Returns:
        A started :class:`FitHandle`.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"Invalid value for `model`: expected a keras.Model; received {type(model).__name__}")
    handle = FitHandle(model, args, kwargs)
    handle.thread.start()
    return handle


def make_optimizer(name: str | keras.optimizers.Optimizer, learning_rate: float) -> keras.optimizers.Optimizer:
    """A fresh Keras optimizer from its name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"``, ...).

    Example:
        >>> make_optimizer("sgd", 0.1).learning_rate  # doctest: +SKIP

    Args:
        name: a Keras optimizer name, or an optimizer (whose config is copied into a new one).
        learning_rate: the learning rate.

    Returns:
        A new ``keras.optimizers.Optimizer``.
    """
    if isinstance(name, keras.optimizers.Optimizer):
        config = name.get_config() | {"learning_rate": float(learning_rate)}
        return type(name).from_config(config)
    try:
        return keras.optimizers.get({"class_name": name, "config": {"learning_rate": float(learning_rate)}})
    except ValueError as exc:
        raise ValueError(
            f"Invalid value for `optimizer`: expected a Keras optimizer name such as 'adam', 'sgd', "
            f"'rmsprop'; received {name!r}"
        ) from exc


def one_example_losses(
    p_true: Any, class_weight: float = 1.0, gamma: float = 2.0, alpha: float = 0.25
) -> dict[str, np.ndarray]:
    """Loss of one example against the probability its true class gets: CE, weighted CE and focal.

    Computed with the catalogue's losses (``lossviz.losses.get``) on a two-class one-hot example
    ``y = (1, 0)``, ``p = (p_true, 1 - p_true)``, one value per ``p_true``.

    Formula:
        ``CE = -log p``, ``weighted CE = -w log p``, ``focal = -alpha (1 - p)^gamma log p`` (Lin et al. 2017).

    Example:
        >>> v = one_example_losses([0.5, 0.9], class_weight=4.0, gamma=2.0, alpha=0.25)  # doctest: +SKIP
        >>> v["weighted CE"] / v["CE"]     # [4., 4.]  # doctest: +SKIP

    Args:
        p_true: probabilities of the true class, in (0, 1].
        class_weight: the weight ``w`` of the example's class.
        gamma: the focusing parameter of the focal loss (0 gives alpha * CE).
        alpha: the focal loss's balancing factor.

    Returns:
        ``{"CE": ..., "weighted CE": ..., "focal": ...}``, arrays shaped like ``p_true``.
    """
    from lossviz import losses

    p = np.asarray(p_true, dtype="float32")
    if p.size == 0 or np.any(p <= 0) or np.any(p > 1):
        raise ValueError(f"Invalid value for `p_true`: expected probabilities in (0, 1]; received {p_true!r}")
    flat = p.reshape(-1)
    y_true = np.tile(np.array([[1.0, 0.0]], dtype="float32"), (flat.size, 1))
    y_pred = np.stack([flat, 1.0 - flat], axis=-1)
    made = {
        "CE": losses.get("categorical_crossentropy", reduction=None),
        "weighted CE": losses.get("weighted_categorical_crossentropy", class_weights=[class_weight, 1.0],
                                  reduction=None),
        "focal": losses.get("categorical_focal", gamma=gamma, alpha=alpha, reduction=None),
    }
    return {name: keras.ops.convert_to_numpy(loss(y_true, y_pred)).reshape(p.shape) for name, loss in made.items()}


def resolve_loss(loss: Any) -> Any:
    """A loss object from a catalogue name (``lossviz.losses.get``), a Keras loss or a callable."""
    if isinstance(loss, str):
        from lossviz import losses

        return losses.get(loss)
    if isinstance(loss, tuple) and len(loss) == 2 and isinstance(loss[0], str):
        from lossviz import losses

        return losses.get(loss[0], **dict(loss[1]))
    if callable(loss):
        return loss
    raise TypeError(
        "Invalid loss: expected a catalogue name, a (name, options) pair, a keras.losses.Loss or a "
        f"callable; received {type(loss).__name__}"
    )


@dataclass
class LossComparison:
    """The runs of :func:`compare_losses`, one per loss.

    Attributes:
        histories: loss name -> ``History.history`` (dict of per-epoch lists).
        first_batch_losses: loss name -> the loss of the very first batch (before any update).
        recorders: loss name -> the run's :class:`~lossviz.callbacks.LossRecorder`.
        models: loss name -> the trained model.
        evaluations: loss name -> what ``evaluate(model)`` returned (``{}`` without ``evaluate``).
        table: a ``pandas.DataFrame``, one row per loss: final epoch values, the first batch's loss and
            the scalar evaluations (prefixed ``eval_`` where a history key has the same name).
        initial_weights: the weights every run started from.
    """

    histories: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    first_batch_losses: dict[str, float] = field(default_factory=dict)
    recorders: dict[str, LossRecorder] = field(default_factory=dict)
    models: dict[str, keras.Model] = field(default_factory=dict)
    evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)
    table: Any = None
    initial_weights: list[np.ndarray] = field(default_factory=list)

    def figure(self, metric: str = "loss") -> Any:
        """The histories of ``metric`` (and ``val_<metric>``) overlaid, one colour per loss (plotly)."""
        from lossviz.plots.live import history_overlay

        return history_overlay(self.histories, metric)


def _table(result: LossComparison) -> Any:
    import pandas as pd

    rows = {}
    for name, history in result.histories.items():
        row: dict[str, Any] = {key: values[-1] for key, values in history.items() if values}
        row["first_batch_loss"] = result.first_batch_losses.get(name, np.nan)
        for key, value in result.evaluations.get(name, {}).items():
            if np.ndim(value) == 0 and isinstance(value, (int, float, np.number)):
                row[f"eval_{key}" if key in history else key] = float(value)
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def compare_losses(
    model_fn: Callable[[], keras.Model],
    data: tuple[Any, Any],
    losses: Mapping[str, Any] | Sequence[str],
    *,
    epochs: int = 1,
    batch_size: int = 32,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    metrics: Sequence[Any] = (),
    seed: int = 0,
    validation_data: tuple[Any, Any] | None = None,
    evaluate: Callable[[keras.Model], Mapping[str, Any]] | None = None,
    callbacks: Callable[[str], Sequence[keras.callbacks.Callback]] | None = None,
    shuffle: bool = True,
    verbose: int = 0,
) -> LossComparison:
    """Train the same model from the same initial weights once per loss and collect the runs.

    The model is built once and its initial weights saved; every run builds the architecture with
    ``model_fn``, loads those weights, compiles with a fresh optimizer, reseeds Keras (same batch order,
    same dropout masks) and fits. So the runs differ only by their loss: two identical losses give
    identical first-batch losses.

    Several lessons call ``compare_losses(model_fn, data, losses, ...)``: the three positional
    arguments, the keyword arguments below and the :class:`LossComparison` fields are a stable API
    (extend it only with new keyword arguments that have defaults).

    Example:
        >>> cmp = compare_losses(lambda: small_cnn((32, 32, 3), 3, activation="softmax"), (x, y),
        ...                      {"ce": "categorical_crossentropy", "focal": ("categorical_focal", {"gamma": 2.0})},
        ...                      epochs=3, metrics=["accuracy"])  # doctest: +SKIP
        >>> cmp.table  # doctest: +SKIP

    Args:
        model_fn: builds the (uncompiled) model; called once per run (its weights are replaced).
        data: ``(x, y)`` training data (arrays).
        losses: name -> loss (a catalogue name, ``(name, options)``, a Keras loss or a callable), or a
            list of catalogue names.
        epochs: epochs per run.
        batch_size: batch size.
        optimizer: Keras optimizer name.
        learning_rate: its learning rate.
        metrics: Keras metrics to compile with (e.g. ``["accuracy"]``).
        seed: seed of ``keras.utils.set_random_seed`` before building and before each run.
        validation_data: optional ``(x_val, y_val)``.
        evaluate: optional ``model -> dict`` run after each fit (e.g. per-class recall); scalar entries
            become columns of the table.
        callbacks: optional ``loss name -> list of callbacks`` (e.g. a ``LiveLoss`` per run).
        shuffle: shuffle the training data each epoch (the same order in every run).
        verbose: ``fit``'s verbosity.

    Returns:
        A :class:`LossComparison`.
    """
    if not isinstance(losses, Mapping):
        names = list(losses)
        if not all(isinstance(n, str) for n in names):
            raise TypeError("Invalid value for `losses`: expected a mapping name -> loss, or a list of names")
        losses = {n: n for n in names}
    if not losses:
        raise ValueError("Invalid value for `losses`: expected at least one loss; received none")
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ValueError("Invalid value for `data`: expected a pair (x, y) of arrays")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"Invalid sizes: expected epochs >= 1 and batch_size >= 1; received {epochs}, {batch_size}")
    x, y = data
    keras.utils.set_random_seed(seed)
    initial = model_fn().get_weights()
    result = LossComparison(initial_weights=initial)
    for name, spec in losses.items():
        loss = resolve_loss(spec)
        keras.utils.set_random_seed(seed)
        model = model_fn()
        model.set_weights(initial)
        model.compile(optimizer=make_optimizer(optimizer, learning_rate), loss=loss, metrics=list(metrics))
        recorder = LossRecorder(samples=len(x), batch_size=batch_size)
        extra = list(callbacks(name)) if callbacks is not None else []
        keras.utils.set_random_seed(seed)
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, verbose=verbose,
                            validation_data=validation_data, callbacks=[recorder, *extra])
        result.histories[name] = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        result.first_batch_losses[name] = recorder.batch_values[0]["loss"][0]
        result.recorders[name] = recorder
        result.models[name] = model
        result.evaluations[name] = dict(evaluate(model)) if evaluate is not None else {}
    result.table = _table(result)
    return result
