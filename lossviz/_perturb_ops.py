"""The perturbation families of :mod:`lossviz.perturbations`, vectorised over strengths (numpy only).

Each function maps ``(target, strengths, **options)`` to a float32 batch ``(S, *target.shape)`` in which
strength 0 gives back the target exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_EPS = 1e-7


def _prep(target: Any, strengths: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(target, dtype=np.float32)
    s = np.asarray(strengths, dtype=np.float32)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"Invalid value for `strengths`: expected a non-empty 1-D array; received shape {s.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("Invalid value for `target`: expected finite values; received NaN or inf")
    return t, s


def _col(s: np.ndarray, ndim: int) -> np.ndarray:
    """Strengths shaped (S, 1, ..., 1) to broadcast against a batch of ``ndim``-D targets."""
    return s.reshape(-1, *([1] * ndim))


def _spatial(t: np.ndarray, what: str) -> None:
    if t.ndim not in (2, 3):
        raise ValueError(f"Invalid value for `target` of `{what}`: expected an image (H, W) or (H, W, C); "
                         f"received shape {t.shape}")


# ----- images / regression ---------------------------------------------------------------------------


def gaussian_noise(target: Any, strengths: Any, seed: int = 0) -> np.ndarray:
    """``target + s * n`` with one standard-normal field ``n`` (seeded) for every strength ``s``."""
    t, s = _prep(target, strengths)
    noise = np.random.default_rng(seed).standard_normal(t.shape).astype(np.float32)
    return t[None] + _col(s, t.ndim) * noise[None]


def offset(target: Any, strengths: Any) -> np.ndarray:
    """``target + s``: a constant (brightness) offset."""
    t, s = _prep(target, strengths)
    return t[None] + _col(s, t.ndim)


def outliers(target: Any, strengths: Any, fraction: float = 0.01, seed: int = 0) -> np.ndarray:
    """Move ``fraction`` of the values (at least one, seeded) by ``s``, away from 0.5 (stays in [0, 1])."""
    t, s = _prep(target, strengths)
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"Invalid value for `fraction`: expected a share in (0, 1]; received {fraction}")
    rng = np.random.default_rng(seed)
    count = max(1, round(fraction * t.size))
    delta = np.zeros(t.size, np.float32)
    where = rng.choice(t.size, size=count, replace=False)
    delta[where] = np.where(t.reshape(-1)[where] < 0.5, 1.0, -1.0)
    return t[None] + _col(s, t.ndim) * delta.reshape(t.shape)[None]


def _mirror(index: np.ndarray, n: int) -> np.ndarray:
    """Reflect indices into [0, n) without repeating the edge (as 'reflect' padding)."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * (n - 1)
    index = np.mod(index, period)
    return np.where(index >= n, period - index, index)


def blur_matrices(n: int, sigmas: np.ndarray) -> np.ndarray:
    """(S, n, n) matrices of 1-D Gaussian blurs with mirrored borders; sigma 0 gives the identity."""
    radius = max(1, int(np.ceil(3.0 * float(np.max(sigmas)))))
    offsets = np.arange(-radius, radius + 1)
    safe = np.maximum(sigmas.astype(np.float64), 1e-6)[:, None]
    weights = np.exp(-0.5 * (offsets[None, :] / safe) ** 2)
    weights /= weights.sum(axis=1, keepdims=True)
    cols = _mirror(np.arange(n)[:, None] + offsets[None, :], n)  # (n, k)
    taps = np.zeros((len(offsets), n, n), np.float32)
    np.add.at(taps, (np.arange(len(offsets))[:, None], np.arange(n)[None, :], cols.T), 1.0)
    mats = weights.astype(np.float32) @ taps.reshape(len(offsets), n * n)
    return mats.reshape(len(sigmas), n, n)


