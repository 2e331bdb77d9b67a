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


def test_seed_summary_by_hand():
    runs = {"0": {"dice": 0.9}, "1": {"dice": 0.12}, "2": {"dice": 0.93}}
    s = results.seed_summary(runs, "dice", lambda r: r["dice"] < 0.5, "collapsed_seeds")
    assert s["dice_mean"] == 0.65 and s["dice_min"] == 0.12 and s["dice_max"] == 0.93
    assert s["dice_sd"] == round(((0.25**2 + 0.53**2 + 0.28**2) / 2) ** 0.5, 4)
    assert s["collapsed_seeds"] == 1 and s["per_seed_dice"] == {"0": 0.9, "1": 0.12, "2": 0.93}


def test_unet_seeds_record_names_a_rate_other_than_the_lessons():
    import argparse

    import unet_seeds

    per_seed = {n: {"1": {"dice": 0.94, "recall": 0.95}} for n in unet_seeds.LOSSES}
    per_seed["Dice"]["1"] = {"dice": 0.12, "recall": 0.125}
    args = argparse.Namespace(**{**unet_seeds.FULL, "learning_rate": 2e-3})
    rec = unet_seeds.record(args, per_seed, 10.0, "tensorflow", "CPU")
    assert rec["lesson"] == "04_segmentation_losses:seeds_lr0.002" and rec["profile"] == "custom"
    assert rec["metrics"][0]["Dice"]["collapsed_seeds"] == 1 and rec["metrics"][0]["BCE"]["collapsed_seeds"] == 0
    full = unet_seeds.record(argparse.Namespace(**unet_seeds.FULL), per_seed, 10.0, "tensorflow", "CPU")
    assert (full["lesson"], full["profile"]) == ("04_segmentation_losses:seeds", "full")


def test_checked_cells_compare_what_tagged_cells_printed():
    import nbformat

    def notebook(outputs):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# NBVAL_CHECK_OUTPUT in prose"),
                    nbformat.v4.new_code_cell("print(1)"),
                    nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(a)"),
                    nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nb")]
        nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="anything\n")]
        nb.cells[2].outputs, nb.cells[3].outputs = outputs
        return nb

    def executed(outputs, run=(2, 3)):
        nb = notebook(outputs)
        for i in run:
            nb.cells[i].metadata["execution"] = {"shell.execute_reply": "2026-12-03T16:00:00Z"}
        return nb

    claim = [nbformat.v4.new_output("stream", name="stdout", text="MAE moved less: True\n")]
    warning = [nbformat.v4.new_output("stream", name="stderr", text="a warning\n")]
    value = [nbformat.v4.new_output("execute_result", data={"text/plain": "3"}, execution_count=1)]
    stored = notebook((claim, value))
    assert results.checked_cells(stored, executed((warning + claim, value))) == {
        "total": 2, "as_stored": 2, "differ": []}
    other = [nbformat.v4.new_output("stream", name="stdout", text="MAE moved less: False\n")]
    checks = results.checked_cells(stored, executed((other, [])))
    assert checks["total"] == 2 and checks["as_stored"] == 0
    assert checks["differ"][0].startswith("cell 2: stored 'MAE moved less: True' != printed 'MAE moved less: False'")
    # a stopped run: the cell after the stop still holds its stored output but did not run
    assert results.checked_cells(stored, executed((claim, value), run=(2,)))["differ"] == ["cell 3: not run"]
