"""How fast is the mountain? Surface grids and DescentExplorer updates.

    python benchmarks/bench_descent.py [--repeats 20] [--points 1000] [--steps 200]

Prints one table (``benchmarks/_table.py``, the format ``benchmarks/report.py`` gathers):
* surface grid compute time (100 x 100), analytic surfaces and data surfaces built from ``--points``
  BCCD box sizes (``lossviz.surfaces.bccd_box_sizes``) with each regression loss (line fit) and
  with cross-entropy / quadratic loss (logistic unit, BCCD RBC vs WBC sizes);
* the median time from a control's value change (the learning rate) to the figure's data being set,
  for 5 optimizers x ``--steps`` steps, on analytic surfaces and on a data surface.

Goals (issue 3): <= 16 ms median per update (one 60 fps frame); <= 50 ms per data-surface grid. The
widget is not displayed (no frontend), so this is the Python side: paths, trace data, figure update.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import emit, row  # noqa: E402

from lossviz import surfaces  # noqa: E402
from lossviz.optimizers import KINDS  # noqa: E402
from lossviz.widgets.descent import DescentExplorer  # noqa: E402


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up (tracing, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def update_ms(explorer: DescentExplorer, repeats: int) -> float:
    slider = explorer.controls["learning_rate"]
    rates = slider.value * np.geomspace(0.5, 2.0, repeats + 1)
    times = []
    for rate in rates:
        t0 = time.perf_counter()
        slider.value = float(rate)  # observers recompute the paths and set the figure's data
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()

    x, y = surfaces.bccd_box_sizes(outliers=False, n=args.points)
    xc, yc = surfaces.bccd_cell_areas()
    pick = np.random.default_rng(0).permutation(len(xc))[: args.points]
    xc, yc = xc[pick], yc[pick]
    note = f"{keras.backend.backend()}, median of {args.repeats}"
    rows = []
    for name in surfaces.ANALYTIC:
        s = surfaces.get(name)
        rows.append(row("descent", f"grid 100x100, {name}", median_ms(lambda s=s: s.grid(100), args.repeats),
                        "ms", "", note))
    for loss in ("mse", "mae", "huber", "log_cosh"):
        s = surfaces.line_fit(x, y, loss)
        ms = median_ms(lambda s=s: s.grid(100), args.repeats)
        rows.append(row("descent", f"grid 100x100, line fit, {loss}, {len(x)} pts", ms, "ms", "<= 50 ms", note))
    for loss in ("binary_crossentropy", "mse"):
        s = surfaces.logistic_unit(xc, yc, loss)
        ms = median_ms(lambda s=s: s.grid(100), args.repeats)
        rows.append(row("descent", f"grid 100x100, logistic unit, {loss}, {len(xc)} pts", ms, "ms", "<= 50 ms",
                        note))
    for name in ("bowl", "ravine", "rosenbrock", "himmelblau"):
        ex = DescentExplorer(name, optimizers=KINDS, steps=args.steps)
        rows.append(row("descent", f"update, {name}, 5 opt x {args.steps} steps", update_ms(ex, args.repeats),
                        "ms", "<= 16 ms", note))
    for fog in (False, True):
        ex = DescentExplorer("rosenbrock", optimizers=KINDS, steps=args.steps, fog=fog)
        ms = median_ms(lambda ex=ex: setattr(ex.controls["frame"], "value",
                                             (ex.controls["frame"].value + 7) % args.steps), args.repeats)
        rows.append(row("descent", f"frame change, rosenbrock, fog={fog}", ms, "ms", "<= 16 ms", note))
    s = surfaces.line_fit(x, y, "mse")
    ex = DescentExplorer(s, optimizers=KINDS, steps=args.steps, learning_rate=0.1)
    repeats = max(3, args.repeats // 4)
    rows.append(row("descent", f"update, line fit mse ({len(x)} pts), 5 opt x {args.steps} steps",
                    update_ms(ex, repeats), "ms", "<= 16 ms", f"{keras.backend.backend()}, median of {repeats}"))
    emit(rows)


if __name__ == "__main__":
    main()
