"""Segmentation metrics (lossviz.segmetrics) against hand computation and Keras's metrics; mask plots."""

import keras
import numpy as np
import pytest

from lossviz import segmetrics
from lossviz.plots import masks as plots


def _pair():
    """Two 3x4 masks and predictions, counted by hand below."""
    t = np.zeros((2, 3, 4, 1), "float32")
    p = np.zeros((2, 3, 4, 1), "float32")
    t[0, 0, :3] = 1                      # image 0: 3 true pixels in the first row
    p[0, 0, 1:, 0] = [0.9, 0.5, 0.7]       # predicted: columns 1, 2 (0.5 counts) and 3 -> tp 2, fp 1, fn 1
    t[1, :, 0] = 1                       # image 1: the first column (3 pixels)
    p[1, :, 0, 0] = [0.8, 0.49, 0.2]       # tp 1, fn 2
    p[1, 2, 3] = 1.0                     # fp 1
    return t, p


def test_counts_dice_and_iou_by_hand():
    t, p = _pair()
    c = segmetrics.confusion_counts(t, p)
    assert c["tp"].tolist() == [2, 1] and c["fp"].tolist() == [1, 1] and c["fn"].tolist() == [1, 2]
    assert c["tn"].tolist() == [8, 8]
    np.testing.assert_allclose(segmetrics.dice_scores(t, p), [4 / 6, 2 / 5])
    np.testing.assert_allclose(segmetrics.iou_scores(t, p), [2 / 4, 1 / 4])
    assert segmetrics.pooled_iou(t, p) == pytest.approx(3 / 8)
    # a higher threshold drops the 0.5 and 0.7 pixels of image 0: tp 1, fp 0, fn 2
    np.testing.assert_allclose(segmetrics.dice_scores(t, p, threshold=0.75)[0], 2 / 4)


