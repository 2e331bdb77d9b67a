"""Download, verify and cache dataset files (pure compute: no plotting, no widgets).

Every file of a dataset is listed in a sha256 manifest shipped with lossviz
(``lossviz/datasets/manifests/<name>.tsv``). :func:`ensure` downloads what is missing from the
canonical source at a pinned commit with ``keras.utils.get_file`` (which shows a progress bar and
checks the sha256), re-fetches a corrupt or truncated file, and remembers each verified file's size
and modification time in a stamp file so that later calls do not hash 40 MB again.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import keras


class DataUnavailableError(RuntimeError):
    """A dataset file could not be downloaded or verified."""


@dataclass(frozen=True)
class Source:
    """Where a dataset's files come from."""

    name: str
    origin: str  # URL prefix; a file's URL is origin + its manifest path (URL-quoted)
    homepage: str


SOURCES = {
    "bccd": Source(
        "bccd",
        "https://raw.githubusercontent.com/Shenggan/BCCD_Dataset/d272fb14cdff6e473fafeeeba32aba5f560e9e43/",
        "https://github.com/Shenggan/BCCD_Dataset",
    ),
    "wbc_seg": Source(
        "wbc_seg",
        "https://raw.githubusercontent.com/zxaoyou/segmentation_WBC/fa9c01622f52bccb9aeb8a6f2628f564e377767d/",
        "https://github.com/zxaoyou/segmentation_WBC",
    ),
}
MANIFESTS = Path(__file__).with_name("manifests")
STAMP = ".lossviz-verified.json"


def data_dir() -> Path:
    """The cache root: ``$LOSSVIZ_DATA`` or ``~/.lossviz/data``."""
    return Path(os.environ.get("LOSSVIZ_DATA") or Path.home() / ".lossviz" / "data").expanduser()


def read_manifest(path: Path) -> dict[str, tuple[int, str]]:
    """Read a manifest (path, bytes, sha256 per line) into {path: (bytes, sha256)}."""
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            name, size, digest = line.split("\t")[:3]
            entries[name] = (int(size), digest)
    return entries


def origin_for(source: Source) -> str:
    """The URL prefix in use: ``$LOSSVIZ_DATA_URL/<dataset>/`` when set (mirrors, tests), else canonical."""
    mirror = os.environ.get("LOSSVIZ_DATA_URL")
    return f"{mirror.rstrip('/')}/{source.name}/" if mirror else source.origin


def _load_stamp(root: Path) -> dict[str, list[int]]:
    try:
        return json.loads((root / STAMP).read_text())
    except (OSError, ValueError):
        return {}


def _fetch_one(url: str, target: Path, digest: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        keras.utils.get_file(fname=target.name, origin=url, cache_dir=str(target.parent), cache_subdir=".",
                             file_hash=digest, hash_algorithm="sha256")
    except Exception as error:  # get_file raises plain Exception for network failures
        if target.exists():
            target.unlink()  # never leave an unverified file behind
        raise DataUnavailableError(
            f"Could not download {url} into {target.parent}: {error}. Without network access, put the "
            f"file there by hand (sha256 {digest}), or set LOSSVIZ_DATA to a directory that has it."
        ) from error


def ensure(name: str, manifest: Path | None = None, root: Path | None = None) -> Path:
    """Make sure every file of a dataset is in the cache and matches its sha256; return its folder.

    Example:
        >>> folder = ensure("bccd")          # doctest: +SKIP
        >>> (folder / "BCCD" / "Annotations").is_dir()

    Args:
        name: a key of ``SOURCES`` (``"bccd"`` or ``"wbc_seg"``).
        manifest: the manifest to use (default: the one shipped with lossviz).
        root: the cache root (default: :func:`data_dir`).

    Returns:
        The dataset's folder, ``<root>/<name>``.
    """
    if name not in SOURCES:
        raise ValueError(f"Invalid value for `name`: expected one of {sorted(SOURCES)}; received {name!r}")
    source = SOURCES[name]
    entries = read_manifest(manifest or MANIFESTS / f"{name}.tsv")
    folder = (root or data_dir()) / name
    folder.mkdir(parents=True, exist_ok=True)
    stamp = _load_stamp(folder)
    origin = origin_for(source)
    changed = False
    for rel, (size, digest) in entries.items():
        target = folder / rel
        try:
            stat = target.stat()
        except FileNotFoundError:
            stat = None
        if stat is not None and stamp.get(rel) == [stat.st_size, stat.st_mtime_ns] and stat.st_size == size:
            continue
        if stat is not None and stat.st_size != size:
            target.unlink()  # truncated or grown: fetch again
        _fetch_one(origin + urllib.parse.quote(rel), target, digest)
        stat = target.stat()
        stamp[rel] = [stat.st_size, stat.st_mtime_ns]
        changed = True
    if changed:
        (folder / STAMP).write_text(json.dumps(stamp))
    return folder
