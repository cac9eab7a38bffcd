"""The course's basic recipe, automated: measure the two gaps, fix high bias first, then high variance.

:func:`recipe` splits the data into train/dev/test, trains a baseline (one hidden layer as wide as the input,
at least 16 units, with the course's defaults for a ReLU network: He initialization, Adam, mini-batches of
64) and measures

- **avoidable bias** = training error - the baseline (Bayes) error, given as ``human_error`` or
  estimated as half the cross-validated error of a 1-nearest-neighbour rule on the training rows
  (Cover and Hart: the 1-NN error is at most twice the Bayes error as the data grows, so half of it is a
  lower estimate);
- **variance** = dev error - training error.

While a gap exceeds ``tolerance`` it tries the next remedy in the course's order, one knob at a time
(:mod:`dnnimprove.recipe_remedies`):

- for bias (first, as long as it is the larger worry): a wider network, a deeper one, training longer,
  Adam (learning rate searched on a log scale), He initialization, batch normalization;
- for variance: L2 regularization (``lambd`` searched on a log scale), inverted dropout, early stopping
  on the dev set, and input augmentation (Gaussian noise on standardized numeric inputs) where every
  input is numeric, then another architecture.

With a time budget (``max_minutes``), once neither gap is worth closing or those remedies are used up, the
rest of the budget tunes the same remedies as knobs, one at a time, coarse to fine, the knobs for the larger
gap first: learning rate and L2 on a log scale, width, depth, Adam, mini-batch size, learning-rate decay,
batch norm, dropout's ``keep_prob``, training longer with early stopping. It ends when a round at the finest
step keeps nothing, or at the budget.

**Measuring a configuration** (:mod:`dnnimprove.recipe_validation`). Without ``folds`` every configuration
is trained with ``n_seeds`` seeds on the training rows and judged on the dev set. With ``folds`` (the default
with a time budget on a table of at most :data:`CV_MAX_ROWS` training and dev rows) it is judged by k-fold
cross-validation over the training and dev rows together: the dev error is the held-out error of
``folds`` runs, each trained on the other folds, so every decision rests on all those rows rather than on
the few that a dev set of a small table holds. The bias/variance verdicts use the same numbers (training
error: the mean over the runs of their training error).

**Keeping a change.** A configuration's per-example dev losses (0/1 error and cross-entropy, or squared
error) are averaged over its runs. A step's best candidate (lowest mean dev error, then dev cost) is kept
only when it beats the current one by more than one standard error of the paired per-example differences
(:func:`improves`): a smaller difference is noise a dev set of that size cannot resolve. One exception, the one-standard-error rule for L2: a stronger ``lambd`` whose dev
error is within one standard error of the best configuration trained so far is kept (when the dev set
cannot tell them apart, the more regularized network is preferred).

It stops when the gaps are closed (without a budget), when the remedies run out, or at the budget
(``max_steps`` remedies, ``max_minutes``). With ``refit`` (the default) the chosen configuration is then
trained once more on the training and dev rows together (more data, the course's first cure for variance;
a configuration with early stopping runs for the median of the epochs early stopping chose in its runs).
With ``average`` (3 by default with a time budget) it is trained so with that many seeds, and the final
model outputs the mean of their logits: one network holding them side by side
(:mod:`dnnimprove.averaging`), which removes much of the noise a single run's initialization and shuffling
leave in its predictions. The test set is used once, by the final model. Errors: ``1 - accuracy`` for classification; for regression the
mean squared error of the standardized target (about ``1 - R^2``), which the model file undoes for its
predictions.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ._validation import Boolean, Integer, Real, check_int, validate_params
from .recipe_remedies import BIAS_REMEDIES, TUNING_KNOBS, VARIANCE_REMEDIES
from .recipe_validation import Fit, cross_validation, holdout, validation_rows
from .studies.recipe import Data
from .studies.runner import SeedRun, train_once

__all__ = ["RecipeStep", "RecipeResult", "recipe", "BIAS_REMEDIES", "VARIANCE_REMEDIES", "TUNING_KNOBS", "BASELINE",
           "RECIPE_CONSTRAINTS"]

RECIPE_CONSTRAINTS = {
    "dev": Real(low=0.0, high=1.0, low_open=True, high_open=True),
    "human_error": Real(low=0.0, high=1.0, high_open=True, none_ok=True),
    "tolerance": Real(low=0.0),
    "epochs": Integer(low=1),
    "max_steps": Integer(low=1, none_ok=True),
    "max_minutes": Real(low=0.0, low_open=True, none_ok=True),
    "n_seeds": Integer(low=1, none_ok=True),
    "average": Integer(low=1),
    "refit": Boolean(),
}
"""The legal values of :func:`recipe`'s settings, checked before the data is read (``average="auto"`` is resolved
first). ``folds`` is checked against the number of rows once the data is read; the data's own arguments (``task``,
``impute``, ``test``) where it is read."""

BASELINE: dict[str, Any] = {
    "hidden": (16,), "epochs": 100, "batch_size": 64, "optimizer": "adam", "lr": 0.001, "init": "he",
    "activation": "relu",
}
"""The first network: one hidden layer (16 units, or as many as the inputs when there are more; see
:func:`baseline_config`), with the course's defaults for a ReLU network (He initialization, Adam with its
usual learning rate 0.001, mini-batches of 64)."""

def baseline_config(data: Data, epochs: int) -> dict[str, Any]:
    """:data:`BASELINE` with ``epochs``, its hidden layer as wide as the input (at least its 16 units)."""
    return {**BASELINE, "epochs": epochs, "hidden": (max(BASELINE["hidden"][0], data.n_features),)}


CV_MAX_ROWS = 20000
"""``folds="auto"`` cross-validates (with a time budget) when the training and dev rows are at most this many."""

_MAX_TRIES = 2
"""A remedy is tried at most this often; a second time only after some other change was kept."""
_FINEST = 1.1
"""The tuning phase stops when its factor would fall below this (a round at factor ``f`` kept nothing)."""


@dataclass
class RecipeStep:
    """One step of the walk: a remedy tried (its best candidate), its errors and what it decided."""

    index: int
    remedy: str
    kind: str
    config: dict[str, Any]
    train_error: float
    dev_error: float
    kept: bool
    dev_cost: float = math.nan
    """The dev set's cost (log-loss, or the MSE): the tie-breaker between equal dev errors."""
    verdict: str = ""
    reason: str = ""
    seconds: float = 0.0
    candidates: list[dict[str, Any]] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    cost_epochs: list[int] = field(default_factory=list)
    losses: np.ndarray | None = field(default=None, repr=False)
    """Per validation row ``(error, cost)``, averaged over the runs that held it out (see :func:`dev_losses`)."""
    epochs_run: list[int] = field(default_factory=list)
    """The epochs each of its runs trained for (early stopping's choice when it is on)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "remedy": self.remedy, "kind": self.kind, "config": _json_config(self.config),
            "train_error": self.train_error, "dev_error": self.dev_error,
            "dev_cost": self.dev_cost if math.isfinite(self.dev_cost) else None, "kept": self.kept,
            "verdict": self.verdict, "reason": self.reason, "seconds": self.seconds, "candidates": self.candidates,
        }


@dataclass
class RecipeResult:
    """What :func:`recipe` did: every step, the final configuration and model, and its test score."""

    task: str
    bayes_error: float
    bayes_source: str
    tolerance: float
    steps: list[RecipeStep]
    config: dict[str, Any]
    model: Any
    test_error: float | None
    test_score: float | None
    score_name: str
    stopped: str
    seconds: float
    data: Data = field(repr=False, default=None)
    model_path: str | None = None
    refit: str = ""
    """How the final model was trained again on train + dev rows (empty: it is the best step's model)."""
    validation: str = "the dev set"
    """How every step's dev error was measured (the dev set, or cross-validation over train + dev)."""
    networks: list = field(default_factory=list, repr=False)
    """The networks trained again on train + dev (``average`` of them; ``model`` averages their logits when
    there are several); empty without ``refit``."""

    @property
    def best(self) -> RecipeStep:
        kept = [step for step in self.steps if step.kept]
        return kept[-1]

    def table(self) -> str:
        """The steps as aligned text, then the final verdict."""
        header = ["step", "remedy", "train err", "dev err", "kept", "verdict -> next"]
        rows = [[str(step.index), step.remedy, f"{step.train_error:.4f}", f"{step.dev_error:.4f}",
                 "yes" if step.kept else "no", f"{step.verdict} -> {step.reason}"] for step in self.steps]
        widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header) - 1)]
        lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(line[:-1], widths)), line[-1]])
                 for line in [header, *rows]]
        lines.insert(1, "  ".join("-" * width for width in widths) + "  " + "-" * 14)
        lines.append(f"dev error measured by {self.validation}")
        lines.append(f"baseline error {self.bayes_error:.4f} ({self.bayes_source}); tolerance {self.tolerance:g}")
        lines.append(f"stopped: {self.stopped}")
        if self.refit:
            lines.append(f"refit: {self.refit}")
        if self.test_score is not None:
            lines.append(f"final: {_describe(self.config)}; test {self.score_name} {self.test_score:.4f} "
                         f"(test error {self.test_error:.4f}); {self.seconds:.1f} s")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task, "bayes_error": self.bayes_error, "bayes_source": self.bayes_source,
            "tolerance": self.tolerance, "steps": [step.to_json() for step in self.steps],
            "final_config": _json_config(self.config), "test_error": self.test_error, "test_score": self.test_score,
            "score_name": self.score_name, "stopped": self.stopped, "seconds": self.seconds, "refit": self.refit,
            "validation": self.validation,
            "model": self.model_path,
        }


