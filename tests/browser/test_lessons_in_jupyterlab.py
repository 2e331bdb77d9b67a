"""Each lesson with a widget, used as a person would in JupyterLab in a real Chromium.

Run all cells, wait for the plotly figure, move a slider with the keyboard and click a button, and
check that the plot changed, with no error in the browser console and no error output in any cell.
The key-press-to-plot-change times are written to artifacts/browser/roundtrip.json (goal: median
<= 100 ms) and screenshots of each lesson's widgets to artifacts/browser/.
"""

from __future__ import annotations

import json
import time

import jlab
import pytest

pytestmark = pytest.mark.browser

# lesson -> (text on the button to click, how long the plot may take to change after the click)
LESSONS = {
    "00_mountain": ("reset", 10),
    "02_classification_losses": (None, 0),
    "03_imbalanced_blood_cells": (None, 0),
}
# console noise that is not an error of the lesson (the machine has no network)
BENIGN = ("favicon", "net::ERR_", "Failed to load resource")
ROUNDTRIP = {}


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_lesson_widgets_respond_in_a_real_browser(lesson, jupyterlab, page, artifacts):
    button_text, button_wait = LESSONS[lesson]
    jlab.open_notebook(page, jupyterlab, f"notebooks/{lesson}.ipynb")
    state = jlab.run_all(page)
    assert state["errors"] == [], f"cells raised: {state['errors']}"
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    area = page.locator(".jp-OutputArea-output:has(.js-plotly-plot):has(.widget-slider)").first
    area.scroll_into_view_if_needed()
    handle = area.locator(".widget-slider .noUi-handle").first
    times = jlab.time_key_to_change(page, handle)
    ROUNDTRIP[lesson] = times
    area.screenshot(path=str(artifacts / f"{lesson}.png"))
    if button_text:
        before = jlab.signature(page)
        area.locator(f"button:has-text('{button_text}')").first.click()
        deadline = time.time() + button_wait
        while jlab.signature(page) == before and time.time() < deadline:
            time.sleep(0.1)
        assert jlab.signature(page) != before, f"clicking {button_text!r} did not change the plot"
    errors = [e for e in page.console_errors if not any(b in e for b in BENIGN)]
    assert errors == [], f"browser console errors: {errors}"
    (artifacts / "roundtrip.json").write_text(json.dumps(
        {k: {"times_ms": v, "median_ms": jlab.median(v)} for k, v in ROUNDTRIP.items()}, indent=1))
    assert jlab.median(times) < 1000, f"median key-to-plot time {jlab.median(times):.0f} ms"
