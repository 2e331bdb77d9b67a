"""The small U-Net (lossviz.models.unet): shapes, seeded weights, and training lowers the loss."""

import keras
import numpy as np
import pytest

from lossviz import losses
from lossviz.models import unet


@pytest.mark.parametrize(("shape", "depth"), [((32, 32, 3), 3), ((48, 64, 1), 4), ((16, 16, 3), 1)])
def test_output_is_one_probability_per_pixel(shape, depth):
    model = unet(shape, width=2, depth=depth)
    x = np.random.default_rng(0).uniform(size=(3, *shape)).astype("float32")
    out = keras.ops.convert_to_numpy(model(x))
    assert model.output_shape == (None, shape[0], shape[1], 1)
    assert out.shape == (3, shape[0], shape[1], 1)
    assert np.all(out >= 0) and np.all(out <= 1)


def test_no_activation_gives_logits():
    model = unet((16, 16, 3), width=4, depth=2, activation=None)
    x = np.random.default_rng(1).normal(size=(4, 16, 16, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(model(x))
    assert out.min() < 0 < out.max()     # a sigmoid output would stay in (0, 1)


def test_levels_have_the_documented_widths():
    model = unet((32, 32, 3), width=3, depth=2)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)
             and not isinstance(layer, keras.layers.Conv2DTranspose)]
    # encoder 3, 3, 6, 6; bottleneck 12, 12; decoder 6, 6, 3, 3; output 1
    assert [c.filters for c in convs] == [3, 3, 6, 6, 12, 12, 6, 6, 3, 3, 1]
    ups = [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert ups == [6, 3]


def test_same_seed_same_weights_and_other_seed_other_weights():
    a, b = unet((16, 16, 3), width=4, depth=2, seed=5), unet((16, 16, 3), width=4, depth=2, seed=5)
    c = unet((16, 16, 3), width=4, depth=2, seed=6)
    kernels = 0
    for wa, wb, wc in zip(a.get_weights(), b.get_weights(), c.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
        if wa.ndim == 4:                    # kernels differ with the seed (biases start at 0)
            kernels += 1
            assert not np.array_equal(wa, wc)
    assert kernels == 13            # 10 convolutions, 2 transposed, 1 output


@pytest.mark.parametrize("kwargs", [{"width": 0}, {"depth": 0}, {"input_shape": (30, 32, 3)},
                                    {"input_shape": (32, 32)}])
def test_invalid_sizes_are_rejected(kwargs):
    with pytest.raises(ValueError, match="Invalid"):
        unet(**{"input_shape": (32, 32, 3), "depth": 2} | kwargs)


@pytest.mark.parametrize("loss", ["binary_crossentropy", "dice", "bce_dice"])
def test_a_few_steps_lower_the_loss_on_a_batch(loss):
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(4, 16, 16, 3)).astype("float32")
    y = np.zeros((4, 16, 16, 1), "float32")
    y[:, 4:10, 5:12] = 1.0
    x[..., 0] += y[..., 0]                  # the object is redder than the background
    keras.utils.set_random_seed(0)
    model = unet((16, 16, 3), width=4, depth=2)
    model.compile(keras.optimizers.Adam(1e-2), loss=losses.get(loss))
    before = model.evaluate(x, y, verbose=0)
    for _ in range(8):
        model.train_on_batch(x, y)
    after = model.evaluate(x, y, verbose=0)
    assert np.isfinite(before) and after < before


def test_seeded_initialiser_is_a_numpy_he_uniform_draw():
    from lossviz.models.unet import SeededHeUniform

    kernel = keras.ops.convert_to_numpy(SeededHeUniform(7)((3, 3, 4, 2)))
    limit = np.sqrt(6.0 / (3 * 3 * 4))
    np.testing.assert_allclose(kernel, np.random.default_rng(7).uniform(-limit, limit, (3, 3, 4, 2)), rtol=1e-6)
    assert SeededHeUniform.from_config(SeededHeUniform(7).get_config()).seed == 7
