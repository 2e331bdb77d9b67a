"""How a loss is evaluated on a batch of perturbed predictions (values and gradient norms).

Part of :mod:`lossviz.perturbations`, which re-exports every name here (import them from there); kept
apart so that each module stays short. Pure compute: Keras and numpy only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
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


def loss_labels(losses: Sequence[Any] | Mapping[str, Any]) -> dict[str, Any]:
    """Label -> spec for a set of losses: a mapping as it is; a sequence labelled by :func:`loss_label`,
    where specs that would share a label are told apart (never dropped): ``(name, options)`` pairs by
    their options (``"huber delta=0.1"``), the others by their place (``"huber_loss (2)"``).

    Example:
        >>> list(loss_labels(["mse", "huber", ("huber", {"delta": 0.1})]))  # ['mse', 'huber', 'huber delta=0.1']
    """
    if isinstance(losses, Mapping):
        return dict(losses)
    base = Counter(loss_label(s) for s in losses)
    out: dict[str, Any] = {}
    for spec in losses:
        label = loss_label(spec)
        if base[label] > 1 and isinstance(spec, tuple) and spec[1]:
            label += " " + " ".join(f"{k}={v}" for k, v in dict(spec[1]).items())
        unique, n = label, 1
        while unique in out:
            n += 1
            unique = f"{label} ({n})"
        out[unique] = spec
    return out


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
    family = key = terms = None
    if isinstance(spec, (str, tuple)):
        name, options = (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1]))
        info = losses.info(name)
        family = info.family
        if logits and "from_logits" in info.options and "from_logits" not in options:
            options["from_logits"] = True
        elif logits:
            activate = keras.ops.sigmoid if binary else keras.ops.softmax
        fn = losses.get(name, **options, reduction=None)
        key = f"{info.name}{sorted({**info.options, **options}.items())}, logits={logits}, binary={binary}"
        terms = losses.parts(name, **options)
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
    # elementwise regression losses (Huber 65 -> 9 ms) but compiles SSIM for seconds with no gain;
    # the regression losses broadcast one target inside the fused kernel (no 64-fold copy to read)
    per_sample.one_target = family in ("restoration", "regression")
    per_sample.xla = family == "regression"
    # a catalogue loss is known by its name and options (two specs of the same loss share a key), and
    # a weighted sum of catalogue losses by its terms (``losses.parts``): see ``evaluate``
    per_sample.key = key
    per_sample.parts = None if terms is None else \
        tuple((w, loss_function(s, logits=logits, binary=binary)) for w, s in terms)
    # SSIM is MS-SSIM's finest scale: with the same window the two are computed together (see evaluate)
    per_sample.joint = None
    if family == "restoration" and info.name in _JOINT_OUTPUT and activate is None:
        merged = {**info.options, **options}
        per_sample.joint = (tuple((k, merged[k]) for k in _WINDOW), info.name, merged.get("power_factors"))
    return per_sample


_JOINT_OUTPUT = {"ssim": 0, "ms_ssim": 1}  # the outputs of restoration.ssim_and_ms_ssim
_WINDOW = ("max_val", "filter_size", "filter_sigma", "k1", "k2")


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
    grads = _values_and_grads(fn)

    def values_and_norms(y: Any, p: Any) -> tuple[Any, Any]:
        value, grad = grads(y, p)
        return value, _norms(grad)

    compiled = _on_batch(fn, values_and_norms)

    def call(target: Any, predictions: Any, tensors: dict[Any, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
        tensors = {} if tensors is None else tensors
        value, norms = compiled(target, predictions, tensors)
        return _numpy(value, norms, tensors["count"])

    return call


def evaluate(specs: Mapping[str, Any], target: Any, predictions: Any, functions: dict[Any, Any],
             logits: bool = False, binary: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Values and gradient norms of several losses on one batch of predictions, each loss compiled once.

    A loss that is a weighted sum of catalogue losses (``losses.parts``: ``l1_ms_ssim`` = 0.84
    ``ms_ssim`` + 0.16 ``mae``, ``bce_dice``) shares the terms it has in common with the other losses
    of the call: each shared term's value and gradient are computed once and the sum is formed from
    them (the gradient is linear in the terms), so MS-SSIM next to L1 + MS-SSIM costs one MS-SSIM.
    SSIM and MS-SSIM with the same window are computed together (SSIM is MS-SSIM's finest scale: one
    forward pass, one gradient each; :func:`lossviz.losses.restoration.ssim_and_ms_ssim`).

    Args:
        specs: label -> loss spec (see :func:`loss_function`).
        target: the target, broadcast against every prediction.
        predictions: (S, ...) predictions.
        functions: a cache kept by the caller between calls (a widget): the compiled functions, keyed
            by label (rebuilt when a label names another spec than before) and by term; an empty dict
            the first time.
        logits: as :func:`loss_function`.
        binary: as :func:`loss_function`.

    Returns:
        label -> ``(values, grad_norms)``, float64 arrays (S,), as :func:`loss_response`.
    """
    tensors: dict[Any, Any] = {}  # the batch as backend tensors (converted once) and the shared terms
    fns = {}
    for label, spec in specs.items():
        made = functions.get(("loss", label))
        if made is None or not _same(made[0], spec) or made[1] != (logits, binary):
            # new, or the label now names another loss: its compiled functions are stale too
            for key in (label, ("sum", label)):
                functions.pop(key, None)
            functions[("loss", label)] = (spec, (logits, binary), loss_function(spec, logits=logits, binary=binary))
        fns[label] = functions[("loss", label)][2]
    terms = {label: fn.parts or ((1.0, fn),) for label, fn in fns.items()}
    uses = Counter(part.key for t in terms.values() for _, part in t if part.key is not None)
    joint = _joint_groups([part for t in terms.values() for _, part in t])
    out = {}
    for label, fn in fns.items():
        if not any(part.key is not None and (uses[part.key] > 1 or part.key in joint) for _, part in terms[label]):
            if label not in functions:
                functions[label] = response_function(fn)
            out[label] = functions[label](target, predictions, tensors)
            continue
        pairs = [_term_gradient(part, joint, functions, target, predictions, tensors) for _, part in terms[label]]
        if ("sum", label) not in functions:
            functions[("sum", label)] = _sum_function(tuple(w for w, _ in terms[label]))
        value, norms = functions[("sum", label)](tuple(v for v, _ in pairs), tuple(g for _, g in pairs))
        out[label] = _numpy(value, norms, tensors["count"])
    return out


