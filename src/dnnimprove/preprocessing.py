"""Preprocessing of a user table, learned on the training split and carried by the model as plain data.

:func:`fit_preprocessing` learns, with scikit-learn's transformers, how raw columns become the network's
input matrix and how raw targets become what the loss expects:

- numeric columns: missing values refused (naming the column) or imputed (``impute="mean"`` or
  ``"median"``, :class:`sklearn.impute.SimpleImputer`), then standardized
  ``(x - mean) / scale`` (:class:`sklearn.preprocessing.StandardScaler`; a constant column keeps
  ``scale = 1``);
- text columns: one-hot encoded (:class:`sklearn.preprocessing.OneHotEncoder`; missing values take the
  most frequent category when imputing), one column per category in sorted order, after the numeric ones;
- the target: class labels (strings or numbers) mapped to ``0 .. k-1`` in sorted order, or, for
  regression, standardized with the training mean and scale (undone by :meth:`Preprocessing.decode`).

The result is a :class:`Preprocessing` whose whole state is plain data (column names and order,
imputation values, means and scales, category vocabularies, class labels), written to a model file as
JSON and read back without pickle: ``transform`` computes the same bits in the training process and in
a new one. Input matrix shape: ``(m, n_numeric + sum of the vocabulary sizes)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ._validation import Options, validate_params
from .tables import Table, as_table, is_table

__all__ = ["TASKS", "IMPUTE", "PREPROCESSING_CONSTRAINTS", "MAX_CATEGORIES", "Preprocessing", "fit_preprocessing",
           "preprocessing_for_arrays", "infer_task"]

TASKS = ("auto", "classification", "regression")
IMPUTE = ("mean", "median")
PREPROCESSING_CONSTRAINTS = {"task": Options(TASKS), "impute": Options(IMPUTE, none_ok=True)}
"""The legal values of :func:`fit_preprocessing`'s ``task`` and ``impute`` (a data file's too)."""
MAX_CATEGORIES = 200
"""A text column with more distinct values than this is refused as an identifier or free text."""
_AUTO_MAX_CLASSES = 20


def infer_task(y: np.ndarray) -> str:
    """``"classification"`` for text labels or at most 20 distinct integer values, else ``"regression"``."""
    if y.dtype.kind not in "iuf":
        return "classification"
    values = np.unique(y)
    integral = bool(np.all(values == np.round(values)))
    return "classification" if integral and values.size <= _AUTO_MAX_CLASSES else "regression"


def _label(value: Any) -> Any:
    """A class label as a JSON value: integral numbers as int, other numbers as float, else str."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() else float(value)
    return str(value)


