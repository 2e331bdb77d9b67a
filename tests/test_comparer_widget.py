"""LossComparer driven headless (set ``controls[...].value``, read ``figure.data``) and its pure builders."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
import pytest

import lossviz
from lossviz import perturbations as P
from lossviz.plots.comparer import comparer_figure, picture_data, static_figure
from lossviz.widgets.comparer import LossComparer

MASK = np.zeros((32, 32, 1), np.float32)
MASK[8:20, 6:22] = 1.0
IMAGE = np.random.default_rng(0).random((24, 24, 3)).astype(np.float32)
BOX = np.array([0.2, 0.3, 0.5, 0.7], np.float32)


def _png(source: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))


def _markers(cmp: LossComparer) -> tuple[go.Scatter, go.Scatter]:
    first = 2 * len(cmp.responses.losses)
    return cmp.figure.data[first], cmp.figure.data[first + 1]


def test_exported_lazily_and_builds_traces_in_documented_order():
    assert lossviz.LossComparer is LossComparer
    cmp = LossComparer("segmentation", MASK, losses=["dice", "mse"], family="dilation", strengths=9)
    types = [t.type for t in cmp.figure.data]
    assert types == ["scatter"] * 6 + ["heatmap"]
    assert [t.name for t in cmp.figure.data[:4]] == ["dice", "mse", "dice", "mse"]
    assert set(cmp.controls) == {"family", "strength", "losses", "scale"}
    assert cmp.controls["family"].options == tuple(f.name for f in P.families("segmentation"))


def test_strength_moves_markers_and_picture_only():
    cmp = LossComparer("segmentation", MASK, losses=["dice", "mse"], family="dilation", strengths=9)
    curves_before = [np.array(t.y) for t in cmp.figure.data[:4]]
    cmp.controls["strength"].value = 3.0
    ref = P.responses("segmentation", MASK, ["dice", "mse"], "dilation", 9)
    i = ref.index(3.0)
    value_markers, grad_markers = _markers(cmp)
    assert list(value_markers.x) == [ref.strengths[i]] * 2
    np.testing.assert_allclose(value_markers.y, [ref.values["dice"][i], ref.values["mse"][i]], rtol=1e-6)
    np.testing.assert_allclose(grad_markers.y, [ref.grad_norms["dice"][i], ref.grad_norms["mse"][i]], rtol=1e-5)
    picture = np.array(cmp.figure.data[-1].z)
    np.testing.assert_array_equal(picture[:, :32], MASK[..., 0])
    np.testing.assert_array_equal(picture[:, 36:], ref.predictions[i][..., 0])
    assert "strength 3" in cmp.figure.layout.title.text
    for before, trace in zip(curves_before, cmp.figure.data[:4], strict=True):
        np.testing.assert_array_equal(before, np.array(trace.y))


def test_family_change_recomputes_curves_and_resets_the_slider():
    cmp = LossComparer("boxes", BOX, losses=["iou", "giou"], family="scale", strengths=11)
    cmp.controls["strength"].value = 1.2
    cmp.controls["family"].value = "separation"
    ref = P.responses("boxes", BOX, ["iou", "giou"], "separation", 11)
    slider = cmp.controls["strength"]
    assert (slider.min, slider.max, slider.value) == (0.0, 3.0, 0.0)
    np.testing.assert_allclose(cmp.figure.data[0].y, ref.values["iou"], rtol=1e-6)
    np.testing.assert_allclose(cmp.figure.data[3].y, ref.grad_norms["giou"], rtol=1e-5)
    cmp.controls["strength"].value = 2.0  # disjoint boxes: IoU's gradient is 0, GIoU's is not
    _, grad_markers = _markers(cmp)
    assert grad_markers.y[0] == 0.0 and grad_markers.y[1] > 0.0
    target_box, predicted_box = cmp.figure.data[-2], cmp.figure.data[-1]
    assert max(target_box.x) < min(predicted_box.x)


def test_loss_set_and_scale_controls():
    cmp = LossComparer("image", IMAGE, losses=["mse", "mae"], family="offset", strengths=9)
    cmp.controls["losses"].value = ("mse", "mae", "ssim")
    assert [t.name for t in cmp.figure.data[:3]] == ["mse", "mae", "ssim"]
    assert cmp.figure.data[-1].type == "image" and _png(cmp.figure.data[-1].source).shape == (24, 52, 3)
    raw = np.array(cmp.figure.data[0].y)
    cmp.controls["scale"].value = "normalised"
    for k in (0, 1, 2, 3, 5):  # not MAE's gradient: constant size, except at 0 on some backends (a kink)
        y = np.array(cmp.figure.data[k].y)
        assert y.min() == 0.0 and y.max() == 1.0
    np.testing.assert_allclose(cmp.figure.data[0].y, P.normalise(raw))
    cmp.controls["strength"].value = 0.3
    value_markers, _ = _markers(cmp)
    np.testing.assert_allclose(value_markers.y, [1.0, 1.0, np.array(cmp.figure.data[2].y)[-1]], atol=1e-6)


def test_classification_on_logits_shows_probabilities():
    y = np.eye(4, dtype=np.float32)[1]
    cmp = LossComparer("classification", y, family="label_flip", logits=True, strengths=5)
    cmp.controls["strength"].value = 0.999
    bars = cmp.figure.data[-1]
    np.testing.assert_allclose(bars.y, [0, 0.001, 0.999, 0], atol=1e-5)
    _, grad_markers = _markers(cmp)  # CE keeps a gradient near sqrt(2), MSE's nearly vanishes
    assert grad_markers.y[0] > 1.0 and grad_markers.y[1] < 0.01


def test_static_figure_has_one_frame_per_strength():
    cmp = LossComparer("boxes", BOX, losses=["iou", "giou"], family="separation", strengths=13)
    fig = cmp.to_figure(strengths=[0.0, 1.5, 3.0])
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert [f.name for f in fig.frames] == ["0", "1.5", "3"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["0", "1.5", "3"]
    last = fig.frames[-1]
    assert list(last.traces) == [4, 5, 6, 7] and last.data[1].y[0] == 0.0 and last.data[1].y[1] > 0


def test_builders_are_pure_and_validate():
    r = P.responses("segmentation", MASK, ["dice"], "erosion", 5)
    fig = comparer_figure(r, index=2, normalised=True)
    assert isinstance(fig, go.Figure) and len(fig.data) == 5
    assert fig.layout.annotations[0].text == "loss value (normalised)"
    assert static_figure(r).frames
    (picture,) = picture_data("image", IMAGE, IMAGE + 2.0)
    rgb = _png(picture["source"])
    assert np.all(rgb[:, 28:] == 255)  # the prediction clipped to white
    np.testing.assert_array_equal(rgb[:, :24], np.round(IMAGE * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="expected one of"):
        LossComparer("audio", IMAGE)


def test_image_grid_lays_out_columns_and_rows():
    from lossviz.plots.comparer import image_grid

    fig = image_grid({"clean": IMAGE[None].repeat(2, 0), "grey": IMAGE[None, ..., 0].repeat(2, 0)}, rows=2)
    assert [a.text for a in fig.layout.annotations] == ["clean", "grey"]
    assert len(fig.data) == 4 and all(t.type == "image" for t in fig.data)
    assert _png(fig.data[1].source).shape == (24, 24, 3)
