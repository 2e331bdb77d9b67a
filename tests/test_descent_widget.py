"""DescentExplorer driven headless: set controls' values, assert on figure.data."""

import types

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import Undefined

import lossviz
from lossviz import surfaces
from lossviz.optimizers import KINDS
from lossviz.plots import descent as plots
from lossviz.widgets.descent import DescentExplorer

TRAIL = {k: 4 + plots.TRACES_PER_PATH * i for i, k in enumerate(KINDS)}  # 2-D trail trace of each kind


def trail(ex, kind):
    tr = ex.figure.data[TRAIL[kind]]
    return np.asarray(tr.x, float), np.asarray(tr.y, float)


def notes(ex):
    return [a.text for a in ex.figure.layout.annotations if a.name == "diverged"]


def test_exported_lazily_and_has_controls_and_figure():
    assert lossviz.DescentExplorer is DescentExplorer
    ex = DescentExplorer("bowl", optimizers=("sgd",), steps=20)
    assert isinstance(ex.figure, go.FigureWidget)
    assert {"learning_rate", "momentum", "steps", "optimizers", "start_x", "start_y", "play", "frame",
            "step", "reset", "fog"} <= set(ex.controls)


def test_trajectory_starts_at_the_chosen_point_and_click_drops_the_hiker():
    ex = DescentExplorer("himmelblau", optimizers=("sgd", "adam"), steps=30)
    ex.controls["start_x"].value = 1.0
    ex.controls["start_y"].value = -2.0
    for kind in ("sgd", "adam"):
        x, y = trail(ex, kind)
        assert (x[0], y[0]) == pytest.approx((1.0, -2.0)) and len(x) == 31
    # a click on the contour map (trace 1): FigureWidget passes the clicked point's coordinates
    ex._clicked(ex.figure.data[1], types.SimpleNamespace(xs=[-3.0], ys=[2.5]), None)
    x, y = trail(ex, "sgd")
    assert (x[0], y[0]) == pytest.approx((-3.0, 2.5))
    assert ex.controls["start_x"].value == pytest.approx(-3.0)


def test_loss_decreases_on_the_bowl_for_a_small_rate():
    s = surfaces.bowl()
    ex = DescentExplorer(s, optimizers=("sgd",), steps=40)
    ex.controls["learning_rate"].value = 0.05
    x, y = trail(ex, "sgd")
    loss = x**2 + y**2  # computed here by hand, not by the library
    assert np.all(np.diff(loss) < 0) and loss[-1] < 0.1 * loss[0]
    assert notes(ex) == []
    hiker3d = ex.figure.data[TRAIL["sgd"] - 1]
    assert hiker3d.z[0] == pytest.approx(loss[-1])  # the 3-D hiker stands at the current loss


def test_large_rate_says_diverged_and_draws_no_nan():
    ex = DescentExplorer("bowl", optimizers=("sgd", "adam"), steps=100)
    ex.controls["learning_rate"].value = 5.0
    assert any("SGD diverged" in t for t in notes(ex))
    x, y = trail(ex, "sgd")
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and len(x) < 101
    assert max(abs(x[-1]), abs(y[-1])) > 2.0  # the path leaves the map
    ex.controls["learning_rate"].value = 0.05
    assert notes(ex) == []


def test_optimizer_selection_hides_traces_and_momentum_changes_the_path():
    ex = DescentExplorer("ravine", optimizers=("sgd", "momentum"), steps=50)
    assert ex.figure.data[TRAIL["momentum"]].visible and not ex.figure.data[TRAIL["adam"]].visible
    before = trail(ex, "momentum")[0].copy()
    ex.controls["momentum"].value = 0.5
    assert not np.allclose(before, trail(ex, "momentum")[0])
    ex.controls["optimizers"].value = ("adam",)
    assert ex.figure.data[TRAIL["adam"]].visible and not ex.figure.data[TRAIL["sgd"]].visible
    ex.controls["steps"].value = 10
    assert len(trail(ex, "adam")[0]) == 11 and ex.controls["frame"].max == 10


