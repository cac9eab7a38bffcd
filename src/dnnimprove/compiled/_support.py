"""Whether the compiled engine can run: numba importable (lazily), and the network and settings covered."""

from __future__ import annotations

import os
import warnings
from typing import Any

__all__ = ["unavailable_reason", "unsupported_reason", "numba_module", "INSTALL_HINT"]

INSTALL_HINT = 'pip install "dnnimprove[fast]" (numba)'
_NUMBA: list[Any] = []  # [module or None, reason]: filled at the first question


def numba_module() -> Any:
    """numba, imported at the first call (None when disabled, missing or broken: one warning when broken)."""
    if not _NUMBA:
        if os.environ.get("DNNIMPROVE_DISABLE_NUMBA", "").strip() not in ("", "0"):
            _NUMBA[:] = [None, "numba is disabled (DNNIMPROVE_DISABLE_NUMBA is set)"]
        else:
            try:
                import numba
            except ModuleNotFoundError:
                _NUMBA[:] = [None, f"numba is not installed ({INSTALL_HINT})"]
            except Exception as error:  # installed but broken (e.g. built for another NumPy)
                warnings.warn(f"numba failed to import ({type(error).__name__}: {error}); dnnimprove trains on NumPy",
                              RuntimeWarning, stacklevel=2)
                _NUMBA[:] = [None, f"numba failed to import ({type(error).__name__})"]
            else:
                _NUMBA[:] = [numba, None]
    return _NUMBA[0]


def unavailable_reason(imported_only: bool = False) -> str | None:
    """Why the compiled engine cannot run on this installation (one line), or None if it can.

    ``imported_only``: answer without importing numba when it has not been imported yet (disabled, or not
    installed; None otherwise), for a question that may not need it.
    """
    if imported_only and not _NUMBA:
        if os.environ.get("DNNIMPROVE_DISABLE_NUMBA", "").strip() not in ("", "0"):
            return "numba is disabled (DNNIMPROVE_DISABLE_NUMBA is set)"
        import importlib.util

        return None if importlib.util.find_spec("numba") is not None else f"numba is not installed ({INSTALL_HINT})"
    numba_module()
    return _NUMBA[1]


def mark_broken(error: BaseException) -> str:
    """Record that compiling failed (one warning, then NumPy for the rest of the process); returns the reason."""
    reason = f"numba failed to compile ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
    if _NUMBA and _NUMBA[1] is None:
        warnings.warn(f"{reason}; dnnimprove trains on NumPy", RuntimeWarning, stacklevel=3)
    _NUMBA[:] = [None, reason]
    return reason


def unsupported_reason(model: Any, settings: dict[str, Any]) -> str | None:
    """Why this model and these ``fit`` settings cannot run on the compiled engine (one line naming the layer
    or setting), or None if they can. Only the layer stack, loss, optimizer and random source are looked at."""
    from ..layers import Activation, BatchNorm, Dense, Dropout
    from ..losses import CategoricalCrossEntropy, ElementwiseLoss
    from ..optimizers import Optimizer

    augment = settings.get("augment")
    if augment is not None:
        from ..augmentation import Augmentation
        from ..random import GeneratorSource

        if not isinstance(augment, Augmentation) or not getattr(augment, "splits", True):
            return "augment is a plain function, which runs Python code on every mini-batch (an Augmentation, " \
                   "with draw() and apply(), is augmented an epoch ahead)"
        if type(model.random) is not GeneratorSource:
            return "augment draws an epoch ahead only from a numpy Generator (this model's source reseeds per pass)"
        if any(isinstance(layer, Dropout) for layer in model.layers):
            return "augment with dropout: their draws alternate on every mini-batch"
    optimizer = settings.get("optimizer")
    if optimizer is not None and type(optimizer).rule is Optimizer.rule:
        return f"the optimizer {type(optimizer).__name__} has no rule() formula"
    if not isinstance(model.loss, (ElementwiseLoss, CategoricalCrossEntropy)):
        return f"the loss {type(model.loss).__name__} is neither element-wise nor the softmax cross-entropy"
    for index, layer in enumerate(model.layers):
        if isinstance(layer, Activation):
            if type(layer).function is Activation.function or type(layer).derivative is Activation.derivative:
                return f"layers[{index}] ({type(layer).__name__}) has no function()/derivative() formulas"
        elif isinstance(layer, BatchNorm):
            if not getattr(layer, "unbiased", True):
                return (f"layers[{index}] (BatchNorm) averages the biased variance (running_var_estimate='biased'), "
                        "which has no compiled formula")
            batch = settings.get("batch_size")
            n_rows = settings.get("n_rows")
            if n_rows is not None and batch is not None and n_rows % batch == 1:
                return f"layers[{index}] (BatchNorm) would see a last mini-batch of 1 row"
        elif not isinstance(layer, (Dense, Dropout)):
            return f"layers[{index}] ({type(layer).__name__}) is not a Dense, Activation, Dropout or BatchNorm layer"
    return None
