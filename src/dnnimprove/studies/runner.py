"""Turn a recipe into runs: build the model, optimizer and schedule from settings, train over seeds, summarize.

Two modes:

- ``robust`` (the default): our own seeded generator, ``n_seeds`` seeds per variant (``seed``,
  ``seed + 1``, ...), reporting the mean and the spread (population standard deviation) over seeds,
  and checking the course's conclusions (orderings), not its numbers;
- ``course-exact``: NumPy's legacy stream in the course's order (:class:`dnnimprove.CourseRandom`) and
  schedules shifted one epoch late (:class:`dnnimprove.Shifted`), one run per variant, compared with the
  course's published figures.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from .._validation import Integer, Options, validate_params
from ..callbacks import EarlyStopping, IterationCost
from .. import factory
from ..factory import build_layers
from ..model import Sequential
from ..optimizers import Optimizer
from ..random import CourseRandom
from ..schedules import Schedule
from ..threads import blas_threads
from ..training import Callback, History, TrainingDiverged, TrainingRun
from .recipe import CourseVersion, Data, Study, check_settings

__all__ = [
    "MODES",
    "COMPARISON_CONSTRAINTS",
    "FIT_SETTING_CONSTRAINTS",
    "SeedRun",
    "VariantResult",
    "StudyResult",
    "build_model",
    "build_optimizer",
    "build_schedule",
    "train_once",
    "fit_and_evaluate",
    "evaluate_run",
    "run_comparison",
    "mean_and_spread",
]

MODES = ("robust", "course-exact")

COMPARISON_CONSTRAINTS = {"mode": Options(MODES), "seed": Integer(low=0)}
"""The legal values of :func:`run_comparison`'s ``mode`` and of each of its ``seeds`` (named ``seed`` in the message)."""

FIT_SETTING_CONSTRAINTS = {"early_stopping": Integer(low=0, none_ok=True)}
"""The legal values of the settings :func:`fit_and_evaluate` reads itself (the model's and the optimizer's are checked
by :mod:`dnnimprove.factory`, the rest by ``fit``)."""

def build_model(hidden: Iterable[int], n_outputs: int, settings: Mapping[str, Any], loss: str, seed: Any) -> Sequential:
    """The network of ``settings`` (the recipe's defaults filled in; see :func:`dnnimprove.factory.build_layers`)."""
    return Sequential(build_layers(hidden, n_outputs, check_settings(settings)), loss=loss, seed=seed)


def build_optimizer(settings: Mapping[str, Any]) -> Optimizer:
    """The optimizer of ``settings`` (the recipe's defaults filled in; see :func:`dnnimprove.factory.build_optimizer`)."""
    return factory.build_optimizer(check_settings(settings))


def build_schedule(settings: Mapping[str, Any], course_exact: bool = False, epochs: int | None = None) -> Schedule | None:
    """The schedule of ``settings`` (``lr0 = lr``), shifted one epoch late in course-exact mode."""
    return factory.build_schedule(check_settings(settings), epochs, course_exact)


class EpochClock(Callback):
    """Records the wall time (seconds since training began) of every recorded epoch."""

    recorded_epochs_only = True  # on_epoch_end acts at recorded epochs only

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_train_begin(self, run: TrainingRun) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, run: TrainingRun) -> None:
        if run.recorded:
            self.seconds.append(time.perf_counter() - self._started)


@dataclass
class SeedRun:
    """One training run: a variant on one seed."""

    seed: Any
    train_accuracy: float | None
    test_accuracy: float | None
    final_cost: float | None
    epochs: int
    seconds: float
    history: History
    model: Sequential
    clock: list[float] = field(default_factory=list)
    dev_accuracy: float | None = None
    diverged: str | None = None
    """Why training stopped early on a non-finite value (the accuracies are then the last finite parameters')."""
    train_r2: float | None = None
    """Regression only: the coefficient of determination on each split, and the test mean squared error in the
    target's own units (``None`` for a classifier or a missing split)."""
    dev_r2: float | None = None
    test_r2: float | None = None
    test_mse: float | None = None


REGRESSION_METRICS = ("train_r2", "dev_r2", "test_r2", "test_mse")
"""The run summary keys a regression adds (a classifier's are ``None``)."""


