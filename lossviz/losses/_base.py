"""Shared pieces of the written losses: the thin `keras.losses.Loss` base class and small helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

EPSILON = 1e-7
"""Guard added to denominators (and inside ratios) so zero-size inputs give finite values and gradients."""


def sample_axes(x: Any) -> tuple[int, ...] | None:
    """The axes of one sample: every axis but the first (None for rank <= 1: reduce everything).

    Args:
        x: a tensor of shape (N, ...).

    Returns:
        ``(1, ..., rank - 1)`` or None.
    """
    rank = len(x.shape)
    return tuple(range(1, rank)) if rank > 1 else None


def align_ranks(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """Make ``y_true`` and ``y_pred`` the same rank when they differ only by a trailing axis of size 1.

    A mask given as (N, H, W) with a prediction (N, H, W, 1) (or the other way round) gets the missing
    axis added, as Keras's own losses do.

    Args:
        y_true: target tensor.
        y_pred: prediction tensor.

    Returns:
        ``(y_true, y_pred)`` with equal ranks where that rule applies, else unchanged.
    """
    t, p = len(y_true.shape), len(y_pred.shape)
    if t == p - 1 and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    elif p == t - 1 and y_true.shape[-1] == 1:
        y_pred = ops.expand_dims(y_pred, -1)
    return y_true, y_pred


class CatalogueLoss(keras.losses.Loss):
    """Thin ``keras.losses.Loss`` around a per-sample function ``fn(y_true, y_pred, **options)``.

    Subclasses give ``__init__`` explicit keyword options and pass them on; ``get_config`` returns them so
    a compiled model saves and loads (the subclasses are registered as Keras serializable objects).

    Args:
        fn: the per-sample loss function.
        name: the loss's name.
        reduction: Keras reduction (``"sum_over_batch_size"``, ``"sum"``, ``None`` for per-sample values...).
        dtype: computation dtype (default ``keras.config.floatx()``).
        align: add a missing trailing size-1 axis to ``y_true`` or ``y_pred`` (see :func:`align_ranks`).
        **options: keyword options passed to ``fn`` on every call.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
        align: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._fn = fn
        self._align = align
        self._options = options

    def call(self, y_true: Any, y_pred: Any) -> Any:
        if self._align:
            y_true, y_pred = align_ranks(y_true, y_pred)
        return self._fn(y_true, y_pred, **self._options)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._options)
        return config

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self._options.items())
        return f"<{type(self).__name__}({opts})>"


def serializable(cls: type) -> type:
    """Register a loss class with Keras (package ``lossviz``) so saved models can be loaded."""
    return keras.saving.register_keras_serializable(package="lossviz")(cls)
