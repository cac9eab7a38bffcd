"""Experiment tracking callbacks: a CSV log, TensorBoard and MLflow.

Pass them to ``fit(..., callbacks=[...])`` (or an estimator's ``callbacks=``). Each writes, at every
recorded epoch, the metrics :class:`~dnnimprove.History` holds under Keras's names (``loss``, ``val_loss``,
``accuracy``, ``val_accuracy``, ``lr``, and ``data_cost``, ``penalty``), so what a tracker shows for an
epoch is what ``History`` holds for it.

===================  ================================================================  =====================
callback             writes                                                            extra
===================  ================================================================  =====================
``CSVLogger(path)``  one row per epoch: ``epoch`` and the metrics                      none
``TensorBoard(dir)`` scalars per epoch, per-layer weight and gradient histograms, the  ``dnnimprove[tracking]``
                     training-health statistics (:class:`~dnnimprove.TrainingHealth`)
``MLflowLogger()``   the run's parameters, the metrics by epoch (``step = epoch``),    ``dnnimprove[tracking]``
                     the trained model file (``model.npz``) as an artifact
===================  ================================================================  =====================

The tracking libraries are imported when a callback is created, never by ``import dnnimprove``; a missing
one is an ``ImportError`` naming the extra to install.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CSVLogger", "TensorBoard", "MLflowLogger"]

_WHERE = {"CSVLogger": ".csv_logger", "TensorBoard": ".tensorboard", "MLflowLogger": ".mlflow_logger"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
