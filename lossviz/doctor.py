"""The loss doctor: find the usual mistakes in a (loss, y_true, y_pred) triple and say how to fix each.

``check`` reads the loss itself (its ``get_config()``: ``from_logits``, class weights, ...) and, where
it has one, its catalogue entry (the task family), then inspects the two arrays: probabilities given
to a logits loss and the reverse, one-hot vs integer labels, labels out of range, masks in 0/255,
boxes that are not (x1, y1, x2, y2), shape and rank mismatches, NaN / inf, and strong class imbalance
with an unweighted loss. When nothing is wrong it evaluates the loss once and reports the value.
Pure compute: numpy and Keras only.
"""

from __future__ import annotations

import functools
import html
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from lossviz import _doctor_rules as rules
from lossviz._doctor_rules import Finding, LossInfo

__all__ = ["Finding", "LossDoctorError", "LossInfo", "Report", "check", "describe_loss"]


class LossDoctorError(ValueError):
    """Raised by :func:`check` (``raise_on_error=True``) or :meth:`Report.raise_for_errors`.

    The full :class:`Report` is attached as ``.report``.
    """

    def __init__(self, report: Report) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass
class Report:
    """What the doctor found: a list of :class:`Finding` and, when nothing is wrong, the loss value.

    Attributes:
        loss_name: the loss's name (as in the catalogue where known).
        findings: the problems found, errors first.
        value: the loss evaluated once on (y_true, y_pred) (mean over samples), or ``None`` when an
            error prevented evaluating it.
        description: one line describing the loss as the doctor understood it.
    """

    loss_name: str
    findings: list[Finding] = field(default_factory=list)
    value: float | None = None
    description: str = ""

    @property
    def errors(self) -> list[Finding]:
        """The findings with severity ``"error"``."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings with severity ``"warning"``."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def codes(self) -> list[str]:
        """The codes of all findings, in order."""
        return [f.code for f in self.findings]

    def raise_for_errors(self) -> None:
        """Raise :class:`LossDoctorError` if the report has at least one error."""
        if self.errors:
            raise LossDoctorError(self)

    def _summary(self) -> str:
        if not self.findings:
            return "No problems found."
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)."

    def _value_line(self) -> str:
        if self.value is None:
            return "Loss not evaluated (fix the errors first)."
        return f"{self.loss_name}(y_true, y_pred) = {self.value:.6g}"

    def __str__(self) -> str:
        lines = [f"Loss doctor: {self.description or self.loss_name}", self._summary()]
        for f in self.findings:
            lines.append(f"[{f.severity}] {f.code}: {f.message}")
            lines.append(f"    fix: {f.fix}")
        lines.append(self._value_line())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        colour = {"error": "#b00020", "warning": "#a15c00"}
        rows = "".join(
            f"<tr><td style='color:{colour[f.severity]};font-weight:bold'>{esc(f.severity)}</td>"
            f"<td><code>{esc(f.code)}</code></td><td>{esc(f.message)}</td>"
            f"<td><code>{esc(f.fix)}</code></td></tr>"
            for f in self.findings
        )
        table = (
            "<table><thead><tr><th>severity</th><th>code</th><th>what is wrong</th><th>fix</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>" if rows else ""
        )
        return (
            f"<div><b>Loss doctor:</b> {esc(self.description or self.loss_name)}<br>"
            f"{esc(self._summary())}{table}<br>{esc(self._value_line())}</div>"
        )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _catalogue_entry(names: list[str]) -> Any:
    """The catalogue entry of the first matching name, or None (also when the catalogue is missing)."""
    try:
        from lossviz import losses as catalogue_module

        entries = catalogue_module.catalogue()
    except (ImportError, AttributeError):
        return None
    by_name = {}
    for e in entries:
        for key in (rules.entry_field(e, "name"), *(rules.entry_field(e, "aliases") or ())):
            by_name.setdefault(rules.canonical_name(str(key)), e)
    for name in names:
        if name in by_name:
            return by_name[name]
    return None


def _callable_options(fn: Callable[..., Any]) -> dict[str, Any]:
    """Keyword defaults of a loss function (and a partial's bound keywords): its implicit config."""
    options: dict[str, Any] = {}
    target = fn
    if isinstance(fn, functools.partial):
        options.update(fn.keywords)
        target = fn.func
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return options
    for p in params:
        if p.default is not inspect.Parameter.empty and p.name not in options:
            options[p.name] = p.default
    return options


def _resolve(loss: str | keras.losses.Loss | Callable[..., Any]) -> tuple[Callable[..., Any], list[str], dict]:
    if isinstance(loss, str):
        try:
            from lossviz import losses as catalogue_module

            obj: Any = catalogue_module.get(loss)
        except ImportError:  # the catalogue module is missing: fall back to Keras's own names
            obj = keras.losses.get(loss)
        fn, names, config = _resolve(obj)
        return fn, [loss, *names], config
    if isinstance(loss, keras.losses.Loss):
        config = dict(loss.get_config())
        names = [str(loss.name), _snake(type(loss).__name__)]
        return loss, names, config
    if callable(loss):
        base = loss.func if isinstance(loss, functools.partial) else loss
        names = [str(getattr(base, "__name__", _snake(type(base).__name__)))]
        return loss, names, _callable_options(loss)
    raise TypeError(
        "Invalid value for `loss`: expected a catalogue name (str), a keras.losses.Loss or a callable "
        f"(y_true, y_pred) -> loss; received {type(loss).__name__}"
    )


def describe_loss(loss: str | keras.losses.Loss | Callable[..., Any]) -> LossInfo:
    """What the doctor understands of a loss: its name, kind, family, ``from_logits`` and weighting.

    Example:
        >>> describe_loss(keras.losses.CategoricalCrossentropy(from_logits=True)).from_logits
        True

    Args:
        loss: a catalogue name, a ``keras.losses.Loss`` instance or a callable ``(y_true, y_pred)``.

    Returns:
        A :class:`LossInfo`.
    """
    fn, names, config = _resolve(loss)
    canonical = [rules.canonical_name(n) for n in names]
    entry = _catalogue_entry(canonical)
    family = rules.entry_field(entry, "family") if entry is not None else None
    name = rules.entry_field(entry, "name") if entry is not None else canonical[0]
    kind = rules.kind_of(canonical, family)
    return LossInfo(
        name=name,
        fn=fn,
        kind=kind,
        family=family,
        from_logits=config.get("from_logits"),
        weighted=rules.is_weighted(canonical, config),
        config=config,
        in_catalogue=entry is not None or name in rules.LOSSVIZ_NAMES,
        # Keras's wrappers and the catalogue's losses add a missing trailing axis of size 1
        squeezes_rank=callable(getattr(fn, "fn", None)) or bool(getattr(fn, "_align", False)),
    )


def _to_numpy(value: Any, label: str) -> np.ndarray:
    try:
        array = keras.ops.convert_to_numpy(value) if keras.ops.is_tensor(value) else np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Invalid value for `{label}`: expected an array or tensor of numbers; {exc}") from exc
    if array.dtype == bool:
        array = array.astype("float32")
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"Invalid value for `{label}`: expected numbers; received dtype {array.dtype}")
    return array.astype("float64")


