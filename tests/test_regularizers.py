"""L2 regularization: the cost term and gradient over weights only, global and per layer; it shrinks weights."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from helpers import at_generic_point, make_problem
from dnnimprove.regularizers import l1_gradient, l1_penalty


def weights_sum_of_squares(model: dn.Sequential) -> float:
    return sum(float(np.sum(model.params[info.slice] ** 2)) for info in model.table if info.role == "weight")


def two_hidden_layer_model(seed: int = 1, **dense) -> dn.Sequential:
    return dn.Sequential([dn.Dense(6, **dense), dn.ReLU(), dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=seed)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_gradient_check_passes_with_l2_07_in_a_two_hidden_layer_relu_network(kind):
    X, y, loss, n_out = make_problem(kind, m=16)
    model = dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dense(5), dn.ReLU(), dn.Dense(n_out)], loss=loss, seed=1)
    report = dn.check_gradients(at_generic_point(model, X.shape[1]), X, y, l2=0.7)
    assert report.difference < 1e-7 and report.ok, str(report)


def test_l2_adds_lambd_over_m_times_w_to_weight_gradients_only():
    X, y, _, _ = make_problem("binary", m=16)
    model = at_generic_point(dn.Sequential([dn.Dense(6, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dense(5),
                                            dn.ReLU(), dn.Dense(1)], seed=1), X.shape[1])
    X, Y = model.check_X(X), model.encode_targets(y, 16)
    plain_cost = model.compute_gradients(X, Y, l2=0.0)
    plain = model.grads.copy()
    state = {key: value.copy() for key, value in model.state_arrays().items()}
    regularized_cost = model.compute_gradients(X, Y, l2=0.7)
    for key, value in model.state_arrays().items():
        value[...] = state[key]
    expected = plain + 0.7 * model.params * model.weight_mask / 16
    np.testing.assert_allclose(model.grads, expected, rtol=1e-13, atol=1e-16)
    assert plain_cost == regularized_cost  # compute_gradients returns the data cost
    # biases, batch-norm gamma and beta are not regularized
    for info in model.table:
        if info.role != "weight":
            np.testing.assert_array_equal(model.grads[info.slice], plain[info.slice])
    cost = model.compute_cost(X, Y, l2=0.7)
    data = model.compute_cost(X, Y, l2=0.0)
    assert cost - data == pytest.approx(0.7 / (2 * 16) * weights_sum_of_squares(model), rel=1e-12)


def test_course_compute_cost_with_regularization_published_value():
    # The course's compute_cost_with_regularization_test_case (lambd 0.1, m 5): published cost 1.78648594516.
    np.random.seed(1)
    Y = np.array([[1, 1, 0, 1, 0]])
    weights = {}
    for name, shape in [("dense_1", (2, 3)), ("dense_2", (3, 2)), ("dense_3", (1, 3))]:
        weights[name] = np.random.randn(*shape)
        np.random.randn(shape[0], 1)  # the bias, drawn in between as the course does
    a3 = np.array([[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]])
    model = dn.Sequential([dn.Dense(2), dn.ReLU(), dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0).build(3)
    for name, W in weights.items():
        model.tensor(f"{name}.W")[...] = W.T
    logits = np.log(a3 / (1 - a3)).T
    cost = model.loss.cost(logits, Y.T.astype(float)) + dn.regularizers.l2_penalty(
        model.params, model.weight_mask, 0.1, 5)
    assert cost == pytest.approx(1.78648594516, abs=1e-10)


def test_l2_shrinks_the_weights_frobenius_norm():
    X, y = dn.datasets.moons(300, 0.2, seed=3)
    norms = {}
    for lambd in (0.0, 0.7):
        model = two_hidden_layer_model(seed=3)
        model.fit(X, y, epochs=300, batch_size=None, optimizer=dn.Adam(0.01), l2=lambd)
        norms[lambd] = np.sqrt(weights_sum_of_squares(model))
    assert norms[0.7] < 0.9 * norms[0.0], norms


def test_history_separates_data_cost_and_penalty():
    X, y = dn.datasets.moons(200, 0.2, seed=3)
    model = two_hidden_layer_model()
    history = model.fit(X, y, epochs=5, batch_size=None, optimizer=dn.GradientDescent(0.1), l2=0.7)
    assert history.penalty[-1] == pytest.approx(0.7 / (2 * 200) * weights_sum_of_squares(model), rel=1e-12)
    np.testing.assert_allclose(history.cost, np.add(history.data_cost, history.penalty), rtol=1e-15)
    assert all(penalty > 0 for penalty in history.penalty)
    # the data cost is the loss alone: with a negligible step it equals the unregularized cost
    plain = two_hidden_layer_model().fit(X, y, epochs=1, batch_size=None, optimizer=dn.GradientDescent(0.1))
    assert history.data_cost[0] == plain.data_cost[0] and plain.penalty == [0.0]


def test_a_layers_own_l2_adds_to_the_global_one_for_its_weight():
    X, y, _, _ = make_problem("binary", m=16)
    model = at_generic_point(two_hidden_layer_model(l2=0.5), X.shape[1])
    report = dn.check_gradients(model, X, y, l2=0.7)
    assert report.ok, str(report)
    X, Y = model.check_X(X), model.encode_targets(y, 16)
    W1 = model.tensor("dense_1.W")
    expected = 0.7 / 32 * weights_sum_of_squares(model) + 0.5 / 32 * float(np.sum(W1 ** 2))
    data_cost = model.loss.cost(model.forward(X), Y)
    assert model.compute_cost(X, Y, l2=0.7) - data_cost == pytest.approx(expected, rel=1e-12)
    assert model.layer_penalty(16) == pytest.approx(0.5 / 32 * float(np.sum(W1 ** 2)), rel=1e-14)
    # the gradient: dense_1.W gains (0.5 + 0.7) W / m, the other weights 0.7 W / m
    model.compute_gradients(X, Y, l2=0.0)
    without_global = model.tensor("dense_1.W", grad=True).copy()
    twin = at_generic_point(two_hidden_layer_model(), X.shape[1])
    twin.compute_gradients(X, Y)
    np.testing.assert_allclose(without_global, twin.tensor("dense_1.W", grad=True) + 0.5 * W1 / 16, rtol=1e-13)


def test_a_layers_own_l2_shows_in_the_history_penalty_and_round_trips_in_config():
    X, y = dn.datasets.moons(100, 0.2, seed=3)
    model = two_hidden_layer_model(l2=0.3)
    history = model.fit(X, y, epochs=2, optimizer=dn.GradientDescent(0.1))
    assert history.penalty[-1] == pytest.approx(0.3 / 200 * float(np.sum(model.tensor("dense_1.W") ** 2)), rel=1e-12)
    assert model.layers[0].config()["l2"] == 0.3 and "l2" not in model.layers[2].config()
    assert repr(model.layers[0]).startswith("Dense(units=6") and "l2=0.3" in repr(model.layers[0])


@pytest.mark.parametrize("call", [
    lambda: two_hidden_layer_model().fit(np.zeros((4, 2)), [0, 1, 0, 1], epochs=1, l2=-0.1),
    lambda: dn.check_gradients(two_hidden_layer_model(), np.zeros((4, 2)), [0, 1, 0, 1], l2=-0.1),
    lambda: dn.Dense(3, l2=-0.1),
])
def test_negative_lambd_is_a_clear_error(call):
    with pytest.raises(ValueError, match=r"l2 must be in \[0, inf\); got -0.1"):
        call()


# -- L1 --------------------------------------------------------------------------------------------
# L1 regularization: the course's (lambd / (2 m)) sum |W| and its sign gradient, global and per layer; sparsity.

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
    for name, l1, l2 in (("none", 0.0, 0.0), ("l1", 0.3, 0.0), ("l2", 0.0, 1.0)):
        model = dn.Sequential([dn.Dense(30, l1=l1), dn.ReLU(), dn.Dense(30, l1=l1), dn.ReLU(), dn.Dense(1, l1=l1)], seed=0)
        model.fit(X, y, epochs=300, batch_size=None, optimizer=dn.Adam(0.01), l2=l2)
        fractions[name] = float(np.mean(np.abs(weights(model)) < 0.01))
        accuracies[name] = model.evaluate(X, y)["accuracy"]
    assert abs(accuracies["l1"] - accuracies["l2"]) < 0.03, accuracies  # regularized about as much ...
    assert fractions["l1"] > 0.5 > 0.25 > fractions["l2"] > fractions["none"], fractions  # ... but sparse


def test_l1_on_every_dense_layer_is_the_whole_network_l1_bit_for_bit():
    X, y = dn.datasets.moons(40, 0.2, seed=3)
    plain = dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dense(1)], seed=1).build(2)
    layered = dn.Sequential([dn.Dense(6, l1=0.7), dn.ReLU(), dn.Dense(1, l1=0.7)], seed=1).build(2)
    Y = plain.encode_targets(y, 40)
    plain.compute_gradients(X, Y, l2=0.2, l1=0.7)
    layered.compute_gradients(X, Y, l2=0.2)
    assert np.array_equal(plain.params, layered.params)
    assert np.allclose(plain.grads, layered.grads, rtol=1e-12, atol=1e-15)  # L1 added before L2 here, after it there
    assert layered.compute_cost(X, Y, l2=0.2) == pytest.approx(plain.compute_cost(X, Y, l2=0.2, l1=0.7), rel=1e-14)
    alone = dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dense(1)], seed=1).build(2)
    alone.compute_gradients(X, Y, l1=0.7)
    layered.compute_gradients(X, Y)
    assert np.array_equal(alone.grads, layered.grads)  # L1 alone: the same additions, bit for bit


def test_a_layer_l1_runs_on_the_compiled_engine_to_the_numpy_parameters():
    from dnnimprove.compiled import unavailable_reason

    if unavailable_reason() is not None:
        pytest.skip("numba is off or not installed")
    X, y = dn.datasets.moons(64, 0.2, seed=3)
    fits = {engine: dn.Sequential([dn.Dense(4, l1=0.1), dn.ReLU(), dn.Dense(1)], seed=0) for engine in ("numpy", "compiled")}
    for engine, model in fits.items():
        assert model.fit(X, y, epochs=3, batch_size=16, engine=engine).engine == engine
    np.testing.assert_allclose(fits["compiled"].params, fits["numpy"].params, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: dn.Dense(3, l1=-0.1),
    lambda: dn.dense_stack([3], 1, l1=-0.1),
    lambda: dn.check_gradients(dn.Sequential([dn.Dense(1)]), np.zeros((4, 2)), [0, 1, 0, 1], l1=-0.1),
])
def test_a_negative_l1_is_one_clear_error(make):
    with pytest.raises(ValueError, match=r"l1 must be in \[0, inf\); got -0.1"):
        make()
