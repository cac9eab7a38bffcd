"""DNNClassifier / DNNRegressor: the scikit-learn contract, and a thin layer over Sequential.

scikit-learn's own estimator checks run below with ``parametrize_with_checks`` on the defaults, with
batch norm and early stopping, and with dropout, batch norm and early stopping, declaring no expected
failure except one: with dropout, ``check_sample_weight_equivalence_on_dense_data`` (weight ``k`` must
give the predictions of ``k`` repeated rows) cannot hold, because each repeated row draws its own dropout
mask and a weighted row one mask for all its copies; what does hold, the expected gradient over the masks,
is tested statistically below. Batch norm (weighted batch statistics) and early stopping (a dev set drawn
in units of weight) pass it. pandas is in the ``test`` extra, so the pandas checks run.
``check_array_api_input`` skips itself (needs ``SCIPY_ARRAY_API=1``); we do not support the array API.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import dnnimprove as dn
from dnnimprove.estimator import DNNClassifier, DNNRegressor, _split_by_weight
from dnnimprove.losses import SampleWeighted


BN_AND_EARLY_STOPPING = {"batch_norm": True, "early_stopping": True, "random_state": 0}
EVERYTHING_ON = {"keep_prob": 0.9, **BN_AND_EARLY_STOPPING}


DROPOUT_MASKS = {
    "check_sample_weight_equivalence_on_dense_data": "dropout: each repeated row draws its own mask, a row of "
    "weight k one mask for its k copies, so the two fits follow different random trajectories (only the "
    "expected gradient over the masks is equal: test_dropout_gradient_with_weights_equals_repeated_rows_in_expectation)"
}


def _expected_failures(estimator):
    return DROPOUT_MASKS if estimator.keep_prob < 1 else {}


@parametrize_with_checks(
    [DNNClassifier(random_state=0), DNNRegressor(random_state=0), DNNClassifier(**BN_AND_EARLY_STOPPING),
     DNNRegressor(**BN_AND_EARLY_STOPPING), DNNClassifier(**EVERYTHING_ON), DNNRegressor(**EVERYTHING_ON)],
    expected_failed_checks=_expected_failures,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits_split():
    X, y = dn.datasets.digits()
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def test_classifier_in_a_pipeline_learns_digits(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipeline = make_pipeline(StandardScaler(), DNNClassifier(epochs=20, lr=0.003, random_state=0))
    assert pipeline.fit(X_train, y_train).score(X_test, y_test) >= 0.95


def test_classifier_is_sequential_plus_fit_bit_for_bit():
    X, y = dn.datasets.moons(n_samples=200, noise=0.2, seed=3)
    clf = DNNClassifier(hidden_layer_sizes=(5, 2), init="he", optimizer="momentum", lr=0.05, beta=0.8,
                        batch_size=32, epochs=30, l2=0.1, random_state=7).fit(X, y)
    model = dn.Sequential([dn.Dense(5, init="he"), dn.ReLU(), dn.Dense(2, init="he"), dn.ReLU(),
                           dn.Dense(1, init="he")], loss="binary_crossentropy", seed=7)
    model.fit(X, y, epochs=30, batch_size=32, optimizer=dn.Momentum(lr=0.05, beta=0.8), l2=0.1)
    np.testing.assert_array_equal(clf.model_.params, model.params)
    assert clf.history_.cost == model.history_.cost
    assert clf.n_iter_ == 30


def test_dropout_and_batch_norm_build_the_courses_layer_order_bit_for_bit():
    X, y = dn.datasets.moons(n_samples=120, noise=0.2, seed=3)
    clf = DNNClassifier(hidden_layer_sizes=(6, 4), keep_prob=0.8, batch_norm=True, epochs=5, batch_size=32,
                        random_state=2).fit(X, y)
    kinds = [layer.kind for layer in clf.model_.layers]
    assert kinds == ["dense", "batch_norm", "relu", "dropout"] * 2 + ["dense"]
    assert [layer.use_bias for layer in clf.model_.layers if layer.kind == "dense"] == [False, False, True]
    model = dn.Sequential([dn.Dense(6, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dropout(0.8),
                           dn.Dense(4, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dropout(0.8), dn.Dense(1)],
                          loss="binary_crossentropy", seed=2)
    model.fit(X, y, epochs=5, batch_size=32, optimizer=dn.Adam(lr=0.001))
    np.testing.assert_array_equal(clf.model_.params, model.params)
    np.testing.assert_array_equal(clf.predict_proba(X), model.predict_proba(X))


def test_early_stopping_holds_out_a_dev_set_and_keeps_the_best_epoch():
    X, y = dn.datasets.moons(n_samples=60, noise=0.4, seed=1)  # few noisy points: a wide network overfits
    clf = DNNClassifier(hidden_layer_sizes=(128, 128), lr=0.01, epochs=400, batch_size=None, early_stopping=True,
                        validation_fraction=0.25, patience=5, random_state=0).fit(X, y)
    history = clf.history_
    assert history.stopped_epoch is not None and clf.n_iter_ == history.stopped_epoch + 1 < 400
    assert len(history.val_cost) == clf.n_iter_ and history.best_epoch == int(np.argmin(history.val_cost))
    model = dn.Sequential([dn.Dense(128), dn.ReLU(), dn.Dense(128), dn.ReLU(), dn.Dense(1)], seed=0)
    _, dev_weights = _split_by_weight(X, y, np.ones(60), 0.25)  # 15 rows, the same at every fit
    dev = dev_weights > 0
    X_train, y_train, X_dev, y_dev = X[~dev], y[~dev], X[dev], y[dev]
    with dn.blas_threads(1):  # as the estimator trains: another thread count may sum in another order
        model.fit(X_train, y_train, epochs=400, optimizer=dn.Adam(lr=0.01), validation_data=(X_dev, y_dev),
                  callbacks=[dn.EarlyStopping(patience=5)])
    np.testing.assert_array_equal(clf.model_.params, model.params)


def test_two_classes_use_one_sigmoid_output_and_more_use_softmax():
    X, y = dn.datasets.moons(n_samples=100, seed=0)
    binary = DNNClassifier(epochs=2, random_state=0).fit(X, y)
    assert binary.model_.loss.name == "binary_crossentropy" and binary.model_.n_outputs == 1
    multi = DNNClassifier(epochs=2, random_state=0).fit(X, np.arange(100) % 3)
    assert multi.model_.loss.name == "categorical_crossentropy" and multi.model_.n_outputs == 3
    assert multi.predict_proba(X).shape == (100, 3)
    np.testing.assert_allclose(multi.predict_proba(X).sum(axis=1), 1.0)


def test_string_labels_round_trip_and_probability_columns_follow_classes():
    X, y = dn.datasets.moons(n_samples=200, noise=0.1, seed=0)
    labels = np.array(["red", "blue"])[y]
    clf = DNNClassifier(hidden_layer_sizes=(16,), lr=0.01, epochs=100, random_state=0).fit(X, labels)
    assert clf.classes_.tolist() == ["blue", "red"]
    predicted = clf.predict(X)
    assert set(predicted) <= {"red", "blue"} and np.mean(predicted == labels) > 0.9
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], predicted)


def test_works_with_clone_cross_val_score_and_grid_search_on_string_labels():
    X, y = dn.datasets.moons(n_samples=150, noise=0.1, seed=1)
    labels = np.array(["no", "yes"])[y]
    base = DNNClassifier(hidden_layer_sizes=(8,), epochs=40, lr=0.01, random_state=0)
    assert clone(base).get_params() == base.get_params()
    scores = cross_val_score(base, X, labels, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.75
    grid = GridSearchCV(base, {"lr": [1e-4, 1e-2]}, cv=3).fit(X, labels)
    assert grid.best_params_ == {"lr": 1e-2}
    random = RandomizedSearchCV(base, {"l2": [0.0, 0.1], "batch_size": [16, 32]}, n_iter=3, cv=2, random_state=0)
    assert random.fit(X, labels).predict(X[:5]).dtype.kind == "U"


def test_same_seed_same_predictions_and_different_seed_differs():
    X, y = dn.datasets.moons(n_samples=100, seed=0)
    first = DNNClassifier(epochs=5, random_state=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, DNNClassifier(epochs=5, random_state=1).fit(X, y).predict_proba(X))
    assert not np.array_equal(first, DNNClassifier(epochs=5, random_state=2).fit(X, y).predict_proba(X))


def test_optimizer_settings_and_schedule_reach_the_model():
    X, y = dn.datasets.moons(n_samples=64, seed=0)
    clf = DNNClassifier(optimizer="adam", lr=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, schedule="inverse_time",
                        decay_rate=1.0, epochs=3, batch_size=None, random_state=0).fit(X, y)
    optimizer = clf.model_.optimizer_
    assert (type(optimizer), optimizer.beta1, optimizer.beta2, optimizer.epsilon) == (dn.Adam, 0.8, 0.99, 1e-6)
    np.testing.assert_allclose(clf.history_.lr, [0.01, 0.01 / 2, 0.01 / 3])
    fixed = DNNClassifier(lr=0.1, schedule="fixed_interval", decay_rate=1.0, schedule_params={"time_interval": 2},
                          epochs=4, random_state=0).fit(X, y)
    np.testing.assert_allclose(fixed.history_.lr, [0.1, 0.1, 0.05, 0.05])
    assert DNNClassifier(optimizer="rmsprop", beta=0.5, epochs=1, random_state=0).fit(X, y).model_.optimizer_.beta == 0.5


def test_float32_end_to_end():
    X, y = dn.datasets.moons(n_samples=64, seed=0)
    clf = DNNClassifier(dtype="float32", epochs=2, random_state=0).fit(X, y)
    assert clf.model_.params.dtype == np.float32 and clf.predict_proba(X).dtype == np.float32


def test_regressor_fits_a_smooth_function_and_keeps_the_output_layout():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    reg = DNNRegressor(hidden_layer_sizes=(32, 32), lr=0.01, epochs=200, batch_size=32, random_state=0).fit(X, y)
    assert reg.model_.loss.name == "mse" and reg.predict(X).shape == (300,)
    assert reg.score(X, y) > 0.95
    two = DNNRegressor(epochs=2, random_state=0).fit(X, np.column_stack([y, -y]))
    assert two.predict(X).shape == (300, 2)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"lr": -1.0}, r"lr must be in \(0, inf\); got -1.0"),
        ({"lr": "fast"}, r"lr must be a real number; got 'fast'"),
        ({"hidden_layer_sizes": (8, 0)}, r"hidden_layer_sizes\[1\] must be an integer in \[1, inf\); got 0"),
        ({"hidden_layer_sizes": "8"}, r"hidden_layer_sizes must be a sequence of positive integers"),
        ({"activation": "swish"}, r"unknown activation 'swish'; valid values: 'elu'"),
        ({"init": "glorious"}, r"unknown initializer 'glorious'"),
        ({"optimizer": "sgd"}, r"unknown optimizer 'sgd'; valid values: 'adam', 'adamw', 'gd'"),
        ({"beta1": 1.0}, r"beta1 must be in \[0, 1\); got 1.0"),
        ({"optimizer": "momentum", "beta": -0.1}, r"beta must be in \[0, 1\); got -0.1"),
        ({"epsilon": 0.0}, r"epsilon must be in \(0, inf\); got 0.0"),
        ({"l2": -0.5}, r"l2 must be in \[0, inf\); got -0.5"),
        ({"batch_size": 0}, r"batch_size must be an integer in \[1, inf\); got 0"),
        ({"epochs": 0}, r"epochs must be an integer in \[1, inf\); got 0"),
        ({"epochs": 2.5}, r"epochs must be an integer; got 2.5"),
        ({"schedule": "linear"}, r"unknown schedule 'linear'"),
        ({"decay_rate": 0.5}, r"decay_rate and schedule_params need a schedule"),
        ({"schedule": "step", "decay_rate": 0.5}, r"schedule 'step': .*decay_rate"),
        ({"keep_prob": 0.0}, r"keep_prob must be in \(0, 1\]; got 0.0"),
        ({"keep_prob": 1.5}, r"keep_prob must be in \(0, 1\]; got 1.5"),
        ({"batch_norm": "yes"}, r"batch_norm must be True or False; got 'yes' of type str"),
        ({"early_stopping": 1}, r"early_stopping must be True or False; got 1 of type int"),
        ({"early_stopping": True, "validation_fraction": 1.0}, r"validation_fraction must be in \(0, 1\); got 1.0"),
        ({"early_stopping": True, "patience": -1}, r"patience must be an integer in \[0, inf\); got -1"),
        ({"dtype": "float16"}, r"unknown dtype 'float16'; valid values: 'float32', 'float64'"),
    ],
)
def test_bad_hyperparameters_pass_set_params_and_fail_at_fit_naming_the_value(setting, message):
    X, y = dn.datasets.moons(n_samples=20, seed=0)
    clf = DNNClassifier(epochs=1).set_params(**setting)  # scikit-learn hands anything through
    with pytest.raises((ValueError, TypeError), match=message):
        clf.fit(X, y)


def test_one_class_is_a_clear_error():
    with pytest.raises(ValueError, match=r"at least 2 classes in y; got 1 class \('a'\)"):
        DNNClassifier().fit(np.ones((4, 2)), ["a"] * 4)


def test_predict_checks_the_width_seen_at_fit():
    X, y = dn.datasets.moons(n_samples=20, seed=0)
    clf = DNNClassifier(epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but DNNClassifier is expecting 2 features"):
        clf.predict(np.ones((2, 3)))


# -- scikit-learn conventions: random_state, warm_start, partial_fit, sample_weight, learned attributes --
def test_learned_attributes_follow_mlp_classifier():
    X, y = dn.datasets.moons(n_samples=60, seed=0)
    clf = DNNClassifier(hidden_layer_sizes=(8,), epochs=5, batch_size=20, random_state=0).fit(X, y)
    assert clf.n_iter_ == 5 and clf.t_ == 5 * 60
    assert clf.loss_curve_ == clf.history_.cost and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    stopped = DNNClassifier(hidden_layer_sizes=(8,), epochs=5, early_stopping=True, validation_fraction=0.25,
                            random_state=0).fit(X, y)
    assert len(stopped.validation_scores_) == stopped.n_iter_ == 5 and stopped.best_loss_ is None
    assert stopped.t_ == 5 * 45  # the 15 dev rows are not trained on
    dev_accuracy = stopped.history_.val_accuracy  # unweighted: the same as the score on the dev set
    np.testing.assert_allclose(stopped.validation_scores_, dev_accuracy)
    assert stopped.best_validation_score_ == max(dev_accuracy)


def test_regressor_validation_scores_are_r2_on_the_dev_set():
    X = np.linspace(-1, 1, 40).reshape(-1, 1)
    y = X[:, 0] ** 2
    reg = DNNRegressor(hidden_layer_sizes=(8,), epochs=3, early_stopping=True, validation_fraction=0.25,
                       random_state=0).fit(X, y)
    _, dev_weights = _split_by_weight(X, y, np.ones(40), 0.25)
    dev = dev_weights > 0
    assert dev.sum() == 10
    assert reg.validation_scores_[-1] == pytest.approx(reg.score(X[dev], y[dev]), rel=1e-12)


def test_warm_start_continues_weights_optimizer_state_and_counts_like_one_longer_fit():
    X, y = dn.datasets.moons(n_samples=64, noise=0.2, seed=0)
    settings = dict(hidden_layer_sizes=(8,), batch_size=None, lr=0.01, schedule="inverse_time", decay_rate=0.5,
                    random_state=0)
    long = DNNClassifier(epochs=6, **settings).fit(X, y)
    warm = DNNClassifier(epochs=3, warm_start=True, **settings).fit(X, y)
    first_state_t = warm.model_.optimizer_state_.t
    warm.fit(X, y)  # full batch: no shuffling, so three + three epochs are the six epochs exactly
    assert first_state_t == 3 and warm.model_.optimizer_state_.t == 6
    assert warm.n_iter_ == 6 and warm.t_ == 6 * 64 and warm.loss_curve_ == long.loss_curve_
    assert warm.history_.lr == long.history_.lr[3:]  # the schedule goes on from epoch 3 ...
    assert warm.history_.epoch == [3, 4, 5] and warm.history_.next_epoch == 6  # ... as fit's optimizer="continue" does
    np.testing.assert_array_equal(warm.predict_proba(X), long.predict_proba(X))
    cold = DNNClassifier(epochs=3, **settings).fit(X, y).fit(X, y)
    assert cold.n_iter_ == 3 and cold.model_.optimizer_state_.t == 3  # without warm_start every fit restarts


def test_warm_start_refuses_other_classes():
    X, y = dn.datasets.moons(n_samples=30, seed=0)
    clf = DNNClassifier(epochs=1, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"warm_start can only continue with the classes of the previous fit, \[0, 1\]"):
        clf.fit(X, y + 1)


def test_partial_fit_is_one_epoch_per_call_continuing_the_optimizer():
    X, y = dn.datasets.moons(n_samples=64, noise=0.2, seed=0)
    settings = dict(hidden_layer_sizes=(8,), batch_size=16, lr=0.01, random_state=0)
    full = DNNClassifier(epochs=4, **settings).fit(X, y)
    step = DNNClassifier(**settings)
    for _ in range(4):
        step.partial_fit(X, y, classes=[0, 1])
    assert step.n_iter_ == 4 and step.t_ == 4 * 64 and step.model_.optimizer_state_.t == 4 * 4
    assert step.loss_curve_ == full.loss_curve_  # the same random stream: epoch k's permutation either way
    np.testing.assert_array_equal(step.predict_proba(X), full.predict_proba(X))


def test_partial_fit_needs_classes_first_and_refuses_new_ones_after():
    X, y = dn.datasets.moons(n_samples=30, seed=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        DNNClassifier().partial_fit(X, y)
    clf = DNNClassifier(random_state=0).partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    assert clf.classes_.tolist() == [0, 1, 2] and clf.model_.n_outputs == 3  # all classes, even unseen ones
    clf.partial_fit(X, y)
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`: \[7\]"):
        clf.partial_fit(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match=r"classes=\[0, 1\] is not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1])


def test_regressor_partial_fit_and_width_checks():
    X = np.linspace(-1, 1, 32).reshape(-1, 2)
    reg = DNNRegressor(epochs=1, random_state=0).partial_fit(X, X[:, 0])
    reg.partial_fit(X, X[:, 1])
    assert reg.n_iter_ == 2
    with pytest.raises(ValueError, match="X has 1 features, but DNNRegressor is expecting 2 features"):
        reg.partial_fit(X[:, :1], X[:, 0])


def test_integer_sample_weight_equals_repeating_rows_and_zero_equals_removing():
    X, y = dn.datasets.moons(n_samples=24, noise=0.2, seed=1)
    weights = np.arange(24) % 3  # 0, 1, 2, ...
    settings = dict(hidden_layer_sizes=(6,), batch_size=None, epochs=20, lr=0.01, random_state=0)
    weighted = DNNClassifier(**settings).fit(X, y, sample_weight=weights)
    repeated = DNNClassifier(**settings).fit(X.repeat(weights, axis=0), y.repeat(weights))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-12)
    unweighted = DNNClassifier(**settings).fit(X, y)
    assert not np.allclose(weighted.predict_proba(X), unweighted.predict_proba(X))
    assert weighted.model_.loss.name == "binary_crossentropy"  # predictions and saving see the plain loss


def test_regressor_sample_weight_weights_the_squared_error():
    X = np.linspace(-1, 1, 20).reshape(-1, 1)
    y = np.where(X[:, 0] > 0, 1.0, 0.0)
    weights = (X[:, 0] > 0) * 1.0 + 1e-3  # almost only the right half counts
    reg = DNNRegressor(hidden_layer_sizes=(), lr=0.05, epochs=300, batch_size=None, random_state=0)
    reg.fit(X, y, sample_weight=weights)
    right = X[:, 0] > 0
    assert np.abs(reg.predict(X[right]) - 1).mean() < np.abs(reg.predict(X[~right]) - 0).mean()


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.r_[np.ones(9), -2.0], r"sample_weight must be >= 0; got -2.0 at row 9"),
        (np.zeros(10), "sample_weight must contain at least one non-zero weight"),
        (np.ones(9), r"sample_weight.shape == \(9,\), expected \(10,\)"),
    ],
)
def test_bad_sample_weight_is_one_clear_error(weights, message):
    X, y = dn.datasets.moons(n_samples=10, seed=0)
    with pytest.raises(ValueError, match=message):
        DNNClassifier(epochs=1).fit(X, y, sample_weight=weights)


def test_compiled_engine_refuses_sample_weight():
    X, y = dn.datasets.moons(n_samples=10, seed=0)
    with pytest.raises(ValueError, match="engine='compiled' does not take sample_weight"):
        DNNClassifier(epochs=1, engine="compiled").fit(X, y, sample_weight=np.ones(10))


def _weighted_and_repeated_problem(n_samples=15, seed=42):
    """scikit-learn's equivalence check's data: random rows, 3 classes, integer weights 0..4."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n_samples, 6)
    y = rng.randint(0, 3, n_samples)
    weights = rng.randint(0, 5, n_samples)
    return X, y, weights, X.repeat(weights, axis=0), y.repeat(weights)


