"""Save and load a fitted estimator, or a Pipeline of preprocessing + estimator, without pickle.

Usage::

    dn.save_estimator(pipeline, "clf.npz")      # make_pipeline(StandardScaler(), dn.DNNClassifier(...)).fit(X, y)
    pipeline = dn.load_estimator("clf.npz")     # predicts exactly as before

The file is a :mod:`dnnimprove.persistence` model file (the same ``.npz`` + JSON header, written
atomically, read without pickle and checked before use; ``dn.load`` reads the network out of it) whose
header has ``kind = "estimator"`` and an ``estimator`` section describing the object tree:

=====================================  ======================================================================
object                                 what is saved
=====================================  ======================================================================
``DNNClassifier`` / ``DNNRegressor``   its parameters (``callbacks`` and a ``Generator`` ``random_state`` are
                                       saved as ``None``), ``classes_``, ``n_features_in_``,
                                       ``feature_names_in_``, the learned curves (``n_iter_``, ``t_``,
                                       ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
                                       ``best_validation_score_``) and the network (the file's model section)
``Pipeline``                           its steps (``"passthrough"`` allowed) and parameters
``StandardScaler``                     parameters and ``mean_``, ``scale_``, ``var_``, ``n_samples_seen_``
``dn.Standardizer``                    ``mean_``, ``std_``
``OneHotEncoder``                      parameters and ``categories_`` (numbers or strings); rebuilt by fitting
                                       on its own categories, so ``min_frequency`` / ``max_categories`` (which
                                       depend on counts) are refused
``ColumnTransformer``                  parameters with plain column lists, and each fitted transformer
                                       (``"drop"`` / ``"passthrough"`` too); rebuilt by fitting on one row made
                                       of its columns' known values, then given the saved transformers
=====================================  ======================================================================

Anything else (another class, a parameter that is not a plain value, a callable column selector) is a
``ValueError`` naming it, before anything is written. The optimizer state and ``history_`` are not
saved: a loaded estimator predicts; ``warm_start`` / ``partial_fit`` on it start a fresh optimizer.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from .persistence import Archive, ModelFileError, model_arrays, model_from_archive, model_header, read_archive, write_archive

__all__ = ["save_estimator", "load_estimator"]

KIND = "estimator"
_ARRAY_DTYPES = ("float64", "float32", "int64", "int32", "bool")
_LEARNED = ("n_iter_", "t_", "loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_")


# -- plain values ------------------------------------------------------------------------------------------
def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON: tuples, dicts, dtypes and NumPy scalars tagged so that they come back as they were."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, tuple):
        return {"tuple": [_plain(item, f"{where}[{index}]") for index, item in enumerate(value)]}
    if isinstance(value, list):
        return [_plain(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"dict": {key: _plain(item, f"{where}[{key!r}]") for key, item in value.items()}}
    if isinstance(value, type) and issubclass(value, np.generic) and np.dtype(value).name in _ARRAY_DTYPES:
        return {"dtype": np.dtype(value).name}
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return _labels(value, where)
    raise ValueError(f"cannot save {where}={value!r:.80}: only plain values (numbers, strings, lists, dicts) are saved")


def _unplain(value: Any, where: str) -> Any:
    if isinstance(value, list):
        return [_unplain(item, where) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"tuple"}:
        return tuple(_unplain(item, where) for item in value["tuple"])
    if set(value) == {"dict"} and isinstance(value["dict"], dict):
        return {key: _unplain(item, where) for key, item in value["dict"].items()}
    if set(value) == {"dtype"} and value["dtype"] in _ARRAY_DTYPES:
        return np.dtype(value["dtype"]).type
    if set(value) == {"labels", "kind"}:
        return _unlabels(value, where)
    raise ModelFileError(f"{where}: not a saved value ({value!r:.80})")


def _labels(array: np.ndarray, where: str) -> dict:
    """A 1-D array of labels or categories (numbers, booleans or strings) as JSON."""
    kind = array.dtype.kind
    if kind in "biuf":
        return {"labels": array.tolist(), "kind": array.dtype.name}
    if kind in "OUS" and all(isinstance(item, str) for item in array.tolist()):
        return {"labels": array.tolist(), "kind": "object" if kind == "O" else "str"}
    raise ValueError(f"cannot save {where}: its values must be numbers or strings; got dtype {array.dtype}")


def _unlabels(value: dict, where: str) -> np.ndarray:
    labels, kind = value["labels"], value["kind"]
    if not isinstance(labels, list):
        raise ModelFileError(f"{where}: labels must be a list")
    if kind == "object":
        return np.array(labels, dtype=object)
    if kind == "str":
        return np.array(labels, dtype=str)
    if kind in _ARRAY_DTYPES or kind in ("int8", "int16", "uint8", "uint16", "uint32", "uint64", "float16"):
        return np.array(labels, dtype=kind)
    raise ModelFileError(f"{where}: unknown label kind {kind!r:.40}")


# -- writing -----------------------------------------------------------------------------------------------
class _Writer:
    """Turns an object tree into the header's ``estimator`` section and the file's extra arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.network: Any = None

    def array(self, key: str, value: Any, where: str) -> dict:
        value = np.asarray(value)
        if value.dtype.name not in _ARRAY_DTYPES:
            raise ValueError(f"cannot save {where}: arrays of dtype {value.dtype} are not saved")
        self.arrays[key] = value
        return {"key": key, "shape": list(value.shape), "dtype": value.dtype.name}

    def params(self, obj: Any, where: str, skip: tuple[str, ...] = ()) -> dict:
        return {name: _plain(value, f"{where}.{name}") for name, value in obj.get_params(deep=False).items()
                if name not in skip}

    def node(self, obj: Any, where: str) -> Any:
        if isinstance(obj, str) and obj in ("passthrough", "drop"):
            return obj
        if type(obj).__name__ == "FunctionTransformer" and obj.func is None and obj.inverse_func is None:
            return "passthrough"  # how a fitted ColumnTransformer holds its "passthrough" columns
        if obj is None:
            return None
        name = type(obj).__name__
        encode = _ENCODERS.get(name)
        if encode is None or type(obj).__module__.split(".")[0] not in ("sklearn", "dnnimprove"):
            raise ValueError(
                f"cannot save {where} ({type(obj).__name__}) without pickle: the saved kinds are "
                f"{', '.join(sorted(_ENCODERS))}"
            )
        return {"class": name, **encode(self, obj, where)}


