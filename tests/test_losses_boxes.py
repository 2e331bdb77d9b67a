"""Box losses against published values (Rezatofighi et al. 2019; Zheng et al. 2020) and hand-worked IoU."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lossviz import losses
from lossviz.autodiff import value_and_grad

B1, B2, B3, B4 = [-1, -1, 1, 1], [0, 0, 1, 1], [0, 1, 1, 2], [1, 1, 2, 2]


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _pairs(pairs):
    t = np.array([a for a, _ in pairs], "float32")
    p = np.array([b for _, b in pairs], "float32")
    return t, p


def test_reference_giou_published_values():
    t, p = _pairs([(B1, B2), (B2, B3), (B2, B4)])
    np.testing.assert_allclose(_np(losses.giou_loss(t, p)), [0.75, 1.0, 1.5], atol=1e-4)


@pytest.mark.parametrize("fn", [losses.diou_loss, losses.ciou_loss], ids=["diou", "ciou"])
def test_reference_diou_ciou_published_values(fn):
    t, p = _pairs([(B1, B1), (B1, B2), (B1, B3), (B1, B4)])
    np.testing.assert_allclose(_np(fn(t, p)), [0.0, 0.8125, 1.1923, 1.25], atol=1e-4)


def test_reference_iou_hand_worked_values():
    # [0,0,2,2] vs [1,1,3,3]: intersection 1, union 4 + 4 - 1 = 7
    # [0,0,4,2] vs [1,0,3,2]: the second inside the first: 4 / 8
    # [0,0,1,1] vs [2,2,3,3]: disjoint -> 0;  identical -> 1
    a = np.array([[0, 0, 2, 2], [0, 0, 4, 2], [0, 0, 1, 1], [5, 5, 7, 9]], "float32")
    b = np.array([[1, 1, 3, 3], [1, 0, 3, 2], [2, 2, 3, 3], [5, 5, 7, 9]], "float32")
    expected = np.array([1 / 7, 0.5, 0.0, 1.0])
    np.testing.assert_allclose(_np(losses.box_iou(a, b)), expected, atol=1e-6)
    np.testing.assert_allclose(_np(losses.iou_loss(a, b)), 1 - expected, atol=1e-6)
    np.testing.assert_allclose(_np(losses.get("iou", reduction=None)(a, b)), 1 - expected, atol=1e-6)


def test_ciou_aspect_term_hand_worked():
    # target 2x1 at the origin, prediction 1x1 inside it sharing its left half
    t = np.array([[0, 0, 2, 1]], "float32")
    p = np.array([[0, 0, 1, 1]], "float32")
    iou = 0.5
    rho2, c2 = 0.5**2, 2**2 + 1**2
    v = 4 / np.pi**2 * (np.arctan(2.0) - np.arctan(1.0)) ** 2
    alpha = v / ((1 - iou) + v)
    np.testing.assert_allclose(_np(losses.ciou_loss(t, p)), [1 - iou + rho2 / c2 + alpha * v], atol=1e-6)
    np.testing.assert_allclose(_np(losses.diou_loss(t, p)), [1 - iou + rho2 / c2], atol=1e-6)


def test_boxes_broadcast_over_leading_axes_and_keras_reduction():
    t = np.tile(np.array([B1], "float32"), (2, 3, 1))
    p = np.tile(np.array([B2], "float32"), (2, 3, 1))
    assert _np(losses.giou_loss(t, p)).shape == (2, 3)
    np.testing.assert_allclose(float(losses.get("giou")(t, p)), 0.75, atol=1e-5)


@pytest.mark.parametrize("name", ["iou", "giou", "diou", "ciou"])
def test_invalid_box_shape_raises_a_clear_error(name):
    loss = losses.get(name)
    with pytest.raises(ValueError, match=r"Invalid value for `y_pred`: expected \(\.\.\., 4\) as "
                                         r"\(x1, y1, x2, y2\) with x2 >= x1; received shape \(8, 5\)"):
        loss(np.zeros((8, 4), "float32"), np.zeros((8, 5), "float32"))
    with pytest.raises(ValueError, match="`y_true`"):
        losses.box_iou(np.zeros((3,), "float32"), np.zeros((8, 4), "float32"))


FNS = [losses.iou_loss, losses.giou_loss, losses.diou_loss, losses.ciou_loss]
IDS = ["iou", "giou", "diou", "ciou"]


@pytest.mark.parametrize("fn", FNS, ids=IDS)
def test_zero_area_and_disjoint_boxes_have_finite_values_and_gradients(fn):
    target = np.array([[0, 0, 0, 0], [0.3, 0.3, 0.3, 0.3], [0, 0, 1, 1], [0.2, 0.2, 0.2, 0.6],
                       [0, 0, 1, 1], [0, 0, 0, 0]], "float32")
    pred = np.array([[0, 0, 0, 0], [0.3, 0.3, 0.3, 0.3], [5, 5, 6, 6], [0.2, 0.2, 0.2, 0.6],
                     [0.5, 0.5, 0.5, 0.5], [2, 2, 3, 3]], "float32")
    value, grad = value_and_grad(lambda p: fn(target, p))(pred)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    assert np.all(value >= -1e-6)


@pytest.mark.parametrize("fn", [losses.giou_loss, losses.diou_loss, losses.ciou_loss],
                         ids=["giou", "diou", "ciou"])
def test_disjoint_boxes_are_pulled_towards_the_target(fn):
    # a small gradient step on the prediction lowers the loss (IoU alone has zero gradient here)
    target = np.array([[0, 0, 1, 1]], "float32")
    pred = np.array([[2, 2, 3, 3]], "float32")
    f = value_and_grad(lambda p: fn(target, p))
    value, grad = f(pred)
    assert np.abs(grad).sum() > 0
    assert f(pred - 0.1 * grad)[0][0] < value[0]
    _, iou_grad = value_and_grad(lambda p: losses.iou_loss(target, p))(pred)
    assert np.abs(iou_grad).sum() == 0


def _boxes(draw_coords):
    x1, y1, w, h = draw_coords[..., 0], draw_coords[..., 1], draw_coords[..., 2], draw_coords[..., 3]
    return np.stack([x1, y1, x1 + w, y1 + h], -1).astype("float32")


coords = arrays("float32", (6, 4), elements=st.sampled_from([0.0, 0.0, 0.25, 0.5, 1.0, 3.0, 10.0]))


@settings(max_examples=25, deadline=None)
@given(a=coords, b=coords)
def test_property_box_losses_finite_with_finite_gradients_and_minimal_at_target(pred_grad, a, b):
    target, pred = _boxes(a), _boxes(b)
    for fn in FNS:
        value, grad = pred_grad(fn.__name__, fn)(target, pred)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
        same = _np(fn(target, target))
        assert np.all(same <= value + 1e-5)
        iou = _np(losses.box_iou(target, pred))
        assert np.all((iou >= 0) & (iou <= 1 + 1e-6))
