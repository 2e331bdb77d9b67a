"""The DIoU-paper simulation (lossviz.boxsim): cases, schedule, one hand-computed step, orderings."""

import numpy as np
import pytest

from lossviz import boxsim


def test_learning_rate_schedule_matches_the_paper():
    rates = [boxsim.learning_rate(t, 200) for t in range(1, 201)]
    assert rates[:160] == [0.1] * 160          # iterations 1..160
    assert rates[160:180] == [0.01] * 20       # 161..180
    assert rates[180:] == [0.001] * 20         # 181..200


def test_cases_layout():
    cases = boxsim.make_cases(10, seed=1)
    assert cases.anchors.shape == (10 * 7 * 7 * 7, 4)
    # anchors centred within radius 3 of (10, 10), areas are the 7 scales, aspect ratios the 7 ratios
    assert np.all(np.hypot(cases.anchors[:, 0] - 10, cases.anchors[:, 1] - 10) <= 3 + 1e-5)
    area = cases.anchors[:, 2] * cases.anchors[:, 3]
    np.testing.assert_allclose(area, np.asarray(boxsim.ANCHOR_SCALES)[cases.scale], rtol=1e-5)
    np.testing.assert_allclose(cases.anchors[:, 2] / cases.anchors[:, 3],
                               np.asarray(boxsim.ASPECT_RATIOS)[cases.ratio], rtol=1e-5)
    np.testing.assert_allclose(cases.targets[:, 2] * cases.targets[:, 3], 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.unique(cases.targets[:, 2] / cases.targets[:, 3]), boxsim.ASPECT_RATIOS, rtol=1e-5)


def test_full_size_has_1715000_cases_without_running():
    assert boxsim.N_POINTS * 7 * 7 * 7 == 1_715_000


def test_one_iou_step_matches_hand_computation():
    # target centred at 0, 2 x 2; anchor 2 x 2 shifted by (0.5, 0.25): partial overlap, no kinks.
    target = np.array([[0.0, 0.0, 2.0, 2.0]], "float32")
    anchor = np.array([[0.5, 0.25, 2.0, 2.0]], "float32")
    iw, ih = 2 - 0.5, 2 - 0.25                 # overlap widths: 1.5, 1.75
    inter, union = iw * ih, 8 - iw * ih
    iou = inter / union
    # d inter / dx = -ih; d union / dx = +ih  -> d IoU / dx
    d_iou_dx = (-ih * union - inter * ih) / union**2
    # width: left edge x - w/2 moves, right edge clipped by the target: d iw / dw = 1/2
    d_inter_dw = ih / 2
    d_union_dw = 2.0 - d_inter_dw              # h - d inter / dw
    d_iou_dw = (d_inter_dw * union - inter * d_union_dw) / union**2
    grad = boxsim.gradient_function("iou")(anchor[None], target)[0, 0]
    np.testing.assert_allclose(grad[0], -d_iou_dx, rtol=1e-4)
    np.testing.assert_allclose(grad[2], -d_iou_dw, rtol=1e-4)
    np.testing.assert_allclose(boxsim.iou_xywh(anchor, target), [iou], rtol=1e-5)
    new = boxsim.step(anchor, target, grad[None], 0.1)
    np.testing.assert_allclose(new[0, 0], 0.5 - 0.1 * (2 - iou) * (-d_iou_dx), rtol=1e-5)
    np.testing.assert_allclose(new[0, 2], 2.0 - 0.1 * (2 - iou) * (-d_iou_dw), rtol=1e-5)


def test_disjoint_boxes_iou_gives_no_gradient_giou_and_diou_do():
    target = np.array([[0.0, 0.0, 1.0, 1.0]], "float32")
    anchor = np.array([[3.0, 0.0, 1.0, 1.0]], "float32")
    grads = boxsim.gradient_function(["iou", "giou", "diou"])(np.stack([anchor] * 3), target)
    assert np.all(grads[0] == 0)
    assert grads[1, 0, 0] > 0 and grads[2, 0, 0] > 0   # both pull the box left, towards the target


def test_gradient_function_rejects_bad_input():
    with pytest.raises(ValueError, match="losses"):
        boxsim.gradient_function("l1")
    with pytest.raises(ValueError, match="anchors"):
        boxsim.gradient_function(["iou", "diou"])(np.zeros((1, 2, 4), "float32"), np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="n_points"):
        boxsim.make_cases(0)


@pytest.fixture(scope="module")
def sim():
    return boxsim.simulate(n_points=4, iterations=60)


def test_simulation_is_finite_and_starts_from_the_same_error(sim):
    start = boxsim.case_errors(sim.cases.anchors, sim.cases.targets).sum()
    for loss in boxsim.LOSSES:
        assert sim.errors[loss].shape == (61,)
        assert np.all(np.isfinite(sim.errors[loss])) and sim.finite[loss]
        np.testing.assert_allclose(sim.errors[loss][0], start, rtol=1e-6)
        np.testing.assert_allclose(sim.final_errors[loss].sum(), sim.errors[loss][-1], rtol=1e-5)


def test_diou_and_giou_end_far_below_iou(sim):
    e = {k: v[-1] for k, v in sim.errors.items()}
    assert e["diou"] < 0.5 * e["iou"] and e["ciou"] < 0.5 * e["iou"] and e["giou"] < 0.5 * e["iou"]
    # IoU loss cannot move the disjoint anchors: its error stays above half the start
    assert e["iou"] > 0.5 * sim.errors["iou"][0]


def test_checkpoint_table_scales_the_paper(sim):
    table = boxsim.checkpoint_table(sim, checkpoints=(0, 20, 60, 200))
    assert list(table.index) == [0, 20, 60]                     # 200 > iterations: dropped
    assert table.loc[0, "iou paper"] == pytest.approx(6.5e6 * 4 / 5000)
    assert np.isnan(table.loc[20, "iou paper"])


def test_residuals_group_means(sim):
    r = boxsim.residuals(sim, "iou", by="scale")
    np.testing.assert_allclose((r["mean"] * r["count"]).sum(), sim.final_errors["iou"].sum(), rtol=1e-6)
    assert boxsim.residuals(sim, "iou", by="point")["x"].shape == (4,)
    with pytest.raises(ValueError, match="by"):
        boxsim.residuals(sim, "iou", by="colour")


def test_device_loop_equals_the_step_by_step_update():
    # the compiled on-device loop of simulate() against the documented update, one numpy step at a time
    sim = boxsim.simulate(n_points=2, losses=("giou", "ciou"), iterations=12, seed=3)
    grad_fn = boxsim.gradient_function(["giou", "ciou"])
    boxes = np.stack([sim.cases.anchors] * 2)
    for t in range(1, 13):
        grad = grad_fn(boxes, sim.cases.targets)
        boxes = np.stack([boxsim.step(boxes[i], sim.cases.targets, grad[i], boxsim.learning_rate(t, 12))
                          for i in range(2)])
        for i, loss in enumerate(("giou", "ciou")):
            np.testing.assert_allclose(sim.errors[loss][t], boxsim.case_errors(boxes[i], sim.cases.targets).sum(),
                                       rtol=1e-4)
