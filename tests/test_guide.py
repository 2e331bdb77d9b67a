"""The use case -> loss guide: the rules (pure) against the textbook answers, and the widget headless."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import lossviz
from lossviz import guide_rules
from lossviz.guide_rules import DEFAULTS, EXTRAS, PROPERTIES, RULES, TASKS, guide_markdown, recommend
from lossviz.widgets.guide import LossGuide

CATALOGUE = lossviz.losses.catalogue()
NAMES = [e.name for e in CATALOGUE]


def test_every_name_in_the_rules_is_in_the_catalogue():
    named = {n for rules in RULES.values() for n in rules} | {n for n, _ in DEFAULTS.values()}
    named |= {n for extras in EXTRAS.values() for n in extras}
    assert named <= set(NAMES), named - set(NAMES)
    assert set(PROPERTIES) - {"no_overlap"} <= set(lossviz.losses.DATA_PROPERTIES)
    assert set(TASKS) == {"any", *lossviz.losses.FAMILIES}


def test_no_property_lists_the_whole_catalogue_in_order():
    frame = recommend("any")
    assert frame.name.tolist() == NAMES and (frame.score == 0).all()
    assert frame["rank"].tolist() == list(range(1, len(NAMES) + 1))
    assert list(frame.columns) == guide_rules.COLUMNS


def test_candidates_are_the_family_then_the_extras():
    seg = recommend("segmentation").name.tolist()
    family = [e.name for e in CATALOGUE if e.family == "segmentation"]
    assert set(seg) == set(family) | {"binary_crossentropy", "binary_focal"}
    assert seg[0] == "bce_dice"  # the task's default comes first when nothing is ticked


def test_imbalanced_classification_recommends_weighted_ce_or_focal_first():
    frame = recommend("classification", ["imbalance"])
    assert frame.name.iloc[0] == "weighted_categorical_crossentropy"
    assert set(frame.name.iloc[:3]) == {"weighted_categorical_crossentropy", "binary_focal", "categorical_focal"}
    ranks = dict(zip(frame.name, frame["rank"], strict=True))
    assert ranks["categorical_crossentropy"] > 3 and ranks["sparse_categorical_crossentropy"] > 3
    assert "unweighted" in frame.set_index("name").why["categorical_crossentropy"]


def test_small_foreground_segmentation_recommends_overlap_losses_over_bce():
    frame = recommend("segmentation", ["imbalance", "small_objects"])
    assert set(frame.name.iloc[:3]) <= {"dice", "tversky", "bce_dice", "jaccard"}
    assert frame.name.iloc[-1] == "binary_crossentropy"


def test_denoising_recommends_l1_and_l1_ms_ssim_over_l2():
    frame = recommend("restoration", ["structure", "outliers"])
    assert frame.name.iloc[:2].tolist() == ["l1_ms_ssim", "mae"]
    assert frame.name.iloc[-1] == "mse"


def test_boxes_that_may_not_overlap_favour_giou_diou_ciou_and_demote_iou():
    frame = recommend("detection", ["no_overlap"])
    assert set(frame.name.iloc[:3]) == {"giou", "diou", "ciou"}
    assert frame.name.iloc[-1] == "iou"
    assert "zero gradient" in frame.set_index("name").why["iou"]


def test_outliers_demote_mse_in_regression():
    frame = recommend("regression", ["outliers"])
    assert frame.name.iloc[-1] == "mse" and frame.name.iloc[0] in {"mae", "huber"}


def test_bad_task_or_property_is_an_error():
    with pytest.raises(ValueError, match="expected one of"):
        recommend("clustering")
    with pytest.raises(ValueError, match="outliers"):
        recommend("regression", ["noise"])


def test_guide_markdown_has_a_section_per_family_and_safe_formulas():
    text = guide_markdown()
    for family in lossviz.losses.FAMILIES:
        count = sum(e.family == family for e in CATALOGUE)
        assert f"#### {family.capitalize()} ({count})" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(CATALOGUE)
    # a raw "|" inside a formula would add a cell: every row has exactly 4 cells
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 5 for row in rows)
    assert r"\vert" in text  # mae's |y - y_hat| was made safe


# --- the widget, headless -------------------------------------------------------------------------


def test_widget_table_follows_the_controls():
    guide = LossGuide()
    assert guide.table.name.tolist() == NAMES
    guide.controls["task"].value = "classification"
    assert set(guide.table.family) == {"classification"}
    assert guide.table.name.iloc[0] == "categorical_crossentropy"
    guide.controls["imbalance"].value = True
    assert guide.table.name.iloc[0] == "weighted_categorical_crossentropy"
    assert "weighted_categorical_crossentropy" in guide.output.value
    pd.testing.assert_frame_equal(guide.table, recommend("classification", ["imbalance"]))
    guide.controls["task"].value = "detection"
    guide.controls["imbalance"].value = False
    guide.controls["no_overlap"].value = True
    assert guide.table.name.iloc[-1] == "iou" and guide.properties == ["no_overlap"]


def test_widget_shows_top_rows_with_formulas_and_has_no_figure_but_a_view():
    guide = LossGuide("restoration", ["structure"], top=2)
    html = guide.output.value
    assert html.count("<tr>") == 3  # header + 2 rows
    assert "$" in html and "l1_ms_ssim" in html
    assert set(guide.controls) == {"task", *PROPERTIES}
    assert "application/vnd.jupyter.widget-view+json" in guide._repr_mimebundle_()
    assert lossviz.LossGuide is LossGuide


def test_custom_rules_extend_the_guide():
    rules = {**RULES, "noisy_labels": {"mae": (3, "bounded loss: a wrong label cannot dominate")}}
    frame = recommend("any", ["noisy_labels"], rules=rules)
    assert frame.name.iloc[0] == "mae" and frame.score.iloc[0] == 3
    assert "bounded" in frame.why.iloc[0]
