"""Optimizers: the course's published one-step values, the formulas, a float64 PyTorch oracle, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from helpers import assert_same_trajectory, moons_gradient, run_fixed, run_ours, run_torch
from dnnimprove.ewma import ewma

COURSE_SHAPES = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 3), "b2": (3, 1)}


def course_test_case():
    """The course's test case: ``np.random.seed(1)``, then W1, b1, W2, b2, dW1, db1, dW2, db2 in its column layout.

    Returns the flat parameter and gradient vectors in our row layout (each tensor transposed, in that order).
    """
    np.random.seed(1)  # the course's legacy stream, on purpose
    params = {key: np.random.randn(*shape) for key, shape in COURSE_SHAPES.items()}
    grads = {key: np.random.randn(*shape) for key, shape in COURSE_SHAPES.items()}
    flat = lambda tensors: np.concatenate([tensors[key].T.ravel() for key in COURSE_SHAPES])  # noqa: E731
    return flat(params), flat(grads)


def course_tensor(flat: np.ndarray, key: str) -> np.ndarray:
    """Tensor ``key`` of a flat vector, back in the course's column layout."""
    start = 0
    for name, shape in COURSE_SHAPES.items():
        size = int(np.prod(shape))
        if name == key:
            return flat[start : start + size].reshape(shape[::-1]).T
        start += size
    raise KeyError(key)


# -- the course's published values -------------------------------------------------------------


def test_gradient_descent_one_step_matches_the_course_to_1e_8():
    params, grads = course_test_case()
    optimizer = dn.GradientDescent(lr=0.01)
    optimizer.step(params, grads, optimizer.init(params))
    published_W1 = [[1.63535156, -0.62320365, -0.53718766], [-1.07799357, 0.85639907, -2.29470142]]
    published_b2 = [[-0.88020257], [0.02561572], [0.57539477]]
    np.testing.assert_allclose(course_tensor(params, "W1"), published_W1, rtol=0, atol=1e-8)
    np.testing.assert_allclose(course_tensor(params, "b2"), published_b2, rtol=0, atol=1e-8)


def test_adam_at_t_2_from_zero_state_matches_the_course_to_1e_8():
    params, grads = course_test_case()
    optimizer = dn.Adam(lr=0.01)
    state = optimizer.init(params)
    state.t = 1  # the course's test calls the update with t=2 on zero moments
    optimizer.step(params, grads, state)
    assert state.t == 2
    published_W1 = [[1.63178673, -0.61919778, -0.53561312], [-1.08040999, 0.85796626, -2.29409733]]
    published_b1 = [[1.75225313], [-0.75376553]]
    published_s_dW1 = [[0.00121136, 0.00131039, 0.00081287], [0.0002525, 0.00081154, 0.00046748]]
    np.testing.assert_allclose(course_tensor(params, "W1"), published_W1, rtol=0, atol=1e-8)
    np.testing.assert_allclose(course_tensor(params, "b1"), published_b1, rtol=0, atol=1e-8)
    np.testing.assert_allclose(course_tensor(state.s, "W1"), published_s_dW1, rtol=0, atol=1e-8)


def test_adam_course_check_fails_for_the_wrong_step_count():
    """The 1e-8 check can tell t=1 from t=2: the bias correction moves W1 by far more than that."""
    params, grads = course_test_case()
    optimizer = dn.Adam(lr=0.01)
    optimizer.step(params, grads, optimizer.init(params))  # t = 1
    published_W1 = np.array([[1.63178673, -0.61919778, -0.53561312], [-1.08040999, 0.85796626, -2.29409733]])
    assert np.abs(course_tensor(params, "W1") - published_W1).max() > 1e-4


# -- the formulas ---------------------------------------------------------------------------------


def test_momentum_with_beta_zero_is_exactly_gradient_descent():
    theta0, _, grad = moons_gradient()
    assert np.array_equal(run_ours(dn.Momentum(0.1, beta=0.0), theta0, grad, 20), run_ours(dn.GradientDescent(0.1), theta0, grad, 20))


