"""lossviz.landscape: filter normalisation, closed-form quadratic landscapes, restored weights, seeds."""

import keras
import numpy as np
import pytest

from lossviz import landscape as L
from lossviz.models import small_cnn


def tiny_cnn(batch_norm: bool = False) -> keras.Model:
    return small_cnn((8, 8, 1), num_classes=3, width=2, batch_norm=batch_norm, seed=1)


def tiny_data(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, n)


SCCE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# ---------------------------------------------------------------- filter normalisation
@pytest.mark.parametrize("batch_norm", [False, True])
def test_each_filter_of_a_random_direction_has_the_norm_of_its_weight_filter(batch_norm):
    model = tiny_cnn(batch_norm)
    weights = L.model_weights(model)
    (d,) = L.random_directions(weights, count=1, seed=3)
    kernels = 0
    for w, di in zip(weights, d, strict=True):
        if w.ndim <= 1:  # biases and BN gamma/beta: zero in the direction
            np.testing.assert_array_equal(di, 0.0)
            continue
        kernels += 1
        for j in range(w.shape[-1]):  # filter j: everything but the last (output) axis
            np.testing.assert_allclose(np.linalg.norm(di[..., j]), np.linalg.norm(w[..., j]), rtol=1e-5)
        assert not np.allclose(di, w)  # a rescaled random direction, not the weights
    assert kernels == 5  # four Conv2D kernels (kh, kw, in, out) and one Dense kernel (in, out)


def test_normalize_direction_by_hand_on_a_dense_kernel_and_bias():
    w = [np.array([[3.0, 0.0], [4.0, 1.0]], "float32"), np.array([5.0, -2.0], "float32")]
    d = [np.array([[1.0, 2.0], [0.0, 2.0]], "float32"), np.array([1.0, 1.0], "float32")]
    out = L.normalize_direction(d, w)
    # column 0: |w| = 5, |d| = 1 -> times 5; column 1: |w| = 1, |d| = sqrt(8)
    np.testing.assert_allclose(out[0], [[5.0, 2 / np.sqrt(8)], [0.0, 2 / np.sqrt(8)]], rtol=1e-6)
    np.testing.assert_array_equal(out[1], [0.0, 0.0])
    kept = L.normalize_direction(d, w, ignore_biases=False)
    np.testing.assert_array_equal(kept[1], w[1])
    layer = L.normalize_direction(d, w, norm="layer")
    np.testing.assert_allclose(np.linalg.norm(layer[0]), np.linalg.norm(w[0]), rtol=1e-6)


def test_normalize_direction_rejects_bad_input():
    w = [np.ones((2, 2), "float32")]
    with pytest.raises(ValueError, match="expected shape"):
        L.normalize_direction([np.ones((3, 2))], w)
    with pytest.raises(ValueError, match="norm"):
        L.normalize_direction([np.ones((2, 2))], w, norm="unit")
    with pytest.raises(ValueError, match="expected 1 arrays"):
        L.normalize_direction([], w)


# ---------------------------------------------------------------- closed form: linear model + MSE
def linear_problem():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = rng.normal(size=(40, 2)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.set_weights([rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=2).astype("float32")])
    return model, x, y


def numpy_mse(x, y, kernel, bias):
    return float(np.mean((x.astype(np.float64) @ kernel + bias - y) ** 2))


