"""Small Keras models shared by the lessons (built with ``keras`` layers only)."""

from __future__ import annotations

import keras

from lossviz.models.unet import unet

__all__ = ["small_cnn", "unet"]


def small_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    width: int = 16,
    activation: str | None = None,
    batch_norm: bool = False,
    seed: int = 0,
    name: str = "small_cnn",
) -> keras.Model:
    """A two-block CNN classifier: conv-conv-pool twice, global pooling, dense.

    Example:
        >>> model = small_cnn((28, 28, 1), num_classes=10)

    Args:
        input_shape: (height, width, channels) of one image.
        num_classes: number of output units.
        width: filters in the first block (the second has twice as many).
        activation: final activation (``None`` for logits, ``"softmax"`` for probabilities).
        batch_norm: add batch normalisation after each convolution.
        seed: seed of the weight initialisers, so the same seed gives the same initial weights.
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model``.
    """
    init = keras.initializers.GlorotUniform

    def conv(x: keras.KerasTensor, filters: int, k: int) -> keras.KerasTensor:
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm,
                                kernel_initializer=init(seed + k))(x)
        if batch_norm:
            x = keras.layers.BatchNormalization()(x)
        return keras.layers.Activation("relu")(x)

    inputs = keras.Input(input_shape)
    x = conv(inputs, width, 1)
    x = keras.layers.MaxPooling2D()(conv(x, width, 2))
    x = conv(x, 2 * width, 3)
    x = keras.layers.MaxPooling2D()(conv(x, 2 * width, 4))
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, kernel_initializer=init(seed + 5))(x)
    return keras.Model(inputs, outputs, name=name)
