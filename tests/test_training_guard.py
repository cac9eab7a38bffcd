"""The divergence guard: a non-finite cost, gradient or parameter stops fit; the model keeps finite
parameters and the history up to there."""

from __future__ import annotations

import re

import numpy as np
import pytest

import dnnimprove as dn

X, Y = dn.datasets.moons(60, 0.2, seed=3)
pytestmark = pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")


def regression_model() -> dn.Sequential:
    return dn.Sequential([dn.Dense(4), dn.Tanh(), dn.Dense(1)], loss="mse", seed=0)


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