def blur(target: Any, strengths: Any) -> np.ndarray:
    """Separable Gaussian blur of standard deviation ``s`` pixels (mirrored borders), one per strength."""
    t, s = _prep(target, strengths)
    _spatial(t, "blur")
    if np.any(s < 0):
        raise ValueError("Invalid value for `strengths` of `blur`: expected sigmas >= 0")
    img = t if t.ndim == 3 else t[..., None]
    h, w, c = img.shape
    rows = np.matmul(blur_matrices(h, s), img.reshape(h, w * c)).reshape(len(s), h, w, c)
    rows = rows.transpose(0, 1, 3, 2).reshape(len(s), h * c, w)  # (S, H*C, W)
    out = np.matmul(rows, blur_matrices(w, s).transpose(0, 2, 1))  # blur along W
    return np.ascontiguousarray(out.reshape(len(s), h, c, w).transpose(0, 1, 3, 2)).reshape((len(s), *t.shape))


def _shift(t: np.ndarray, s: np.ndarray, axis: int, whole: bool) -> np.ndarray:
    """``t`` moved by each ``s`` along ``axis``, edges repeated: out[j] = (1 - f) t[j - a] + f t[j - a - 1]
    with a = floor(s), f = s - a (f = 0 when ``whole``), as (S, *t.shape) float32. Views of one padded copy
    of ``t``, one strength at a time: a gather of all strengths at once took 4x longer (64 RGB 128x128)."""
    n = t.shape[axis]
    d = np.round(s) if whole else s.astype(np.float64)
    a = np.clip(np.floor(d), -n - 1, n + 1).astype(np.int64)  # beyond n + 1 every index hits an edge
    f = np.where(np.abs(d) > n + 1, 0.0, d - np.floor(d)).astype(np.float32)
    m = int(np.abs(a).max()) + 1
    padded = np.pad(t.astype(np.float32), [(m, m) if i == axis else (0, 0) for i in range(t.ndim)], mode="edge")

    def window(start: int) -> np.ndarray:  # padded[start : start + n] along axis, a view
        return padded[(slice(None),) * axis + (slice(start, start + n),)]

    out = np.empty((len(s), *t.shape), np.float32)
    for i, (ai, fi) in enumerate(zip(a, f, strict=True)):
        x0 = window(m - ai)
        if fi == 0:
            out[i] = x0
        else:
            np.multiply(x0, 1 - fi, out=out[i])
            out[i] += fi * window(m - ai - 1)
    return out


def shift(target: Any, strengths: Any, axis: int = 1) -> np.ndarray:
    """Move the picture by ``s`` pixels along ``axis`` (1: right), linear interpolation, edges repeated."""
    t, s = _prep(target, strengths)
    _spatial(t, "shift")
    return _shift(t, s, axis, whole=False).astype(np.float32)


# ----- classification --------------------------------------------------------------------------------


