"""Headline metrics of a lesson run, collected by ``scripts/results.py``.

A lesson calls :func:`report` with the numbers it wants recorded (final loss per loss function,
accuracy, IoU, PSNR, ...). When ``LOSSVIZ_RESULTS`` names a file, each call appends one JSON line to
it; otherwise the call does nothing, so lessons run the same inside and outside the results script.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any


def _plain(value: Any) -> Any:
    """Convert numpy / tensor scalars and containers into JSON-friendly Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, bool)) or value is None:
        return value
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, (int, float)):
        number = float(value) if isinstance(value, float) else int(value)
        return None if isinstance(number, float) and not math.isfinite(number) else number
    return str(value)


def report(**metrics: Any) -> dict[str, Any]:
    """Record a lesson's headline metrics for the results file.

    Example:
        >>> report(final_loss={"mse": 0.12, "mae": 0.31}, accuracy=0.91)  # doctest: +SKIP

    Args:
        **metrics: named values (numbers, strings, or nested dicts / lists of them).

    Returns:
        The metrics as plain Python values (also what was written, if anything).
    """
    plain = _plain(metrics)
    path = os.environ.get("LOSSVIZ_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(plain) + "\n")
    return plain