def test_adam_with_beta1_zero_is_bias_corrected_rmsprop():
    gradients = np.random.default_rng(0).standard_normal((30, 7))
    s_hat = ewma(gradients**2, beta=0.99)
    expected = -0.01 * np.cumsum(gradients / (np.sqrt(s_hat) + 1e-8), axis=0)
    np.testing.assert_allclose(run_fixed(dn.Adam(0.01, beta1=0.0, beta2=0.99), gradients), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "optimizer, direction",
    [
        (dn.GradientDescent(0.1), lambda g: g),
        (dn.Momentum(0.1, beta=0.8), lambda g: ewma(g, 0.8, bias_correction=False)),
        (dn.Momentum(0.1, beta=0.8, nesterov=True), lambda g: 0.8 * ewma(g, 0.8, False) + 0.2 * g),
        (dn.RMSProp(0.1, beta=0.9, epsilon=1e-6), lambda g: g / (np.sqrt(ewma(g**2, 0.9, False)) + 1e-6)),
        (dn.Adam(0.1, 0.8, 0.9, 1e-6), lambda g: ewma(g, 0.8) / (np.sqrt(ewma(g**2, 0.9)) + 1e-6)),
    ],
    ids=["gd", "momentum", "nesterov", "rmsprop", "adam"],
)
def test_every_optimizer_is_its_formula_written_with_ewma(optimizer, direction):
    """Over a fixed sequence of 40 gradients, ``W_T = W_0 - lr * sum_t direction_t``."""
    gradients = np.random.default_rng(1).standard_normal((40, 9))
    expected = -0.1 * np.cumsum(direction(gradients), axis=0)
    np.testing.assert_allclose(run_fixed(optimizer, gradients), expected, rtol=1e-12, atol=1e-14)


def test_momentum_one_step_from_a_known_state_is_the_hand_written_formula():
    rng = np.random.default_rng(2)
    params, grads, v = rng.standard_normal((3, 6))
    optimizer = dn.Momentum(lr=0.05, beta=0.7)
    state = optimizer.init(params)
    state.v[:] = v
    expected_v = 0.7 * v + (1 - 0.7) * grads
    expected = params - 0.05 * expected_v
    optimizer.step(params, grads, state)
    assert np.array_equal(state.v, expected_v)
    assert np.array_equal(params, expected)
    assert state.t == 1


def test_rmsprop_one_step_from_a_known_state_is_the_hand_written_formula():
    rng = np.random.default_rng(3)
    params, grads = rng.standard_normal((2, 6))
    s = rng.uniform(0.1, 1.0, 6)
    optimizer = dn.RMSProp(lr=0.05, beta=0.9, epsilon=1e-3)
    state = optimizer.init(params)
    state.s[:] = s
    expected_s = 0.9 * s + (1 - 0.9) * grads**2
    expected = params - 0.05 * grads / (np.sqrt(expected_s) + 1e-3)
    optimizer.step(params, grads, state)
    np.testing.assert_allclose(state.s, expected_s, rtol=1e-15)
    np.testing.assert_allclose(params, expected, rtol=1e-15)


def test_adamw_decays_weights_only_then_steps_like_adam():
    rng = np.random.default_rng(4)
    params, grads = rng.standard_normal((2, 6))
    mask = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    adam_params = params * (1 - 0.1 * 0.5 * mask)
    adam = dn.Adam(0.1)
    adam.step(adam_params, grads, adam.init(params))
    adamw = dn.AdamW(0.1, weight_decay=0.5)
    adamw.step(params, grads, adamw.init(params, mask))
    np.testing.assert_allclose(params, adam_params, rtol=1e-15)


