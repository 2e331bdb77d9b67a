"""The loss doctor: one test per mistake it must catch, a clean case, and the report's behaviour.

Where a finding's fix is code that builds a loss, the test runs that code and checks the doctor is then
satisfied: the fixes are real, not prose.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz
from lossviz.doctor import LossDoctorError, Report, check, describe_loss

RNG = np.random.default_rng(0)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


LOGITS = RNG.normal(size=(24, 3)) * 3
PROBS = softmax(LOGITS)
LABELS = np.arange(24) % 3  # balanced: 8 of each
ONE_HOT = np.eye(3)[LABELS]


def run_fix(finding) -> keras.losses.Loss:
    """Evaluate the code part of a finding's fix (before the comment) to a loss."""
    code = finding.fix.split("#")[0].strip()
    return eval(code, {"lossviz": lossviz, "keras": keras, "np": np})


def codes(report: Report) -> list[str]:
    return report.codes


# --- the clean case -------------------------------------------------------------------------------


def test_clean_case_reports_no_problem_and_the_loss_value():
    report = check(keras.losses.CategoricalCrossentropy(), ONE_HOT, PROBS)
    assert report.findings == [] and report.ok
    expected = -np.mean(np.log(PROBS[np.arange(24), LABELS]))  # by hand
    assert report.value == pytest.approx(expected, rel=1e-5)
    text = str(report)
    assert "No problems found" in text and f"{report.value:.6g}" in text
    assert "No problems found" in report._repr_html_()


def test_clean_case_with_logits_and_a_plain_callable():
    fn = functools.partial(keras.losses.sparse_categorical_crossentropy, from_logits=True)
    report = check(fn, LABELS, LOGITS)
    assert report.findings == []
    assert report.value == pytest.approx(-np.mean(np.log(PROBS[np.arange(24), LABELS])), rel=1e-5)


# --- logits vs probabilities ----------------------------------------------------------------------


def test_probabilities_given_to_a_from_logits_loss():
    report = check(keras.losses.CategoricalCrossentropy(from_logits=True), ONE_HOT, PROBS)
    assert codes(report) == ["probabilities-to-logits-loss"]
    finding = report.findings[0]
    assert finding.severity == "error" and "from_logits=True" in finding.message
    assert report.value is None and not report.ok
    assert check(run_fix(finding), ONE_HOT, PROBS).findings == []


def test_probabilities_given_to_a_binary_logits_loss():
    y = (RNG.random((30, 1)) < 0.5).astype("float32")
    p = RNG.uniform(0.05, 0.95, size=(30, 1))
    report = check(keras.losses.BinaryCrossentropy(from_logits=True), y, p)
    assert codes(report) == ["probabilities-to-logits-loss"]


def test_logits_given_to_a_probability_loss():
    report = check(keras.losses.CategoricalCrossentropy(), ONE_HOT, LOGITS)
    assert codes(report) == ["logits-to-probability-loss"]
    fixed = run_fix(report.findings[0])
    assert fixed.get_config()["from_logits"] is True
    assert check(fixed, ONE_HOT, LOGITS).findings == []


def test_logits_given_to_dice_which_has_no_logits_option():
    y = np.zeros((2, 8, 8, 1))
    y[:, 2:6, 2:6] = 1
    report = check(keras.losses.Dice(), y, RNG.normal(size=y.shape) * 4)
    assert codes(report) == ["logits-to-probability-loss"]
    assert "sigmoid" in report.findings[0].fix


def test_sigmoid_outputs_to_categorical_loss_warns():
    p = RNG.uniform(0.1, 0.9, size=(24, 3))
    report = check(keras.losses.CategoricalCrossentropy(), ONE_HOT, p)
    assert codes(report) == ["probabilities-do-not-sum-to-one"]
    assert report.ok and report.value is not None  # a warning does not stop evaluation


# --- one-hot vs integer labels, labels out of range ------------------------------------------------


def test_one_hot_labels_given_to_sparse_crossentropy():
    report = check(keras.losses.SparseCategoricalCrossentropy(), ONE_HOT, PROBS)
    assert codes(report) == ["one-hot-labels-to-sparse-loss"]
    assert "argmax" in report.findings[0].fix
    assert check(run_fix(report.findings[0]), ONE_HOT, PROBS).findings == []


