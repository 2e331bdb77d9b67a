"""lossviz.optimizers: numpy paths equal the real keras.optimizers' paths; divergence is cut, never NaN."""

import numpy as np
import pytest

from lossviz import surfaces
from lossviz.optimizers import KINDS, Optimizer, trajectories, trajectory

CASES = [
    ("rosenbrock", (-1.2, 1.0), {"sgd": 5e-4, "momentum": 2e-4, "nesterov": 2e-4, "rmsprop": 1e-2, "adam": 5e-2}),
    ("himmelblau", (0.5, -0.5), {"sgd": 5e-3, "momentum": 2e-3, "nesterov": 2e-3, "rmsprop": 5e-2, "adam": 1e-1}),
    ("ravine", (-3.5, 1.0), {"sgd": 3e-2, "momentum": 1e-2, "nesterov": 1e-2, "rmsprop": 5e-2, "adam": 1e-1}),
]


@pytest.mark.parametrize("name,start,rates", CASES)
@pytest.mark.parametrize("kind", KINDS)
def test_numpy_paths_equal_keras_optimizers_over_100_steps(name, start, rates, kind, keras_path):
    surface = surfaces.get(name)
    opt = Optimizer(kind, learning_rate=rates[kind], momentum=0.8)
    ours = trajectory(surface, start, opt, steps=100)
    theirs = keras_path(surface, start, opt, steps=100)
    assert not ours.diverged and ours.path.shape == (101, 2)
    assert np.abs(theirs[-1] - theirs[0]).max() > 0.05  # the hiker really moved
    np.testing.assert_allclose(ours.path, theirs, atol=1e-5, rtol=0)


def test_lockstep_equals_one_at_a_time_and_losses_match_the_surface():
    surface = surfaces.rosenbrock()
    opts = [Optimizer(k, learning_rate=1e-3) for k in KINDS]
    together = trajectories(surface, (-1.5, 2.0), opts, steps=60)
    for opt, tr in zip(opts, together, strict=True):
        alone = trajectory(surface, (-1.5, 2.0), opt, steps=60)
        np.testing.assert_array_equal(tr.path, alone.path)
        np.testing.assert_allclose(tr.losses, surface.value(tr.path))


def test_sgd_by_hand_on_the_bowl():
    # L = x^2 + y^2, g = 2p, p <- p - lr 2p = (1 - 2 lr) p
    tr = trajectory(surfaces.bowl(), (1.0, -2.0), Optimizer("sgd", learning_rate=0.1), steps=3)
    np.testing.assert_allclose(tr.path, [[1.0, -2.0], [0.8, -1.6], [0.64, -1.28], [0.512, -1.024]])
    np.testing.assert_allclose(tr.losses, [5.0, 3.2, 2.048, 1.31072])


def test_divergence_is_cut_and_finite_never_raising():
    # on the bowl lr > 1 makes |p| grow by |1 - 2 lr| each step: lr = 3 -> times 5
    tr = trajectory(surfaces.bowl(), (1.0, 1.0), "sgd", steps=200, learning_rate=3.0)
    assert tr.diverged and tr.diverged_at is not None and tr.diverged_at < 200
    assert len(tr.path) <= tr.diverged_at + 1
    assert np.all(np.isfinite(tr.path)) and np.all(np.isfinite(tr.losses))
    lo, hi = surfaces.bowl().bounds()
    assert np.any((tr.path[-1] < lo) | (tr.path[-1] > hi))  # the last point drawn is off the big box
    # Rosenbrock with a huge rate overflows: still no NaN, no exception
    for kind in KINDS:
        tr = trajectory(surfaces.rosenbrock(), (-1.5, 2.0), kind, steps=300, learning_rate=50.0)
        assert tr.diverged or np.all(np.isfinite(tr.path))
        assert np.all(np.isfinite(tr.path)) and np.all(np.isfinite(tr.losses))


def test_small_rate_converges_to_documented_minimum():
    tr = trajectory(surfaces.himmelblau(), (3.5, 2.5), "adam", steps=2000, learning_rate=0.02)
    assert not tr.diverged
    assert np.min(np.linalg.norm(np.asarray(surfaces.HIMMELBLAU_MINIMA) - tr.path[-1], axis=1)) < 1e-2


def test_invalid_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="expected one of"):
        Optimizer("adagrad")
    with pytest.raises(ValueError, match="learning_rate"):
        Optimizer("sgd", learning_rate=0.0)
    with pytest.raises(ValueError, match="start"):
        trajectory(surfaces.bowl(), (np.nan, 0.0))
