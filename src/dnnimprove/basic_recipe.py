"""The course's basic recipe, automated: measure the two gaps, fix high bias first, then high variance.

:func:`recipe` splits the data into train/dev/test, trains a small baseline and measures

- **avoidable bias** = training error - the baseline (Bayes) error, given as ``human_error`` or
  estimated as half the cross-validated error of a 1-nearest-neighbour rule on the training rows
  (Cover and Hart: the 1-NN error is at most twice the Bayes error as the data grows, so half of it is a
  lower estimate);
- **variance** = dev error - training error.

While a gap exceeds ``tolerance`` it tries the next remedy in the course's order, one knob at a time:

- for bias (first, as long as it is the larger worry): a wider network, a deeper one, training longer,
  Adam (learning rate searched on a log scale), He initialization, batch normalization;
- for variance: L2 regularization (``lambd`` searched on a log scale), inverted dropout, early stopping
  on the dev set, and input augmentation (Gaussian noise on standardized numeric inputs) where every
  input is numeric;

and keeps a change only when the dev error improves. It stops when neither gap is worth closing, when
the remedies run out, or at the budget (``max_steps`` remedies, ``max_minutes``). With ``refit`` (the
default) the chosen configuration is then trained once more on the training and dev rows together (more
data, the course's first cure for variance; a configuration with early stopping runs for the epochs its
dev run reached, less the patience, without a dev set). The test set is used once, by the final model. Errors: ``1 - accuracy`` for classification; for regression the mean squared
error of the standardized target (about ``1 - R^2``).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ._validation import check_bool, check_int, check_number
from .studies.recipe import Data
from .studies.runner import SeedRun, train_once

__all__ = ["RecipeStep", "RecipeResult", "recipe", "BIAS_REMEDIES", "VARIANCE_REMEDIES", "BASELINE"]

BASELINE: dict[str, Any] = {
    "hidden": (16,), "epochs": 100, "batch_size": 64, "optimizer": "gd", "lr": 0.05, "init": "xavier",
    "activation": "relu",
}
"""The first network: small, plain mini-batch gradient descent, Xavier initialization."""

_MAX_WIDTH = 512
_MAX_TRIES = 2
"""A remedy is tried at most this often; a second time only after some other change was kept."""


def _wider(config: dict) -> list[dict]:
    hidden = tuple(min(_MAX_WIDTH, 2 * units) for units in config["hidden"])
    return [] if hidden == config["hidden"] else [{**config, "hidden": hidden}]


def _deeper(config: dict) -> list[dict]:
    return [] if len(config["hidden"]) >= 4 else [{**config, "hidden": config["hidden"] + config["hidden"][-1:]}]


def _longer(config: dict) -> list[dict]:
    return [{**config, "epochs": 2 * config["epochs"]}]


def _adam(config: dict) -> list[dict]:
    if config["optimizer"] == "adam":
        return []
    return [{**config, "optimizer": "adam", "lr": lr} for lr in (0.001, 0.003, 0.01)]


def _he(config: dict) -> list[dict]:
    return [] if config["init"] == "he" else [{**config, "init": "he"}]


def _batch_norm(config: dict) -> list[dict]:
    return [] if config.get("batch_norm") else [{**config, "batch_norm": True}]


def _l2(config: dict) -> list[dict]:
    lambd = config.get("l2")
    values = (0.01, 0.1, 1.0, 10.0) if not lambd else (lambd / 10, lambd / 3, lambd * 3, lambd * 10)
    return [{**config, "l2": value} for value in values]


def _dropout(config: dict) -> list[dict]:
    keep = config.get("keep_prob")
    values = (0.9, 0.7) if not keep else tuple(v for v in (round(keep - 0.1, 2), round(keep + 0.05, 2)) if 0.3 <= v < 1)
    return [{**config, "keep_prob": value} for value in values]


def _architecture(config: dict) -> list[dict]:
    candidates = _wider(config)
    much_wider = tuple(min(_MAX_WIDTH, 4 * units) for units in config["hidden"])
    if much_wider != config["hidden"] and all(much_wider != c["hidden"] for c in candidates):
        candidates.append({**config, "hidden": much_wider})
    return candidates + _deeper(config)


def _early_stopping(config: dict) -> list[dict]:
    if config.get("early_stopping"):
        return []
    return [{**config, "early_stopping": 10, "epochs": 2 * config["epochs"]}]


def _augment(config: dict) -> list[dict]:
    return [] if config.get("noise") else [{**config, "noise": noise} for noise in (0.05, 0.2)]


BIAS_REMEDIES: list[tuple[str, Callable[[dict], list[dict]]]] = [
    ("wider network", _wider), ("deeper network", _deeper), ("train longer", _longer),
    ("Adam", _adam), ("He initialization", _he), ("batch norm", _batch_norm),
]
"""The course's remedies for high avoidable bias, in order; each gives the candidate configurations."""