def test_empty_masks_convention():
    t = np.zeros((3, 4, 4), "float32")
    p = np.zeros((3, 4, 4), "float32")
    p[1, 0, 0] = 1.0                     # image 1: empty target, one false positive
    t[2, 1, 1] = 1.0                     # image 2: one pixel to find, nothing predicted
    np.testing.assert_array_equal(segmetrics.dice_scores(t, p), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(segmetrics.iou_scores(t, p), [1.0, 0.0, 0.0])
    assert segmetrics.pooled_iou(t[:1], p[:1]) == 1.0


def _random(seed, n=6, size=16):
    rng = np.random.default_rng(seed)
    t = (rng.uniform(size=(n, size, size, 1)) < rng.uniform(0.05, 0.5, size=(n, 1, 1, 1))).astype("float32")
    p = np.clip(0.6 * t + rng.uniform(size=t.shape) * 0.7, 0, 1).astype("float32")
    return t, p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pooled_iou_matches_keras_binary_iou(seed):
    t, p = _random(seed)
    metric = keras.metrics.BinaryIoU(target_class_ids=[1], threshold=0.5)
    metric.update_state(t, p)
    assert segmetrics.pooled_iou(t, p) == pytest.approx(float(metric.result()), rel=1e-5)


@pytest.mark.parametrize("seed", [3, 4])
def test_per_image_scores_match_keras_iou_and_f1(seed):
    t, p = _random(seed)
    iou, dice = segmetrics.iou_scores(t, p), segmetrics.dice_scores(t, p)
    for i in range(len(t)):
        m = keras.metrics.IoU(num_classes=2, target_class_ids=[1])
        m.update_state(t[i].astype("int32"), (p[i] >= 0.5).astype("int32"))
        assert iou[i] == pytest.approx(float(m.result()), rel=1e-5)
        f1 = keras.metrics.F1Score(threshold=0.5)     # Dice is the F1 score of the pixels
        f1.update_state(t[i].reshape(-1, 1), p[i].reshape(-1, 1))
        assert dice[i] == pytest.approx(float(keras.ops.convert_to_numpy(f1.result())[0]), rel=1e-5)
    np.testing.assert_allclose(dice, 2 * iou / (1 + iou), rtol=1e-12)


def test_scores_by_object_size():
    t = np.zeros((4, 10, 10, 1), "float32")
    for i, side in enumerate([2, 3, 6, 8]):       # fractions 0.04, 0.09, 0.36, 0.64 -> median 0.225
        t[i, :side, :side] = 1
    p = t.copy()
    p[0, 5:7, 5:7] = 1                             # small object 0: tp 4, fp 4 -> Dice 8 / 12
    p[3, :8, :4] = 0                               # large object 3: half missed -> Dice 64 / 96
    np.testing.assert_allclose(segmetrics.foreground_fractions(t), [0.04, 0.09, 0.36, 0.64])
    np.testing.assert_array_equal(segmetrics.small_objects(t), [True, True, False, False])
    np.testing.assert_array_equal(segmetrics.small_objects(t, split=0.05), [True, False, False, False])
    s = segmetrics.segmentation_scores(t, p)
    assert s["dice_small"] == pytest.approx((8 / 12 + 1) / 2)
    assert s["dice_large"] == pytest.approx((1 + 64 / 96) / 2)
    assert s["iou_small"] == pytest.approx((4 / 8 + 1) / 2) and s["iou_large"] == pytest.approx((1 + 32 / 64) / 2)
    assert s["dice"] == pytest.approx((8 / 12 + 1 + 1 + 64 / 96) / 4)
    assert s["recall"] == pytest.approx((4 + 9 + 36 + 32) / (4 + 9 + 36 + 64))
    assert s["precision"] == pytest.approx((4 + 9 + 36 + 32) / (8 + 9 + 36 + 32))
    assert np.isnan(segmetrics.segmentation_scores(t, p, split=0.0)["dice_small"])   # no small objects


def test_invalid_inputs_say_what_was_expected():
    with pytest.raises(ValueError, match="same shape"):
        segmetrics.dice_scores(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match="threshold"):
        segmetrics.iou_scores(np.zeros((2, 4, 4)), np.zeros((2, 4, 4)), threshold=1.5)


def test_error_map_colours_each_kind_of_pixel():
    rgb = plots.error_map([[1, 1, 0, 0]], [[0.9, 0.1, 0.6, 0.0]])
    expected = [plots.ERROR_COLOURS[k] for k in ("tp", "fn", "fp", "tn")]
    np.testing.assert_allclose(rgb[0], expected)


def test_mask_grid_has_a_panel_per_image_and_column():
    t, p = _random(5, n=3)
    x = np.random.default_rng(0).uniform(size=(3, 16, 16, 3))
    preds = {"dice": p, "bce": 1 - p, "tversky": p}
    fig = plots.mask_grid(x, t, preds, scores={n: segmetrics.dice_scores(t, q) for n, q in preds.items()})
    assert len(fig.axes) == 3 * (2 + 3)
    assert [ax.get_title().split("\n")[0] for ax in fig.axes[:5]] == ["image", "true mask", "dice", "bce", "tversky"]
    with pytest.raises(ValueError, match="predictions"):
        plots.mask_grid(x, t, {"dice": p[:2]})


def test_score_bars_and_curve_panels():
    fig = plots.score_bars({"dice": {"dice": 0.8, "iou": 0.7}, "bce": {"dice": 0.5, "iou": 0.4}})
    assert [tr.name for tr in fig.data] == ["dice", "bce"] and list(fig.data[1].y) == [0.5, 0.4]
    s = np.linspace(0, 1, 5)
    panels = {"nucleus": {"dice": (s, s), "bce": (s, s**2)}, "cell": {"dice": (s, s / 2), "bce": (s, s)}}
    fig = plots.curve_panels(panels, "erosion (pixels)")
    assert len(fig.data) == 4 and len(fig.layout.annotations) == 2       # 4 lines, 2 panel titles
    assert fig.data[0].line.color == fig.data[2].line.color               # same loss, same colour
    with pytest.raises(ValueError, match="scores"):
        plots.score_bars({"dice": {"dice": 0.8}})
