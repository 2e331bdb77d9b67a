"""SSIM, MS-SSIM and the L1 + MS-SSIM mix against TensorFlow's tf.image.ssim / ssim_multiscale."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lossviz import losses
from lossviz.autodiff import compile_function, tensor_value_and_grad, value_and_grad

tf = pytest.importorskip("tensorflow")  # the outside reference (also importable under the JAX backend)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _pair(shape, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    # smooth-ish images (so structure is not pure noise) plus noise
    base = rng.random(shape).astype("float32")
    base = (base + np.roll(base, 1, 1) + np.roll(base, 1, 2)) / 3
    other = np.clip(base + noise * rng.standard_normal(shape), 0, 1).astype("float32")
    return base, other


def test_reference_ssim_matches_tensorflow():
    x, y = _pair((2, 40, 36, 3))
    np.testing.assert_allclose(_np(losses.ssim(x, y)), tf.image.ssim(x, y, 1.0).numpy(), atol=1e-5)
    np.testing.assert_allclose(
        _np(losses.ssim(255 * x, 255 * y, max_val=255.0, filter_size=7, filter_sigma=1.0, k1=0.02, k2=0.05)),
        tf.image.ssim(255 * x, 255 * y, 255.0, filter_size=7, filter_sigma=1.0, k1=0.02, k2=0.05).numpy(),
        atol=1e-5)
    loss = losses.get("ssim", reduction=None)
    np.testing.assert_allclose(_np(loss(x, y)), 1 - tf.image.ssim(x, y, 1.0).numpy(), atol=1e-5)


def test_reference_ms_ssim_matches_tensorflow_with_five_scales_and_odd_sizes():
    x, y = _pair((2, 177, 181, 1), seed=1, noise=0.2)
    expected = tf.image.ssim_multiscale(x, y, 1.0).numpy()
    np.testing.assert_allclose(_np(losses.ms_ssim(x, y)), expected, atol=1e-4)
    np.testing.assert_allclose(_np(losses.get("ms_ssim", reduction=None)(x, y)), 1 - expected, atol=1e-4)


def test_ssim_and_ms_ssim_in_one_pass_equal_tensorflow_and_its_gradients():
    # what the loss comparer computes when a call has both: SSIM is MS-SSIM's finest scale
    x, y = _pair((2, 50, 47, 3), seed=11)
    factors = losses.restoration.ms_power_factors(50, 47)
    s, m = losses.restoration.ssim_and_ms_ssim(x, y)
    np.testing.assert_allclose(_np(s), tf.image.ssim(x, y, 1.0).numpy(), atol=1e-5)
    np.testing.assert_allclose(_np(m), tf.image.ssim_multiscale(x, y, 1.0, power_factors=factors).numpy(), atol=1e-4)
    expected = [_tf_grads(lambda a, b: tf.image.ssim(a, b, 1.0), x, y)[1],
                _tf_grads(lambda a, b: tf.image.ssim_multiscale(a, b, 1.0, power_factors=factors), x, y)[1]]
    from lossviz.autodiff import tensor_values_and_grads

    step = compile_function(tensor_values_and_grads(lambda b: losses.restoration.ssim_and_ms_ssim(x, b)),
                            jit_compile=False)
    _, grads = step(keras.ops.convert_to_tensor(y))
    for g, e in zip(grads, expected, strict=True):
        np.testing.assert_allclose(_np(g), e, rtol=1e-3, atol=1e-4 * np.abs(e).max())


def test_one_reference_image_for_a_batch_equals_tensorflow_on_the_repeated_pair():
    x, _ = _pair((5, 48, 44, 3), seed=4)
    ref = _pair((1, 48, 44, 3), seed=5)[1]
    repeated = np.repeat(ref, len(x), axis=0)
    np.testing.assert_allclose(_np(losses.ssim(x, ref)), tf.image.ssim(x, repeated, 1.0).numpy(), atol=1e-5)
    factors = losses.restoration.ms_power_factors(48, 44)
    np.testing.assert_allclose(_np(losses.ms_ssim(x, ref)),
                               tf.image.ssim_multiscale(x, repeated, 1.0, power_factors=factors).numpy(), atol=1e-4)
    for name in ("ssim", "ms_ssim", "l1_ms_ssim"):  # values and gradients as with the repeated reference
        loss = losses.get(name, reduction=None)
        one, one_grad = value_and_grad(lambda q, loss=loss: loss(ref, q))(x)
        many, many_grad = value_and_grad(lambda q, loss=loss: loss(repeated, q))(x)
        np.testing.assert_allclose(one, many, atol=1e-6)
        np.testing.assert_allclose(one_grad, many_grad, atol=1e-6)
    with pytest.raises(ValueError, match="same size"):
        losses.ssim(x, ref[:, :40])


def _tf_grads(fn, x, y):
    """Gradients of sum(fn(x, y)) with respect to x and y by TensorFlow's autodiff (the reference)."""
    x, y = tf.constant(x), tf.constant(y)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        total = tf.reduce_sum(fn(x, y))
    return tape.gradient(total, x).numpy(), tape.gradient(total, y).numpy()


def _grad(fn, x, compiled):
    if not compiled:
        return value_and_grad(fn)(x)[1]
    step = compile_function(tensor_value_and_grad(fn), jit_compile=False)  # a graph on TF, jit on JAX
    return _np(step(keras.ops.convert_to_tensor(x))[1])


