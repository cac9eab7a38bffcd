"""Datasets that ship with the install, train/dev/test splits and input standardization.

Every loader returns ``(X, y)`` with examples as rows: ``X`` of shape ``(m, n_features)`` (float64) and
``y`` of shape ``(m,)`` (int64 labels). Nothing is downloaded: ``moons`` and ``circles`` are
scikit-learn's generators (``seed`` is their ``random_state``, which equals the course's
``np.random.seed(seed)`` before the call), ``noisy_wave`` is ours (seeded, for the regularization
study), ``digits`` and ``breast_cancer`` are scikit-learn's bundled sets. ``daily_temperatures`` is a
time series, not a labelled set: the exponentially weighted averages study's seasonal noisy series.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import Integer, NotFittedError, Options, Real, check_features, validate_params

__all__ = [
    "moons",
    "circles",
    "noisy_wave",
    "digits",
    "breast_cancer",
    "daily_temperatures",
    "load",
    "DATASETS",
    "train_dev_test_split",
    "split_dev",
    "split_dev_rows",
    "Standardizer",
    "GENERATOR_CONSTRAINTS",
    "TEMPERATURE_CONSTRAINTS",
    "LOAD_CONSTRAINTS",
    "SPLIT_CONSTRAINTS",
    "SPLIT_DEV_CONSTRAINTS",
]

FRACTION = Real(low=0.0, high=1.0, low_open=True, high_open=True)
"""A fraction of the rows that leaves at least one row on each side: in ``(0, 1)``."""
SHARE = Real(low=0.0, high=1.0, high_open=True)
"""A fraction of the rows that may be empty: in ``[0, 1)``."""
SEED = Integer(low=0, none_ok=True)
"""A generator's seed: a non-negative integer, or ``None`` for fresh entropy."""

GENERATOR_CONSTRAINTS = {"n_samples": Integer(low=2), "noise": Real(low=0.0), "seed": SEED}
"""The legal values of :func:`moons`', :func:`circles`' and :func:`noisy_wave`'s arguments."""
TEMPERATURE_CONSTRAINTS = {"n_days": Integer(low=2), "noise": Real(low=0.0), "seed": SEED}
"""The legal values of :func:`daily_temperatures`' arguments."""
SPLIT_CONSTRAINTS = {"dev": SHARE, "test": SHARE}
"""The legal values of :func:`train_dev_test_split`'s fractions (the arrays are checked as data)."""
SPLIT_DEV_CONSTRAINTS = {"fraction": FRACTION}
"""The legal value of :func:`split_dev`'s and :func:`split_dev_rows`' ``fraction`` (checked under the caller's
``name`` in :func:`split_dev_rows`)."""


def _check_generator_args(n_samples: Any, noise: Any, seed: Any) -> tuple[int, float]:
    checked = validate_params(GENERATOR_CONSTRAINTS, n_samples=n_samples, noise=noise, seed=seed)
    from .memory import check_memory

    check_memory(f"n_samples={checked['n_samples']}", 128 * checked["n_samples"],
                 "2 float64 features and the generator's temporaries")
    return checked["n_samples"], checked["noise"]


def moons(n_samples: int = 300, noise: float = 0.2, seed: int | None = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (2 features, labels 0/1). Course: ``seed=3``, 300 points, noise 0.2."""
    from sklearn.datasets import make_moons

    n_samples, noise = _check_generator_args(n_samples, noise, seed)
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return X, y.astype(np.int64)


def circles(n_samples: int = 300, noise: float = 0.05, seed: int | None = 1) -> tuple[np.ndarray, np.ndarray]:
    """A circle inside a circle (2 features, labels 0/1). Course: train ``seed=1`` (300), test ``seed=2`` (100)."""
    from sklearn.datasets import make_circles

    n_samples, noise = _check_generator_args(n_samples, noise, seed)
    X, y = make_circles(n_samples=n_samples, noise=noise, random_state=seed)
    return X, y.astype(np.int64)


def noisy_wave(n_samples: int = 300, noise: float = 0.3, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes split by a sine wave, labels noisy near it: a small 2-D set a big network overfits.

    ``X`` is uniform in the square ``[-1, 1]**2``; the label is 1 when ``x2 + noise * e > 0.35 sin(3 x1)``
    with ``e ~ N(0, 1)``, so labels flip most often close to the wave, as in the course's football data
    (which cannot be downloaded). With the defaults a 2-20-3-1 ReLU network fits its training set almost
    perfectly and loses 10-20 points on fresh points: the regularization study's dataset.
    Drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same arrays.
    """
    n_samples, noise = _check_generator_args(n_samples, noise, seed)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n_samples, 2))
    wave = 0.35 * np.sin(3.0 * X[:, 0])
    y = (X[:, 1] + noise * rng.standard_normal(n_samples) > wave).astype(np.int64)
    return X, y