def regression_metrics(model: Sequential, data: Data) -> dict[str, float | None]:
    """``{"train_r2", "dev_r2", "test_r2", "test_mse"}`` of a regression model, in the target's own units.

    ``R^2 = 1 - sum (y - y_hat)^2 / sum (y - mean(y))^2`` on each split (unchanged by the target's
    standardization, an affine map); the test MSE is ``mean (y - y_hat)^2`` after undoing it.
    """
    from sklearn.metrics import mean_squared_error, r2_score

    decode = data.preprocessing.decode if data.preprocessing is not None else (lambda values: values)
    metrics: dict[str, float | None] = dict.fromkeys(REGRESSION_METRICS)
    for name, X, y in (("train", data.X_train, data.y_train), ("dev", data.X_dev, data.y_dev),
                       ("test", data.X_test, data.y_test)):
        if X is None or len(X) < 2:
            continue
        truth = np.asarray(decode(np.asarray(y, dtype=np.float64)), dtype=np.float64)
        predicted = np.asarray(decode(model.loss.predict(model.forward(X))), dtype=np.float64).reshape(truth.shape)
        if not np.all(np.isfinite(predicted)):
            continue
        metrics[f"{name}_r2"] = float(r2_score(truth, predicted))
        if name == "test":
            metrics["test_mse"] = float(mean_squared_error(truth, predicted))
    return metrics


def train_once(
    hidden: Iterable[int],
    loss: str,
    data: Data,
    settings: Mapping[str, Any],
    epochs: int,
    seed: Any,
    course_exact: bool = False,
    record_every: int = 1,
    record_iterations: bool = False,
    fit_options: Mapping[str, Any] | None = None,
) -> SeedRun:
    """Build a model from ``settings`` and train it on ``data``; see :func:`fit_and_evaluate`."""
    settings = check_settings(settings)
    n_outputs = 1 if loss in ("binary_crossentropy", "mse") else data.n_classes
    model = build_model(hidden, n_outputs, settings, loss, seed)
    run = fit_and_evaluate(model, data, settings, epochs, course_exact, record_every, record_iterations, fit_options)
    run.seed = seed_label(seed)
    return run


def seed_label(seed: Any) -> Any:
    """How a seed appears in results.json: the int itself, ``course(init_seed, shuffle_seed)``, or a repr."""
    if isinstance(seed, int):
        return seed
    if isinstance(seed, CourseRandom):
        return f"course({seed.init_seed}, {seed.shuffle_seed})"
    return repr(seed)


def fit_and_evaluate(
    model: Sequential,
    data: Data,
    settings: Mapping[str, Any],
    epochs: int,
    course_exact: bool = False,
    record_every: int = 1,
    record_iterations: bool = False,
    fit_options: Mapping[str, Any] | None = None,
) -> SeedRun:
    """Train ``model`` on ``data`` with the optimization settings; evaluate on train, dev and test.

    ``fit_options`` go to ``model.fit`` as they are (e.g. ``engine``; ``callbacks`` run after the study's own).
    BLAS runs on one thread: the studies' networks are small, and their figures do not depend on the machine's load.
    """
    settings = check_settings(settings)
    clock = EpochClock()
    fit_options = dict(fit_options or {})
    callbacks: list[Callback] = [clock, *([IterationCost()] if record_iterations else [])]
    validation = None
    patience = validate_params(FIT_SETTING_CONSTRAINTS, early_stopping=settings["early_stopping"])["early_stopping"]
    if patience is not None:
        if data.X_dev is None:
            raise ValueError("early_stopping needs a dev set: give the dataset a dev fraction")
        validation = (data.X_dev, data.y_dev)
        callbacks.append(EarlyStopping(patience=patience, restore_best=True))
    callbacks.extend(fit_options.pop("callbacks", ()))
    diverged = None
    try:
        with blas_threads(1):
            model.fit(
                data.X_train,
                data.y_train,
                epochs=epochs,
                batch_size=settings["batch_size"],
                optimizer=build_optimizer(settings),
                schedule=build_schedule(settings, course_exact, epochs),
                l2=settings["l2"],
                validation_data=validation,
                callbacks=callbacks,
                record_every=record_every,
                **fit_options,
            )
    except TrainingDiverged as error:  # a result too (e.g. a learning rate too high without batch norm)
        diverged = error
    return evaluate_run(model, data, epochs, diverged, clock.seconds)


def evaluate_run(
    model: Sequential, data: Data, epochs: int, diverged: TrainingDiverged | None = None, clock: list[float] | None = None,
) -> SeedRun:
    """The :class:`SeedRun` of a ``model`` that ``fit`` trained for up to ``epochs`` epochs on ``data``.

    Accuracy and cost on the training set, accuracy on the dev and test sets (None where there is none),
    the epochs that ran (fewer when training stopped early or ``diverged``), and the History.
    """
    history = model.history_
    train = model.evaluate(data.X_train, data.y_train)
    accuracy = lambda X, y: None if X is None else model.evaluate(X, y).get("accuracy")  # noqa: E731
    if diverged is not None:
        ran = diverged.epoch + 1
    elif history.stopped_epoch is not None:
        ran = history.stopped_epoch + 1
    else:
        ran = epochs
    return SeedRun(
        seed=None,
        train_accuracy=train.get("accuracy"),
        test_accuracy=accuracy(data.X_test, data.y_test),
        dev_accuracy=accuracy(data.X_dev, data.y_dev),
        final_cost=float(train["cost"]) if math.isfinite(train["cost"]) else None,
        epochs=ran,
        seconds=history.seconds,
        history=history,
        model=model,
        clock=list(clock or []),
        diverged=None if diverged is None else str(diverged),
        **({} if model.loss.is_classifier else regression_metrics(model, data)),
    )