def _fitted(obj: Any, attribute: str, where: str) -> None:
    if not hasattr(obj, attribute):
        raise ValueError(f"cannot save {where} ({type(obj).__name__}): it is not fitted")


def _encode_dnn(writer: _Writer, estimator: Any, where: str) -> dict:
    _fitted(estimator, "model_", where)
    if writer.network is not None:
        raise ValueError(f"cannot save {where}: a file holds one dnnimprove network")
    writer.network = estimator.model_
    params = writer.params(estimator, where, skip=("callbacks", "random_state"))
    random_state = estimator.random_state
    params["random_state"] = random_state if isinstance(random_state, int) and not isinstance(random_state, bool) else None
    params["callbacks"] = None
    attributes = {name: _plain(getattr(estimator, name), f"{where}.{name}") for name in _LEARNED if hasattr(estimator, name)}
    attributes["n_features_in_"] = estimator.n_features_in_
    if hasattr(estimator, "classes_"):
        attributes["classes_"] = _labels(estimator.classes_, f"{where}.classes_")
    if hasattr(estimator, "feature_names_in_"):
        attributes["feature_names_in_"] = _labels(estimator.feature_names_in_, f"{where}.feature_names_in_")
    if hasattr(estimator, "_single_output"):
        attributes["single_output"] = bool(estimator._single_output)
    return {"params": params, "attributes": attributes}


def _encode_pipeline(writer: _Writer, pipeline: Any, where: str) -> dict:
    steps = [[name, writer.node(step, f"{where}.{name}")] for name, step in pipeline.steps]
    return {"params": writer.params(pipeline, where, skip=("steps", "memory")), "steps": steps}


def _encode_scaler(writer: _Writer, scaler: Any, where: str) -> dict:
    _fitted(scaler, "n_features_in_", where)
    arrays = {name: writer.array(f"{where}.{name}", getattr(scaler, name), f"{where}.{name}")
              for name in ("mean_", "scale_", "var_", "n_samples_seen_") if getattr(scaler, name, None) is not None}
    attributes = {"n_features_in_": scaler.n_features_in_}
    if hasattr(scaler, "feature_names_in_"):
        attributes["feature_names_in_"] = _labels(scaler.feature_names_in_, f"{where}.feature_names_in_")
    return {"params": writer.params(scaler, where), "arrays": arrays, "attributes": attributes}


