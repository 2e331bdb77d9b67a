"""Use case -> loss: the recommendation rules behind the loss guide (pure compute, no widgets).

:func:`recommend` ranks the catalogue's losses for a task and a set of data properties. Every entry
starts at 0; a property the catalogue lists in the entry's ``good_for`` adds 2, the explicit rules in
:data:`RULES` add or subtract points with a reason (why a property favours or hurts a loss), and the
task's usual default gets 1. Ties keep catalogue order, with the task's own family first.

Example:
    >>> recommend("classification", ["imbalance"]).name.iloc[0]
    'weighted_categorical_crossentropy'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

TASKS = ("any", "regression", "classification", "segmentation", "detection", "restoration")
"""The tasks the guide knows: ``any`` or one of the catalogue's families."""

PROPERTIES = {
    "outliers": "Targets have outliers / heavy-tailed noise",
    "imbalance": "Class imbalance or a small foreground",
    "small_objects": "Small objects (masks or boxes)",
    "structure": "Structural / perceptual quality matters",
    "no_overlap": "Predicted boxes may not overlap their targets",
}
"""Data properties the guide understands (the first four are the catalogue's ``good_for`` words)."""

# losses from other families that also apply to a task (per-pixel BCE for masks, pixel losses for images)
EXTRAS = {
    "segmentation": ("binary_crossentropy", "binary_focal"),
    "detection": ("huber", "mae", "mse"),
    "restoration": ("mae", "mse", "huber"),
}

DEFAULTS = {
    "regression": ("mse", "the usual starting point for regression"),
    "classification": ("categorical_crossentropy", "the usual starting point for one label out of K"),
    "segmentation": ("bce_dice", "a robust default: smooth BCE gradients plus Dice's overlap"),
    "detection": ("ciou", "the usual default of modern detectors"),
    "restoration": ("l1_ms_ssim", "a strong default for restoration (Zhao et al. 2017)"),
}

RULES: dict[str, dict[str, tuple[int, str]]] = {
    "outliers": {
        "mse": (-2, "squares errors, so a few outliers dominate the loss and its gradient"),
        "mae": (1, "every error gets the same gradient size: estimates the median"),
        "huber": (1, "quadratic near 0, linear for large errors: robust yet smooth"),
    },
    "imbalance": {
        "categorical_crossentropy": (-1, "unweighted: the majority class dominates the gradient"),
        "sparse_categorical_crossentropy": (-1, "unweighted: the majority class dominates the gradient"),
        "binary_crossentropy": (-1, "unweighted: background pixels or the frequent label dominate"),
        "weighted_categorical_crossentropy": (0, "up-weights rare classes (weights from class counts)"),
    },
    "small_objects": {
        "tversky": (1, "beta > alpha penalises missed pixels more: better recall of thin, small structures"),
        "mse": (-1, "errors in pixels: large objects dominate, small ones hardly count"),
        "mae": (-1, "errors in pixels: large objects dominate, small ones hardly count"),
        "huber": (-1, "errors in pixels: large objects dominate, small ones hardly count"),
    },
    "structure": {
        "mse": (-2, "rewards blurry averages and ignores local structure"),
        "mae": (1, "sharper results than L2 (Zhao et al. 2017)"),
        "l1_ms_ssim": (1, "MS-SSIM keeps edges and texture, L1 keeps colours and brightness"),
    },
    "no_overlap": {
        "iou": (-3, "disjoint boxes all get loss 1 with zero gradient: a missed box learns nothing"),
        "giou": (2, "the enclosing-box term still pulls disjoint boxes together"),
        "diou": (3, "the centre-distance term moves disjoint boxes directly and converges faster than GIoU"),
        "ciou": (3, "centre distance plus aspect ratio: gradients for disjoint boxes, and shape too"),
        "mse": (1, "coordinate losses have a gradient whatever the overlap (but are not scale-invariant)"),
        "huber": (1, "coordinate losses have a gradient whatever the overlap (but are not scale-invariant)"),
    },
}
"""property -> loss name -> (points, reason). Added to the catalogue's ``good_for`` points."""

COLUMNS = ["rank", "name", "family", "score", "why", "formula", "when", "caveats", "keras_own"]


def _field(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, dict) else getattr(entry, key, None)


def _entries(entries: Sequence[Any] | None) -> list[Any]:
    if entries is not None:
        return list(entries)
    from lossviz import losses

    return losses.catalogue()


def candidates(task: str, entries: Sequence[Any] | None = None) -> list[Any]:
    """The catalogue entries that apply to a task: its family first, then the extras that also apply.

    Args:
        task: one of :data:`TASKS`.
        entries: catalogue entries (default ``lossviz.losses.catalogue()``).

    Returns:
        A list of entries in display order.
    """
    if task not in TASKS:
        raise ValueError(f"Invalid value for `task`: expected one of {TASKS}; received {task!r}")
    entries = _entries(entries)
    if task == "any":
        return entries
    own = [e for e in entries if _field(e, "family") == task]
    by_name = {_field(e, "name"): e for e in entries}
    return own + [by_name[n] for n in EXTRAS.get(task, ()) if n in by_name]