VARIANCE_REMEDIES: list[tuple[str, Callable[[dict], list[dict]]]] = [
    ("L2 regularization", _l2), ("dropout", _dropout), ("early stopping", _early_stopping),
    ("augmentation", _augment), ("architecture search", _architecture),
]
"""The course's remedies for high variance, in order: more data (augmentation where it applies) being out of
reach, regularization, then another architecture (wider, much wider, deeper, keeping the regularization)."""


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
    verdict: str = ""
    reason: str = ""
    seconds: float = 0.0
    candidates: list[dict[str, Any]] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    cost_epochs: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "remedy": self.remedy, "kind": self.kind, "config": _json_config(self.config),
            "train_error": self.train_error, "dev_error": self.dev_error, "kept": self.kept,
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
            "model": self.model_path,
        }


def _json_config(config: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in config.items()}


def _describe(config: dict) -> str:
    parts = [f"hidden {','.join(map(str, config['hidden']))}", f"{config['optimizer']} lr {config['lr']:g}",
             f"{config['epochs']} epochs", f"{config['init']} init"]
    for key, text in (("batch_norm", "batch norm"), ("l2", "l2 {}"), ("keep_prob", "keep_prob {}"),
                      ("early_stopping", "early stopping {}"), ("noise", "input noise {}")):
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


