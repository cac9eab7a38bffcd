"""Babysitting one model: a rate changed by hand while training runs, and a run continued at a new rate."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.babysit import ManualDecay, continue_with_lr
from dnnimprove.callbacks import Checkpoint


def data():
    return dn.datasets.moons(100, 0.2, seed=3)


def network() -> dn.Sequential:
    return dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=0)


def test_a_rate_set_from_a_callback_applies_from_the_next_epoch():
    schedule = ManualDecay(0.1)

    class Watch(dn.Callback):
        def on_epoch_end(self, run):
            if run.epoch == 4:  # e.g. the cost stopped falling: decay by hand
                schedule.set(0.01, run.epoch + 1)

    X, y = data()
    history = network().fit(X, y, epochs=8, batch_size=32, optimizer=dn.Momentum(0.1), schedule=schedule,
                            callbacks=[Watch()])
    assert history.lr == [0.1] * 5 + [0.01] * 3
    assert schedule.changes == [(0, 0.1), (5, 0.01)]
    schedule.set(0.05, 3)  # a later change at an earlier epoch replaces what came after it
    assert schedule.changes == [(0, 0.1), (3, 0.05)] and schedule(100) == 0.05


def test_a_checkpointed_run_continues_at_a_new_rate_exactly_as_the_run_in_memory(tmp_path):
    X, y = data()
    path = tmp_path / "run.npz"
    first = network()
    first.fit(X, y, epochs=20, batch_size=32, optimizer=dn.Adam(0.01), callbacks=[Checkpoint(path, every=5)])
    steps = first.optimizer_state_.t
    restored = network()
    history = continue_with_lr(restored, X, y, lr=0.001, epochs=5, checkpoint=path, batch_size=32)
    assert history.lr == [0.001] * 5
    assert restored.optimizer_state_.t == steps + 5 * 4  # Adam's t continues: 4 mini-batches per epoch
    continue_with_lr(first, X, y, lr=0.001, epochs=5, batch_size=32)
    np.testing.assert_array_equal(restored.params, first.params)


def test_only_the_rate_changes():
    X, y = data()
    same, continued = network(), network()
    for model in (same, continued):
        model.fit(X, y, epochs=5, batch_size=32, optimizer=dn.Momentum(0.05, beta=0.8))
    same.fit(X, y, epochs=3, batch_size=32, optimizer=(same.optimizer_, same.optimizer_state_))
    continue_with_lr(continued, X, y, lr=0.05, epochs=3, batch_size=32)
    np.testing.assert_array_equal(same.params, continued.params)
    assert continued.optimizer_.beta == 0.8


@pytest.mark.parametrize("make, message", [
    (lambda: ManualDecay(0.0), r"lr0 must be in \(0, inf\); got 0.0"),
    (lambda: ManualDecay(0.1).set(-1.0, 3), r"lr must be in \(0, inf\); got -1.0"),
    (lambda: continue_with_lr(network(), *data(), lr=0.1, epochs=2), r"needs a fitted model"),
    (lambda: continue_with_lr(network(), *data(), lr=float("nan"), epochs=2), r"lr must be a finite number"),
])
def test_bad_input_is_one_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()
