"""Refresh the README's screenshots: run the browser suite, then copy its screenshots, downscaled.

    python scripts/screenshots.py                  # run the browser suite, then copy
    python scripts/screenshots.py --from DIR       # only copy, from DIR (e.g. a CI clone's artifacts/browser)

The browser suite (``pytest -m browser``) saves full-size screenshots of each lesson's widgets in
``artifacts/browser/``; this keeps small copies (at most 760 px wide, PNG) in ``docs/screenshots/``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "artifacts" / "browser"
TARGET = ROOT / "docs" / "screenshots"
MAX_WIDTH = 760


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="copy the screenshots of an earlier browser-suite run from this folder")
    args = parser.parse_args(argv)
    source = args.source or SOURCE
    if args.source is None:
        result = subprocess.run([sys.executable, "-m", "pytest", "-m", "browser", "-q", "-p", "no:cacheprovider"],
                                cwd=ROOT)
        if result.returncode != 0:
            print("the browser suite failed; screenshots not refreshed")
            return result.returncode
    TARGET.mkdir(parents=True, exist_ok=True)
    for png in sorted(source.glob("*.png")):
        image = Image.open(png).convert("RGB")
        if image.width > MAX_WIDTH:
            image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)), Image.LANCZOS)
        image.save(TARGET / png.name, optimize=True)
        print("wrote", (TARGET / png.name).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
