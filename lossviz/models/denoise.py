"""A small residual denoising CNN (DnCNN-style, Zhang et al. 2017), built with ``keras`` layers only."""

from __future__ import annotations

import keras


def denoise_cnn(
    input_shape: tuple[int | None, int | None, int] = (None, None, 3),
    width: int = 32,
    depth: int = 5,
    seed: int = 0,
    name: str = "denoise_cnn",
) -> keras.Model:
    """A fully convolutional denoiser that predicts the noise and subtracts it from its input.

    Formula:
        \\hat y = x - f_\\theta(x),  f = conv_3x3 . (relu . conv_3x3)^{depth - 1}

    Example:
        >>> model = denoise_cnn((64, 64, 3), width=32, depth=5, seed=0)
        >>> model.compile(optimizer="adam", loss=lossviz.losses.get("l1_ms_ssim"))  # doctest: +SKIP

    Args:
        input_shape: (height, width, channels) of one image (height and width may be None).
        width: filters of every hidden convolution.
        depth: number of convolutions (at least 2).
        seed: seed of the weight initialisers, so the same seed gives the same initial weights.
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` mapping noisy images to restored images of the same shape.
    """
    if depth < 2 or width < 1:
        raise ValueError(f"Invalid value for `depth`/`width`: expected depth >= 2 and width >= 1; "
                         f"received depth={depth}, width={width}")
    channels = input_shape[-1]
    inputs = keras.Input(input_shape)
    x = inputs
    for k in range(depth - 1):
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                                kernel_initializer=keras.initializers.HeUniform(seed + k))(x)
    noise = keras.layers.Conv2D(channels, 3, padding="same",
                                kernel_initializer=keras.initializers.GlorotUniform(seed + depth))(x)
    outputs = keras.layers.Subtract()([inputs, noise])
    return keras.Model(inputs, outputs, name=name)