def test_ewma_on_a_known_sequence_with_and_without_bias_correction():
    values = [1.0, 2.0, 3.0]
    np.testing.assert_allclose(ewma(values, 0.5, bias_correction=False), [0.5, 1.25, 2.125], rtol=1e-15)
    np.testing.assert_allclose(ewma(values, 0.5), [0.5 / 0.5, 1.25 / 0.75, 2.125 / 0.875], rtol=1e-15)
    assert np.allclose(ewma(np.full(50, 7.0), 0.9), 7.0, rtol=1e-14, atol=0)  # correction removes the start-up bias
    assert ewma(np.full(50, 7.0), 0.9, bias_correction=False)[0] == pytest.approx(0.7)
    assert np.array_equal(ewma(values, 0.0), values)


def test_ewma_averages_each_column_of_a_2d_sequence_on_its_own():
    values = np.random.default_rng(5).standard_normal((10, 3))
    together = ewma(values, 0.8)
    for column in range(3):
        np.testing.assert_allclose(together[:, column], ewma(values[:, column], 0.8), rtol=1e-15)


# -- PyTorch oracle ---------------------------------------------------------------------------------


def zero_momentum_buffers(optimizer, tensors):
    """Start PyTorch's momentum buffer at zero (as the course's ``v``) instead of at the first gradient."""
    import torch

    for tensor in tensors:
        optimizer.state[tensor]["momentum_buffer"] = torch.zeros_like(tensor)


def test_torch_sgd_with_dampening_beta_and_a_zero_buffer_follows_momentum_for_200_steps():
    torch = pytest.importorskip("torch")
    theta0, _, grad = moons_gradient()
    ours = run_ours(dn.Momentum(0.5, beta=0.9), theta0, grad)
    theirs = run_torch(lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9, dampening=0.9), theta0, grad,
                       prepare=zero_momentum_buffers)
    assert_same_trajectory(ours, theirs, theta0)


def test_torch_sgd_with_dampening_beta_differs_on_its_first_step_without_the_zero_buffer():
    """PyTorch's first step sets ``buf = g`` (not ``(1 - beta) g``): its first step is 1/(1-beta) = 10x ours."""
    torch = pytest.importorskip("torch")
    theta0, _, grad = moons_gradient()
    ours = run_ours(dn.Momentum(0.5, beta=0.9), theta0, grad, steps=1)
    theirs = run_torch(lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9, dampening=0.9), theta0, grad, steps=1)
    np.testing.assert_allclose(theirs[0] - theta0, (ours[0] - theta0) / (1 - 0.9), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("nesterov", [False, True])
def test_torch_sgd_without_dampening_at_lr_times_1_minus_beta_follows_momentum_for_200_steps(nesterov):
    torch = pytest.importorskip("torch")
    theta0, _, grad = moons_gradient()
    ours = run_ours(dn.Momentum(0.5, beta=0.9, nesterov=nesterov), theta0, grad)
    theirs = run_torch(lambda p: torch.optim.SGD(p, lr=0.5 * (1 - 0.9), momentum=0.9, nesterov=nesterov), theta0, grad)
    assert_same_trajectory(ours, theirs, theta0)
    unscaled = run_torch(lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9, nesterov=nesterov), theta0, grad, steps=5)
    assert np.abs(unscaled - ours[:5]).max() > 1e-3  # the oracle tells the (1 - beta) factor apart


def test_torch_sgd_follows_gradient_descent_for_200_steps():
    torch = pytest.importorskip("torch")
    theta0, _, grad = moons_gradient()
    ours = run_ours(dn.GradientDescent(0.5), theta0, grad)
    assert_same_trajectory(ours, run_torch(lambda p: torch.optim.SGD(p, lr=0.5), theta0, grad), theta0)


def test_torch_rmsprop_with_alpha_beta_follows_rmsprop_for_200_steps():
    torch = pytest.importorskip("torch")
    theta0, _, grad = moons_gradient()
    ours = run_ours(dn.RMSProp(0.01, beta=0.9, epsilon=1e-6), theta0, grad)
    theirs = run_torch(lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6), theta0, grad)
    assert_same_trajectory(ours, theirs, theta0)
    torch_default_alpha = run_torch(lambda p: torch.optim.RMSprop(p, lr=0.01, eps=1e-6), theta0, grad, steps=5)
    assert np.abs(torch_default_alpha - ours[:5]).max() > 1e-3


