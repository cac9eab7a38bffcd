"""A study is data: a dataset, an architecture, the variants to compare and what the course concluded.

Nothing here trains. :mod:`dnnimprove.studies.runner` turns a :class:`Study` into runs, and
:mod:`dnnimprove.report` turns the runs into a table and figures.

A variant's ``settings`` is a flat dict with the keys of :data:`SETTINGS` (the same names as the
``dnnimprove train`` options), so a recipe can be written down, printed and saved as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np

from .. import data as datasets
from .._validation import Constraint, Options, Real, check_choice, validate_params

__all__ = ["SETTINGS", "DataSpec", "Data", "Variant", "CourseVersion", "Expectation", "Study", "check_settings"]

SETTINGS: dict[str, Any] = {
    "init": "he",              # weight initializer of every Dense layer
    "activation": "relu",      # hidden activation
    "optimizer": "gd",         # gd | momentum | rmsprop | adam | adamw
    "lr": 0.01,                # learning rate (lr0 when a schedule is given)
    "beta": None,              # momentum / RMSprop beta (None: the optimizer's default)
    "beta1": None,             # Adam beta1
    "beta2": None,             # Adam beta2
    "batch_size": None,        # None: batch gradient descent; 1: stochastic
    "schedule": None,          # None | inverse_time | inverse_sqrt | fixed_interval | exponential | step | cosine
    "decay_rate": 1.0,         # for inverse_time / fixed_interval / exponential
    "time_interval": 1000,     # for fixed_interval
    "l2": 0.0,                 # L2 strength lambd
    "l1": 0.0,                 # L1 strength (the course's (lambd / (2 m)) sum |W|)
    "keep_prob": None,         # inverted dropout after every hidden activation (None: no dropout)
    "batch_norm": False,       # batch norm between every hidden Dense layer and its activation
    "early_stopping": None,    # patience in recorded epochs, monitored on the dev set (None: off)
}
"""Every key a variant may set, with its default."""


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Fill in the defaults of :data:`SETTINGS`; an unknown key is an error naming the valid ones."""
    for key in settings:
        check_choice("setting", key, SETTINGS)
    return {**SETTINGS, **settings}


