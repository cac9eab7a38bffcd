"""A callback hook either runs with the meaning its signature says (ours: the run; Keras's: epoch and logs)
or its class is refused when it is created, naming the method and the expected signature."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


def data():
    X, y = dn.datasets.moons(n_samples=40, noise=0.2, seed=0)
    return X, y


def model():
    return dn.Sequential([dn.Dense(4), dn.ReLU(), dn.Dense(1)], seed=0)


def test_a_keras_style_epoch_hook_gets_the_epoch_index_and_kerass_logs():
    class KerasStyle(dn.Callback):
        def __init__(self):
            self.seen = []

        def on_train_begin(self, logs=None):
            self.seen.append(("begin", logs))

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append((epoch, dict(logs)))

        def on_train_end(self, logs=None):
            self.seen.append(("end", dict(logs)))

    X, y = data()
    callback = KerasStyle()
    history = model().fit(X, y, epochs=3, validation_data=(X[:10], y[:10]), callbacks=[callback])
    assert callback.seen[0] == ("begin", {})
    assert [entry[0] for entry in callback.seen[1:4]] == [0, 1, 2]
    for epoch in range(3):
        logs = callback.seen[1 + epoch][1]
        assert set(logs) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
        assert logs["loss"] == history.cost[epoch] and logs["val_loss"] == history.val_cost[epoch]
    assert callback.seen[-1] == ("end", callback.seen[3][1])


def test_our_hooks_still_get_the_run():
    class Ours(dn.Callback):
        def on_epoch_end(self, run):
            self.last = run

    X, y = data()
    callback = Ours()
    model().fit(X, y, epochs=2, callbacks=[callback])
    assert isinstance(callback.last, dn.TrainingRun) and callback.last.epoch == 1


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def on_batch_end(self, batch, logs=None): pass",
         r"Batch\.on_batch_end\(self, batch, logs=None\): Keras's batch hook .* expected on_train_begin\(self, run\)"),
        ("def on_epoch_begin(self, epoch, logs=None): pass",
         r"Batch\.on_epoch_begin\(self, epoch, logs=None\): dnnimprove never calls on_epoch_begin, so it would not run"),
        ("def on_train_batch_end(self, batch, logs=None): pass", r"never calls on_train_batch_end"),
        ("def on_epoch_end(self): pass", r"Batch\.on_epoch_end\(self\): not a signature fit calls; expected"),
        ("def on_epoch_end(self, a, b, c): pass", r"not a signature fit calls"),
    ],
)
def test_a_hook_that_would_run_silently_wrong_is_refused_with_the_expected_signature(source, message):
    namespace: dict = {}
    with pytest.raises(TypeError, match=message):
        exec(f"class Batch(dn.Callback):\n    {source}", {"dn": dn}, namespace)


def test_callbacks_of_the_package_pass_the_check():
    for cls in (dn.EarlyStopping, dn.TrainingHealth, dn.callbacks.TrainAccuracy):
        assert issubclass(cls, dn.Callback)
    assert np.isfinite(model().fit(*data(), epochs=1, callbacks=[dn.EarlyStopping(monitor="cost")]).cost[0])