def test_torch_adam_follows_adam_for_200_steps():
    torch = pytest.importorskip("torch")
    theta0, _, grad = moons_gradient()
    ours = run_ours(dn.Adam(0.01, beta1=0.8, beta2=0.99, epsilon=1e-7), theta0, grad)
    theirs = run_torch(lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-7), theta0, grad)
    assert_same_trajectory(ours, theirs, theta0)


def test_torch_adamw_follows_adamw_for_200_steps_on_every_parameter_or_weights_only():
    torch = pytest.importorskip("torch")
    theta0, weight_mask, grad = moons_gradient()
    make = lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.5)  # noqa: E731
    everything = run_ours(dn.AdamW(0.01, weight_decay=0.5), theta0, grad)
    assert_same_trajectory(everything, run_torch(make, theta0, grad), theta0)
    weights = weight_mask.astype(bool)
    groups = [(weights, {}), (~weights, {"weight_decay": 0.0})]
    weights_only = run_ours(dn.AdamW(0.01, weight_decay=0.5), theta0, grad, weight_mask=weight_mask)
    assert_same_trajectory(weights_only, run_torch(make, theta0, grad, groups=groups), theta0)
    assert np.abs(weights_only - everything).max() > 1e-3  # excluding the biases changes the trajectory


# -- training ---------------------------------------------------------------------------------------


def moons_training_cost(optimizer) -> float:
    X, y = dn.datasets.moons(300, 0.2, seed=3)
    model = dn.Sequential(
        [dn.Dense(5, init="he"), dn.ReLU(), dn.Dense(2, init="he"), dn.ReLU(), dn.Dense(1, init="he")], seed=3
    )
    history = model.fit(X, y, epochs=5000, batch_size=64, optimizer=optimizer, record_every=5000)
    return history.cost[-1]


def test_adam_ends_at_a_lower_training_cost_than_mini_batch_gradient_descent_on_moons():
    adam, gd = moons_training_cost(dn.Adam(0.0007)), moons_training_cost(dn.GradientDescent(0.0007))
    assert adam < gd, (adam, gd)


OPTIMIZERS = [
    dn.GradientDescent(0.05),
    dn.Momentum(0.05, beta=0.9),
    dn.Momentum(0.05, beta=0.9, nesterov=True),
    dn.RMSProp(0.005, beta=0.9),
    dn.Adam(0.005),
    dn.AdamW(0.005, weight_decay=0.01),
]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=repr)
@pytest.mark.parametrize("batch_size, steps", [(None, 10), (16, 30), (1, 400)], ids=["batch", "mini-batch", "stochastic"])
def test_every_optimizer_trains_with_batch_mini_batch_and_stochastic_gradients(optimizer, batch_size, steps):
    X, y = dn.datasets.moons(40, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=0)
    model.build(2)
    before = model.evaluate(X, y)["cost"]
    history = model.fit(X, y, epochs=10, batch_size=batch_size, optimizer=optimizer)
    assert history.steps == model.optimizer_state_.t == steps
    assert model.evaluate(X, y)["cost"] < before


# -- state and bad input ----------------------------------------------------------------------------


def test_a_state_from_a_model_that_was_rebuilt_is_a_clear_error():
    X, y = dn.datasets.moons(40, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(4), dn.ReLU(), dn.Dense(1)], seed=0)
    model.fit(X, y, epochs=1, optimizer=dn.Adam())
    state = model.optimizer_state_
    model.build(3)  # rebuilt for three features: 21 parameters instead of 17
    with pytest.raises(ValueError, match=r"optimizer state does not match the model: state.v is 17 float64 values, "
                                         r"the model has 21 float64 parameters.*rebuilt.*Adam.init"):
        model.fit(np.hstack([X, X[:, :1]]), y, epochs=1, optimizer=(dn.Adam(), state))