def test_early_stopping_with_weights_sees_the_dev_and_training_sets_of_repeated_rows():
    X, y, weights, X_rep, y_rep = _weighted_and_repeated_problem()
    order = np.random.default_rng(0).permutation(X.shape[0])  # the row order must not matter either
    settings = dict(hidden_layer_sizes=(5,), epochs=15, lr=0.01, patience=3, **BN_AND_EARLY_STOPPING)
    repeated = DNNClassifier(**settings).fit(X_rep, y_rep)
    weighted = DNNClassifier(**settings).fit(X[order], y[order], sample_weight=weights[order])
    np.testing.assert_allclose(weighted.history_.val_cost, repeated.history_.val_cost, rtol=1e-9)
    np.testing.assert_allclose(weighted.validation_scores_, repeated.validation_scores_, rtol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9)


@pytest.mark.parametrize("estimator", [DNNClassifier, DNNRegressor])
def test_weights_equal_repeated_rows_with_l2_and_batch_norm_in_a_full_batch(estimator):
    X, y, weights, X_rep, y_rep = _weighted_and_repeated_problem()
    settings = dict(hidden_layer_sizes=(5,), batch_size=None, epochs=25, lr=0.01, l2=0.5, batch_norm=True, random_state=0)
    repeated = estimator(**settings).fit(X_rep, y_rep)
    weighted = estimator(**settings).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(weighted.model_.params, repeated.model_.params, rtol=1e-9, atol=1e-12)
    halved = estimator(**settings).fit(X, y, sample_weight=weights / 2)  # the L2 term counts weight, not rows
    assert not np.allclose(halved.model_.params, weighted.model_.params)


