"""Early stopping: stops after `patience` evaluations without improvement and returns the best dev epoch's model."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


@pytest.fixture(scope="module")
def overfitting_data():
    """40 noisy training points and 260 dev points: a 64-64 ReLU net memorizes the 40 and the dev cost climbs."""
    X, y = dn.datasets.moons(300, 0.35, seed=0)
    return X[:40], y[:40], X[40:], y[40:]


def big_model(seed: int = 0, batch_norm: bool = False) -> dn.Sequential:
    if batch_norm:
        return dn.Sequential([dn.Dense(64, use_bias=False), dn.BatchNorm(), dn.ReLU(),
                              dn.Dense(64, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dense(1)], seed=seed)
    return dn.Sequential([dn.Dense(64), dn.ReLU(), dn.Dense(64), dn.ReLU(), dn.Dense(1)], seed=seed)


def test_the_reference_run_overfits(overfitting_data):
    X, y, X_dev, y_dev = overfitting_data
    history = big_model().fit(X, y, epochs=300, optimizer=dn.Adam(0.01), validation_data=(X_dev, y_dev))
    best = int(np.argmin(history.val_cost))
    assert 0 < best < 100
    assert history.val_cost[-1] > 2 * min(history.val_cost)  # dev cost climbs ...
    assert history.cost[-1] < 0.1 * history.cost[best]  # ... while the training cost keeps falling


def test_early_stopping_returns_the_parameters_of_the_best_dev_epoch(overfitting_data):
    X, y, X_dev, y_dev = overfitting_data
    stopper = dn.EarlyStopping(patience=20)
    model = big_model()
    history = model.fit(X, y, epochs=300, optimizer=dn.Adam(0.01), validation_data=(X_dev, y_dev), callbacks=[stopper])
    best = int(np.argmin(history.val_cost))
    assert history.best_epoch == stopper.best_epoch == history.epoch[best]
    assert history.stopped_epoch == stopper.stopped_epoch == history.best_epoch + 21
    assert len(history) == history.stopped_epoch + 1
    assert history.val_cost[-1] > history.val_cost[best]  # the last epoch was worse ...
    assert model.evaluate(X_dev, y_dev)["cost"] == history.val_cost[best]  # ... and its parameters were replaced

    # the same run without the callback passes through exactly these parameters at the best epoch
    reference = big_model()
    reference.fit(X, y, epochs=history.best_epoch + 1, optimizer=dn.Adam(0.01))
    np.testing.assert_array_equal(model.params, reference.params)


def test_restore_best_false_keeps_the_last_parameters(overfitting_data):
    X, y, X_dev, y_dev = overfitting_data
    model = big_model()
    history = model.fit(X, y, epochs=300, optimizer=dn.Adam(0.01), validation_data=(X_dev, y_dev),
                        callbacks=[dn.EarlyStopping(patience=5, restore_best=False)])
    assert model.evaluate(X_dev, y_dev)["cost"] == history.val_cost[-1]
    assert history.val_cost[-1] > min(history.val_cost)


def test_early_stopping_restores_batch_norm_running_statistics(overfitting_data):
    X, y, X_dev, y_dev = overfitting_data
    model = big_model(batch_norm=True)
    history = model.fit(X, y, epochs=200, batch_size=20, optimizer=dn.Adam(0.01), validation_data=(X_dev, y_dev),
                        callbacks=[dn.EarlyStopping(patience=10)])
    # the dev cost is computed with the running statistics: it matches only if they were restored too
    assert model.evaluate(X_dev, y_dev)["cost"] == history.val_cost[history.epoch.index(history.best_epoch)]
    assert history.stopped_epoch is not None


def test_monitoring_val_accuracy_maximizes_it(overfitting_data):
    X, y, X_dev, y_dev = overfitting_data
    model = big_model()
    history = model.fit(X, y, epochs=300, optimizer=dn.Adam(0.01), validation_data=(X_dev, y_dev),
                        callbacks=[dn.EarlyStopping(patience=30, monitor="val_accuracy")])
    best = history.epoch.index(history.best_epoch)
    assert history.val_accuracy[best] == max(history.val_accuracy)
    assert history.val_accuracy.index(max(history.val_accuracy)) == best  # the first epoch reaching the best
    assert model.evaluate(X_dev, y_dev)["accuracy"] == history.val_accuracy[best]


def test_min_delta_ignores_small_improvements():
    stopper = dn.EarlyStopping(patience=0, min_delta=0.1)
    history = dn.History()
    run = dn.TrainingRun(None, None, None, history, None, None, None, 0.0, 10)

    class FakeModel:
        params = np.zeros(3)
        loss = dn.get_loss("binary_crossentropy")

        def state_arrays(self):
            return {}

    run.model = FakeModel()
    run.validation = (np.zeros((1, 1)), np.zeros((1, 1)))
    stopper.on_train_begin(run)
    for epoch, value in enumerate([1.0, 0.95, 0.85]):
        run.epoch, run.recorded = epoch, True
        history.val_cost.append(value)
        stopper.on_epoch_end(run)
        if run.stop:
            break
    assert stopper.best_epoch == 0 and stopper.stopped_epoch == 1  # 0.95 is not 0.1 better than 1.0


def test_a_split_off_dev_set_gives_early_stopping_its_dev_set(overfitting_data):
    X, y, X_dev, y_dev = overfitting_data
    X_all, y_all = np.vstack([X, X_dev]), np.concatenate([y, y_dev])
    X_train, y_train, X_held, y_held = dn.data.split_dev(X_all[:60], y_all[:60], 0.25)
    model = dn.Sequential([dn.Dense(64), dn.ReLU(), dn.Dense(64), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X_train, y_train, epochs=300, optimizer=dn.Adam(0.01), validation_data=(X_held, y_held),
                        callbacks=[dn.EarlyStopping(patience=10)])
    assert history.stopped_epoch is not None and history.stopped_epoch < 299
    assert len(history.val_cost) == len(history.epoch)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"patience": -1}, ValueError, r"patience must be an integer in \[0, inf\); got -1"),
    ({"patience": 2.5}, TypeError, "patience must be an integer"),
    ({"min_delta": -0.1}, ValueError, r"min_delta must be in \[0, inf\); got -0.1"),
    ({"monitor": "val_loss"}, ValueError, "unknown monitor 'val_loss'; valid values: .*'val_cost'"),
])
def test_bad_settings_are_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        dn.EarlyStopping(**kwargs)


def test_monitoring_the_dev_set_without_one_is_a_clear_error(overfitting_data):
    X, y, _, _ = overfitting_data
    with pytest.raises(ValueError, match="needs a dev set: pass validation_data"):
        big_model().fit(X, y, epochs=2, callbacks=[dn.EarlyStopping()])


def test_a_validation_set_of_another_width_is_a_clear_error(overfitting_data):
    X, y, X_dev, y_dev = overfitting_data
    with pytest.raises(ValueError, match="validation_data: X has 3 features, but the model was built for 2"):
        big_model().fit(X, y, epochs=2, validation_data=(np.hstack([X_dev, X_dev[:, :1]]), y_dev),
                        callbacks=[dn.EarlyStopping()])


def test_train_accuracy_records_kerass_accuracy_without_a_dev_set():
    X, y = dn.datasets.moons(n_samples=60, noise=0.2, seed=0)
    model = dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=4, record_every=2, callbacks=[dn.callbacks.TrainAccuracy()])
    assert len(history.train_accuracy) == len(history.epoch) == 3  # epochs 0, 2 and the last, 3
    assert history.train_accuracy[-1] == model.evaluate(X, y)["accuracy"]
    assert history.history["accuracy"] == history.train_accuracy
    with_dev = model.fit(X, y, epochs=2, validation_data=(X[:5], y[:5]), callbacks=[dn.callbacks.TrainAccuracy()])
    assert len(with_dev.train_accuracy) == 2  # fit records it itself; nothing added twice
    regression = dn.Sequential([dn.Dense(1)], loss="mse", seed=0)
    with pytest.raises(ValueError, match="TrainAccuracy needs a classification loss; this model uses mse"):
        regression.fit(X, X[:, 0], epochs=1, callbacks=[dn.callbacks.TrainAccuracy()])


def test_progress_bar_ends_at_the_last_epoch_with_cost_dev_cost_and_dev_accuracy():
    import io

    X, y = dn.datasets.moons(80, 0.2, seed=3)
    stream = io.StringIO()
    model = dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0)
    model.fit(X[:60], y[:60], epochs=7, validation_data=(X[60:], y[60:]),
              callbacks=[dn.callbacks.ProgressBar(file=stream)])
    last = stream.getvalue().split("\r")[-1]
    assert "7/7" in last and "cost=" in last and "val_cost=" in last and "val_accuracy=" in last, last
