"""Perturbation families (strength 0 gives the target back, outside references) and loss responses."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy import ndimage

from lossviz import losses
from lossviz import perturbations as P
from lossviz._perturb_ops import components, distance_to

RNG = np.random.default_rng(0)
IMAGE = RNG.random((24, 20, 3)).astype(np.float32)
MASK = np.zeros((32, 32, 1), np.float32)
MASK[8:20, 6:22] = 1.0
MASK[25:28, 26:29] = 1.0  # a small second object
ONE_HOT = np.eye(5, dtype=np.float32)[2]
BOX = np.array([0.2, 0.3, 0.5, 0.7], np.float32)
TARGETS = {"image": IMAGE, "classification": ONE_HOT, "segmentation": MASK, "boxes": BOX}
LOSSES = {
    "image": ["mse", "mae", "huber", "ssim"],
    "classification": ["categorical_crossentropy", "mse", "categorical_focal"],
    "segmentation": ["binary_crossentropy", "dice", "jaccard", "mse"],
    "boxes": ["iou", "giou", "diou", "ciou", "mae"],
}
ALL = [(f.task, f.name) for f in P.families()]


def test_registry_covers_the_issue():
    names = {t: [f.name for f in P.families(t)] for t in P.TASKS}
    assert names["image"] == ["noise", "offset", "outliers", "blur", "shift"]
    assert names["classification"] == ["confidence", "temperature", "label_flip", "label_smoothing"]
    assert names["segmentation"] == ["dilation", "erosion", "shift", "drop", "small_object"]
    assert names["boxes"] == ["translation", "scale", "aspect", "separation"]
    for f in P.families():
        assert f.description and f.unit and f.strength_range[0] <= 0.0 <= f.strength_range[1]
    assert P.task_name("regression") == "image" and P.task_name("detection") == "boxes"
    with pytest.raises(ValueError, match="expected one of"):
        P.family("image", "rotate")


@pytest.mark.parametrize(("task", "name"), ALL)
def test_strength_zero_gives_the_target_exactly(task, name):
    grid = P.strength_grid(task, name, 17)
    assert np.count_nonzero(grid == 0.0) == 1 and np.all(np.diff(grid) > 0)
    batch = P.perturb(task, name, TARGETS[task], grid)
    assert batch.shape == (17, *TARGETS[task].shape) and batch.dtype == np.float32
    assert np.array_equal(batch[int(np.flatnonzero(grid == 0.0)[0])], TARGETS[task])
    assert not np.array_equal(batch[-1], TARGETS[task])


@pytest.mark.parametrize("name", [f.name for f in P.families("classification")])
def test_classification_logits_give_back_the_target_through_softmax(name):
    z = P.perturb("classification", name, ONE_HOT, [0.0, 0.5], logits=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p[0], ONE_HOT, atol=1e-5)
    binary = P.perturb("classification", name, np.array([1.0], np.float32), [0.0, 0.5], logits=True)
    assert binary[0, 0] > 15  # sigmoid(z) = 1 - 1e-7


def test_image_families_by_hand():
    s = np.array([0.0, 0.1, 0.3], np.float32)
    noisy = P.perturb("image", "noise", IMAGE, s, seed=3)
    np.testing.assert_allclose((noisy[2] - IMAGE) / 0.3, (noisy[1] - IMAGE) / 0.1, atol=1e-4)  # one noise field
    assert abs(np.std(noisy[2] - IMAGE) - 0.3) < 0.03
    np.testing.assert_allclose(P.perturb("image", "offset", IMAGE, s)[2] - IMAGE, 0.3, atol=1e-6)
    out = P.perturb("image", "outliers", IMAGE, s)
    changed = np.abs(out[2] - IMAGE) > 1e-6
    assert changed.sum() == round(0.01 * IMAGE.size) and np.allclose(np.abs(out[2] - IMAGE)[changed], 0.3)


def test_blur_matches_scipy_gaussian_filter_with_mirrored_borders():
    sigmas = np.array([0.0, 0.7, 1.5, 3.0], np.float32)
    out = P.perturb("image", "blur", IMAGE, sigmas)
    for k in (1, 2, 3):
        radius = 9  # ours: ceil(3 * largest sigma) for every sigma of the batch
        ref = ndimage.gaussian_filter(IMAGE, sigma=(sigmas[k], sigmas[k], 0), mode="mirror",
                                      truncate=radius / sigmas[k])
        np.testing.assert_allclose(out[k], ref, atol=1e-4)


def test_shift_moves_right_with_edges_repeated_and_interpolates():
    out = P.perturb("image", "shift", IMAGE, [2.0, -1.0, 0.5])
    np.testing.assert_array_equal(out[0][:, 2:], IMAGE[:, :-2])
    np.testing.assert_array_equal(out[0][:, :2], np.repeat(IMAGE[:, :1], 2, axis=1))
    np.testing.assert_array_equal(out[1][:, :-1], IMAGE[:, 1:])
    np.testing.assert_allclose(out[2][:, 1:], 0.5 * (IMAGE[:, 1:] + IMAGE[:, :-1]), atol=1e-6)


def test_mask_families_match_scipy_references():
    m = MASK[..., 0] > 0
    np.testing.assert_allclose(distance_to(m), ndimage.distance_transform_edt(~m), atol=1e-5)
    radii = np.array([0.0, 1.0, 2.5], np.float32)
    dil = P.perturb("segmentation", "dilation", MASK, radii)[..., 0] > 0
    ero = P.perturb("segmentation", "erosion", MASK, radii)[..., 0] > 0
    for k, r in enumerate(radii):
        np.testing.assert_array_equal(dil[k], ndimage.distance_transform_edt(~m) <= r)
        np.testing.assert_array_equal(ero[k], ndimage.distance_transform_edt(m) > r)
    labels, count = ndimage.label(m)
    ours = components(m)
    assert ours.max() == count == 2
    assert len({(a, b) for a, b in zip(ours[m], labels[m], strict=True)}) == count  # same partition


def test_drop_and_small_object():
    half = P.perturb("segmentation", "drop", MASK, [0.5, 1.0])
    assert half[1].sum() == 0
    small = P.perturb("segmentation", "small_object", MASK, [1.0])[0]
    np.testing.assert_array_equal(small[:24], MASK[:24])  # the large object untouched
    assert small[24:].sum() == 0  # the 3x3 object removed
    shifted = P.perturb("segmentation", "shift", MASK, [3.4])[0]
    np.testing.assert_array_equal(shifted[:, 3:], MASK[:, :-3])


def test_box_families_by_hand():
    w, h = 0.3, 0.4
    np.testing.assert_allclose(P.perturb("boxes", "translation", BOX, [0.5])[0], BOX + 0.5 * np.array([w, h, w, h]),
                               atol=1e-6)
    scaled = P.perturb("boxes", "scale", BOX, [1.0])[0]
    np.testing.assert_allclose([scaled[2] - scaled[0], scaled[3] - scaled[1]], [2 * w, 2 * h], atol=1e-6)
    np.testing.assert_allclose((scaled[:2] + scaled[2:]) / 2, (BOX[:2] + BOX[2:]) / 2, atol=1e-6)
    asp = P.perturb("boxes", "aspect", BOX, [2.0])[0]
    np.testing.assert_allclose([asp[2] - asp[0], asp[3] - asp[1]], [2 * w, h / 2], atol=1e-6)
    with pytest.raises(ValueError, match=r"\(x1, y1, x2, y2\)"):
        P.perturb("boxes", "scale", [0.5, 0.5, 0.1, 0.9], [1.0])


def test_classification_families_by_hand():
    flip = P.perturb("classification", "label_flip", ONE_HOT, [0.25])[0]
    np.testing.assert_allclose(flip, [0, 0, 0.75, 0.25, 0], atol=1e-6)
    conf = P.perturb("classification", "confidence", ONE_HOT, [0.4])[0]
    np.testing.assert_allclose(conf, [0.1, 0.1, 0.6, 0.1, 0.1], atol=1e-6)
    smooth = P.perturb("classification", "label_smoothing", ONE_HOT, [0.5])[0]
    np.testing.assert_allclose(smooth, [0.1, 0.1, 0.6, 0.1, 0.1], atol=1e-6)
    hot = P.perturb("classification", "temperature", ONE_HOT, [2.0])[0]
    e = np.exp([0, 0, 2.0, 0, 0])
    np.testing.assert_allclose(hot, e / e.sum(), atol=1e-6)
    with pytest.raises(ValueError, match="summing to 1"):
        P.perturb("classification", "confidence", [0.5, 0.9], [0.1])


@pytest.mark.parametrize(("task", "name"), ALL)
def test_losses_are_smallest_at_strength_zero(task, name):
    r = P.responses(task, TARGETS[task], LOSSES[task], name, 15)
    zero = r.index(0.0)
    assert r.strengths[zero] == 0.0
    for label, values in r.values.items():
        assert values.shape == (15,) and np.all(np.isfinite(values)), label
        assert values[zero] <= values.min() + 1e-5, (label, values)
        assert values.max() > values[zero] + 1e-4, (label, values)
        assert np.all(np.isfinite(r.grad_norms[label])), label


def test_mse_response_value_and_gradient_by_hand():
    s = np.array([0.0, 0.1, 0.2], np.float32)
    r = P.responses("image", IMAGE, ["mse"], "noise", s, seed=1)
    noise = P.perturb("image", "noise", IMAGE, [1.0], seed=1)[0] - IMAGE
    n = IMAGE.size
    np.testing.assert_allclose(r.values["mse"], s**2 * np.mean(noise**2), rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(r.grad_norms["mse"], 2 * s * np.linalg.norm(noise) / n, rtol=1e-4, atol=1e-8)


def test_iou_loss_stops_giving_a_gradient_once_boxes_are_disjoint():
    r = P.responses("boxes", BOX, ["iou", "giou", "diou"], "separation", [0.5, 1.2, 2.0, 3.0])
    np.testing.assert_allclose(r.values["iou"][1:], 1.0, atol=1e-6)
    assert np.all(r.grad_norms["iou"][1:] == 0.0) and r.grad_norms["iou"][0] > 0
    assert np.all(r.grad_norms["giou"] > 1e-3) and np.all(r.grad_norms["diou"] > 1e-3)
    assert np.all(np.diff(r.values["giou"]) > 0) and np.all(np.diff(r.values["diou"]) > 0)


def test_confident_mistakes_ce_gradient_stays_large_mse_vanishes_on_logits():
    s = np.array([0.5, 0.9, 0.99, 0.999], np.float32)
    r = P.responses("classification", ONE_HOT, ["categorical_crossentropy", "mse"], "label_flip", s, logits=True)
    np.testing.assert_allclose(r.grad_norms["categorical_crossentropy"], np.sqrt(2) * s, rtol=1e-3)  # |p - y|
    assert r.grad_norms["mse"][-1] < 0.01 * r.grad_norms["mse"][0]
    assert np.all(np.diff(r.grad_norms["mse"]) < 0)
    np.testing.assert_allclose(r.values["categorical_crossentropy"], -np.log(1 - s), rtol=1e-3)


def test_normalise_and_curves():
    np.testing.assert_allclose(P.normalise([2.0, 4.0, 3.0]), [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(P.normalise([5.0, 5.0]), [0.0, 0.0])
    r = P.responses("boxes", BOX, ["iou", "giou"], "scale", 9)
    for curve in r.curves("grad", normalised=True).values():
        assert curve.min() == 0.0 and curve.max() == 1.0


def test_custom_callable_and_keras_loss_objects():
    import keras

    r = P.responses("image", IMAGE, {"own l2": lambda y, p: keras.ops.mean((y - p) ** 2, axis=(1, 2, 3)),
                                     "keras": keras.losses.MeanSquaredError(), "cat": "mse"}, "offset", 7)
    np.testing.assert_allclose(r.values["own l2"], r.values["cat"], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(r.values["keras"], r.values["cat"], rtol=1e-5, atol=1e-9)
    with pytest.raises(ValueError, match="only the classification task"):
        P.responses("image", IMAGE, ["mse"], "offset", 5, logits=True)


def test_psnr_and_scores_match_tensorflow():
    tf = pytest.importorskip("tensorflow")
    from lossviz.metrics import psnr, restoration_scores

    noisy = np.clip(IMAGE + 0.05 * RNG.standard_normal(IMAGE.shape), 0, 1).astype(np.float32)
    a, b = np.stack([IMAGE, IMAGE]), np.stack([noisy, np.clip(noisy + 0.1, 0, 1)])
    np.testing.assert_allclose(np.asarray(psnr(a, b)), tf.image.psnr(a, b, max_val=1.0).numpy(), rtol=1e-4)
    scores = restoration_scores(a, b)
    assert abs(scores["ssim"] - float(tf.reduce_mean(tf.image.ssim(a, b, max_val=1.0)))) < 1e-4
    assert abs(scores["l2"] - float(np.mean((a - b) ** 2))) < 1e-7 and scores["l1"] > 0


def test_denoise_cnn_is_seeded_and_keeps_the_shape():
    from lossviz.models.denoise import denoise_cnn

    first, second, other = denoise_cnn((16, 16, 3), 8, 3, seed=1), denoise_cnn((16, 16, 3), 8, 3, seed=1), \
        denoise_cnn((16, 16, 3), 8, 3, seed=2)
    for w1, w2 in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])
    assert first.predict(IMAGE[None, :16, :16], verbose=0).shape == (1, 16, 16, 3)


def test_strength_for_finds_equal_loss_points():
    s = P.strength_for("image", IMAGE, "offset", "mse", 0.01, np.linspace(0, 0.3, 31))
    assert abs(s - 0.1) < 1e-3  # mse of a constant offset c is c**2
    with pytest.raises(ValueError, match="is not crossed"):
        P.strength_for("image", IMAGE, "offset", "mse", 5.0, np.linspace(0, 0.3, 31))


def test_compiled_response_functions_equal_the_eager_evaluation():
    rng = np.random.default_rng(2)
    target = rng.uniform(size=(24, 24, 3)).astype("float32")
    # XLA-compiled (regression family) and one-reference (restoration family) functions among them
    losses = {"mse": "mse", "huber": ("huber", {"delta": 0.1}), "log_cosh": "log_cosh",
              "ssim": ("ssim", {"filter_size": 7}), "ms_ssim": "ms_ssim", "l1_ms_ssim": "l1_ms_ssim"}
    functions: dict = {}
    for fam, opts in (("noise", {"seed": 0}), ("shift", {})):   # the second family reuses the functions
        eager = P.responses("image", target, losses, fam, 8, **opts)
        compiled = P.responses("image", target, losses, fam, 8, functions=functions, **opts)
        for k in losses:
            np.testing.assert_allclose(compiled.values[k], eager.values[k], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(compiled.grad_norms[k], eager.grad_norms[k], rtol=1e-4, atol=1e-6)
    # one compiled response function per loss, except the two that share MS-SSIM: its value and
    # gradient are computed once and both sums formed from them
    assert {k for k in functions if isinstance(k, str)} == set(losses) - {"ms_ssim", "l1_ms_ssim"}
    assert {k[1] for k in functions if isinstance(k, tuple) and k[0] == "sum"} == {"ms_ssim", "l1_ms_ssim"}
    assert sum(1 for k in functions if isinstance(k, tuple) and k[0] == "grad" and "ms_ssim" in k[1]) == 1


@pytest.mark.parametrize("name, options, task, shape", [
    ("l1_ms_ssim", {}, "image", (3, 48, 48, 3)),
    ("l1_ms_ssim", {"alpha": 0.5, "filter_size": 5}, "image", (3, 24, 24, 1)),
    ("bce_dice", {"bce_weight": 2.0, "dice_weight": 0.3}, "segmentation", (3, 16, 16, 1)),
])
def test_a_weighted_sum_loss_equals_the_sum_of_its_parts(name, options, task, shape):
    rng = np.random.default_rng(3)
    y = (rng.uniform(size=shape) > 0.5).astype("float32") if task == "segmentation" else \
        rng.uniform(size=shape).astype("float32")
    p = rng.uniform(0.05, 0.95, size=shape).astype("float32")
    whole = keras.ops.convert_to_numpy(losses.get(name, **options, reduction=None)(y, p))
    total = 0.0
    for weight, spec in losses.parts(name, **options):
        part_name, part_options = (spec, {}) if isinstance(spec, str) else spec
        value = keras.ops.convert_to_numpy(losses.get(part_name, **part_options, reduction=None)(y, p))
        total = total + weight * value.reshape(len(p), -1).mean(axis=1)
    np.testing.assert_allclose(whole, total, rtol=1e-5, atol=1e-6)


def test_shared_terms_give_the_same_curves_as_each_loss_alone():
    target = (np.add.outer(np.arange(32), np.arange(32)) < 30).astype("float32")[..., None]
    both = {"dice": "dice", "bce_dice": ("bce_dice", {"bce_weight": 0.7})}
    shared: dict = {}
    r = P.responses("segmentation", target, both, "dilation", 8, functions=shared)
    assert ("sum", "bce_dice") in shared and "bce_dice" not in shared
    alone: dict = {}
    for label, spec in both.items():
        one = P.responses("segmentation", target, {label: spec}, "dilation", 8, functions=alone)
        np.testing.assert_allclose(r.values[label], one.values[label], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(r.grad_norms[label], one.grad_norms[label], rtol=1e-4, atol=1e-7)
    assert "bce_dice" in alone        # alone, the sum is one compiled function


def test_ssim_and_ms_ssim_computed_together_give_the_curves_of_each_alone():
    rng = np.random.default_rng(3)
    target = rng.random((40, 40, 3)).astype("float32")
    specs = {"ssim": "ssim", "ms_ssim": "ms_ssim", "mix": "l1_ms_ssim", "ssim 7": ("ssim", {"filter_size": 7})}
    shared: dict = {}
    r = P.responses("image", target, specs, "noise", 6, functions=shared)
    joint = [k for k in shared if isinstance(k, tuple) and k[0] == "joint"]
    assert len(joint) == 1 and len(joint[0][1]) == 2     # one SSIM + MS-SSIM pass; SSIM 7x7 apart
    for label, spec in specs.items():
        one = P.responses("image", target, {label: spec}, "noise", 6, functions={})
        np.testing.assert_allclose(r.values[label], one.values[label], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(r.grad_norms[label], one.grad_norms[label], rtol=1e-4, atol=1e-7)
    # two MS-SSIMs with different scales next to one SSIM: nothing is computed together
    two: dict = {}
    P.responses("image", target, ["ssim", "ms_ssim", ("ms_ssim", {"power_factors": [0.5, 0.5]})], "noise", 3,
                functions=two)
    assert not [k for k in two if isinstance(k, tuple) and k[0] == "joint"]


def test_losses_sharing_a_name_get_their_own_labels_and_curves():
    target = np.zeros((16, 16, 1), np.float32)
    specs = ["mse", "huber", ("huber", {"delta": 0.01}), "huber"]
    assert list(P.loss_labels(specs)) == ["mse", "huber", "huber delta=0.01", "huber (2)"]
    r = P.responses("image", target, specs, "offset", 5)
    assert set(r.values) == {"mse", "huber", "huber delta=0.01", "huber (2)"}
    # Huber with delta 0.01 is linear beyond 0.01: at an offset of 0.5 it is far below delta 1's quadratic
    assert r.values["huber delta=0.01"][-1] < 0.1 * r.values["huber"][-1]
    np.testing.assert_allclose(r.values["huber (2)"], r.values["huber"])


def test_a_cached_label_that_names_another_loss_is_recomputed():
    target = np.zeros((16, 16, 1), np.float32)
    cache = {}
    first = P.responses("image", target, {"loss": "mse"}, "offset", 5, functions=cache)
    second = P.responses("image", target, {"loss": "mae"}, "offset", 5, functions=cache)
    s = second.strengths
    np.testing.assert_allclose(first.values["loss"], s**2, rtol=1e-5)
    np.testing.assert_allclose(second.values["loss"], np.abs(s), rtol=1e-5)
    weights = ("huber", {"delta": np.float32(0.5)})  # options with numpy values compare fine
    P.responses("image", target, {"loss": weights}, "offset", 5, functions=cache)
