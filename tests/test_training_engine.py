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
from dnnimprove.compiled import _support
from dnnimprove.engine import AUTO_MIN_STEPS

needs_numba = pytest.mark.skipif(_support.unavailable_reason() is not None, reason="numba is off or not installed")


def tiny_model(*extra_layers, seed=3) -> dn.Sequential:
    return dn.Sequential([dn.Dense(5), dn.ReLU(), *extra_layers, dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=seed)


@pytest.fixture(scope="module")
def moons():
    return dn.datasets.moons(300, 0.2, seed=3)


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


def test_augment_is_a_reason_for_numpy(moons):
    X, y = moons
    with pytest.raises(ValueError, match=r"augment runs Python code on every mini-batch"):
        tiny_model().fit(X, y, epochs=1, engine="compiled", augment=dn.GaussianNoise(0.01))


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