def _classes(target: Any, strengths: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    t, s = _prep(target, strengths)
    if t.ndim != 1 or np.any(t < 0) or np.any(t > 1):
        raise ValueError(f"Invalid value for `target`: expected class probabilities (K,) in [0, 1]; received "
                         f"shape {t.shape}")
    binary = t.shape[0] == 1
    if binary:
        t = np.concatenate([1.0 - t, t])
    if not np.isclose(t.sum(), 1.0, atol=1e-4):
        raise ValueError(f"Invalid value for `target`: expected probabilities summing to 1; sum is {t.sum():.4f}")
    return t, s, binary


def _finish(p: np.ndarray, binary: bool, logits: bool) -> np.ndarray:
    if binary:
        p = p[:, 1:]
        if logits:
            q = np.clip(p.astype(np.float64), _EPS, 1 - _EPS)
            return np.log(q / (1 - q)).astype(np.float32)
    elif logits:
        return np.log(np.clip(p.astype(np.float64), _EPS, 1.0)).astype(np.float32)
    return p.astype(np.float32)


def _mix(t: np.ndarray, s: np.ndarray, other: np.ndarray) -> np.ndarray:
    """(1 - s) t + s other: exact t at s = 0."""
    sc = s[:, None].astype(np.float32)
    return np.where(sc == 0, t[None], (1 - sc) * t[None] + sc * other[None])


def confidence(target: Any, strengths: Any, logits: bool = False) -> np.ndarray:
    """Take probability ``s`` from the true (most probable) class, spread evenly over the others."""
    t, s, binary = _classes(target, strengths)
    k = t.shape[0]
    true = np.eye(k, dtype=np.float32)[np.argmax(t)]
    others = (1.0 - true) / (k - 1)
    return _finish(_mix(t, s, t - true + others), binary, logits)


def label_flip(target: Any, strengths: Any, logits: bool = False) -> np.ndarray:
    """Move probability ``s`` from the true class to the next class (``(true + 1) % K``)."""
    t, s, binary = _classes(target, strengths)
    k = t.shape[0]
    true = int(np.argmax(t))
    eye = np.eye(k, dtype=np.float32)
    return _finish(_mix(t, s, t - eye[true] + eye[(true + 1) % k]), binary, logits)


def label_smoothing(target: Any, strengths: Any, logits: bool = False) -> np.ndarray:
    """``(1 - s) y + s / K``."""
    t, s, binary = _classes(target, strengths)
    return _finish(_mix(t, s, np.full_like(t, 1.0 / t.shape[0])), binary, logits)


def temperature(target: Any, strengths: Any, logits: bool = False, margin: float = 4.0) -> np.ndarray:
    """``softmax(margin * y / T)`` with ``T = s``: T = 0 is the one-hot target, large T tends to uniform."""
    t, s, binary = _classes(target, strengths)
    if np.any(s < 0):
        raise ValueError("Invalid value for `strengths` of `temperature`: expected temperatures >= 0")
    z = margin * t[None].astype(np.float64) / np.maximum(s.astype(np.float64), 1e-4)[:, None]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return _finish(e / e.sum(axis=1, keepdims=True), binary, logits)


# ----- segmentation masks ----------------------------------------------------------------------------


def _mask(target: Any, strengths: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    t, s = _prep(target, strengths)
    if not (t.ndim == 2 or (t.ndim == 3 and t.shape[-1] == 1)) or not np.all((t == 0) | (t == 1)):
        raise ValueError(f"Invalid value for `target`: expected a binary mask (H, W) or (H, W, 1) of 0 and 1; "
                         f"received shape {t.shape}")
    return t.reshape(t.shape[0], t.shape[1]) > 0.5, s, t.shape


def _boundary(m: np.ndarray) -> np.ndarray:
    """Pixels of ``m`` with a 4-neighbour outside ``m`` (the image border counts as outside)."""
    p = np.pad(m, 1, constant_values=False)
    inner = p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return m & ~inner


def distance_to(m: np.ndarray) -> np.ndarray:
    """Euclidean distance from every pixel to the nearest pixel of ``m`` (0 on ``m``; inf if ``m`` is empty)."""
    edge = np.argwhere(_boundary(m)).astype(np.float32)
    out = np.zeros(m.shape, np.float32)
    if edge.size == 0:
        out[:] = np.inf
        return out
    pixels = np.argwhere(~m).astype(np.float32)
    best = np.empty(len(pixels), np.float32)
    for i in range(0, len(pixels), 2048):
        chunk = pixels[i:i + 2048]
        d2 = ((chunk[:, None, :] - edge[None, :, :]) ** 2).sum(-1)
        best[i:i + 2048] = np.sqrt(d2.min(axis=1))
    out[~m] = best
    return out


def dilate(target: Any, strengths: Any) -> np.ndarray:
    """Add every pixel within ``s`` pixels (Euclidean) of the mask."""
    m, s, shape = _mask(target, strengths)
    d = distance_to(m)
    return (d[None] <= s[:, None, None]).astype(np.float32).reshape((len(s), *shape))


def erode(target: Any, strengths: Any) -> np.ndarray:
    """Keep only the pixels farther than ``s`` pixels from the background."""
    m, s, shape = _mask(target, strengths)
    d = distance_to(~m)
    return (d[None] > s[:, None, None]).astype(np.float32).reshape((len(s), *shape))


def mask_shift(target: Any, strengths: Any) -> np.ndarray:
    """Move the mask right by ``round(s)`` pixels (edge columns repeated)."""
    m, s, shape = _mask(target, strengths)
    return _shift(m.astype(np.float32), s, 1, whole=True).reshape((len(s), *shape))


def _drop_from(m: np.ndarray, part: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Remove the right-hand fraction ``s`` (by columns) of the pixels in ``part``."""
    out = np.repeat(m[None], len(s), axis=0)
    cols = np.nonzero(part.any(axis=0))[0]
    if cols.size == 0:
        return out
    x0, width = cols[0], cols[-1] - cols[0] + 1
    keep_before = x0 + (1.0 - s.astype(np.float64)) * width  # (S,)
    columns = np.arange(m.shape[1])[None, None, :]
    cut = part[None] & (columns >= keep_before[:, None, None])
    return out & ~cut


def drop_part(target: Any, strengths: Any) -> np.ndarray:
    """Remove the right-hand fraction ``s`` of the mask's width (a partly missed object)."""
    m, s, shape = _mask(target, strengths)
    return _drop_from(m, m, s).astype(np.float32).reshape((len(s), *shape))


def components(m: np.ndarray) -> np.ndarray:
    """Labels of the 4-connected components of ``m`` (0 background, 1..n), by min-label propagation."""
    big = m.size + 1
    lab = np.where(m, np.arange(1, m.size + 1).reshape(m.shape), big)
    while True:
        p = np.pad(lab, 1, constant_values=big)
        new = np.minimum.reduce([lab, p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
        new = np.where(m, new, big)
        if np.array_equal(new, lab):
            break
        lab = new
    values = np.concatenate([[0], np.where(m, lab, 0).reshape(-1)])
    _, dense = np.unique(values, return_inverse=True)
    return dense[1:].reshape(m.shape)


def drop_small_object(target: Any, strengths: Any) -> np.ndarray:
    """Remove the right-hand fraction ``s`` of the smallest object (4-connected component) only."""
    m, s, shape = _mask(target, strengths)
    lab = components(m)
    sizes = np.bincount(lab.reshape(-1))[1:]
    part = lab == (1 + int(np.argmin(sizes))) if sizes.size else m
    return _drop_from(m, part, s).astype(np.float32).reshape((len(s), *shape))


# ----- boxes -----------------------------------------------------------------------------------------


def _box(target: Any, strengths: Any) -> tuple[np.ndarray, np.ndarray, float, float]:
    t, s = _prep(target, strengths)
    if t.shape != (4,) or t[2] < t[0] or t[3] < t[1]:
        raise ValueError(f"Invalid value for `target`: expected one box (4,) as (x1, y1, x2, y2) with x2 >= x1 "
                         f"and y2 >= y1; received {t.tolist() if t.size <= 8 else t.shape}")
    return t, s, float(t[2] - t[0]), float(t[3] - t[1])


def _resize(t: np.ndarray, fw: np.ndarray, fh: np.ndarray, w: float, h: float) -> np.ndarray:
    dx = ((fw - 1.0) * w / 2.0).astype(np.float32)
    dy = ((fh - 1.0) * h / 2.0).astype(np.float32)
    return t[None] + np.stack([-dx, -dy, dx, dy], axis=1)


def box_translate(target: Any, strengths: Any) -> np.ndarray:
    """Move the box by ``s`` times (its width, its height)."""
    t, s, w, h = _box(target, strengths)
    return t[None] + s[:, None] * np.array([w, h, w, h], np.float32)[None]


def box_separate(target: Any, strengths: Any) -> np.ndarray:
    """Move the box right by ``s`` widths (disjoint from s = 1 on)."""
    t, s, w, _ = _box(target, strengths)
    return t[None] + s[:, None] * np.array([w, 0, w, 0], np.float32)[None]


def box_scale(target: Any, strengths: Any) -> np.ndarray:
    """Scale width and height by ``2**s`` about the centre."""
    t, s, w, h = _box(target, strengths)
    f = np.exp2(s.astype(np.float64))
    return _resize(t, f, f, w, h)


def box_aspect(target: Any, strengths: Any) -> np.ndarray:
    """Width times ``2**(s/2)``, height divided by it (same area, same centre)."""
    t, s, w, h = _box(target, strengths)
    f = np.exp2(s.astype(np.float64) / 2.0)
    return _resize(t, f, 1.0 / f, w, h)