def recommend(
    task: str = "any",
    properties: Iterable[str] = (),
    entries: Sequence[Any] | None = None,
    rules: dict[str, dict[str, tuple[int, str]]] | None = None,
) -> pd.DataFrame:
    """Rank the losses for a task and data properties, best first, with the reasons.

    Formula:
        score = 2 * |properties ∩ good_for| + sum of RULES[p][name] + [name is the task's default]

    Example:
        >>> recommend("detection", ["no_overlap"]).name.tolist()[:3]
        ['ciou', 'diou', 'giou']

    Args:
        task: one of :data:`TASKS` (``"any"`` ranks the whole catalogue).
        properties: keys of :data:`PROPERTIES`.
        entries: catalogue entries (default ``lossviz.losses.catalogue()``); each needs name, family,
            formula, when, caveats, keras_own and good_for.
        rules: property -> loss name -> (points, reason); default :data:`RULES`. A property missing
            from ``rules`` scores through the catalogue's ``good_for`` only.

    Returns:
        A ``pandas.DataFrame`` with columns :data:`COLUMNS`, sorted by score (ties keep catalogue order).
    """
    properties = list(dict.fromkeys(properties))
    rules = RULES if rules is None else rules
    unknown = [p for p in properties if p not in PROPERTIES and p not in rules]
    if unknown:
        raise ValueError(f"Invalid value for `properties`: expected some of {list(PROPERTIES)}; received {unknown}")
    rows = []
    default = DEFAULTS.get(task)
    for order, entry in enumerate(candidates(task, entries)):
        name = _field(entry, "name")
        score, why = 0, []
        if default and default[0] == name:
            score += 1
            why.append(f"+1 {default[1]}")
        for prop in properties:
            if prop in (_field(entry, "good_for") or ()):
                score += 2
                why.append(f"+2 copes with {prop.replace('_', ' ')} (catalogue)")
            points, reason = rules.get(prop, {}).get(name, (0, ""))
            if reason:
                score += points
                why.append(f"{points:+d} {reason}" if points else reason)
        rows.append({
            "order": order, "name": name, "family": _field(entry, "family"), "score": score,
            "why": "; ".join(why), "formula": _field(entry, "formula"), "when": _field(entry, "when"),
            "caveats": _field(entry, "caveats"), "keras_own": bool(_field(entry, "keras_own")),
        })
    frame = pd.DataFrame(rows, columns=["order", *COLUMNS[1:]])
    frame = frame.sort_values(["score", "order"], ascending=[False, True], kind="stable").drop(columns="order")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def markdown_formula(formula: str) -> str:
    """A LaTeX formula made safe inside a Markdown table cell (``|`` would split the cell)."""
    return "$" + formula.replace("|", r"\vert ") + "$"


def guide_markdown(entries: Sequence[Any] | None = None, families: Sequence[str] | None = None) -> str:
    """The use case -> loss table as Markdown, one section per family, formulas as inline LaTeX.

    Example:
        >>> from IPython.display import Markdown
        >>> Markdown(guide_markdown(families=["detection"]))  # doctest: +SKIP

    Args:
        entries: catalogue entries (default ``lossviz.losses.catalogue()``).
        families: which families to show, in order (default: every family present, catalogue order).

    Returns:
        A Markdown string.
    """
    entries = _entries(entries)
    present = list(dict.fromkeys(_field(e, "family") for e in entries))
    parts = []
    for family in families or present:
        rows = [e for e in entries if _field(e, "family") == family]
        parts.append(f"#### {family.capitalize()} ({len(rows)})\n")
        parts.append("| loss | formula | use it when | Keras's own |\n| --- | --- | --- | --- |")
        for e in rows:
            when = str(_field(e, "when")).replace("|", "/")
            own = "yes" if _field(e, "keras_own") else "no"
            parts.append(f"| `{_field(e, 'name')}` | {markdown_formula(_field(e, 'formula'))} | {when} | {own} |")
        parts.append("")
    return "\n".join(parts)


def recommendation_html(frame: pd.DataFrame, top: int | None = None) -> str:
    """An HTML table of :func:`recommend`'s result (formulas as ``$...$`` for MathJax / HTMLMath).

    Args:
        frame: the DataFrame returned by :func:`recommend`.
        top: show only the first ``top`` rows (None: all).

    Returns:
        An HTML string.
    """
    import html

    shown = frame if top is None else frame.head(top)
    head = "".join(f"<th style='text-align:left'>{c}</th>" for c in ("#", "loss", "family", "score", "why",
                                                                      "formula", "use it when"))
    body = "".join(
        "<tr>"
        f"<td>{r['rank']}</td><td><code>{html.escape(r['name'])}</code></td><td>{r['family']}</td>"
        f"<td>{r['score']:+d}</td><td>{html.escape(r['why']) or '&ndash;'}</td>"
        f"<td>${html.escape(r['formula'])}$</td><td>{html.escape(r['when'])}</td>"
        "</tr>"
        for r in shown.to_dict("records")
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