def test_2d_slice_of_a_linear_model_with_mse_is_the_hand_computed_quadratic():
    model, x, y = linear_problem()
    kernel, bias = (w.astype(np.float64) for w in model.get_weights())
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-0.5, 1.5, 4)
    plane = L.slice_2d(model, keras.losses.MeanSquaredError(), x, y, alphas=alphas, betas=betas, seed=5,
                       batch_size=16)  # batches of 16, 16, 8: the mean must still be over all 40
    (k1, b1), (k2, b2) = plane.directions
    assert np.all(b1 == 0) and np.all(b2 == 0)  # biases ignored in the directions
    # explicit quadratic: L(a, b) = mean((r + a X D1 + b X D2)^2) with r the residual at the centre
    r = x @ kernel + bias - y
    u, v = x @ k1.astype(np.float64), x @ k2.astype(np.float64)
    coef = [np.mean(r * r), 2 * np.mean(r * u), 2 * np.mean(r * v), np.mean(u * u), 2 * np.mean(u * v), np.mean(v * v)]
    a, b = np.meshgrid(alphas, betas)
    expected = coef[0] + coef[1] * a + coef[2] * b + coef[3] * a**2 + coef[4] * a * b + coef[5] * b**2
    np.testing.assert_allclose(plane.losses, expected, rtol=1e-4, atol=1e-5)
    assert plane.centre_loss == pytest.approx(numpy_mse(x, y, kernel, bias), rel=1e-5)
    # and each grid point against a direct numpy evaluation of the moved weights
    moved = kernel + alphas[1] * k1 + betas[2] * k2
    assert plane.losses[2, 1] == pytest.approx(numpy_mse(x, y, moved, bias), rel=1e-5)


def test_1d_slice_and_interpolation_of_a_linear_model_match_numpy():
    model, x, y = linear_problem()
    kernel, bias = model.get_weights()
    cut = L.slice_1d(model, keras.losses.MeanSquaredError(), x, y, steps=7, span=2.0, seed=2)
    for a, value in zip(cut.alphas, cut.losses, strict=True):
        assert value == pytest.approx(numpy_mse(x, y, kernel + a * cut.direction[0], bias), rel=1e-5)
    start = [np.zeros_like(kernel), np.ones_like(bias)]
    line = L.interpolate(model, keras.losses.MeanSquaredError(), x, y, start, [kernel, bias], alphas=[-0.5, 0, 1, 1.5])
    for a, value in zip(line.alphas, line.losses, strict=True):
        assert value == pytest.approx(numpy_mse(x, y, a * kernel, (1 - a) + a * bias), rel=1e-5)
    assert line.losses[2] == pytest.approx(numpy_mse(x, y, kernel, bias), rel=1e-5)
    assert line.centre_loss == pytest.approx(numpy_mse(x, y, 0 * kernel, 1 + 0 * bias), rel=1e-5)


def test_1d_slice_is_the_zero_row_of_the_2d_slice_for_the_same_seed():
    model, x, y = linear_problem()
    plane = L.slice_2d(model, keras.losses.MeanSquaredError(), x, y, steps=5, seed=4)
    cut = L.slice_1d(model, keras.losses.MeanSquaredError(), x, y, steps=5, seed=4)
    np.testing.assert_allclose(cut.losses, plane.losses[2], rtol=1e-6)


# ---------------------------------------------------------------- the model's own loss, restored weights
@pytest.mark.parametrize("batch_norm", [False, True])
def test_centre_value_equals_keras_evaluate_and_weights_are_restored(batch_norm):
    model = tiny_cnn(batch_norm)
    x, y = tiny_data()
    model.compile(loss=SCCE)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # moves BN statistics away from their initial values
    before = [w.copy() for w in model.get_weights()]
    plane = L.slice_2d(model, SCCE, x, y, steps=3, batch_size=10)
    own = model.evaluate(x, y, batch_size=24, verbose=0)
    assert plane.centre_loss == pytest.approx(own, rel=1e-4)
    assert plane.losses[1, 1] == pytest.approx(own, rel=1e-4)  # the grid's centre point
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_weights_are_restored_when_the_loss_raises_midway():
    model = tiny_cnn()
    x, y = tiny_data()
    before = [w.copy() for w in model.get_weights()]
    calls = []

    def failing_loss(y_true, y_pred):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return SCCE(y_true, y_pred)

    with pytest.raises(RuntimeError, match="boom"):
        L.slice_2d(model, failing_loss, x, y, steps=3, batch_size=10, engine="predict")
    assert len(calls) == 3
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_evaluator_moves_the_model_but_slices_do_not():
    model = tiny_cnn()
    x, y = tiny_data()
    weights = L.model_weights(model)
    evaluate = L.LossEvaluator(model, SCCE, x, y, engine="predict")
    moved = [w + 1.0 for w in weights]
    far = evaluate(moved)
    np.testing.assert_array_equal(L.model_weights(model)[0], moved[0])  # the evaluator assigned them
    assert far != pytest.approx(evaluate(weights))


