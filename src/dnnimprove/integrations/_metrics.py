"""What every tracker writes for an epoch: the History row under Keras's names, and the extras' import."""

from __future__ import annotations

import math
from importlib import import_module
from typing import Any

from ..training import TrainingRun

__all__ = ["epoch_metrics", "import_extra"]


def epoch_metrics(run: TrainingRun) -> dict[str, float]:
    """The metrics of the epoch just recorded (``History.logs()``) plus ``data_cost`` and ``penalty``;
    finite values only (a tracker cannot plot NaN)."""
    history = run.history
    metrics = dict(history.logs(-1))
    metrics["data_cost"] = history.data_cost[-1]
    metrics["penalty"] = history.penalty[-1]
    return {key: float(value) for key, value in metrics.items() if math.isfinite(value)}


def import_extra(module: str, feature: str) -> Any:
    """``import_module(module)``, or a ModuleNotFoundError (an ImportError) naming the pip extra that installs it."""
    try:
        return import_module(module)
    except ImportError:
        message = f'{feature} needs the {module.split(".")[0]} package: pip install "dnnimprove[tracking]"'
        raise ModuleNotFoundError(message, name=module) from None