def test_integer_labels_given_to_categorical_crossentropy():
    report = check(keras.losses.CategoricalCrossentropy(), LABELS, PROBS)
    assert codes(report) == ["integer-labels-to-categorical-loss"]
    assert "to_categorical" in report.findings[0].fix
    assert check(run_fix(report.findings[0]), LABELS, PROBS).findings == []


@pytest.mark.parametrize("bad", [3, -1])
def test_label_out_of_range(bad):
    labels = LABELS.copy()
    labels[5] = bad
    report = check(keras.losses.SparseCategoricalCrossentropy(), labels, PROBS)
    assert codes(report) == ["label-out-of-range"]
    assert "0..2" in report.findings[0].message and str(bad) in report.findings[0].message


def test_ignore_class_is_not_out_of_range():
    labels = LABELS.copy()
    labels[5] = -1
    assert check(keras.losses.SparseCategoricalCrossentropy(ignore_class=-1), labels, PROBS).findings == []


def test_class_index_too_large_for_a_binary_loss():
    y = np.array([[0.0], [1.0], [2.0], [1.0]])
    report = check(keras.losses.BinaryCrossentropy(), y, np.full((4, 1), 0.5))
    assert codes(report) == ["label-out-of-range"]


# --- masks ----------------------------------------------------------------------------------------


def test_mask_in_0_255():
    mask = np.zeros((2, 16, 16, 1))
    mask[:, 4:12, 4:12] = 255
    report = check(keras.losses.BinaryCrossentropy(), mask, np.full(mask.shape, 0.5))
    assert codes(report) == ["mask-in-0-255"]
    fixed = eval(report.findings[0].fix.split("#")[0].split("=", 1)[1], {"y_true": mask})
    assert set(np.unique(fixed)) == {0.0, 1.0}
    assert check(keras.losses.BinaryCrossentropy(), fixed, np.full(mask.shape, 0.5)).ok


# --- boxes ----------------------------------------------------------------------------------------

# BCCD-like cells in pixels (x1, y1, x2, y2), and the same boxes as (x, y, w, h)
XYXY = np.array([[68.0, 316, 172, 417], [300, 200, 380, 290], [10, 20, 90, 120], [500, 40, 600, 150]])
XYWH = np.concatenate([XYXY[:, :2], XYXY[:, 2:] - XYXY[:, :2]], axis=-1)


def box_loss(y_true, y_pred):  # an L1 box loss named like one: the doctor reads "iou" -> detection
    return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)


box_loss.__name__ = "giou_loss"


def test_boxes_given_as_xywh():
    report = check(box_loss, XYWH, XYXY + 3)
    assert codes(report) == ["boxes-not-xyxy"]
    assert "(x, y, w, h)" in report.findings[0].message and "convert_format" in report.findings[0].fix
    converted = keras.ops.convert_to_numpy(
        keras.utils.bounding_boxes.convert_format(XYWH, source="xywh", target="xyxy"))
    np.testing.assert_allclose(converted, XYXY)  # the suggested fix restores the boxes
    assert check(box_loss, converted, XYXY + 3).findings == []


def test_boxes_with_swapped_corners():
    swapped = XYXY[:, [2, 3, 0, 1]]
    report = check(box_loss, swapped, XYXY)
    assert codes(report) == ["boxes-not-xyxy"]
    assert "x2 < x1" in report.findings[0].message and "both axes" in report.findings[0].message


def test_predicted_boxes_inverted_is_a_warning():
    report = check(box_loss, XYXY, XYXY[:, [2, 1, 0, 3]])
    assert codes(report) == ["predicted-boxes-inverted"] and report.ok


def test_box_shape():
    report = check(box_loss, XYXY[:, :3], XYXY[:, :3])
    assert codes(report) == ["box-shape"]


def test_boxes_in_pixels_vs_normalised():
    report = check(box_loss, XYXY, XYXY / 640.0)
    assert codes(report) == ["scale-mismatch"]


# --- shapes ---------------------------------------------------------------------------------------


