"""Build lesson notebooks from their percent-format sources and keep them small.

    python scripts/nb.py build notebooks/src/07_custom_losses.py [more sources...]
    python scripts/nb.py check            # every notebooks/*.ipynb matches its source
    python scripts/nb.py restrip          # re-apply the output policy to the stored notebooks

A source is a Python file in the percent format: ``# %%`` starts a code cell, ``# %% [markdown]``
a markdown cell whose lines are ``# ``-commented. ``build`` writes ``notebooks/<stem>.ipynb``, runs
it top to bottom in the smoke profile (nbclient, a fresh kernel), and keeps only the outputs of
cells tagged ``# NBVAL_CHECK_OUTPUT`` (what nbval compares); every other output, execution count
and all widget state are dropped. It fails if any cell raises.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHECK_TAG = "# NBVAL_CHECK_OUTPUT"


def parse_source(text: str) -> list[tuple[str, str]]:
    """Split percent-format text into (kind, source) cells."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line else "code"
            cells.append((kind, []))
            continue
        if not cells:
            continue  # a preamble before the first cell marker is ignored
        kind, lines = cells[-1]
        if kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        else:
            lines.append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells if "\n".join(lines).strip()]


def to_notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def stable_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Cell ids from each cell's kind and source, so that rebuilding a lesson changes only the ids of
    the cells that changed (nbformat's own ids are random: every rebuild rewrote all of them)."""
    seen: set[str] = set()
    for cell in nb.cells:
        base = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        cid, k = base, 1
        while cid in seen:
            cid, k = f"{base}-{k}", k + 1
        seen.add(cid)
        cell.id = cid
    return nb


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep outputs of checked cells only; drop volatile counts and all widget state; stable cell ids.

    nbval skips a cell whose ``execution_count`` is None ("unrun") and then fails it if it has
    outputs, so checked cells are numbered 1, 2, ... in order; every other cell is left unrun.
    """
    nb.metadata.pop("widgets", None)
    count = 0
    for cell in nb.cells:
        cell.metadata = {}
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        if CHECK_TAG in cell.source:
            count += 1
            cell.execution_count = count
            # log lines on stderr (TensorFlow's, warnings) vary by machine and backend: never compared
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] = count
                out.get("metadata", {}).clear() if isinstance(out.get("metadata"), dict) else None
        else:
            cell.outputs = []
    return stable_ids(nb)


def build(source: Path, timeout: int = 1200) -> Path:
    from nbclient import NotebookClient

    cells = parse_source(source.read_text(encoding="utf-8"))
    nb = to_notebook(cells)
    target = NOTEBOOKS / (source.stem + ".ipynb")
    os.environ.setdefault("LOSSVIZ_PROFILE", "smoke")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    resources = {"metadata": {"path": str(NOTEBOOKS)}}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources)
    client.execute()
    nbformat.write(strip(nb), target)
    return target


def check() -> list[str]:
    problems = []
    for ipynb in sorted(NOTEBOOKS.glob("*.ipynb")):
        source = NOTEBOOKS / "src" / (ipynb.stem + ".py")
        if not source.exists():
            problems.append(f"{ipynb.name}: no source {source.relative_to(ROOT)}")
            continue
        want = parse_source(source.read_text(encoding="utf-8"))
        have = [(c.cell_type, c.source) for c in nbformat.read(ipynb, as_version=4).cells]
        if want != have:
            problems.append(f"{ipynb.name}: cells differ from {source.relative_to(ROOT)}; rebuild it")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("sources", nargs="+", type=Path)
    b.add_argument("--timeout", type=int, default=1200)
    sub.add_parser("check")
    sub.add_parser("restrip", help="re-apply strip() to every notebooks/*.ipynb without running it")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        for source in args.sources:
            print("built", build(source.resolve(), args.timeout).relative_to(ROOT))
        return 0
    if args.cmd == "restrip":
        for ipynb in sorted(NOTEBOOKS.glob("*.ipynb")):
            nbformat.write(strip(nbformat.read(ipynb, as_version=4)), ipynb)
        return 0
    problems = check()
    print("\n".join(problems) or "all notebooks match their sources")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
