"""How much does watching training cost? LiveLoss's overhead as a share of ``model.fit`` time.

    python benchmarks/bench_liveloss.py [--epochs 3] [--repeats 3] [--batch-size 32] [--size 32] [--samples 0]

Trains ``lossviz.models.small_cnn`` on BCCD cell crops (``lossviz.datasets.bccd_cells``) with
``verbose=0`` and: no callback (baseline), ``LossRecorder`` (recording only), ``LiveLoss`` with its
default throttle (redraw at most every 0.5 s) and ``LiveLoss`` redrawing after every batch. Runs are
interleaved and repeated. The table (``benchmarks/_table.py``) shows, per callback, the share of the
run spent inside its hooks (its own cost; goal <= 5 %) and the wall-time difference against the
baseline (the same goal, but noisy on a shared CPU). The widget is not displayed (no frontend), so
this measures the Python side: recording, building trace data and serialising the figure update.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import emit, row  # noqa: E402

import lossviz  # noqa: E402
from lossviz.callbacks import LossRecorder  # noqa: E402
from lossviz.widgets.live import LiveLoss  # noqa: E402


class _Timed:
    """Mixin: adds up the seconds spent inside the callback's batch and epoch hooks."""

    hook_seconds = 0.0

    def _timed(self, hook, *args):
        t0 = time.perf_counter()
        hook(*args)
        self.hook_seconds += time.perf_counter() - t0

    def on_train_batch_end(self, batch, logs=None):
        self._timed(super().on_train_batch_end, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._timed(super().on_epoch_end, epoch, logs)

    def on_train_end(self, logs=None):
        self._timed(super().on_train_end, logs)


class TimedRecorder(_Timed, LossRecorder):
    pass


class TimedLiveLoss(_Timed, LiveLoss):
    pass


def _model(input_shape: tuple[int, int, int]) -> keras.Model:
    model = lossviz.models.small_cnn(input_shape, 3, activation="softmax", seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=lossviz.pick(smoke=3, full=5))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--samples", type=int, default=0, help="training cells to use (0: all 2804)")
    args = parser.parse_args()

    x, y = lossviz.datasets.bccd_cells("train", args.size)
    if args.samples:
        x, y = x[: args.samples], y[: args.samples]
    steps = -(-len(x) // args.batch_size)
    model = _model(x.shape[1:])
    start = model.get_weights()
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)  # compile and warm up

    configs = {
        "no callback": lambda: [],
        "LossRecorder": lambda: [TimedRecorder()],
        "LiveLoss (0.5 s throttle)": lambda: [TimedLiveLoss(min_interval=0.5)],
        "LiveLoss (every batch)": lambda: [TimedLiveLoss(min_interval=0.0)],
    }
    times: dict[str, list[float]] = {name: [] for name in configs}
    draws: dict[str, list[tuple[int, float]]] = {name: [] for name in configs}
    inside: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.repeats):
        for name, make in configs.items():
            callbacks = make()
            model.set_weights(start)
            t0 = time.perf_counter()
            model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0, callbacks=callbacks)
            times[name].append(time.perf_counter() - t0)
            if callbacks:
                inside[name].append(callbacks[0].hook_seconds / times[name][-1])
            if callbacks and isinstance(callbacks[0], LiveLoss):
                draws[name].append((callbacks[0].redraws, callbacks[0].draw_seconds))

    base = statistics.median(times["no callback"])
    setup = (f"{keras.backend.backend()}, {len(x)} samples, batch {args.batch_size}, {steps} steps x "
             f"{args.epochs} epochs, median of {args.repeats}")
    rows = [row("liveloss", "fit without callback", base, "s", "", setup)]
    for name, values in times.items():
        if name == "no callback":
            continue
        med = statistics.median(values)
        goal = "" if "every batch" in name else "<= 5 %"  # redrawing every batch is shown for contrast
        rows.append(row("liveloss", f"{name}: time in its hooks", 100 * statistics.median(inside[name]),
                        "% of fit", goal, "the callback's own cost, measured inside it"))
        note = "noisy on a shared CPU"
        if draws[name]:
            redraws = np.median([d[0] for d in draws[name]])
            note = f"{redraws:.0f} redraws; " + note
        rows.append(row("liveloss", f"{name}: wall-time overhead", 100 * (med - base) / base, "% of fit",
                        goal, note))
    emit(rows)


if __name__ == "__main__":
    main()
