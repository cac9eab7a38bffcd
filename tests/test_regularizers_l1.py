"""L1 regularization: the course's (lambd / (2 m)) sum |W| and its sign gradient, global and per layer; sparsity."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from conftest import at_generic_point, make_problem
from dnnimprove.regularizers import l1_gradient, l1_penalty


def weights(model: dn.Sequential) -> np.ndarray:
    return np.concatenate([model.params[info.slice] for info in model.table if info.role == "weight"])


def away_from_zero(model: dn.Sequential, n_features: int) -> dn.Sequential:
    """A generic point whose weights are all at least 0.01 from 0, where |W| has a derivative."""
    at_generic_point(model, n_features)
    for info in model.table:
        if info.role == "weight":
            W = model.params[info.slice]
            W[np.abs(W) < 0.01] = 0.05
    assert np.min(np.abs(weights(model))) >= 0.01
    return model


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_gradient_check_passes_with_global_and_per_layer_l1_in_float64(kind):
    X, y, loss, n_out = make_problem(kind, m=16)
    model = dn.Sequential([dn.Dense(6, l1=0.4), dn.ReLU(), dn.Dense(5), dn.ReLU(), dn.Dense(n_out)], loss=loss, seed=1)
    away_from_zero(model, X.shape[1])
    assert model.dtype == np.float64
    report = dn.check_gradients(model, X, y, l1=0.7, l2=0.2)
    assert report.difference < 1e-7 and report.ok, str(report)


def test_the_gradient_check_fails_on_a_wrong_l1_gradient(monkeypatch):
    import dnnimprove.model as model_module

    X, y, _, _ = make_problem("binary", m=16)
    model = away_from_zero(dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dense(1)], seed=1), X.shape[1])
    twice = lambda grads, params, mask, lambd, m: grads.__iadd__(np.sign(params * mask) * lambd / m)  # noqa: E731
    monkeypatch.setattr(model_module, "add_l1_gradient", twice)  # lambd / m instead of lambd / (2 m)
    assert not dn.check_gradients(model, X, y, l1=5.0).ok


def test_l1_adds_lambd_over_2m_times_sign_w_to_weight_gradients_only_and_its_cost_term():
    X, y, _, _ = make_problem("binary", m=16)
    model = away_from_zero(dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dense(1)], seed=1), X.shape[1])
    Y = model.encode_targets(y, 16)
    data_cost = model.compute_gradients(X, Y)
    plain = model.grads.copy()
    model.compute_gradients(X, Y, l1=0.8)
    expected = plain + model.weight_mask * np.sign(model.params) * 0.8 / (2 * 16)
    np.testing.assert_allclose(model.grads, expected, rtol=1e-12, atol=1e-15)
    assert model.compute_cost(X, Y, l1=0.8) - data_cost == pytest.approx(0.8 / 32 * np.sum(np.abs(weights(model))),
                                                                         rel=1e-12)
    assert l1_penalty(model.params, model.weight_mask, 0.0, 16) == 0.0
    np.testing.assert_array_equal(l1_gradient(np.array([-2.0, 0.0, 3.0]), 1.0, 1), [-0.5, 0.0, 0.5])


def test_a_layers_own_l1_shows_in_the_history_penalty_and_round_trips_in_config():
    X, y = dn.datasets.moons(40, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(6, l1=0.3), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=2, optimizer=dn.GradientDescent(0.1))
    W = model.params[model.table[0].slice]
    assert history.penalty[-1] == pytest.approx(0.3 / 80 * np.sum(np.abs(W)), rel=1e-12)
    assert model.layers[0].config()["l1"] == 0.3
    assert dn.Dense(**model.layers[0].config()).l1 == 0.3


def test_l1_leaves_most_weights_near_zero_where_l2_of_the_same_training_accuracy_does_not():
    X, y = dn.datasets.noisy_wave(200, 0.3, seed=0)
    fractions, accuracies = {}, {}
    for name, options in (("none", {}), ("l1", {"l1": 0.3}), ("l2", {"l2": 1.0})):
        model = dn.Sequential([dn.Dense(30), dn.ReLU(), dn.Dense(30), dn.ReLU(), dn.Dense(1)], seed=0)
        model.fit(X, y, epochs=300, batch_size=None, optimizer=dn.Adam(0.01), **options)
        fractions[name] = float(np.mean(np.abs(weights(model)) < 0.01))
        accuracies[name] = model.evaluate(X, y)["accuracy"]
    assert abs(accuracies["l1"] - accuracies["l2"]) < 0.03, accuracies  # regularized about as much ...
    assert fractions["l1"] > 0.5 > 0.25 > fractions["l2"] > fractions["none"], fractions  # ... but sparse


def test_auto_engine_falls_back_to_numpy_for_l1_and_compiled_refuses_it():
    X, y = dn.datasets.moons(64, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(4), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=3, batch_size=16, l1=0.1, engine="auto")
    assert history.engine == "numpy" and "l1" in history.engine_reason
    layered = dn.Sequential([dn.Dense(4, l1=0.1), dn.ReLU(), dn.Dense(1)], seed=0)
    assert "l1" in layered.fit(X, y, epochs=3, batch_size=16, engine="auto").engine_reason
    with pytest.raises(ValueError, match=r"L1 regularization \(l1\) has no compiled formula"):
        dn.Sequential([dn.Dense(4), dn.ReLU(), dn.Dense(1)], seed=0).fit(X, y, epochs=3, l1=0.1, engine="compiled")


@pytest.mark.parametrize("make", [
    lambda: dn.Dense(3, l1=-0.1),
    lambda: dn.Sequential([dn.Dense(1)]).fit(np.zeros((4, 2)), [0, 1, 0, 1], epochs=1, l1=-0.1),
    lambda: dn.check_gradients(dn.Sequential([dn.Dense(1)]), np.zeros((4, 2)), [0, 1, 0, 1], l1=-0.1),
])
def test_a_negative_l1_is_one_clear_error(make):
    with pytest.raises(ValueError, match=r"l1 must be in \[0, inf\); got -0.1"):
        make()
