"""Shared look of the widgets' controls."""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets

LABEL_WIDTH = "110px"


def widen_labels(controls: Mapping[str, widgets.Widget], width: str = LABEL_WIDTH) -> None:
    """Give every labelled control the same label width, so "learning rate" is not cut to "learning r..."."""
    for control in controls.values():
        if isinstance(control, widgets.Checkbox):
            continue  # its label sits beside the box, not in the label column
        style = getattr(control, "style", None)
        if getattr(control, "description", "") and style is not None and hasattr(style, "description_width"):
            style.description_width = width