def _encode_standardizer(writer: _Writer, standardizer: Any, where: str) -> dict:
    _fitted(standardizer, "mean_", where)
    arrays = {name: writer.array(f"{where}.{name}", getattr(standardizer, name), f"{where}.{name}") for name in ("mean_", "std_")}
    return {"params": {}, "arrays": arrays, "attributes": {"n_features_in_": standardizer.n_features_in_}}


def _encode_one_hot(writer: _Writer, encoder: Any, where: str) -> dict:
    _fitted(encoder, "categories_", where)
    for name in ("min_frequency", "max_categories"):
        if getattr(encoder, name) is not None:
            raise ValueError(f"cannot save {where}: OneHotEncoder({name}={getattr(encoder, name)!r}) groups categories "
                             "by their counts, which a saved encoder cannot rebuild")
    categories = [_labels(values, f"{where}.categories_[{index}]") for index, values in enumerate(encoder.categories_)]
    attributes: dict[str, Any] = {"categories_": categories}
    if hasattr(encoder, "feature_names_in_"):
        attributes["feature_names_in_"] = _labels(encoder.feature_names_in_, f"{where}.feature_names_in_")
    return {"params": writer.params(encoder, where, skip=("categories",)), "attributes": attributes}


def _column_spec(columns: Any, where: str) -> Any:
    if isinstance(columns, (str, int)) and not isinstance(columns, bool):
        return columns
    if isinstance(columns, (list, tuple, np.ndarray)):
        items = list(np.asarray(columns).tolist()) if isinstance(columns, np.ndarray) else list(columns)
        if all(isinstance(item, str) for item in items) or all(isinstance(item, int) and not isinstance(item, bool) for item in items):
            return items
    raise ValueError(f"cannot save {where}: columns {columns!r:.60} (only a name, an index or a list of them is saved)")


def _encode_columns(writer: _Writer, transformer: Any, where: str) -> dict:
    _fitted(transformer, "transformers_", where)
    fitted = []
    for name, step, columns in transformer.transformers_:
        if name == "remainder" and isinstance(step, str):
            fitted.append([name, step, None])
            continue
        columns = list(transformer._remainder[2]) if name == "remainder" else columns
        fitted.append([name, writer.node(step, f"{where}.{name}"), _column_spec(columns, f"{where}.{name}")])
    params = writer.params(transformer, where, skip=("transformers", "remainder", "n_jobs", "verbose"))
    remainder = transformer.remainder
    params["remainder"] = remainder if isinstance(remainder, str) else None
    attributes: dict[str, Any] = {"n_features_in_": transformer.n_features_in_}
    if hasattr(transformer, "feature_names_in_"):
        attributes["feature_names_in_"] = _labels(transformer.feature_names_in_, f"{where}.feature_names_in_")
    return {"params": params, "fitted": fitted, "attributes": attributes}


_ENCODERS: dict[str, Callable[[_Writer, Any, str], dict]] = {
    "DNNClassifier": _encode_dnn,
    "DNNRegressor": _encode_dnn,
    "Pipeline": _encode_pipeline,
    "StandardScaler": _encode_scaler,
    "Standardizer": _encode_standardizer,
    "OneHotEncoder": _encode_one_hot,
    "ColumnTransformer": _encode_columns,
}


def save_estimator(estimator: Any, path: str | os.PathLike) -> str:
    """Save a fitted ``DNNClassifier`` / ``DNNRegressor``, or a ``Pipeline`` of the saved preprocessing kinds
    ending in one, to ``path`` (atomically); returns the path. Nothing is written when anything is refused."""
    writer = _Writer()
    tree = writer.node(estimator, "estimator")
    if writer.network is None:
        raise ValueError("cannot save: the object holds no fitted DNNClassifier / DNNRegressor")
    header = model_header(writer.network, kind=KIND)
    header[KIND] = tree
    arrays = model_arrays(writer.network)
    arrays.update({f"estimator.{key}": value for key, value in writer.arrays.items()})
    return write_archive(path, header, arrays)