def test_frame_play_step_reset_and_fog():
    ex = DescentExplorer("rosenbrock", optimizers=("adam",), steps=60, learning_rate=0.05)
    ex.reset()
    assert len(trail(ex, "adam")[0]) == 1
    ex.step()
    ex.step()
    assert len(trail(ex, "adam")[0]) == 3
    ex.controls["play"].value = 25  # the Play widget drives the frame
    assert ex.controls["frame"].value == 25 and len(trail(ex, "adam")[0]) == 26
    assert np.all(np.isfinite(np.asarray(ex.figure.data[1].z, float)))
    ex.controls["fog"].value = True
    z = np.asarray(ex.figure.data[1].z, float)
    hidden = ~np.isfinite(z)
    assert 0.3 < hidden.mean() < 1.0  # most of the map is in the fog, the path's neighbourhood is not
    ex.controls["frame"].value = 60
    assert (~np.isfinite(np.asarray(ex.figure.data[1].z, float))).sum() <= hidden.sum()


def test_to_figure_is_a_plain_animated_figure():
    ex = DescentExplorer("saddle", optimizers=("sgd", "rmsprop"), steps=30)
    fig = ex.to_figure(frames=10)
    assert type(fig) is go.Figure and 2 <= len(fig.frames) <= 10
    assert fig.layout.updatemenus[0].buttons[0].method == "animate"
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)
    last = fig.frames[-1]
    assert len(last.data[2].x) == 31  # the SGD 2-D trail at the last frame holds all 31 points


def test_data_surface_in_the_widget():
    x = np.linspace(0.3, 2.0, 50, dtype="float32")
    s = surfaces.line_fit(x, 0.8 * x + 0.1, "mse")
    ex = DescentExplorer(s, optimizers=("sgd",), steps=20, learning_rate=0.1, n=20)
    tx, ty = trail(ex, "sgd")
    assert (tx[0], ty[0]) == pytest.approx(s.start, abs=1e-6) and len(tx) == 21


@pytest.mark.parametrize("name", ["bowl", "ravine", "saddle", "rosenbrock", "himmelblau", "mountain_range"])
def test_figure_title_shows_the_formula_as_plain_text(name):
    from lossviz.plots.descent import descent_figure

    surface = getattr(surfaces, name)()
    title = descent_figure(surface, [], grid=surface.grid(20)).layout.title.text
    assert "\\" not in title and "^" not in title, title   # no raw LaTeX (the widget has no MathJax)
    assert title.startswith(name)


def test_slider_labels_are_not_cut():
    ex = DescentExplorer("bowl")
    assert ex.controls["learning_rate"].style.description_width == ex.controls["start_y"].style.description_width
    assert ex.controls["learning_rate"].style.description_width not in ("", "initial")


def _buffers(v):
    if isinstance(v, memoryview):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from _buffers(x)
    elif isinstance(v, (list, tuple)):
        for x in v:
            yield from _buffers(x)


def test_updates_reach_the_browser_as_contiguous_buffers():
    # the kernel refuses to send a non-contiguous buffer ("Buffer 2 ... is not contiguous"): run what
    # the widget sends through plotly's own serializer and check every raw buffer
    from plotly.serializers import custom_serializers

    ex = DescentExplorer("rosenbrock", steps=30)
    sent = []
    ex.figure.observe(lambda change: sent.append(change["new"]) if change["new"] else None, names="_py2js_update")
    ex.controls["learning_rate"].value = ex.controls["learning_rate"].value * 1.5
    ex.controls["frame"].value = 10
    assert len(sent) == 2
    views = [m for msg in sent for m in _buffers(custom_serializers["to_json"](msg, None))]
    assert views and all(m.contiguous for m in views)
    assert 0 not in sent[-1]["style_traces"]      # unchanged surface: not sent again
    ex.controls["fog"].value = True
    assert sent[-1]["style_traces"][:2] == [0, 1]
    assert isinstance(sent[-1]["style_data"]["z"][0], np.ndarray)
    # nothing that reaches the browser as null (plotly.js then *removes* the property), except the z of
    # 2-D traces, which have none
    for msg in sent:
        for key, values in msg["style_data"].items():
            for i, v in zip(msg["style_traces"], values, strict=True):
                if v is Undefined:
                    assert key == "z" and ex.figure.data[i].type == "scatter", (key, i)