def test_the_dev_set_is_drawn_in_units_of_weight_whatever_the_row_order():
    X, y, weights, X_rep, y_rep = _weighted_and_repeated_problem(n_samples=40, seed=1)
    train, dev = _split_by_weight(X, y, weights.astype(float), 0.25)
    np.testing.assert_array_equal(train + dev, weights)
    assert dev.sum() == round(0.25 * weights.sum()) and (dev >= 0).all() and (train >= 0).all()
    order = np.random.default_rng(3).permutation(40)
    train_shuffled, dev_shuffled = _split_by_weight(X[order], y[order], weights[order].astype(float), 0.25)
    np.testing.assert_array_equal(dev_shuffled, dev[order])
    _, dev_rep = _split_by_weight(X_rep, y_rep, np.ones(y_rep.size), 0.25)
    rows = np.repeat(np.arange(40), weights)  # the original row of every repeated row
    np.testing.assert_array_equal(np.bincount(rows, weights=dev_rep, minlength=40), dev)
    real = np.linspace(0.5, 2.0, 40)  # not integers: whole rows (of positive weight) go to the dev set
    _, dev_real = _split_by_weight(X, y, real, 0.25)
    assert np.count_nonzero(dev_real) == 10 and np.all((dev_real == 0) | (dev_real == real))


