"""lossviz.surfaces: exact gradients, documented minima, data surfaces built with Keras's losses."""

import keras
import numpy as np
import pytest

from lossviz import surfaces as S


@pytest.mark.parametrize("name", sorted(S.ANALYTIC))
def test_gradient_matches_central_differences(name):
    s = S.get(name)
    rng = np.random.default_rng(0)
    lo, hi = np.array([s.x_range[0], s.y_range[0]]), np.array([s.x_range[1], s.y_range[1]])
    p = lo + (hi - lo) * rng.random((64, 2))
    h = 1e-6
    num = np.stack([(s.value(p + h * e) - s.value(p - h * e)) / (2 * h) for e in np.eye(2)], -1)
    np.testing.assert_allclose(s.gradient(p), num, rtol=1e-6, atol=1e-6 * (1 + np.abs(num).max()))


@pytest.mark.parametrize("name", sorted(S.ANALYTIC))
def test_documented_minima_are_local_minima_inside_the_range(name):
    s = S.get(name)
    assert len(s.minima) >= 1
    for m in np.asarray(s.minima):
        assert s.x_range[0] < m[0] < s.x_range[1] and s.y_range[0] < m[1] < s.y_range[1]
        assert np.abs(s.gradient(m)).max() < 1e-4
        ring = m + 1e-2 * np.stack([np.cos(a := np.linspace(0, 2 * np.pi, 16)), np.sin(a)], -1)
        assert np.all(s.value(ring) > s.value(m))


def test_published_values():
    assert S.rosenbrock().value([1.0, 1.0]) == 0.0 and S.rosenbrock().value([0.0, 0.0]) == 1.0
    # Himmelblau (1972): four zeros, f(0, 0) = 11^2 + 7^2 = 170
    np.testing.assert_allclose(S.himmelblau().value(np.array(S.HIMMELBLAU_MINIMA)), 0.0, atol=1e-8)
    assert S.himmelblau().value([0.0, 0.0]) == 170.0
    assert S.saddle().value([0.0, np.sqrt(2.0)]) == pytest.approx(-1.0)
    assert S.ravine(40).value([1.0, 1.0]) == pytest.approx(20.5)
    # mountain range: the deepest valley is the one centred at (1.5, 1.5) (depth 1.6)
    s = S.mountain_range()
    deepest = np.asarray(s.minima)[np.argmin(s.value(np.asarray(s.minima)))]
    assert np.linalg.norm(deepest - [1.5, 1.5]) < 0.2


def test_grid_orientation_and_bad_input():
    s = S.rosenbrock()
    xs, ys, z = s.grid(7)
    assert z.shape == (7, 7) and z[2, 5] == s.value([xs[5], ys[2]])
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        s.value(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="expected one of"):
        S.get("everest")


def line_data(seed=0, outliers=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.3, 2.3, 400).astype("float32")
    y = (0.8 * x + 0.1 + 0.05 * rng.standard_normal(400)).astype("float32")
    if outliers:  # 5 % of points flattened, like boxes cut by an image border
        y[:20] = 0.3 * x[:20]
    return x, y


# d loss / d prediction, by hand, for r = prediction - target
DERIVATIVE = {"mse": lambda r: 2 * r, "mae": np.sign, "huber": lambda r: np.clip(r, -1.0, 1.0), "log_cosh": np.tanh}


@pytest.mark.parametrize("loss,keras_loss", [("mse", keras.losses.MeanSquaredError()),
                                             ("mae", keras.losses.MeanAbsoluteError()),
                                             ("huber", keras.losses.Huber()),
                                             ("log_cosh", keras.losses.LogCosh())])
def test_line_fit_values_are_keras_mean_losses_and_gradients_are_exact(loss, keras_loss):
    x, y = line_data()
    s = S.line_fit(x, y, loss)
    params = np.array([[0.5, 0.3], [1.2, -0.4], [-0.5, 1.0]])
    expected = [float(keras_loss(y, w * x + b)) for w, b in params]
    np.testing.assert_allclose(s.value(params), expected, rtol=1e-5)
    xd, yd = x.astype(float), y.astype(float)
    for (w, b), g in zip(params, s.gradient(params), strict=True):
        d = DERIVATIVE[loss](w * xd + b - yd)
        np.testing.assert_allclose(g, [np.mean(d * xd), np.mean(d)], rtol=1e-4, atol=1e-5)


def test_mse_minimum_is_least_squares():
    x, y = line_data(outliers=True)
    s = S.line_fit(x, y, "mse", x_range=(0.4, 1.2), y_range=(-0.2, 0.6))
    ols = np.linalg.lstsq(np.c_[x, np.ones_like(x)].astype(float), y.astype(float), rcond=None)[0]
    w, b, _ = s.grid_minimum(161)
    assert abs(w - ols[0]) < 0.01 and abs(b - ols[1]) < 0.01