# ---------------------------------------------------------------- reproducibility
def test_same_seed_same_landscape_other_seed_other_landscape():
    model = tiny_cnn()
    x, y = tiny_data()
    first = L.slice_2d(model, SCCE, x, y, steps=3, seed=11)
    again = L.slice_2d(model, SCCE, x, y, steps=3, seed=11)
    other = L.slice_2d(model, SCCE, x, y, steps=3, seed=12)
    np.testing.assert_array_equal(first.losses, again.losses)
    for d, e in zip(first.directions[0], again.directions[0], strict=True):
        np.testing.assert_array_equal(d, e)
    assert not np.allclose(first.losses, other.losses)


# ---------------------------------------------------------------- trajectories, PCA, sharpness
def test_projection_recovers_known_coordinates_on_non_orthogonal_directions():
    rng = np.random.default_rng(0)
    centre = [rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=4).astype("float32")]
    d1 = [rng.normal(size=(3, 4)).astype("float32"), np.zeros(4, "float32")]
    d2 = [(d1[0] * 0.5 + rng.normal(size=(3, 4))).astype("float32"), np.zeros(4, "float32")]
    coords = np.array([[1.0, -2.0], [0.5, 0.25], [0.0, 0.0]])
    snaps = [[c + a * e + b * f for c, e, f in zip(centre, d1, d2, strict=True)] for a, b in coords]
    path = L.project_trajectory(snaps, (d1, d2), centre)
    np.testing.assert_allclose(path.coords, coords, atol=1e-5)
    np.testing.assert_allclose(path.residual, 0.0, atol=1e-5)
    off = [[snaps[0][0] + 3.0 * rng.normal(size=(3, 4)), snaps[0][1]]]
    assert L.project_trajectory(off, (d1, d2), centre).residual[0] > 0.1


def test_pca_directions_of_a_planar_path_explain_all_of_it():
    rng = np.random.default_rng(1)
    end = [rng.normal(size=(5, 2)), rng.normal(size=2)]
    u, v = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    snaps = [[end[0] + t * u + t**2 * v, end[1] + 0 * t] for t in np.linspace(1, 0, 6)]
    (d1, d2), ratio = L.pca_directions(snaps)
    assert ratio.sum() == pytest.approx(1.0, abs=1e-9) and ratio[0] >= ratio[1] > 0
    assert np.linalg.norm(np.concatenate([d1[0].ravel(), d1[1]])) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_array_equal(d1[1], 0.0)  # biases ignored
    path = L.project_trajectory(snaps, (d1, d2), end)
    np.testing.assert_allclose(path.residual[:-1], 0.0, atol=1e-5)  # kernel-only path lies in the plane
    with pytest.raises(ValueError, match="at least 3"):
        L.pca_directions(snaps[:2])


def test_weight_recorder_records_initial_and_each_epoch():
    model = tiny_cnn()
    x, y = tiny_data()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=SCCE)
    recorder = L.WeightRecorder()
    model.fit(x, y, epochs=3, batch_size=12, verbose=0, callbacks=[recorder])
    assert len(recorder.snapshots) == 1 + 3
    epochs = [r[0] for r in recorder.snapshots]
    assert all(not np.array_equal(a, b) for a, b in zip(epochs[:-1], epochs[1:], strict=True))
    np.testing.assert_array_equal(epochs[-1], L.model_weights(model)[0])


def test_weight_recorder_every_batch():
    model = tiny_cnn()
    x, y = tiny_data()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=SCCE)
    initial = L.model_weights(model)
    recorder = L.WeightRecorder(every_batches=1)
    model.fit(x, y, epochs=2, batch_size=12, verbose=0, callbacks=[recorder])
    assert len(recorder.snapshots) == 1 + 2 * 2  # start and 2 batches per epoch (epoch ends not repeated)
    np.testing.assert_array_equal(recorder.snapshots[0][0], initial[0])
    np.testing.assert_array_equal(recorder.snapshots[-1][0], L.model_weights(model)[0])
    assert not np.array_equal(recorder.snapshots[1][0], recorder.snapshots[2][0])  # batches differ


