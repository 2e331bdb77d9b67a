"""scripts/results.py: one record per (lesson, profile, backend, device), and its Markdown table."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import results  # noqa: E402


def record(lesson: str, date: str, **extra) -> dict:
    return {"lesson": lesson, "profile": "full", "backend": "jax", "device": "NVIDIA H200", "date": date,
            "wall_s": 12.0, "status": "ok", "error": "", "metrics": [{"acc": 0.91234, "n": 3}], **extra}


def test_a_newer_run_replaces_the_same_lesson_profile_backend_and_device_only():
    old = [record("02", "d1"), record("03", "d1"), {**record("02", "d1"), "backend": "tensorflow"}]
    runs = results.replace(old, [record("02", "d2")])
    assert sorted((r["lesson"], r["backend"], r["date"]) for r in runs) == [
        ("02", "jax", "d2"), ("02", "tensorflow", "d1"), ("03", "jax", "d1")]


def test_markdown_row_says_the_software_and_the_flattened_metrics(tmp_path):
    results.save([record("02", "d1", software="python 3.12, keras 3.15.1"), record("03", "d1")], tmp_path)
    rows = (tmp_path / "RESULTS.md").read_text().splitlines()
    assert rows[4].count("|") == rows[6].count("|") == 10
    assert "| python 3.12, keras 3.15.1 | acc=0.9123; n=3 |" in rows[6]
    assert "| ok | - | acc=0.9123; n=3 |" in rows[7]


def test_software_names_keras_and_the_backend_package():
    text = results.software("jax")
    assert text.startswith("python ") and "keras " in text and "jaxlib " in text