def _json_config(config: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in config.items()}


def _describe(config: dict) -> str:
    parts = [f"hidden {','.join(map(str, config['hidden']))}", f"{config['optimizer']} lr {config['lr']:g}",
             f"{config['epochs']} epochs", f"{config['init']} init", f"batch {config['batch_size']}"]
    for key, text in (("batch_norm", "batch norm"), ("l2", "l2 {}"), ("keep_prob", "keep_prob {}"),
                      ("early_stopping", "early stopping {}"), ("noise", "input noise {}"), ("schedule", "{} decay")):
        if config.get(key):
            parts.append(text.format(config[key]))
    return ", ".join(parts)


# -- running ------------------------------------------------------------------------------------------------
def _loss(data: Data) -> str:
    if data.task == "regression":
        return "mse"
    return "binary_crossentropy" if data.n_classes <= 2 else "categorical_crossentropy"


def _train(config: dict, data: Data, seed: int) -> SeedRun:
    from .augmentation import GaussianNoise

    settings = {key: value for key, value in config.items() if key not in ("hidden", "epochs", "noise")}
    settings["batch_size"] = min(settings["batch_size"], len(data.X_train)) if settings["batch_size"] else None
    options = {"augment": GaussianNoise(config["noise"])} if config.get("noise") else None
    return train_once(config["hidden"], _loss(data), data, settings, config["epochs"], seed,
                      record_every=max(1, config["epochs"] // 100), fit_options=options)


def _errors(run: SeedRun, data: Data) -> tuple[float, float, float]:
    """``(train error, dev error, dev cost)``; a diverged run's are all infinite."""
    if run.diverged is not None:
        return math.inf, math.inf, math.inf
    dev = run.model.evaluate(data.X_dev, data.y_dev)
    if data.task == "regression":
        return float(run.model.evaluate(data.X_train, data.y_train)["cost"]), float(dev["cost"]), float(dev["cost"])
    return 1.0 - run.train_accuracy, 1.0 - run.dev_accuracy, float(dev["cost"])


def dev_losses(model: Any, data: Data) -> np.ndarray:
    """Per dev example ``(error, cost)``, shape ``(m_dev, 2)``: 0/1 error and cross-entropy for a classifier, the
    squared error (twice) for regression. Their means are the dev error and (without L2) the dev cost."""
    logits = np.asarray(model.decision_function(data.X_dev), dtype=np.float64)
    y = np.asarray(data.y_dev)
    if data.task == "regression":
        squared = (logits[:, 0] - y) ** 2
        return np.column_stack([squared, squared])
    if logits.shape[1] == 1:  # sigmoid: -log p(y) = log(1 + e^z) - y z
        z = logits[:, 0]
        return np.column_stack([((z > 0) != (y == 1)).astype(float), np.logaddexp(0.0, z) - y * z])
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    return np.column_stack([(logits.argmax(axis=1) != y).astype(float), -log_p[rows, y]])


def improves(new: np.ndarray, current: np.ndarray) -> bool:
    """Whether per-example dev losses ``new`` beat ``current`` by more than the dev set can tell from noise.

    ``new`` and ``current`` have shape ``(m_dev, 2)`` (error, cost) or ``(m_dev, 1)`` (error alone).
    With ``d = new - current`` per example (paired: the same dev rows) and its standard error
    ``se = std(d) / sqrt(m_dev)``, a change improves when the error falls by more than one standard error, or
    when the error does not rise and the cost falls by more than one standard error. (One example changed
    is exactly one standard error, whatever ``m_dev``: one example is never evidence.) A dev set must be big
    enough to detect the difference between two ideas; a smaller difference is not evidence.
    """
    difference = new - current
    mean = difference.mean(axis=0)
    if not np.all(np.isfinite(mean)):
        return bool(np.isfinite(new).all())
    se = difference.std(axis=0, ddof=1) / math.sqrt(len(difference)) if len(difference) > 1 else 0.0 * mean
    beyond = -mean > se * (1 + 1e-9)  # one example changed is exactly one standard error: not beyond it
    if len(mean) == 1:
        return bool(beyond[0])
    return bool(beyond[0] or (mean[0] <= 0 and beyond[1]))


def _size(config: dict, data: Data) -> float:
    """How much work training ``config`` is: epochs x rows x weights (the time per unit is measured)."""
    widths = [data.n_features, *config["hidden"], max(1, data.n_classes) if data.task != "regression" else 1]
    weights = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(widths, widths[1:]))
    return float(config["epochs"]) * len(data.X_train) * weights


def estimate_bayes_error(data: Data) -> float:
    """Half the 5-fold cross-validated error of 1-nearest-neighbour on the training rows."""
    from sklearn.model_selection import cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    X, y = data.X_train, data.y_train
    folds = min(5, len(y)) if data.task == "regression" else max(2, min(5, int(np.bincount(y).min())))
    if data.task == "regression":
        predicted = cross_val_predict(KNeighborsRegressor(1), X, y, cv=folds)
        return float(np.mean((predicted - y) ** 2) / 2)
    predicted = cross_val_predict(KNeighborsClassifier(1), X, y, cv=folds)
    return float(np.mean(predicted != y) / 2)


class _Walk:
    """The state of one recipe: the best configuration so far, its errors, the remedies left.

    Phase one walks :data:`BIAS_REMEDIES` and :data:`VARIANCE_REMEDIES` while a gap is worth closing.
    Phase two (only with a time budget, while it lasts) tunes :data:`TUNING_KNOBS` one at a time, coarse to
    fine, the knobs for the larger gap first. A configuration already trained is not trained again, and a
    candidate whose predicted time (from the time per unit of :func:`_size` measured so far) would overrun the
    budget, keeping time for the final refit, is not started.
    """

    def __init__(self, data: Data, seed: int, bayes: float, tolerance: float, deadline: float | None,
                 max_steps: int | None, bar: Any, n_seeds: int = 1, folds: int | None = None,
                 average: int = 1) -> None:
        self.data, self.seed, self.bayes, self.tolerance = data, seed, bayes, tolerance
        self.deadline, self.max_steps, self.bar, self.n_seeds = deadline, max_steps, bar, n_seeds
        self.folds = folds
        """``None``: measure on the dev set (``n_seeds`` seeds); ``k``: ``n_seeds`` repeats of k-fold
        cross-validation over the training and dev rows (see :mod:`dnnimprove.recipe_validation`)."""
        self._fits: tuple[int, list[Fit]] | None = None
        self.average = average
        """How many networks the final refit trains (the budget keeps time for all of them)."""
        self.steps: list[RecipeStep] = []
        self.tried: dict[str, int] = {}
        self.best_run: SeedRun | None = None
        self.seen: dict[str, tuple[float, float, float]] = {}
        self.best_key: tuple[float, float] = (math.inf, math.inf)
        self.best_losses: np.ndarray | None = None
        """The per-example dev losses of the best configuration trained so far (by mean dev error, then cost)."""
        self.rates: dict[tuple, list[float]] = {}
        """Seconds per unit of :func:`_size` (with the epochs each run really ran), as measured, per
        :func:`_speed_class` (batch norm, dropout and input noise change the speed of an epoch)."""
        self.factor = 3.0
        """The tuning phase's step on a log scale (see :mod:`dnnimprove.recipe_remedies`)."""
        self.round: list[str] = []
        """The tuning knobs left in the current round."""
        self.rounds = 0
        self.kept_in_round = False
        self.skipped_in_round = False
        """Whether a candidate of this round was left out because it would overrun the budget."""
        self.ran_in_round = False
        self.remeasure = False

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def fits(self, config: dict) -> bool:
        """Whether training ``config`` (and then refitting the best on train + dev) is predicted to end in time."""
        if self.deadline is None:
            return True
        if not self.rates:
            return not self.out_of_time()
        best = self.current.config if self.current is not None else config
        needed = self.rate(config) * self.work(config) + self.rate(best) * self.refit_size(best)
        return time.perf_counter() + needed <= self.deadline

    @property
    def fits_now(self) -> list[Fit]:
        """The training runs that measure a configuration (built once per number of seeds or repeats)."""
        if self._fits is None or self._fits[0] != self.n_seeds:
            fits = (holdout(self.data, self.seed, self.n_seeds) if not self.folds else
                    cross_validation(self.data, self.folds, self.seed, self.n_seeds))
            self._fits = (self.n_seeds, fits)
        return self._fits[1]

    def work(self, config: dict) -> float:
        """:func:`_size` summed over the runs that measure ``config``."""
        return sum(_size(config, fit.data) for fit in self.fits_now)

    def refit_size(self, config: dict) -> float:
        """:func:`_size` of the final training on the training and dev rows (all ``average`` networks)."""
        return _size(config, self.data) * (1 + len(self.data.X_dev) / len(self.data.X_train)) * self.average

    def describe(self) -> str:
        """How the dev error is measured, in words (for the report)."""
        if not self.folds:
            seeds = f", mean of {self.n_seeds} seeds" if self.n_seeds > 1 else ""
            return f"the dev set ({len(self.data.y_dev)} rows{seeds})"
        repeats = f", {self.n_seeds} repeats" if self.n_seeds > 1 else ""
        rows = validation_rows(self.data, self.folds)
        return f"{self.folds}-fold cross-validation over the train + dev rows ({rows} rows{repeats})"

    def rate(self, config: dict) -> float:
        """The median rate measured for configurations like ``config`` (the slowest class's if none yet; a
        class's first run may include compiling its kernels)."""
        measured = self.rates.get(_speed_class(config))
        if not measured:
            return max(float(np.median(rates)) for rates in self.rates.values())
        return float(np.median(measured))

    @staticmethod
    def key(config: dict) -> str:
        return repr(sorted(_json_config(config).items()))

    def new(self, candidates: list[dict]) -> list[dict]:
        """The candidates not trained before (each once)."""
        fresh, keys = [], set()
        for config in candidates:
            key = self.key(config)
            if key not in self.seen and key not in keys:
                fresh.append(config)
                keys.add(key)
        return fresh

    def train(self, config: dict) -> tuple[SeedRun, float, float, float, np.ndarray, list[int]]:
        """Train ``config`` once per :class:`Fit` of the measurement: the first run, the mean errors, the
        per-example dev losses of the validation rows (averaged over the runs that held each out) and the
        epochs each run trained for (early stopping's choice when it is on)."""
        runs, errors, epochs = [], [], []
        rows = validation_rows(self.data, self.folds)
        total, count = np.zeros((rows, 2)), np.zeros(rows)
        for fit in self.fits_now:
            started = time.perf_counter()
            run = _train(config, fit.data, fit.seed)
            size = _size({**config, "epochs": max(1, run.epochs)}, fit.data)
            self.rates.setdefault(_speed_class(config), []).append((time.perf_counter() - started) / size)
            runs.append(run)
            errors.append(_errors(run, fit.data))
            if run.diverged is not None:
                total[:] = math.inf
                break
            best_epoch = run.history.best_epoch if config.get("early_stopping") else None
            epochs.append(run.epochs if best_epoch is None else best_epoch + 1)
            total[fit.rows] += dev_losses(run.model, fit.data)
            count[fit.rows] += 1
        train_error, dev_error, dev_cost = (float(np.mean(values)) for values in zip(*errors))
        self.seen[self.key(config)] = (train_error, dev_error, dev_cost)
        return runs[0], train_error, dev_error, dev_cost, total / np.maximum(count, 1)[:, None], epochs

    def run_step(self, remedy: str, kind: str, candidates: list[dict]) -> RecipeStep | None:
        """Train every candidate (those that fit the budget); the best by dev error, then dev cost, is the step's."""
        started = time.perf_counter()
        best = None
        tried = []
        trained = []
        for config in self.new(candidates):
            if not self.fits(config):
                self.skipped_in_round = True
                continue
            run, train_error, dev_error, dev_cost, losses, epochs = self.train(config)
            tried.append({"config": _json_config(config), "train_error": train_error, "dev_error": dev_error,
                          "dev_cost": dev_cost if math.isfinite(dev_cost) else None, "diverged": run.diverged})
            trained.append((config, run, dev_error, dev_cost, train_error, losses, epochs))
            if self.best_losses is None or (dev_error, dev_cost) < self.best_key:
                self.best_key, self.best_losses = (dev_error, dev_cost), losses
        if not trained:
            return None
        current = self.current
        best = min(trained, key=lambda entry: (entry[2], entry[3]))
        kept = current is None or (current.losses is None and (best[2], best[3]) < (current.dev_error,
                                                                                    _finite(current.dev_cost))) \
            or (current.losses is not None and improves(best[5], current.losses))
        if self.remeasure:  # the current configuration itself, measured with more seeds
            kept, self.remeasure = True, False
        if not kept and current is not None and current.losses is not None:
            simpler = self.simpler(trained, current.config)
            if simpler is not None:
                best, kept = simpler, True
        config, run, dev_error, dev_cost, train_error, losses, epochs = best
        step = RecipeStep(len(self.steps), remedy, kind, config, train_error, dev_error, kept=kept, dev_cost=dev_cost,
                          seconds=time.perf_counter() - started, candidates=tried if len(tried) > 1 else [],
                          cost=[float(c) for c in run.history.cost], cost_epochs=list(run.history.epoch), losses=losses,
                          epochs_run=epochs)
        if kept:
            self.best_run = run
        self.steps.append(step)
        self.bar.update(1)
        self.bar.set_postfix_str(f"{remedy}: dev err {dev_error:.4f}{' (kept)' if step.kept else ''}")
        return step

    def simpler(self, trained: list[tuple], config: dict) -> tuple | None:
        """The candidate with the strongest L2 above ``config``'s whose dev error is within one standard error of
        the best configuration trained so far (the one-standard-error rule: when the dev set cannot tell two
        models apart, take the more regularized one), or ``None``."""
        within = [entry for entry in trained if _regularization(entry[0]) > _regularization(config)
                  and not improves(self.best_losses[:, :1], entry[5][:, :1])]
        return max(within, key=lambda entry: _regularization(entry[0]), default=None)

    @property
    def current(self) -> RecipeStep | None:
        kept = [step for step in self.steps if step.kept]
        return kept[-1] if kept else None

    def gaps(self) -> tuple[float, float, str]:
        step = self.current
        bias = step.train_error - self.bayes
        variance = step.dev_error - step.train_error
        return bias, variance, f"avoidable bias {bias:.4f}, variance {variance:.4f}"

    def next_remedy(self) -> tuple[str, str, list[dict], str, str] | None | str:
        """``(remedy, kind, candidates, verdict, reason)``, or a string saying why the walk stops."""
        step = self.current
        bias, variance, verdict = self.gaps()
        order = []
        if bias > self.tolerance:
            order.append(("bias", BIAS_REMEDIES, f"avoidable bias {bias:.4f} > {self.tolerance:g}"))
        if variance > self.tolerance:
            order.append(("variance", VARIANCE_REMEDIES, f"variance {variance:.4f} > {self.tolerance:g}"))
        if not order:
            return f"neither gap is worth closing ({verdict}, tolerance {self.tolerance:g})"
        for kind, remedies, why in order:
            for remedy, make in remedies:
                times = self.tried.get(remedy, 0)
                if times >= _MAX_TRIES:
                    continue
                if times:  # again only when its last try was kept or another change was kept since
                    last = max(s.index for s in self.steps if s.remedy == remedy)
                    if not self.steps[last].kept and not any(s.kept for s in self.steps[last + 1:]):
                        continue
                candidates = make(step.config)
                if candidates:
                    return remedy, kind, candidates, verdict, f"{why}: try {remedy}"
                self.tried[remedy] = _MAX_TRIES  # does not apply to this configuration
        return f"the remedies for the gaps left are used up ({verdict})"

    def more_seeds(self, converged: str, verdict: str) -> tuple[str, str, list[dict], str, str] | None:
        """With time left after convergence: measure the current configuration again with twice the seeds (or
        repeats of the cross-validation, each on a new partition) and start again coarse to fine (less noise from
        initialization and from the partition lets smaller real gains show)."""
        seeds = 2 * self.n_seeds
        config = self.current.config
        if self.deadline is None or not self.rates:
            return None
        needed = self.rate(config) * (self.work(config) * seeds / self.n_seeds + self.refit_size(config))
        if time.perf_counter() + needed > self.deadline:
            return None
        self.n_seeds, self.factor, self.remeasure = seeds, 3.0, True
        self.seen.clear()
        self.best_key, self.best_losses = (math.inf, math.inf), None
        self.round, self.rounds = [], 0
        what = f"{seeds} seeds" if not self.folds else f"{seeds} repeats of the {self.folds}-fold cross-validation"
        return (f"measure again with {what}", "again", [config], verdict,
                f"{converged}; budget left: measure the configuration again with {what}, then tune again")

    def next_knob(self) -> tuple[str, str, list[dict], str, str] | str:
        """The tuning phase's next ``(knob, kind, candidates, verdict, reason)``, or why it ends."""
        bias, variance, verdict = self.gaps()
        while True:
            if not self.round:
                if self.rounds and self.skipped_in_round and not self.ran_in_round:
                    return "the time left fits no candidate that was not tried"
                if self.rounds and not self.kept_in_round:
                    self.factor = math.sqrt(self.factor)
                if self.factor < _FINEST:
                    converged = f"tuning converged: no knob improves the dev error at factor {self.factor ** 2:.3g}"
                    return self.more_seeds(converged, verdict) or converged
                first = "variance" if variance > bias else "bias"
                self.round = [name for name, kind, _ in sorted(TUNING_KNOBS, key=lambda knob: knob[1] != first)]
                self.rounds, self.kept_in_round = self.rounds + 1, False
                self.skipped_in_round = self.ran_in_round = False
            name = self.round.pop(0)
            kind, knob = next((kind, knob) for knob_name, kind, knob in TUNING_KNOBS if knob_name == name)
            candidates = self.new(knob(self.current.config, self.factor))
            if candidates:
                larger = "variance" if variance > bias else "avoidable bias"
                return (name, kind, candidates, verdict,
                        f"budget left, {larger} the larger gap: {name} (factor {self.factor:.3g})")


def _speed_class(config: dict) -> tuple[bool, bool, bool]:
    """What besides :func:`_size` sets the time of an epoch: batch norm, dropout, input noise."""
    return bool(config.get("batch_norm")), bool(config.get("keep_prob")), bool(config.get("noise"))


def _regularization(config: dict) -> float:
    """How strongly ``config`` regularizes by L2 (the one-standard-error rule's order): its ``lambd``.

    Only L2 is ordered so: its strength is searched on a log scale over a wide range, where the dev set
    often cannot tell neighbouring values apart; dropout and input noise also add noise to every run."""
    return float(config.get("l2") or 0.0)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.inf


def recipe(
    data: Any,
    y: Any = None,
    *,
    target: str | None = None,
    task: str = "auto",
    impute: str | None = None,
    human_error: float | None = None,
    tolerance: float = 0.01,
    dev: float = 0.2,
    test: float = 0.2,
    seed: int = 0,
    epochs: int = 100,
    max_steps: int | None = None,
    max_minutes: float | None = None,
    n_seeds: int | None = None,
    folds: int | str | None = "auto",
    refit: bool = True,
    average: int | str = "auto",
    progress: bool = False,
    out: str | os.PathLike | None = None,
) -> RecipeResult:
    """Walk the course's basic recipe on a table; see the module doc for what it does.

    Parameters
    ----------
    data : str, path, DataFrame, dict of columns or 2-D array
        A data file (with ``target``) or the inputs (with ``y``).
    y : array-like or None
        Labels or values when ``data`` holds the inputs.
    target : str or None
        The column to predict when ``data`` is a file (``"y"`` for ``.npz``).
    task : {"auto", "classification", "regression"}
    impute : {"mean", "median"} or None
    human_error : float in [0, 1) or None
        The baseline error to measure avoidable bias against (e.g. human-level error); ``None`` estimates it.
    tolerance : float >= 0
        A gap at most this large is not worth closing.
    dev, test : float
        Fractions of the rows for the dev and test sets (the dev set must not be empty).
    seed : int
        Seed of the split and of every training run.
    epochs : int >= 1
        The baseline's epochs.
    max_steps : int >= 1 or None
        At most this many remedies are tried after the baseline (``None``: 20 without ``max_minutes``, no
        limit with it).
    max_minutes : float > 0 or None
        The time budget: once neither gap is worth closing (or the remedies are used up), the rest of it
        tunes the remedies as knobs, coarse to fine; no candidate predicted to overrun it (with the refit)
        is started, and none at all once it is spent. ``None``: the walk ends when the gaps are closed.
    n_seeds : int >= 1 or None
        Train every configuration with this many seeds (``seed``, ``seed + 1``, ...) and decide on the mean
        errors: less noisy decisions for more time. With ``folds``, the number of repeats of the
        cross-validation (each on a new partition). ``None``: 1 with ``folds``, else 3 with ``max_minutes``,
        else 1.
    folds : int >= 2, "auto" or None
        Measure every configuration by ``folds``-fold cross-validation over the training and dev rows together
        instead of on the dev set alone (see :mod:`dnnimprove.recipe_validation`): every decision then rests on
        all those rows. ``"auto"``: 3 with ``max_minutes`` when the training and dev rows are at most
        :data:`CV_MAX_ROWS`, else ``None`` (the dev set).
    refit : bool
        Train the chosen configuration again on the train and dev rows for the final model.
    average : int >= 1 or "auto"
        With ``refit``: train the chosen configuration this many times (seeds ``seed, seed + 1, ...``) and make
        the final model the mean of their outputs (logits), held side by side in one network
        (:func:`dnnimprove.averaging.side_by_side`); the time budget keeps time for all of them. ``"auto"``:
        3 with ``max_minutes``, else 1.
    progress : bool
        A progress bar over the steps (on stderr).
    out : path or None
        Write ``recipe.html``, ``recipe.json``, the figures and ``model.npz`` (with its preprocessing) here.

    Returns
    -------
    RecipeResult
        ``.steps``, ``.model`` (predicts on raw rows), ``.test_score`` (accuracy or R^2), ``.table()``.
    """
    started = time.perf_counter()
    if isinstance(average, str) and average == "auto":
        average = 3 if max_minutes is not None else 1
    settings = validate_params(RECIPE_CONSTRAINTS, dev=dev, human_error=human_error, tolerance=tolerance, epochs=epochs,
                               max_steps=max_steps, max_minutes=max_minutes, n_seeds=n_seeds, average=average, refit=refit)
    dev, tolerance, epochs, max_steps = settings["dev"], settings["tolerance"], settings["epochs"], settings["max_steps"]
    max_minutes, n_seeds, average, refit = settings["max_minutes"], settings["n_seeds"], settings["average"], settings["refit"]
    data_ = _load(data, y, target, task, impute, dev, test, seed)
    if max_steps is None and max_minutes is None:
        max_steps = 20
    folds = _folds(folds, data_, max_minutes)
    if n_seeds is None:
        n_seeds = 3 if max_minutes is not None and not folds else 1
    if human_error is None:
        bayes, source = estimate_bayes_error(data_), "estimated: half the 1-nearest-neighbour error"
    else:
        bayes, source = float(human_error), "given"
    from tqdm.auto import tqdm

    deadline = None if max_minutes is None else started + 60.0 * max_minutes
    with tqdm(total=max_steps and max_steps + 1, unit="step", desc="recipe", disable=not progress) as bar:
        walk = _Walk(data_, seed, bayes, tolerance, deadline, max_steps, bar, n_seeds, folds, average)
        walk.run_step("baseline", "baseline", [baseline_config(data_, epochs)])
        stopped = _walk(walk, max_steps, max_minutes)
    best = walk.current
    model = walk.best_run.model
    refit_note, networks = "", []
    if refit:
        model, refit_note, networks = _refit(best, walk.best_run, data_, seed, average)
    test_error = test_score = None
    score_name = "R2" if data_.task == "regression" else "accuracy"
    if data_.X_test is not None:
        if data_.task == "regression":
            test_error = float(model.evaluate(data_.X_test, data_.y_test)["cost"])
            test_score = _r2(model, data_)
        else:
            test_score = float(model.evaluate(data_.X_test, data_.y_test)["accuracy"])
            test_error = 1.0 - test_score
    model.preprocessing_ = data_.preprocessing  # from here on it predicts on raw rows
    result = RecipeResult(data_.task, bayes, source, tolerance, walk.steps, best.config, model, test_error,
                          test_score, score_name, stopped, time.perf_counter() - started, data_,
                          refit=refit_note, validation=walk.describe(), networks=networks)
    if out is not None:
        from .persistence import save
        from .report import write_recipe

        Path(out).mkdir(parents=True, exist_ok=True)
        result.model_path = save(model, Path(out) / "model.npz")
        write_recipe(result, out)
    return result


def _walk(walk: _Walk, max_steps: int | None, max_minutes: float | None) -> str:
    """Phase one (the gaps), then, with a time budget, phase two (tuning); returns why the walk stopped."""
    tuning, closed = False, ""
    while True:
        plan: Any = ""
        if max_steps is not None and len(walk.steps) > max_steps:
            stopped = f"max_steps={max_steps} reached"
        elif walk.out_of_time():
            stopped = f"max_minutes={max_minutes:g} reached"
        else:
            plan = walk.next_knob() if tuning else walk.next_remedy()
            if isinstance(plan, str) and not tuning and walk.deadline is not None:
                tuning, closed = True, plan  # budget left: tune the remedies as knobs
                continue
            stopped = plan if isinstance(plan, str) else ""
        if stopped:
            stopped = f"{closed}; then {stopped}" if closed else stopped
            last = walk.steps[-1]
            last.verdict = last.verdict or _verdict(walk)
            last.reason = "stop: " + stopped
            return stopped
        remedy, kind, candidates, verdict, reason = plan
        last = walk.steps[-1]
        before = last.verdict, last.reason
        if tuning and not any(step.kind.startswith("tuning") for step in walk.steps):
            reason = f"{closed}; {reason}"
        last.verdict, last.reason = verdict, reason
        if not tuning:
            walk.tried[remedy] = walk.tried.get(remedy, 0) + 1
        step = walk.run_step(remedy, f"tuning ({kind})" if tuning else kind, candidates)
        if step is None:  # every candidate was trained before or would overrun the budget
            last.verdict, last.reason = before
        elif tuning:
            walk.ran_in_round = True
            walk.kept_in_round = walk.kept_in_round or step.kept


def _folds(folds: Any, data: Data, max_minutes: float | None) -> int | None:
    """The number of cross-validation folds ``recipe(folds=...)`` asks for (``None``: the dev set)."""
    if isinstance(folds, str):
        if folds != "auto":
            raise ValueError(f"folds must be 'auto', None or an integer >= 2; got {folds!r}")
        rows = len(data.y_train) + len(data.y_dev)
        return 3 if max_minutes is not None and rows <= CV_MAX_ROWS else None
    if folds is None:
        return None
    return check_int("folds", folds, low=2, high=len(data.y_train) + len(data.y_dev))


def _refit(step: RecipeStep, run: SeedRun, data: Data, seed: int, average: int = 1) -> tuple[Any, str, list]:
    """Train ``step.config`` on the train and dev rows together, ``average`` times (seeds ``seed, seed + 1, ...``);
    returns the model (the networks side by side, their logits averaged, when more than one), a note saying how,
    and the networks."""
    from .averaging import side_by_side

    config = dict(step.config)
    if config.get("early_stopping"):  # the epochs early stopping chose on the held-out rows (median over runs)
        config["epochs"] = max(1, int(np.median(step.epochs_run))) if step.epochs_run else run.epochs
        config["early_stopping"] = None
    merged = Data(np.concatenate([data.X_train, data.X_dev]), np.concatenate([data.y_train, data.y_dev]),
                  preprocessing=data.preprocessing)
    networks = []
    for offset in range(average):
        refitted = _train(config, merged, seed + offset)
        if refitted.diverged is not None:
            return run.model, f"skipped: training on train + dev diverged ({refitted.diverged})", []
        networks.append(refitted.model)
    note = f"trained again on train + dev ({len(merged.y_train)} rows, {config['epochs']} epochs)"
    if average == 1:
        return networks[0], note, networks
    note = (f"{note} with {average} seeds; the final model averages the {average} networks' outputs (logits), "
            "held side by side in one network")
    return side_by_side(networks), note, networks


def _verdict(walk: _Walk) -> str:
    step = walk.current
    return f"avoidable bias {step.train_error - walk.bayes:.4f}, variance {step.dev_error - step.train_error:.4f}"


def _r2(model: Any, data: Data) -> float:
    from sklearn.metrics import r2_score

    predicted = model.loss.predict(model.forward(data.X_test))
    return float(r2_score(data.y_test, predicted))  # standardizing y by a constant affine map leaves R^2 as is


def _load(data: Any, y: Any, target: str | None, task: str, impute: str | None, dev: float, test: float,
          seed: int) -> Data:
    from .studies.table_data import TableSpec, prepare_table
    from .tables import as_table, is_table

    if hasattr(data, "load") and hasattr(data, "as_dict"):  # a DataSpec or TableSpec (the command line's)
        loaded = data.load()
        if loaded.X_dev is None:
            raise ValueError("the recipe needs a dev set: give the data spec a dev fraction")
        return loaded
    if isinstance(data, (str, os.PathLike)):
        if y is not None:
            raise ValueError("give y only with in-memory inputs; a data file names its target column (target=...)")
        path = os.fspath(data)
        if target is None:
            if not path.lower().endswith(".npz"):
                raise ValueError(f"recipe on the data file {path!r} needs target=COLUMN")
            target = "y"
        return TableSpec(path, target, task=task, impute=impute, test=test, dev=dev, split_seed=seed).load()
    if y is None:
        raise ValueError("recipe needs y (labels or values) with in-memory inputs, or a data file and target")
    if is_table(data):
        features = as_table(data)
    else:
        array = np.asarray(data)
        if array.ndim != 2:
            raise ValueError(f"X must be a table or a 2-D array; got shape {array.shape}")
        features = as_table({f"x{index}": array[:, index] for index in range(array.shape[1])})
    return prepare_table(features, np.asarray(y), task=task, impute=impute, dev=dev, test=test, seed=seed,
                         source="X")