NEAR_ZERO = 0.01
"""A weight counts as near zero (the ``near_zero`` metric: how sparse L1 leaves a network) below this size."""


def near_zero_fraction(model: Sequential, threshold: float = NEAR_ZERO) -> float:
    """Fraction of the model's weights (not biases, not batch-norm parameters) with ``|W| < threshold``."""
    weights = model.params[model.weight_mask != 0]
    return float(np.mean(np.abs(weights) < threshold))


def mean_and_spread(values: Iterable[float | None]) -> tuple[float | None, float | None]:
    """Mean and population standard deviation, ``(None, None)`` when any value is missing."""
    values = list(values)
    if not values or any(value is None for value in values):
        return None, None
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std())


@dataclass
class VariantResult:
    """A variant's runs over seeds, summarized as mean and spread."""

    name: str
    settings: dict[str, Any]
    runs: list[SeedRun]
    published: Mapping[str, float] | None = None

    def metric(self, key: str) -> tuple[float | None, float | None]:
        if key == "near_zero":
            return mean_and_spread(near_zero_fraction(run.model) for run in self.runs)
        if key == "gap":
            gaps = [
                None if run.test_accuracy is None else run.train_accuracy - run.test_accuracy for run in self.runs
            ]
            return mean_and_spread(gaps)
        return mean_and_spread(getattr(run, key) for run in self.runs)

    def summary(self) -> dict[str, Any]:
        """The results.json row: means over seeds with their spread (``*_std``) beside them."""
        row: dict[str, Any] = {"name": self.name, "settings": self.settings, "seeds": [run.seed for run in self.runs]}
        regression = any(run.train_r2 is not None for run in self.runs)
        for key in ("train_accuracy", "dev_accuracy", "test_accuracy", "final_cost",
                    *(REGRESSION_METRICS if regression else ())):
            mean, spread = self.metric(key)
            row[key] = mean
            row[f"{key}_std"] = spread
        row["epochs"] = float(np.mean([run.epochs for run in self.runs]))
        row["seconds"] = float(np.mean([run.seconds for run in self.runs]))
        row["per_seed"] = [
            {
                "seed": run.seed,
                "train_accuracy": run.train_accuracy,
                "dev_accuracy": run.dev_accuracy,
                "test_accuracy": run.test_accuracy,
                "final_cost": run.final_cost,
                **({key: getattr(run, key) for key in REGRESSION_METRICS} if regression else {}),
                "epochs": run.epochs,
                "seconds": run.seconds,
                "diverged": run.diverged,
                "engine": run.history.engine,
                "engine_reason": run.history.engine_reason,
            }
            for run in self.runs
        ]
        row["diverged"] = sum(run.diverged is not None for run in self.runs)
        row["engine"] = sorted({run.history.engine for run in self.runs})
        if self.published is not None:
            row["published"] = dict(self.published)
            row["matches_published"] = self.matches_published()
        return row

    def matches_published(self) -> bool | None:
        """Whether every published figure equals ours rounded to as many decimals (None: nothing published)."""
        if not self.published:
            return None
        for key, value in self.published.items():
            ours = self.metric(key)[0]
            decimals = len(f"{value}".split(".")[1]) if "." in f"{value}" else 0
            if ours is None or round(ours, max(decimals, 2)) != round(value, max(decimals, 2)):
                return False
        return True


