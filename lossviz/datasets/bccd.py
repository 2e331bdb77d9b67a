"""BCCD: blood-cell smears (640x480 JPEG) with VOC boxes for RBC, WBC and Platelets.

Source: github.com/Shenggan/BCCD_Dataset @ d272fb1 (MIT); original data and annotations by
github.com/cosmicad/dataset and github.com/akshaylamba/all_CELL_data. Splits come from
``BCCD/ImageSets/Main`` (train 205, val 87, test 72 images). Two RBC boxes have zero area
(BloodImage_00338 and _00343): annotations keep them, crops skip them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from PIL import Image

from lossviz.datasets._cache import cached
from lossviz.datasets._fetch import ensure

BCCD_CLASSES = ("RBC", "WBC", "Platelets")
SPLITS = ("train", "val", "trainval", "test", "all")


def _ids(folder: Path, split: str) -> list[str]:
    if split not in SPLITS:
        raise ValueError(f"Invalid value for `split`: expected one of {SPLITS}; received {split!r}")
    if split == "all":
        return sorted(p.stem for p in (folder / "BCCD" / "Annotations").glob("*.xml"))
    return (folder / "BCCD" / "ImageSets" / "Main" / f"{split}.txt").read_text().split()


def bccd_annotations(split: str = "all") -> list[dict]:
    """Parse the VOC annotations of a split.

    Example:
        >>> records = bccd_annotations("test")        # doctest: +SKIP
        >>> records[0]["boxes"].shape                  # (K, 4) xyxy pixels

    Args:
        split: ``"train"``, ``"val"``, ``"trainval"``, ``"test"`` or ``"all"``.

    Returns:
        One dict per image: ``id``, ``image`` (path), ``width``, ``height``, ``boxes`` (K, 4) float32
        (x1, y1, x2, y2) in pixels, ``labels`` (K,) int32 indices into ``BCCD_CLASSES``.
    """
    folder = ensure("bccd")
    records = []
    for image_id in _ids(folder, split):
        root = ET.parse(folder / "BCCD" / "Annotations" / f"{image_id}.xml").getroot()
        boxes, labels = [], []
        for obj in root.iter("object"):
            box = obj.find("bndbox")
            boxes.append([float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")])
            labels.append(BCCD_CLASSES.index(obj.findtext("name").strip()))
        size = root.find("size")
        records.append({
            "id": image_id,
            "image": folder / "BCCD" / "JPEGImages" / f"{image_id}.jpg",
            "width": int(size.findtext("width")),
            "height": int(size.findtext("height")),
            "boxes": np.asarray(boxes, "float32").reshape(-1, 4),
            "labels": np.asarray(labels, "int32"),
        })
    return records


def _rgb(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def bccd_cells(split: str = "train", size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Every labelled cell of a split, cropped from its smear and resized to ``size`` x ``size``.

    The classes are strongly imbalanced (over all splits: RBC 4155, WBC 372, Platelets 361).

    Args:
        split: a BCCD split (see :func:`bccd_annotations`).
        size: side of each crop in pixels.

    Returns:
        ``(x, y)``: float32 (N, size, size, 3) in [0, 1], and int32 (N,) class indices.
    """
    def build() -> dict[str, np.ndarray]:
        xs, ys = [], []
        for record in bccd_annotations(split):
            image = _rgb(record["image"])
            for (x1, y1, x2, y2), label in zip(record["boxes"], record["labels"], strict=True):
                if x2 <= x1 or y2 <= y1:
                    continue  # the two zero-area boxes
                crop = image.crop((int(x1), int(y1), int(x2), int(y2))).resize((size, size), Image.BILINEAR)
                xs.append(np.asarray(crop, "uint8"))
                ys.append(label)
        return {"x": np.stack(xs), "y": np.asarray(ys, "int32")}

    data = cached(ensure("bccd"), f"cells-{split}-{size}", build)
    return data["x"].astype("float32") / 255.0, data["y"]


def bccd_wbc_boxes(split: str = "train", size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Whole smears resized to ``size`` x ``size`` with the box of their white blood cell.

    Images without a WBC (6) are skipped; where an image has two WBCs (14) the larger box is used.

    Args:
        split: a BCCD split (see :func:`bccd_annotations`).
        size: side of the resized image (the 4:3 smear is stretched to a square).

    Returns:
        ``(x, boxes)``: float32 (N, size, size, 3) in [0, 1], and float32 (N, 4) boxes
        (x1, y1, x2, y2) normalised to [0, 1] by the image's width and height.
    """
    def build() -> dict[str, np.ndarray]:
        xs, boxes = [], []
        wbc = BCCD_CLASSES.index("WBC")
        for record in bccd_annotations(split):
            candidates = record["boxes"][record["labels"] == wbc]
            if len(candidates) == 0:
                continue
            areas = (candidates[:, 2] - candidates[:, 0]) * (candidates[:, 3] - candidates[:, 1])
            box = candidates[int(np.argmax(areas))]
            scale = np.array([record["width"], record["height"]] * 2, "float32")
            xs.append(np.asarray(_rgb(record["image"]).resize((size, size), Image.BILINEAR), "uint8"))
            boxes.append(np.clip(box / scale, 0.0, 1.0))
        return {"x": np.stack(xs), "boxes": np.stack(boxes).astype("float32")}

    data = cached(ensure("bccd"), f"wbc-boxes-{split}-{size}", build)
    return data["x"].astype("float32") / 255.0, data["boxes"]


def bccd_patches(split: str = "train", size: int = 64, count: int = 256, seed: int = 0) -> np.ndarray:
    """Random ``size`` x ``size`` crops of full-resolution smears (for denoising lessons).

    Args:
        split: a BCCD split (see :func:`bccd_annotations`).
        size: side of each patch in pixels (at most 480).
        count: number of patches.
        seed: seed of the crop positions and of the images they come from.

    Returns:
        float32 (count, size, size, 3) in [0, 1].
    """
    if not 1 <= size <= 480:
        raise ValueError(f"Invalid value for `size`: expected 1 <= size <= 480 pixels; received {size}")

    def build() -> dict[str, np.ndarray]:
        records = bccd_annotations(split)
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, len(records), count)
        patches = np.empty((count, size, size, 3), "uint8")
        for index in np.unique(picks):
            image = np.asarray(_rgb(records[index]["image"]), "uint8")
            for slot in np.flatnonzero(picks == index):
                top = rng.integers(0, image.shape[0] - size + 1)
                left = rng.integers(0, image.shape[1] - size + 1)
                patches[slot] = image[top:top + size, left:left + size]
        return {"x": patches}

    return cached(ensure("bccd"), f"patches-{split}-{size}-{count}-{seed}", build)["x"].astype("float32") / 255.0
