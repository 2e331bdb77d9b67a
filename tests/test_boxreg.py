"""The small box regressor (lossviz.models.boxreg): shapes, valid boxes, one training step, metrics."""

import keras
import numpy as np
import pytest

from lossviz import losses
from lossviz.models import boxreg


def test_output_shape_and_boxes_valid_even_for_extreme_logits():
    model = boxreg.box_regressor((32, 32, 3), width=4, blocks=2)
    x = np.random.default_rng(0).uniform(size=(5, 32, 32, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(model(x))
    assert out.shape == (5, 4)
    extreme = np.array([[-30, 30, -30, 30], [30, -30, 30, -30], [0, 0, 0, 0]], "float32")
    for boxes in (out, keras.ops.convert_to_numpy(boxreg.corners_from_logits(extreme))):
        assert np.all(boxes >= 0) and np.all(boxes <= 1)
        assert np.all(boxes[:, 2] >= boxes[:, 0]) and np.all(boxes[:, 3] >= boxes[:, 1])
    # sigmoid(0) = 0.5 for the left edge, 0.5 + 0.5 * 0.5 for the right edge
    np.testing.assert_allclose(keras.ops.convert_to_numpy(boxreg.corners_from_logits(extreme))[2],
                               [0.5, 0.5, 0.75, 0.75], rtol=1e-6)


def test_initial_box_is_centred_and_same_seed_same_weights():
    a = boxreg.box_regressor((32, 32, 3), width=4, blocks=2, seed=3)
    b = boxreg.box_regressor((32, 32, 3), width=4, blocks=2, seed=3)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    out = keras.ops.convert_to_numpy(a(np.zeros((1, 32, 32, 3), "float32")))
    np.testing.assert_allclose(out[0], [0.35, 0.35, 0.65, 0.65], atol=1e-5)


@pytest.mark.parametrize("loss", ["mae", "iou", "giou", "diou", "ciou"])
def test_one_step_lowers_the_loss_on_its_batch(loss):
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(8, 32, 32, 3)).astype("float32")
    boxes = np.tile(np.array([[0.1, 0.2, 0.4, 0.6]], "float32"), (8, 1))
    model = boxreg.box_regressor((32, 32, 3), width=4, blocks=2)
    model.compile(keras.optimizers.SGD(0.5), loss=losses.get(loss))
    before = model.evaluate(x, boxes, verbose=0)
    model.train_on_batch(x, boxes)
    assert np.isfinite(before) and model.evaluate(x, boxes, verbose=0) < before


def test_flip_augment_mirrors_boxes():
    x = np.arange(2 * 2 * 3 * 1, dtype="float32").reshape(2, 2, 3, 1)
    boxes = np.array([[0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 1.0, 1.0]], "float32")
    x2, b2 = boxreg.flip_augment(x, boxes)
    assert x2.shape == (4, 2, 3, 1)
    np.testing.assert_array_equal(x2[2], x[0][:, ::-1])
    np.testing.assert_allclose(b2[2], [0.7, 0.2, 0.9, 0.4], rtol=1e-6)


def test_box_metrics_by_hand():
    pred = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3]], "float32")
    true = np.array([[0, 0, 1, 0.5], [0, 0, 1, 0.8], [0, 0, 1, 1]], "float32")
    m = boxreg.box_metrics(pred, true)                       # IoUs 0.5, 0.8, 0
    assert m["mean_iou"] == pytest.approx(1.3 / 3)
    assert m["iou>0.5"] == pytest.approx(1 / 3) and m["iou>0.75"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="boxes"):
        boxreg.box_metrics(pred[:2], true)
