"""Memory estimates checked before large allocations, so an oversized network is refused, not crashed.

``Sequential.build`` asks :func:`check_memory` before it allocates its flat buffers; ``fit`` asks
before training with the mini-batch's activations and the optimizer's state added
(:func:`fit_bytes`). When the estimate exceeds what this machine allows (:func:`memory_limit`: the
smallest of physical memory, the cgroup limit and the address-space limit), the request is refused
with :class:`InsufficientMemoryError` (a ``ValueError`` and a ``MemoryError``) that gives the estimate
and the limit::

    the network (2 -> 100000 -> 100000 -> 1) needs about 320.0 GB (10000400001 float64 parameters:
    parameters, gradients and two workspaces); this machine allows 25.3 GB
"""

from __future__ import annotations

import os
from typing import Any

__all__ = [
    "InsufficientMemoryError", "memory_limit", "check_memory", "format_bytes", "network_bytes", "fit_bytes",
    "check_fit_memory",
]


class InsufficientMemoryError(ValueError, MemoryError):
    """An allocation refused before it is tried: the estimate exceeds this machine's memory limit."""


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KB"`` (powers of 1024, one decimal)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"  # pragma: no cover


def _read_int(path: str) -> int | None:
    try:
        with open(path) as stream:
            text = stream.read(64).strip()
        return int(text)
    except (OSError, ValueError):
        return None


def memory_limit() -> int | None:
    """Bytes this process may use at most: physical memory, cgroup (v2 or v1) and ``RLIMIT_AS`` limits.

    ``None`` when none of them can be read (then nothing is refused).
    """
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        value = _read_int(path)
        if value is not None and 0 < value < 1 << 60:
            limits.append(value)
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft not in (resource.RLIM_INFINITY, -1) and soft > 0:
            limits.append(soft)
    except (ImportError, OSError, ValueError):
        pass
    return min(limits) if limits else None


def check_memory(what: str, needed: int, detail: str = "") -> None:
    """Refuse ``needed`` bytes for ``what`` when they exceed :func:`memory_limit`."""
    limit = memory_limit()
    if limit is not None and needed > limit:
        detail = f" ({detail})" if detail else ""
        raise InsufficientMemoryError(
            f"{what} needs about {format_bytes(needed)}{detail}; this machine allows {format_bytes(limit)}"
        )


def network_bytes(n_params: int, itemsize: int) -> int:
    """What ``Sequential.build`` allocates: parameters, gradients, the L2 weight mask and a workspace."""
    return 4 * int(n_params) * int(itemsize)


def fit_bytes(n_params: int, widths: list[int], batch_size: int, itemsize: int, optimizer_arrays: int = 2) -> int:
    """Training's extra memory: the optimizer's parameter-sized arrays and a mini-batch's activations.

    Each layer of output width ``w`` keeps about three ``(batch_size, w)`` arrays (its output, its
    cache for backward and the gradient passed back).
    """
    activations = 3 * int(batch_size) * sum(int(w) for w in widths) * int(itemsize)
    return int(optimizer_arrays) * int(n_params) * int(itemsize) + activations


def check_fit_memory(model: Any, n_rows: int, batch_size: int | None) -> None:
    """Refuse a ``fit`` whose optimizer state and mini-batch activations (:func:`fit_bytes`) added to the
    built network (:func:`network_bytes`) exceed this machine's limit; ``batch_size=None`` is all rows."""
    widths = [info.shape[-1] for info in model.table if info.role == "weight"]
    batch = int(n_rows) if batch_size is None else min(int(batch_size), int(n_rows))
    itemsize = model.dtype.itemsize
    needed = network_bytes(model.params.size, itemsize) + fit_bytes(model.params.size, widths, batch, itemsize)
    check_memory(f"training on mini-batches of {batch} rows", needed,
                 f"the network, the optimizer's state and {batch} x {sum(widths)} activations")
