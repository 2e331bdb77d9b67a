"""WBC segmentation Dataset 1 (Zheng et al. 2018): 300 white-blood-cell images with expert masks.

Source: github.com/zxaoyou/segmentation_WBC @ fa9c016 (GPL-3.0). Images courtesy of Jiangxi Tecom
Science Corporation, China. Cite: Xin Zheng, Yong Wang, Guoyou Wang, Jianguo Liu, "Fast and Robust
Segmentation of White Blood Cell Images by Self-supervised Learning", Micron 107:55-71 (2018).
Only Dataset 1 is used (Dataset 2's images have unclear redistribution rights).

Masks hold 0 (background, red cells included), 128 (cytoplasm) and 255 (nucleus); they are mapped by
ranges (>= 192 nucleus, 64..191 cytoplasm), not exact values. 224 images are 120x120 and the rest
smaller (88..120 px): each is padded to a square by repeating its edge pixels, then resized
(bilinear for images, nearest for masks). The split is a fixed seeded permutation: 240 train, 60 test.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from lossviz.datasets._cache import cached
from lossviz.datasets._fetch import ensure

TARGETS = ("nucleus", "cell", "classes")
SPLITS = ("train", "test", "all")
N_IMAGES, N_TRAIN, SPLIT_SEED = 300, 240, 2018


def _square(array: np.ndarray) -> np.ndarray:
    h, w = array.shape[:2]
    side = max(h, w)
    pad = [((side - h) // 2, side - h - (side - h) // 2), ((side - w) // 2, side - w - (side - w) // 2)]
    return np.pad(array, pad + [(0, 0)] * (array.ndim - 2), mode="edge")


def _all(size: int) -> dict[str, np.ndarray]:
    folder = ensure("wbc_seg")

    def build() -> dict[str, np.ndarray]:
        images, masks = [], []
        for i in range(1, N_IMAGES + 1):
            with Image.open(folder / "Dataset 1" / f"{i:03d}.bmp") as im:
                image = _square(np.asarray(im.convert("RGB"), "uint8"))
            with Image.open(folder / "Dataset 1" / f"{i:03d}.png") as im:
                mask = _square(np.asarray(im.convert("L"), "uint8"))
            images.append(np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR)))
            masks.append(np.asarray(Image.fromarray(mask).resize((size, size), Image.NEAREST)))
        return {"x": np.stack(images), "mask": np.stack(masks)}

    return cached(folder, f"wbc1-{size}", build)


def wbc_segmentation(split: str = "train", size: int = 96, target: str = "nucleus") -> tuple[np.ndarray, np.ndarray]:
    """Images and masks of WBC segmentation Dataset 1, square and resized.

    Example:
        >>> x, y = wbc_segmentation("train", size=64, target="nucleus")   # doctest: +SKIP
        >>> x.shape, y.shape                                              # (240, 64, 64, 3), (240, 64, 64, 1)

    Args:
        split: ``"train"`` (240 images), ``"test"`` (60) or ``"all"`` (300).
        size: side of the square images in pixels.
        target: ``"nucleus"`` (about 12% of pixels), ``"cell"`` (cytoplasm and nucleus, about 31%),
            or ``"classes"`` (0 background, 1 cytoplasm, 2 nucleus).

    Returns:
        ``(x, y)``: x float32 (N, size, size, 3) in [0, 1]; y float32 (N, size, size, 1) in {0, 1} for
        ``"nucleus"`` and ``"cell"``, int32 (N, size, size) for ``"classes"``.
    """
    if split not in SPLITS:
        raise ValueError(f"Invalid value for `split`: expected one of {SPLITS}; received {split!r}")
    if target not in TARGETS:
        raise ValueError(f"Invalid value for `target`: expected one of {TARGETS}; received {target!r}")
    data = _all(size)
    order = np.random.default_rng(SPLIT_SEED).permutation(N_IMAGES)
    index = {"train": order[:N_TRAIN], "test": order[N_TRAIN:], "all": np.arange(N_IMAGES)}[split]
    x = data["x"][index].astype("float32") / 255.0
    mask = data["mask"][index]
    if target == "classes":
        return x, np.where(mask >= 192, 2, np.where(mask >= 64, 1, 0)).astype("int32")
    threshold = 192 if target == "nucleus" else 64
    return x, (mask >= threshold).astype("float32")[..., None]