def _category_text(value: Any) -> Any:
    """A categorical cell as text: a number read where text was expected prints as in the file (``3``, ``2.5``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


@dataclass
class Preprocessing:
    """How raw inputs and targets become the network's arrays; all state is plain data (see the module doc).

    Attributes
    ----------
    columns : list of str or None
        The raw feature columns, in the order the model expects; ``None``: inputs are arrays used as
        they are (only the labels are mapped).
    numeric, categorical : list of str
        The columns standardized and the columns one-hot encoded (together: ``columns``).
    impute : {"mean", "median"} or None
    fill : dict
        The imputation value of every column (``impute`` given): a float or a category.
    mean, scale : list of float
        Per numeric column; ``standardize=False`` leaves the columns as they are.
    categories : dict of str -> list of str
        The vocabulary of every categorical column, sorted.
    task : {"classification", "regression"}
    classes : list or None
        Class labels in the order of the network's outputs (classification).
    target : str or None
        The target column's name (dropped from tables at prediction time).
    target_mean, target_scale : float or None
        Regression targets are fitted as ``(y - target_mean) / target_scale`` when set.
    """

    columns: list[str] | None = None
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    impute: str | None = None
    standardize: bool = True
    fill: dict[str, Any] = field(default_factory=dict)
    mean: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    task: str = "classification"
    classes: list[Any] | None = None
    target: str | None = None
    target_mean: float | None = None
    target_scale: float | None = None

    # -- inputs -----------------------------------------------------------------------------
    @property
    def n_features_out(self) -> int | None:
        """Width of the transformed matrix (``None`` when arrays pass through)."""
        if self.columns is None:
            return None
        return len(self.numeric) + sum(len(self.categories[name]) for name in self.categorical)

    def transform(self, X: Any) -> np.ndarray:
        """Raw inputs (a DataFrame, a dict of columns, or a 2-D array with ``columns`` in order) -> float64 matrix.

        Raises ValueError naming the column: missing, extra or reordered columns; a missing value
        without imputation; text in a numeric column; a category not seen in training.
        """
        if self.columns is None:
            if is_table(X):
                raise ValueError("X is a table, but this model was trained on arrays: pass a 2-D numeric array")
            return X
        table = self._table(X)
        parts = []
        if self.numeric:
            parts.append(self._numeric(table))
        if self.categorical:
            parts.append(self._one_hot(table))
        return parts[0] if len(parts) == 1 else np.hstack(parts)

    def _table(self, X: Any) -> Table:
        if not is_table(X):
            array = np.asarray(X, dtype=object if np.asarray(X).dtype.kind not in "biuf" else None)
            if array.ndim != 2 or array.shape[1] != len(self.columns):
                raise ValueError(f"X must be a table with the columns {self.columns!r:.300} or a 2-D array of "
                                 f"{len(self.columns)} columns in that order; got shape {array.shape}")
            X = {name: array[:, index] for index, name in enumerate(self.columns)}
        table = as_table(X)
        given = [name for name in table if name != self.target]
        missing = [name for name in self.columns if name not in table]
        if missing:
            raise ValueError(f"X is missing the column(s) {', '.join(map(repr, missing))} the model was trained with")
        extra = [name for name in given if name not in self.columns]
        if extra:
            raise ValueError(f"X has the column(s) {', '.join(map(repr, extra))} the model was not trained with")
        if given != self.columns:
            moved = [name for name, expected in zip(given, self.columns) if name != expected]
            raise ValueError(f"X has the model's columns in another order (first differing: {moved[0]!r}); "
                             f"expected {self.columns!r:.300}")
        return table

    def _numeric(self, table: Table) -> np.ndarray:
        for name in self.numeric:
            if table[name].dtype.kind != "f":
                example = next(cell for cell in table[name] if cell is not None)
                raise ValueError(f"column {name!r} must be numeric, as in training; got text such as {example!r}")
        M = np.column_stack([table[name] for name in self.numeric])
        holes = np.isnan(M)
        if holes.any():
            if self.impute is None:
                name = self.numeric[int(np.argmax(holes.any(axis=0)))]
                raise ValueError(f"column {name!r} has {int(holes[:, self.numeric.index(name)].sum())} missing "
                                 "value(s) and the model was trained without imputation")
            M = np.where(holes, np.array([self.fill[name] for name in self.numeric]), M)
        if self.standardize:
            M = (M - np.array(self.mean)) / np.array(self.scale)
        return M

    def _one_hot(self, table: Table) -> np.ndarray:
        from sklearn.preprocessing import OneHotEncoder

        cells = np.empty((len(next(iter(table.values()))), len(self.categorical)), dtype=object)
        for index, name in enumerate(self.categorical):
            column = [_category_text(cell) for cell in table[name].tolist()]
            if any(cell is None for cell in column):
                if self.impute is None:
                    count = sum(cell is None for cell in column)
                    raise ValueError(f"column {name!r} has {count} missing value(s) and the model was trained "
                                     "without imputation")
                column = [self.fill[name] if cell is None else cell for cell in column]
            known = set(self.categories[name])
            unknown = next((cell for cell in column if cell not in known), None)
            if unknown is not None:
                raise ValueError(f"column {name!r} has the category {unknown!r}, not seen in training; "
                                 f"known: {self.categories[name]!r:.200}")
            cells[:, index] = column
        vocabularies = [np.array(self.categories[name], dtype=object) for name in self.categorical]
        encoder = OneHotEncoder(categories=vocabularies, sparse_output=False, dtype=np.float64)
        encoder.fit(np.array([[vocabulary[0] for vocabulary in vocabularies]], dtype=object))
        return encoder.transform(cells)

    # -- targets ----------------------------------------------------------------------------
    def encode_target(self, y: Any) -> np.ndarray:
        """Raw labels -> class indices ``0 .. k-1`` (int64), or regression targets -> the fitted scale."""
        y = np.asarray(y)
        if self.task == "regression":
            y = y.astype(np.float64)
            if self.target_mean is None:
                return y
            return (y - self.target_mean) / self.target_scale
        if self.classes is None:
            return y
        lookup = {label: index for index, label in enumerate(self.classes)}
        labels = [_label(value) for value in y.reshape(-1).tolist()]
        unknown = next((label for label in labels if label not in lookup), None)
        if unknown is not None:
            raise ValueError(f"y has the label {unknown!r}, not among the model's classes {self.classes!r:.200}")
        return np.array([lookup[label] for label in labels], dtype=np.int64)

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """Class indices -> labels (``classes``), or network outputs -> regression values in the target's units."""
        if self.task == "regression":
            return outputs if self.target_mean is None else outputs * self.target_scale + self.target_mean
        if self.classes is None:
            return outputs
        return np.asarray(self.classes)[outputs]

    # -- plain data -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """Every attribute as JSON values (floats round-trip exactly through ``json``)."""
        return {
            "columns": self.columns, "numeric": self.numeric, "categorical": self.categorical,
            "impute": self.impute, "standardize": self.standardize, "fill": self.fill,
            "mean": self.mean, "scale": self.scale, "categories": self.categories, "task": self.task,
            "classes": self.classes, "target": self.target, "target_mean": self.target_mean,
            "target_scale": self.target_scale,
        }

    @classmethod
    def from_json(cls, data: Any) -> "Preprocessing":
        """Rebuild from :meth:`to_json`'s output, checking every field; a bad field is a ValueError naming it."""
        return _from_json(data)


