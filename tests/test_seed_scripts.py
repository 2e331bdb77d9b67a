"""The seed scripts repeat their lesson's comparison: same losses, full-profile sizes and training settings.

``scripts/unet_seeds.py`` (lesson 04) and ``scripts/boxreg_seeds.py`` (lesson 05) keep their own copy of the
lesson's loss set and sizes, so that they run without the notebook; these tests read the lesson's source
(``notebooks/src``, plain Python in the percent format, which ``nb.py check`` keeps equal to the notebook) and
fail when one side is changed without the other.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import boxreg_seeds  # noqa: E402
import unet_seeds  # noqa: E402


def _tree(lesson: str) -> ast.Module:
    return ast.parse((ROOT / "notebooks" / "src" / f"{lesson}.py").read_text())


def _full_profile(tree: ast.Module) -> dict[str, Any]:
    """Names assigned from ``lossviz.pick(...)`` -> their ``full`` value (tuples unpacked)."""
    picked: dict[str, Any] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "attr", None) == "pick"):
            (full,) = [k.value for k in node.value.keywords if k.arg == "full"]
            value = ast.literal_eval(full)
            target = node.targets[0]
            if isinstance(target, ast.Tuple):
                picked.update(zip([t.id for t in target.elts], value, strict=True))
            else:
                picked[target.id] = value
    return picked


def _literal(tree: ast.Module, name: str) -> Any:
    (value,) = [n.value for n in ast.walk(tree)
                if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == name for t in n.targets)]
    return ast.literal_eval(value)


def _compare_losses_keywords(tree: ast.Module) -> dict[str, str]:
    """The keywords of the (one) ``compare_losses`` call, as source text."""
    (call,) = [n for n in ast.walk(tree)
               if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "compare_losses"]
    return {k.arg: ast.unparse(k.value) for k in call.keywords}


def _script_tree(module: Any) -> ast.Module:
    return ast.parse(Path(module.__file__).read_text())


def test_unet_seeds_repeats_lesson_04():
    lesson = _tree("04_segmentation_losses")
    full = _full_profile(lesson)
    assert unet_seeds.FULL == {"img": full["IMG"], "epochs": full["EPOCHS"], "width": full["WIDTH"],
                               "depth": full["DEPTH"], "learning_rate": full["LEARNING_RATE"]}
    assert full["TRAIN_IMAGES"] is None  # the script trains on the whole training split, as the full lesson
    assert unet_seeds.LOSSES == _literal(lesson, "LOSSES")
    ours, theirs = _compare_losses_keywords(_script_tree(unet_seeds)), _compare_losses_keywords(lesson)
    assert ours["batch_size"] == theirs["batch_size"]
    assert (theirs["learning_rate"], ours["learning_rate"]) == ("LEARNING_RATE", "args.learning_rate")


def test_boxreg_seeds_repeats_lesson_05():
    lesson = _tree("05_box_losses")
    full = _full_profile(lesson)
    assert boxreg_seeds.FULL == {"img": full["IMG"], "epochs": full["EPOCHS"], "width": full["WIDTH"]}
    trained = _literal(lesson, "TRAIN_LOSSES")
    assert {name: boxreg_seeds.LOSSES[name] for name in trained} == trained  # and the script's extra mixes
    ours, theirs = _compare_losses_keywords(_script_tree(boxreg_seeds)), _compare_losses_keywords(lesson)
    for key in ("batch_size", "learning_rate"):
        assert ours[key] == theirs[key], key


def test_a_changed_lesson_is_noticed():
    # the readers above see a change: a lesson with another full size and loss set reads differently
    changed = ast.parse('IMG = lossviz.pick(smoke=48, full=96)\n'
                        'WIDTH, DEPTH = lossviz.pick(smoke=(4, 2), full=(8, 3))\n'
                        'LOSSES = {"BCE": "binary_crossentropy"}')
    assert _full_profile(changed) == {"IMG": 96, "WIDTH": 8, "DEPTH": 3}
    assert _literal(changed, "LOSSES") != unet_seeds.LOSSES
    with pytest.raises(ValueError):
        _literal(changed, "MISSING")