def my_mae(y_true, y_pred):
    return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)


def test_rank_mismatch_is_an_error_for_a_hand_written_loss():
    y = RNG.normal(size=(8,))
    report = check(my_mae, y, y[:, None])
    assert codes(report) == ["rank-mismatch"] and report.findings[0].severity == "error"
    assert "(8, 8)" in report.findings[0].message
    # the harm is real: the hand-written loss of identical values is not 0 when shapes differ
    assert float(np.mean(keras.ops.convert_to_numpy(my_mae(y, y[:, None])))) > 0.1


def test_rank_mismatch_is_a_warning_for_keras_own_loss():
    y = RNG.normal(size=(8,))
    report = check(keras.losses.MeanSquaredError(), y, y[:, None])
    assert codes(report) == ["rank-mismatch"] and report.findings[0].severity == "warning"
    assert report.value == pytest.approx(0.0)  # Keras squeezes, so the loss is right


def test_shape_mismatch():
    report = check(keras.losses.MeanSquaredError(), np.zeros((8, 3)), np.zeros((8, 4)))
    assert codes(report) == ["shape-mismatch"]
    report = check(keras.losses.CategoricalCrossentropy(), np.eye(4)[LABELS[:8]], PROBS[:8])
    assert codes(report) == ["shape-mismatch"]


# --- NaN / inf ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs(bad):
    p = PROBS.copy()
    p[3, 1] = bad
    report = check(keras.losses.CategoricalCrossentropy(), ONE_HOT, p)
    assert codes(report) == ["non-finite-input"] and "y_pred" in report.findings[0].message


# --- class imbalance ------------------------------------------------------------------------------

BCCD_LIKE = np.array([0] * 44 + [1] * 4 + [2] * 4)  # 11:1:1, as RBC:WBC:Platelets in BCCD


def test_class_imbalance_with_an_unweighted_loss():
    p = softmax(RNG.normal(size=(52, 3)))
    report = check(keras.losses.SparseCategoricalCrossentropy(), BCCD_LIKE, p)
    assert codes(report) == ["class-imbalance-unweighted"] and report.ok
    assert "[44, 4, 4]" in report.findings[0].message and "11.0" in report.findings[0].message
    assert "weighted_categorical_crossentropy" in report.findings[0].fix


def test_weighted_and_focal_losses_do_not_warn_about_imbalance():
    p = softmax(RNG.normal(size=(52, 3)))
    assert check(keras.losses.CategoricalFocalCrossentropy(), np.eye(3)[BCCD_LIKE], p).findings == []
    assert check(keras.losses.SparseCategoricalCrossentropy(), LABELS, PROBS).findings == []  # balanced


def test_foreground_imbalance_in_a_mask_with_plain_bce():
    mask = np.zeros((2, 20, 20, 1))
    mask[:, 8:12, 8:12] = 1  # 4% foreground
    report = check(keras.losses.BinaryCrossentropy(), mask, np.full(mask.shape, 0.3))
    assert codes(report) == ["class-imbalance-unweighted"]
    assert "4.0%" in report.findings[0].message


# --- the report -----------------------------------------------------------------------------------


def test_raise_on_error_and_raise_for_errors():
    with pytest.raises(LossDoctorError) as info:
        check(keras.losses.CategoricalCrossentropy(), LABELS, PROBS, raise_on_error=True)
    assert isinstance(info.value, ValueError)
    assert "integer-labels-to-categorical-loss" in str(info.value)
    assert info.value.report.codes == ["integer-labels-to-categorical-loss"]
    assert lossviz.LossDoctorError is LossDoctorError
    check(keras.losses.CategoricalCrossentropy(), ONE_HOT, PROBS, raise_on_error=True).raise_for_errors()


def test_report_text_and_html_show_code_message_and_fix():
    report = check(keras.losses.SparseCategoricalCrossentropy(), ONE_HOT, PROBS)
    text, page = str(report), report._repr_html_()
    for part in ("one-hot-labels-to-sparse-loss", "error", "fix:", "argmax"):
        assert part in text
    assert "<table>" in page and "one-hot-labels-to-sparse-loss" in page and "&quot;" in page


