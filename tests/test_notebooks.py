"""Lessons are built from their sources, stay small, and read like lessons."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_there_are_lessons():
    assert NOTEBOOKS, "no notebooks/*.ipynb"


def test_notebooks_match_their_sources():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "nb.py"), "check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_cells_keep_outputs_and_no_widget_state(path):
    text = path.read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-state+json" not in text
    assert len(text) < 300_000, f"{path.name} is {len(text)} bytes"
    for cell in _cells(path):
        if cell["cell_type"] == "code" and "# NBVAL_CHECK_OUTPUT" not in "".join(cell["source"]):
            assert cell["outputs"] == [], f"{path.name}: unchecked cell keeps outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_has_summary_exercises_and_short_cells(path):
    cells = _cells(path)
    headings = [line for c in cells if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if line.startswith("#")]
    assert any(re.search(r"\bSummary\b", h) for h in headings), f"{path.name}: no Summary section"
    assert any(re.search(r"\bExercises?\b", h) for h in headings), f"{path.name}: no Exercises section"
    lengths = sorted(len("".join(c["source"]).strip().splitlines()) for c in cells if c["cell_type"] == "code")
    assert lengths[len(lengths) // 2] <= 6, f"{path.name}: median code cell has {lengths[len(lengths) // 2]} lines"
    checked = [c for c in cells if "# NBVAL_CHECK_OUTPUT" in "".join(c["source"])]
    assert checked, f"{path.name}: no checked cell states a claim"
    for cell in checked:
        assert cell["outputs"], f"{path.name}: a checked cell has no stored output"
        # nbval treats a cell with no execution_count as unrun and fails it if it keeps outputs
        assert cell["execution_count"] is not None, f"{path.name}: a checked cell is stored as unrun"
