"""Datasets ship with the install; splits and standardization behave as the course teaches."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


def test_generators_equal_the_course_global_seed_recipe():
    from sklearn.datasets import make_circles, make_moons

    np.random.seed(1)
    X_course, y_course = make_circles(n_samples=300, noise=0.05)
    X, y = dn.datasets.circles(n_samples=300, noise=0.05, seed=1)
    assert np.array_equal(X, X_course) and np.array_equal(y, y_course)
    np.random.seed(3)
    X_course, _ = make_moons(n_samples=300, noise=0.2)
    assert np.array_equal(dn.datasets.moons(300, 0.2, seed=3)[0], X_course)


@pytest.mark.parametrize("name, shape, n_classes", [("digits", (1797, 64), 10), ("breast_cancer", (569, 30), 2)])
def test_bundled_sets_load_without_download(name, shape, n_classes):
    X, y = dn.datasets.load(name)
    assert X.shape == shape and len(np.unique(y)) == n_classes


def test_split_sizes_and_no_overlap():
    X = np.arange(200, dtype=float).reshape(100, 2)
    y = np.repeat([0, 1], 50)
    X_train, X_dev, X_test, y_train, y_dev, y_test = dn.train_dev_test_split(X, y, dev=0.2, test=0.1, seed=0)
    assert (len(X_train), len(X_dev), len(X_test)) == (70, 20, 10)
    rows = {tuple(r) for part in (X_train, X_dev, X_test) for r in part}
    assert len(rows) == 100
    assert y_dev.mean() == 0.5


def test_standardizer_learns_on_train_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5, 2, (500, 3))
    scaler = dn.Standardizer().fit(train)
    np.testing.assert_allclose(scaler.transform(train).mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaler.transform(train).std(axis=0), 1)
    dev = rng.normal(5, 2, (10, 3))
    np.testing.assert_allclose(scaler.transform(dev), (dev - train.mean(axis=0)) / train.std(axis=0))
    constant = np.ones((4, 2))
    assert np.isfinite(dn.Standardizer().fit_transform(constant)).all()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: dn.datasets.load("mnist"), r"unknown dataset 'mnist'; valid values: 'breast_cancer'"),
        (lambda: dn.datasets.moons(n_samples=-3), r"n_samples must be an integer in \[2, inf\); got -3"),
        (lambda: dn.Standardizer().transform(np.ones((2, 2))), r"not fitted"),
        (lambda: dn.train_dev_test_split(np.ones((10, 2)), np.ones(10), dev=0.6, test=0.5), r"dev \+ test must be < 1"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_noisy_wave_is_seeded_two_dimensional_and_registered():
    X, y = dn.datasets.noisy_wave(n_samples=300, noise=0.3, seed=0)
    again, labels = dn.datasets.load("noisy_wave", n_samples=300, noise=0.3, seed=0)
    assert X.shape == (300, 2) and np.array_equal(X, again) and np.array_equal(y, labels)
    assert set(np.unique(y)) == {0, 1} and np.abs(X).max() <= 1
    assert not np.array_equal(X, dn.datasets.noisy_wave(300, 0.3, seed=1)[0])


def test_noisy_wave_flips_labels_near_the_wave_only():
    X, y = dn.datasets.noisy_wave(n_samples=5000, noise=0.3, seed=0)
    distance = X[:, 1] - 0.35 * np.sin(3 * X[:, 0])
    wrong_side = y != (distance > 0)
    assert 0.05 < wrong_side.mean() < 0.25  # noisy ...
    assert wrong_side[np.abs(distance) > 0.9].mean() < 0.005  # ... but only close to the boundary
    clean_X, clean_y = dn.datasets.noisy_wave(n_samples=500, noise=0.0, seed=0)
    assert np.array_equal(clean_y, (clean_X[:, 1] > 0.35 * np.sin(3 * clean_X[:, 0])).astype(np.int64))


def test_standardizer_is_a_scikit_learn_transformer_in_pipelines_and_clone():
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = dn.datasets.moons(n_samples=60, noise=0.2, seed=0)
    X = X * [3.0, 0.5] + [10.0, -2.0]
    scaler = dn.Standardizer().fit(X)
    assert repr(clone(scaler)) == "Standardizer()" and not hasattr(clone(scaler), "mean_")
    np.testing.assert_allclose(scaler.transform(X), StandardScaler().fit_transform(X), rtol=1e-12, atol=1e-12)
    pipeline = make_pipeline(dn.Standardizer(), dn.DNNClassifier(hidden_layer_sizes=(4,), epochs=3, random_state=0))
    search = GridSearchCV(pipeline, {"dnnclassifier__lr": [0.01, 0.1]}, cv=2).fit(X, y)
    fitted = search.best_estimator_.named_steps["standardizer"]
    assert fitted.n_features_in_ == 2 and fitted.mean_ == pytest.approx(X.mean(axis=0))
    with pytest.raises(ValueError, match=r"Standardizer has no parameters; got \['with_mean'\]"):
        dn.Standardizer().set_params(with_mean=False)


def test_split_dev_rows_are_the_rows_split_dev_takes_and_the_estimators_hold_out():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    train, dev = dn.data.split_dev_rows(20, 0.25, seed=3)
    X_train, y_train, X_dev, y_dev = dn.data.split_dev(X, y, 0.25, seed=3)
    assert np.array_equal(y_train, train) and np.array_equal(y_dev, dev) and dev.size == 5
    assert np.array_equal(np.sort(np.concatenate([train, dev])), y)
    from dnnimprove.estimator import DNNClassifier

    from dnnimprove.estimator import _content_order

    # the estimators take these positions over the rows in an order fixed by their content, in units of weight
    train_weights, dev_weights = DNNClassifier(early_stopping=True, validation_fraction=0.25)._dev_split(X, y, None)
    rows = np.flatnonzero(train_weights), np.flatnonzero(dev_weights)
    order = _content_order(X, y)
    assert all(np.array_equal(np.sort(mine), np.sort(order[theirs]))
               for mine, theirs in zip(rows, dn.data.split_dev_rows(20, 0.25, seed=0)))


def test_split_dev_rows_names_the_callers_argument_when_a_side_would_be_empty():
    with pytest.raises(ValueError, match=r"validation_fraction=0.01 leaves 0 of 20 examples for the dev set"):
        dn.data.split_dev_rows(20, 0.01, name="validation_fraction")