# -- reading -----------------------------------------------------------------------------------------------
class _Reader:
    def __init__(self, archive: Archive, header: dict) -> None:
        self.archive, self.header = archive, header
        self.network: Any = None

    def error(self, where: str, problem: str) -> ModelFileError:
        return self.archive.error(f"header field {where}: {problem}")

    def section(self, spec: Any, where: str, key: str, kind: type) -> Any:
        if not isinstance(spec, dict) or not isinstance(spec.get(key, kind()), kind):
            raise self.error(where, f"{key} must be a {kind.__name__}")
        return spec.get(key, kind())

    def array(self, spec: Any, where: str) -> np.ndarray:
        if not isinstance(spec, dict) or spec.get("dtype") not in _ARRAY_DTYPES or not isinstance(spec.get("key"), str):
            raise self.error(where, f"not an array description ({spec!r:.80})")
        shape = spec.get("shape")
        if not isinstance(shape, list) or len(shape) > 2 or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise self.error(where, f"bad shape {shape!r:.40}")
        return self.archive.array(f"estimator.{spec['key']}", tuple(shape), spec["dtype"])

    def params(self, spec: dict, where: str) -> dict:
        return {name: _unplain(value, f"{where}.{name}") for name, value in self.section(spec, where, "params", dict).items()}

    def node(self, spec: Any, where: str) -> Any:
        if spec in ("passthrough", "drop", None):
            return spec
        if not isinstance(spec, dict) or spec.get("class") not in _DECODERS:
            raise self.error(where, f"unknown object {spec!r:.80}; the saved kinds are {', '.join(sorted(_DECODERS))}")
        try:
            return _DECODERS[spec["class"]](self, spec, where)
        except ModelFileError:
            raise
        except (TypeError, ValueError, KeyError, IndexError) as error:
            raise self.error(where, f"cannot rebuild {spec['class']}: {error}") from None


def _set_attributes(obj: Any, reader: _Reader, spec: dict, where: str) -> None:
    for name, value in reader.section(spec, where, "attributes", dict).items():
        if name in ("n_features_in_", *_LEARNED, "classes_", "feature_names_in_"):
            setattr(obj, name, _unplain(value, f"{where}.{name}"))


def _decode_dnn(reader: _Reader, spec: dict, where: str) -> Any:
    from .estimator import DNNClassifier, DNNRegressor

    cls = DNNClassifier if spec["class"] == "DNNClassifier" else DNNRegressor
    estimator = cls(**reader.params(spec, where))
    if reader.network is not None:
        raise reader.error(where, "a file holds one dnnimprove network")
    reader.network = estimator.model_ = model_from_archive(reader.archive, reader.header)
    _set_attributes(estimator, reader, spec, where)
    attributes = reader.section(spec, where, "attributes", dict)
    if cls is DNNRegressor:
        estimator._single_output = bool(attributes.get("single_output", True))
    elif len(getattr(estimator, "classes_", ())) != max(2, estimator.model_.n_outputs):
        raise reader.error(where, "classes_ do not fit the network's outputs")
    if estimator.n_features_in_ != estimator.model_.n_features_in_:
        raise reader.error(where, "n_features_in_ differs from the network's input width")
    return estimator


def _decode_pipeline(reader: _Reader, spec: dict, where: str) -> Any:
    from sklearn.pipeline import Pipeline

    steps = reader.section(spec, where, "steps", list)
    if not all(isinstance(step, list) and len(step) == 2 and isinstance(step[0], str) for step in steps):
        raise reader.error(where, "steps must be [name, step] pairs")
    return Pipeline([(name, reader.node(step, f"{where}.{name}")) for name, step in steps], **reader.params(spec, where))


def _decode_scaler(reader: _Reader, spec: dict, where: str) -> Any:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler(**reader.params(spec, where))
    for name, array in reader.section(spec, where, "arrays", dict).items():
        if name in ("mean_", "scale_", "var_", "n_samples_seen_"):
            value = reader.array(array, f"{where}.{name}")
            setattr(scaler, name, value if value.ndim else value[()])
    for name in ("mean_", "scale_", "var_"):
        if not hasattr(scaler, name):
            setattr(scaler, name, None)
    _set_attributes(scaler, reader, spec, where)
    return scaler


def _decode_standardizer(reader: _Reader, spec: dict, where: str) -> Any:
    from .data import Standardizer

    standardizer = Standardizer()
    arrays = reader.section(spec, where, "arrays", dict)
    standardizer.mean_ = reader.array(arrays.get("mean_"), f"{where}.mean_")
    standardizer.std_ = reader.array(arrays.get("std_"), f"{where}.std_")
    _set_attributes(standardizer, reader, spec, where)
    return standardizer


