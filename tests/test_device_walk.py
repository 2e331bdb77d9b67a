"""The compiled walk of a data surface (lossviz._device_walk): the real keras.optimizers' paths, one call."""

from dataclasses import replace

import keras
import numpy as np
import pytest

from lossviz import surfaces
from lossviz._device_walk import DeviceWalk
from lossviz.optimizers import KINDS, Optimizer, trajectories, trajectory


@pytest.fixture(scope="module")
def data():
    return surfaces.bccd_box_sizes(outliers=True, n=300), surfaces.bccd_cell_areas()


CASES = [  # (surface, loss, start, learning rate of sgd/momentum/nesterov/rmsprop/adam)
    ("line", "mse", (-0.5, 1.5), {"sgd": 0.1, "momentum": 0.02, "nesterov": 0.02, "rmsprop": 0.01, "adam": 0.05}),
    ("line", "huber", (2.5, -1.5), {"sgd": 0.3, "momentum": 0.05, "nesterov": 0.05, "rmsprop": 0.01, "adam": 0.05}),
    ("logistic", "binary_crossentropy", (-6.0, 6.0),
     {"sgd": 1.0, "momentum": 0.2, "nesterov": 0.2, "rmsprop": 0.05, "adam": 0.2}),
]


def build(data, kind, loss):
    (x, y), (xc, yc) = data
    return surfaces.line_fit(x, y, loss) if kind == "line" else surfaces.logistic_unit(xc, yc, loss)


@pytest.mark.parametrize("kind,loss,start,rates", CASES)
def test_compiled_walk_equals_keras_optimizers_over_100_steps(data, kind, loss, start, rates, keras_path):
    surface = build(data, kind, loss)
    opts = [Optimizer(k, learning_rate=rates[k], momentum=0.8) for k in KINDS]
    ours = trajectories(surface, start, opts, steps=100)
    assert not surface.walker.failed  # the compiled walk ran (no step-by-step fallback)
    for opt, tr in zip(opts, ours, strict=True):
        theirs = keras_path(surface, start, opt, 100, dtype="float32")  # Keras's default float type
        assert not tr.diverged and tr.path.shape == (101, 2)
        assert np.abs(theirs[-1] - theirs[0]).max() > 0.05, opt.kind  # the hiker really moved
        np.testing.assert_allclose(tr.path, theirs, atol=1e-5, rtol=0, err_msg=opt.kind)
        np.testing.assert_allclose(tr.losses, surface.value(tr.path), rtol=1e-5, atol=1e-6)


def test_compiled_walk_agrees_with_the_step_by_step_walk(data):
    # float32 on the device, float64 step by step: equal while the walk is not chaotic (RMSprop at
    # lr 0.02 on this bowl bounces around the bottom, and even Keras's float32 and float64 paths part there)
    surface = build(data, "line", "mse")
    stepwise = replace(surface, walker=None)
    opts = [Optimizer(k, learning_rate=CASES[0][3][k]) for k in KINDS]
    for steps in (0, 1, 17, 100):  # the buffers' rows beyond the steps are dropped
        a = trajectories(surface, (-0.5, 1.5), opts, steps=steps)
        b = trajectories(stepwise, (-0.5, 1.5), opts, steps=steps)
        for ta, tb in zip(a, b, strict=True):
            assert ta.path.shape == tb.path.shape == (steps + 1, 2)
            np.testing.assert_allclose(ta.path, tb.path, atol=1e-5, rtol=0)


def test_compiled_walk_divergence_is_cut_and_finite(data):
    surface = build(data, "line", "mse")
    for tr in trajectories(surface, (-0.5, 1.5), KINDS, steps=300, learning_rate=50.0):
        assert tr.diverged and tr.diverged_at is not None
        assert np.all(np.isfinite(tr.path)) and np.all(np.isfinite(tr.losses))
    tr = trajectory(surface, (-0.5, 1.5), "sgd", steps=300, learning_rate=1.5)  # grows slowly, then leaves
    assert tr.diverged and 1 < tr.diverged_at < 300


def test_capacity_covers_the_slider_and_grows_by_powers_of_two_beyond():
    assert [DeviceWalk.capacity(n) for n in (0, 1, 200, 1000, 1024, 1025, 3000)] == [1024] * 5 + [2048, 4096]


def test_one_compilation_serves_every_step_count_up_to_the_capacity(data):
    if keras.backend.backend() == "torch":
        pytest.skip("PyTorch runs the walk eagerly: there is no compilation to count")
    surface = build(data, "line", "mse")
    opts = [Optimizer(k, learning_rate=CASES[0][3][k]) for k in KINDS]
    lengths = []
    for steps in (1, 15, 16, 17, 200, 511, 1000):  # a scan over the steps compiled at 17, 200, 511
        lengths.append(len(trajectories(surface, (-0.5, 1.5), opts, steps=steps)[0].path))
    assert lengths == [2, 16, 17, 18, 201, 512, 1001]
    for chosen in (opts[:1], opts[2:4], opts[::-1]):  # and every choice of up to five optimizers
        ours = trajectories(surface, (-0.5, 1.5), chosen, steps=50)
        alone = [trajectories(replace(surface, walker=None), (-0.5, 1.5), [o], steps=50)[0] for o in chosen]
        for a, b in zip(ours, alone, strict=True):
            np.testing.assert_allclose(a.path, b.path, atol=1e-5, rtol=0)
    assert surface.walker.traces == 1


def test_a_loss_the_compiler_rejects_falls_back_to_the_step_by_step_walk(data):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.numpy_function is TensorFlow's (XLA cannot compile it)")
    import tensorflow as tf  # only to build a loss that XLA cannot compile

    @tf.custom_gradient
    def numpy_square(d):
        out = tf.reshape(tf.numpy_function(lambda a: (a * a).astype("float32"), [d], tf.float32), tf.shape(d))
        return out, lambda upstream: upstream * 2.0 * d

    class NumpyMSE(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return keras.ops.mean(numpy_square(y_pred - y_true), axis=-1)

    (x, y), _ = data
    odd, plain = surfaces.line_fit(x, y, NumpyMSE(reduction=None)), surfaces.line_fit(x, y, "mse")
    ours = trajectories(odd, (-0.5, 1.5), KINDS, steps=50, learning_rate=0.01)
    assert odd.walker.failed  # XLA refused the walk: it went step by step, and still walked
    for a, b in zip(ours, trajectories(plain, (-0.5, 1.5), KINDS, steps=50, learning_rate=0.01), strict=True):
        np.testing.assert_allclose(a.path, b.path, atol=1e-5, rtol=0)
        assert np.abs(a.path[-1] - a.path[0]).max() > 0.05