def test_the_content_order_puts_equal_rows_together_whatever_the_row_order():
    from dnnimprove.estimator import _content_order

    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, (30, 2)).astype(float)  # many repeated rows
    X[X == 0] = -0.0 * rng.integers(0, 2, (X == 0).sum())  # -0.0 and 0.0 are the same value
    y = rng.integers(0, 2, 30)
    order = _content_order(X, y)
    shuffled = rng.permutation(30)
    again = _content_order(X[shuffled], y[shuffled])
    np.testing.assert_array_equal(X[order] == 0, X[shuffled][again] == 0)
    np.testing.assert_array_equal(np.c_[X[order], y[order]], np.c_[X[shuffled][again], y[shuffled][again]])
    keys = [tuple(row) for row in np.c_[X[order], y[order]]]
    assert len({key for index, key in enumerate(keys) if index == 0 or keys[index - 1] != key}) == len(set(keys))


def test_rows_whose_hashes_collide_are_ordered_by_content(monkeypatch):
    import dnnimprove.estimator as estimator_module

    monkeypatch.setattr(estimator_module, "_row_hashes", lambda keys: np.zeros(keys.shape[0], dtype=np.uint64))
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(12, 3)), rng.integers(0, 2, 12)
    shuffled = rng.permutation(12)
    first = X[estimator_module._content_order(X, y)]
    np.testing.assert_array_equal(first, X[shuffled][estimator_module._content_order(X[shuffled], y[shuffled])])
    np.testing.assert_array_equal(first, X[np.lexsort(np.c_[X, y].T[::-1])])