def _errors(run: SeedRun, data: Data) -> tuple[float, float]:
    if data.task == "regression":
        dev = run.model.evaluate(data.X_dev, data.y_dev)["cost"]
        return float(run.model.evaluate(data.X_train, data.y_train)["cost"]), float(dev)
    return 1.0 - run.train_accuracy, 1.0 - run.dev_accuracy


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
    """The state of one recipe: the best configuration so far, its errors, the remedies left."""

    def __init__(self, data: Data, seed: int, bayes: float, tolerance: float, deadline: float | None,
                 max_steps: int, bar: Any) -> None:
        self.data, self.seed, self.bayes, self.tolerance = data, seed, bayes, tolerance
        self.deadline, self.max_steps, self.bar = deadline, max_steps, bar
        self.steps: list[RecipeStep] = []
        self.tried: dict[str, int] = {}
        self.best_run: SeedRun | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def run_step(self, remedy: str, kind: str, candidates: list[dict]) -> RecipeStep:
        """Train every candidate (or as many as the time allows); the best by dev error is the step's."""
        started = time.perf_counter()
        best = None
        tried = []
        for config in candidates:
            if best is not None and self.out_of_time():
                break
            run = _train(config, self.data, self.seed)
            train_error, dev_error = _errors(run, self.data)
            if run.diverged is not None:
                train_error = dev_error = math.inf
            tried.append({"config": _json_config(config), "train_error": train_error, "dev_error": dev_error,
                          "diverged": run.diverged})
            if best is None or dev_error < best[2]:
                best = (config, run, dev_error, train_error)
        config, run, dev_error, train_error = best
        step = RecipeStep(len(self.steps), remedy, kind, config, train_error, dev_error, kept=False,
                          seconds=time.perf_counter() - started, candidates=tried if len(tried) > 1 else [],
                          cost=[float(c) for c in run.history.cost], cost_epochs=list(run.history.epoch))
        current = self.current
        if current is None or dev_error < current.dev_error:
            step.kept = True
            self.best_run = run
        self.steps.append(step)
        self.bar.update(1)
        self.bar.set_postfix_str(f"{remedy}: dev err {dev_error:.4f}{' (kept)' if step.kept else ''}")
        return step

    @property
    def current(self) -> RecipeStep | None:
        kept = [step for step in self.steps if step.kept]
        return kept[-1] if kept else None

    def next_remedy(self) -> tuple[str, str, list[dict], str, str] | None | str:
        """``(remedy, kind, candidates, verdict, reason)``, or a string saying why the walk stops."""
        step = self.current
        bias = step.train_error - self.bayes
        variance = step.dev_error - step.train_error
        verdict = f"avoidable bias {bias:.4f}, variance {variance:.4f}"
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
    max_steps: int = 20,
    max_minutes: float | None = None,
    refit: bool = True,
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
    max_steps : int >= 1
        At most this many remedies are tried after the baseline.
    max_minutes : float > 0 or None
        Stop trying remedies once this wall time is spent (a started candidate finishes).
    refit : bool
        Train the chosen configuration again on the train and dev rows for the final model.
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
    data_ = _load(data, y, target, task, impute, dev, test, seed)
    if human_error is not None:
        check_number("human_error", human_error, low=0.0, high=1.0, high_open=True)
    tolerance = check_number("tolerance", tolerance, low=0.0)
    epochs = check_int("epochs", epochs, low=1)
    max_steps = check_int("max_steps", max_steps, low=1)
    if max_minutes is not None:
        check_number("max_minutes", max_minutes, low=0.0, low_open=True)
    if human_error is None:
        bayes, source = estimate_bayes_error(data_), "estimated: half the 1-nearest-neighbour error"
    else:
        bayes, source = float(human_error), "given"
    from tqdm.auto import tqdm

    deadline = None if max_minutes is None else started + 60.0 * max_minutes
    with tqdm(total=max_steps + 1, unit="step", desc="recipe", disable=not progress) as bar:
        walk = _Walk(data_, seed, bayes, tolerance, deadline, max_steps, bar)
        baseline = walk.run_step("baseline", "baseline", [{**BASELINE, "epochs": epochs}])
        stopped = ""
        while not stopped:
            plan = walk.next_remedy()
            if isinstance(plan, str):
                stopped = plan
            elif len(walk.steps) > max_steps:
                stopped = f"max_steps={max_steps} reached"
            elif walk.out_of_time():
                stopped = f"max_minutes={max_minutes:g} reached"
            if stopped:
                walk.steps[-1].verdict = walk.steps[-1].verdict or _verdict(walk)
                walk.steps[-1].reason = "stop: " + stopped
                break
            remedy, kind, candidates, verdict, reason = plan
            walk.steps[-1].verdict, walk.steps[-1].reason = verdict, reason
            walk.tried[remedy] = walk.tried.get(remedy, 0) + 1
            walk.run_step(remedy, kind, candidates)
    del baseline
    best = walk.current
    model = walk.best_run.model
    refit_note = ""
    if check_bool("refit", refit):
        model, refit_note = _refit(best.config, walk.best_run, data_, seed)
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
                          refit=refit_note)
    if out is not None:
        from .persistence import save
        from .report import write_recipe

        Path(out).mkdir(parents=True, exist_ok=True)
        result.model_path = save(model, Path(out) / "model.npz")
        write_recipe(result, out)
    return result


def _refit(config: dict, run: SeedRun, data: Data, seed: int) -> tuple[Any, str]:
    """Train ``config`` on the train and dev rows together; returns the model and a note saying how."""
    config = dict(config)
    if config.get("early_stopping"):
        config["epochs"] = max(1, run.epochs - int(config["early_stopping"]))
        config["early_stopping"] = None
    merged = Data(np.concatenate([data.X_train, data.X_dev]), np.concatenate([data.y_train, data.y_dev]),
                  preprocessing=data.preprocessing)
    refitted = _train(config, merged, seed)
    if refitted.diverged is not None:
        return run.model, f"skipped: training on train + dev diverged ({refitted.diverged})"
    return refitted.model, f"trained again on train + dev ({len(merged.y_train)} rows, {config['epochs']} epochs)"


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

    check_number("dev", dev, low=0.0, high=1.0, low_open=True, high_open=True)
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