def _same(a: Any, b: Any) -> bool:
    """Whether two loss specs are the same (equal names and options; the same object otherwise)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except ValueError:  # options holding arrays: equal only if they are the same objects
        return False


def _values_and_grads(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], tuple[Any, Any]]:
    from lossviz.autodiff import tensor_value_and_grad

    return lambda y, p: tensor_value_and_grad(lambda q: fn(y, q))(p)


def _on_batch(fn: Callable[[Any, Any], Any], body: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """``body(y, p)`` compiled with ``fn``'s hints (``xla``), called as ``f(target, predictions, tensors)``
    on the batch's backend tensors (the target once when ``fn`` has ``one_target``)."""
    from lossviz.autodiff import compile_function

    compiled = compile_function(body, jit_compile=bool(getattr(fn, "xla", False)))
    one_target = bool(getattr(fn, "one_target", False))
    return lambda target, predictions, tensors: compiled(*_tensors(target, predictions, tensors, one_target))


def _gradient_function(fn: Callable[[Any, Any], Any]) -> Callable[..., tuple[Any, Any]]:
    """``f(target, predictions, tensors) -> (values, gradients)`` as backend tensors, compiled once."""
    return _on_batch(fn, _values_and_grads(fn))


def _term_gradient(part: Any, joint: dict[str, tuple[Any, ...]], functions: dict[Any, Any], target: Any,
                   predictions: Any, tensors: dict[Any, Any]) -> tuple[Any, Any]:
    """(values, gradients) of one term of ``evaluate``'s losses, as backend tensors, computed once per
    batch (kept in ``tensors``): with the other members of its joint group, or alone."""
    if ("grad", part.key) in tensors:
        return tensors[("grad", part.key)]
    if part.key in joint:
        keys = tuple(m.key for m in joint[part.key])
        if ("joint", keys) not in functions:
            functions[("joint", keys)] = _joint_function(joint[part.key])
        values, grads = functions[("joint", keys)](target, predictions, tensors)
        tensors.update({("grad", k): (v, g) for k, v, g in zip(keys, values, grads, strict=True)})
    else:
        if ("grad", part.key) not in functions:
            functions[("grad", part.key)] = _gradient_function(part)
        tensors[("grad", part.key)] = functions[("grad", part.key)](target, predictions, tensors)
    return tensors[("grad", part.key)]


