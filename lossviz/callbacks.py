"""A Keras callback that records a training run as plain data (the "logger" of livelossplot's split).

:class:`LossRecorder` stores, for every batch, the values Keras logs and each batch's *own* loss, and for
every epoch the epoch's logs (training and validation). It draws nothing: plot builders in
``lossviz.plots.live`` turn a :meth:`LossRecorder.snapshot` into a figure, and ``lossviz.LiveLoss`` (a
subclass in ``lossviz.widgets.live``) redraws a widget from it.

Why "own" loss: in Keras 3 the ``logs`` passed to ``on_train_batch_end`` hold the *running mean* over
the epoch so far (the loss tracker is a ``keras.metrics.Mean`` weighted by each batch's size), not the
batch's own loss. The recorder recovers each batch's value from two consecutive running means.

The recorder also carries a stop request: :meth:`LossRecorder.request_stop` (safe to call from another
thread, e.g. a button's click handler) makes the next ``on_train_batch_end`` set
``model.stop_training = True``, so Keras ends ``fit`` cleanly after the batch that is running.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import keras


def own_batch_values(running: Sequence[float], sizes: Sequence[float] | None = None) -> list[float]:
    """Recover each batch's own value from the running means Keras logs within one epoch.

    Formula:
        With batch sizes ``b_i``, ``S_n = b_1 + ... + b_n`` and running means ``m_n``,
        ``own_n = (S_n * m_n - S_{n-1} * m_{n-1}) / b_n``; for equal sizes
        ``own_n = n * m_n - (n - 1) * m_{n-1}``.

    Example:
        >>> own_batch_values([2.0, 1.5, 1.0])
        [2.0, 1.0, 0.0]

    Args:
        running: the running means after batches 1..n of one epoch.
        sizes: the number of samples in each batch (``None``: all equal).

    Returns:
        The n batch values as floats.
    """
    if sizes is not None and len(sizes) != len(running):
        raise ValueError(
            f"Invalid value for `sizes`: expected one size per running mean ({len(running)}); "
            f"received {len(sizes)}"
        )
    out: list[float] = []
    total_prev, mean_prev = 0.0, 0.0
    for i, mean in enumerate(running):
        size = 1.0 if sizes is None else float(sizes[i])
        if size <= 0:
            raise ValueError(f"Invalid value for `sizes`: expected positive batch sizes; received {size}")
        total = total_prev + size
        out.append((total * float(mean) - total_prev * mean_prev) / size)
        total_prev, mean_prev = total, float(mean)
    return out


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class LossRecorder(keras.callbacks.Callback):
    """Record per-batch and per-epoch losses and metrics of ``model.fit`` as plain Python data.

    Example:
        >>> rec = LossRecorder()
        >>> model.fit(x, y, epochs=3, callbacks=[rec])  # doctest: +SKIP
        >>> rec.epoch_values["loss"]         # equals History.history["loss"]  # doctest: +SKIP
        >>> rec.batch_values[-1]["loss"]     # own loss of every batch of the last epoch  # doctest: +SKIP

    Args:
        samples: number of training samples per epoch, with ``batch_size``, so the last (smaller) batch's
            own loss is recovered exactly; ``None`` treats all batches as equally large.
        batch_size: the ``batch_size`` given to ``fit`` (see ``samples``).
        per_batch: names of logged values whose per-batch own value is derived (running means, such as
            the loss and accuracy); other logged values are kept as logged.

    Attributes:
        running: per epoch, a dict name -> list of the running values Keras logged after each batch.
        batch_values: per epoch, a dict name -> list of each batch's own value.
        epoch_values: dict name -> list of the epoch-end values (``val_*`` included), like ``History``.
        epochs: the epoch indices recorded.
        stopped_early: whether the last run ended because of :meth:`request_stop`.
    """

    def __init__(
        self,
        samples: int | None = None,
        batch_size: int | None = None,
        per_batch: Sequence[str] = ("loss", "accuracy"),
    ) -> None:
        super().__init__()
        self.per_batch = tuple(per_batch)
        self.set_sizes(samples, batch_size)
        self._lock = threading.Lock()
        self._stop_requested = threading.Event()
        self.reset()

    # ----- bookkeeping -------------------------------------------------------------------------------
    def set_sizes(self, samples: int | None, batch_size: int | None) -> None:
        """Tell the recorder the epoch's sample count and batch size (see the class arguments)."""
        if (samples is None) != (batch_size is None):
            raise ValueError(
                "Invalid arguments: expected both `samples` and `batch_size`, or neither; "
                f"received samples={samples!r}, batch_size={batch_size!r}"
            )
        if batch_size is not None and (batch_size <= 0 or samples is None or samples <= 0):
            raise ValueError(
                f"Invalid sizes: expected positive `samples` and `batch_size`; received {samples}, {batch_size}"
            )
        self.samples, self.batch_size = samples, batch_size

    def reset(self) -> None:
        """Forget everything recorded (a fresh run starts at epoch 0)."""
        with getattr(self, "_lock", threading.Lock()):
            self.running: list[dict[str, list[float]]] = []
            self.batch_values: list[dict[str, list[float]]] = []
            self.epoch_values: dict[str, list[float]] = {}
            self.epochs: list[int] = []
            self.stopped_early = False
            self.version = getattr(self, "version", -1) + 1  # bumped on every change: a viewer redraws

    def request_stop(self) -> None:
        """Ask training to stop at the end of the batch that is running (thread-safe)."""
        self._stop_requested.set()

    @property
    def stop_requested(self) -> bool:
        """Whether a stop was requested and not yet acted upon by a new run."""
        return self._stop_requested.is_set()

    def _sizes_before_and_at(self, n: int) -> tuple[float, float]:
        """Samples seen before batch n (1-based) of an epoch, and batch n's own size."""
        if self.batch_size is None or self.samples is None:
            return float(n - 1), 1.0
        done = min((n - 1) * self.batch_size, self.samples)
        size = min(self.batch_size, self.samples - done)
        return float(done), float(size) if size > 0 else 1.0

    # ----- Keras hooks -------------------------------------------------------------------------------
    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._stop_requested.clear()
        self.stopped_early = False

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        with self._lock:
            self.running.append({})
            self.batch_values.append({})
            self.version += 1

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self._stop_requested.is_set() and self.model is not None:
            self.model.stop_training = True
            self.stopped_early = True
        if not logs:
            return
        with self._lock:
            if not self.running:  # fit without on_epoch_begin (should not happen): open an epoch
                self.running.append({})
                self.batch_values.append({})
            running, own = self.running[-1], self.batch_values[-1]
            for name, value in logs.items():
                series = running.setdefault(name, [])
                series.append(_as_float(value))
                if name in self.per_batch:
                    n = len(series)
                    done, size = self._sizes_before_and_at(n)
                    prev = series[-2] if n > 1 else 0.0
                    own.setdefault(name, []).append(((done + size) * series[-1] - done * prev) / size)
                else:
                    own.setdefault(name, []).append(series[-1])
            self.version += 1

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self._stop_requested.is_set() and self.model is not None:  # a click during validation
            self.model.stop_training = True
            self.stopped_early = True
        with self._lock:
            self.epochs.append(int(epoch))
            for name, value in (logs or {}).items():
                self.epoch_values.setdefault(name, []).append(_as_float(value))
            self.version += 1

    # ----- reading ----------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A consistent copy of what was recorded, for plot builders (plain lists and dicts).

        Returns:
            ``{"epochs": [...], "epoch_values": {name: [...]}, "batch_values": {name: [...]},
            "running": {name: [...]}, "epoch_index": int, "version": int}``, where the batch entries are those of the
            current (last started) epoch and ``epoch_index`` is its position (``-1`` before training).
        """
        with self._lock:
            return {
                "epochs": list(self.epochs),
                "epoch_values": {k: list(v) for k, v in self.epoch_values.items()},
                "batch_values": {k: list(v) for k, v in (self.batch_values[-1] if self.batch_values else {}).items()},
                "running": {k: list(v) for k, v in (self.running[-1] if self.running else {}).items()},
                "epoch_index": len(self.batch_values) - 1,
                "version": self.version,
            }
