"""Optional numba: compiled kernels when it is installed (``pip install "dnnimprove[fast]"``), NumPy otherwise.

Every kernel is compiled with ``error_model="numpy"`` (a division by zero gives inf/nan as NumPy does,
instead of raising, which would also stop LLVM from vectorizing the loop) and without ``fastmath``
(no reassociation, no fused multiply-add), so an element-wise kernel rounds exactly as the NumPy
expression it replaces. ``cache=True`` keeps the machine code on disk between processes.

Setting the environment variable ``DNNIMPROVE_DISABLE_NUMBA=1`` before import turns every kernel off
(the NumPy code runs), e.g. to compare the two.
"""

from __future__ import annotations

import os
from typing import Any, Callable

DISABLED = os.environ.get("DNNIMPROVE_DISABLE_NUMBA", "").strip() not in ("", "0")

numba: Any = None
if not DISABLED:  # importing numba takes about 0.1 s: not when it is switched off
    try:  # pragma: no cover - which branch runs depends on the installation
        import numba
    except Exception:  # pragma: no cover - not installed, or installed for another NumPy: run on NumPy
        numba = None
AVAILABLE: bool = numba is not None and not DISABLED
"""Whether compiled kernels are used (numba importable and not disabled)."""

INSTALL_HINT = 'pip install "dnnimprove[fast]" (numba)'


def njit(function: Callable[..., Any]) -> Callable[..., Any] | None:
    """``function`` compiled by numba (lazily, at its first call), or ``None`` when kernels are off."""
    if not AVAILABLE:
        return None
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)
