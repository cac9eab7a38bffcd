"""``fit(engine=...)``: which engine runs, why, and that both keep the divergence guard's promise.

The compiled engine's arithmetic is specified in ``tests/test_compiled.py``; these tests cover the choice
(``dnnimprove.engine.select_engine``) and how ``fit``, the estimators and the command reach it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove import cli
from dnnimprove.callbacks import IterationCost
from dnnimprove.compiled import _support
from dnnimprove.engine import AUTO_CACHED_MIN_STEPS, AUTO_MIN_STEPS

needs_numba = pytest.mark.skipif(_support.unavailable_reason() is not None, reason="numba is off or not installed")


def tiny_model(*extra_layers, seed=3) -> dn.Sequential:
    return dn.Sequential([dn.Dense(5), dn.ReLU(), *extra_layers, dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=seed)


@needs_numba
def test_auto_runs_the_compiled_engine_for_a_long_run_and_says_why(moons):
    X, y = moons
    history = tiny_model().fit(X, y, epochs=AUTO_MIN_STEPS // 5, batch_size=64, record_every=100)
    assert history.engine == "compiled"
    assert history.engine_reason == "numba is installed and the network is supported"


def test_auto_runs_numpy_for_a_short_run_and_says_why(moons):
    X, y = moons
    history = tiny_model().fit(X, y, epochs=3, batch_size=64)
    assert history.engine == "numpy"
    assert ("a short run (15 steps" in history.engine_reason) or ("numba" in history.engine_reason)


@needs_numba
def test_auto_compiles_a_short_run_of_a_network_compiled_before(moons):
    X, y = moons
    tiny_model().fit(X, y, epochs=1, batch_size=64, engine="compiled")  # compiled (or loaded from disk) now
    history = tiny_model().fit(X, y, epochs=AUTO_CACHED_MIN_STEPS // 5, batch_size=64)
    assert (history.engine, history.engine_reason) == ("compiled", "numba is installed and the network is supported")
    history = tiny_model().fit(X, y, epochs=AUTO_CACHED_MIN_STEPS // 5 - 1, batch_size=64)  # shorter still: NumPy
    assert history.engine == "numpy" and history.engine_reason.startswith("a short run (95 steps")


@needs_numba
def test_auto_compiles_a_network_once_this_process_ran_enough_short_runs_of_it(moons, tmp_path, monkeypatch):
    from dnnimprove.compiled import engine as compiled_engine

    monkeypatch.setenv("DNNIMPROVE_CACHE_DIR", str(tmp_path))  # an empty disk cache
    model = dn.Sequential([dn.Dense(7), dn.Tanh(), dn.Dense(3), dn.Tanh(), dn.Dense(1)], seed=0)
    model.build(2)
    optimizer = dn.RMSProp(0.01, beta=0.95)
    steps = AUTO_MIN_STEPS // 2
    assert not compiled_engine.ready_for(model, optimizer, steps, AUTO_MIN_STEPS)  # 1000 steps run on NumPy
    assert compiled_engine.ready_for(model, optimizer, steps, AUTO_MIN_STEPS)  # 2000 of this network: compile


@needs_numba
def test_iteration_costs_come_from_one_call_per_epoch_equal_to_one_call_per_step(moons):
    X, y = moons

    class EveryBatch(dn.Callback):  # reads the model between mini-batches: one engine call per step
        needs_batch_cost = True

        def __init__(self):
            self.costs = []

        def on_batch_end(self, run):
            self.costs.append(run.batch_cost)

    stepwise = EveryBatch()
    tiny_model().fit(X, y, epochs=4, batch_size=64, engine="compiled", callbacks=[stepwise])
    history = tiny_model().fit(X, y, epochs=4, batch_size=64, engine="compiled", callbacks=[IterationCost()])
    assert len(history.iteration_cost) == 20
    np.testing.assert_allclose(history.iteration_cost, stepwise.costs, rtol=1e-13)
    numpy_history = tiny_model().fit(X, y, epochs=4, batch_size=64, engine="numpy", callbacks=[IterationCost()])
    np.testing.assert_allclose(numpy_history.iteration_cost, stepwise.costs, rtol=1e-12)


def test_auto_runs_numpy_in_course_exact_mode(moons):
    X, y = moons
    model = tiny_model(seed=dn.CourseRandom(3, 10))
    history = model.fit(X, y, epochs=AUTO_MIN_STEPS, batch_size=None)
    assert history.engine == "numpy" and history.engine_reason == "course-exact mode runs the course's NumPy arithmetic"
    if _support.unavailable_reason() is None:  # asked for, the compiled engine draws from the course's stream too
        history = tiny_model(seed=dn.CourseRandom(3, 10)).fit(X, y, epochs=1, engine="compiled")
        assert history.engine == "compiled"


def test_numpy_is_recorded_as_asked_for(moons):
    X, y = moons
    history = tiny_model().fit(X, y, epochs=1, engine="numpy")
    assert (history.engine, history.engine_reason) == ("numpy", "asked for (engine='numpy')")


def test_an_unknown_engine_is_an_error_naming_it(moons):
    X, y = moons
    with pytest.raises(ValueError, match=r"unknown engine 'fast'; valid values: 'auto', 'compiled', 'numpy'"):
        tiny_model().fit(X, y, epochs=1, engine="fast")


class Doubling(dn.Layer):
    kind = "doubling"

    def forward(self, X, training):
        return 2 * X

    def backward(self, dA):
        return 2 * dA


def test_compiled_names_the_layer_it_cannot_run_and_auto_runs_it_on_numpy(moons):
    X, y = moons
    model = tiny_model(Doubling())
    with pytest.raises(ValueError, match=r"engine='compiled' cannot run this fit: layers\[2\] \(Doubling\) is not a Dense, "
                                         r"Activation, Dropout or BatchNorm layer; use engine='numpy' or 'auto'"):
        model.fit(X, y, epochs=3, engine="compiled")
    assert model.history_ is None  # nothing trained
    history = tiny_model(Doubling()).fit(X, y, epochs=AUTO_MIN_STEPS, batch_size=None)
    assert history.engine == "numpy" and history.engine_reason.startswith("layers[2] (Doubling)")


def test_augment_as_a_plain_function_with_dropout_or_the_course_stream_is_a_reason_for_numpy(moons):
    X, y = moons
    noise = dn.GaussianNoise(0.01)
    with pytest.raises(ValueError, match=r"augment is a plain function, which runs Python code on every mini-batch"):
        tiny_model().fit(X, y, epochs=1, engine="compiled", augment=lambda X_batch, source: noise(X_batch, source))
    with pytest.raises(ValueError, match=r"augment with dropout: their draws alternate on every mini-batch"):
        tiny_model(dn.Dropout(0.9)).fit(X, y, epochs=1, engine="compiled", augment=noise)
    course = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=dn.CourseRandom())
    with pytest.raises(ValueError, match=r"augment draws an epoch ahead only from a numpy Generator"):
        course.fit(X, y, epochs=1, engine="compiled", augment=noise)


@needs_numba
def test_auto_runs_an_augmentation_on_the_compiled_engine(moons):
    X, y = moons
    history = tiny_model().fit(X, y, epochs=AUTO_MIN_STEPS // 5, batch_size=64, record_every=100,
                               augment=dn.GaussianNoise(0.01))
    assert history.engine == "compiled"


def test_without_numba_auto_runs_numpy_and_compiled_says_how_to_install_it(moons, monkeypatch):
    monkeypatch.setattr(_support, "_NUMBA", [None, f"numba is not installed ({_support.INSTALL_HINT})"])
    X, y = moons
    history = tiny_model().fit(X, y, epochs=AUTO_MIN_STEPS, batch_size=None)
    assert history.engine == "numpy" and history.engine_reason.startswith("numba is not installed")
    with pytest.raises(ValueError, match=r"numba is not installed \(pip install \"dnnimprove\[fast\]\" \(numba\)\)"):
        tiny_model().fit(X, y, epochs=1, engine="compiled")


def test_a_numba_that_fails_to_import_warns_once_and_leaves_numpy(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "numba":
            raise RuntimeError("built for another NumPy")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(_support, "_NUMBA", [])
    monkeypatch.delenv("DNNIMPROVE_DISABLE_NUMBA", raising=False)
    monkeypatch.setattr(builtins, "__import__", broken)
    with pytest.warns(RuntimeWarning, match=r"numba failed to import \(RuntimeError: built for another NumPy\)"):
        assert _support.unavailable_reason() == "numba failed to import (RuntimeError)"
    assert _support.unavailable_reason() == "numba failed to import (RuntimeError)"  # asked again: no second warning


@needs_numba
def test_the_estimator_defaults_to_auto_and_passes_its_engine(moons):
    X, y = moons
    clf = dn.DNNClassifier(hidden_layer_sizes=(8,), epochs=30, batch_size=32, lr=0.01, random_state=0)
    assert clf.get_params()["engine"] == "auto"
    scores = {}
    for engine in ("numpy", "compiled"):
        clf.set_params(engine=engine)
        scores[engine] = clf.fit(X, y).predict_proba(X)
        assert clf.history_.engine == engine
    assert np.allclose(scores["compiled"], scores["numpy"], rtol=1e-9, atol=1e-12)


@needs_numba
def test_train_command_takes_the_engine_and_results_json_records_it(tmp_path, capsys):
    status = cli.main(["train", "--dataset", "moons", "--layers", "5,2", "--optimizer", "adam", "--lr", "0.01",
                       "--batch-size", "64", "--epochs", "30", "--engine", "compiled", "--json", "--out", str(tmp_path)])
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert 0.5 < result["train_accuracy"] <= 1
    written = json.loads(next(tmp_path.rglob("results.json")).read_text())
    run = written["runs"][0]
    assert run["engine"] == ["compiled"] and run["per_seed"][0]["engine_reason"] == "asked for (engine='compiled')"


# -- the divergence guard, the same in both engines ---------------------------------------------------------

ENGINES = ["numpy", pytest.param("compiled", marks=needs_numba)]
X_SMALL, Y_SMALL = dn.datasets.moons(60, 0.2, seed=3)


def regression_model() -> dn.Sequential:
    return dn.Sequential([dn.Dense(4), dn.Tanh(), dn.Dense(1)], loss="mse", seed=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("engine", ENGINES)
def test_mid_epoch_divergence_puts_back_the_epochs_start_parameters_and_optimizer_state(engine):
    class Snapshot(dn.Callback):
        def on_epoch_end(self, run):
            self.params, self.v, self.t = run.model.params.copy(), run.state.v.copy(), run.state.t

    snapshot = Snapshot()
    model = regression_model()
    with pytest.raises(dn.TrainingDiverged) as caught:
        model.fit(3 * X_SMALL, 1e100 * Y_SMALL, epochs=60, batch_size=16, optimizer=dn.Momentum(30.0, beta=0.5),
                  callbacks=[snapshot], engine=engine)
    error = caught.value
    assert error.epoch > 0 and 0 <= error.batch < 4 and model.history_.epoch == list(range(error.epoch))
    assert np.array_equal(model.params, snapshot.params)  # the end of the last completed epoch = this one's start
    assert np.array_equal(model.optimizer_state_.v, snapshot.v) and model.optimizer_state_.t == snapshot.t
    assert model.history_.engine == engine


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_stop_at_the_same_epoch_and_mini_batch(engine):
    errors = {}
    for name in ("numpy", engine):
        with pytest.raises(dn.TrainingDiverged) as caught:
            regression_model().fit(3 * X_SMALL, 1e100 * Y_SMALL, epochs=60, batch_size=16,
                                   optimizer=dn.GradientDescent(30.0), engine=name)
        errors[name] = (caught.value.epoch, caught.value.batch, str(caught.value))
    assert errors[engine] == errors["numpy"]


# -- the_numpy_engine_bit_for_bit ------------------------------------------------------------------
# The optimized training step computes exactly what the plain formulas compute (float64, bit for bit).

EPOCHS = 60  # 300 points, mini-batch 64: 5 steps per epoch, 300 steps


def reference_gd(lr):
    def update(p, g, slot, t):
        p -= g * lr

    return update


def reference_momentum(lr, beta=0.9):
    def update(p, g, slot, t):
        slot["v"] = slot["v"] * beta + g * (1 - beta)
        p -= slot["v"] * lr

    return update


def reference_rmsprop(lr, beta=0.999, epsilon=1e-8):
    def update(p, g, slot, t):
        slot["s"] = slot["s"] * beta + (g * g) * (1 - beta)
        p -= (g * lr) / (np.sqrt(slot["s"]) + epsilon)

    return update


def reference_adam(lr, beta1=0.9, beta2=0.999, epsilon=1e-8):
    def update(p, g, slot, t):
        slot["v"] = slot["v"] * beta1 + g * (1 - beta1)
        slot["s"] = slot["s"] * beta2 + (g * g) * (1 - beta2)
        denom = np.sqrt(slot["s"] / (1 - beta2**t)) + epsilon
        p -= ((slot["v"] / (1 - beta1**t)) * lr) / denom

    return update


def reference_training(W, b, X, Y, batch, epochs, permutations, update, relu_hidden=True):
    """Mini-batch training of a ReLU network with a sigmoid output, per tensor, plain NumPy."""
    W = [w.copy() for w in W]
    b = [c.copy() for c in b]
    slots = [{"v": np.zeros_like(p), "s": np.zeros_like(p)} for p in W + b]
    t = 0
    for _ in range(epochs):
        order = permutations.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch):
            rows = order[start : start + batch]
            A = [X[rows]]
            for layer in range(len(W)):
                Z = A[-1] @ W[layer] + b[layer]
                A.append(np.maximum(Z, 0) if layer < len(W) - 1 else Z)
            m = rows.shape[0]
            dZ = (1.0 / (1.0 + np.exp(-A[-1])) - Y[rows]) / m
            dW, db = [None] * len(W), [None] * len(W)
            for layer in reversed(range(len(W))):
                dW[layer] = A[layer].T @ dZ
                db[layer] = dZ.sum(axis=0)
                if layer:
                    dZ = (dZ @ W[layer].T) * (A[layer] > 0)
            t += 1
            for p, g, slot in zip(W + b, dW + db, slots):
                update(p, g, slot, t)
    return W, b


OPTIMIZERS = {
    "gd": (lambda: dn.GradientDescent(0.05), reference_gd(0.05)),
    "momentum": (lambda: dn.Momentum(0.05, beta=0.9), reference_momentum(0.05)),
    "rmsprop": (lambda: dn.RMSProp(0.002), reference_rmsprop(0.002)),
    "adam": (lambda: dn.Adam(0.0007), reference_adam(0.0007)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fit_matches_the_plain_per_tensor_computation_bit_for_bit(name, moons):
    X, Y = moons[0], moons[1].astype(float).reshape(-1, 1)
    make_optimizer, update = OPTIMIZERS[name]
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1)
    model.build(2)
    W = [model.tensor(f"dense_{i}.W").copy() for i in (1, 2, 3)]
    b = [model.tensor(f"dense_{i}.b").copy() for i in (1, 2, 3)]
    model.set_random(np.random.default_rng(11))  # shuffling from here on
    model.fit(X, Y.ravel(), epochs=EPOCHS, batch_size=64, optimizer=make_optimizer(), engine="numpy")
    W_ref, b_ref = reference_training(W, b, X, Y, 64, EPOCHS, np.random.default_rng(11), update)
    for i in (1, 2, 3):
        assert np.array_equal(model.tensor(f"dense_{i}.W"), W_ref[i - 1]), f"dense_{i}.W"
        assert np.array_equal(model.tensor(f"dense_{i}.b"), b_ref[i - 1]), f"dense_{i}.b"
    assert not np.array_equal(model.tensor("dense_1.W"), W[0])  # it trained


@pytest.mark.parametrize("name", ["gd", "adam"])
def test_float32_fit_matches_the_plain_float32_computation_bit_for_bit(name, moons):
    """The 0-d float32 constants of the hot path round as NumPy's float32 arithmetic with Python scalars does."""
    X, Y = moons[0].astype(np.float32), moons[1].astype(np.float32).reshape(-1, 1)
    make_optimizer, update = OPTIMIZERS[name]
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1, dtype="float32")
    model.build(2)
    W = [model.tensor(f"dense_{i}.W").copy() for i in (1, 2, 3)]
    b = [model.tensor(f"dense_{i}.b").copy() for i in (1, 2, 3)]
    model.set_random(np.random.default_rng(11))  # shuffling from here on
    model.fit(X, Y.ravel(), epochs=EPOCHS, batch_size=64, optimizer=make_optimizer(), engine="numpy")
    W_ref, b_ref = reference_training(W, b, X, Y, 64, EPOCHS, np.random.default_rng(11), update)
    assert W_ref[0].dtype == np.float32
    for i in (1, 2, 3):
        assert np.array_equal(model.tensor(f"dense_{i}.W"), W_ref[i - 1]), f"dense_{i}.W"
        assert np.array_equal(model.tensor(f"dense_{i}.b"), b_ref[i - 1]), f"dense_{i}.b"


