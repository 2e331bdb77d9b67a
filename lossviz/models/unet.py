"""A small U-Net (Ronneberger et al., MICCAI 2015) for binary segmentation, built from Keras layers only.

The encoder has ``depth`` levels of two 3x3 convolutions (``width``, 2 ``width``, 4 ``width``, ...
filters) each followed by 2x2 max pooling; a bottleneck of two convolutions; and a decoder that upsamples
with 2x2 transposed convolutions, concatenates the encoder's map of the same size (the skip connection)
and applies two convolutions. A final 1x1 convolution gives one channel: probabilities (``sigmoid``) or
logits (``activation=None``). Every kernel starts from a seeded He-uniform draw made with numpy, so the
same seed gives the same weights on every backend (and JAX need not compile a random kernel per shape).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="lossviz")
class SeededHeUniform(keras.initializers.Initializer):
    """He-uniform kernels drawn with numpy from a seed: identical on TensorFlow, JAX and PyTorch.

    Formula:
        w ~ U(-l, l), l = sqrt(6 / fan_in), fan_in = prod(shape[:-1])

    Args:
        seed: the seed of ``numpy.random.default_rng``.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = int(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        fan_in = max(1, int(np.prod(shape[:-1])))
        limit = np.sqrt(6.0 / fan_in)
        values = np.random.default_rng(self.seed).uniform(-limit, limit, size=tuple(shape))
        return keras.ops.convert_to_tensor(values, dtype=dtype or keras.config.floatx())

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


def unet(
    input_shape: tuple[int, int, int] = (96, 96, 3),
    width: int = 8,
    depth: int = 3,
    seed: int = 0,
    activation: str | None = "sigmoid",
    name: str = "unet",
) -> keras.Model:
    """A small U-Net mapping images (N, H, W, C) to one-channel masks (N, H, W, 1).

    Formula:
        level k of the encoder has ``width * 2**k`` filters (k = 0 .. depth - 1), the bottleneck
        ``width * 2**depth``; H and W must be multiples of ``2**depth``.

    Example:
        >>> model = unet((64, 64, 3), width=8, depth=3)
        >>> model.compile("adam", loss=lossviz.losses.get("dice"))     # doctest: +SKIP
        >>> model.output_shape
        (None, 64, 64, 1)

    Args:
        input_shape: (height, width, channels) of one image.
        width: filters of the first level (doubled at every level down).
        depth: number of 2x2 poolings (and of upsamplings).
        seed: seed of the weight initialisers (same seed, same initial weights).
        activation: final activation, ``"sigmoid"`` for probabilities or ``None`` for logits.
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model``.
    """
    if width < 1 or depth < 1:
        raise ValueError(f"Invalid sizes: expected width >= 1 and depth >= 1; received {width}, {depth}")
    if len(input_shape) != 3:
        raise ValueError(f"Invalid value for `input_shape`: expected (height, width, channels); received {input_shape}")
    factor = 2**depth
    if input_shape[0] % factor or input_shape[1] % factor:
        raise ValueError(f"Invalid value for `input_shape`: expected height and width divisible by 2**depth = "
                         f"{factor}; received {input_shape[:2]}")
    counter = iter(range(seed * 1000, seed * 1000 + 1000))

    def init() -> keras.initializers.Initializer:
        return SeededHeUniform(next(counter))

    def block(x: keras.KerasTensor, filters: int) -> keras.KerasTensor:
        for _ in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer=init())(x)
        return x

    inputs = keras.Input(input_shape)
    x, skips = inputs, []
    for k in range(depth):
        x = block(x, width * 2**k)
        skips.append(x)
        x = keras.layers.MaxPooling2D()(x)
    x = block(x, width * 2**depth)
    for k in reversed(range(depth)):
        x = keras.layers.Conv2DTranspose(width * 2**k, 2, strides=2, padding="same", kernel_initializer=init())(x)
        x = keras.layers.Concatenate()([x, skips[k]])
        x = block(x, width * 2**k)
    outputs = keras.layers.Conv2D(1, 1, activation=activation, kernel_initializer=init(), name="mask")(x)
    return keras.Model(inputs, outputs, name=name)
