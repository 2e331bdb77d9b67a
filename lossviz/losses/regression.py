"""Regression losses: Keras's own MSE, MAE, Huber and log-cosh, registered in the catalogue."""

from __future__ import annotations

import keras

from lossviz.losses._registry import LossInfo, options_of, register

_LAST = ("With reduction=None Keras averages over the last axis only, so images (N, H, W, C) give "
         "(N, H, W) values.")

register(LossInfo(
    name="mse", aliases=("quadratic", "l2", "mean_squared_error"), family="regression",
    formula=r"\frac{1}{d}\sum_{i=1}^{d} (y_i - \hat y_i)^2",
    when="Regression with roughly Gaussian noise (coordinates, intensities, denoising baselines): it "
         "estimates the conditional mean and gives large errors large gradients.",
    caveats="Squaring lets a few outliers dominate the loss and its gradient. For images it rewards "
            f"blurry averages of plausible outputs and ignores structure. {_LAST}",
    keras_own=True, options=options_of(keras.losses.MeanSquaredError),
    reference="keras.losses.MeanSquaredError"), keras.losses.MeanSquaredError)
register(LossInfo(
    name="mae", aliases=("l1", "mean_absolute_error"), family="regression",
    formula=r"\frac{1}{d}\sum_{i=1}^{d} |y_i - \hat y_i|",
    when="Regression with outliers or heavy-tailed noise: it estimates the conditional median and "
         "every error gets the same gradient size; a common image-restoration loss (sharper than L2).",
    caveats="The gradient has constant size and flips sign at zero, so it does not shrink near the "
            f"optimum: lower the learning rate late in training. {_LAST}",
    keras_own=True, options=options_of(keras.losses.MeanAbsoluteError), good_for=("outliers",),
    reference="keras.losses.MeanAbsoluteError"), keras.losses.MeanAbsoluteError)
register(LossInfo(
    name="huber", aliases=("huber_loss", "smooth_l1"), family="regression",
    formula=r"\frac{1}{d}\sum_i \begin{cases} \tfrac12 e_i^2 & |e_i| \le \delta \\ "
            r"\delta |e_i| - \tfrac12 \delta^2 & \text{otherwise} \end{cases},\ e_i = y_i - \hat y_i",
    when="Regression with some outliers when you still want a smooth minimum: quadratic for small "
         "errors, linear for large ones (box coordinates in classic detectors use it as smooth L1).",
    caveats="delta is in the units of the targets: rescale it when you rescale the data. Smooth L1 "
            f"(Fast R-CNN) is Huber with delta=1, the default. {_LAST}",
    keras_own=True, options=options_of(keras.losses.Huber), good_for=("outliers",),
    reference="Huber 1964; keras.losses.Huber"), keras.losses.Huber)
register(LossInfo(
    name="log_cosh", aliases=("logcosh",), family="regression",
    formula=r"\frac{1}{d}\sum_i \log\cosh(\hat y_i - y_i)",
    when="Like Huber without a delta to tune: about e^2/2 for small errors and |e| - log 2 for large "
         "ones, twice differentiable everywhere.",
    caveats="The switch point is fixed at errors of about 1, so the target scale matters. "
            f"{_LAST}",
    keras_own=True, options=options_of(keras.losses.LogCosh), good_for=("outliers",),
    reference="keras.losses.LogCosh"), keras.losses.LogCosh)