def _gradient_samples(model, X, Y, n_masks):
    grads = np.empty((n_masks, model.params.size))
    for k in range(n_masks):
        model.compute_gradients(X, Y)
        grads[k] = model.grads
    return grads


def _dropout_model(loss, seed, batch_norm=dn.BatchNorm):
    return dn.Sequential([dn.Dense(8, use_bias=False), batch_norm(), dn.ReLU(), dn.Dropout(0.6), dn.Dense(3)],
                         loss=loss, seed=seed)


class _UnweightedBatchNorm(dn.BatchNorm):
    """Batch statistics that ignore the weights: what the dropout test must be able to catch."""

    kind = "unweighted_batch_norm"
    takes_sample_weight = False


@pytest.mark.parametrize("batch_norm", [dn.BatchNorm, _UnweightedBatchNorm], ids=["weighted", "wrong"])
def test_dropout_gradient_with_weights_equals_repeated_rows_in_expectation(batch_norm):
    """Statistical: the mean gradient over many dropout masks agrees, coordinate by coordinate.

    With ``n`` gradients on each side the difference of the means, divided by its standard error
    ``sqrt(s_w**2 / n + s_r**2 / n)``, is approximately standard normal where the expectations are equal;
    the bound is the normal quantile for a family-wise error of 1e-4 over all coordinates (Bonferroni).
    The same test on a batch norm that ignores the weights must fail, and the gradients of one mask must
    differ (else the test would compare constants).
    """
    X, y, weights, X_rep, y_rep = _weighted_and_repeated_problem()
    n_masks = 3000
    repeated = _dropout_model("categorical_crossentropy", seed=1, batch_norm=batch_norm).build(X.shape[1])
    weighted = _dropout_model(SampleWeighted("categorical_crossentropy", scale=X.shape[0] / weights.sum()), seed=2,
                              batch_norm=batch_norm).build(X.shape[1])
    theta = np.random.default_rng(0).normal(0.0, 0.5, repeated.params.size)
    repeated.params[:] = theta
    weighted.params[:] = theta
    Y_rep = repeated.encode_targets(y_rep, X_rep.shape[0])
    Y_w = weighted.loss.targets(y, weights.astype(float), 3, np.float64)
    g_rep = _gradient_samples(repeated, X_rep, Y_rep, n_masks)
    g_w = _gradient_samples(weighted, X, Y_w, n_masks)
    standard_error = np.sqrt(g_rep.var(axis=0, ddof=1) / n_masks + g_w.var(axis=0, ddof=1) / n_masks)
    varies = standard_error > 0  # the others (units that ReLU never lets through) are the same on both sides
    np.testing.assert_allclose(g_w[0, ~varies], g_rep[0, ~varies], atol=1e-12)
    assert varies.sum() > repeated.params.size // 2  # dropout really changes the gradient from mask to mask
    z = np.abs(g_w.mean(axis=0) - g_rep.mean(axis=0))[varies] / standard_error[varies]
    bound = norm.ppf(1 - 1e-4 / (2 * varies.sum()))
    if batch_norm is dn.BatchNorm:
        assert z.max() < bound, f"largest standardized difference {z.max():.2f} >= {bound:.2f}"
        assert np.abs(g_w - g_rep).max() > 1e-3  # one mask each: not equal, which is why scikit-learn's check fails
    else:
        assert z.max() > 2 * bound, f"a wrong batch norm went unnoticed: {z.max():.2f}"


