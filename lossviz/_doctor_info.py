"""What the loss doctor understood of a loss: names, kinds, findings (pure Python).

The catalogue's names and Keras's aliases, :class:`Finding` (one problem and its fix), :class:`LossInfo`
(what :func:`lossviz.doctor.describe_loss` found) and the rules that read a loss's kind and weighting
from its names and config. Kept apart from the checks (``_doctor_rules.py``, which re-exports every
name here) so that each module stays short.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# the catalogue's names (lossviz.losses.get); Keras's own names map onto them
LOSSVIZ_NAMES = (
    "mse", "mae", "huber", "log_cosh", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "weighted_categorical_crossentropy", "binary_focal",
    "categorical_focal", "dice", "jaccard", "tversky", "bce_dice", "iou", "giou", "diou", "ciou",
    "ssim", "ms_ssim", "l1_ms_ssim",
)
ALIASES = {
    "mean_squared_error": "mse", "mean_absolute_error": "mae", "huber_loss": "huber", "logcosh": "log_cosh",
    "log_cosh_loss": "log_cosh", "binary_focal_crossentropy": "binary_focal",
    "categorical_focal_crossentropy": "categorical_focal", "l2": "mse", "l1": "mae",
}
CE_KINDS = ("categorical", "sparse", "binary")
REGRESSION = ("mse", "mae", "huber", "log_cosh", "mean_squared_logarithmic_error", "mean_absolute_percentage_error")


@dataclass(frozen=True)
class Finding:
    """One problem: a stable ``code``, its ``severity`` ("error" | "warning"), what is wrong, and a fix."""

    code: str
    severity: str
    message: str
    fix: str


@dataclass
class LossInfo:
    """What the doctor understood of a loss (see :func:`lossviz.doctor.describe_loss`)."""

    name: str
    fn: Callable[..., Any]
    kind: str  # categorical | sparse | binary | segmentation | detection | regression | restoration | unknown
    family: str | None = None
    from_logits: bool | None = None
    weighted: bool = False
    config: dict = field(default_factory=dict)
    in_catalogue: bool = False
    squeezes_rank: bool = False

    def describe(self) -> str:
        parts = [f"kind={self.kind}"]
        if self.family:
            parts.append(f"family={self.family}")
        if self.from_logits is not None:
            parts.append(f"from_logits={self.from_logits}")
        if self.kind in CE_KINDS:
            parts.append("weighted" if self.weighted else "unweighted")
        return f"{self.name} ({', '.join(parts)})"

    def get_code(self, name: str | None = None, **options: Any) -> str:
        """Code that builds this loss (or the catalogue loss ``name``) with ``options``."""
        args = "".join(f", {k}={v!r}" for k, v in options.items())
        if name is not None or self.in_catalogue:
            return f'lossviz.losses.get("{name or self.name}"{args})'
        if hasattr(self.fn, "get_config"):
            return f"keras.losses.{type(self.fn).__name__}({args[2:]})"
        return f"functools.partial({self.name}{args})"


def entry_field(entry: Any, key: str) -> Any:
    """A catalogue entry's field, whether the entry is a mapping or an object."""
    return entry.get(key) if isinstance(entry, dict) else getattr(entry, key, None)


def canonical_name(name: str) -> str:
    name = name.lower()
    return ALIASES.get(name, name)


def kind_of(names: list[str], family: str | None) -> str:
    """The kind of inputs a loss expects, from its names (Keras's and the catalogue's) and family."""
    for n in names:
        if "categorical" in n and "sparse" in n:
            return "sparse"
        if "categorical" in n:
            return "categorical"
        if any(k in n for k in ("dice", "jaccard", "tversky")):
            return "segmentation"
        if "binary" in n:
            return "binary"
        if re.search(r"(^|_)[gdc]?iou($|_)", n):
            return "detection"
        if "ssim" in n:
            return "restoration"
        if n in REGRESSION:
            return "regression"
    return {"segmentation": "segmentation", "detection": "detection", "regression": "regression",
            "restoration": "restoration"}.get(family or "", "unknown")


def is_weighted(names: list[str], config: dict) -> bool:
    """True when the loss re-weights classes (weighted / focal losses, class weights, class balancing)."""
    if "class_weights" in config:  # the catalogue's weighted cross-entropy: weighted only with weights
        return config["class_weights"] is not None
    if any("weighted" in n or "focal" in n for n in names):
        return True
    keys = ("class_weight", "class_weights", "weights", "pos_weight", "alpha")
    return any(config.get(k) is not None for k in keys) or bool(config.get("apply_class_balancing"))
