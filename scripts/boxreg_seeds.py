"""Train lesson 05's white-blood-cell box regressor with each box loss for several seeds and record it.

    python scripts/boxreg_seeds.py                          # lesson 05's full sizes, seeds 0-4
    python scripts/boxreg_seeds.py --seeds 0 1 2 --epochs 10 --img 64   # a smaller run ("custom" profile)
    python scripts/boxreg_seeds.py --losses L1 "5 L1 + 2 GIoU"          # some of the losses (own record)
    KERAS_BACKEND=jax python scripts/boxreg_seeds.py        # on the lent GPU

Lesson 05 trains one regressor per loss (L1, IoU, GIoU, DIoU, CIoU) from one seed, and two full runs of
it disagreed about GIoU (0.64 mean test IoU on TensorFlow/CPU, 0.11 on JAX/H100). One run per loss is an
anecdote; this script repeats the lesson's comparison (``lossviz.compare_losses``: same initial weights
for every loss within a seed), plus L1 + GIoU with weights 1 and with DETR's 5 L1 + 2 GIoU, for several
seeds and records, per loss, every seed's mean test IoU, their mean, spread and worst, and how many seeds
ended on one average box (predicted boxes that do not move between test images). The record's lesson name
is ``05_box_losses:regressor_seeds``, or ``05_box_losses:regressor_seeds[L1,...]`` for a subset of the
losses (``--losses``; each seed's initial weights are the same whichever losses run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results  # noqa: E402


def l1_plus_giou(y_true: Any, y_pred: Any) -> Any:
    """L1 + GIoU with both weights 1 (the simplest form of DETR's remedy), per box; L1 = mean absolute error."""
    from lossviz import losses

    return losses.get("mae", reduction=None)(y_true, y_pred) + losses.get("giou", reduction=None)(y_true, y_pred)


def detr_box_loss(y_true: Any, y_pred: Any) -> Any:
    """DETR's box loss, 5 L1 + 2 GIoU (Carion et al. 2020, section 4 and A.2), per box.

    DETR's L1 is the *sum* of the four coordinates' absolute errors of normalised boxes (its code sums
    ``l1_loss(reduction="none")``), i.e. 4x the mean absolute error; it takes them on (cx, cy, w, h), here
    on the corners (x1, y1, x2, y2) that the regressor predicts.
    """
    from lossviz import losses

    return (5.0 * 4.0 * losses.get("mae", reduction=None)(y_true, y_pred)
            + 2.0 * losses.get("giou", reduction=None)(y_true, y_pred))


LOSSES = {"L1": "mae", "IoU": "iou", "GIoU": "giou", "DIoU": "diou", "CIoU": "ciou", "L1+GIoU": l1_plus_giou,
          "5 L1 + 2 GIoU": detr_box_loss}
FULL = {"img": 128, "epochs": 60, "width": 16}  # lesson 05's full profile


def evaluate(pred: Any, boxes: Any) -> dict[str, Any]:
    """Lesson 05's test scores of one model's predicted boxes, and whether they move between images."""
    from lossviz.models import boxreg

    return {**boxreg.box_metrics(pred, boxes), "moves": float(np.std(pred[:, 0])) > 0.01}  # as lesson 05 says it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--img", type=int, default=FULL["img"], help="image size")
    parser.add_argument("--epochs", type=int, default=FULL["epochs"])
    parser.add_argument("--width", type=int, default=FULL["width"], help="filters of the first block")
    parser.add_argument("--losses", nargs="+", choices=list(LOSSES), default=list(LOSSES),
                        help="which losses to train (default: all)")
    parser.add_argument("--out", type=Path, default=results.RESULTS, help="folder of results.json")
    args = parser.parse_args(argv)
    chosen = {name: LOSSES[name] for name in LOSSES if name in args.losses}
    backend, devices = results.backend_and_devices()

    import lossviz
    from lossviz.models import boxreg

    x_train, box_train = boxreg.flip_augment(*lossviz.datasets.bccd_wbc_boxes("train", size=args.img))
    x_test, box_test = lossviz.datasets.bccd_wbc_boxes("test", size=args.img)
    per_seed: dict[str, dict[str, dict[str, float]]] = {name: {} for name in chosen}
    t0 = time.perf_counter()
    for seed in args.seeds:
        runs = lossviz.compare_losses(
            lambda: boxreg.box_regressor((args.img, args.img, 3), width=args.width), (x_train, box_train), chosen,
            epochs=args.epochs, batch_size=16, learning_rate=2e-3, seed=seed,
            evaluate=lambda m: evaluate(m.predict(x_test, verbose=0), box_test))
        for name in chosen:
            per_seed[name][str(seed)] = runs.evaluations[name]
        print(f"seed {seed}: " + ", ".join(f"{n} {per_seed[n][str(seed)]['mean_iou']:.3f}" for n in chosen),
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    wall = time.perf_counter() - t0

    metrics: dict[str, dict] = {"seeds": {"count": len(args.seeds)}}
    for name, runs_ in per_seed.items():
        summary = results.seed_summary(runs_, "mean_iou", lambda r: not r["moves"], "seeds_on_one_average_box")
        metrics[name] = {
            **summary,
            "above_0.5_mean": round(statistics.fmean(r["iou>0.5"] for r in runs_.values()), 4),
            "above_0.75_mean": round(statistics.fmean(r["iou>0.75"] for r in runs_.values()), 4),
        }
    full = (args.img, args.epochs, args.width) == (FULL["img"], FULL["epochs"], FULL["width"])
    lesson = "05_box_losses:regressor_seeds"
    if len(chosen) < len(LOSSES):
        lesson += "[" + ",".join(chosen) + "]"
    record = {"lesson": lesson, "profile": "full" if full else "custom",
              "backend": backend, "device": results.device_name(devices),
              "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "wall_s": round(wall, 1),
              "status": "ok", "error": "", "software": results.software(backend),
              "metrics": [{"img": args.img, "epochs": args.epochs, "width": args.width, **metrics}]}
    results.save(results.replace(results.load(args.out), [record]), args.out)
    print(f"\n{len(args.seeds)} seeds, {args.img} px, {args.epochs} epochs, {backend} / {record['device']}, "
          f"{wall:.0f} s")
    width_ = max(len(n) for n in chosen)
    print(f"{'loss':{width_}} {'mean IoU':>9} {'sd':>6} {'min':>6} {'max':>6} {'>0.5':>6} {'>0.75':>6}  one-box seeds")
    for name in chosen:
        m = metrics[name]
        print(f"{name:{width_}} {m['mean_iou_mean']:9.3f} {m['mean_iou_sd']:6.3f} {m['mean_iou_min']:6.3f} "
              f"{m['mean_iou_max']:6.3f} {m['above_0.5_mean']:6.3f} {m['above_0.75_mean']:6.3f}  "
              f"{m['seeds_on_one_average_box']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
