"""The catalogue as a whole: get(), aliases, errors, fields, training and saving with every entry."""

import ast
import pathlib

import keras
import numpy as np
import pytest

from lossviz import losses

NAMES = ["mse", "mae", "huber", "log_cosh", "binary_crossentropy", "categorical_crossentropy",
         "sparse_categorical_crossentropy", "weighted_categorical_crossentropy", "binary_focal",
         "categorical_focal", "dice", "jaccard", "tversky", "bce_dice", "iou", "giou", "diou", "ciou",
         "ssim", "ms_ssim", "l1_ms_ssim"]

# every catalogue entry -> the test that checks it against an outside reference
REFERENCE_TESTS = {
    "mse": ("test_losses_regression.py", "test_reference_keras_regression_losses_against_numpy"),
    "mae": ("test_losses_regression.py", "test_reference_keras_regression_losses_against_numpy"),
    "huber": ("test_losses_regression.py", "test_reference_keras_regression_losses_against_numpy"),
    "log_cosh": ("test_losses_regression.py", "test_reference_keras_regression_losses_against_numpy"),
    "binary_crossentropy": ("test_losses_classification.py", "test_reference_binary_crossentropy_against_numpy"),
    "categorical_crossentropy": ("test_losses_classification.py",
                                 "test_reference_categorical_and_sparse_crossentropy_against_numpy"),
    "sparse_categorical_crossentropy": ("test_losses_classification.py",
                                        "test_reference_categorical_and_sparse_crossentropy_against_numpy"),
    "weighted_categorical_crossentropy": ("test_losses_classification.py",
                                          "test_reference_weighted_categorical_crossentropy_against_keras_and_numpy"),
    "binary_focal": ("test_losses_classification.py", "test_reference_binary_focal_against_lin_et_al_formula"),
    "categorical_focal": ("test_losses_classification.py",
                          "test_reference_categorical_focal_against_lin_et_al_formula"),
    "dice": ("test_losses_segmentation.py", "test_reference_dice_matches_keras_dice_per_sample"),
    "jaccard": ("test_losses_segmentation.py", "test_reference_jaccard_hand_computed_values"),
    "tversky": ("test_losses_segmentation.py", "test_reference_tversky_follows_salehi_and_reduces_to_dice"),
    "bce_dice": ("test_losses_segmentation.py", "test_reference_bce_dice_equals_keras_bce_plus_keras_dice"),
    "iou": ("test_losses_boxes.py", "test_reference_iou_hand_worked_values"),
    "giou": ("test_losses_boxes.py", "test_reference_giou_published_values"),
    "diou": ("test_losses_boxes.py", "test_reference_diou_ciou_published_values"),
    "ciou": ("test_losses_boxes.py", "test_reference_diou_ciou_published_values"),
    "ssim": ("test_losses_restoration.py", "test_reference_ssim_matches_tensorflow"),
    "ms_ssim": ("test_losses_restoration.py",
                "test_reference_ms_ssim_matches_tensorflow_with_five_scales_and_odd_sizes"),
    "l1_ms_ssim": ("test_losses_restoration.py", "test_reference_l1_ms_ssim_is_zhao_mix_of_tensorflow_ms_ssim_and_l1"),
}


def test_catalogue_has_the_planned_names_in_order():
    assert losses.names() == NAMES
    assert [i.name for i in losses.catalogue()] == NAMES


def test_every_entry_has_a_reference_test():
    assert set(REFERENCE_TESTS) == set(losses.names())
    here = pathlib.Path(__file__).parent
    for name, (file, test) in REFERENCE_TESTS.items():
        tree = ast.parse((here / file).read_text())
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert test in defined, f"{name}: {file}::{test} is missing"


def test_catalogue_fields_are_filled():
    for info in losses.catalogue():
        assert isinstance(info, losses.LossInfo)
        assert info.family in losses.FAMILIES
        for text in (info.formula, info.when, info.caveats, info.reference):
            assert isinstance(text, str) and len(text) > 10, info.name
        assert info.when.endswith(".") and info.caveats.endswith("."), info.name
        assert isinstance(info.keras_own, bool) and isinstance(info.options, dict)
        assert set(info.good_for) <= set(losses.DATA_PROPERTIES)
    own = {i.name for i in losses.catalogue() if i.keras_own}
    assert own == {"mse", "mae", "huber", "log_cosh", "binary_crossentropy", "categorical_crossentropy",
                   "sparse_categorical_crossentropy", "binary_focal", "categorical_focal", "dice", "tversky"}
    assert {i.family for i in losses.catalogue()} == set(losses.FAMILIES)
    with pytest.raises(AttributeError):
        losses.catalogue()[0].name = "x"  # frozen


