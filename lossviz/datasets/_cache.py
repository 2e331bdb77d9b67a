"""Decoded arrays cached as .npz (no pickle) next to the raw files, keyed by the loader's arguments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

VERSION = 1  # bump when a loader's output changes


def cached(folder: Path, key: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Load ``<folder>/derived/<key>.npz`` or build it with ``build()`` and save it."""
    path = folder / "derived" / f"v{VERSION}-{key}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError):
            path.unlink()  # a damaged cache entry is rebuilt
    arrays = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return arrays