def _evaluate(info: LossInfo, y_true: Any, y_pred: Any) -> tuple[float | None, Finding | None]:
    try:
        value = info.fn(y_true, y_pred)
        number = float(np.mean(keras.ops.convert_to_numpy(value)))
    except Exception as exc:  # the user's loss may raise anything: report it as a finding
        return None, Finding(
            "loss-raised", "error",
            f"Calling the loss on (y_true, y_pred) raised {type(exc).__name__}: {exc}",
            "Read the error above; check the shapes and dtypes the loss expects.",
        )
    if not np.isfinite(number):
        return None, Finding(
            "loss-not-finite", "error",
            f"The loss evaluated to {number} although the inputs are finite: a log(0) or a division by zero.",
            "Clip probabilities, e.g. keras.ops.clip(y_pred, 1e-7, 1 - 1e-7), or pass logits with from_logits=True.",
        )
    return number, None


def check(
    loss: str | keras.losses.Loss | Callable[..., Any],
    y_true: Any,
    y_pred: Any,
    *,
    raise_on_error: bool = False,
) -> Report:
    """Look for the usual mistakes in feeding ``y_true`` and ``y_pred`` to ``loss``; say how to fix each.

    Checks: NaN / inf in the inputs; shape and rank mismatch; probabilities given to a
    ``from_logits=True`` loss and logits to a probability loss; one-hot labels to a sparse
    cross-entropy and integer labels to a categorical one; class indices out of range; masks in
    0/255 instead of 0/1; boxes that are (x, y, w, h) or have x2 < x1; inputs on different scales;
    strong class (or foreground) imbalance with an unweighted loss. When there is no error, the loss
    is evaluated once and its value reported.

    Example:
        >>> report = check("categorical_crossentropy", [[0, 1]], [[2.0, -1.0]])
        >>> report.codes
        ['logits-to-probability-loss']

    Args:
        loss: a catalogue name (``lossviz.losses.get(name)``), a ``keras.losses.Loss`` instance, or a
            callable ``(y_true, y_pred) -> loss``.
        y_true: the targets (array-like or tensor).
        y_pred: the model outputs (array-like or tensor).
        raise_on_error: raise :class:`LossDoctorError` when the report has an error.

    Returns:
        A :class:`Report`; ``print(report)`` or display it in a notebook.

    Raises:
        LossDoctorError: when ``raise_on_error`` and an error was found.
    """
    info = describe_loss(loss)
    yt, yp = _to_numpy(y_true, "y_true"), _to_numpy(y_pred, "y_pred")
    findings = rules.run_checks(info, yt, yp)
    value = None
    if not any(f.severity == "error" for f in findings):
        value, problem = _evaluate(info, y_true, y_pred)
        if problem is not None:
            findings.append(problem)
    findings.sort(key=lambda f: f.severity != "error")
    report = Report(loss_name=info.name, findings=findings, value=value, description=info.describe())
    if raise_on_error:
        report.raise_for_errors()
    return report
