"""BatchNorm's running variance: PyTorch's unbiased estimate by default, the course's biased one on request."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


def one_training_pass(estimate: str, m: int = 5) -> tuple[dn.BatchNorm, np.ndarray]:
    model = dn.Sequential([dn.Dense(3, use_bias=False), dn.BatchNorm(momentum=0.8, running_var_estimate=estimate),
                           dn.ReLU(), dn.Dense(1)], seed=0)
    X = np.random.default_rng(1).standard_normal((m, 4))
    model.build(4)
    Z = model.layers[0].forward(X, True)
    model.layers[1].forward(Z, True)
    return model.layers[1], Z


def test_the_default_averages_the_unbiased_batch_variance():
    layer, Z = one_training_pass("unbiased")
    np.testing.assert_allclose(layer.running_var, 0.8 * 1 + 0.2 * Z.var(axis=0, ddof=1), rtol=1e-14)
    assert dn.BatchNorm().config() == {"momentum": 0.9, "epsilon": 1e-5}  # unchanged for files written before


def test_the_course_estimate_averages_the_variance_it_normalizes_with():
    layer, Z = one_training_pass("biased")
    np.testing.assert_allclose(layer.running_var, 0.8 * 1 + 0.2 * Z.var(axis=0, ddof=0), rtol=1e-14)
    np.testing.assert_allclose(layer.running_mean, 0.2 * Z.mean(axis=0), rtol=1e-14)  # the mean is the same
    assert layer.config()["running_var_estimate"] == "biased"
    assert not dn.BatchNorm(**layer.config()).unbiased


def test_only_inference_changes_and_the_model_file_keeps_the_choice(tmp_path):
    X, y = dn.datasets.moons(60, 0.2, seed=3)
    models = {}
    for estimate in ("unbiased", "biased"):
        model = dn.Sequential([dn.Dense(4, use_bias=False), dn.BatchNorm(running_var_estimate=estimate), dn.ReLU(),
                               dn.Dense(1)], seed=0)
        model.fit(X, y, epochs=3, batch_size=10, optimizer=dn.Adam(0.01), engine="numpy")
        models[estimate] = model
    np.testing.assert_array_equal(models["unbiased"].params, models["biased"].params)  # same training ...
    assert np.all(models["biased"].layers[1].running_var < models["unbiased"].layers[1].running_var)  # ... smaller
    path = dn.save(models["biased"], tmp_path / "biased.npz")
    loaded = dn.load(path)
    assert not loaded.layers[1].unbiased
    np.testing.assert_array_equal(loaded.predict_proba(X), models["biased"].predict_proba(X))


def test_auto_engine_runs_the_biased_estimate_on_numpy():
    X, y = dn.datasets.moons(64, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(4, use_bias=False), dn.BatchNorm(running_var_estimate="biased"), dn.ReLU(),
                           dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=2, batch_size=16, engine="auto")
    assert history.engine == "numpy" and "running_var_estimate" in history.engine_reason


def test_an_unknown_estimate_is_one_clear_error():
    with pytest.raises(ValueError, match=r"running_var_estimate.*'population'"):
        dn.BatchNorm(running_var_estimate="population")