@pytest.mark.parametrize("compiled", [False, True])
def test_gradients_equal_tensorflow_autodiff_through_tf_image_ssim(compiled):
    # the losses are trained with and the comparer draws their gradients: through the band-matrix blurs,
    # the clipped powers and the odd-size padding they must equal autodiff through TensorFlow's own
    # SSIM, for either argument, with five and with three scales, and with one reference image for a
    # batch (its gradient summed over the batch)
    cases = [
        (losses.ssim, lambda a, b: tf.image.ssim(a, b, 1.0), _pair((2, 40, 36, 3), seed=6)),
        (losses.ssim, lambda a, b: tf.image.ssim(a, tf.repeat(b, 3, axis=0), 1.0),
         (_pair((3, 33, 35, 2), seed=7)[0], _pair((1, 33, 35, 2), seed=8)[1])),
        (losses.ms_ssim, lambda a, b: tf.image.ssim_multiscale(a, b, 1.0), _pair((2, 177, 181, 1), seed=9)),
        (losses.ms_ssim, lambda a, b: tf.image.ssim_multiscale(
            a, b, 1.0, power_factors=losses.restoration.ms_power_factors(50, 47)), _pair((2, 50, 47, 3), seed=10)),
    ]
    for ours, reference, (x, y) in cases:
        expected = _tf_grads(reference, x, y)
        got = (_grad(lambda a, y=y, f=ours: f(a, y), x, compiled), _grad(lambda b, x=x, f=ours: f(x, b), y, compiled))
        for g, e in zip(got, expected, strict=True):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-4 * np.abs(e).max())


def test_ms_ssim_on_small_images_uses_fewer_scales_as_tensorflow_would_with_those_factors():
    x, y = _pair((2, 64, 64, 3), seed=2)
    factors = losses.restoration.ms_power_factors(64, 64)
    assert len(factors) == 3 and np.isclose(sum(factors), 1.0)
    expected = tf.image.ssim_multiscale(x, y, 1.0, power_factors=factors).numpy()
    np.testing.assert_allclose(_np(losses.ms_ssim(x, y)), expected, atol=1e-4)
    explicit = losses.MS_SSIM_WEIGHTS[:3]
    np.testing.assert_allclose(_np(losses.ms_ssim(x, y, power_factors=explicit)),
                               tf.image.ssim_multiscale(x, y, 1.0, power_factors=explicit).numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="power_factors"):
        losses.ms_ssim(x, y, power_factors=losses.MS_SSIM_WEIGHTS)
    with pytest.raises(ValueError, match="filter_size"):
        losses.ssim(x[:, :8, :8], y[:, :8, :8])
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        losses.ssim(x[0], y[0])


def test_reference_l1_ms_ssim_is_zhao_mix_of_tensorflow_ms_ssim_and_l1():
    x, y = _pair((2, 48, 48, 3), seed=3)
    factors = losses.restoration.ms_power_factors(48, 48)
    ms = tf.image.ssim_multiscale(x, y, 1.0, power_factors=factors).numpy()
    l1 = np.abs(x - y).mean((1, 2, 3))
    loss = losses.get("l1_ms_ssim", reduction=None)
    np.testing.assert_allclose(_np(loss(x, y)), 0.84 * (1 - ms) + 0.16 * l1, atol=1e-4)
    half = losses.get("l1_ms_ssim", alpha=0.5, reduction=None)
    np.testing.assert_allclose(_np(half(x, y)), 0.5 * (1 - ms) + 0.5 * l1, atol=1e-4)


def test_anticorrelated_images_clip_negative_terms_like_tensorflow_and_keep_gradients_finite(pred_grad):
    x, _ = _pair((1, 24, 24, 1), seed=4)
    y = 1.0 - x
    expected = tf.image.ssim_multiscale(x, y, 1.0, power_factors=(0.5, 0.5)).numpy()
    np.testing.assert_allclose(_np(losses.ms_ssim(x, y, power_factors=(0.5, 0.5))), expected, atol=1e-5)
    for name in ("ssim", "ms_ssim", "l1_ms_ssim"):
        loss = losses.get(name, reduction=None)
        for target in (x, np.zeros_like(x), np.ones_like(x)):
            value, grad = pred_grad(name, loss)(target, y)
            assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), name


images = arrays("float32", (2, 24, 24, 1), elements=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))


@settings(max_examples=25, deadline=None)
@given(x=images, y=images)
def test_property_image_losses_finite_and_minimal_at_target(pred_grad, x, y):
    for name in ("ssim", "ms_ssim", "l1_ms_ssim"):
        loss = losses.get(name, reduction=None)
        value, grad = pred_grad(name, loss)(x, y)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), name
        # 0 up to float32 cancellation in the variance terms: sigma^2 = blur(x^2) - mu^2 of a flat
        # image is a difference of two numbers near 1, so one ulp (1.2e-7) of matmul rounding, which
        # may differ between calls on a busy thread pool, moves cs by 1.2e-7 / C2 (9e-4) = 1.3e-4
        # (CI saw 1.0e-4 on all-ones images); a few ulps are allowed
        tol = 4 * np.finfo(np.float32).eps / (0.03**2)
        same = _np(loss(x, x))
        assert np.all(np.abs(same) < tol) and np.all(same <= value + tol), name