def _decode_one_hot(reader: _Reader, spec: dict, where: str) -> Any:
    from sklearn.preprocessing import OneHotEncoder

    attributes = reader.section(spec, where, "attributes", dict)
    categories = [_unlabels(value, f"{where}.categories_") for value in attributes.get("categories_", [])]
    if not categories or any(values.size == 0 for values in categories):
        raise reader.error(where, "categories_ must be non-empty lists")
    encoder = OneHotEncoder(categories=categories, **reader.params(spec, where))
    width = max(values.size for values in categories)
    columns = [np.resize(values, width) for values in categories]  # every category at least once
    names = attributes.get("feature_names_in_")
    encoder.fit(_frame(columns, _unlabels(names, where) if names else None))
    return encoder


def _frame(columns: list[np.ndarray], names: np.ndarray | None) -> Any:
    """The columns as a 2-D object array, or a pandas DataFrame with ``names`` (as the object was fitted)."""
    if names is None:
        return np.column_stack([np.asarray(column, dtype=object) for column in columns])
    import pandas

    return pandas.DataFrame({name: column for name, column in zip(names.tolist(), columns)})


def _decode_columns(reader: _Reader, spec: dict, where: str) -> Any:
    from sklearn.compose import ColumnTransformer

    attributes = reader.section(spec, where, "attributes", dict)
    fitted = reader.section(spec, where, "fitted", list)
    n_features = attributes.get("n_features_in_")
    if not isinstance(n_features, int) or not 0 < n_features <= 100_000:
        raise reader.error(where, "n_features_in_ must be a positive integer")
    names = attributes.get("feature_names_in_")
    names = _unlabels(names, where) if names else None
    steps, remainder = [], "drop"
    for entry in fitted:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)):
            raise reader.error(where, "fitted transformers must be [name, transformer, columns]")
        name, step, columns = entry[0], reader.node(entry[1], f"{where}.{entry[0]}"), entry[2]
        if name == "remainder":
            remainder = step
            continue
        steps.append((name, step, list(columns) if isinstance(columns, list) else columns))
    params = reader.params(spec, where)
    params["remainder"] = remainder if isinstance(remainder, str) else "passthrough"
    transformer = ColumnTransformer([(name, _placeholder(step), columns) for name, step, columns in steps], **params)
    transformer.fit(_frame(_one_row(steps, n_features, names), names))
    restored = {name: step for name, step, _ in steps}
    if not isinstance(remainder, str):
        restored["remainder"] = remainder
    transformer.transformers_ = [(name, restored.get(name, step), columns) for name, step, columns in transformer.transformers_]
    return transformer


def _placeholder(step: Any) -> Any:
    """What the one-row fit trains in place of a saved transformer (then replaced by it)."""
    from sklearn.base import clone

    return step if isinstance(step, str) else clone(step)


def _one_row(steps: list, n_features: int, names: np.ndarray | None) -> list[np.ndarray]:
    """One row per the columns' known values: an encoder's first category, 0.0 elsewhere."""
    row: list[Any] = [0.0] * n_features
    positions = {name: index for index, name in enumerate(names.tolist())} if names is not None else {}
    for _, step, columns in steps:
        categories = getattr(step, "categories_", None)
        if categories is None:
            continue
        for column, values in zip([columns] if isinstance(columns, (str, int)) else columns, categories):
            row[positions.get(column, column) if isinstance(column, str) else column] = values[0]
    return [np.array([value], dtype=object if isinstance(value, str) else float) for value in row]


_DECODERS: dict[str, Callable[[_Reader, dict, str], Any]] = {
    "DNNClassifier": _decode_dnn,
    "DNNRegressor": _decode_dnn,
    "Pipeline": _decode_pipeline,
    "StandardScaler": _decode_scaler,
    "Standardizer": _decode_standardizer,
    "OneHotEncoder": _decode_one_hot,
    "ColumnTransformer": _decode_columns,
}


def load_estimator(path: str | os.PathLike) -> Any:
    """Load what :func:`save_estimator` wrote; a file that is not one is a :class:`ModelFileError` naming it."""

    def use(archive: Archive, header: dict) -> Any:
        if header.get("kind") != KIND or KIND not in header:
            raise archive.error(f"not a saved estimator (kind {header.get('kind')!r:.40}); dn.load reads model files")
        reader = _Reader(archive, header)
        estimator = reader.node(header[KIND], "estimator")
        if reader.network is None:
            raise archive.error("header field estimator holds no DNNClassifier / DNNRegressor")
        return estimator

    return read_archive(path, use)
