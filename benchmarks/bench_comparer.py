"""LossComparer speed: strength-slider change (markers and picture only) and family change (recompute).

Goals (issue 4): strength change <= 16 ms; family change (8 losses x 64 strengths, 128x128 targets,
all curves recomputed) <= 100 ms; on 2 CPU cores, TensorFlow backend. Times are from setting
``controls[...].value`` to the figure's data being set (the observers run synchronously), medians over
repeats. Family changes clear the comparer's cache of curves first, so every loss is recomputed (by its
compiled function, traced when the widget was built: that first build is timed too).

Run: ``python benchmarks/bench_comparer.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import keras
import numpy as np

from lossviz.widgets.comparer import LossComparer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import emit, row  # noqa: E402

SIZE = 128


def targets() -> tuple[np.ndarray, np.ndarray, str]:
    """A 128x128 real white-cell mask and a real blood-smear patch (synthetic if the data is missing)."""
    try:
        from lossviz import datasets

        _, masks = datasets.wbc_segmentation("test", size=SIZE, target="nucleus")
        patch = datasets.bccd_patches("test", size=SIZE, count=1, seed=0)[0]
        return masks[0], patch, "real (WBC nucleus mask, BCCD patch)"
    except Exception as exc:  # the data cache is not seeded: say so and use synthetic targets of the same size
        yy, xx = np.mgrid[:SIZE, :SIZE]
        mask = (((yy - 60) ** 2 + (xx - 70) ** 2) < 30**2).astype(np.float32)[..., None]
        rng = np.random.default_rng(0)
        patch = np.clip(0.5 + 0.2 * np.sin(xx / 9.0)[..., None] + 0.05 * rng.standard_normal((SIZE, SIZE, 3)), 0, 1)
        return mask, patch.astype(np.float32), f"synthetic (no data: {type(exc).__name__})"


def lesson_patch() -> np.ndarray:
    """Lesson 06's comparer target: a 96x96 BCCD patch (a smaller synthetic one if the data is missing)."""
    try:
        from lossviz import datasets

        return datasets.bccd_patches("test", size=96, count=4, seed=0)[0]
    except Exception:  # the same fallback as targets(), at the lesson's size
        return np.asarray(targets()[1][:96, :96])


def median_ms(times: list[float]) -> float:
    return 1e3 * statistics.median(times)


def bench(name: str, task: str, target: np.ndarray, losses: list | dict, families: list[str], repeats: int,
          note: str, goal: bool = True) -> list[dict]:
    t = time.perf_counter()
    cmp = LossComparer(task, target, losses=losses, family=families[0], strengths=64)
    built = time.perf_counter() - t
    slider = cmp.controls["strength"]
    moves = []
    for v in np.linspace(slider.min, slider.max, 4 * repeats):
        t = time.perf_counter()
        slider.value = float(v)
        moves.append(time.perf_counter() - t)
    changes, cached = [], []
    for _ in range(repeats):
        for fam in families[1:] + families[:1]:
            cmp.clear_cache()
            t = time.perf_counter()
            cmp.controls["family"].value = fam
            changes.append(time.perf_counter() - t)
    for fam in families:  # fill the cache with every family's curves
        cmp.controls["family"].value = fam
    for fam in families[1:] + families[:1]:  # cached: the perturbation is redone, the losses are not
        t = time.perf_counter()
        cmp.controls["family"].value = fam
        cached.append(time.perf_counter() - t)
    n = len(cmp.responses.losses)
    shape = "x".join(str(d) for d in target.shape)
    what = f"{name} {shape}, {n} losses x 64 strengths"
    return [
        row("comparer", f"widget built (traces every loss once), {what}", 1e3 * built, "ms", "",
            f"{note}; one run"),
        row("comparer", f"strength change, {what}", median_ms(moves), "ms", "<= 16 ms" if goal else "", note),
        row("comparer", f"family change, recomputed, {what}", median_ms(changes), "ms", "<= 100 ms" if goal else "",
            f"{note}; families {', '.join(families)}"),
        row("comparer", f"family change, cached, {what}", median_ms(cached), "ms", "", note),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    mask, patch, source = targets()
    gray = patch.mean(axis=-1, keepdims=True)
    seg_losses = ["binary_crossentropy", "dice", "jaccard", "tversky", "bce_dice", "binary_focal", "mse", "mae"]
    img_specs = {n: n for n in ("mse", "mae", "huber", "log_cosh", "ssim", "ms_ssim", "l1_ms_ssim")}
    img_specs["huber 0.1"] = ("huber", {"delta": 0.1})
    note = f"{keras.backend.backend()}, {os.cpu_count()} cores, median of {args.repeats}"
    load = os.getloadavg()
    print(f"targets: {source}; load average {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}", file=sys.stderr)
    rows = bench("segmentation", "segmentation", mask, seg_losses, ["dilation", "erosion", "shift", "drop"],
                 args.repeats, note)
    rows += bench("image (gray)", "image", gray, img_specs, ["noise", "offset", "shift"], args.repeats, note)
    rows += bench("image (RGB)", "image", patch, img_specs, ["noise", "offset", "shift"], args.repeats, note)
    # what a learner waits for in lesson 06 (its patch size and losses; the goals are for the rows above)
    lesson = {"L2": "mse", "L1": "mae", "SSIM": "ssim", "MS-SSIM": "ms_ssim", "L1+MS-SSIM": "l1_ms_ssim"}
    rows += bench("lesson 06 (RGB)", "image", lesson_patch(), lesson, ["noise", "blur", "shift"], args.repeats,
                  note, goal=False)
    emit(rows)


if __name__ == "__main__":
    main()
