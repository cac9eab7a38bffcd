"""Fitted estimators and pipelines are saved without pickle in the model-file format and load back to
identical predictions; what cannot be saved is named before anything is written."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.compose import make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, OneHotEncoder, StandardScaler

import dnnimprove as dn
from dnnimprove.estimator_io import load_estimator, save_estimator


@pytest.fixture(scope="module")
def moons_80():
    return dn.datasets.moons(n_samples=80, noise=0.2, seed=0)


def test_a_classifier_with_string_labels_round_trips(moons_80, tmp_path):
    X, y = moons_80
    labels = np.where(y == 1, "yes", "no")
    clf = dn.DNNClassifier(hidden_layer_sizes=(5,), epochs=4, random_state=0, early_stopping=True,
                           validation_fraction=0.25).fit(X, labels)
    loaded = load_estimator(save_estimator(clf, tmp_path / "clf.npz"))
    assert type(loaded) is dn.DNNClassifier and loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.classes_.tolist() == ["no", "yes"] and loaded.loss_curve_ == clf.loss_curve_
    assert loaded.validation_scores_ == clf.validation_scores_ and loaded.n_iter_ == clf.n_iter_ == 4
    np.testing.assert_array_equal(dn.load(tmp_path / "clf.npz").params, clf.model_.params)  # a model file too


def test_a_pipeline_of_scaler_standardizer_and_multi_output_regressor_round_trips(moons_80, tmp_path):
    X, _ = moons_80
    targets = np.column_stack([X[:, 0] ** 2, X[:, 1]])
    pipeline = make_pipeline(StandardScaler(), dn.Standardizer(), dn.DNNRegressor(epochs=3, random_state=0, dtype="float32"))
    pipeline.fit(X, targets)
    loaded = load_estimator(save_estimator(pipeline, tmp_path / "reg.npz"))
    assert [name for name, _ in loaded.steps] == ["standardscaler", "standardizer", "dnnregressor"]
    np.testing.assert_array_equal(loaded.predict(X), pipeline.predict(X))
    assert loaded.predict(X).dtype == np.float32


def test_a_column_transformer_over_a_dataframe_round_trips(moons_80, tmp_path):
    pandas = pytest.importorskip("pandas")
    X, y = moons_80
    frame = pandas.DataFrame({"a": X[:, 0], "b": X[:, 1], "side": np.where(X[:, 0] > 0, "left", "right"),
                              "group": np.arange(80) % 3, "extra": X[:, 0] * 2})
    columns = make_column_transformer((StandardScaler(), ["a", "b"]),
                                      (OneHotEncoder(drop="first", sparse_output=False), ["side", "group"]),
                                      remainder="passthrough")
    pipeline = make_pipeline(columns, dn.DNNClassifier(epochs=3, random_state=0)).fit(frame, y)
    loaded = load_estimator(save_estimator(pipeline, tmp_path / "frame.npz"))
    np.testing.assert_array_equal(loaded.predict_proba(frame), pipeline.predict_proba(frame))
    encoder = loaded[0].named_transformers_["onehotencoder"]
    assert [values.tolist() for values in encoder.categories_] == [["left", "right"], [0, 1, 2]]


def test_a_callable_column_selector_is_saved_as_the_columns_it_chose(moons_80, tmp_path):
    X, y = moons_80
    columns = make_column_transformer((StandardScaler(), lambda data: [1]), remainder="passthrough")
    pipeline = make_pipeline(columns, dn.DNNClassifier(epochs=2, random_state=0)).fit(X, y)
    loaded = load_estimator(save_estimator(pipeline, tmp_path / "p.npz"))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))


def test_no_pickle_in_the_file(moons_80, tmp_path):
    X, y = moons_80
    path = save_estimator(make_pipeline(StandardScaler(), dn.DNNClassifier(epochs=1, random_state=0)).fit(X, y),
                          tmp_path / "p.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert all(archive[key].dtype != object for key in archive.files)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: make_pipeline(MinMaxScaler(), dn.DNNClassifier(epochs=1)),
         r"cannot save estimator.minmaxscaler \(MinMaxScaler\) without pickle: the saved kinds are ColumnTransformer"),
        (lambda: make_pipeline(OneHotEncoder(min_frequency=2, sparse_output=False), dn.DNNClassifier(epochs=1)),
         r"OneHotEncoder\(min_frequency=2\) groups categories by their counts"),
        (lambda: make_pipeline(make_column_transformer((FunctionTransformer(np.tanh), [0, 1])), dn.DNNClassifier(epochs=1)),
         r"cannot save estimator.columntransformer.functiontransformer \(FunctionTransformer\) without pickle"),
        (lambda: make_pipeline(StandardScaler()), r"holds no fitted DNNClassifier / DNNRegressor"),
    ],
)
def test_what_cannot_be_saved_is_named_and_nothing_is_written(make, message, moons_80, tmp_path):
    X, y = moons_80
    with pytest.raises(ValueError, match=message):
        save_estimator(make().fit(X, y), tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())


def test_unfitted_estimator_and_a_plain_model_file_are_clear_errors(moons_80, tmp_path):
    X, y = moons_80
    with pytest.raises(ValueError, match=r"cannot save estimator \(DNNClassifier\): it is not fitted"):
        save_estimator(dn.DNNClassifier(), tmp_path / "x.npz")
    model = dn.Sequential([dn.Dense(1)], seed=0)
    model.fit(X, y, epochs=1)
    dn.save(model, tmp_path / "model.npz")
    with pytest.raises(dn.ModelFileError, match=r"model.npz: not a saved estimator \(kind 'model'\)"):
        load_estimator(tmp_path / "model.npz")


def test_a_loaded_estimator_goes_on_training_with_a_fresh_optimizer(moons_80, tmp_path):
    X, y = moons_80
    clf = dn.DNNClassifier(epochs=2, random_state=0).fit(X, y)
    loaded = load_estimator(save_estimator(clf, tmp_path / "clf.npz"))
    loaded.partial_fit(X, y)
    # one epoch of two mini-batches from a fresh state (a continued one would be at step 2 * 2 + 2)
    assert loaded.n_iter_ == 3 and loaded.model_.optimizer_state_.t == 2
