"""Seed the data caches from local copies of the canonical files (CI, offline machines).

    python scripts/seed_data.py [--from ../shared/data]

Copies BCCD and WBC segmentation Dataset 1 into ``$LOSSVIZ_DATA`` (default ``~/.lossviz/data``), in the
layout ``lossviz.datasets`` reads, and the four Fashion-MNIST files into
``${KERAS_HOME:-~/.keras}/datasets/fashion-mnist/``. Every file is checked against its sha256; files
already in place and valid are left alone.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lossviz.datasets._fetch import MANIFESTS, data_dir, ensure, read_manifest  # noqa: E402

FASHION = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_verified(source: Path, target: Path, digest: str) -> bool:
    """Copy ``source`` to ``target`` unless a valid copy is there; return True if copied."""
    if target.exists() and sha256(target) == digest:
        return False
    if sha256(source) != digest:
        raise SystemExit(f"{source} does not match its sha256 {digest}: refusing to seed it")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args(argv)
    for name in ("bccd", "wbc_seg"):
        entries = read_manifest(MANIFESTS / f"{name}.tsv")
        copied = sum(copy_verified(args.source / name / rel, data_dir() / name / rel, digest)
                     for rel, (_, digest) in entries.items())
        ensure(name)  # verifies everything (and records the stamp) without any download
        print(f"{name}: {copied} copied, {len(entries) - copied} already valid, in {data_dir() / name}")
    keras_home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    target = keras_home / "datasets" / "fashion-mnist"
    copied = sum(copy_verified(args.source / "fashion_mnist" / f, target / f, d) for f, d in FASHION.items())
    print(f"fashion_mnist: {copied} copied, {len(FASHION) - copied} already valid, in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