@pytest.mark.parametrize(
    "maker, user, message",
    [
        (dn.GradientDescent(0.1), dn.Adam(), r"state.v is missing"),
        (dn.Momentum(0.1), dn.RMSProp(), r"state.s is missing"),
        (dn.Adam(), dn.AdamW(), r"state.decay_mask is missing"),
    ],
)
def test_a_state_made_by_another_optimizer_is_a_clear_error(maker, user, message):
    params = np.zeros(5)
    with pytest.raises(ValueError, match=message):
        user.step(params, np.ones(5), maker.init(params))


def test_a_state_of_another_dtype_is_a_clear_error():
    optimizer = dn.Adam()
    state = optimizer.init(np.zeros(5))
    with pytest.raises(ValueError, match=r"state.v is 5 float64 values, the model has 5 float32 parameters"):
        optimizer.step(np.zeros(5, np.float32), np.ones(5, np.float32), state)


def test_a_state_is_checked_again_when_its_arrays_change():
    optimizer, params = dn.Adam(), np.zeros(5)
    state = optimizer.init(params)
    optimizer.step(params, np.ones(5), state)
    state.v = np.zeros(4)
    with pytest.raises(ValueError, match=r"state.v is 4 float64 values, the model has 5 float64 parameters"):
        optimizer.step(params, np.ones(5), state)
    state.v = np.zeros(5)
    with pytest.raises(ValueError, match=r"state.v is 5 float64 values, the model has 6 float64 parameters"):
        optimizer.step(np.zeros(6), np.ones(6), state)


def test_gradients_of_another_shape_are_a_clear_error():
    optimizer = dn.GradientDescent(0.1)
    with pytest.raises(ValueError, match=r"grads must have the shape of params \(5,\); got \(4,\)"):
        optimizer.step(np.zeros(5), np.ones(4), optimizer.init(np.zeros(5)))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: dn.GradientDescent(0.0), r"lr must be in \(0, inf\); got 0.0"),
        (lambda: dn.Adam(lr=-0.01), r"lr must be in \(0, inf\); got -0.01"),
        (lambda: dn.Momentum(0.1, beta=1.0), r"beta must be in \[0, 1\); got 1.0"),
        (lambda: dn.Momentum(0.1, beta=-0.1), r"beta must be in \[0, 1\); got -0.1"),
        (lambda: dn.RMSProp(0.1, beta=1.5), r"beta must be in \[0, 1\); got 1.5"),
        (lambda: dn.Adam(beta1=1.0), r"beta1 must be in \[0, 1\); got 1.0"),
        (lambda: dn.Adam(beta2=1.5), r"beta2 must be in \[0, 1\); got 1.5"),
        (lambda: dn.AdamW(beta2=-1e-3), r"beta2 must be in \[0, 1\); got -0.001"),
        (lambda: dn.Adam(epsilon=0.0), r"epsilon must be in \(0, inf\); got 0.0"),
        (lambda: dn.RMSProp(epsilon=-1e-8), r"epsilon must be in \(0, inf\); got -1e-08"),
        (lambda: dn.AdamW(weight_decay=-0.1), r"weight_decay must be in \[0, inf\); got -0.1"),
        (lambda: dn.Adam(lr=float("nan")), r"lr must be a finite number"),
        (lambda: ewma([1.0, 2.0], beta=1.0), r"beta must be in \[0, 1\); got 1.0"),
        (lambda: ewma([], beta=0.9), r"values must be a non-empty sequence"),
    ],
)
def test_bad_settings_get_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_non_number_setting_is_a_type_error():
    with pytest.raises(TypeError, match=r"lr must be a real number; got '0.1' of type str"):
        dn.Adam(lr="0.1")


def test_unknown_optimizer_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown optimizer 'sgd'; valid values: 'adam', 'adamw', 'gd', 'momentum', 'rmsprop'"):
        dn.get_optimizer("sgd")
    assert dn.get_optimizer("momentum", lr=0.1, beta=0.5).config() == {"lr": 0.1, "beta": 0.5, "nesterov": False}