# -- fitting --------------------------------------------------------------------------------------
def fit_preprocessing(
    X: Any,
    y: Any,
    *,
    task: str = "auto",
    impute: str | None = None,
    standardize: bool = True,
    scale_target: bool = True,
    target: str | None = None,
) -> Preprocessing:
    """Learn a :class:`Preprocessing` from training inputs ``X`` and targets ``y``.

    Parameters
    ----------
    X : DataFrame, dict of columns, structured array, or 2-D numeric array
        A numeric array is used as it is (only the labels are mapped).
    y : array-like of shape (m,)
        Labels (strings or numbers) or regression values.
    task : {"auto", "classification", "regression"}
        ``auto``: see :func:`infer_task`.
    impute : {"mean", "median"} or None
        Fill missing values (text columns: the most frequent category); ``None`` refuses them.
    standardize : bool
        Standardize numeric columns.
    scale_target : bool
        Standardize regression targets (undone by :meth:`Preprocessing.decode`).
    target : str or None
        The target column's name, recorded so a table holding it can be passed at prediction time.

    Raises
    ------
    ValueError
        Naming the column: entirely missing, missing values without ``impute``, a text column with more
        than :data:`MAX_CATEGORIES` values; a target with one class.
    """
    validate_params(PREPROCESSING_CONSTRAINTS, task=task, impute=impute)
    try:
        y = np.asarray(y)
    except (TypeError, ValueError) as error:
        raise ValueError(f"y must be a 1-D array of labels or values; could not convert it: {error}") from None
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array (one label or value per row); got shape {y.shape}")
    if task == "auto":
        task = infer_task(y) if y.dtype.kind in "iuf" else "classification"
    prep = Preprocessing(task=task, impute=impute, standardize=standardize, target=target)
    _fit_target(prep, y, scale_target, target)
    if is_table(X):
        _fit_columns(prep, as_table(X))
    return prep


def _fit_target(prep: Preprocessing, y: np.ndarray, scale_target: bool, target: str | None) -> None:
    name = f"target column {target!r}" if target else "y"
    if prep.task == "regression":
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric for regression; got values such as {y.reshape(-1)[0]!r}")
        values = y.astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must hold finite numbers for regression")
        if scale_target:
            from sklearn.preprocessing import StandardScaler

            scaler = StandardScaler().fit(values.reshape(-1, 1))
            prep.target_mean, prep.target_scale = float(scaler.mean_[0]), float(scaler.scale_[0])
        return
    for index, value in enumerate(y.tolist()):
        if not isinstance(value, (str, int, float, bool, np.generic)) or isinstance(value, complex) or (
                isinstance(value, float) and not math.isfinite(value)):
            raise ValueError(f"{name} must hold class labels (text or numbers); got {value!r:.80} at index {index}")
    labels = [_label(value) for value in y.tolist()]
    kinds = {type(label) for label in labels}
    if str in kinds and len(kinds) > 1:
        labels = [str(label) for label in labels]
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"{name} has one class ({classes[0]!r}); a classifier needs at least 2")
    prep.classes = classes


def _fit_columns(prep: Preprocessing, table: Table) -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if prep.target is not None:
        table = {name: column for name, column in table.items() if name != prep.target}
    for name, column in table.items():
        missing = np.isnan(column) if column.dtype.kind == "f" else np.array([cell is None for cell in column])
        if missing.all():
            raise ValueError(f"column {name!r} is entirely missing; drop it")
        if missing.any() and prep.impute is None:
            raise ValueError(f"column {name!r} has {int(missing.sum())} missing value(s); impute them "
                             "(impute='mean' or 'median', --impute on the command line) or drop those rows")
    prep.columns = list(table)
    prep.numeric = [name for name in table if table[name].dtype.kind == "f"]
    prep.categorical = [name for name in table if table[name].dtype.kind != "f"]
    if prep.numeric:
        M = np.column_stack([table[name] for name in prep.numeric])
        steps = ([SimpleImputer(strategy=prep.impute)] if prep.impute else []) + [StandardScaler()]
        pipeline = make_pipeline(*steps).fit(M)
        if prep.impute:
            prep.fill.update({name: float(value) for name, value in zip(prep.numeric, pipeline[0].statistics_)})
        scaler = pipeline[-1]
        prep.mean = [float(value) for value in scaler.mean_]
        prep.scale = [float(value) for value in scaler.scale_]
    if prep.categorical:
        cells = np.empty((len(next(iter(table.values()))), len(prep.categorical)), dtype=object)
        for index, name in enumerate(prep.categorical):
            cells[:, index] = [np.nan if cell is None else cell for cell in table[name]]
        steps = ([SimpleImputer(strategy="most_frequent", missing_values=np.nan)] if prep.impute else [])
        pipeline = make_pipeline(*steps, OneHotEncoder(sparse_output=False)).fit(cells)
        if prep.impute:
            prep.fill.update({name: str(value) for name, value in zip(prep.categorical, pipeline[0].statistics_)})
        for name, vocabulary in zip(prep.categorical, pipeline[-1].categories_):
            if len(vocabulary) > MAX_CATEGORIES:
                raise ValueError(f"column {name!r} is text with {len(vocabulary)} distinct values (more than "
                                 f"{MAX_CATEGORIES}): an identifier or free text, not a category; drop it")
            prep.categories[name] = [str(value) for value in vocabulary]


