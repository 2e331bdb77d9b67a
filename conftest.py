"""Test-wide settings: the smoke profile unless the caller chose one (notebook kernels inherit it)."""

import os

os.environ.setdefault("LOSSVIZ_PROFILE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
