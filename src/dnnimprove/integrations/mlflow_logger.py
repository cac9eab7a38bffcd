"""MLflowLogger: a run's parameters, its metrics by epoch and the trained model file, in MLflow.

Uses :class:`mlflow.tracking.MlflowClient` on an explicit tracking URI (``pip install
"dnnimprove[tracking]"``), not MLflow's global active run, so parallel fits never log into each other's run.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from typing import Any

from ..training import Callback, TrainingRun
from ._metrics import epoch_metrics, import_extra

__all__ = ["MLflowLogger"]


class MLflowLogger(Callback):
    """Log a training run to MLflow.

    At ``on_train_begin`` it creates a run in ``experiment`` (created if missing) and logs the parameters:
    the optimizer's settings (``optimizer``, ``optimizer.lr``, ...), ``l2``, ``epochs``, ``loss``,
    ``dtype``, ``layers`` (the architecture as JSON), ``n_params``, ``n_features`` and the ``params`` given
    here (e.g. an estimator's ``get_params()``). At every recorded epoch it logs the History metrics under
    Keras's names with ``step = epoch``. At the end it saves the model with :func:`dnnimprove.save` and
    logs the file as the artifact ``model/model.npz`` (``log_model=False`` skips that), then ends the run.

    Parameters
    ----------
    experiment : str
        Experiment name (default ``"dnnimprove"``).
    run_name : str or None
    tracking_uri : str or None
        Where MLflow stores runs, e.g. ``"file:///tmp/mlruns"`` or a server URL; ``None``: MLflow's default
        (``MLFLOW_TRACKING_URI`` or ``./mlruns``).
    params : dict or None
        Extra parameters to log (values are written as strings, as MLflow stores them).
    log_model : bool

    Attributes
    ----------
    run_id : str or None
        The MLflow run of the last ``fit``.
    """

    def __init__(
        self,
        experiment: str = "dnnimprove",
        run_name: str | None = None,
        tracking_uri: str | None = None,
        params: dict | None = None,
        log_model: bool = True,
    ) -> None:
        if not isinstance(experiment, str) or not experiment:
            raise ValueError(f"experiment must be a non-empty string; got {experiment!r}")
        if params is not None and not isinstance(params, dict):
            raise TypeError(f"params must be a dict or None; got {type(params).__name__}")
        if not isinstance(log_model, bool):
            raise TypeError(f"log_model must be True or False; got {log_model!r}")
        self.experiment, self.run_name, self.tracking_uri = experiment, run_name, tracking_uri
        self.params = dict(params or {})
        self.log_model = log_model
        self._tracking = import_extra("mlflow.tracking", "MLflow logging")
        self._entities = import_extra("mlflow.entities", "MLflow logging")
        self._client: Any = None
        self.run_id: str | None = None

    def on_train_begin(self, run: TrainingRun) -> None:
        self._client = self._tracking.MlflowClient(tracking_uri=self.tracking_uri)
        experiment = self._client.get_experiment_by_name(self.experiment)
        experiment_id = experiment.experiment_id if experiment is not None else self._client.create_experiment(self.experiment)
        self.run_id = self._client.create_run(experiment_id, run_name=self.run_name).info.run_id
        params = {**self._run_params(run), **self.params}
        Param = self._entities.Param
        items = [Param(str(key), str(value)[:6000]) for key, value in params.items()]
        for start in range(0, len(items), 100):  # MLflow takes at most 100 parameters per batch
            self._client.log_batch(self.run_id, params=items[start:start + 100])

    @staticmethod
    def _run_params(run: TrainingRun) -> dict[str, Any]:
        model, optimizer = run.model, run.optimizer
        params: dict[str, Any] = {"optimizer": type(optimizer).__name__}
        config = optimizer.config() if hasattr(optimizer, "config") else {}
        params.update({f"optimizer.{key}": value for key, value in config.items() if key != "name"})
        params.update(l2=run.l2, epochs=run.epochs, loss=model.loss.name, dtype=str(model.dtype),
                      layers=json.dumps(model.config()["layers"]), n_params=int(model.params.size),
                      n_features=model.n_features_in_)
        return params

    def on_epoch_end(self, run: TrainingRun) -> None:
        if not run.recorded or self.run_id is None:
            return
        now = int(time.time() * 1000)
        Metric = self._entities.Metric
        metrics = [Metric(key, value, now, run.epoch) for key, value in epoch_metrics(run).items()]
        self._client.log_batch(self.run_id, metrics=metrics)

    def on_train_end(self, run: TrainingRun) -> None:
        if self.run_id is None:
            return
        if self.log_model:
            from ..persistence import save

            with tempfile.TemporaryDirectory() as directory:
                path = save(run.model, os.path.join(directory, "model.npz"))
                self._client.log_artifact(self.run_id, path, artifact_path="model")
        self._client.set_terminated(self.run_id, "FINISHED")

    def on_interrupt(self, run: TrainingRun) -> None:
        if self.run_id is not None:
            self._client.set_terminated(self.run_id, "KILLED")

    def __repr__(self) -> str:
        return f"MLflowLogger(experiment={self.experiment!r}, tracking_uri={self.tracking_uri!r})"
