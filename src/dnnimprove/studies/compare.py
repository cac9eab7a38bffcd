"""A comparison on any data: the variants are the cartesian product of the settings being varied.

``comparison_study(data, {"optimizer": ["gd", "adam"], "init": ["he", "xavier"]}, base=...)`` gives a
:class:`~dnnimprove.studies.recipe.Study` of ``kind="compare"`` with four variants, which the runner
trains over seeds (robust mode: mean and spread) and the report draws, as for the classic studies.
"""

from __future__ import annotations

import itertools
from typing import Any, Mapping, Sequence

from .._validation import check_choice
from .recipe import SETTINGS, Study, Variant

__all__ = ["comparison_study", "variant_name"]


def variant_name(values: Mapping[str, Any]) -> str:
    """``{"optimizer": "adam"}`` -> ``"adam"``; several settings -> ``"optimizer=adam, init=he"``."""
    if len(values) == 1:
        return str(next(iter(values.values())))
    return ", ".join(f"{key}={value}" for key, value in values.items())


def comparison_study(
    data: Any,
    vary: Mapping[str, Sequence[Any]],
    *,
    base: Mapping[str, Any] | None = None,
    hidden: Sequence[int] = (5, 2),
    epochs: int = 1000,
    loss: str = "binary_crossentropy",
    figures: Sequence[str] = ("cost",),
    title: str | None = None,
) -> Study:
    """A robust-mode study of every combination of the ``vary`` values on ``data`` (a DataSpec or TableSpec).

    ``vary`` maps a key of :data:`~dnnimprove.studies.recipe.SETTINGS` to the values compared (at
    least one key, each with at least one value, none repeated); ``base`` holds the settings shared by
    every variant.
    """
    if not vary:
        raise ValueError("vary must name at least one setting to compare, e.g. {'optimizer': ['gd', 'adam']}")
    for key, values in vary.items():
        check_choice("setting", key, SETTINGS)
        if not values:
            raise ValueError(f"vary[{key!r}] must hold at least one value; got {values!r}")
        if len({repr(value) for value in values}) != len(values):
            raise ValueError(f"vary[{key!r}] repeats a value: {list(values)!r}")
    base = dict(base or {})
    for key in base:
        if key in vary:
            raise ValueError(f"setting {key!r} is both varied and fixed; give it in one place")
    keys = list(vary)
    variants = tuple(
        Variant(variant_name(dict(zip(keys, values))), dict(zip(keys, values)))
        for values in itertools.product(*(vary[key] for key in keys))
    )
    described = " x ".join(f"{key} ({', '.join(map(str, vary[key]))})" for key in keys)
    name = getattr(data, "name", "data")
    return Study(
        name="compare",
        title=title or f"compare {described} on {name}",
        lesson=f"Which {' and '.join(keys)} work best on {name}: every combination trained over seeds, "
        "mean ± spread.",
        data=data,
        hidden=tuple(hidden),
        epochs=epochs,
        quick_epochs=epochs,
        variants=variants,
        base=base,
        loss=loss,
        figures=tuple(figures),
    )
