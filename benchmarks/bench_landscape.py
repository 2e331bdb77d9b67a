"""Speed of loss-landscape grids: grid points per second for ``lossviz.landscape.slice_2d``.

    python benchmarks/bench_landscape.py                      # smoke size (11x11 grid, 256 images)
    python benchmarks/bench_landscape.py --size full          # 41x41 grid on 10,000 images (GPU)
    python benchmarks/bench_landscape.py --size full --steps 3   # a 3x3 part of the full workload
    KERAS_BACKEND=jax python benchmarks/bench_landscape.py --engines predict jit
    python benchmarks/bench_landscape.py --engines auto evaluate   # vs model.evaluate per point

The workload is lesson 08's: ``small_cnn`` (softmax output) on Fashion-MNIST (Xiao, Rasul and
Vollgraf 2017) with categorical cross-entropy. Weights are the initial ones (speed does not depend
on training). Each case times one ``slice_2d`` call after a warm-up call (compilation excluded) and
gives two rows of the table (``benchmarks/_table.py``, the format ``benchmarks/report.py`` gathers):
points per second and the time a full 41x41 grid would take at that rate. The goal for the full
size is <= 60 s on one H100 (JAX backend).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import emit, row  # noqa: E402

import lossviz  # noqa: E402
from lossviz import landscape  # noqa: E402
from lossviz.models import small_cnn  # noqa: E402

SIZES = {"smoke": {"steps": 11, "examples": 256, "width": 8}, "full": {"steps": 41, "examples": 10000, "width": 16}}


def fashion_subset(count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` training images in [0, 1] with a channel axis, labels one-hot."""
    (x, y), _ = lossviz.datasets.fashion_mnist()
    return x[:count, :, :, None].astype("float32") / 255.0, keras.ops.convert_to_numpy(keras.ops.one_hot(y[:count], 10))


def time_grid(steps: int, examples: int, width: int, batch_size: int, engine: str) -> dict[str, float]:
    """Time one ``steps x steps`` slice (after an untimed warm-up slice) and return the row."""
    x, y = fashion_subset(examples)
    model = small_cnn(width=width, activation="softmax", seed=0)
    loss = keras.losses.CategoricalCrossentropy()
    landscape.slice_2d(model, loss, x, y, steps=2, batch_size=batch_size, engine=engine)  # compile
    start = time.perf_counter()
    landscape.slice_2d(model, loss, x, y, steps=steps, batch_size=batch_size, engine=engine)
    seconds = time.perf_counter() - start
    points = steps * steps + 1  # the grid and the centre
    return {"seconds": seconds, "points_per_s": points / seconds, "full_grid_s": (41 * 41 + 1) * seconds / points}


def time_evaluate_baseline(points: int, examples: int, width: int, batch_size: int) -> dict[str, float]:
    """The slow way, for comparison: ``set_weights`` + ``model.evaluate`` per grid point."""
    x, y = fashion_subset(examples)
    model = small_cnn(width=width, activation="softmax", seed=0)
    model.compile(loss=keras.losses.CategoricalCrossentropy())
    weights = model.get_weights()
    model.evaluate(x, y, batch_size=batch_size, verbose=0)  # compile
    start = time.perf_counter()
    for i in range(points):
        model.set_weights([w * (1 + 0.01 * i) for w in weights])
        model.evaluate(x, y, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "points_per_s": points / seconds, "full_grid_s": (41 * 41 + 1) * seconds / points}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=[*SIZES, "both"], default="smoke")
    parser.add_argument("--steps", type=int, default=None, help="grid points per axis (default: the size's)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[1024])
    parser.add_argument("--engines", nargs="+", default=["auto"], choices=["auto", "predict", "jit", "evaluate"],
                        help="'evaluate' is the slow baseline: set_weights + model.evaluate per point (25 points)")
    args = parser.parse_args(argv)
    backend = keras.backend.backend()
    devices = ", ".join(str(d) for d in keras.distribution.list_devices())
    rows = []
    for size in SIZES if args.size == "both" else [args.size]:
        spec = SIZES[size]
        steps = args.steps or spec["steps"]
        for batch_size in args.batch_size:
            for engine in args.engines:
                if engine == "evaluate":
                    result, grid = time_evaluate_baseline(25, spec["examples"], spec["width"], batch_size), "25 points"
                else:
                    result = time_grid(steps, spec["examples"], spec["width"], batch_size, engine)
                    grid = f"{steps}x{steps}"
                case = f"{size}, {engine}, batch {batch_size}"
                note = (f"{backend} on {devices}; {grid} in {result['seconds']:.2f} s; {spec['examples']} images, "
                        f"width {spec['width']}")
                print(f"done: {case}", file=sys.stderr, flush=True)
                rows.append(row("landscape", f"grid points/s, {case}", result["points_per_s"], "points/s", "",
                                note))
                goal = "<= 60 s (one H100, JAX)" if size == "full" else ""
                rows.append(row("landscape", f"41x41 grid on these images, {case}", result["full_grid_s"], "s", goal,
                                note))
    emit(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
