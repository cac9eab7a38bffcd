"""fit: mini-batches, reproducibility, the course's initialization figures, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
import re


def circles_model(init: str, seed) -> dn.Sequential:
    return dn.Sequential(
        [dn.Dense(10, init=init), dn.ReLU(), dn.Dense(5, init=init), dn.ReLU(), dn.Dense(1, init=init)],
        loss="binary_crossentropy", seed=seed,
    )


def train_accuracy(init: str, seed, data) -> float:
    X, y = data
    model = circles_model(init, seed)
    model.fit(X, y, epochs=15000, batch_size=None, optimizer=dn.GradientDescent(lr=0.01), record_every=5000)
    return model.evaluate(X, y)["accuracy"]


@pytest.mark.parametrize("seed", range(5))
def test_zeros_init_stays_at_exactly_half_for_every_seed(seed, circles):
    assert train_accuracy("zeros", seed, circles) == 0.5


def test_he_init_reaches_96_percent_for_at_least_three_of_five_seeds(circles):
    accuracies = [train_accuracy("he", seed, circles) for seed in range(5)]
    assert sum(a >= 0.96 for a in accuracies) >= 3, accuracies


def test_course_exact_initialization_figures(circles):
    X_test, y_test = dn.datasets.circles(n_samples=100, noise=0.05, seed=2)
    published = {"zeros": (0.5, 0.5), "large_random": (0.83, 0.86), "he": (0.9933, 0.96)}
    for init, (train, test) in published.items():
        model = circles_model(init, dn.CourseRandom(init_seed=3))
        model.fit(*circles, epochs=15000, optimizer=dn.GradientDescent(lr=0.01), record_every=5000)
        assert round(model.evaluate(*circles)["accuracy"], 4) == train, init
        assert round(model.evaluate(X_test, y_test)["accuracy"], 4) == test, init


def test_same_seed_same_data_gives_bit_identical_parameters():
    X, y = dn.datasets.moons(300, 0.2, seed=3)

    def run():
        model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=7)
        model.fit(X, y, epochs=50, batch_size=64, optimizer=dn.Adam(0.01))
        return model.params.copy(), model.history_.cost

    (first, cost1), (second, cost2) = run(), run()
    assert np.array_equal(first, second) and cost1 == cost2


@pytest.mark.parametrize("batch_size, steps_per_epoch", [(None, 1), (300, 1), (64, 5), (1, 300), (1000, 1)])
def test_batch_size_selects_batch_mini_batch_or_stochastic(batch_size, steps_per_epoch):
    X, y = dn.datasets.moons(300, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=2, batch_size=batch_size, optimizer=dn.GradientDescent(0.01))
    assert history.steps == 2 * steps_per_epoch


def test_epoch_cost_is_the_mean_over_the_epochs_examples():
    X, y = dn.datasets.moons(100, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=1, batch_size=30, optimizer=dn.GradientDescent(1e-12),
                        callbacks=[dn.callbacks.IterationCost()])
    # With a negligible step the parameters barely move, so the epoch cost is the size-weighted batch mean.
    sizes = np.array([30, 30, 30, 10])
    assert history.cost[0] == pytest.approx(np.dot(history.iteration_cost, sizes) / 100, rel=1e-12)
    assert history.cost[0] == pytest.approx(model.evaluate(X, y)["cost"], rel=1e-6)


def test_history_records_lr_every_epoch_and_cost_every_record_every():
    X, y = dn.datasets.moons(100, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=10, record_every=4, optimizer=dn.GradientDescent(0.1),
                        schedule=dn.InverseTimeDecay(lr0=0.1, decay_rate=1.0))
    assert history.epoch == [0, 4, 8, 9]
    assert history.lr == [0.1, 0.1 / 5, 0.1 / 9, 0.1 / 10]


def test_validation_data_is_recorded():
    X, y = dn.datasets.moons(200, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X[:150], y[:150], epochs=3, validation_data=(X[150:], y[150:]))
    assert len(history.val_cost) == len(history.val_accuracy) == len(history.train_accuracy) == 3
    X_train, y_train, X_dev, y_dev = dn.data.split_dev(X, y, 0.25)
    assert len(X_dev) == 50 and len(X_train) == 150
    history = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=0).fit(X_train, y_train, epochs=2,
                                                                              validation_data=(X_dev, y_dev))
    assert len(history.val_accuracy) == 2


def test_divergence_stops_with_a_clear_error_and_finite_parameters():
    X, y = dn.datasets.moons(100, 0.2, seed=3)
    X = X * 1e3
    model = dn.Sequential([dn.Dense(20), dn.ReLU(), dn.Dense(20), dn.ReLU(), dn.Dense(1)], loss="mse", seed=0)
    with pytest.raises(dn.TrainingDiverged, match=r"epoch \d+, mini-batch \d+, learning rate 1000.*smaller"):
        model.fit(X, y, epochs=50, optimizer=dn.GradientDescent(1e3))
    assert np.isfinite(model.params).all()


class BadInput:
    X, y = dn.datasets.moons(20, 0.2, seed=0)


@pytest.mark.parametrize(
    "X, y, settings, message",
    [
        (np.full((4, 2), np.nan), [0, 1, 0, 1], {}, r"X must contain only finite values; got nan"),
        (np.ones((4, 2)), [0, 1, np.inf, 1], {}, r"y must contain only finite values; got inf"),
        (np.ones((4, 2)), [0, 1, 0], {}, r"same number of rows; got 4 and 3"),
        (np.ones(4), [0, 1, 0, 1], {}, r"X must be 2-D; got shape \(4,\).*reshape"),
        (np.ones((4, 2)), [0, 1, 2, 1], {}, r"only labels 0 and 1; got \[2\]"),
        (BadInput.X, BadInput.y, {"epochs": -1}, r"epochs must be an integer in \[0, inf\); got -1"),
        (BadInput.X, BadInput.y, {"batch_size": 0}, r"batch_size must be an integer in \[1, inf\); got 0"),
        (BadInput.X, BadInput.y, {"l2": -0.1}, r"l2 must be in \[0, inf\); got -0.1"),
        (np.ones((0, 2)), [], {}, r"X must not be empty"),
        (np.array([["a", "b"]]), [0], {}, r"X must be a numeric array"),
    ],
)
def test_bad_input_gets_a_clear_error(X, y, settings, message):
    model = dn.Sequential([dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=0)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, **settings)


def test_unknown_multiclass_labels_are_named():
    model = dn.Sequential([dn.Dense(3)], loss="categorical_crossentropy", seed=0)
    with pytest.raises(ValueError, match=r"labels in 0..2 .* got \[3, 7\]"):
        model.fit(np.ones((4, 2)), [0, 3, 7, 1], epochs=1)


def test_history_prints_one_short_line():
    X, y = dn.datasets.moons(60, 0.2, seed=0)
    model = dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=400, batch_size=16, optimizer=dn.GradientDescent(lr=0.1))
    text = repr(history)
    assert "\n" not in text and len(text) < 200
    assert text.startswith("History(400 epochs recorded (last 399), cost ")
    assert f"{history.cost[-1]:.4g}" in text and "1600 steps" in text
    assert repr(dn.History()) == "History(no epochs recorded)"


# -- History as Keras shows it ----------------------------------------------------------------------
def test_history_has_kerass_keys_and_a_dataframe():
    pandas = pytest.importorskip("pandas")
    X, y = dn.datasets.moons(n_samples=50, noise=0.2, seed=0)
    model = dn.Sequential([dn.Dense(4), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=3, validation_data=(X[:10], y[:10]))
    assert history.history == {"loss": history.cost, "accuracy": history.train_accuracy,
                               "val_loss": history.val_cost, "val_accuracy": history.val_accuracy,
                               "lr": history.lr}
    assert history.logs(1) == {key: values[1] for key, values in history.history.items()}
    frame = history.to_dataframe()
    assert isinstance(frame, pandas.DataFrame) and frame.index.name == "epoch" and list(frame.index) == [0, 1, 2]
    assert frame["val_cost"].tolist() == history.val_cost and "iteration_cost" not in frame
    plain = model.fit(X, y, epochs=2)
    assert set(plain.history) == {"loss", "lr"}
    assert list(plain.to_dataframe().columns) == ["cost", "data_cost", "penalty", "lr"]
    assert dn.History().history == {} and dn.History().to_dataframe().empty


# -- the divergence guard ------------------------------------------------------------------------------
# The divergence guard: a non-finite cost, gradient or parameter stops fit; the model keeps finite

X, Y = dn.datasets.moons(60, 0.2, seed=3)
overflow_is_the_guards = pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")


def regression_model() -> dn.Sequential:
    return dn.Sequential([dn.Dense(4), dn.Tanh(), dn.Dense(1)], loss="mse", seed=0)


@overflow_is_the_guards
def test_divergence_keeps_the_history_and_finite_parameters_and_suggests_a_smaller_lr():
    model = regression_model()
    with pytest.raises(dn.TrainingDiverged) as caught:
        X_train, Y_train, X_dev, Y_dev = dn.data.split_dev(3 * X, 1e100 * Y, 0.2)
        model.fit(X_train, Y_train, epochs=60, optimizer=dn.GradientDescent(100.0), validation_data=(X_dev, Y_dev))
    error = caught.value
    assert re.fullmatch(rf"training diverged: non-finite (cost|gradient) at epoch {error.epoch}, mini-batch 0, "
                        r"learning rate 100; try a smaller learning rate \(e.g. 10\)", str(error))
    assert error.epoch > 5 and error.lr == 100.0
    history = model.history_
    assert history.epoch == list(range(error.epoch)) and len(history.val_cost) == error.epoch
    assert np.isfinite(history.cost).all() and np.isfinite(model.params).all()


@overflow_is_the_guards
@pytest.mark.parametrize("epochs", [1, 3])
def test_a_last_step_that_overflows_the_parameters_is_caught_at_once(epochs):
    # lr 1e300 times a finite gradient overflows the parameters in the epoch's only step; before the
    # epoch-end check a 1-epoch run returned inf parameters silently and a longer one kept them too.
    model = regression_model().build(2)
    start = model.params.copy()
    with pytest.raises(dn.TrainingDiverged, match=r"non-finite parameters at epoch 0, mini-batch 0, learning rate 1e\+300"):
        model.fit(X, 1e10 * Y, epochs=epochs, optimizer=dn.GradientDescent(1e300))
    assert np.array_equal(model.params, start)  # the last finite parameters: the epoch's start
    assert model.history_.epoch == []


@overflow_is_the_guards
def test_mid_epoch_divergence_restores_the_epochs_start_and_keeps_earlier_epochs():
    class Snapshot(dn.Callback):
        def on_epoch_end(self, run):
            self.params = run.model.params.copy()

    snapshot = Snapshot()
    model = regression_model()
    with pytest.raises(dn.TrainingDiverged) as caught:
        model.fit(3 * X, 1e100 * Y, epochs=60, batch_size=16, optimizer=dn.GradientDescent(30.0), callbacks=[snapshot])
    assert caught.value.epoch > 0 and model.history_.epoch == list(range(caught.value.epoch))
    assert np.array_equal(model.params, snapshot.params)  # the end of the last completed epoch


# -- continuing a fit: Keras's initial_epoch through optimizer="continue" / Resume ------------------------------

def continued_model() -> dn.Sequential:
    return dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=4)


def _numba_off() -> bool:
    from dnnimprove.compiled import _support

    return _support.unavailable_reason() is not None


@pytest.mark.parametrize("engine", ["numpy", pytest.param("compiled", marks=pytest.mark.skipif(
    "_numba_off()", reason="numba is off or not installed"))])
def test_continue_is_one_longer_fit_with_the_epochs_numbered_on_as_keras_initial_epoch(engine):
    schedule = dn.InverseTimeDecay(lr0=0.05, decay_rate=0.5)
    seen = []

    class KerasStyle(dn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, logs["lr"]))

    long = continued_model()
    long.fit(X, Y, epochs=7, batch_size=16, optimizer=dn.Adam(0.05), schedule=schedule, engine=engine)
    model = continued_model()
    model.fit(X, Y, epochs=4, batch_size=16, optimizer=dn.Adam(0.05), schedule=schedule, engine=engine)
    assert model.history_.next_epoch == 4 and model.optimizer_state_.t == 16
    history = model.fit(X, Y, epochs=7, batch_size=16, optimizer="continue", schedule=schedule, callbacks=[KerasStyle()],
                        engine=engine)
    assert history.engine == engine
    np.testing.assert_array_equal(model.params, long.params)  # Adam's moments and t, the schedule and shuffles went on
    assert history.epoch == [4, 5, 6] and history.lr == long.history_.lr[4:] and history.cost == long.history_.cost[4:]
    assert seen == [(epoch, long.history_.lr[epoch]) for epoch in (4, 5, 6)]
    assert model.optimizer_state_.t == long.optimizer_state_.t == 28 and history.next_epoch == 7


def test_a_plain_second_fit_restarts_the_optimizer_and_a_pair_continues_only_its_state():
    model = continued_model()
    model.fit(X, Y, epochs=3, optimizer=dn.Adam(0.01))
    first = model.optimizer_state_
    model.fit(X, Y, epochs=2, optimizer=dn.Adam(0.01))
    assert model.optimizer_state_ is not first and model.optimizer_state_.t == 2 and model.history_.epoch == [0, 1]
    model.fit(X, Y, epochs=2, optimizer=(model.optimizer_, model.optimizer_state_))
    assert model.optimizer_state_.t == 4 and model.history_.epoch == [0, 1]


def test_resume_names_the_initial_epoch_and_may_start_a_fresh_state():
    calls = []

    def schedule(epoch):
        calls.append(epoch)
        return 0.01

    model = continued_model()
    model.fit(X, Y, epochs=12, optimizer=dn.training.Resume(dn.Momentum(0.01), None, initial_epoch=10), schedule=schedule)
    assert calls == [10, 11] and model.history_.epoch == [10, 11] and model.optimizer_state_.t == 2


@pytest.mark.parametrize(
    ("first", "optimizer", "epochs", "error", "message"),
    [
        (False, "continue", 5, ValueError, r"optimizer='continue' needs a model fitted before .* never fitted"),
        (True, "continue", 3, ValueError, r"epochs=3 is the epoch to stop before .* continuing from epoch 3 it must be "
                                          r"greater \(epochs=6 runs 3 more\)"),
        (True, "adam", 5, ValueError, r"optimizer must be an Optimizer, a pair \(optimizer, state\), a Resume or "
                                      r"'continue'; got 'adam'"),
    ],
)
def test_bad_continuations_are_one_clear_error(first, optimizer, epochs, error, message):
    model = continued_model()
    if first:
        model.fit(X, Y, epochs=3)
    with pytest.raises(error, match=message):
        model.fit(X, Y, epochs=epochs, optimizer=optimizer)
