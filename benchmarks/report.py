"""Every speed goal of lossviz in one table.

    python benchmarks/report.py            # run every benchmark here, then add the recorded numbers
    python benchmarks/report.py --recorded # only the recorded numbers (no benchmark is run)

Runs each ``benchmarks/bench_*.py`` (widget update medians, surface grids, landscape throughput,
box-loss step ratios, LiveLoss overhead) on this machine, then adds what was measured elsewhere:
the browser round trip from the last browser-suite run (``artifacts/browser/roundtrip.json``), the
smoke-suite wall time per lesson and the full-profile (GPU) runs from ``results/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIMULATION = "05_box_losses:simulation"  # the lesson name scripts/boxsim_record.py records under
sys.path.insert(0, str(HERE))

from _table import row, table  # noqa: E402


def run_benchmarks() -> list[dict]:
    rows = []
    for script in sorted(HERE.glob("bench_*.py")):
        with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as handle:
            out = handle.name
        env = dict(os.environ, LOSSVIZ_BENCH_JSON=out)
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        result = subprocess.run([sys.executable, str(script)], env=env, cwd=ROOT, capture_output=True, text=True)
        found = [json.loads(line) for line in Path(out).read_text().splitlines() if line.strip()]
        Path(out).unlink()
        if result.returncode != 0:
            rows.append(row(script.stem, "failed", result.returncode, "exit code", note=result.stderr[-200:]))
        rows += found
    return rows


def recorded() -> list[dict]:
    rows = []
    roundtrip = ROOT / "artifacts" / "browser" / "roundtrip.json"
    if roundtrip.exists():
        data = json.loads(roundtrip.read_text())
        for lesson, entry in sorted(data.items()):
            rows.append(row("browser", f"key press -> plot change, {lesson}", entry["median_ms"], "ms median",
                            "<= 100 ms", f"{len(entry['times_ms'])} presses, JupyterLab + Chromium"))
        if data:
            everything = [t for entry in data.values() for t in entry["times_ms"]]
            rows.append(row("browser", "key press -> plot change, all lessons", statistics.median(everything),
                            "ms median", "<= 100 ms"))
    results = ROOT / "results" / "results.json"
    runs = json.loads(results.read_text())["runs"] if results.exists() else []
    for r in runs:
        if r["profile"] == "smoke":
            rows.append(row("smoke suite", r["lesson"], r["wall_s"], "s", "seconds on 2 CPU cores",
                            f"{r['backend']}, {r['device']}, {r['date']}, {r['status']}"))
    for r in runs:
        if r["profile"] == "full":
            where = f"{r['backend']}, {r['device']}, {r['date']}, {r['status']}"
            rows.append(row("full profile", r["lesson"], r["wall_s"], "s", "", where))
            # scripts/boxsim_record.py's record: the simulation's own time, after compiling
            sim = next((m for m in r["metrics"] if "run_s" in m), None) if r["lesson"] == SIMULATION else None
            if sim is not None:
                rows.append(row("boxes", f"simulation, 4 losses x 200 it, {sim['n_cases']:,} cases",
                                sim["run_s"], "s", "<= 2 s after compilation (GPU)", where))
    if not any(r["profile"] == "full" and not r["device"].startswith("CPU") for r in runs):
        rows.append(row("full profile", "GPU runs", "none recorded", "", "",
                        "run scripts/results.py --profile full on a GPU machine"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recorded", action="store_true", help="skip running the benchmarks")
    args = parser.parse_args(argv)
    rows = ([] if args.recorded else run_benchmarks()) + recorded()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
