"""Gradients through the active Keras backend's own autodiff: a small shim per backend.

Keras 3 has no backend-neutral ``grad`` in ``keras.ops``, so this module is the one place in lossviz
that touches a backend's native autodiff (TensorFlow's ``GradientTape``, ``jax.grad``,
``torch.autograd``). Everything else calls :func:`value_and_grad`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np


def value_and_grad(fn: Callable[[Any], Any], graph: bool = False) -> Callable[[Any], tuple[np.ndarray, np.ndarray]]:
    """Wrap a scalar- or tensor-valued function of one tensor so it returns (value, gradient).

    The gradient is that of ``sum(fn(x))`` with respect to ``x`` (so for a per-sample loss over a
    batch of independent inputs it is each sample's own gradient).

    Formula:
        g = d/dx sum_i fn(x)_i

    Example:
        >>> f = value_and_grad(lambda x: keras.ops.sum(x ** 2, axis=-1))
        >>> value, grad = f(np.array([[1.0, 2.0]], "float32"))   # value [5.], grad [[2., 4.]]

    Args:
        fn: a function of one tensor written with ``keras.ops``.
        graph: on TensorFlow, trace ``fn`` once into a ``tf.function`` (one trace per input rank): worth
            it when the returned function is called many times (a surface walked step by step costs
            ~6 ms a call eagerly), not for one call (tracing takes longer). JAX always compiles.

    Returns:
        A function taking an array-like ``x`` and returning ``(fn(x), grad)`` as float numpy arrays.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        traced = tensor_value_and_grad(fn)
        # a graph, like jax.jit below: eager Keras ops cost ~6 ms a call, which a widget redraw cannot pay;
        # one trace per rank and dtype (any shape)
        graphs: dict[tuple[int, str], Any] = {}

        def tf_call(x: Any) -> tuple[np.ndarray, np.ndarray]:
            x = np.asarray(x, dtype=keras.config.floatx())
            if not graph:
                value, grad = traced(tf.convert_to_tensor(x))
                return np.asarray(value), np.asarray(grad)
            key = (x.ndim, str(x.dtype))
            if key not in graphs:
                spec = tf.TensorSpec([None] * x.ndim, x.dtype)
                graphs[key] = tf.function(traced, input_signature=[spec])
            value, grad = graphs[key](tf.convert_to_tensor(x))
            return np.asarray(value), np.asarray(grad)

        return tf_call
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        compiled = jax.jit(tensor_value_and_grad(fn))

        def jax_call(x: Any) -> tuple[np.ndarray, np.ndarray]:
            value, grad = compiled(jnp.asarray(x, dtype=keras.config.floatx()))
            return np.asarray(value), np.asarray(grad)

        return jax_call
    if backend == "torch":
        import torch

        def torch_call(x: Any) -> tuple[np.ndarray, np.ndarray]:
            t = torch.tensor(np.asarray(x, dtype=keras.config.floatx()), requires_grad=True,
                             device=getattr(keras.backend, "get_device", lambda: None)())
            value = fn(t)
            (grad,) = torch.autograd.grad(value.sum(), t)
            return value.detach().cpu().numpy(), grad.detach().cpu().numpy()

        return torch_call
    raise NotImplementedError(
        f"Invalid Keras backend for `value_and_grad`: expected 'tensorflow', 'jax' or 'torch'; "
        f"received {backend!r}"
    )


def tensor_value_and_grad(fn: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, Any]]:
    """Like :func:`value_and_grad`, but on backend tensors and returning backend tensors, so it can be
    called inside a function compiled by :func:`compile_function` (the data never leaves the device).

    Formula:
        g = d/dx sum_i fn(x)_i

    Example:
        >>> f = compile_function(tensor_value_and_grad(lambda x: keras.ops.sum(x ** 2, axis=-1)))
        >>> value, grad = f(keras.ops.convert_to_tensor([[1.0, 2.0]]))   # value [5.], grad [[2., 4.]]

    Args:
        fn: a function of one tensor written with ``keras.ops``.

    Returns:
        ``f(x) -> (fn(x), gradient)`` as tensors of the active backend.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def tf_vg(x: Any) -> tuple[Any, Any]:
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = fn(x)
                total = tf.reduce_sum(value)
            return value, tape.gradient(total, x)

        return tf_vg
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def total_and_value(x: Any) -> tuple[Any, Any]:
            value = fn(x)
            return jnp.sum(value), value

        grad_fn = jax.grad(total_and_value, has_aux=True)

        def jax_vg(x: Any) -> tuple[Any, Any]:
            grad, value = grad_fn(x)
            return value, grad

        return jax_vg
    if backend == "torch":
        import torch

        def torch_vg(x: Any) -> tuple[Any, Any]:
            with torch.enable_grad():
                x = x.detach().requires_grad_(True)
                value = fn(x)
                (grad,) = torch.autograd.grad(value.sum(), x)
            return value.detach(), grad

        return torch_vg
    raise NotImplementedError(
        f"Invalid Keras backend for `tensor_value_and_grad`: expected 'tensorflow', 'jax' or 'torch'; "
        f"received {backend!r}"
    )


def tensor_values_and_grads(
    fn: Callable[[Any], tuple[Any, ...]],
) -> Callable[[Any], tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Like :func:`tensor_value_and_grad` for a function with several outputs that share their work
    (SSIM and MS-SSIM): one forward pass and one gradient per output.

    Formula:
        g_k = d/dx sum_i fn(x)_k,i   for every output k

    Example:
        >>> f = tensor_values_and_grads(lambda x: (keras.ops.sum(x, axis=-1), keras.ops.sum(x**2, axis=-1)))
        >>> (v1, v2), (g1, g2) = f(x)                  # g1 = ones, g2 = 2 x

    Args:
        fn: a function of one tensor, written with ``keras.ops``, returning a tuple of tensors.

    Returns:
        ``f(x) -> (values, gradients)``, two tuples of tensors of the active backend. On JAX each
        output gets its own ``jax.grad``: under ``jax.jit`` XLA shares their common work (SSIM and
        MS-SSIM on 64 RGB 128x128 images: 257 ms apart, 184 ms together; one ``jax.vjp`` pulled back
        per output with zero cotangents for the others was slower).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def tf_vgs(x: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(x)
                values = tuple(fn(x))
                totals = [tf.reduce_sum(v) for v in values]
            grads = tuple(tape.gradient(t, x) for t in totals)
            del tape
            return values, grads

        return tf_vgs
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def jax_vgs(x: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
            values = tuple(fn(x))
            grads = tuple(jax.grad(lambda q, k=k: jnp.sum(fn(q)[k]))(x) for k in range(len(values)))
            return values, grads

        return jax_vgs
    if backend == "torch":
        import torch

        def torch_vgs(x: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
            with torch.enable_grad():
                x = x.detach().requires_grad_(True)
                values = tuple(fn(x))
                grads = tuple(torch.autograd.grad(v.sum(), x, retain_graph=k < len(values) - 1)[0]
                              for k, v in enumerate(values))
            return tuple(v.detach() for v in values), grads

        return torch_vgs
    raise NotImplementedError(
        f"Invalid Keras backend for `tensor_values_and_grads`: expected 'tensorflow', 'jax' or 'torch'; "
        f"received {backend!r}"
    )


def compile_function(fn: Callable[..., Any], jit_compile: bool = True) -> Callable[..., Any]:
    """Compile a function of backend tensors with the active backend's compiler: ``jax.jit``, a
    ``tf.function`` (traced once per input signature: pass tensors, not Python numbers, for values
    that change between calls), or the function itself on PyTorch (eager).

    Args:
        fn: a function of backend tensors written with ``keras.ops`` (and :func:`tensor_value_and_grad`).
        jit_compile: on TensorFlow, compile the graph with XLA (fused kernels: faster calls, but a
            slower first call); False gives a plain graph. JAX always compiles with XLA.

    Returns:
        The compiled function.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=jit_compile)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn
