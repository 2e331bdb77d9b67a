"""Image-restoration similarity and losses in ``keras.ops``: SSIM, MS-SSIM, and the L1 + MS-SSIM mix.

The computation follows Wang et al. (2003, 2004) as implemented by ``tf.image.ssim`` and
``tf.image.ssim_multiscale`` (Gaussian window, 'valid' filtering, 2x2 average pooling between scales,
odd sizes padded symmetrically), so values match TensorFlow's; it runs on every Keras backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from lossviz.losses._base import CatalogueLoss, serializable
from lossviz.losses._registry import LossInfo, options_of, register

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
"""The standard MS-SSIM power factors, finest scale first (Wang et al. 2003)."""

_TINY = 1e-6


def _images(x: Any, y: Any) -> tuple[Any, Any]:
    y = ops.convert_to_tensor(y)
    dtype = y.dtype if "float" in str(y.dtype) else keras.config.floatx()
    x, y = ops.cast(x, dtype), ops.cast(y, dtype)
    for arg, t in (("x", x), ("y", y)):
        if len(t.shape) != 4 or any(d is None for d in t.shape[1:]):
            raise ValueError(
                f"Invalid value for `{arg}`: expected images (N, H, W, C) with known H, W and C (SSIM's "
                f"window and scales depend on them); received shape {tuple(t.shape)}"
            )
    if tuple(x.shape[1:]) != tuple(y.shape[1:]):
        raise ValueError(f"Invalid values for `x`, `y`: expected images of the same size (y may hold one "
                         f"image for all of x); received shapes {tuple(x.shape)} and {tuple(y.shape)}")
    return x, y


def _band(n: int, size: int, sigma: float) -> np.ndarray:
    """The 'valid' 1-D Gaussian blur of length-``n`` signals as an (n - size + 1, n) banded matrix."""
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-0.5 * coords**2 / sigma**2)
    g = g / g.sum()
    band = np.zeros((n - size + 1, n))
    for i in range(n - size + 1):
        band[i, i:i + size] = g
    return band


def _height_first(t: Any) -> Any:
    """(N, H, W, C) -> (H, N, C, W), the layout of :func:`_ssim_per_channel` (see its blur)."""
    return ops.transpose(t, (1, 0, 3, 2))


def _halve(t: Any) -> Any:
    """2x2 average pooling of (H, N, C, W) images; an odd size repeats its last row / column first
    (TensorFlow's symmetric padding by 1 in ``tf.image.ssim_multiscale``)."""
    if t.shape[0] % 2:
        t = ops.concatenate([t, t[-1:]], axis=0)
    if t.shape[3] % 2:
        t = ops.concatenate([t, t[:, :, :, -1:]], axis=3)
    h, n, c, w = t.shape[0], ops.shape(t)[1], t.shape[2], t.shape[3]
    return ops.mean(ops.reshape(t, (h // 2, 2, n, c, w // 2, 2)), axis=(1, 5))


def _ssim_per_channel(x: Any, y: Any, max_val: float, filter_size: int, filter_sigma: float,
                      k1: float, k2: float) -> tuple[Any, Any]:
    """(SSIM, contrast-structure) per image and channel, shape (N, C) each, of images (H, N, C, W)."""
    h, w = x.shape[0], x.shape[3]
    if h is not None and w is not None and (h < filter_size or w < filter_size):
        raise ValueError(
            f"Invalid value for `filter_size`: expected at most the image size {h}x{w}; received "
            f"{filter_size} (pass a smaller filter_size for small images)"
        )
    # the separable Gaussian blur as two matrix products with banded matrices: more arithmetic than a
    # convolution, but matmul is the fastest kernel on every backend and device (its gradient too),
    # several times faster than a conv here. Height first, (H, N, C, W): the blur along W multiplies the
    # (H N C, W) rows by its band transposed, (W, W'), and the blur along H multiplies (H, N C W') from
    # the left by its band, (H', H): two plain matrix products with no transpose between them (a
    # batched left product in (N, C, H, W) was 2.4x slower on 64 RGB 128x128 images, 2 CPU cores)
    rows = ops.convert_to_tensor(_band(h, filter_size, filter_sigma), x.dtype)
    cols = ops.convert_to_tensor(_band(w, filter_size, filter_sigma).T, x.dtype)
    c = x.shape[2]
    hb, wb = h - filter_size + 1, w - filter_size + 1
    one_reference = y.shape[1] == 1 and x.shape[1] != 1  # one image y for all x: its statistics once

    def blur(t: Any) -> Any:
        # (H, N, C, W) -> (H N C, W) x (W, W') -> (H, N C W') -> (H', H) x (H, N C W') -> (H', N, C, W')
        n = ops.shape(t)[1]
        t = ops.reshape(ops.matmul(ops.reshape(t, (-1, w)), cols), (h, -1))
        return ops.reshape(ops.matmul(rows, t), (hb, n, c, wb))

    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    mu_x, mu_y = blur(x), blur(y)
    num0 = 2.0 * mu_x * mu_y
    den0 = mu_x**2 + mu_y**2
    luminance = (num0 + c1) / (den0 + c1)
    num1 = 2.0 * blur(x * y)
    # one reference image: blur its square once instead of once per x (the blur is linear)
    den1 = blur(x**2) + blur(y**2) if one_reference else blur(x**2 + y**2)
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    return ops.mean(luminance * cs, axis=(0, 3)), ops.mean(cs, axis=(0, 3))


def ssim(x: Any, y: Any, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03) -> Any:
    """Structural similarity (SSIM) per image, averaged over positions and channels (as ``tf.image.ssim``).

    Formula:
        SSIM = \\frac{(2\\mu_x\\mu_y + C_1)(2\\sigma_{xy} + C_2)}{(\\mu_x^2 + \\mu_y^2 + C_1)(\\sigma_x^2
        + \\sigma_y^2 + C_2)}, C_i = (k_i L)^2, local statistics under a Gaussian window

    Example:
        >>> ssim(images, images)        # ones: identical images
        >>> ssim(images, noisy)         # below 1

    Args:
        x: images (N, H, W, C), values in [0, max_val].
        y: images of the same shape, or one image (1, H, W, C) compared with each of ``x`` (its local
            statistics are then computed once).
        max_val: the dynamic range L (1.0 for [0, 1] images, 255 for 8-bit).
        filter_size: side of the Gaussian window (at most H and W).
        filter_sigma: its standard deviation in pixels.
        k1: luminance constant.
        k2: contrast constant.

    Returns:
        SSIM values (N,), at most 1 (1 for identical images).
    """
    x, y = _images(x, y)
    value, _ = _ssim_per_channel(_height_first(x), _height_first(y), max_val, filter_size, filter_sigma,
                                 k1, k2)
    return ops.mean(value, axis=-1)


def _scale_sizes(h: int, w: int, scales: int) -> list[tuple[int, int]]:
    sizes = [(h, w)]
    for _ in range(scales - 1):
        h, w = math.ceil(h / 2), math.ceil(w / 2)
        sizes.append((h, w))
    return sizes


def ms_power_factors(height: int, width: int, filter_size: int = 11) -> tuple[float, ...]:
    """The MS-SSIM power factors used when none are given: as many standard scales as the image allows.

    Each scale halves the image; every scale must be at least ``filter_size`` pixels. Images of at least
    ``16 * filter_size`` pixels (176 for the default 11) get all five standard factors; smaller ones get
    the first k factors rescaled to sum 1 (one scale is then plain SSIM).

    Args:
        height: image height.
        width: image width.
        filter_size: side of the Gaussian window.

    Returns:
        A tuple of 1 to 5 power factors, finest scale first.
    """
    k = sum(1 for h, w in _scale_sizes(height, width, len(MS_SSIM_WEIGHTS)) if min(h, w) >= filter_size)
    if k == 0:
        raise ValueError(
            f"Invalid value for `filter_size`: expected at most the image size {height}x{width}; "
            f"received {filter_size}"
        )
    if k == len(MS_SSIM_WEIGHTS):
        return MS_SSIM_WEIGHTS
    total = sum(MS_SSIM_WEIGHTS[:k])
    return tuple(p / total for p in MS_SSIM_WEIGHTS[:k])


def _safe_pow(x: Any, p: float) -> Any:
    """relu(x) ** p with a finite gradient at 0 (``x ** p`` has an infinite slope there for p < 1)."""
    x = ops.relu(x)
    return ops.where(x > 0.0, ops.power(ops.maximum(x, _TINY), p), ops.zeros_like(x))


def ms_ssim(x: Any, y: Any, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
            k1: float = 0.01, k2: float = 0.03, power_factors: Sequence[float] | None = None) -> Any:
    """Multi-scale SSIM per image (Wang et al. 2003), as ``tf.image.ssim_multiscale``.

    Formula:
        MS\\text{-}SSIM = [l_M]^{\\alpha_M} \\prod_{j=1}^{M} [cs_j]^{\\beta_j}   (negative terms clipped to 0)

    Example:
        >>> ms_ssim(images_256, noisy_256)                           # five scales
        >>> ms_ssim(patches_64, noisy_64)                            # three scales (see ms_power_factors)

    Args:
        x: images (N, H, W, C), values in [0, max_val].
        y: images of the same shape, or one image (1, H, W, C) compared with each of ``x``.
        max_val: the dynamic range.
        filter_size: side of the Gaussian window (every scale must be at least this size).
        filter_sigma: its standard deviation in pixels.
        k1: luminance constant.
        k2: contrast constant.
        power_factors: one exponent per scale, finest first; None: :func:`ms_power_factors` (the
            standard five for images of at least 16 * filter_size pixels, fewer for smaller images).

    Returns:
        MS-SSIM values (N,) in [0, 1].
    """
    return ssim_and_ms_ssim(x, y, max_val, filter_size, filter_sigma, k1, k2, power_factors)[1]


def ssim_and_ms_ssim(x: Any, y: Any, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
                     k1: float = 0.01, k2: float = 0.03,
                     power_factors: Sequence[float] | None = None) -> tuple[Any, Any]:
    """SSIM and MS-SSIM per image in one pass: SSIM is MS-SSIM's finest scale (the same local
    statistics), so computing both costs about one MS-SSIM (what the loss comparer does with the two).

    Example:
        >>> s, m = ssim_and_ms_ssim(images, noisy)     # equal to ssim(images, noisy), ms_ssim(images, noisy)

    Args:
        x, y, max_val, filter_size, filter_sigma, k1, k2, power_factors: as :func:`ms_ssim`.

    Returns:
        ``(ssim, ms_ssim)``, values (N,) each.
    """
    x, y = _images(x, y)
    h, w = x.shape[1], x.shape[2]
    if power_factors is None:
        power_factors = ms_power_factors(h, w, filter_size)
    factors = [float(p) for p in power_factors]
    smallest = _scale_sizes(h, w, len(factors))[-1]
    if min(smallest) < filter_size:
        raise ValueError(
            f"Invalid value for `power_factors`: {len(factors)} scales shrink {h}x{w} images to "
            f"{smallest[0]}x{smallest[1]}, smaller than filter_size={filter_size}; expected fewer scales "
            f"(e.g. power_factors=None picks them) or a smaller filter_size"
        )
    x, y = _height_first(x), _height_first(y)
    terms = []
    for k in range(len(factors)):
        if k > 0:
            x, y = _halve(x), _halve(y)
        value, cs = _ssim_per_channel(x, y, max_val, filter_size, filter_sigma, k1, k2)
        if k == 0:
            finest = ops.mean(value, axis=-1)
        terms.append(_safe_pow(cs if k < len(factors) - 1 else value, factors[k]))
    product = terms[0]
    for t in terms[1:]:
        product = product * t
    return finest, ops.mean(product, axis=-1)


def ssim_loss(y_true: Any, y_pred: Any, **options: Any) -> Any:
    """SSIM loss per image: ``1 - ssim(y_true, y_pred, **options)`` (values in [0, 2]).

    Formula:
        L = 1 - SSIM(y, \\hat y)

    Args:
        y_true: target images (N, H, W, C).
        y_pred: predicted images.
        **options: passed to :func:`ssim`.

    Returns:
        Loss values (N,).
    """
    return 1.0 - ssim(y_true, y_pred, **options)


def ms_ssim_loss(y_true: Any, y_pred: Any, **options: Any) -> Any:
    """MS-SSIM loss per image: ``1 - ms_ssim(y_true, y_pred, **options)`` (values in [0, 1]).

    Formula:
        L = 1 - MS\\text{-}SSIM(y, \\hat y)

    Args:
        y_true: target images (N, H, W, C).
        y_pred: predicted images.
        **options: passed to :func:`ms_ssim`.

    Returns:
        Loss values (N,).
    """
    return 1.0 - ms_ssim(y_true, y_pred, **options)


def l1_ms_ssim_loss(y_true: Any, y_pred: Any, alpha: float = 0.84, **options: Any) -> Any:
    """The Zhao et al. (2017) mix of MS-SSIM and L1 per image (plain mean L1, not Gaussian-weighted).

    Formula:
        L = \\alpha (1 - MS\\text{-}SSIM(y, \\hat y)) + (1 - \\alpha) \\frac{1}{HWC}\\sum |y - \\hat y|

    Args:
        y_true: target images (N, H, W, C).
        y_pred: predicted images.
        alpha: weight of the MS-SSIM term.
        **options: passed to :func:`ms_ssim`.

    Returns:
        Loss values (N,).
    """
    y_true, y_pred = _images(y_true, y_pred)
    l1 = ops.mean(ops.abs(y_true - y_pred), axis=(1, 2, 3))
    return alpha * ms_ssim_loss(y_true, y_pred, **options) + (1.0 - alpha) * l1


class _ImageLoss(CatalogueLoss):
    def __init__(self, fn: Any, name: str, reduction: str | None, dtype: Any, **options: Any) -> None:
        if options.get("power_factors") is not None:
            options["power_factors"] = [float(p) for p in options["power_factors"]]
        super().__init__(fn, name=name, reduction=reduction, dtype=dtype, align=False, **options)


@serializable
class SSIMLoss(_ImageLoss):
    """``keras.losses.Loss`` for :func:`ssim_loss` (images (N, H, W, C) in [0, max_val])."""

    def __init__(self, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
                 k1: float = 0.01, k2: float = 0.03, reduction: str | None = "sum_over_batch_size",
                 name: str = "ssim", dtype: Any = None) -> None:
        super().__init__(ssim_loss, name, reduction, dtype, max_val=max_val, filter_size=filter_size,
                         filter_sigma=filter_sigma, k1=k1, k2=k2)


@serializable
class MSSSIMLoss(_ImageLoss):
    """``keras.losses.Loss`` for :func:`ms_ssim_loss`."""

    def __init__(self, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
                 k1: float = 0.01, k2: float = 0.03, power_factors: Sequence[float] | None = None,
                 reduction: str | None = "sum_over_batch_size", name: str = "ms_ssim",
                 dtype: Any = None) -> None:
        super().__init__(ms_ssim_loss, name, reduction, dtype, max_val=max_val, filter_size=filter_size,
                         filter_sigma=filter_sigma, k1=k1, k2=k2, power_factors=power_factors)


@serializable
class L1MSSSIM(_ImageLoss):
    """``keras.losses.Loss`` for :func:`l1_ms_ssim_loss`."""

    def __init__(self, alpha: float = 0.84, max_val: float = 1.0, filter_size: int = 11,
                 filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03,
                 power_factors: Sequence[float] | None = None,
                 reduction: str | None = "sum_over_batch_size", name: str = "l1_ms_ssim",
                 dtype: Any = None) -> None:
        super().__init__(l1_ms_ssim_loss, name, reduction, dtype, alpha=alpha, max_val=max_val,
                         filter_size=filter_size, filter_sigma=filter_sigma, k1=k1, k2=k2,
                         power_factors=power_factors)


_IMG = ("Images (N, H, W, C) with values in [0, max_val]; set max_val=255 for 8-bit data. Each image "
        "must be at least filter_size (11) pixels on a side: lower filter_size for tiny crops.")
_SCALES = ("With power_factors=None, images smaller than 16 * filter_size (176 px) use fewer scales "
           "(the first standard factors rescaled to sum 1); a 64 px patch gets 3 scales.")

register(LossInfo(
    name="ssim", aliases=("ssim_loss",), family="restoration",
    formula=r"1 - \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}"
            r"{(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}",
    when="Denoising, deblurring or super-resolution where local structure (edges, texture, cell "
         "membranes) matters more than exact intensities; matches perceived quality better than MSE.",
    caveats="Only weakly sensitive to uniform brightness or colour shifts, above all in flat regions "
            f"(Zhao et al. saw colour shifts), so mix it with L1. Values lie in [0, 2]. {_IMG}",
    keras_own=False, options=options_of(SSIMLoss), good_for=("structure",),
    reference="Wang et al., Image quality assessment, IEEE TIP 2004; tf.image.ssim"), SSIMLoss)
register(LossInfo(
    name="ms_ssim", aliases=("ms_ssim_loss", "msssim"), family="restoration",
    formula=r"1 - [l_M]^{\alpha_M}\prod_{j=1}^{M}[cs_j]^{\beta_j}",
    when="Restoration of larger images where structure at several scales matters (fine detail and "
         "overall shapes): it does not rely on a single window scale as SSIM does.",
    caveats="Needs large images for the standard five scales (at least 176 px with filter_size 11). "
            f"{_SCALES} Like SSIM it is weakly sensitive to brightness and colour shifts: pair it with L1. {_IMG}",
    keras_own=False, options=options_of(MSSSIMLoss), good_for=("structure",),
    reference="Wang et al., Multi-scale structural similarity, Asilomar 2003; tf.image.ssim_multiscale"),
    MSSSIMLoss)
register(LossInfo(
    name="l1_ms_ssim", aliases=("ms_ssim_l1",), family="restoration",
    formula=r"\alpha\,(1 - \text{MS-SSIM}) + (1 - \alpha)\,\frac{1}{d}\sum|y - \hat y|",
    when="A strong default for image restoration (denoising, demosaicking, super-resolution): MS-SSIM "
         "keeps edges and texture, L1 keeps colours and brightness; Zhao et al. found it beats L2.",
    caveats="Uses plain mean L1, not the Gaussian-weighted L1 of Zhao et al.; alpha = 0.84 as in the "
            f"paper. {_SCALES} {_IMG}",
    keras_own=False, options=options_of(L1MSSSIM), good_for=("structure", "outliers"),
    reference="Zhao et al., Loss Functions for Image Restoration with Neural Networks, IEEE TCI 2017",
    parts=lambda o: ((float(o["alpha"]), ("ms_ssim", {k: v for k, v in o.items() if k != "alpha"})),
                     (1.0 - float(o["alpha"]), "mae"))),
    L1MSSSIM)
