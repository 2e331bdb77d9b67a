"""Run lessons in a profile and backend and record their headline numbers in ``results/``.

    python scripts/results.py --profile full                 # every lesson
    python scripts/results.py --profile smoke 03 05          # lessons whose name starts with 03 or 05
    KERAS_BACKEND=jax python scripts/results.py --profile full
    python scripts/results.py --show                         # print the recorded table
    python scripts/results.py --out /tmp/lane1 --profile full 04   # record into another folder ...
    python scripts/results.py --merge /tmp/lane1/results.json      # ... and merge it into results/ later

Each lesson runs top to bottom in a fresh kernel (nbclient) with ``LOSSVIZ_PROFILE`` set and
``LOSSVIZ_RESULTS`` pointing at a temporary file that ``lossviz.report(...)`` appends to. One record
per (lesson, profile, backend, device) is kept in ``results/results.json`` (a newer run replaces an
older one) and ``results/RESULTS.md`` is regenerated from it. Executed notebooks are not written
back (the repo keeps them stripped); pass ``--keep DIR`` to save them. Each record also says how many of
the lesson's checked cells (``# NBVAL_CHECK_OUTPUT``: its claims, stored from the smoke profile) printed
their stored output, and which did not; ``--checked`` compares kept notebooks the same way.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nb import CHECK_TAG  # the tag scripts/nb.py keeps outputs for and nbval compares

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "results"


def backend_and_devices() -> tuple[str, list[str]]:
    code = "import keras, json; print(json.dumps([keras.backend.backend(), keras.distribution.list_devices()]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    backend, devices = json.loads(out.stdout.strip().splitlines()[-1])
    return backend, [str(d) for d in devices]


def device_name(devices: list[str]) -> str:
    if any(d.lower().startswith(("gpu", "cuda")) for d in devices) and shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip().splitlines()[0]
    model = _cpuinfo("model name") or platform.processor() or platform.machine()
    return f"CPU {model} ({os.cpu_count()} cores)"


def _cpuinfo(field: str) -> str:
    """The first ``field : value`` of /proc/cpuinfo ("" where there is none)."""
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        if line.startswith(field):
            return line.split(":", 1)[1].strip()
    return ""


def software(backend: str) -> str:
    """Python, Keras, the backend's and numpy's versions, and the CPU's widest vector instructions.

    Two runs of the same seed can end differently when these differ (floating-point rounding changes
    with the kernels chosen, and many epochs amplify it), so every record says them.
    """
    from importlib import metadata

    parts = [f"python {platform.python_version()}"]
    for package in ("keras", {"tensorflow": "tensorflow", "jax": "jaxlib", "torch": "torch"}.get(backend), "numpy"):
        if package:
            try:
                parts.append(f"{package} {metadata.version(package)}")
            except metadata.PackageNotFoundError:
                parts.append(f"{package} ?")
    flags = set(_cpuinfo("flags").split())
    isa = next((name for name, flag in (("AVX-512", "avx512f"), ("AVX2", "avx2"), ("AVX", "avx")) if flag in flags),
               "")
    return ", ".join(parts) + (f"; CPU {isa}" if isa else "")


def seed_summary(per_seed: dict[str, dict[str, Any]], key: str, failed: Callable[[dict], bool],
                 failed_key: str = "failed_seeds") -> dict:
    """One loss's runs over seeds (seed -> scores): mean, spread, worst, best and each seed of ``key``,
    and under ``failed_key`` how many seeds ``failed`` (a run that did not learn)."""
    values = [float(r[key]) for r in per_seed.values()]
    return {f"{key}_mean": round(statistics.fmean(values), 4),
            f"{key}_sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            f"{key}_min": round(min(values), 4), f"{key}_max": round(max(values), 4),
            failed_key: sum(bool(failed(r)) for r in per_seed.values()),
            f"per_seed_{key}": {s: round(float(r[key]), 4) for s, r in per_seed.items()}}


def _printed(cell: dict) -> str:
    """What a cell printed to stdout and returned (text/plain), as nbval compares it; stderr left out."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts).strip()


