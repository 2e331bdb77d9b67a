"""The lessons as a static site: figures render offline and the hiker animation plays with no kernel."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jlab
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site.build(["00"], "smoke", out)
    return out


def test_site_pages_exist_and_embed_no_remote_scripts(site):
    pages = sorted(site.glob("*.html"))
    assert [p.name for p in pages] == ["00_mountain.html", "index.html"]
    text = (site / "00_mountain.html").read_text()
    assert "<script src=\"plotly.min.js\"></script>" in text
    assert "cdn.plot.ly" not in text and "https://cdn" not in text


def test_figures_render_offline_and_play_moves_the_hiker(site, page, artifacts):
    page.goto((site / "00_mountain.html").as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    divs = page.evaluate("() => document.querySelectorAll('.plotly-graph-div').length")
    rendered = page.evaluate("() => document.querySelectorAll('.js-plotly-plot .main-svg').length")
    assert divs >= 1 and rendered >= divs, (divs, rendered)
    animated = page.locator(".js-plotly-plot:has(.updatemenu-button)").first
    animated.scroll_into_view_if_needed()
    before = jlab.signature(page)
    animated.locator(".updatemenu-button").first.click()
    deadline = time.time() + 10
    while jlab.signature(page) == before and time.time() < deadline:
        time.sleep(0.1)
    assert jlab.signature(page) != before, "the play button did not move the hiker"
    animated.screenshot(path=str(artifacts / "site_00_mountain.png"))
    assert [e for e in page.console_errors if "favicon" not in e] == []