def test_the_comparison_notices_a_single_rounding(moons):
    """Proof the check can fail: Adam with ``lr * v_hat / denom`` instead of ``(v_hat * lr) / denom``."""
    X, Y = moons[0], moons[1].astype(float).reshape(-1, 1)

    def reordered(p, g, slot, t, beta1=0.9, beta2=0.999):
        slot["v"] = slot["v"] * beta1 + g * (1 - beta1)
        slot["s"] = slot["s"] * beta2 + (g * g) * (1 - beta2)
        p -= 0.0007 * ((slot["v"] / (1 - beta1**t)) / (np.sqrt(slot["s"] / (1 - beta2**t)) + 1e-8))

    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1)
    model.build(2)
    W = [model.tensor(f"dense_{i}.W").copy() for i in (1, 2, 3)]
    b = [model.tensor(f"dense_{i}.b").copy() for i in (1, 2, 3)]
    model.set_random(np.random.default_rng(11))  # shuffling from here on
    model.fit(X, Y.ravel(), epochs=EPOCHS, batch_size=64, optimizer=dn.Adam(0.0007))
    W_ref, _ = reference_training(W, b, X, Y, 64, EPOCHS, np.random.default_rng(11), reordered)
    assert not all(np.array_equal(model.tensor(f"dense_{i}.W"), W_ref[i - 1]) for i in (1, 2, 3))