def checked_cells(stored: Any, executed: Any) -> dict:
    """Compare the cells tagged ``# NBVAL_CHECK_OUTPUT`` of an executed lesson with the stored ones.

    Those cells state the lesson's claims and their stored output comes from the smoke profile; a full
    run that prints something else means a claim does not hold at full size. Returns ``{"total",
    "as_stored", "differ": ["cell 17: stored '...' != printed '...'", ...]}``; cells that did not run
    (a stopped lesson) count as differing.
    """
    differ, total = [], 0
    for i, (a, b) in enumerate(zip(stored["cells"], executed["cells"], strict=True)):
        if a["cell_type"] != "code" or CHECK_TAG not in a["source"]:
            continue
        total += 1
        want, got = _printed(a), _printed(b)
        # nbclient stamps the cells it runs (metadata "execution"); the stored checked cells keep a count
        ran = "execution" in b.get("metadata", {}) or b.get("execution_count") not in (None, a.get("execution_count"))
        if not ran:
            differ.append(f"cell {i}: not run")
        elif want != got:
            differ.append(f"cell {i}: stored {want[:200]!r} != printed {got[:200]!r}")
    return {"total": total, "as_stored": total - len(differ), "differ": differ}


def run_lesson(path: Path, profile: str, keep: Path | None, timeout: int,
               deadline: float | None = None) -> tuple[str, float, list[dict], str, dict]:
    import nbformat
    from nbclient import NotebookClient

    stored = nbformat.read(path, as_version=4)
    nb = copy.deepcopy(stored)
    for cell in nb.cells:   # a cell the run does not reach keeps nothing of the stored notebook
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False) as handle:
        results_file = handle.name
    env_before = dict(os.environ)
    os.environ.update(LOSSVIZ_PROFILE=profile, LOSSVIZ_RESULTS=results_file)
    status, error = "ok", ""
    start = time.perf_counter()
    try:
        # with a deadline (time.monotonic()), a cell may run only until it: the lesson is then recorded as
        # failed with what it reported so far
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       timeout_func=None if deadline is None else
                       lambda cell: max(1, min(timeout, int(deadline - time.monotonic()))),
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    except Exception as exc:  # a failing lesson is recorded as failed, the others still run
        status, error = "failed", f"{type(exc).__name__}: {str(exc)[-500:]}"
    finally:
        wall = time.perf_counter() - start
        os.environ.clear()
        os.environ.update(env_before)
    lines = Path(results_file).read_text(encoding="utf-8").splitlines()
    Path(results_file).unlink()
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, keep / path.name)
    return status, wall, [json.loads(line) for line in lines if line.strip()], error, checked_cells(stored, nb)


def load(folder: Path = RESULTS) -> list[dict]:
    path = folder / "results.json"
    return json.loads(path.read_text())["runs"] if path.exists() else []


def _key(run: dict) -> tuple:
    return run["lesson"], run["profile"], run["backend"], run["device"]


def replace(runs: list[dict], new: list[dict]) -> list[dict]:
    """``runs`` with each record of ``new`` replacing the one of the same lesson, profile, backend, device."""
    keys = {_key(r) for r in new}
    return [r for r in runs if _key(r) not in keys] + list(new)