def test_catalogue_frame():
    frame = losses.catalogue_frame()
    assert list(frame["name"]) == NAMES
    assert {"name", "aliases", "family", "formula", "when", "caveats", "keras_own", "options"} <= set(frame)
    assert list(losses.catalogue_frame("detection")["name"]) == ["iou", "giou", "diou", "ciou"]
    with pytest.raises(ValueError, match="family"):
        losses.catalogue("boxes")


def test_get_aliases_unknown_names_and_options():
    assert isinstance(losses.get("quadratic"), keras.losses.MeanSquaredError)
    assert isinstance(losses.get("L2"), keras.losses.MeanSquaredError)
    assert isinstance(losses.get("l1"), keras.losses.MeanAbsoluteError)
    assert isinstance(losses.get("Binary-Crossentropy"), keras.losses.BinaryCrossentropy)
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'.*mse, mae, huber"):
        losses.get("hinge")
    with pytest.raises(ValueError, match=r"Invalid option\(s\) \['gama'\].*gamma"):
        losses.get("binary_focal", gama=2)
    loss = losses.get("binary_focal", gamma=3.0, alpha=0.4, from_logits=True)
    assert (loss.get_config()["gamma"], loss.get_config()["alpha"], loss.get_config()["from_logits"]) == (3.0, 0.4,
                                                                                                          True)
    assert losses.get("tversky", alpha=0.3, beta=0.7).get_config()["beta"] == 0.7
    assert losses.get("l1_ms_ssim", alpha=0.84).get_config()["alpha"] == 0.84
    assert losses.get("bce_dice", bce_weight=0.5, dice_weight=0.5).get_config()["dice_weight"] == 0.5
    assert losses.get("jaccard", form="minmax").get_config()["form"] == "minmax"
    assert losses.get("wcce", class_weights=np.array([1, 2])).get_config()["class_weights"] == [1.0, 2.0]
    assert losses.info("l2").name == "mse"


def _task(info, rng):
    """A tiny model, inputs and targets for one catalogue entry."""
    name, family = info.name, info.family
    if family in ("regression", "detection"):
        x = rng.random((8, 4)).astype("float32")
        if family == "detection":
            xy = rng.random((8, 2)) * 0.5
            y = np.concatenate([xy, xy + 0.1 + rng.random((8, 2)) * 0.4], -1).astype("float32")
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)]), x, y
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]), x, rng.random((8, 3)).astype("float32")
    if family == "classification":
        x = rng.random((8, 4)).astype("float32")
        if name in ("binary_crossentropy", "binary_focal"):
            y = rng.integers(0, 2, (8, 1)).astype("float32")
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")]), x, y
        labels = rng.integers(0, 3, 8)
        y = labels.astype("int32") if name.startswith("sparse") else np.eye(3, dtype="float32")[labels]
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")]), x, y
    size = 8 if family == "segmentation" else 24
    x = rng.random((2, size, size, 1)).astype("float32")
    y = (x > 0.5).astype("float32") if family == "segmentation" else x
    model = keras.Sequential([keras.Input((size, size, 1)),
                              keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")])
    return model, x, y


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_compiles_trains_and_serializes(name):
    info = losses.info(name)
    loss = losses.get(name)
    assert isinstance(loss, keras.losses.Loss)
    model, x, y = _task(info, np.random.default_rng(0))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss, run_eagerly=True)
    value = model.train_on_batch(x, y)
    assert np.isfinite(value)
    # config round trip (what model saving stores) gives the same loss values
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()
    pred = model.predict_on_batch(x)
    np.testing.assert_allclose(float(again(y, pred)), float(loss(y, pred)), rtol=1e-6)


def test_a_model_compiled_with_a_catalogue_loss_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss=losses.get("wcce", class_weights=[0.4, 4.0, 4.0]))
    model.train_on_batch(np.ones((2, 4), "float32"), np.eye(3, dtype="float32")[[0, 2]])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.loss, losses.WeightedCategoricalCrossentropy)
    assert loaded.loss.get_config()["class_weights"] == [0.4, 4.0, 4.0]


@pytest.mark.parametrize("name", ["weighted_categorical_crossentropy", "bce_dice", "ciou", "l1_ms_ssim"])
def test_written_losses_train_in_compiled_graph_mode(name):
    model, x, y = _task(losses.info(name), np.random.default_rng(1))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=losses.get(name))
    history = model.fit(x, y, batch_size=len(x) // 2, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
