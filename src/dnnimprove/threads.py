"""How many threads BLAS may use, as a context manager: ``with dn.blas_threads(1): model.fit(...)``.

The matrix products of a small network are short: a second BLAS thread costs more in hand-off than it
saves, and while other processes load the cores it can make a wide network several times slower.
Limiting threads is the caller's choice (a script, the estimators, the studies and the CLI limit them to
one), made around the code it concerns and undone afterwards, so ``fit`` itself leaves BLAS as it is.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterator

from ._validation import Integer, validate_params

__all__ = ["blas_threads", "THREADS_CONSTRAINTS"]

THREADS_CONSTRAINTS = {"threads": Integer(low=1, none_ok=True)}
"""The legal value of :func:`blas_threads`' ``threads``."""

_CONTROLLER: tuple[int, Any] | None = None


def _controller() -> Any:
    """threadpoolctl's controller, kept until the next import (a new module may have loaded another BLAS).

    Finding the loaded libraries reads the process's memory map, a millisecond that a short fit should not
    pay at every call.
    """
    global _CONTROLLER
    from threadpoolctl import ThreadpoolController

    modules = len(sys.modules)
    if _CONTROLLER is None or _CONTROLLER[0] != modules:
        _CONTROLLER = (modules, ThreadpoolController())
    return _CONTROLLER[1]


@contextmanager
def blas_threads(threads: int | None) -> Iterator[None]:
    """Limit the BLAS libraries to ``threads`` threads inside the ``with`` block; restore them after.

    Parameters
    ----------
    threads : int >= 1 or None
        ``None`` leaves BLAS as it is configured (so callers can pass a user's optional setting through).
    """
    threads = validate_params(THREADS_CONSTRAINTS, threads=threads)["threads"]
    if threads is None:
        yield
        return
    with _controller().limit(limits=threads, user_api="blas"):
        yield
