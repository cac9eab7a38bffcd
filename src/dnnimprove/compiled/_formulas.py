"""The blocks' formulas made callable from numba code, unchanged (``numba.extending.register_jitable``).

A formula may call other plain functions of dnnimprove (``ewma_step``, ``where``, Adam's update from AdamW's):
those are registered too, found through the formula's global names. :func:`dnnimprove._elementwise.where`
gets a version for numbers (``x if condition else y``), the only function a formula calls that numba
would otherwise run as an array function.
"""

from __future__ import annotations

import types
from typing import Any, Callable

from .. import _elementwise
from ._support import numba_module

__all__ = ["jitable"]

_REGISTERED: set[int] = set()


def _install_where() -> None:
    numba = numba_module()
    from numba.extending import overload

    @overload(_elementwise.where)
    def _where(condition, x, y):  # no annotations: numba compares this signature with the implementation's
        if isinstance(condition, numba.types.Boolean):
            return lambda condition, x, y: x if condition else y
        return lambda condition, x, y: __import__("numpy").where(condition, x, y)  # pragma: no cover - arrays

    _REGISTERED.add(id(_elementwise.where))


def jitable(function: Callable[..., Any], **options: Any) -> Callable[..., Any]:
    """Register ``function`` (and the plain dnnimprove functions it calls) with numba; return it unchanged.
    ``options``: numba's compile options for ``function`` itself (the functions it calls get none)."""
    if not _REGISTERED:
        _install_where()
    function = getattr(function, "__func__", function)
    if id(function) in _REGISTERED:
        return function
    from numba.extending import register_jitable

    _REGISTERED.add(id(function))
    for name in function.__code__.co_names:
        value = function.__globals__.get(name)
        if isinstance(value, types.FunctionType) and (value.__module__ or "").startswith("dnnimprove"):
            jitable(value)
    if options:
        register_jitable(**options)(function)
    else:
        register_jitable(function)
    return function
