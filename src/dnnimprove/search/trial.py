"""One trial, where it runs (this process, a joblib worker or a Dask worker): train, report, score.

:func:`run_trial` trains a clone of the estimator with the trial's parameters on the train part and
scores it on the dev part. When the task asks for it (pruning), a callback reports the dev accuracy
(R^2 for a regressor) after every epoch and may stop the trial: the estimator must then be a
``DNNClassifier``/``DNNRegressor`` or a pipeline ending in one (its earlier steps are fitted on the train
part first). A task may train only up to ``epochs`` and return its checkpoint (the bytes of a
dnnimprove checkpoint file), and a later task may continue from those bytes: dnnimprove checkpoints
resume bit for bit, so a continued trial ends exactly where one trained in one go would.

Whatever a trial raises is caught and returned as a failed outcome with the error's type and message;
only the process dying loses a trial (the caller decides what then happens to it).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Task", "Outcome", "run_trial", "final_step"]


@dataclass
class Task:
    """What a worker needs for one trial (the data travel separately, once per worker)."""

    key: tuple[int, int]  # (round, index in the round)
    params: dict[str, Any]  # what set_params gets
    estimator: Any
    scoring: Any
    epochs: int | None = None  # train up to this many epochs (None: the estimator's own)
    report: bool = False  # report the dev score after every epoch
    stop_rule: Callable[[int, float], bool] | None = None  # (epoch, dev score) -> stop the trial now
    checkpoint: bool = False  # return the checkpoint of the last epoch
    resume: bytes | None = None  # continue from this checkpoint
    epochs_done: int = 0  # epochs the resumed checkpoint holds


@dataclass
class Outcome:
    """What a trial gives back."""

    key: tuple[int, int]
    state: str  # "complete", "pruned" (stopped by the rule) or "failed"
    dev_score: float
    train_score: float
    epochs: int  # epochs trained by this task (a continued task counts only the new ones)
    curve: list[float] = field(default_factory=list)  # dev score after each epoch (from the first)
    seconds: float = 0.0
    worker: str = "local"
    pid: int = 0
    error: str = ""
    checkpoint: bytes | None = None


def _where() -> str:
    if "distributed" not in sys.modules:  # no Dask worker runs in a process that never imported it
        return "local"
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def final_step(estimator: Any) -> Any:
    """The estimator that trains (the last step of a pipeline)."""
    return estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator


class _Reporter:
    """The per-epoch callback: dev score after every epoch, and the stop rule."""

    def __init__(self, estimator: Any, X_dev: np.ndarray, y_dev: np.ndarray, rule: Any, start: int) -> None:
        from sklearn.base import is_classifier

        from ..training import Callback

        self.estimator, self.X_dev, self.y_dev, self.rule = estimator, X_dev, np.asarray(y_dev), rule
        self.classifier = is_classifier(estimator)
        self.curve: list[float] = []
        self.stopped = False
        self.start = start
        self.callback = type("DevScoreReporter", (Callback,), {"on_epoch_end": lambda _, run: self.epoch_end(run)})()

    def score(self, model: Any) -> float:
        if self.classifier:
            predicted = self.estimator.classes_[model.predict(self.X_dev)]
            return float(np.mean(predicted == self.y_dev))
        predicted = model.forward(self.X_dev, training=False).reshape(self.y_dev.shape)
        residual = float(np.sum((self.y_dev - predicted) ** 2))
        total = float(np.sum((self.y_dev - np.mean(self.y_dev, axis=0)) ** 2))
        return 1.0 - residual / total if total > 0 else float("nan")

    def epoch_end(self, run: Any) -> None:
        value = self.score(run.model)
        self.curve.append(value)
        if self.rule is not None and run.epoch + 1 < run.epochs and self.rule(run.epoch, value):
            self.stopped = True
            run.stop = True


def run_trial(task: Task, data: tuple) -> Outcome:
    """Train one clone of ``task.estimator`` with ``task.params`` and score it on the dev set."""
    from sklearn.base import clone
    from sklearn.metrics import check_scoring

    from ..training import TrainingDiverged

    X_train, y_train, X_dev, y_dev = data
    started = time.perf_counter()
    model = clone(task.estimator).set_params(**task.params)
    final = final_step(model)
    if task.epochs is not None:
        final.set_params(epochs=task.epochs)
    outcome = Outcome(task.key, "complete", float("nan"), float("nan"), 0, worker=_where(), pid=os.getpid())
    reporter = None
    keeps_files = task.checkpoint or task.resume is not None  # a folder for the checkpoint, only then
    with tempfile.TemporaryDirectory(prefix="dnnimprove-trial-") if keeps_files else contextlib.nullcontext("") as folder:
        try:
            scorer = check_scoring(model, scoring=task.scoring)
            if task.report or keeps_files:
                head = model[:-1] if hasattr(model, "steps") else None
                X_fit, X_check = X_train, X_dev
                if head is not None and len(head):
                    X_fit = head.fit_transform(X_train, y_train)
                    X_check = head.transform(X_dev)
                callbacks = list(final.get_params().get("callbacks") or [])
                if task.report:
                    reporter = _Reporter(final, X_check, y_dev, task.stop_rule, task.epochs_done)
                    callbacks.append(reporter.callback)
                path = os.path.join(folder, "trial.npz")
                if task.resume is not None:
                    with open(path, "wb") as handle:
                        handle.write(task.resume)
                if keeps_files:
                    from ..checkpoint import Checkpoint

                    # last, so that the other callbacks see the restored run
                    callbacks.append(Checkpoint(path, every=final.get_params()["epochs"], resume=task.resume is not None))
                final.set_params(callbacks=callbacks)
                final.fit(X_fit, y_train)
                if task.checkpoint:
                    with open(path, "rb") as handle:
                        outcome.checkpoint = handle.read()
                outcome.epochs = int(final.n_iter_) - task.epochs_done
            else:
                model.fit(X_train, y_train)
                outcome.epochs = int(getattr(final, "n_iter_", final.get_params().get("epochs", 0)))
            outcome.dev_score = float(scorer(model, X_dev, y_dev))
            outcome.train_score = float(scorer(model, X_train, y_train))
            if reporter is not None and reporter.stopped:
                outcome.state = "pruned"
        except TrainingDiverged as diverged:
            outcome.state, outcome.error = "failed", str(diverged)
            outcome.epochs = int(diverged.epoch) + 1 - task.epochs_done if hasattr(diverged, "epoch") else 0
        except Exception as error:  # noqa: BLE001 - a trial that raises is recorded, the search goes on
            outcome.state, outcome.error = "failed", f"{type(error).__name__}: {error}"
    if reporter is not None:
        outcome.curve = reporter.curve
    outcome.seconds = time.perf_counter() - started
    return outcome
