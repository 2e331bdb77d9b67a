"""Run profiles: ``smoke`` (tiny data, seconds on a CPU; CI) and ``full`` (the real training; GPU).

One switch for every lesson: the environment variable ``LOSSVIZ_PROFILE``. When it is unset, the
profile is ``full`` if Keras sees a GPU and ``smoke`` otherwise.
"""

from __future__ import annotations

import os
from typing import TypeVar

PROFILES = ("smoke", "full")
T = TypeVar("T")


def _keras_sees_gpu() -> bool:
    import keras

    try:
        devices = keras.distribution.list_devices()
    except Exception:  # a backend without device listing: treat as CPU only
        return False
    return any(str(d).lower().startswith(("gpu", "cuda")) for d in devices)


def profile() -> str:
    """Return the active profile, ``"smoke"`` or ``"full"``.

    Reads ``LOSSVIZ_PROFILE``; when unset, ``"full"`` if Keras sees a GPU, else ``"smoke"``.

    Returns:
        The profile name.
    """
    value = os.environ.get("LOSSVIZ_PROFILE", "").strip().lower()
    if value:
        if value not in PROFILES:
            raise ValueError(
                f"Invalid value for `LOSSVIZ_PROFILE`: expected one of {PROFILES}; received {value!r}"
            )
        return value
    return "full" if _keras_sees_gpu() else "smoke"


def pick(smoke: T, full: T) -> T:
    """Pick a value for the active profile.

    Example:
        >>> epochs = pick(smoke=1, full=30)

    Args:
        smoke: value used in the ``smoke`` profile.
        full: value used in the ``full`` profile.

    Returns:
        ``smoke`` or ``full``.
    """
    return full if profile() == "full" else smoke