@dataclass(frozen=True)
class Data:
    """Arrays of one study: rows are examples; ``X_dev``/``X_test`` are ``None`` when there is none."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray | None = None
    y_dev: np.ndarray | None = None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    preprocessing: Any = None
    """The :class:`~dnnimprove.preprocessing.Preprocessing` that made these arrays from a file (None: built-in data)."""

    @property
    def task(self) -> str:
        return "classification" if self.preprocessing is None else self.preprocessing.task

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        if self.preprocessing is not None and self.preprocessing.classes is not None:
            return len(self.preprocessing.classes)
        return int(np.max(self.y_train)) + 1


@dataclass(frozen=True)
class DataSpec:
    """Where a study's data comes from.

    Parameters
    ----------
    name : str
        A key of ``dnnimprove.data.DATASETS``.
    settings : mapping
        Passed to the loader (e.g. ``{"n_samples": 300, "noise": 0.05, "seed": 1}``).
    test_settings : mapping or None
        Draw the test set from the same generator with these settings (the course's circles: seed 2, 100).
    test, dev : float
        Otherwise split these fractions off (stratified, seed ``split_seed``); 0 means none.
    standardize : bool
        Standardize the inputs with a :class:`~dnnimprove.data.Standardizer` fitted on the training set.
    """

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    test_settings: Mapping[str, Any] | None = None
    test: float = 0.0
    dev: float = 0.0
    split_seed: int = 0
    standardize: bool = False

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "dataset": datasets.LOAD_CONSTRAINTS["dataset"], **datasets.SPLIT_CONSTRAINTS,
    }
    """The legal values of ``name`` (called ``dataset`` in its message, as in :func:`dnnimprove.data.load`),
    ``test`` and ``dev`` (:func:`dnnimprove._validation.validate_params`); the loader checks ``settings``."""

    def __post_init__(self) -> None:
        validate_params(self._parameter_constraints, dataset=self.name, test=self.test, dev=self.dev)

    def load(self) -> Data:
        X, y = datasets.load(self.name, **self.settings)
        X_dev = y_dev = X_test = y_test = None
        if self.test or self.dev:
            X, X_dev, X_test, y, y_dev, y_test = datasets.train_dev_test_split(
                X, y, dev=self.dev, test=self.test, seed=self.split_seed
            )
        if self.test_settings is not None:
            X_test, y_test = datasets.load(self.name, **self.test_settings)
        if self.standardize:
            scaler = datasets.Standardizer().fit(X)
            X = scaler.transform(X)
            X_dev = scaler.transform(X_dev) if X_dev is not None and len(X_dev) else X_dev
            X_test = scaler.transform(X_test) if X_test is not None and len(X_test) else X_test
        none_if_empty = lambda a: a if a is not None and len(a) else None  # noqa: E731
        return Data(X, y, none_if_empty(X_dev), none_if_empty(y_dev), none_if_empty(X_test), none_if_empty(y_test))

    def as_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name, **dict(self.settings)}
        if self.test_settings is not None:
            spec["test_set"] = dict(self.test_settings)
        if self.test or self.dev:
            spec.update(test_fraction=self.test, dev_fraction=self.dev, split_seed=self.split_seed)
        spec["standardize"] = self.standardize
        return spec


@dataclass(frozen=True)
class Variant:
    """One arm of a comparison: a name and the settings that differ from the study's ``base``.

    ``published`` holds the course's published figures for this arm (``{"train_accuracy": 0.9433}``),
    checked in course-exact mode.
    """

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    published: Mapping[str, float] | None = None


@dataclass(frozen=True)
class CourseVersion:
    """A course-exact version of a study: the course's seeds, epochs and variants with published figures.

    The random source is ``CourseRandom(init_seed, shuffle_seed, dropout_seed)``; schedules are shifted
    by one epoch, as the course applies decay after each epoch from its index.
    """

    title: str
    epochs: int
    variants: tuple[Variant, ...]
    init_seed: int = 3
    shuffle_seed: int = 10
    dropout_seed: int | None = None


OPERATORS = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}


@dataclass(frozen=True)
class Expectation:
    """A conclusion of the course, checked in robust mode on the means over seeds.

    ``left op right`` where ``left`` names a variant, ``right`` names a variant or is a number, and
    ``metric`` is a run summary key: ``train_accuracy``, ``dev_accuracy``, ``test_accuracy``,
    ``final_cost``, ``gap`` (train minus test accuracy) or ``near_zero`` (the fraction of weights below
    0.01 in size, L1's sparsity). E.g.
    ``Expectation("He beats large random", "he", ">", "large_random")``.
    """

    text: str
    left: str
    op: str
    right: str | float
    metric: str = "train_accuracy"

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "op": Options(OPERATORS),
        "metric": Options(("train_accuracy", "dev_accuracy", "test_accuracy", "final_cost", "gap", "near_zero")),
    }
    """The legal values of ``op`` and ``metric`` (:func:`dnnimprove._validation.validate_params`); the variants
    ``left`` and ``right`` name are checked by the :class:`Study` that holds the expectation."""

    def __post_init__(self) -> None:
        validate_params(self._parameter_constraints, op=self.op, metric=self.metric)

    def holds(self, left: float, right: float) -> bool:
        return OPERATORS[self.op](float(left), float(right))


@dataclass(frozen=True)
class Study:
    """A classic experiment as a recipe.

    Parameters
    ----------
    name, title : str
    lesson : str
        One sentence: what the course teaches with it (the report's reading, line 1).
    data : DataSpec
    hidden : tuple of int
        Hidden layer widths; the output width follows from the loss and the data.
    loss : str
    epochs, quick_epochs : int
        Epochs of a run, and of a ``--quick`` run (tests, smoke checks).
    base : mapping
        Settings shared by every variant (see :data:`SETTINGS`).
    variants : tuple of Variant
    expectations : tuple of Expectation
        The course's conclusions, checked in robust mode.
    figures : tuple of str
        Which figures the report draws (``cost``, ``cost_time``, ``iterations``, ``boundary``, ``lr``, ``confusion``,
        ``tuning``, ``gradcheck``).
    course : tuple of CourseVersion
        The course-exact versions (empty: course-exact mode runs the robust recipe once on the course's
        random source).
    kind : str
        ``"compare"`` (variants over seeds), ``"tuning"`` or ``"gradcheck"``: which runner runs it.
    points : int
        About how many epochs of each run are recorded (the cost is only computed on those).
    record_iterations : bool
        Also record every mini-batch step's cost (for the ``iterations`` figure).
    extra : mapping
        What a special runner needs besides the above (the tuning study's search space and grid).
    """

    name: str
    title: str
    lesson: str
    data: DataSpec
    hidden: tuple[int, ...]
    epochs: int
    quick_epochs: int
    variants: tuple[Variant, ...] = ()
    base: Mapping[str, Any] = field(default_factory=dict)
    loss: str = "binary_crossentropy"
    expectations: tuple[Expectation, ...] = ()
    figures: tuple[str, ...] = ("cost",)
    course: tuple[CourseVersion, ...] = ()
    kind: str = "compare"
    points: int = 100
    record_iterations: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_settings(self.base)
        for variant in self.variants + tuple(v for version in self.course for v in version.variants):
            check_settings(variant.settings)
        names = [variant.name for variant in self.variants]
        for expectation in self.expectations:
            check_choice("variant", expectation.left, names)
            if isinstance(expectation.right, str):
                check_choice("variant", expectation.right, names)

    def settings(self, variant: Variant) -> dict[str, Any]:
        """The full settings of ``variant``: defaults, then the study's base, then the variant's own."""
        return check_settings({**self.base, **variant.settings})