@dataclass
class StudyResult:
    """Everything a study produced: the variant results, checks, and extras for the report."""

    study: Study
    mode: str
    title: str
    data: Data
    variants: list[VariantResult]
    checks: list[tuple[str, bool]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    smoke_test: bool = False
    """A few epochs per run (``dnnimprove study --quick``): the checks are recorded as not evaluated."""

    @property
    def name(self) -> str:
        """The study's name: its folder in the report."""
        return self.study.name

    @property
    def lesson(self) -> str:
        return self.study.lesson

    @property
    def figures(self) -> tuple[str, ...]:
        return self.study.figures

    def to_json(self) -> dict[str, Any]:
        """The results.json dictionary; a smoke test's checks have ``"ok": None`` (not evaluated)."""
        checks = [{"text": text, "ok": ok} for text, ok in self.checks]
        if self.smoke_test:
            checks = [{"text": check["text"].replace(": yes, ", ": measured ", 1).replace(": NO, ", ": measured ", 1),
                       "ok": None} for check in checks]
        return {
            "study": self.study.name,
            "title": self.title,
            "mode": self.mode,
            "smoke_test": self.smoke_test,
            "dataset": self.study.data.as_dict(),
            "architecture": {"hidden": list(self.study.hidden), "loss": self.study.loss},
            "runs": [variant.summary() for variant in self.variants],
            "checks": checks,
            "seconds": self.seconds,
            **{key: value for key, value in self.extras.items() if not key.startswith("_")},
        }


def check_expectations(study: Study, variants: list[VariantResult]) -> list[tuple[str, bool]]:
    """Evaluate the study's expectations on the means over seeds: ``[(text with the figures, held), ...]``."""
    by_name = {variant.name: variant for variant in variants}
    checks = []
    for expectation in study.expectations:
        left = by_name[expectation.left].metric(expectation.metric)[0]
        right = expectation.right
        if isinstance(right, str):
            right = by_name[right].metric(expectation.metric)[0]
        if left is None or right is None:
            checks.append((f"{expectation.text}: not measured ({expectation.metric} missing)", False))
            continue
        ok = expectation.holds(left, right)
        relation = expectation.op if ok else f"is not {expectation.op}"
        other = f"{expectation.right} " if isinstance(expectation.right, str) else ""
        figures = f"{expectation.left} {left:.4g} {relation} {other}{right:.4g} ({expectation.metric})"
        checks.append((f"{expectation.text}: {'yes' if ok else 'NO'}, {figures}", ok))
    return checks


def record_every_for(study: Study, epochs: int) -> int:
    return max(1, math.ceil(epochs / study.points))


def run_comparison(
    study: Study,
    mode: str = "robust",
    seeds: Iterable[int] = (0, 1, 2),
    epochs: int | None = None,
    progress: Callable[[str], None] | None = None,
    fit_options: Mapping[str, Any] | None = None,
) -> StudyResult:
    """Run every variant of ``study`` over ``seeds`` (robust) or once on the course's stream (course-exact).

    ``epochs`` overrides the recipe's (``--quick`` passes the recipe's ``quick_epochs``); ``progress`` is
    called with a label after every run; ``fit_options`` go to every ``model.fit`` (e.g. ``engine``;
    ``callbacks`` run after the study's own).
    """
    validate_params(COMPARISON_CONSTRAINTS, mode=mode)
    started = time.perf_counter()
    data = study.data.load()
    results: list[VariantResult] = []
    title = study.title
    if mode == "course-exact":
        versions = study.course or (CourseVersion(study.title, study.epochs, study.variants),)
        for version in versions:
            n_epochs = version.epochs if epochs is None else epochs
            for variant in version.variants:
                label = variant.name if len(versions) == 1 else f"{version.title}: {variant.name}"
                source = CourseRandom(version.init_seed, version.shuffle_seed, version.dropout_seed)
                run = train_once(
                    study.hidden, study.loss, data, study.settings(variant), n_epochs, source, True,
                    record_every_for(study, n_epochs), study.record_iterations, fit_options,
                )
                results.append(VariantResult(label, study.settings(variant), [run], variant.published))
                if progress:
                    progress(label)
        checks = [
            (f"{result.name}: {_published_text(result)}", bool(result.matches_published()))
            for result in results
            if result.published
        ]
        if not study.course:  # no published figures: check the conclusions on the course's one draw
            checks = check_expectations(study, results)
    else:
        seeds = [validate_params(COMPARISON_CONSTRAINTS, seed=seed)["seed"] for seed in seeds]
        n_epochs = study.epochs if epochs is None else epochs
        for variant in study.variants:
            runs = []
            for seed in seeds:
                runs.append(
                    train_once(
                        study.hidden, study.loss, data, study.settings(variant), n_epochs, seed, False,
                        record_every_for(study, n_epochs), study.record_iterations, fit_options,
                    )
                )
                if progress:
                    progress(f"{variant.name} seed {seed}")
            results.append(VariantResult(variant.name, study.settings(variant), runs))
        checks = check_expectations(study, results)
    return StudyResult(study, mode, title, data, results, checks, seconds=time.perf_counter() - started)


def _published_text(result: VariantResult) -> str:
    parts = []
    for key, value in (result.published or {}).items():
        ours = result.metric(key)[0]
        parts.append(f"{key} {ours:.4f} (published {value:g})")
    verdict = "matches" if result.matches_published() else "DIFFERS"
    return f"{', '.join(parts)}: {verdict}"


def count_runs(study: Study, mode: str, n_seeds: int) -> int:
    """How many training runs :func:`run_comparison` makes (for the progress bar)."""
    if mode == "course-exact":
        versions = study.course or (CourseVersion(study.title, study.epochs, study.variants),)
        return sum(len(version.variants) for version in versions)
    return len(study.variants) * n_seeds