# -- reading back ---------------------------------------------------------------------------------
def _from_json(data: Any) -> Preprocessing:
    def bad(field_name: str, value: Any) -> ValueError:
        return ValueError(f"preprocessing field {field_name} is invalid: {value!r:.120}")

    def strings(field_name: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise bad(field_name, value)
        if len(set(value)) != len(value):
            raise bad(field_name, value)
        return value

    def finite(field_name: str, value: Any, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad(field_name, value)
        if positive and value <= 0:
            raise bad(field_name, value)
        return float(value)

    if not isinstance(data, dict):
        raise bad("(section)", data)
    known = set(Preprocessing().to_json())
    unknown = sorted(set(data) - known)
    if unknown:
        raise bad(unknown[0], data[unknown[0]])
    prep = Preprocessing()
    task = data.get("task")
    if task not in ("classification", "regression"):
        raise bad("task", task)
    prep.task = task
    impute = data.get("impute")
    if impute is not None and impute not in IMPUTE:
        raise bad("impute", impute)
    prep.impute = impute
    if not isinstance(data.get("standardize"), bool):
        raise bad("standardize", data.get("standardize"))
    prep.standardize = data["standardize"]
    target = data.get("target")
    if target is not None and not isinstance(target, str):
        raise bad("target", target)
    prep.target = target
    classes = data.get("classes")
    if classes is not None:
        if (not isinstance(classes, list) or len(classes) < 2 or len(set(map(repr, classes))) != len(classes)
                or not all(isinstance(c, (str, int, float)) and not isinstance(c, bool) for c in classes)):
            raise bad("classes", classes)
    if (classes is None) != (task == "regression"):
        raise bad("classes", classes)
    prep.classes = classes
    for key in ("target_mean", "target_scale"):
        value = data.get(key)
        setattr(prep, key, None if value is None else finite(key, value, positive=key == "target_scale"))
    if (prep.target_mean is None) != (prep.target_scale is None):
        raise bad("target_scale", prep.target_scale)
    columns = data.get("columns")
    if columns is None:
        return prep
    prep.columns = strings("columns", columns)
    prep.numeric = strings("numeric", data.get("numeric"))
    prep.categorical = strings("categorical", data.get("categorical"))
    if sorted(prep.numeric + prep.categorical) != sorted(prep.columns) or not prep.columns:
        raise bad("numeric", prep.numeric)
    for key in ("mean", "scale"):
        values = data.get(key)
        if not isinstance(values, list) or len(values) != len(prep.numeric):
            raise bad(key, values)
        setattr(prep, key, [finite(f"{key}[{index}]", value, positive=key == "scale") for index, value in enumerate(values)])
    categories = data.get("categories")
    if not isinstance(categories, dict) or sorted(categories) != sorted(prep.categorical):
        raise bad("categories", categories)
    for name in prep.categorical:
        vocabulary = strings(f"categories[{name!r}]", categories[name])
        if not vocabulary:
            raise bad(f"categories[{name!r}]", vocabulary)
    prep.categories = categories
    fill = data.get("fill")
    if not isinstance(fill, dict) or (impute is not None and sorted(fill) != sorted(prep.columns)) or (
            impute is None and fill):
        raise bad("fill", fill)
    for name, value in fill.items():
        if name in prep.numeric:
            finite(f"fill[{name!r}]", value)
        elif not isinstance(value, str) or value not in prep.categories[name]:
            raise bad(f"fill[{name!r}]", value)
    prep.fill = fill
    return prep


def preprocessing_for_arrays(y: Any, task: str) -> Preprocessing | None:
    """The label mapping needed to fit ``y`` with arrays as inputs (``None`` when ``y`` is numeric)."""
    y = np.asarray(y)
    if task == "regression" or y.dtype.kind in "iuf":
        return None
    return fit_preprocessing(None, y, task="classification")

