"""One row format for every benchmark, so ``benchmarks/report.py`` can gather them into one table.

A benchmark builds rows with :func:`row` and ends with :func:`emit`, which prints its own table and,
when ``LOSSVIZ_BENCH_JSON`` names a file, appends the rows there as JSON lines.
"""

from __future__ import annotations

import json
import os


def row(area: str, metric: str, value: float | str, unit: str, goal: str = "", note: str = "") -> dict:
    """One measured number: what area, which metric, its value and unit, the goal it is held to."""
    return {"area": area, "metric": metric, "value": value, "unit": unit, "goal": goal, "note": note}


def fmt(value: float | str) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[dict]) -> str:
    head = ["area", "metric", "value", "unit", "goal", "note"]
    body = [[r["area"], r["metric"], fmt(r["value"]), r["unit"], r["goal"], r["note"]] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines)


def emit(rows: list[dict]) -> None:
    print(table(rows))
    path = os.environ.get("LOSSVIZ_BENCH_JSON")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            for r in rows:
                handle.write(json.dumps(r) + "\n")