def test_a_loss_that_raises_is_reported():
    def broken(y_true, y_pred):
        raise RuntimeError("boom")

    report = check(broken, np.zeros(4), np.zeros(4))
    assert codes(report) == ["loss-raised"] and "boom" in report.findings[0].message


def test_describe_reads_the_config_and_callable_defaults():
    info = describe_loss(keras.losses.BinaryFocalCrossentropy(from_logits=True))
    assert (info.kind, info.from_logits, info.weighted) == ("binary", True, True)
    info = describe_loss(keras.losses.sparse_categorical_crossentropy)
    assert (info.kind, info.from_logits) == ("sparse", False)
    with pytest.raises(TypeError, match="expected a catalogue name"):
        check(42, [0], [0])


# --- catalogue names ------------------------------------------------------------------------------


def test_catalogue_names_and_aliases_resolve_to_their_family():
    assert describe_loss("giou").kind == "detection"
    assert describe_loss("bce").name == "binary_crossentropy"  # an alias
    assert describe_loss("l2").kind == "regression"
    assert describe_loss(lossviz.losses.get("tversky")).family == "segmentation"


def test_catalogue_box_loss_with_xywh_boxes():
    report = check("giou", XYWH / 640, XYXY / 640)
    assert codes(report) == ["boxes-not-xyxy"]
    fixed = check("giou", XYXY / 640, XYXY / 640 + 0.01)
    assert fixed.findings == [] and 0.0 < fixed.value < 1.0


def test_catalogue_dice_with_a_0_255_mask():
    mask = np.zeros((2, 16, 16, 1))
    mask[:, 4:12, 4:12] = 255
    assert codes(check("dice", mask, np.full(mask.shape, 0.5))) == ["mask-in-0-255"]
    report = check("dice", mask / 255, mask / 255)
    assert report.findings == [] and report.value == pytest.approx(0.0, abs=1e-5)


def test_ssim_on_0_255_images_with_max_val_1():
    x = RNG.random((2, 32, 32, 1)).astype("float32")
    report = check("ssim", x * 255, x * 255)
    assert codes(report) == ["image-range-exceeds-max-val"]
    fixed = check(run_fix(report.findings[0]), x * 255, x * 255)
    assert fixed.findings == [] and fixed.value == pytest.approx(0.0, abs=1e-4)  # 1 - SSIM(x, x)


def test_weighted_crossentropy_needs_its_weights_to_count_as_weighted():
    p = softmax(RNG.normal(size=(52, 3)))
    y = np.eye(3)[BCCD_LIKE]
    assert codes(check("weighted_categorical_crossentropy", y, p)) == ["class-imbalance-unweighted"]
    report = check("categorical_crossentropy", y, p)
    weighted = run_fix(report.findings[0])  # builds the weighted loss with weights from the counts
    np.testing.assert_allclose(weighted.get_config()["class_weights"], [52 / (3 * 44), 52 / 12, 52 / 12], rtol=1e-6)
    assert check(weighted, y, p).findings == []


def test_empty_inputs_are_an_error_not_a_crash():
    report = check(keras.losses.MeanSquaredError(), np.zeros((0, 3)), np.zeros((0, 3)))
    assert codes(report) == ["empty-input"]


# --- properties -----------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), k=st.integers(2, 6), n=st.integers(1, 12), scale=st.floats(1.5, 50.0))
def test_well_formed_inputs_are_clean_and_raw_scores_are_always_flagged(seed, k, n, scale):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * scale
    logits[0, 0] = scale  # at least one value outside [0, 1]
    labels = rng.integers(0, k, size=n)
    y = np.eye(k)[labels]
    clean = check(keras.losses.CategoricalCrossentropy(), y, softmax(logits))
    assert clean.ok and "probabilities-do-not-sum-to-one" not in clean.codes
    assert check(keras.losses.CategoricalCrossentropy(from_logits=True), y, logits).ok
    assert "logits-to-probability-loss" in check(keras.losses.CategoricalCrossentropy(), y, logits).codes
    assert "probabilities-to-logits-loss" in check(
        keras.losses.CategoricalCrossentropy(from_logits=True), y, softmax(logits)).codes