def digits() -> tuple[np.ndarray, np.ndarray]:
    """8x8 handwritten digits (1797 examples, 64 features in 0..16, 10 classes), scikit-learn's bundled copy."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """Wisconsin breast cancer (569 examples, 30 features, labels 0/1), scikit-learn's bundled copy."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)


def daily_temperatures(
    n_days: int = 365, noise: float = 3.0, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A year of noisy daily temperatures (degrees Celsius), like the course's London series.

    ``seasonal[d] = 11 - 7 cos(2 pi (d - 15) / 365)`` for day ``d = 0 .. n_days - 1`` (coldest mid-January,
    warmest mid-July), and ``temperature = seasonal + noise * e`` with ``e ~ N(0, 1)`` drawn from
    ``numpy.random.default_rng(seed)``.

    Returns
    -------
    temperature, seasonal : ndarrays of shape (n_days,)
        The noisy series and the clean seasonal curve it is drawn around.
    """
    checked = validate_params(TEMPERATURE_CONSTRAINTS, n_days=n_days, noise=noise, seed=seed)
    n_days, noise = checked["n_days"], checked["noise"]
    days = np.arange(n_days)
    seasonal = 11.0 - 7.0 * np.cos(2 * np.pi * (days - 15) / 365.0)
    temperature = seasonal + noise * np.random.default_rng(seed).standard_normal(n_days)
    return temperature, seasonal


DATASETS = {
    "moons": moons,
    "circles": circles,
    "noisy_wave": noisy_wave,
    "digits": digits,
    "breast_cancer": breast_cancer,
}

LOAD_CONSTRAINTS = {"dataset": Options(DATASETS)}
"""The legal value of :func:`load`'s ``name``, called ``dataset`` in its message (the CLI's word)."""


def load(name: str, **settings: Any) -> tuple[np.ndarray, np.ndarray]:
    """Load a dataset by name (see ``DATASETS``) with its settings."""
    validate_params(LOAD_CONSTRAINTS, dataset=name)
    return DATASETS[name](**settings)


def train_dev_test_split(
    X: Any, y: Any, dev: float = 0.2, test: float = 0.2, seed: int | None = 0, stratify: bool = True
) -> tuple[np.ndarray, ...]:
    """Shuffle and split into train/dev/test: returns ``X_train, X_dev, X_test, y_train, y_dev, y_test``.

    ``dev`` and ``test`` are fractions of all examples (each in [0, 1), together < 1); ``stratify``
    keeps the class proportions (classification labels). With big data the course's advice is small dev
    and test fractions (e.g. 1% each); with a few thousand examples 60/20/20.
    """
    X = check_features(X, None)
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y must have the same number of rows; got {X.shape[0]} and {y.shape[0]}")
    dev, test = validate_params(SPLIT_CONSTRAINTS, dev=dev, test=test).values()
    if dev + test >= 1:
        raise ValueError(f"dev + test must be < 1 to leave training examples; got {dev} + {test}")
    labels = y if stratify and y.ndim == 1 else None
    n = X.shape[0]
    n_test = int(round(test * n))
    n_dev = int(round(dev * n))
    if n - n_test - n_dev < 1:
        raise ValueError(f"too few examples ({n}) for dev={dev} and test={test}")
    empty = lambda a: a[:0]  # noqa: E731
    if n_test or n_dev:  # scikit-learn only for a split to make (dev=test=0 keeps every row without it)
        from sklearn.model_selection import train_test_split
    if n_test:
        X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=n_test, random_state=seed, stratify=labels)
    else:
        X_rest, X_test, y_rest, y_test = X, empty(X), y, empty(y)
    if n_dev:
        rest_labels = y_rest if labels is not None else None
        X_train, X_dev, y_train, y_dev = train_test_split(
            X_rest, y_rest, test_size=n_dev, random_state=seed, stratify=rest_labels
        )
    else:
        X_train, X_dev, y_train, y_dev = X_rest, empty(X_rest), y_rest, empty(y_rest)
    return X_train, X_dev, X_test, y_train, y_dev, y_test


def split_dev(X: Any, y: Any, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out ``fraction`` of the rows as a dev set: returns ``X_train, y_train, X_dev, y_dev``.

    The rows are chosen by ``numpy.random.default_rng(seed).permutation(m)`` (the first
    ``round(fraction * m)`` go to the dev set): a generator of its own, so the split draws nothing from a
    training run's stream and is the same at every call. Use it for ``fit(validation_data=(X_dev, y_dev))``
    when no dev set was set aside; the estimators' ``validation_fraction`` splits this way.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    fraction = validate_params(SPLIT_DEV_CONSTRAINTS, fraction=fraction)["fraction"]
    if X.ndim < 1 or y.ndim < 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows; got shapes {X.shape} and {y.shape}")
    train, dev = split_dev_rows(X.shape[0], fraction, seed)
    return X[train], y[train], X[dev], y[dev]


def split_dev_rows(n_samples: int, fraction: float, seed: int = 0, name: str = "fraction") -> tuple[np.ndarray, np.ndarray]:
    """The row indices :func:`split_dev` uses: ``(train_rows, dev_rows)`` for ``n_samples`` rows.

    ``default_rng(seed).permutation(n_samples)``: its first ``round(fraction * n_samples)`` entries are the dev
    rows, the rest the training rows. ``name`` is the argument the caller's user gave the fraction as
    (``validation_fraction`` for the estimators), for the error when a side would be empty.
    """
    fraction = SPLIT_DEV_CONSTRAINTS["fraction"].check(name, fraction)
    n_dev = int(round(fraction * n_samples))
    if n_dev < 1 or n_dev >= n_samples:
        raise ValueError(
            f"{name}={fraction} leaves {n_dev} of {n_samples} examples for the dev set; "
            "it must leave at least one example on each side"
        )
    order = np.random.default_rng(seed).permutation(n_samples)
    return order[n_dev:], order[:n_dev]


class Standardizer:
    """Input standardization ``(X - mean) / std`` with ``mean`` and ``std`` learned on the training set only.

    Features with zero variance keep ``std = 1`` (they are only centred). Use the same fitted
    standardizer for dev and test data. A scikit-learn transformer (it has no hyperparameters):
    ``fit(X, y=None)``, ``transform``, ``fit_transform``, ``inverse_transform``, ``get_params`` /
    ``set_params``, so it works in a :class:`~sklearn.pipeline.Pipeline`, with ``clone`` and in searches,
    without importing scikit-learn itself. The same as ``StandardScaler()`` up to rounding.

    Attributes
    ----------
    mean_, std_ : ndarray of shape (n_features,)
        Set by ``fit``.
    n_features_in_ : int
    """

    def get_params(self, deep: bool = True) -> dict:
        """No hyperparameters: ``{}`` (scikit-learn's protocol)."""
        return {}

    def set_params(self, **params: Any) -> "Standardizer":
        if params:
            raise ValueError(f"Standardizer has no parameters; got {sorted(params)}")
        return self

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=["float64"]), input_tags=InputTags())

    def fit(self, X: Any, y: Any = None) -> "Standardizer":
        """Learn ``mean_`` and ``std_`` from ``X`` of shape ``(m, n_features)``; ``y`` is ignored."""
        X = check_features(X, np.float64)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0)
        self.n_features_in_ = X.shape[1]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise NotFittedError("this Standardizer is not fitted yet: call fit(X_train) first")

    def transform(self, X: Any) -> np.ndarray:
        self._check_fitted()
        X = check_features(X, np.float64)
        if X.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"X has {X.shape[1]} features, but the Standardizer was fitted on {self.mean_.shape[0]}")
        return (X - self.mean_) / self.std_

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        self._check_fitted()
        return np.asarray(X) * self.std_ + self.mean_

    def __repr__(self) -> str:
        return "Standardizer()"
