"""LossPicker: the chosen loss, options and optimizer reach the model; every run starts from the same weights."""

import time

import keras
import numpy as np
import pytest

from lossviz.widgets.picker import LossPicker

N_FEATURES, N_CLASSES = 4, 3
NAMES = ["categorical_crossentropy", "weighted_categorical_crossentropy", "categorical_focal"]


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, N_FEATURES)).astype("float32")
    labels = np.clip((x[:, 0] + 1).astype(int), 0, N_CLASSES - 1)
    return x, keras.utils.to_categorical(labels, N_CLASSES).astype("float32")


def _build():
    inputs = keras.Input((N_FEATURES,))
    return keras.Model(inputs, keras.layers.Dense(N_CLASSES, activation="softmax")(inputs))


def _picker(**kwargs):
    return LossPicker(_build, _data(), losses=NAMES, background=False, min_interval=0.0, batch_size=8, **kwargs)


def test_options_follow_the_chosen_loss_and_class_weights_are_prefilled_from_counts():
    picker = _picker(class_counts=[4155, 372, 361])
    assert "option_gamma" not in picker.controls and "option_label_smoothing" in picker.controls
    picker.controls["loss"].value = "categorical_focal"
    assert picker.controls["option_gamma"].value == 2.0 and picker.controls["option_alpha"].value == 0.25
    assert "option_axis" not in picker.controls
    picker.controls["loss"].value = "weighted_categorical_crossentropy"
    weights = picker.loss_options()["class_weights"]
    total = 4155 + 372 + 361
    np.testing.assert_allclose(weights, [total / (3 * c) for c in (4155, 372, 361)], rtol=1e-3)
    picker.controls["option_class_weights"].value = "[1, two]"
    with pytest.raises(ValueError, match="option `class_weights`"):
        picker.loss_options()


def test_training_uses_the_chosen_loss_optimizer_and_draws_the_run():
    picker = _picker()
    picker.controls["loss"].value = "categorical_focal"
    picker.controls["option_gamma"].value = 1.5
    picker.controls["optimizer"].value = "sgd"
    picker.controls["learning_rate"].value = 0.1
    picker.controls["epochs"].value = 3
    picker.controls["train"].click()
    model = picker.model
    assert isinstance(model.loss, keras.losses.CategoricalFocalCrossentropy)
    assert model.loss.get_config()["gamma"] == 1.5
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.1)
    history = picker.history.history
    assert len(history["loss"]) == 3
    assert np.allclose(picker.figure.data[2].y, history["loss"])
    assert picker.controls["train"].description == "Retrain"


def test_retraining_starts_from_the_same_weights_focal_gamma0_alpha1_equals_ce():
    # With gamma = 0 and alpha = 1 the focal loss is the cross-entropy (Lin et al. 2017, eq. 5),
    # so two runs from the same initial weights must see the same first-batch loss.
    picker = _picker()
    picker.controls["epochs"].value = 1
    picker.train()
    ce_first = picker.live.batch_values[0]["loss"][0]
    ce_weights = picker.model.get_weights()
    picker.controls["loss"].value = "categorical_focal"
    picker.controls["option_gamma"].value = 0.0
    picker.controls["option_alpha"].value = 1.0
    picker.train()
    assert picker.live.batch_values[0]["loss"][0] == pytest.approx(ce_first, rel=1e-5)
    for got, want in zip(picker.model.get_weights(), ce_weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    picker.controls["option_gamma"].value = 2.0
    picker.train()
    assert picker.live.batch_values[0]["loss"][0] < ce_first  # focal down-weights: smaller loss


def test_background_training_can_be_stopped_with_the_button():
    picker = LossPicker(_build, _data(256), losses=NAMES, background=True, min_interval=0.05, batch_size=4)
    picker.controls["epochs"].value = 100
    handle = picker.train()
    deadline = time.monotonic() + 60
    while not picker.live.running or len(picker.live.running[-1].get("loss", [])) < 2:
        assert time.monotonic() < deadline and not handle.done()
        time.sleep(0.01)
    picker.controls["stop"].click()
    history = handle.result(timeout=60)
    assert picker.live.stopped_early and len(history.history["loss"]) < 100


def test_picker_rejects_unknown_losses():
    with pytest.raises(ValueError, match="unknown loss"):
        LossPicker(_build, _data(), losses=["no_such_loss"], background=False)