def test_callbacks_parameter_reaches_every_fit():
    class Count(dn.Callback):
        def __init__(self):
            self.epochs = 0

        def on_epoch_end(self, run):
            self.epochs += 1

    counter = Count()
    X, y = dn.datasets.moons(n_samples=20, seed=0)
    clf = DNNClassifier(epochs=3, callbacks=[counter], random_state=0).fit(X, y)
    clf.partial_fit(X, y)
    assert counter.epochs == 4
    with pytest.raises(TypeError, match=r"callbacks\[0\] must be a dnnimprove.Callback"):
        DNNClassifier(epochs=1, callbacks=[print]).fit(X, y)


def test_verbose_shows_a_progress_bar(capsys):
    X, y = dn.datasets.moons(n_samples=20, seed=0)
    DNNClassifier(epochs=2, verbose=1, random_state=0).fit(X, y)
    assert "epoch" in capsys.readouterr().err
    DNNClassifier(epochs=2, random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""


def test_random_state_takes_scikit_learns_kinds_and_names_itself_when_wrong():
    X, y = dn.datasets.moons(n_samples=20, seed=0)
    DNNClassifier(epochs=1, random_state=np.random.RandomState(0)).fit(X, y)
    DNNClassifier(epochs=1, random_state=np.random.default_rng(0)).fit(X, y)
    with pytest.raises(TypeError, match=r"random_state must be None, an int >= 0, .*; got -1"):
        DNNClassifier(epochs=1, random_state=-1).fit(X, y)


def test_estimators_take_dataframes_with_text_labels():
    pd = pytest.importorskip("pandas")
    X, y = dn.datasets.moons(120, seed=0)
    frame = pd.DataFrame(X, columns=["u", "v"])
    labels = np.where(y == 1, "upper", "lower")
    clf = dn.DNNClassifier(hidden_layer_sizes=(8,), lr=0.01, epochs=60, batch_size=32, random_state=0).fit(frame, labels)
    assert list(clf.classes_) == ["lower", "upper"] and list(clf.feature_names_in_) == ["u", "v"]
    assert clf.score(frame, labels) > 0.8 and set(clf.predict(frame)) <= {"lower", "upper"}
    reg = dn.DNNRegressor(hidden_layer_sizes=(8,), lr=0.01, epochs=20, random_state=0).fit(frame, pd.Series(X[:, 0] * 2))
    assert reg.predict(frame).shape == (120,)


@pytest.mark.parametrize("Estimator", [dn.DNNClassifier, dn.DNNRegressor])
def test_inf_and_minus_inf_in_X_get_one_error_and_no_numpy_warning(Estimator):
    import warnings

    X = np.array([[np.inf, -np.inf], [1.0, 2.0]], dtype=np.float16)  # scikit-learn's finite check sums them: NaN
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning before the error would fail here
        with pytest.raises(ValueError, match="infinity"):
            Estimator(epochs=1, hidden_layer_sizes=(3,)).fit(X, [0, 1])
        fitted = Estimator(epochs=1, hidden_layer_sizes=(3,)).fit(np.ones((2, 2)), [0, 1])
        with pytest.raises(ValueError, match="infinity"):
            fitted.predict(X)
