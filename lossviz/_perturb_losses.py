"""How a loss is evaluated on a batch of perturbed predictions (values and gradient norms).

Part of :mod:`lossviz.perturbations`, which re-exports every name here (import them from there); kept
apart so that each module stays short. Pure compute: Keras and numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np


def loss_label(spec: Any) -> str:
    """The label of a loss spec: its name, the name of a ``(name, options)`` pair, or the object's name."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        return spec[0]
    return str(getattr(spec, "name", None) or getattr(spec, "__name__", None) or type(spec).__name__)


def loss_function(spec: Any, logits: bool = False, binary: bool = False) -> Callable[[Any, Any], Any]:
    """A per-sample function ``f(y_true, y_pred) -> (N,)`` from a loss spec.

    Args:
        spec: a catalogue name, a ``(name, options)`` pair, a ``keras.losses.Loss`` (its unreduced
            ``call`` is used) or a callable returning per-sample (or per-element) values.
        logits: predictions are logits: catalogue losses with a ``from_logits`` option get it, the
            others see ``softmax`` (``sigmoid`` when ``binary``) of the logits.
        binary: the classes are one probability per sample (K = 1).

    Returns:
        A function over ``keras.ops`` tensors, reducing any extra axes by their mean.
    """
    from lossviz import losses

    activate = None
    family = None
    if isinstance(spec, (str, tuple)):
        name, options = (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1]))
        info = losses.info(name)
        family = info.family
        if logits and "from_logits" in info.options and "from_logits" not in options:
            options["from_logits"] = True
        elif logits:
            activate = keras.ops.sigmoid if binary else keras.ops.softmax
        fn = losses.get(name, **options, reduction=None)
    elif isinstance(spec, keras.losses.Loss):
        fn = spec.call
    elif callable(spec):
        fn = spec
    else:
        raise TypeError("Invalid loss: expected a catalogue name, a (name, options) pair, a keras.losses.Loss "
                        f"or a callable; received {type(spec).__name__}")

    def per_sample(y_true: Any, y_pred: Any) -> Any:
        value = fn(y_true, activate(y_pred) if activate is not None else y_pred)
        rank = len(value.shape)
        return keras.ops.mean(value, axis=tuple(range(1, rank))) if rank > 1 else value

    # hints for response_function (measured on 2 CPU cores, 64 RGB 128x128 images): the SSIM family
    # takes one reference image for a batch (computing its statistics once: -25 %); XLA fuses the
    # elementwise regression losses (Huber 65 -> 9 ms) but compiles SSIM for seconds with no gain
    per_sample.one_target = family == "restoration"
    per_sample.xla = family == "regression"
    return per_sample


def loss_response(fn: Callable[[Any, Any], Any], target: Any, predictions: Any) -> tuple[np.ndarray, np.ndarray]:
    """Values and gradient norms of one per-sample loss over a batch of predictions (one call).

    Formula:
        v_s = L(y, p_s),  g_s = || dL(y, p_s) / dp_s ||_2

    Args:
        fn: per-sample loss ``fn(y_true, y_pred) -> (S,)`` (see :func:`loss_function`).
        target: the target, broadcast against every prediction.
        predictions: (S, ...) predictions.

    Returns:
        ``(values, grad_norms)``, float64 arrays (S,).
    """
    from lossviz.autodiff import value_and_grad

    p = np.asarray(predictions, dtype=keras.config.floatx())
    y = keras.ops.convert_to_tensor(np.ascontiguousarray(np.broadcast_to(np.asarray(target, p.dtype), p.shape)))
    value, grad = value_and_grad(lambda q: fn(y, q))(p)
    norms = np.sqrt(np.sum(np.square(grad.reshape(len(p), -1), dtype=np.float64), axis=1))
    return np.asarray(value, dtype=np.float64).reshape(len(p)), norms


def response_function(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], tuple[np.ndarray, np.ndarray]]:
    """:func:`loss_response` compiled once for repeated calls (a graph on TensorFlow, ``jax.jit`` on
    JAX): a widget that recomputes the same loss on new predictions of the same shape pays the tracing
    once, and only the per-sample values and gradient norms leave the backend.

    Args:
        fn: per-sample loss ``fn(y_true, y_pred) -> (S,)``; from :func:`loss_function` it may carry two
            hints: ``one_target`` (it takes the target once, batch 1, for all predictions) and ``xla``
            (compile with XLA).

    Returns:
        ``f(target, predictions, tensors=None) -> (values, grad_norms)`` as :func:`loss_response`;
        ``tensors``: a dict shared between the functions called on the same batch, so that the batch
        is converted to backend tensors once (64 RGB 128x128 images: ~6 ms a conversion).
    """
    from lossviz.autodiff import compile_function, tensor_value_and_grad

    def values_and_norms(y: Any, p: Any) -> tuple[Any, Any]:
        value, grad = tensor_value_and_grad(lambda q: fn(y, q))(p)
        flat = keras.ops.reshape(grad, (keras.ops.shape(p)[0], -1))
        return value, keras.ops.sqrt(keras.ops.sum(keras.ops.square(flat), axis=1))

    compiled = compile_function(values_and_norms, jit_compile=bool(getattr(fn, "xla", False)))
    one_target = bool(getattr(fn, "one_target", False))

    def call(target: Any, predictions: Any, tensors: dict[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
        tensors = {} if tensors is None else tensors
        y, p = _tensors(target, predictions, tensors, one_target)
        value, norms = compiled(y, p)
        value = np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64).reshape(tensors["count"])
        return value, np.asarray(keras.ops.convert_to_numpy(norms), dtype=np.float64)

    return call


def _tensors(target: Any, predictions: Any, cache: dict[str, Any], one_target: bool) -> tuple[Any, Any]:
    """The target (repeated per prediction, or once) and the predictions as backend tensors, converted
    once per ``cache`` (a dict the caller shares between the losses evaluated on the same batch)."""
    if "predictions" not in cache:
        p = np.asarray(predictions, dtype=keras.config.floatx())
        cache.update(count=len(p), target=np.broadcast_to(np.asarray(target, p.dtype), p.shape),
                     predictions=keras.ops.convert_to_tensor(p))
    key = "one_target" if one_target else "full_target"
    if key not in cache:
        y = cache["target"]
        cache[key] = keras.ops.convert_to_tensor(np.ascontiguousarray(y[:1] if one_target else y))
    return cache[key], cache["predictions"]
