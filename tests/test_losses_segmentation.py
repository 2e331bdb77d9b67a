"""Segmentation losses against Keras's own dice/tversky/BCE and hand-computed overlaps."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lossviz import losses


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _masks(seed=0, n=3, size=6):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, size, size, 1)) > 0.6).astype("float32")
    p = rng.random((n, size, size, 1)).astype("float32")
    return y, p


def test_reference_dice_matches_keras_dice_per_sample():
    y, p = _masks()
    ours = _np(losses.get("dice", reduction=None)(y, p))
    keras_per_sample = [_np(keras.losses.dice(y[i:i + 1], p[i:i + 1])) for i in range(len(y))]
    np.testing.assert_allclose(ours, keras_per_sample, rtol=1e-6)
    np.testing.assert_allclose(ours, _np(keras.losses.dice(y, p, axis=(1, 2, 3))), rtol=1e-6)
    # hand-computed: 1 - 2 * sum(y p) / (sum y + sum p)
    hand = 1 - 2 * (y * p).sum((1, 2, 3)) / (y.sum((1, 2, 3)) + p.sum((1, 2, 3)))
    np.testing.assert_allclose(ours, hand, rtol=1e-5)
    # the default reduction is the batch mean of the per-image values, not Keras's pooled dice
    assert np.isclose(float(losses.get("dice")(y, p)), hand.mean(), rtol=1e-5)
    assert not np.isclose(float(keras.losses.Dice()(y, p)), hand.mean(), rtol=1e-3)


def test_reference_tversky_follows_salehi_and_reduces_to_dice():
    y, p = _masks(1)
    tp = (y * p).sum((1, 2, 3))
    fp = ((1 - y) * p).sum((1, 2, 3))
    fn = (y * (1 - p)).sum((1, 2, 3))
    ours = _np(losses.get("tversky", alpha=0.3, beta=0.7, reduction=None)(y, p))
    np.testing.assert_allclose(ours, 1 - tp / (tp + 0.3 * fp + 0.7 * fn), rtol=1e-5)
    # Keras's own function applies its alpha to sum(y (1 - p)): our alpha/beta are its beta/alpha
    np.testing.assert_allclose(ours, _np(keras.losses.tversky(y, p, alpha=0.7, beta=0.3, axis=(1, 2, 3))),
                               rtol=1e-6)
    half = _np(losses.get("tversky", alpha=0.5, beta=0.5, reduction=None)(y, p))
    np.testing.assert_allclose(half, _np(losses.get("dice", reduction=None)(y, p)), rtol=1e-5)


def test_tversky_beta_above_alpha_penalises_missed_pixels_more():
    y = np.zeros((1, 4, 4, 1), "float32")
    y[0, :2] = 1.0
    under = y.copy()
    under[0, 1] = 0.0  # misses 4 pixels
    over = y.copy()
    over[0, 2] = 1.0  # 4 extra pixels
    loss = losses.get("tversky", alpha=0.3, beta=0.7, reduction=None)
    assert _np(loss(y, under))[0] > _np(loss(y, over))[0]


def test_reference_jaccard_hand_computed_values():
    y = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0.5, 1, 0, 0]], "float32")
    p = np.array([[1, 0, 1, 0], [0.5, 0.5, 0, 0], [0.5, 0.5, 0.5, 0]], "float32")
    # soft: I / (sum y + sum p - I)
    soft = [1 - 1 / 3, 1 - 0.5 / (1 + 1 - 0.5), 1 - 0.75 / (1.5 + 1.5 - 0.75)]
    # minmax: sum min / sum max
    minmax = [1 - 1 / 3, 1 - 0.5 / 1.5, 1 - 1.0 / 2.0]
    np.testing.assert_allclose(_np(losses.jaccard(y, p)), soft, atol=1e-5)
    np.testing.assert_allclose(_np(losses.get("jaccard", form="minmax", reduction=None)(y, p)), minmax,
                               atol=1e-5)
    # the two forms agree for binary targets
    yb, pb = _masks(2)
    np.testing.assert_allclose(_np(losses.jaccard(yb, pb)), _np(losses.jaccard(yb, pb, form="minmax")),
                               atol=1e-5)
    # Jaccard and Dice relation J = D / (2 - D) on the overlap scores
    d = 1 - _np(losses.dice(yb, pb))
    np.testing.assert_allclose(1 - _np(losses.jaccard(yb, pb)), d / (2 - d), atol=1e-4)
    with pytest.raises(ValueError, match="form"):
        losses.get("jaccard", form="max")


@pytest.mark.parametrize("from_logits", [False, True])
def test_reference_bce_dice_equals_keras_bce_plus_keras_dice(from_logits):
    y, p = _masks(3)
    pred = np.log(p / (1 - p)) if from_logits else p
    loss = losses.get("bce_dice", bce_weight=0.3, dice_weight=0.7, from_logits=from_logits, reduction=None)
    bce = [float(keras.losses.BinaryCrossentropy(from_logits=from_logits)(y[i], pred[i])) for i in range(3)]
    dice = [float(keras.losses.dice(y[i], p[i])) for i in range(3)]
    np.testing.assert_allclose(_np(loss(y, pred)), 0.3 * np.array(bce) + 0.7 * np.array(dice), rtol=1e-4)


def test_masks_without_channel_axis_are_aligned():
    y, p = _masks(4)
    a = _np(losses.get("dice", reduction=None)(y[..., 0], p))
    np.testing.assert_allclose(a, _np(losses.dice(y, p)), rtol=1e-6)


def test_empty_target_gives_dice_one_but_jaccard_zero_for_empty_prediction():
    empty = np.zeros((1, 4, 4, 1), "float32")
    assert np.isclose(_np(losses.dice(empty, empty))[0], 1.0)
    assert np.isclose(_np(losses.jaccard(empty, empty))[0], 0.0)


SEG = ["dice", "jaccard", "tversky", "bce_dice"]
mask = arrays("float32", (2, 4, 4, 1), elements=st.sampled_from([0.0, 1.0]))
probs = arrays("float32", (2, 4, 4, 1), elements=st.sampled_from([0.0, 1e-3, 0.3, 0.5, 0.9, 1.0]))


@settings(max_examples=25, deadline=None)
@given(y=mask, p=probs, full=st.sampled_from(["random", "empty", "full"]))
def test_property_segmentation_finite_gradients_and_minimum_at_target(pred_grad, y, p, full):
    if full == "empty":
        y = np.zeros_like(y)
    elif full == "full":
        y = np.ones_like(y)
    for name in SEG:
        loss = losses.get(name, reduction=None)
        value, grad = pred_grad(name, loss)(y, p)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), name
        assert np.all(_np(loss(y, y)) <= value + 1e-5), name
    jm = losses.get("jaccard", form="minmax", reduction=None)
    assert np.all(_np(jm(p, p)) <= _np(jm(p, y)) + 1e-6)  # minmax: minimal at the target for soft targets


@settings(max_examples=25, deadline=None)
@given(logits=arrays("float32", (2, 4, 4, 1), elements=st.sampled_from([-1e4, -30.0, 0.0, 2.0, 1e4])),
       y=mask)
def test_property_bce_dice_finite_for_extreme_logits(pred_grad, logits, y):
    loss = losses.get("bce_dice", from_logits=True, reduction=None)
    value, grad = pred_grad("bce_dice_logits", loss)(y, logits)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
