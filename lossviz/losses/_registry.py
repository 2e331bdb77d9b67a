"""The one registry of the loss catalogue: `LossInfo` entries, `get`, `catalogue`, `catalogue_frame`.

Family modules (``regression``, ``classification``, ``segmentation``, ``boxes``, ``restoration``) call
:func:`register` at import time; ``lossviz.losses`` imports them all, so the catalogue is complete as
soon as the package is imported.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras

if TYPE_CHECKING:  # pandas is only needed by catalogue_frame
    import pandas as pd

FAMILIES = ("regression", "classification", "segmentation", "detection", "restoration")
"""The task families of the catalogue, in display order."""

DATA_PROPERTIES = ("outliers", "imbalance", "small_objects", "structure", "logits")
"""Vocabulary of `LossInfo.good_for`: data or model properties an entry copes well with.

- ``outliers``: robust to a few very wrong targets (heavy-tailed noise);
- ``imbalance``: rare classes or a small foreground (most pixels background);
- ``small_objects``: small masks or boxes, where per-pixel averages drown the object;
- ``structure``: image restoration where local structure / texture matters more than per-pixel error;
- ``logits``: has a numerically stable ``from_logits=True`` option.
"""

_ALWAYS_OPTIONS = ("reduction", "name", "dtype")


@dataclass(frozen=True)
class LossInfo:
    """One catalogue entry.

    Example:
        >>> info = next(i for i in catalogue() if i.name == "giou")
        >>> info.family, info.keras_own
        ('detection', False)

    Args:
        name: the registry name passed to :func:`get`.
        aliases: other names :func:`get` accepts for it.
        family: one of :data:`FAMILIES`.
        formula: the per-sample formula as a LaTeX string (no surrounding ``$``).
        when: when to use it (plain sentences, used by the lessons and the use-case guide).
        caveats: what to watch out for (plain sentences).
        keras_own: True when the computation is Keras's own implementation.
        options: option name -> default, the keyword arguments :func:`get` passes through (not part of
            the entry's hash, so entries can be dict keys and set members).
        good_for: data properties from :data:`DATA_PROPERTIES` it copes well with.
        reference: where the loss comes from (paper or documentation).
        parts: for a loss that is a weighted sum of other entries, a function of its options (defaults
            filled in) returning ``((weight, spec), ...)``, each spec a name or ``(name, options)``, or
            None where those options make it something else; see :func:`parts`.
    """

    name: str
    aliases: tuple[str, ...]
    family: str
    formula: str
    when: str
    caveats: str
    keras_own: bool
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    good_for: tuple[str, ...] = ()
    reference: str = ""
    parts: Callable[[dict[str, Any]], tuple[tuple[float, Any], ...] | None] | None = field(
        default=None, hash=False, compare=False)


_ENTRIES: dict[str, tuple[LossInfo, Callable[..., keras.losses.Loss]]] = {}
_ALIASES: dict[str, str] = {}


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def options_of(factory: Callable[..., Any]) -> dict[str, Any]:
    """The keyword options (name -> default) of a loss class, leaving out reduction, name and dtype.

    Example:
        >>> options_of(keras.losses.Huber)
        {'delta': 1.0}

    Args:
        factory: a ``keras.losses.Loss`` subclass (or any callable with keyword defaults).

    Returns:
        A dict of option name to default value.
    """
    params = inspect.signature(factory).parameters.values()
    return {
        p.name: p.default
        for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in _ALWAYS_OPTIONS
        and p.default is not p.empty
    }


def register(info: LossInfo, factory: Callable[..., keras.losses.Loss]) -> None:
    """Add an entry to the catalogue.

    Args:
        info: the entry's description; its ``family`` must be one of :data:`FAMILIES`.
        factory: called with the user's options, returns a ``keras.losses.Loss``.

    Returns:
        None. Raises ``ValueError`` on a bad family or a name already taken.
    """
    if info.family not in FAMILIES:
        raise ValueError(
            f"Invalid value for `family` of {info.name!r}: expected one of {FAMILIES}; received {info.family!r}"
        )
    bad = [p for p in info.good_for if p not in DATA_PROPERTIES]
    if bad:
        raise ValueError(
            f"Invalid value for `good_for` of {info.name!r}: expected items of {DATA_PROPERTIES}; "
            f"received {bad}"
        )
    for key in (info.name, *info.aliases):
        if _key(key) in _ENTRIES or _key(key) in _ALIASES:
            raise ValueError(f"Invalid loss name {key!r}: it is already in the catalogue")
    _ENTRIES[_key(info.name)] = (info, factory)
    for alias in info.aliases:
        _ALIASES[_key(alias)] = _key(info.name)


def _ordered() -> list[tuple[LossInfo, Callable[..., keras.losses.Loss]]]:
    """Entries by family (in FAMILIES order), then in registration order."""
    return sorted(_ENTRIES.values(), key=lambda entry: FAMILIES.index(entry[0].family))


def names(with_aliases: bool = False) -> list[str]:
    """The registry names, in catalogue order.

    Args:
        with_aliases: also list the aliases (after the names).

    Returns:
        A list of strings accepted by :func:`get`.
    """
    out = [entry.name for entry, _ in _ordered()]
    return out + list(_ALIASES) if with_aliases else out


def info(name: str) -> LossInfo:
    """The catalogue entry for a name or alias (see :func:`get` for the accepted spellings).

    Args:
        name: a registry name or alias, e.g. ``"giou"`` or ``"l2"``.

    Returns:
        The :class:`LossInfo`.
    """
    key = _key(name) if isinstance(name, str) else None
    key = _ALIASES.get(key, key)
    if key not in _ENTRIES:
        raise ValueError(
            f"Invalid value for `name`: unknown loss {name!r}; expected one of: {', '.join(names())} "
            f"(aliases: {', '.join(f'{a} -> {t}' for a, t in _ALIASES.items())})"
        )
    return _ENTRIES[key][0]


def get(name: str, **options: Any) -> keras.losses.Loss:
    """A fresh ``keras.losses.Loss`` for a catalogue name, with options passed through.

    Names are case-insensitive and ``-`` equals ``_``. With ``reduction=None`` the loss returns
    per-sample values (Keras's own regression and cross-entropy losses average over the last axis only).

    Example:
        >>> model.compile(optimizer="adam", loss=get("binary_focal", gamma=2.0, from_logits=True))
        >>> get("l2")                       # alias of "mse": keras.losses.MeanSquaredError

    Args:
        name: a name from :func:`names` or an alias (``quadratic`` / ``l2`` -> ``mse``, ``l1`` -> ``mae``).
        **options: the entry's options (see ``info(name).options``) plus ``reduction``, ``name``, ``dtype``.

    Returns:
        A ``keras.losses.Loss`` instance usable in ``model.compile(loss=...)``.
    """
    entry = info(name)
    allowed = set(entry.options) | set(_ALWAYS_OPTIONS)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"Invalid option(s) {unknown} for loss {entry.name!r}: expected some of "
            f"{sorted(entry.options)} or {list(_ALWAYS_OPTIONS)}"
        )
    return _ENTRIES[_key(entry.name)][1](**options)


def parts(name: str, **options: Any) -> tuple[tuple[float, Any], ...] | None:
    """The weighted terms of a loss that is a sum of other catalogue entries, or None.

    Example:
        >>> parts("l1_ms_ssim")          # 0.84 x ms_ssim (same options) + 0.16 x mae
        >>> parts("mse")                 # None

    Args:
        name: a registry name or alias.
        **options: the loss's options (as for :func:`get`; the defaults fill the rest).

    Returns:
        ``((weight, spec), ...)`` with ``L = sum(weight * L_spec)`` per sample, each spec a name or
        ``(name, options)`` for :func:`get`; None for a loss that is not such a sum (with these options).
    """
    entry = info(name)
    if entry.parts is None:
        return None
    return entry.parts({**entry.options, **{k: v for k, v in options.items() if k not in _ALWAYS_OPTIONS}})


def catalogue(family: str | None = None) -> list[LossInfo]:
    """Every catalogue entry (optionally one family's), in catalogue order.

    Example:
        >>> [i.name for i in catalogue("detection")]
        ['iou', 'giou', 'diou', 'ciou']

    Args:
        family: one of :data:`FAMILIES`, or None for all.

    Returns:
        A list of :class:`LossInfo`.
    """
    if family is not None and family not in FAMILIES:
        raise ValueError(f"Invalid value for `family`: expected one of {FAMILIES} or None; received {family!r}")
    return [i for i, _ in _ordered() if family is None or i.family == family]


def catalogue_frame(family: str | None = None) -> pd.DataFrame:
    """The catalogue as a pandas DataFrame, one row per entry.

    Columns: name, aliases (comma-separated), family, formula, when, caveats, keras_own, options
    (``"k=v, ..."``), good_for (comma-separated), reference.

    Args:
        family: one of :data:`FAMILIES`, or None for all.

    Returns:
        A ``pandas.DataFrame``.
    """
    import pandas as pd

    rows = [
        {
            "name": i.name,
            "aliases": ", ".join(i.aliases),
            "family": i.family,
            "formula": i.formula,
            "when": i.when,
            "caveats": i.caveats,
            "keras_own": i.keras_own,
            "options": ", ".join(f"{k}={v!r}" for k, v in i.options.items()),
            "good_for": ", ".join(i.good_for),
            "reference": i.reference,
        }
        for i in catalogue(family)
    ]
    return pd.DataFrame(rows, columns=["name", "aliases", "family", "formula", "when", "caveats",
                                       "keras_own", "options", "good_for", "reference"])
