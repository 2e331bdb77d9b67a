"""Box losses: time of the DIoU-paper simulation, and a box regressor's step time per loss vs L1.

    python benchmarks/bench_boxes.py [--points 50] [--full] [--steps 30] [--size 64] [--batch-size 16]

1. ``lossviz.boxsim.simulate`` with all four losses (IoU, GIoU, DIoU, CIoU) for 200 iterations on a
   subsample of ``--points`` anchor centres (343 cases each); ``--full`` also runs the paper's full size
   (5,000 points, 1,715,000 cases), meant for a GPU. The first, untimed run of a tiny size compiles.
2. ``lossviz.models.boxreg.box_regressor`` trained with ``train_on_batch`` on BCCD white-blood-cell
   boxes: median step time with each box loss and with L1 (``mae``) on the corners, and the ratio
   (goal: <= 1.10). Losses are interleaved over several rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import keras

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import emit, row  # noqa: E402

import lossviz  # noqa: E402
from lossviz import boxsim  # noqa: E402
from lossviz.models import boxreg  # noqa: E402

BOX_LOSSES = ("iou", "giou", "diou", "ciou")


def time_simulation(points: int) -> float:
    t0 = time.perf_counter()
    boxsim.simulate(n_points=points)
    return time.perf_counter() - t0


def step_times(size: int, batch_size: int, steps: int, rounds: int = 3) -> dict[str, float]:
    x, boxes = lossviz.datasets.bccd_wbc_boxes("train", size=size)
    x, boxes = x[:batch_size], boxes[:batch_size]
    models = {}
    for loss in ("mae", *BOX_LOSSES):
        model = boxreg.box_regressor((size, size, 3), width=16)
        model.compile(keras.optimizers.Adam(1e-3), loss=lossviz.losses.get(loss))
        for _ in range(3):                                     # compile and warm up
            model.train_on_batch(x, boxes)
        models[loss] = model
    samples: dict[str, list[float]] = {loss: [] for loss in models}
    for _ in range(rounds):
        for loss, model in models.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(x, boxes)
            samples[loss].append((time.perf_counter() - t0) / steps)
    return {loss: statistics.median(v) for loss, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=50, help="anchor centres of the subsample")
    parser.add_argument("--full", action="store_true", help="also run the full 5,000-point simulation (GPU)")
    parser.add_argument("--steps", type=int, default=30, help="training steps per timing")
    parser.add_argument("--size", type=int, default=64, help="image size of the regressor")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    backend = keras.backend.backend()
    rows = []
    boxsim.simulate(n_points=1, iterations=2)                  # compile outside the timing
    sub = time_simulation(args.points)
    cases = args.points * 343
    rows.append(row("boxes", f"simulation, 4 losses x 200 it, {cases:,} cases", sub, "s", "",
                    f"{backend}; subsample of {args.points} points"))
    if args.full:
        boxsim.simulate(n_points=boxsim.N_POINTS, iterations=2)
        full = time_simulation(boxsim.N_POINTS)
        rows.append(row("boxes", "simulation, 4 losses x 200 it, 1,715,000 cases", full, "s",
                        "<= 2 s after compilation (GPU)", backend))
    else:
        rows.append(row("boxes", "simulation, 1,715,000 cases", "not run", "", "<= 2 s after compilation (GPU)",
                        "full size is GPU-only: run with --full on a GPU"))
    times = step_times(args.size, args.batch_size, args.steps)
    base = times["mae"]
    rows.append(row("boxes", f"regressor step, L1, batch {args.batch_size}, {args.size}px", base * 1e3, "ms",
                    "", backend))
    for loss in BOX_LOSSES:
        rows.append(row("boxes", f"regressor step, {loss} / L1", times[loss] / base, "ratio", "<= 1.10",
                        f"{times[loss] * 1e3:.3g} ms; {backend}"))
    emit(rows)


if __name__ == "__main__":
    main()
