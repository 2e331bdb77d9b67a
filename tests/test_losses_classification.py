"""Classification losses against numpy formulas, Keras's own cross-entropy and published weight schemes."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lossviz import losses

EPS = 1e-7


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _data(seed=0, n=5, k=3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    onehot = np.eye(k, dtype="float32")[labels]
    logits = rng.normal(0, 2, (n, k)).astype("float32")
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return labels, onehot, logits, probs.astype("float32")


def test_reference_binary_crossentropy_against_numpy():
    y = np.array([[1, 0, 1], [0, 0, 1]], "float32")
    p = np.array([[0.9, 0.2, 0.6], [0.1, 0.4, 0.99]], "float32")
    hand = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(_np(losses.get("bce", reduction=None)(y, p)), hand, rtol=1e-5)
    z = np.log(p / (1 - p))
    np.testing.assert_allclose(_np(losses.get("binary_crossentropy", from_logits=True, reduction=None)(y, z)),
                               hand, rtol=1e-4)


def test_reference_categorical_and_sparse_crossentropy_against_numpy():
    labels, onehot, logits, probs = _data()
    hand = -np.log(probs[np.arange(len(labels)), labels])
    np.testing.assert_allclose(_np(losses.get("categorical_crossentropy", reduction=None)(onehot, probs)),
                               hand, rtol=1e-5)
    np.testing.assert_allclose(
        _np(losses.get("sparse_categorical_crossentropy", from_logits=True, reduction=None)(labels, logits)),
        hand, rtol=1e-4)


def test_reference_weighted_categorical_crossentropy_against_keras_and_numpy():
    labels, onehot, logits, probs = _data(1)
    for from_logits, pred in ((False, probs), (True, logits)):
        ones = losses.get("weighted_categorical_crossentropy", class_weights=[1, 1, 1],
                          from_logits=from_logits, reduction=None)
        keras_ce = keras.losses.CategoricalCrossentropy(from_logits=from_logits, reduction=None)
        np.testing.assert_allclose(_np(ones(onehot, pred)), _np(keras_ce(onehot, pred)), rtol=1e-5)
    w = np.array([0.5, 2.0, 4.0], "float32")
    hand = -w[labels] * np.log(probs[np.arange(len(labels)), labels])
    weighted = losses.get("wcce", class_weights=w, reduction=None)
    np.testing.assert_allclose(_np(weighted(onehot, probs)), hand, rtol=1e-5)
    np.testing.assert_allclose(_np(losses.weighted_categorical_crossentropy(onehot, logits, w, from_logits=True)),
                               hand, rtol=1e-4)
    # reduction: the batch mean of the weighted per-sample values (Keras's class_weight semantics)
    np.testing.assert_allclose(float(losses.get("wcce", class_weights=w)(onehot, probs)), hand.mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="one weight per class"):
        losses.weighted_categorical_crossentropy(onehot, probs, [1.0, 2.0])


def test_class_weights_from_counts_hand_worked():
    counts = np.array([110, 10, 10])
    w = losses.class_weights_from_counts(counts)
    np.testing.assert_allclose(w, [130 / 330, 130 / 30, 130 / 30], rtol=1e-6)
    assert np.isclose((w * counts).sum() / counts.sum(), 1.0)  # weights average 1 over the samples
    # Cui et al. 2019: w ~ (1 - beta) / (1 - beta^n), normalised to sum to the number of classes
    beta = 0.99
    raw = (1 - beta) / (1 - beta ** counts.astype(float))
    np.testing.assert_allclose(losses.class_weights_from_counts(counts, "effective", beta=beta),
                               3 * raw / raw.sum(), rtol=1e-6)
    assert np.allclose(losses.class_weights_from_counts(counts, "effective", beta=0.0), 1.0)
    for bad in ([3, 0, 2], [[1, 2]], [], [1, -1]):
        with pytest.raises(ValueError, match="counts"):
            losses.class_weights_from_counts(bad)
    with pytest.raises(ValueError, match="scheme"):
        losses.class_weights_from_counts(counts, "sqrt")


def _focal_numpy(y, p, gamma, alpha=None):
    p = np.clip(p, EPS, 1 - EPS)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    p_t = y * p + (1 - y) * (1 - p)
    loss = (1 - p_t) ** gamma * bce
    if alpha is not None:
        loss = loss * (y * alpha + (1 - y) * (1 - alpha))
    return loss.mean(-1)


def test_reference_binary_focal_against_lin_et_al_formula():
    y = np.array([[1, 0, 1, 0]], "float32")
    p = np.array([[0.9, 0.3, 0.2, 0.05]], "float32")
    plain = losses.get("binary_focal", gamma=2.0, reduction=None)
    np.testing.assert_allclose(_np(plain(y, p)), _focal_numpy(y, p, 2.0), rtol=1e-5)
    # passing alpha turns Keras's class balancing on (otherwise Keras ignores alpha)
    balanced = losses.get("binary_focal", gamma=2.0, alpha=0.25, from_logits=True, reduction=None)
    np.testing.assert_allclose(_np(balanced(y, np.log(p / (1 - p)))), _focal_numpy(y, p, 2.0, 0.25), rtol=1e-4)
    off = losses.get("binary_focal", alpha=0.25, apply_class_balancing=False, reduction=None)
    np.testing.assert_allclose(_np(off(y, p)), _focal_numpy(y, p, 2.0), rtol=1e-5)
    # gamma = 0 is plain binary cross-entropy
    np.testing.assert_allclose(_np(losses.get("binary_focal", gamma=0.0, reduction=None)(y, p)),
                               _np(keras.losses.binary_crossentropy(y, p)), rtol=1e-5)


def test_reference_categorical_focal_against_lin_et_al_formula():
    labels, onehot, _, probs = _data(2)
    p_true = probs[np.arange(len(labels)), labels]
    hand = -0.25 * (1 - p_true) ** 2 * np.log(p_true)
    np.testing.assert_allclose(_np(losses.get("categorical_focal", reduction=None)(onehot, probs)), hand, rtol=1e-5)


LOGIT_LOSSES = [
    ("binary_crossentropy", "binary"), ("binary_focal", "binary"), ("categorical_crossentropy", "onehot"),
    ("weighted_categorical_crossentropy", "onehot"), ("categorical_focal", "onehot"),
    ("sparse_categorical_crossentropy", "sparse"),
]
extreme = arrays("float32", (4, 3), elements=st.sampled_from([-1e4, -50.0, 0.0, 1.0, 50.0, 1e4]))


def _targets(kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "binary":
        return rng.integers(0, 2, (4, 3)).astype("float32")
    labels = rng.integers(0, 3, 4)
    return labels.astype("int32") if kind == "sparse" else np.eye(3, dtype="float32")[labels]


@settings(max_examples=25, deadline=None)
@given(logits=extreme, seed=st.integers(0, 1000))
def test_property_extreme_logits_give_finite_loss_and_gradients(pred_grad, logits, seed):
    for name, kind in LOGIT_LOSSES:
        y = _targets("onehot" if kind == "sparse" else kind, seed)
        options = {"class_weights": [0.5, 1.0, 2.0]} if name.startswith("weighted") else {}
        loss = losses.get(name, from_logits=True, reduction=None, **options)
        if kind == "sparse":  # labels travel one-hot through the stacked input, the loss gets integers
            fn = lambda t, z, loss=loss: loss(keras.ops.argmax(t, axis=-1), z)  # noqa: E731
        else:
            fn = loss
        value, grad = pred_grad(f"{name}_logits", fn)(y, logits)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), name


rows = st.sampled_from([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])


@settings(max_examples=25, deadline=None)
@given(pred=st.lists(rows, min_size=4, max_size=4), seed=st.integers(0, 1000))
def test_property_probabilities_exactly_0_and_1_and_minimum_at_target(pred_grad, pred, seed):
    p = np.array(pred, "float32")
    y = _targets("onehot", seed)
    for name in ("categorical_crossentropy", "weighted_categorical_crossentropy", "categorical_focal"):
        options = {"class_weights": [0.5, 1.0, 2.0]} if name.startswith("weighted") else {}
        loss = losses.get(name, reduction=None, **options)
        value, grad = pred_grad(name, loss)(y, p)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), name
        assert np.all(_np(loss(y, y)) <= value + 1e-5), name
    yb = _targets("binary", seed)
    for name in ("binary_crossentropy", "binary_focal"):
        loss = losses.get(name, reduction=None)
        value, grad = pred_grad(name, loss)(yb, p)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), name
        assert np.all(_np(loss(yb, yb)) <= value + 1e-5), name
