"""Train lesson 04's U-Net with each segmentation loss for more seeds and record it.

    python scripts/unet_seeds.py                        # lesson 04's full sizes, seeds 1 and 2
    python scripts/unet_seeds.py --seeds 3 --learning-rate 2e-3   # the rate at which Dice collapsed
    python scripts/unet_seeds.py --seeds 1 --epochs 2 --img 48 --width 4 --depth 2   # "custom" profile

Lesson 04's full run (seed 0, the lesson's) is one run per loss; at Adam 2e-3 its Dice and Jaccard
runs collapsed (test Dice 0.12 and 0.19), at 5e-4 all six learned (0.93-0.95). This script repeats the
lesson's comparison (``lossviz.compare_losses``: same initial weights for every loss within a seed) for
other seeds and records, per loss, every seed's test Dice, their mean, spread and worst, and how many
seeds collapsed (test Dice below 0.5, where the lesson's collapsed runs were 0.12-0.19 and the learned
ones above 0.9). The record (``04_segmentation_losses:seeds``, with ``_lr<rate>`` for a rate other than
the lesson's 5e-4) is written after every seed, so a stopped run keeps the seeds it finished.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results  # noqa: E402

LOSSES = {"BCE": "binary_crossentropy", "Dice": "dice", "Jaccard": "jaccard",
          "Tversky": ("tversky", {"alpha": 0.3, "beta": 0.7}), "focal": ("binary_focal", {"gamma": 2.0}),
          "BCE+Dice": "bce_dice"}   # lesson 04's
FULL = {"img": 128, "epochs": 60, "width": 16, "depth": 4, "learning_rate": 5e-4}   # lesson 04's full profile
COLLAPSED = 0.5   # test Dice below this: the run did not learn


def record(args: argparse.Namespace, per_seed: dict[str, dict[str, dict]], wall: float, backend: str,
           device: str) -> dict[str, Any]:
    metrics: dict[str, Any] = {"img": args.img, "epochs": args.epochs, "width": args.width, "depth": args.depth,
                               "learning_rate": args.learning_rate, "seeds": {"count": len(per_seed["BCE"])}}
    for name, runs in per_seed.items():
        summary = results.seed_summary(runs, "dice", lambda r: r["dice"] < COLLAPSED, "collapsed_seeds")
        metrics[name] = {**summary, "per_seed_recall": {s: round(float(r["recall"]), 4) for s, r in runs.items()}}
    sizes = {k: getattr(args, k) for k in FULL}
    lesson = "04_segmentation_losses:seeds" + ("" if args.learning_rate == FULL["learning_rate"]
                                               else f"_lr{args.learning_rate:g}")
    return {"lesson": lesson, "profile": "full" if sizes == FULL else "custom", "backend": backend, "device": device,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "wall_s": round(wall, 1),
            "status": "ok", "error": "", "software": results.software(backend), "metrics": [metrics]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--img", type=int, default=FULL["img"], help="image size")
    parser.add_argument("--epochs", type=int, default=FULL["epochs"])
    parser.add_argument("--width", type=int, default=FULL["width"], help="filters of the first level")
    parser.add_argument("--depth", type=int, default=FULL["depth"], help="poolings")
    parser.add_argument("--learning-rate", type=float, default=FULL["learning_rate"], help="Adam's")
    parser.add_argument("--out", type=Path, default=results.RESULTS, help="folder of results.json")
    args = parser.parse_args(argv)
    backend, devices = results.backend_and_devices()
    device = results.device_name(devices)

    import keras

    import lossviz
    from lossviz import segmetrics
    from lossviz.datasets import wbc_segmentation
    from lossviz.models import unet

    x_train, y_train = wbc_segmentation("train", size=args.img, target="nucleus")
    x_test, y_test = wbc_segmentation("test", size=args.img, target="nucleus")

    def evaluate(model: Any) -> dict[str, float]:
        scores = segmetrics.segmentation_scores(y_test, keras.ops.convert_to_numpy(model(x_test, training=False)))
        return {k: float(scores[k]) for k in ("dice", "iou", "precision", "recall")}

    per_seed: dict[str, dict[str, dict]] = {name: {} for name in LOSSES}
    t0 = time.perf_counter()
    for seed in args.seeds:
        runs = lossviz.compare_losses(
            lambda: unet((args.img, args.img, 3), width=args.width, depth=args.depth), (x_train, y_train), LOSSES,
            epochs=args.epochs, batch_size=8, learning_rate=args.learning_rate, seed=seed, evaluate=evaluate)
        for name in LOSSES:
            per_seed[name][str(seed)] = runs.evaluations[name]
        wall = time.perf_counter() - t0
        results.save(results.replace(results.load(args.out), [record(args, per_seed, wall, backend, device)]),
                     args.out)
        print(f"seed {seed}: " + ", ".join(f"{n} {per_seed[n][str(seed)]['dice']:.3f}" for n in LOSSES),
              f"({wall:.0f} s)", flush=True)
    print(f"\n{len(args.seeds)} seeds, lr {args.learning_rate:g}, {backend} / {device}: test Dice per seed")
    for name, runs_ in per_seed.items():
        print(f"{name:9} " + " ".join(f"{r['dice']:.3f}" for r in runs_.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
