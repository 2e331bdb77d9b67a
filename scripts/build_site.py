"""Build the lessons as a static site that works with no kernel and no network.

    python scripts/build_site.py                      # every lesson, smoke profile, into site/
    python scripts/build_site.py --profile full 00 05 # chosen lessons (name prefixes)

Each lesson is executed in a fresh kernel. A first, hidden cell registers display formatters so that
every lossviz widget shows its static form (``widget.to_figure()``: DescentExplorer's animation
frames with plotly's own play button, LossComparer's curves at a few strengths) and a plotly
``FigureWidget`` shows as a plain figure. Plotly figures are written as HTML that loads one local
``plotly.min.js`` copied next to the pages, so they render offline.
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

STATIC_SETUP = """\
import plotly.io as _pio
from IPython import get_ipython as _get_ipython
_pio.renderers.default = "json"
def _lossviz_static(obj, include=None, exclude=None):
    figure = obj.to_figure()
    return {"application/vnd.plotly.v1+json": figure.to_plotly_json(), "text/plain": repr(type(obj).__name__)}
def _figurewidget_static(obj, include=None, exclude=None):
    import plotly.graph_objects as go
    return {"application/vnd.plotly.v1+json": go.Figure(obj).to_plotly_json(), "text/plain": "Figure"}
_formatter = _get_ipython().display_formatter.mimebundle_formatter
_formatter.for_type_by_name("plotly.basewidget", "BaseFigureWidget", _figurewidget_static)
for _module, _name in [("lossviz.widgets.descent", "DescentExplorer"), ("lossviz.widgets.comparer", "LossComparer"),
                       ("lossviz.widgets.live", "LiveLoss"), ("lossviz.widgets.picker", "LossPicker")]:
    _formatter.for_type_by_name(_module, _name, _lossviz_static)
"""

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<script src="plotly.min.js"></script>
<style>body{{max-width:1100px;margin:auto;font-family:system-ui,sans-serif;line-height:1.5;padding:1em}}
pre{{background:#f6f8fa;padding:.6em;overflow-x:auto}} .out{{margin:.3em 0 1.2em}}
.widget-note{{color:#666;font-style:italic}} nav a{{margin-right:1em}} img{{max-width:100%}}</style>
<script>window.MathJax={{tex:{{inlineMath:[['$','$'],['\\\\(','\\\\)']]}}}};</script>
</head><body><nav>{nav}</nav>{body}</body></html>"""


def _plotly_html(fig_json: dict, div_id: str) -> str:
    import plotly.io as pio

    figure = pio.from_json(__import__("json").dumps(fig_json), skip_invalid=True)
    return pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id=div_id, auto_play=False)


def _markdown(text: str) -> str:
    try:
        import markdown_it  # shipped with jupyterlab's dependencies

        return markdown_it.MarkdownIt("commonmark").enable("table").render(text)
    except ImportError:
        return f"<pre>{html.escape(text)}</pre>"


def _output_html(out: dict, div_id: str) -> str:
    data = out.get("data", {})
    if out["output_type"] == "stream":
        return f"<pre>{html.escape(out['text'])}</pre>" if out.get("name") == "stdout" else ""
    if out["output_type"] == "error":
        return f"<pre class='error'>{html.escape(out['ename'] + ': ' + out['evalue'])}</pre>"
    if PLOTLY_MIME in data:
        return _plotly_html(data[PLOTLY_MIME], div_id)
    if "image/png" in data:
        return f"<img src='data:image/png;base64,{data['image/png']}'>"
    if "text/html" in data:
        return data["text/html"]
    if WIDGET_MIME in data:
        return "<p class='widget-note'>(an interactive control: open the lesson in JupyterLab to use it)</p>"
    if "text/markdown" in data:
        return _markdown(data["text/markdown"])
    if "text/plain" in data:
        return f"<pre>{html.escape(data['text/plain'])}</pre>"
    return ""


def render(nb: nbformat.NotebookNode, title: str, nav: str) -> str:
    parts = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            parts.append(_markdown(cell.source))
        elif cell.cell_type == "code":
            parts.append(f"<pre><code>{html.escape(cell.source)}</code></pre>")
            outs = [_output_html(out, f"fig-{i}-{j}") for j, out in enumerate(cell.get("outputs", []))]
            parts.append("<div class='out'>" + "".join(outs) + "</div>")
    return PAGE.format(title=html.escape(title), nav=nav, body="\n".join(parts))


def execute(path: Path, profile: str, timeout: int) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(STATIC_SETUP))
    os.environ["LOSSVIZ_PROFILE"] = profile
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    nb.cells.pop(0)
    return nb


def build(prefixes: list[str], profile: str, out: Path, timeout: int = 1200) -> list[Path]:
    import plotly

    paths = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if not prefixes or any(p.name.startswith(x) for x in prefixes))
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", out / "plotly.min.js")
    nav = "<a href='index.html'>lessons</a>" + "".join(f"<a href='{p.stem}.html'>{p.stem[:2]}</a>" for p in paths)
    written = []
    for path in paths:
        nb = execute(path, profile, timeout)
        page = out / f"{path.stem}.html"
        page.write_text(render(nb, path.stem, nav), encoding="utf-8")
        written.append(page)
        print("wrote", page)
    items = "".join(f"<li><a href='{p.stem}.html'>{p.stem}</a></li>" for p in paths)
    (out / "index.html").write_text(PAGE.format(title="lossviz lessons", nav=nav,
                                                body=f"<h1>lossviz lessons ({profile} profile)</h1><ul>{items}</ul>"))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", help="name prefixes; default: every lesson")
    parser.add_argument("--profile", choices=["smoke", "full"], default="smoke")
    parser.add_argument("--out", type=Path, default=ROOT / "site")
    args = parser.parse_args(argv)
    build(args.lessons, args.profile, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
