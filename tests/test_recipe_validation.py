"""How the recipe measures a configuration: seeds on the dev set, or k-fold cross-validation over train + dev."""

from __future__ import annotations

import numpy as np

from dnnimprove.recipe_validation import cross_validation, holdout, validation_rows
from dnnimprove.studies.recipe import Data


def _data(m_train: int = 30, m_dev: int = 12) -> Data:
    rng = np.random.default_rng(0)
    y = np.arange(m_train + m_dev) % 3  # three balanced classes
    X = np.column_stack([np.arange(m_train + m_dev, dtype=float), rng.normal(size=m_train + m_dev)])
    return Data(X[:m_train], y[:m_train], X[m_train:], y[m_train:])


def test_holdout_scores_every_seed_on_the_whole_dev_set():
    data = _data()
    fits = holdout(data, seed=5, repeats=3)
    assert [fit.seed for fit in fits] == [5, 6, 7] and all(fit.data is data for fit in fits)
    assert all(np.array_equal(fit.rows, np.arange(12)) for fit in fits)
    assert validation_rows(data, None) == 12


def test_cross_validation_holds_every_train_and_dev_row_out_exactly_once_per_repeat():
    data = _data()
    fits = cross_validation(data, folds=3, seed=0, repeats=2)
    assert len(fits) == 6 and [fit.seed for fit in fits] == list(range(6))
    assert validation_rows(data, 3) == 42
    pool = np.concatenate([data.X_train, data.X_dev])
    for repeat in (fits[:3], fits[3:]):
        held_out = np.concatenate([fit.rows for fit in repeat])
        assert np.array_equal(np.sort(held_out), np.arange(42))
        for fit in repeat:  # the held-out rows are the fold's dev set, the others its training rows
            np.testing.assert_array_equal(fit.data.X_dev, pool[fit.rows])
            assert len(fit.data.y_train) + len(fit.data.y_dev) == 42
            assert not set(fit.data.X_train[:, 0]) & set(fit.data.X_dev[:, 0])
    assert not all(np.array_equal(a.rows, b.rows) for a, b in zip(fits[:3], fits[3:]))  # a new partition


def test_cross_validation_is_stratified_by_class_when_every_class_fills_the_folds():
    fits = cross_validation(_data(30, 15), folds=3, seed=0, repeats=1)  # 15 rows of each class
    for fit in fits:
        assert np.bincount(fit.data.y_dev, minlength=3).tolist() == [5, 5, 5]
