"""Driving a JupyterLab notebook from Playwright: run all cells, find widgets, time plot updates."""

from __future__ import annotations

import statistics
import time

# a signature of what plotly drew inside one element: trace data and SVG paths of every plot in it
AREA_SIGNATURE_JS = """(area) => Array.from(area.querySelectorAll('.js-plotly-plot')).map(gd =>
    JSON.stringify((gd.data || []).map(t => [t.x, t.y, t.z, t.visible]))
    + Array.from(gd.querySelectorAll('path')).map(p => p.getAttribute('d')).join('|')).join('#')"""

# the same for every plot on the page
SIGNATURE_JS = f"() => ({AREA_SIGNATURE_JS})(document)"

# Resolves with the time at which the plots inside `area` first differ from `sig0`, all of them drawn.
# The signature is computed only when something in `area` changes (its DOM: a new or redrawn plot; a
# plot's plotly_afterplot event: a WebGL scene redrawn without DOM changes), never every frame:
# stringifying every trace on the page at each animation frame cost more than the update it timed.
# Widgets built with ipywidgets' `interact` replace their plot on every change, hence the whole area.
WAIT_CHANGE_JS = """([area, sig0]) => ({promise: new Promise(resolve => {
    const sig = AREA_SIGNATURE;
    const hooked = new Set();
    let done = false;
    const drawn = () => {
        const plots = Array.from(area.querySelectorAll('.js-plotly-plot'));
        return plots.length > 0 && plots.every(gd => gd._fullLayout);
    };
    const check = () => {
        if (done) return;
        const t = performance.now();
        hook();
        if (drawn() && sig(area) !== sig0) finish(t);
    };
    const hook = () => area.querySelectorAll('.js-plotly-plot').forEach(gd => {
        if (gd.on && !hooked.has(gd)) { hooked.add(gd); gd.on('plotly_afterplot', check); }
    });
    const observer = new MutationObserver(check);
    const finish = (t) => { done = true; observer.disconnect(); clearTimeout(timer); resolve(t); };
    observer.observe(area, {subtree: true, childList: true, attributes: true, characterData: true});
    hook();
    const timer = setTimeout(() => { if (!done) finish(null); }, 15000);
})})""".replace("AREA_SIGNATURE", AREA_SIGNATURE_JS)


def open_notebook(page, server: dict, relpath: str) -> None:
    page.goto(f"{server['url']}/lab/tree/{relpath}?token={server['token']}&reset")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=120_000)
    page.wait_for_function("() => { const w = window.jupyterapp.shell.currentWidget;"
                           " return w.sessionContext.session && w.sessionContext.session.kernel"
                           " && w.sessionContext.session.kernel.status === 'idle'; }", timeout=120_000)


def run_all(page, timeout_s: float = 600) -> dict:
    """Run every cell and wait until the kernel is idle with every code cell executed."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.time() + timeout_s
    state = {}
    while time.time() < deadline:
        state = page.evaluate("""() => {
            const w = window.jupyterapp.shell.currentWidget;
            const nb = w.context.model.toJSON();
            const code = nb.cells.filter(c => c.cell_type === 'code' && c.source.length);
            return {status: w.sessionContext.session.kernel.status,
                    executed: code.filter(c => c.execution_count !== null).length, total: code.length,
                    errors: code.flatMap(c => c.outputs.filter(o => o.output_type === 'error')
                                                        .map(o => o.ename + ': ' + o.evalue))};
        }""")
        if state["errors"] or (state["status"] == "idle" and state["executed"] == state["total"]):
            return state
        time.sleep(0.5)
    raise TimeoutError(f"cells did not finish in {timeout_s} s: {state}")


def signature(page) -> str:
    return page.evaluate(SIGNATURE_JS)


def time_key_to_change(page, area, handle, key: str = "ArrowRight", repeats: int = 5) -> list[float]:
    """Press a key on a focused slider handle and time (in the page) until a plot in ``area`` changes."""
    times = []
    element = area.element_handle()
    for _ in range(repeats):
        handle.focus()
        sig0 = page.evaluate(AREA_SIGNATURE_JS, element)
        page.evaluate("() => { window.__t0 = null; window.addEventListener('keydown',"
                      " () => { window.__t0 = performance.now(); }, {once: true, capture: true}); }")
        waiter = page.evaluate_handle(WAIT_CHANGE_JS, [element, sig0])
        page.keyboard.press(key)
        t1 = page.evaluate("(w) => w.promise", waiter)
        t0 = page.evaluate("() => window.__t0")
        if t1 is None or t0 is None:
            raise AssertionError(f"the plot did not change within 15 s of pressing {key}")
        times.append(t1 - t0)
        time.sleep(0.2)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)
