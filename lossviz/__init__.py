"""lossviz: see, compare and customise loss functions for image processing (Keras 3).

The public API is this curated list; everything is imported lazily so that ``import lossviz`` stays
cheap and a compute-only user never imports plotly or ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import Any

from lossviz._profile import pick, profile
from lossviz._results import report

__version__ = "0.1.0"

# public name -> "module:attribute" ("module:" for a module itself)
_LAZY = {
    "losses": "lossviz.losses:",
    "datasets": "lossviz.datasets:",
    "models": "lossviz.models:",
    "surfaces": "lossviz.surfaces:",
    "optimizers": "lossviz.optimizers:",
    "perturbations": "lossviz.perturbations:",
    "landscape": "lossviz.landscape:",
    "boxsim": "lossviz.boxsim:",
    "segmetrics": "lossviz.segmetrics:",
    "check": "lossviz.doctor:check",
    "LossDoctorError": "lossviz.doctor:LossDoctorError",
    "DescentExplorer": "lossviz.widgets.descent:DescentExplorer",
    "LossComparer": "lossviz.widgets.comparer:LossComparer",
    "LiveLoss": "lossviz.widgets.live:LiveLoss",
    "LossPicker": "lossviz.widgets.picker:LossPicker",
    "LossGuide": "lossviz.widgets.guide:LossGuide",
    "compare_losses": "lossviz.training:compare_losses",
}

__all__ = ["pick", "profile", "report", *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'lossviz' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