def test_outliers_move_the_mse_minimum_more_than_the_mae_minimum():
    box = {"x_range": (0.4, 1.2), "y_range": (-0.3, 0.5)}
    shift = {}
    for loss in ("mse", "mae"):
        clean = np.array(S.line_fit(*line_data(), loss, **box).grid_minimum(161)[:2])
        dirty = np.array(S.line_fit(*line_data(outliers=True), loss, **box).grid_minimum(161)[:2])
        shift[loss] = np.linalg.norm(dirty - clean)
    assert shift["mse"] > 2 * shift["mae"] and shift["mse"] > 0.02


def test_logistic_unit_cross_entropy_by_hand_and_quadratic_plateau():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(300).astype("float32")
    y = (x + 0.3 * rng.standard_normal(300) > 0).astype("float32")
    ce, sq = S.logistic_unit(x, y, "binary_crossentropy"), S.logistic_unit(x, y, "mse")
    w, b = 1.5, -0.2
    p = 1 / (1 + np.exp(-(w * x + b)))
    assert ce.value([w, b]) == pytest.approx(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))), rel=1e-4)
    assert sq.value([w, b]) == pytest.approx(np.mean((y - p) ** 2), rel=1e-4)
    # a confidently wrong unit (w = -6): cross-entropy still slopes, the quadratic loss is a plateau
    wrong = [-6.0, 0.0]
    assert np.linalg.norm(ce.gradient(wrong)) > 10 * np.linalg.norm(sq.gradient(wrong))
    with pytest.raises(ValueError, match="labels 0 or 1"):
        S.logistic_unit(x, y + 2, "mse")


def test_data_surface_rejects_reduced_losses_and_bad_data():
    x, y = line_data()
    with pytest.raises(ValueError, match="reduction=None"):
        S.line_fit(x, y, keras.losses.MeanSquaredError())
    with pytest.raises(ValueError, match="equal length"):
        S.line_fit(x, y[:-1], "mse")


def test_bccd_box_sizes_outliers_move_mse_minimum_more_than_mae_minimum():
    clean, dirty = S.bccd_box_sizes(n=1000), S.bccd_box_sizes(outliers=True, n=1000)
    assert len(clean[0]) == 1000 and 1000 < len(dirty[0]) < 1100  # about 5 % cut boxes added
    np.testing.assert_array_equal(dirty[0][:1000], clean[0])  # the same clean boxes, outliers appended
    # cells are round: clean boxes are nearly square (median height/width close to 1)
    assert 0.9 < np.median(clean[1] / clean[0]) < 1.1
    box = {"x_range": (0.4, 1.2), "y_range": (-0.3, 0.5)}
    shift = {}
    for loss in ("mse", "mae"):
        a = np.array(S.line_fit(*clean, loss, **box).grid_minimum(161)[:2])
        b = np.array(S.line_fit(*dirty, loss, **box).grid_minimum(161)[:2])
        shift[loss] = np.linalg.norm(b - a)
    assert shift["mse"] > 2 * shift["mae"]


def test_bccd_cell_areas_white_cells_are_larger_and_rare():
    x, y = S.bccd_cell_areas()
    assert set(np.unique(y)) == {0.0, 1.0} and abs(x.mean()) < 1e-5 and abs(x.std() - 1) < 1e-4
    assert 0.03 < y.mean() < 0.12  # SOURCE.md: 372 WBC vs 4155 RBC boxes before removing cut ones
    assert x[y == 1].mean() > x[y == 0].mean() + 1.5  # median WBC box ~190 px vs RBC ~100 px


def test_a_loss_xla_cannot_compile_still_gives_the_grid():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the loss below uses a TensorFlow-only op that XLA rejects")
    import tensorflow as tf

    class HostMSE(keras.losses.Loss):   # tf.numpy_function runs on the host: XLA cannot compile it
        def call(self, y_true, y_pred):
            sq = tf.numpy_function(lambda a, b: ((a - b) ** 2).astype("float32"), [y_true, y_pred], tf.float32)
            return tf.reduce_mean(tf.reshape(sq, tf.shape(y_pred)), axis=-1)

    x, y = line_data()
    s = S.line_fit(x, y, HostMSE(reduction=None))
    _, _, z = s.grid(5)
    expected = S.line_fit(x, y, "mse").grid(5)[2]
    np.testing.assert_allclose(z, expected, rtol=1e-5)
