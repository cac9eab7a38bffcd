"""``fit(engine=...)``: the compiled engine trains the same network as NumPy, to rounding, wherever it is offered.

The engine itself (kernels, every activation and loss, gradient checks) is specified in
``tests/test_compiled.py``; these tests cover how ``fit``, the estimators and the command reach it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove import _numba, cli

needs_numba = pytest.mark.skipif(not _numba.AVAILABLE, reason="numba is not installed (the 'fast' extra)")


def tiny_model(*extra_layers) -> dn.Sequential:
    return dn.Sequential([dn.Dense(5), dn.ReLU(), *extra_layers, dn.Dense(2), dn.ReLU(), dn.Dense(1)],
                         seed=dn.CourseRandom(3, 10))


@pytest.fixture(scope="module")
def moons():
    return dn.datasets.moons(300, 0.2, seed=3)


@needs_numba
@pytest.mark.parametrize("optimizer", [lambda: dn.Adam(0.0007), lambda: dn.Momentum(0.05), lambda: dn.GradientDescent(0.1)],
                         ids=["adam", "momentum", "gd"])
def test_compiled_and_numpy_engines_train_to_the_same_parameters_up_to_rounding(optimizer, moons):
    X, y = moons
    results = {}
    for engine in ("numpy", "compiled"):
        model = tiny_model()
        history = model.fit(X, y, epochs=100, batch_size=64, optimizer=optimizer(), engine=engine, record_every=10)
        results[engine] = (model.params.copy(), history.cost)
    params_numpy, cost_numpy = results["numpy"]
    params_compiled, cost_compiled = results["compiled"]
    # 500 steps: rounding differences of 1e-16 grow, but stay far below any difference that matters
    assert np.allclose(params_compiled, params_numpy, rtol=1e-9, atol=1e-12)
    assert np.allclose(cost_compiled, cost_numpy, rtol=1e-9)
    assert not np.array_equal(params_numpy, tiny_model().build(2).params)  # it trained


@needs_numba
def test_the_compiled_engine_is_reproducible_bit_for_bit_from_a_seed(moons):
    X, y = moons
    runs = []
    for _ in range(2):
        model = tiny_model()
        model.fit(X, y, epochs=20, batch_size=64, optimizer=dn.Adam(0.01), engine="compiled", l2=0.3)
        runs.append(model.params.copy())
    assert np.array_equal(runs[0], runs[1])


@needs_numba
def test_the_compiled_engine_reaches_the_course_accuracy_on_the_benchmark_network(moons):
    X, y = moons
    model = tiny_model()
    model.fit(X, y, epochs=5000, batch_size=64, optimizer=dn.Adam(0.0007), engine="compiled", record_every=5000)
    assert round(model.evaluate(X, y)["accuracy"], 4) == 0.9433  # the course's published Adam figure


def test_an_unknown_engine_is_an_error_naming_it(moons):
    X, y = moons
    with pytest.raises(ValueError, match=r"unknown engine 'fast'; valid values: 'compiled', 'numpy'"):
        tiny_model().fit(X, y, epochs=1, engine="fast")


@needs_numba
def test_the_compiled_engine_names_a_layer_it_cannot_run_before_training(moons):
    X, y = moons
    model = tiny_model(dn.Dropout(0.8))
    with pytest.raises(ValueError, match=r"Dropout.*engine='numpy'"):
        model.fit(X, y, epochs=3, engine="compiled")
    assert model.history_ is None  # nothing trained


def test_the_compiled_engine_without_numba_says_how_to_install_it(moons, monkeypatch):
    from dnnimprove import compiled

    monkeypatch.setattr(compiled, "AVAILABLE", False)
    X, y = moons
    with pytest.raises(ValueError, match=r"numba.*dnnimprove\[fast\]"):
        tiny_model().fit(X, y, epochs=1, engine="compiled")


@needs_numba
def test_the_estimator_passes_its_engine_to_fit(moons):
    X, y = moons
    scores = {}
    for engine in ("numpy", "compiled"):
        clf = dn.DNNClassifier(hidden_layer_sizes=(8,), epochs=30, batch_size=32, lr=0.01, random_state=0, engine=engine)
        scores[engine] = clf.fit(X, y).predict_proba(X)
    assert clf.get_params()["engine"] == "compiled"
    assert np.allclose(scores["compiled"], scores["numpy"], rtol=1e-9, atol=1e-12)


@needs_numba
def test_train_command_takes_the_engine(capsys):
    status = cli.main(["train", "--dataset", "moons", "--layers", "5,2", "--optimizer", "adam", "--lr", "0.01",
                       "--batch-size", "64", "--epochs", "30", "--engine", "compiled", "--json"])
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert 0.5 < result["train_accuracy"] <= 1
