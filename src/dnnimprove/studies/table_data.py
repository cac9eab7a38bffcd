"""A study's data read from the user's file: split, then preprocessed with what the training split teaches.

:class:`TableSpec` is the file counterpart of :class:`~dnnimprove.studies.recipe.DataSpec`: same
``load() -> Data`` and ``as_dict()``, so the runner, the report and the CLI treat both alike. ``load``
reads the file (:func:`dnnimprove.tables.read_table`), takes the target column out, splits the rows
into train/dev/test (stratified for classification), fits the
:class:`~dnnimprove.preprocessing.Preprocessing` on the training rows only and transforms every split
with it; the returned :class:`Data` carries it (``data.preprocessing``) so that a model trained on it can
be saved with it and predict on raw rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import data as datasets
from .._validation import Constraint, Integer, validate_params
from ..preprocessing import PREPROCESSING_CONSTRAINTS, fit_preprocessing, infer_task
from ..tables import TableError, read_table, split_target
from .recipe import Data

__all__ = ["TableSpec", "prepare_table", "split_rows"]


@dataclass(frozen=True)
class TableSpec:
    """Where a study's data comes from when it is a file.

    Parameters
    ----------
    path : str
        A ``.csv``/``.tsv``, ``.parquet``, ``.feather`` or ``.npz`` file (see :mod:`dnnimprove.tables`).
    target : str
        The column to predict (``"y"`` for an ``.npz`` file).
    task : {"auto", "classification", "regression"}
    impute : {"mean", "median"} or None
        Impute missing feature values; ``None`` refuses them.
    drop : tuple of str
        Columns to leave out (identifiers, free text).
    test, dev : float
        Fractions of the rows split off (stratified for classification, seed ``split_seed``).
    standardize : bool
        Standardize the numeric columns (fitted on the training rows).
    """

    path: str
    target: str = "y"
    task: str = "auto"
    impute: str | None = None
    drop: tuple[str, ...] = ()
    test: float = 0.0
    dev: float = 0.0
    split_seed: int = 0
    standardize: bool = True

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        **PREPROCESSING_CONSTRAINTS, **datasets.SPLIT_CONSTRAINTS,
        "split_seed": Integer(low=0),
    }
    """Each setting's legal values (:func:`dnnimprove._validation.validate_params`); the file, its target and the
    columns to drop are checked when it is read."""

    def __post_init__(self) -> None:
        validate_params(self._parameter_constraints, task=self.task, impute=self.impute, test=self.test, dev=self.dev,
                        split_seed=self.split_seed)

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def read(self) -> tuple[dict, np.ndarray, str]:
        """``(features, y, task)`` of the whole file, with ``drop`` left out and ``task`` resolved."""
        source = f"data file {self.path!r}"
        table = read_table(self.path)
        for column in self.drop:
            if column not in table:
                raise TableError(f"{source} has no column {column!r} to drop")
            if column == self.target:
                raise TableError(f"cannot drop the target column {self.target!r}")
        table = {name: column for name, column in table.items() if name not in self.drop}
        features, y = split_target(table, self.target, source)
        task = self.task if self.task != "auto" else infer_task(y)
        return features, y, task

    def load(self) -> Data:
        features, y, task = self.read()
        return prepare_table(features, y, task=task, impute=self.impute, standardize=self.standardize, dev=self.dev,
                             test=self.test, seed=self.split_seed, target=self.target,
                             source=f"data file {self.path!r}")

    def as_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"file": self.path, "target": self.target, "task": self.task}
        if self.impute is not None:
            spec["impute"] = self.impute
        if self.drop:
            spec["drop"] = list(self.drop)
        if self.test or self.dev:
            spec.update(test_fraction=self.test, dev_fraction=self.dev, split_seed=self.split_seed)
        spec["standardize"] = self.standardize
        return spec


def split_rows(y: np.ndarray, task: str, dev: float, test: float, seed: int) -> tuple[np.ndarray, ...]:
    """Row indices ``(train, dev, test)``: shuffled with ``seed``, stratified for classification when every
    class has at least two rows; the sizes are ``round(test * m)`` and ``round(dev * m)``."""
    rows = np.arange(y.shape[0], dtype=np.float64).reshape(-1, 1)
    labels = np.unique(y.astype(str), return_inverse=True)[1] if task == "classification" else np.zeros(len(y))
    stratify = task == "classification" and int(np.bincount(labels).min()) >= 2
    train, dev_rows, test_rows, *_ = datasets.train_dev_test_split(rows, labels, dev=dev, test=test, seed=seed,
                                                                  stratify=stratify)
    return tuple(part[:, 0].astype(np.int64) for part in (train, dev_rows, test_rows))


def prepare_table(
    features: dict,
    y: np.ndarray,
    *,
    task: str = "auto",
    impute: str | None = None,
    standardize: bool = True,
    dev: float = 0.0,
    test: float = 0.0,
    seed: int = 0,
    target: str | None = None,
    source: str = "the table",
) -> Data:
    """Split a table's rows, fit the preprocessing on the training rows, and transform every split.

    Errors (one class, a column that cannot be used, a label or category only outside the training rows)
    raise :class:`~dnnimprove.tables.TableError` naming ``source``.
    """
    validate_params(TableSpec._parameter_constraints, task=task)
    if task == "auto":
        task = infer_task(y)
    if task == "classification":
        classes = np.unique(y.astype(str))
        if classes.size < 2:
            name = f"target column {target!r} of {source}" if target else f"y of {source}"
            raise TableError(f"{name} has one class ({classes[0].item()!r}); a classifier needs at least 2")
    train, dev_rows, test_rows = split_rows(y, task, dev, test, seed)
    take = lambda index: {name: column[index] for name, column in features.items()}  # noqa: E731
    try:
        prep = fit_preprocessing(take(train), y[train], task=task, impute=impute, standardize=standardize,
                                 target=target)
    except TableError:
        raise
    except ValueError as error:
        raise TableError(f"{source}: {error}") from None

    def split(index: np.ndarray) -> tuple[Any, Any]:
        if not len(index):
            return None, None
        try:
            return prep.transform(take(index)), prep.encode_target(y[index])
        except ValueError as error:
            raise TableError(f"{source}: {error}") from None

    X_train, y_train = split(train)
    X_dev, y_dev = split(dev_rows)
    X_test, y_test = split(test_rows)
    return Data(X_train, y_train, X_dev, y_dev, X_test, y_test, preprocessing=prep)
