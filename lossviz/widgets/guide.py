"""``LossGuide``: the use case -> loss guide as a small widget (task and data properties -> ranked losses).

The ranking is :func:`lossviz.guide_rules.recommend`'s, from ``lossviz.losses.catalogue()``; this widget
only wires a task dropdown and one checkbox per data property to it and shows the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from lossviz.guide_rules import PROPERTIES, TASKS, recommend, recommendation_html


class LossGuide:
    """Pick a task and tick what is true of your data; the table ranks the catalogue's losses and says why.

    Example:
        >>> guide = LossGuide()
        >>> guide.controls["task"].value = "classification"
        >>> guide.controls["imbalance"].value = True
        >>> guide.table.name.iloc[0]
        'weighted_categorical_crossentropy'

    Args:
        task: initial task, one of :data:`lossviz.guide_rules.TASKS`.
        properties: initially ticked properties (keys of :data:`lossviz.guide_rules.PROPERTIES`).
        top: rows shown in the HTML table (the DataFrame ``table`` always has every candidate).

    Attributes:
        controls: ``{"task": Dropdown, "<property>": Checkbox, ...}``.
        table: the current ranking (``pandas.DataFrame``; see :func:`lossviz.guide_rules.recommend`).
        output: the ``ipywidgets.HTMLMath`` showing the table (formulas typeset).
        widget: the whole view.
    """

    def __init__(self, task: str = "any", properties: Iterable[str] = (), top: int | None = 8) -> None:
        properties = list(properties)
        self.table: pd.DataFrame = recommend(task, properties)  # validates task and properties
        self.top = top
        self.controls: dict[str, widgets.Widget] = {
            "task": widgets.Dropdown(options=list(TASKS), value=task, description="task"),
        }
        for key, label in PROPERTIES.items():
            self.controls[key] = widgets.Checkbox(value=key in properties, description=label, indent=False)
        self.output = widgets.HTMLMath()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        boxes = widgets.VBox([self.controls[k] for k in PROPERTIES])
        self.widget = widgets.VBox([widgets.HBox([self.controls["task"], boxes]), self.output])
        self.update()

    @property
    def task(self) -> str:
        """The selected task."""
        return str(self.controls["task"].value)

    @property
    def properties(self) -> list[str]:
        """The ticked data properties."""
        return [k for k in PROPERTIES if self.controls[k].value]

    def update(self) -> None:
        """Recompute the ranking from the controls and redraw the table."""
        self.table = recommend(self.task, self.properties)
        self.output.value = recommendation_html(self.table, self.top)

    def _on_change(self, _change: Any) -> None:
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