def _joint_groups(parts: list[Any]) -> dict[str, tuple[Any, ...]]:
    """key -> group for the losses of one call that are computed together: an SSIM and an MS-SSIM
    with the same window (one group per window; not when it holds two MS-SSIMs), SSIM first."""
    by_window: dict[Any, dict[str, Any]] = {}
    for part in parts:
        if getattr(part, "joint", None) is not None:
            by_window.setdefault(part.joint[0], {})[part.key] = part
    groups = {}
    for members in by_window.values():
        group = tuple(sorted(members.values(), key=lambda m: _JOINT_OUTPUT[m.joint[1]]))
        if [m.joint[1] for m in group] == ["ssim", "ms_ssim"]:
            groups.update({m.key: group for m in group})
    return groups


def _joint_function(group: tuple[Any, ...]) -> Callable[..., tuple[Any, Any]]:
    """``f(target, predictions, tensors) -> ((ssim loss, ms_ssim loss), (their gradients))``, compiled
    once: one pass of ``restoration.ssim_and_ms_ssim`` (the finest scale's statistics computed once)."""
    from lossviz.autodiff import tensor_values_and_grads
    from lossviz.losses import restoration

    window, _, factors = group[1].joint

    def losses(y: Any, q: Any) -> tuple[Any, Any]:
        s, m = restoration.ssim_and_ms_ssim(y, q, **dict(window), power_factors=factors)
        return 1.0 - s, 1.0 - m

    return _on_batch(group[1], lambda y, p: tensor_values_and_grads(lambda q: losses(y, q))(p))


def _sum_function(weights: tuple[float, ...]) -> Callable[[Any, Any], tuple[Any, Any]]:
    """``f(values, gradients) -> (sum_i w_i v_i, || sum_i w_i g_i ||)`` per sample, compiled (fused by XLA)."""
    from lossviz.autodiff import compile_function

    def weighted(values: tuple[Any, ...], grads: tuple[Any, ...]) -> tuple[Any, Any]:
        value = sum(w * v for w, v in zip(weights, values, strict=True))
        return value, _norms(sum(w * g for w, g in zip(weights, grads, strict=True)))

    return compile_function(weighted, jit_compile=True)


def _norms(grad: Any) -> Any:
    flat = keras.ops.reshape(grad, (keras.ops.shape(grad)[0], -1))
    return keras.ops.sqrt(keras.ops.sum(keras.ops.square(flat), axis=1))


def _numpy(value: Any, norms: Any, count: int) -> tuple[np.ndarray, np.ndarray]:
    value = np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64).reshape(count)
    return value, np.asarray(keras.ops.convert_to_numpy(norms), dtype=np.float64)


def _tensors(target: Any, predictions: Any, cache: dict[Any, Any], one_target: bool) -> tuple[Any, Any]:
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
