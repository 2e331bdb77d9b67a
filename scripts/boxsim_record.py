"""Run the DIoU paper's box simulation at full size and record it in ``results/`` (no notebook).

    python scripts/boxsim_record.py                    # 5,000 points: 1,715,000 cases x 4 losses x 200 iterations
    KERAS_BACKEND=jax python scripts/boxsim_record.py  # on the lent GPU
    python scripts/boxsim_record.py --points 200       # a subsample (recorded as profile "subsample")

Lesson 05 runs the same simulation (``lossviz.boxsim.simulate``) and reports the same numbers, but its
full profile also trains five box regressors; this script records the simulation alone, so its numbers
and curves can be recorded on a machine where the whole lesson would take too long. The record (lesson
``05_box_losses:simulation``) holds the total error per loss at the paper's checkpoints next to the
paper's values, every iteration's total (the curves), where the residual errors sit, and the time: the
first, tiny run compiles the step; ``run_s`` is the full simulation after that.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=5000, help="anchor centres (the paper: 5,000)")
    parser.add_argument("--out", type=Path, default=results.RESULTS, help="folder of results.json")
    args = parser.parse_args(argv)
    backend, devices = results.backend_and_devices()
    device = results.device_name(devices)

    from lossviz import boxsim

    t0 = time.perf_counter()
    boxsim.simulate(n_points=args.points, iterations=2)        # traces and compiles the step
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim = boxsim.simulate(n_points=args.points)
    run_s = time.perf_counter() - t0
    table = boxsim.checkpoint_table(sim)
    start = float(next(iter(sim.errors.values()))[0])
    metrics = {
        "n_points": sim.n_points, "n_cases": sim.n_cases, "run_s": round(run_s, 2),
        "compile_s": round(compile_s, 2), "finite": sim.finite,
        "sim_error": {n: {int(i): float(table.loc[i, n]) for i in table.index} for n in sim.errors},
        "paper_error": {n: {int(i): float(table.loc[i, f"{n} paper"]) for i in table.index
                            if np.isfinite(table.loc[i, f"{n} paper"])} for n in sim.errors},
        "sim_end_over_start": {n: float(c[-1] / start) for n, c in sim.errors.items()},
        "residual_by_distance": {n: dict(zip((str(k) for k in r["key"]), map(float, r["mean"]), strict=True))
                                 for n in sim.errors for r in [boxsim.residuals(sim, n, by="distance")]},
        "residual_by_target_ratio": {n: dict(zip((f"{k:.3g}" for k in r["key"]), map(float, r["mean"]),
                                                 strict=True))
                                     for n in sim.errors for r in [boxsim.residuals(sim, n, by="target")]},
        "curves": {n: [float(v) for v in c] for n, c in sim.errors.items()},
    }
    record = {"lesson": "05_box_losses:simulation", "profile": "full" if args.points == 5000 else "subsample",
              "backend": backend, "device": device, "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "wall_s": round(compile_s + run_s, 1), "status": "ok", "error": "",
              "software": results.software(backend), "metrics": [metrics]}
    results.save(results.replace(results.load(args.out), [record]), args.out)
    print(table.round(1).to_string())
    print(f"{sim.n_cases:,} cases, 4 losses x {sim.iterations} iterations: {run_s:.1f} s after {compile_s:.1f} s "
          f"compiling, on {backend} / {device}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
