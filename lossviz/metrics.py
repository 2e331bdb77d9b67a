"""Image-restoration quality measures in ``keras.ops``: PSNR, and a table of PSNR / SSIM / L2 / L1."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops


def psnr(y_true: Any, y_pred: Any, max_val: float = 1.0) -> Any:
    """Peak signal-to-noise ratio per image, in decibels.

    Formula:
        PSNR = 10 \\log_{10}(L^2 / MSE),  MSE = mean over pixels and channels of (y - \\hat y)^2

    Example:
        >>> psnr(np.zeros((1, 4, 4, 1)), np.full((1, 4, 4, 1), 0.1))    # [20.] (dB)

    Args:
        y_true: reference images (N, ...).
        y_pred: restored images of the same shape.
        max_val: the dynamic range L (1.0 for [0, 1] images).

    Returns:
        PSNR values (N,) (inf for identical images).
    """
    y_pred = ops.convert_to_tensor(y_pred, dtype=keras.config.floatx())
    y_true = ops.cast(y_true, y_pred.dtype)
    if tuple(y_true.shape) != tuple(y_pred.shape) or len(y_true.shape) < 2:
        raise ValueError(f"Invalid value for `y_pred`: expected the shape of `y_true` (N, ...); received "
                         f"{tuple(y_pred.shape)} and {tuple(y_true.shape)}")
    mse = ops.mean(ops.square(y_true - y_pred), axis=tuple(range(1, len(y_true.shape))))
    return 10.0 * ops.log(max_val**2 / mse) / np.log(10.0)


def restoration_scores(clean: Any, restored: Any, max_val: float = 1.0, batch_size: int = 64) -> dict[str, float]:
    """Mean PSNR, SSIM, L2 (MSE) and L1 (MAE) of restored images against clean ones.

    Example:
        >>> restoration_scores(clean, model.predict(noisy))   # {'psnr': 31.2, 'ssim': 0.93, ...}  # doctest: +SKIP

    Args:
        clean: reference images (N, H, W, C) in [0, max_val].
        restored: images of the same shape.
        max_val: the dynamic range.
        batch_size: images per computation (bounds memory).

    Returns:
        ``{"psnr": dB, "ssim": ..., "l2": ..., "l1": ...}``, each the mean over images (plain floats).
    """
    from lossviz.losses import ssim

    clean = np.asarray(clean, dtype="float32")
    restored = np.asarray(restored, dtype="float32")
    if clean.shape != restored.shape or clean.ndim != 4:
        raise ValueError(f"Invalid value for `restored`: expected images (N, H, W, C) shaped like `clean` "
                         f"{clean.shape}; received {restored.shape}")
    parts: dict[str, list[np.ndarray]] = {"psnr": [], "ssim": []}
    for i in range(0, len(clean), batch_size):
        a, b = clean[i:i + batch_size], restored[i:i + batch_size]
        parts["psnr"].append(ops.convert_to_numpy(psnr(a, b, max_val)))
        parts["ssim"].append(ops.convert_to_numpy(ssim(a, b, max_val=max_val)))
    return {
        "psnr": float(np.mean(np.concatenate(parts["psnr"]))),
        "ssim": float(np.mean(np.concatenate(parts["ssim"]))),
        "l2": float(np.mean((clean - restored) ** 2)),
        "l1": float(np.mean(np.abs(clean - restored))),
    }