def save(runs: list[dict], folder: Path = RESULTS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    runs = sorted(runs, key=_key)
    (folder / "results.json").write_text(json.dumps({"runs": runs}, indent=1) + "\n")
    (folder / "RESULTS.md").write_text(markdown(runs))


def _flatten(metrics: dict, prefix: str = "") -> list[str]:
    parts = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            parts += _flatten(value, f"{prefix}{key}.")
        elif isinstance(value, float):
            parts.append(f"{prefix}{key}={value:.4g}")
        elif not isinstance(value, list):
            parts.append(f"{prefix}{key}={value}")
    return parts


def _status(run: dict) -> str:
    checks = run.get("checked_cells")
    return run["status"] + (f", claims {checks['as_stored']}/{checks['total']} as stored" if checks else "")


def markdown(runs: list[dict]) -> str:
    lines = ["# Recorded lesson runs", "",
             "Written by `python scripts/results.py`; each row is one run of one lesson.", "",
             "| lesson | profile | backend | device | date | wall s | status | software | headline metrics |",
             "| --- | --- | --- | --- | --- | ---: | --- | --- | --- |"]
    for r in runs:
        merged: dict = {}
        for m in r["metrics"]:
            merged.update(m)
        shown = "; ".join(_flatten(merged)) or "-"
        lines.append(f"| {r['lesson']} | {r['profile']} | {r['backend']} | {r['device']} | {r['date']} | "
                     f"{r['wall_s']:.1f} | {_status(r)} | {r.get('software', '-')} | {shown} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", help="name prefixes (e.g. 03 05); default: all")
    parser.add_argument("--profile", choices=["smoke", "full"], default="full")
    parser.add_argument("--keep", type=Path, help="save executed notebooks here")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--deadline", type=float, help="seconds from now after which running cells are "
                        "stopped (their lesson recorded as failed, with what it reported) and no lesson starts")
    parser.add_argument("--show", action="store_true", help="print the recorded table and exit")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of results.json (default: results/)")
    parser.add_argument("--merge", type=Path, nargs="+", help="merge these results.json files into --out")
    parser.add_argument("--checked", type=Path, nargs="+", metavar="EXECUTED_IPYNB",
                        help="compare the checked cells of executed lessons (saved by --keep) with the stored "
                        "lessons of the same name and exit (1 if any differs)")
    args = parser.parse_args(argv)
    if args.checked:
        import nbformat

        bad = 0
        for path in args.checked:
            checks = checked_cells(nbformat.read(NOTEBOOKS / path.name, as_version=4),
                                   nbformat.read(path, as_version=4))
            bad += bool(checks["differ"])
            print(f"{path.name}: checked cells as stored {checks['as_stored']}/{checks['total']}")
            for line in checks["differ"]:
                print("  ", line)
        return 1 if bad else 0
    if args.show:
        print(markdown(load(args.out)))
        return 0
    if args.merge:
        runs = load(args.out)
        for path in args.merge:
            runs = replace(runs, json.loads(path.read_text())["runs"])
        save(runs, args.out)
        return 0
    paths = sorted(p for p in NOTEBOOKS.glob("*.ipynb")
                   if not args.lessons or any(p.name.startswith(x) for x in args.lessons))
    if not paths:
        print("no lesson matches", args.lessons)
        return 2
    backend, devices = backend_and_devices()
    device = device_name(devices)
    versions = software(backend)
    deadline = None if args.deadline is None else time.monotonic() + args.deadline
    runs = load(args.out)
    failed = 0
    for path in paths:
        if deadline is not None and time.monotonic() > deadline - 1:
            print(f"{path.stem}: not started, the deadline has passed")
            failed += 1
            continue
        status, wall, metrics, error, checks = run_lesson(path, args.profile, args.keep, args.timeout, deadline)
        failed += status != "ok"
        record = {"lesson": path.stem, "profile": args.profile, "backend": backend, "device": device,
                  "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "wall_s": round(wall, 1),
                  "status": status, "error": error, "software": versions, "checked_cells": checks,
                  "metrics": metrics}
        runs = replace(runs, [record])
        save(runs, args.out)
        print(f"{path.stem}: {status} in {wall:.1f} s on {backend} / {device}, checked cells as stored: "
              f"{checks['as_stored']}/{checks['total']}" + (f" ({error})" if error else ""))
        for line in checks["differ"]:
            print("  ", line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
