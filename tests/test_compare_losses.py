"""compare_losses trains every loss from the same start; per-class metrics agree with hand counts and TF."""

import itertools

import keras
import numpy as np
import pytest

from lossviz.classmetrics import classification_summary, confusion_matrix, per_class_scores
from lossviz.training import compare_losses, make_optimizer

N_FEATURES, N_CLASSES = 5, 3


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES)).astype("float32")
    labels = np.clip((x[:, 0] * 1.5 + 1).astype(int), 0, N_CLASSES - 1)
    return x, keras.utils.to_categorical(labels, N_CLASSES).astype("float32")


def _model_fn_with_new_weights_each_call():
    """Every call builds the model with different initial weights (a fresh initialiser seed)."""
    counter = itertools.count(100)

    def build():
        seed = next(counter)
        inputs = keras.Input((N_FEATURES,))
        h = keras.layers.Dense(6, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed))(inputs)
        h = keras.layers.Dropout(0.3)(h)
        out = keras.layers.Dense(N_CLASSES, activation="softmax",
                                 kernel_initializer=keras.initializers.GlorotUniform(seed + 1))(h)
        return keras.Model(inputs, out)

    return build


def test_identical_losses_start_from_identical_weights_and_batches():
    build = _model_fn_with_new_weights_each_call()
    a, b = build(), build()
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])  # the reset below is what makes runs equal
    data = _data()
    result = compare_losses(build, data, {"ce": keras.losses.CategoricalCrossentropy(),
                                          "ce again": keras.losses.CategoricalCrossentropy()},
                            epochs=2, batch_size=8, metrics=["accuracy"], seed=3)
    assert result.first_batch_losses["ce"] == result.first_batch_losses["ce again"]
    assert result.recorders["ce"].batch_values[0]["loss"] == result.recorders["ce again"].batch_values[0]["loss"]
    np.testing.assert_allclose(result.histories["ce"]["loss"], result.histories["ce again"]["loss"], rtol=1e-6)
    for w, w0 in zip(result.models["ce"].get_weights(), result.models["ce again"].get_weights(), strict=True):
        np.testing.assert_allclose(w, w0, rtol=1e-5, atol=1e-6)


def test_first_batch_loss_is_the_loss_of_the_initial_weights_and_table_holds_final_values():
    x, y = _data()
    result = compare_losses(
        _model_fn_with_new_weights_each_call(), (x, y),
        {"ce": keras.losses.CategoricalCrossentropy(),
         "focal": keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0)},
        epochs=2, batch_size=16, metrics=["accuracy"], shuffle=False, validation_data=(x[:16], y[:16]),
        evaluate=lambda m: classification_summary(y, m.predict(x, verbose=0), ["a", "b", "c"]),
    )
    # same start, batch and dropout mask: focal = alpha (1 - p)^gamma CE <= 0.25 CE for every sample
    assert result.first_batch_losses["focal"] <= 0.25 * result.first_batch_losses["ce"] + 1e-7
    table = result.table
    assert list(table.index) == ["ce", "focal"]
    for name in ("ce", "focal"):
        for key in ("loss", "val_loss", "accuracy"):
            assert table.loc[name, key] == pytest.approx(result.histories[name][key][-1])
        assert table.loc[name, "macro_f1"] == pytest.approx(result.evaluations[name]["macro_f1"])
        assert "eval_accuracy" in table.columns
    assert result.histories["ce"]["loss"] != result.histories["focal"]["loss"]
    fig = result.figure("loss")
    assert [t.name for t in fig.data] == ["ce", "ce (validation)", "focal", "focal (validation)"]


def test_first_batch_loss_equals_keras_loss_of_initial_weights_without_dropout():
    x, y = _data()

    def build():
        inputs = keras.Input((N_FEATURES,))
        return keras.Model(inputs, keras.layers.Dense(N_CLASSES, activation="softmax")(inputs))

    result = compare_losses(build, (x, y), {"ce": keras.losses.CategoricalCrossentropy()},
                            epochs=1, batch_size=16, shuffle=False)
    reference = build()
    reference.set_weights(result.initial_weights)
    want = float(keras.losses.CategoricalCrossentropy()(y[:16], reference(x[:16])))
    assert result.first_batch_losses["ce"] == pytest.approx(want, rel=1e-5)


def test_compare_losses_rejects_bad_arguments():
    build = _model_fn_with_new_weights_each_call()
    with pytest.raises(ValueError, match="at least one loss"):
        compare_losses(build, _data(), {})
    with pytest.raises(ValueError, match=r"pair \(x, y\)"):
        compare_losses(build, _data()[0], {"ce": "categorical_crossentropy"})
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer("no_such_optimizer", 0.1)


def test_confusion_matrix_by_hand_and_against_tensorflow():
    tf = pytest.importorskip("tensorflow")
    y_true = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 0, 1, 2, 2, 2, 0, 2]
    m = confusion_matrix(y_true, y_pred, 3)
    assert m.tolist() == [[2, 1, 0], [0, 1, 1], [1, 0, 3]]
    np.testing.assert_array_equal(m, tf.math.confusion_matrix(y_true, y_pred, num_classes=3).numpy())
    probs = np.eye(3)[y_pred] * 0.8 + 0.1
    np.testing.assert_array_equal(confusion_matrix(np.eye(3)[y_true], probs, 3), m)


def test_per_class_scores_and_macro_f1_by_hand():
    m = np.array([[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    s = per_class_scores(m)
    np.testing.assert_allclose(s["recall"], [2 / 3, 1 / 2, 3 / 4])
    np.testing.assert_allclose(s["precision"], [2 / 3, 1 / 2, 3 / 4])
    summary = classification_summary([0, 0, 0, 1, 1, 2, 2, 2, 2], [0, 1, 0, 1, 2, 2, 2, 0, 2], ["r", "w", "p"])
    assert summary["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 3 / 4) / 3)
    assert summary["accuracy"] == pytest.approx(6 / 9)
    # a class never predicted: precision and F1 are 0, not NaN
    s = per_class_scores(np.array([[3, 0], [2, 0]]))
    assert s["precision"].tolist() == [0.6, 0.0] and s["f1"][1] == 0.0 and s["recall"].tolist() == [1.0, 0.0]


def test_class_metric_errors_say_what_was_expected():
    with pytest.raises(ValueError, match=r"labels in \[0, 2\)"):
        confusion_matrix([0, 2], [0, 1], 2)
    with pytest.raises(ValueError, match="square"):
        per_class_scores(np.zeros((2, 3)))


def test_one_example_losses_match_the_formulas():
    from lossviz.training import one_example_losses

    p = np.array([0.05, 0.5, 0.9])
    v = one_example_losses(p, class_weight=4.0, gamma=2.0, alpha=0.25)
    np.testing.assert_allclose(v["CE"], -np.log(p), rtol=1e-5)
    np.testing.assert_allclose(v["weighted CE"], -4.0 * np.log(p), rtol=1e-5)
    np.testing.assert_allclose(v["focal"], -0.25 * (1 - p) ** 2 * np.log(p), rtol=1e-4)
    with pytest.raises(ValueError, match=r"probabilities in \(0, 1\]"):
        one_example_losses([0.0, 0.5])