def test_sharpness_of_a_linear_model_matches_the_quadratic():
    model, x, y = linear_problem()
    kernel, bias = model.get_weights()
    result = L.sharpness(model, keras.losses.MeanSquaredError(), x, y, radius=0.5, count=3, seed=9)
    directions = L.random_directions([kernel, bias], count=3, seed=9)
    expected = [numpy_mse(x, y, kernel + s * 0.5 * d[0], bias) for d in directions for s in (1, -1)]
    np.testing.assert_allclose(result.losses, expected, rtol=1e-5)
    assert result.mean_increase == pytest.approx(np.mean(expected) - numpy_mse(x, y, kernel, bias), rel=1e-4)
    # the average of L(w + r d) and L(w - r d) minus L(w) is the curvature term r^2 mean((X d)^2) > 0
    assert result.mean_increase > 0


def test_jit_engine_agrees_with_predict_engine_on_jax_and_is_refused_elsewhere():
    model = tiny_cnn(batch_norm=True)
    x, y = tiny_data()
    if keras.backend.backend() != "jax":
        with pytest.raises(ValueError, match="needs the JAX backend"):
            L.LossEvaluator(model, SCCE, x, y, engine="jit")
        return
    jit = L.slice_2d(model, SCCE, x, y, steps=3, engine="jit", batch_size=10)
    predict = L.slice_2d(model, SCCE, x, y, steps=3, engine="predict", batch_size=10)
    np.testing.assert_allclose(jit.losses, predict.losses, rtol=1e-5)


# ---------------------------------------------------------------- figure builders (pure)
def test_contour_and_surface_builders_show_the_data_and_the_path():
    from lossviz.plots import landscape as P

    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-1, 1, 3)
    a, b = np.meshgrid(alphas, betas)
    first = {"alphas": alphas, "betas": betas, "losses": 1 + a**2 + 2 * b**2}
    second = {"alphas": alphas, "betas": betas, "losses": 10 * (1 + a**2 + 2 * b**2)}
    path = np.array([[0.9, -0.8], [0.4, -0.2], [0.0, 0.0]])
    fig = P.contour_figure(first, path=path, log=True)
    np.testing.assert_allclose(np.asarray(fig.data[0].z), np.log10(first["losses"]))
    np.testing.assert_allclose(np.asarray(fig.data[2].x), path[:, 0])  # the path trace after the centre mark
    grid = P.contour_grid({"one": first, "ten": second}, paths={"ten": path})
    contours = [t for t in grid.data if t.type == "contour"]
    assert [c.zmin for c in contours] == [1.0, 1.0] and [c.zmax for c in contours] == [40.0, 40.0]
    own = P.contour_grid({"one": first, "ten": second}, shared_scale=False)
    assert [t.zmax for t in own.data] == [4.0, 40.0]
    surf = P.surface_figure({"one": first, "ten": second})
    assert [t.type for t in surf.data] == ["surface", "surface"] and surf.data[1].cmax == 40.0
    np.testing.assert_allclose(np.asarray(P.surface_figure(first).data[0].z), first["losses"])
    line = P.line_figure({"cut": (alphas, alphas**2)}, marks=(0, 1))
    np.testing.assert_allclose(np.asarray(line.data[0].y), alphas**2)
    with pytest.raises(ValueError, match="len\\(betas\\), len\\(alphas\\)"):
        P.contour_figure({"alphas": alphas, "betas": betas, "losses": np.zeros((5, 3))})


def test_unbuilt_model_and_mismatched_data_are_refused_with_a_clear_message():
    x, y = tiny_data()
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="built model with trainable variables"):
        L.slice_1d(unbuilt, SCCE, x, y)
    with pytest.raises(ValueError, match="same non-zero number of examples"):
        L.slice_1d(tiny_cnn(), SCCE, x, y[:5])
