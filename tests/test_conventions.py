"""Convention translator: exact translations reproduce our trajectories, approximate ones deviate as stated.

Oracles: PyTorch (optional, float64) and scikit-learn's own optimizer classes and back-propagation. Keras is
not a dependency: its update rules are transcribed below from its source (``keras/src/optimizers/*.py``,
``keras/src/layers/normalization/batch_normalization.py``, ``InverseTimeDecay``), one function each.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import dnnimprove as dn
from helpers import assert_same_trajectory, moons_gradient, run_fixed, run_oracle, run_ours, run_torch
from dnnimprove import conventions
from dnnimprove.conventions import translate, translate_back

# -- Keras's update rules, transcribed --------------------------------------------------------------------


def keras_sgd(learning_rate, momentum, nesterov):
    """keras.optimizers.SGD.update_step: m = momentum m - lr g; w += m (nesterov: w += momentum m - lr g)."""
    velocity = {}

    def step(params, g):
        m = velocity.setdefault("m", np.zeros_like(params))
        m[:] = m * momentum - g * learning_rate
        params += (m * momentum - g * learning_rate) if nesterov else m

    return step


def keras_rmsprop(learning_rate, rho, epsilon):
    """keras.optimizers.RMSprop.update_step (centered=False, momentum=0): w -= lr g / sqrt(velocity + epsilon)."""
    state = {}

    def step(params, g):
        velocity = state.setdefault("velocity", np.zeros_like(params))
        velocity[:] = rho * velocity + (1 - rho) * g**2
        params -= learning_rate * g / np.sqrt(velocity + epsilon)

    return step


def keras_adam(learning_rate, beta_1, beta_2, epsilon, weight_decay=None, decay_mask=None):
    """keras.optimizers.Adam(W).update_step: alpha = lr sqrt(1 - beta_2**t) / (1 - beta_1**t); w -= alpha m / (sqrt(v) + eps).

    With ``weight_decay`` (AdamW), the base optimizer first does w -= w * weight_decay * lr on the decayed variables.
    """
    state = {"t": 0}

    def step(params, g):
        m = state.setdefault("m", np.zeros_like(params))
        v = state.setdefault("v", np.zeros_like(params))
        state["t"] += 1
        t = state["t"]
        if weight_decay is not None:
            params -= params * weight_decay * learning_rate * (1.0 if decay_mask is None else decay_mask)
        alpha = learning_rate * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        params -= m * alpha / (np.sqrt(v) + epsilon)

    return step


def keras_inverse_time_decay(initial_learning_rate, decay_steps, decay_rate, staircase):
    """keras.optimizers.schedules.InverseTimeDecay: lr0 / (1 + decay_rate * p), p = step / decay_steps (floored)."""

    def schedule(step):
        p = step / decay_steps
        return initial_learning_rate / (1 + decay_rate * (math.floor(p) if staircase else p))

    return schedule


# -- scikit-learn's own optimizers ------------------------------------------------------------------------


def sklearn_step(optimizer):
    """Wrap scikit-learn's SGDOptimizer / AdamOptimizer (params updated in place by update_params)."""

    def step(params, g):
        optimizer.update_params([params], [g])

    return step


def sklearn_optimizers():
    return pytest.importorskip("sklearn.neural_network._stochastic_optimizers")


# -- momentum ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_in_pytorch_terms_reproduces_our_trajectory(nesterov):
    torch = pytest.importorskip("torch")
    translation = translate("momentum", "pytorch", lr=0.5, beta=0.9, nesterov=nesterov)
    assert translation.exact
    theta0, _, grad = moons_gradient()
    theirs = run_torch(lambda p: torch.optim.SGD(p, **translation.values), theta0, grad)
    assert_same_trajectory(run_ours(dn.Momentum(0.5, beta=0.9, nesterov=nesterov), theta0, grad), theirs, theta0)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_in_sklearn_terms_reproduces_our_trajectory(nesterov):
    optimizers = sklearn_optimizers()
    values = translate("momentum", "sklearn", lr=0.5, beta=0.9, nesterov=nesterov).values
    theta0, _, grad = moons_gradient()
    sgd = optimizers.SGDOptimizer([theta0], learning_rate_init=values["learning_rate_init"],
                                  momentum=values["momentum"], nesterov=values["nesterovs_momentum"])
    theirs = run_oracle(sklearn_step(sgd), theta0, grad)
    assert_same_trajectory(run_ours(dn.Momentum(0.5, beta=0.9, nesterov=nesterov), theta0, grad), theirs, theta0)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_in_keras_terms_reproduces_our_trajectory(nesterov):
    values = translate("momentum", "keras", lr=0.5, beta=0.9, nesterov=nesterov).values
    theta0, _, grad = moons_gradient()
    theirs = run_oracle(keras_sgd(**values), theta0, grad)
    assert_same_trajectory(run_ours(dn.Momentum(0.5, beta=0.9, nesterov=nesterov), theta0, grad), theirs, theta0)


def test_pytorch_dampened_momentum_deviates_by_the_first_gradient_as_the_caveat_says():
    """dampening=beta without a zero buffer: step t carries lr * beta**t * g_1 more than ours."""
    torch = pytest.importorskip("torch")
    translation = translate_back("momentum", "pytorch", lr=0.1, momentum=0.8, dampening=0.8)
    assert not translation.exact and translation.values["lr"] == 0.1 and translation.values["beta"] == 0.8
    assert "5 times ours" in translation.caveat and "lr * g_1 * 4 in all" in translation.caveat
    gradients = np.random.default_rng(0).standard_normal((50, 6))
    ours = run_fixed(dn.Momentum(0.1, beta=0.8), gradients)
    fixed_grad = iter(gradients)
    theirs = run_torch(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, dampening=0.8), np.zeros(6),
                       lambda theta: next(fixed_grad), steps=50)
    steps = np.arange(1, 51)[:, None]
    extra = 0.1 * gradients[0] * 0.8 * (1 - 0.8**steps) / (1 - 0.8)  # sum over t of lr * beta**t * g_1
    np.testing.assert_allclose(ours - theirs, extra, rtol=1e-10, atol=1e-13)


# -- RMSprop -------------------------------------------------------------------------------------------


def test_rmsprop_in_pytorch_terms_reproduces_our_trajectory():
    torch = pytest.importorskip("torch")
    translation = translate("rmsprop", "pytorch", lr=0.01, beta=0.9, epsilon=1e-6)
    assert translation.exact and translation.values == {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}
    theta0, _, grad = moons_gradient()
    theirs = run_torch(lambda p: torch.optim.RMSprop(p, **translation.values), theta0, grad)
    assert_same_trajectory(run_ours(dn.RMSProp(0.01, beta=0.9, epsilon=1e-6), theta0, grad), theirs, theta0)


def test_rmsprop_in_keras_terms_deviates_by_the_stated_factor():
    epsilon = 1e-3
    translation = translate("rmsprop", "keras", lr=0.01, beta=0.9, epsilon=epsilon)
    assert not translation.exact and translation.values["epsilon"] == pytest.approx(epsilon**2, rel=1e-15)
    s_after = np.array([1e-12, epsilon**2, 1e-4, 1e-2, 1.0])  # second moments after one step from zero
    g = np.sqrt(s_after / (1 - 0.9))
    ours, keras = np.zeros(5), np.zeros(5)
    optimizer = dn.RMSProp(0.01, beta=0.9, epsilon=epsilon)
    optimizer.step(ours, g, optimizer.init(ours))
    keras_rmsprop(**translation.values)(keras, g)
    ratio = keras / ours
    np.testing.assert_allclose(ratio, (np.sqrt(s_after) + epsilon) / np.sqrt(s_after + epsilon**2), rtol=1e-9)
    assert ratio[0] == pytest.approx(1, abs=1e-3) and ratio[1] == pytest.approx(math.sqrt(2), rel=1e-9)
    assert np.all(ratio >= 1 - 1e-12) and np.all(ratio <= math.sqrt(2) + 1e-12)
    assert np.all(ratio[2:] - 1 <= epsilon / np.sqrt(s_after[2:]))


# -- Adam, AdamW ---------------------------------------------------------------------------------------


def test_adam_in_pytorch_terms_reproduces_our_trajectory():
    torch = pytest.importorskip("torch")
    values = translate("adam", "pytorch", lr=0.01, beta1=0.8, beta2=0.99, epsilon=1e-7).values
    theta0, _, grad = moons_gradient()
    theirs = run_torch(lambda p: torch.optim.Adam(p, lr=values["lr"], betas=(values["beta1"], values["beta2"]),
                                                  eps=values["eps"]), theta0, grad)
    assert_same_trajectory(run_ours(dn.Adam(0.01, 0.8, 0.99, 1e-7), theta0, grad), theirs, theta0)


def epsilon_hat_schedule(epsilon_hat, beta2):
    """Our Adam made to follow an epsilon-hat library: epsilon_t = epsilon_hat / sqrt(1 - beta2**t)."""

    def before_step(optimizer, t):
        optimizer.epsilon = epsilon_hat / math.sqrt(1 - beta2**t)

    return before_step


@pytest.mark.parametrize("library", ["sklearn", "keras"])
def test_adam_epsilon_hat_libraries_follow_ours_with_the_stated_epsilon_per_step(library):
    """The caveat says: their step is ours with epsilon / sqrt(1 - beta2**t); measured over 200 steps to 1e-10."""
    translation = translate("adam", library, lr=0.01, beta1=0.9, beta2=0.999, epsilon=1e-3)
    assert not translation.exact and "31.62 times ours at t = 1" in translation.caveat
    theta0, _, grad = moons_gradient()
    if library == "sklearn":
        values = translation.values
        adam = sklearn_optimizers().AdamOptimizer([theta0], values["learning_rate_init"], values["beta_1"],
                                                  values["beta_2"], values["epsilon"])
        theirs = run_oracle(sklearn_step(adam), theta0, grad)
    else:
        theirs = run_oracle(keras_adam(**translation.values), theta0, grad)
    matched = run_ours(dn.Adam(0.01, 0.9, 0.999, 1e-3), theta0, grad, before_step=epsilon_hat_schedule(1e-3, 0.999))
    assert_same_trajectory(matched, theirs, theta0)
    plain = run_ours(dn.Adam(0.01, 0.9, 0.999, 1e-3), theta0, grad)
    assert np.abs(plain - theirs).max() > 1e-6  # the deviation is real with this epsilon


@pytest.mark.parametrize("decay_biases", [False, True])
def test_adamw_in_pytorch_terms_reproduces_our_trajectory(decay_biases):
    torch = pytest.importorskip("torch")
    values = translate("adamw", "pytorch", lr=0.01, weight_decay=0.5, decay_biases=decay_biases).values
    theta0, weight_mask, grad = moons_gradient()
    options = {"lr": values["lr"], "betas": (values["beta1"], values["beta2"]), "eps": values["eps"],
               "weight_decay": values["weight_decay"]}
    weights = weight_mask.astype(bool)
    groups = None if values["decay_biases"] else [(weights, {}), (~weights, {"weight_decay": 0.0})]
    theirs = run_torch(lambda p: torch.optim.AdamW(p, **options), theta0, grad, groups=groups)
    ours = run_ours(dn.AdamW(0.01, weight_decay=0.5), theta0, grad, weight_mask=None if decay_biases else weight_mask)
    assert_same_trajectory(ours, theirs, theta0)


def test_adamw_in_keras_terms_differs_only_by_epsilon_hat():
    translation = translate("adamw", "keras", lr=0.01, weight_decay=0.5, epsilon=1e-3)
    assert not translation.exact and 'exclude_from_weight_decay(var_names=["bias"])' in translation.snippet
    theta0, weight_mask, grad = moons_gradient()
    values = {key: value for key, value in translation.values.items() if key != "decay_biases"}
    theirs = run_oracle(keras_adam(**values, decay_mask=weight_mask), theta0, grad)
    matched = run_ours(dn.AdamW(0.01, epsilon=1e-3, weight_decay=0.5), theta0, grad, weight_mask=weight_mask,
                       before_step=epsilon_hat_schedule(1e-3, 0.999))
    assert_same_trajectory(matched, theirs, theta0)


# -- L2 ------------------------------------------------------------------------------------------------


def test_l2_in_pytorch_terms_reproduces_our_trajectory_with_full_batches():
    torch = pytest.importorskip("torch")
    translation = translate("l2", "pytorch", lambd=0.7, batch_size=64, n_samples=64)
    assert translation.exact and translation.values["weight_decay"] == 0.7 / 64
    theta0, weight_mask, grad_l2 = moons_gradient(l2=0.7)
    _, _, grad = moons_gradient()
    weights = weight_mask.astype(bool)
    groups = [(weights, {"weight_decay": translation.values["weight_decay"]}), (~weights, {"weight_decay": 0.0})]
    theirs = run_torch(lambda p: torch.optim.SGD(p, lr=0.5), theta0, grad, groups=groups)
    assert_same_trajectory(run_ours(dn.GradientDescent(0.5), theta0, grad_l2), theirs, theta0)


def test_l2_with_a_short_last_mini_batch_is_approximate_by_the_stated_fraction():
    translation = translate("l2", "pytorch", lambd=0.7, batch_size=64, n_samples=300)
    assert not translation.exact and "44/64 = 0.6875 of ours" in translation.caveat
    theta0, weight_mask, _ = moons_gradient()
    _, _, grad_l2 = moons_gradient(m=44, l2=0.7)
    _, _, grad = moons_gradient(m=44)
    ours_term = grad_l2(theta0) - grad(theta0)  # our L2 gradient on the 44-example batch
    their_term = translation.values["weight_decay"] * theta0 * weight_mask
    np.testing.assert_allclose(their_term, ours_term * 44 / 64, rtol=1e-12, atol=1e-16)


def test_l2_in_sklearn_terms_gives_sklearn_the_same_cost_and_gradients():
    pytest.importorskip("sklearn")
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    alpha = translate("l2", "sklearn", lambd=0.7, batch_size=50).values["alpha"]
    X, y = dn.datasets.moons(50, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=0)
    from helpers import at_generic_point

    at_generic_point(model, 2)
    clf = MLPClassifier(hidden_layer_sizes=(5, 2), activation="relu", alpha=alpha, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    # weight_layout in sklearn terms: coefs_[i] is ours, no transpose
    clf.coefs_ = [model.tensor(f"dense_{i}.W").copy() for i in (1, 2, 3)]
    clf.intercepts_ = [model.tensor(f"dense_{i}.b").copy() for i in (1, 2, 3)]
    activations = [X] + [None] * (clf.n_layers_ - 1)
    coef_grads = [np.empty_like(c) for c in clf.coefs_]
    intercept_grads = [np.empty_like(b) for b in clf.intercepts_]
    loss, coef_grads, intercept_grads = clf._backprop(
        X, y.reshape(-1, 1).astype(float), None, activations, [None] * (clf.n_layers_ - 1), coef_grads, intercept_grads
    )
    Y = model.encode_targets(y, 50)
    cost = model.compute_gradients(model.check_X(X), Y, True, 0.7) + dn.regularizers.l2_penalty(
        model.params, model.weight_mask, 0.7, 50)
    assert loss == pytest.approx(cost, rel=1e-13)
    for i in (1, 2, 3):
        np.testing.assert_allclose(coef_grads[i - 1], model.tensor(f"dense_{i}.W", grad=True), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(intercept_grads[i - 1], model.tensor(f"dense_{i}.b", grad=True), rtol=1e-12, atol=1e-15)


def test_l2_in_keras_terms_is_the_same_penalty():
    """Keras's L2(l2) adds l2 * sum(W**2) to the mean batch loss; ours adds lambd / (2 m) * sum(W**2)."""
    l2 = translate("l2", "keras", lambd=0.7, batch_size=32).values["l2"]
    theta0, weight_mask, _ = moons_gradient()
    keras_penalty = l2 * np.sum((theta0 * weight_mask) ** 2)
    assert keras_penalty == pytest.approx(dn.regularizers.l2_penalty(theta0, weight_mask, 0.7, 32), rel=1e-14)


# -- dropout, batch norm, weight layout --------------------------------------------------------------------


class MaskSource:
    """A random source whose uniform draws reproduce a given keep-mask (0 where kept, 1 where dropped)."""

    def __init__(self, kept: np.ndarray) -> None:
        self.kept = kept

    def uniform(self, shape, dtype):
        return np.where(self.kept, 0.0, 1.0).astype(dtype)


@pytest.mark.parametrize("keep_prob", [0.5, 0.8, 0.9])
def test_dropout_in_pytorch_terms_scales_kept_units_as_ours(keep_prob):
    torch = pytest.importorskip("torch")
    p = translate("dropout", "pytorch", keep_prob=keep_prob).values["p"]
    X = np.random.default_rng(0).standard_normal((200, 7))
    torch.manual_seed(0)
    theirs = torch.nn.functional.dropout(torch.from_numpy(X), p=p, training=True).numpy()
    layer = dn.Dropout(keep_prob=keep_prob)
    layer.source = MaskSource(theirs != 0)
    ours = layer.forward(X, training=True)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)
    assert 0.2 < np.mean(theirs == 0) / (1 - keep_prob) < 1.8  # torch dropped about 1 - keep_prob of the units


def batch_norm_model(momentum: float, epsilon: float, n: int) -> dn.Sequential:
    model = dn.Sequential([dn.BatchNorm(momentum=momentum, epsilon=epsilon)], loss="mse", seed=0)
    return model.build(n)


def test_batch_norm_in_pytorch_terms_reproduces_running_statistics_and_outputs():
    torch = pytest.importorskip("torch")
    values = translate("batch_norm", "pytorch", momentum=0.9, epsilon=1e-5).values
    layer = torch.nn.BatchNorm1d(4, momentum=values["momentum"], eps=values["eps"]).double()
    model = batch_norm_model(0.9, 1e-5, 4)
    rng = np.random.default_rng(1)
    for _ in range(200):
        X = rng.normal(2.0, 3.0, (16, 4))
        np.testing.assert_allclose(model.forward(X, training=True), layer(torch.from_numpy(X)).detach().numpy(),
                                   rtol=0, atol=1e-12)
    stats = model.state_arrays()
    np.testing.assert_allclose(stats["batch_norm_1.running_mean"], layer.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(stats["batch_norm_1.running_var"], layer.running_var.numpy(), rtol=1e-10)
    layer.eval()
    X = rng.normal(2.0, 3.0, (5, 4))
    np.testing.assert_allclose(model.forward(X, training=False), layer(torch.from_numpy(X)).detach().numpy(),
                               rtol=0, atol=1e-10)


def test_batch_norm_in_keras_terms_averages_the_biased_variance_as_stated():
    translation = translate("batch_norm", "keras", momentum=0.9, epsilon=1e-5)
    assert not translation.exact and translation.values == {"momentum": 0.9, "epsilon": 1e-5}
    m, momentum = 16, 0.9
    model = batch_norm_model(momentum, 1e-5, 3)
    keras_moving_variance = np.ones(3)
    rng = np.random.default_rng(2)
    for t in range(1, 101):
        X = rng.normal(0.0, 2.0, (m, 3))
        model.forward(X, training=True)
        # keras BatchNormalization.call: moving_var = moving_var * momentum + var(batch) * (1 - momentum), biased var
        keras_moving_variance = keras_moving_variance * momentum + X.var(axis=0) * (1 - momentum)
        ours = model.state_arrays()["batch_norm_1.running_var"]
        stated = momentum**t + (m - 1) / m * (ours - momentum**t)
        np.testing.assert_allclose(keras_moving_variance, stated, rtol=1e-12)
    assert "0.984 for m = 64" in translation.caveat and (64 - 1) / 64 == pytest.approx(0.984, abs=5e-4)


def test_weight_layout_in_pytorch_terms_gives_the_same_outputs():
    torch = pytest.importorskip("torch")
    translation = translate("weight_layout", "pytorch", fan_in=3, fan_out=5)
    assert translation.values["weight_shape"] == (5, 3)
    model = dn.Sequential([dn.Dense(5)], loss="mse", seed=0).build(3)
    linear = torch.nn.Linear(translation.values["in_features"], translation.values["out_features"]).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(model.tensor("dense_1.W").T.copy()))
        linear.bias.copy_(torch.from_numpy(model.tensor("dense_1.b").copy()))
    X = np.random.default_rng(3).standard_normal((8, 3))
    np.testing.assert_allclose(model.forward(X), linear(torch.from_numpy(X)).detach().numpy(), rtol=1e-14, atol=1e-15)


# -- learning-rate decay -------------------------------------------------------------------------------


def torch_lambda_rates(translation, counters):
    """Learning rates PyTorch's LambdaLR gives, built from a translation's values, one per counter."""
    torch = pytest.importorskip("torch")
    values = translation.values
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=values["lr"])
    if "time_interval" in values:
        factor = lambda epoch: 1 / (1 + values["decay_rate"] * (epoch // values["time_interval"]))  # noqa: E731
    else:
        factor = lambda epoch: 1 / (1 + values["decay_rate"] * epoch)  # noqa: E731
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    rates = []
    for _ in counters:
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(rates)


@pytest.mark.parametrize(
    "setting, ours, schedule",
    [
        ("inverse_time", {"lr0": 0.1, "decay_rate": 0.3}, dn.InverseTimeDecay(0.1, 0.3)),
        ("inverse_time", {"lr0": 0.1, "decay_rate": 0.3, "per_step": True}, dn.InverseTimeDecay(0.1, 0.3, per_step=True)),
        ("fixed_interval", {"lr0": 0.1, "decay_rate": 0.3, "time_interval": 7}, dn.FixedIntervalDecay(0.1, 0.3, 7)),
    ],
)
def test_decay_in_pytorch_terms_gives_our_rates(setting, ours, schedule):
    translation = translate(setting, "pytorch", **ours)
    assert translation.exact
    counters = range(200)
    np.testing.assert_allclose(torch_lambda_rates(translation, counters), [schedule(c) for c in counters], rtol=1e-15)


@pytest.mark.parametrize(
    "setting, ours, schedule",
    [
        ("inverse_time", {"lr0": 0.1, "decay_rate": 0.3, "steps_per_epoch": 5}, dn.InverseTimeDecay(0.1, 0.3)),
        ("inverse_time", {"lr0": 0.1, "decay_rate": 0.3, "per_step": True}, dn.InverseTimeDecay(0.1, 0.3, per_step=True)),
        ("fixed_interval", {"lr0": 0.1, "decay_rate": 0.3, "time_interval": 7, "steps_per_epoch": 5},
         dn.FixedIntervalDecay(0.1, 0.3, 7)),
    ],
)
def test_decay_in_keras_terms_gives_our_rates_at_every_optimizer_step(setting, ours, schedule):
    translation = translate(setting, "keras", **ours)
    assert translation.exact
    keras_schedule = keras_inverse_time_decay(**{k: v for k, v in translation.values.items() if k != "steps_per_epoch"})
    for step in range(1000):
        counter = step if schedule.per_step else step // 5  # our counter: the step, or the epoch of that step
        assert keras_schedule(step) == schedule(counter), step


def sklearn_invscaling_rates(values, epochs):
    """The rate scikit-learn's SGDOptimizer uses during each epoch (it updates after every epoch with t_ samples)."""
    sgd = sklearn_optimizers().SGDOptimizer([np.zeros(1)], learning_rate_init=values["learning_rate_init"],
                                            lr_schedule="invscaling", power_t=values["power_t"])
    rates = []
    for epoch in range(epochs):
        rates.append(sgd.learning_rate)
        sgd.iteration_ends((epoch + 1) * values["n_samples"])  # MLP: t_ += n_samples, then iteration_ends(t_)
    return np.array(rates)


def test_inverse_time_in_sklearn_terms_is_exact_when_the_rate_is_one_per_sample():
    translation = translate("inverse_time", "sklearn", lr0=0.1, decay_rate=300.0, n_samples=300)
    assert translation.exact and translation.values["power_t"] == 1.0
    schedule = dn.InverseTimeDecay(0.1, 300.0)
    np.testing.assert_allclose(sklearn_invscaling_rates(translation.values, 200), [schedule(e) for e in range(200)],
                               rtol=1e-14)


def test_inverse_time_in_sklearn_terms_deviates_by_the_stated_ratios():
    translation = translate("inverse_time", "sklearn", lr0=0.1, decay_rate=1.0, n_samples=300)
    assert not translation.exact
    rates = sklearn_invscaling_rates(translation.values, 101)
    ratio = rates / np.array([dn.InverseTimeDecay(0.1, 1.0)(e) for e in range(101)])
    assert ratio[0] == pytest.approx(1, rel=1e-14) and ratio[1] == pytest.approx(1, rel=1e-12)
    assert f"is {ratio[10]:.6g} times ours at epoch 10 and {ratio[100]:.6g} times at epoch 100" in translation.caveat


# -- round trips ---------------------------------------------------------------------------------------

ROUND_TRIPS = [
    ("momentum", {"lr": lr, "beta": beta, "nesterov": nesterov})
    for lr in [0.5, 0.1, 0.05, 0.01, 0.003, 0.001, 0.0007, 1e-4]
    for beta in [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999]
    for nesterov in [False, True]
] + [
    ("rmsprop", {"lr": lr, "beta": beta, "epsilon": epsilon})
    for lr in [0.01, 0.001] for beta in [0.9, 0.99, 0.999] for epsilon in [1e-8, 1e-7, 1e-6, 1e-3]
] + [
    ("adam", {"lr": lr, "beta1": beta1, "beta2": beta2, "epsilon": epsilon})
    for lr in [0.01, 0.001, 0.0007] for beta1 in [0.0, 0.9] for beta2 in [0.99, 0.999] for epsilon in [1e-8, 1e-7]
] + [
    ("adamw", {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weight_decay": decay, "decay_biases": biases})
    for decay in [0.0, 0.01, 0.05, 0.1] for biases in [False, True]
] + [
    ("l2", {"lambd": lambd, "batch_size": m, "n_samples": n})
    for lambd in [0.0, 0.01, 0.1, 0.7, 1.0, 5.0] for m in [1, 32, 64, 100, 300] for n in [None, 300]
] + [("dropout", {"keep_prob": keep_prob}) for keep_prob in [0.5, 0.6, 0.7, 0.75, 0.8, 0.86, 0.9, 0.95, 1.0]] + [
    ("batch_norm", {"momentum": momentum, "epsilon": epsilon})
    for momentum in [0.5, 0.9, 0.99, 0.999] for epsilon in [1e-5, 1e-3]
] + [
    ("inverse_time", {"lr0": lr0, "decay_rate": rate, "per_step": per_step, "steps_per_epoch": 5, "n_samples": None})
    for lr0 in [0.1, 0.01] for rate in [0.0, 0.3, 1.0, 2.5] for per_step in [False, True]
] + [
    ("inverse_time", {"lr0": lr0, "decay_rate": float(n), "per_step": False, "n_samples": n, "steps_per_epoch": 5})
    for lr0 in [0.1, 0.01, 0.0007] for n in [64, 300, 1000]
] + [
    ("fixed_interval", {"lr0": lr0, "decay_rate": rate, "time_interval": interval, "steps_per_epoch": 5})
    for lr0 in [0.1, 0.01] for rate in [0.3, 1.0] for interval in [1, 100, 1000]
] + [("weight_layout", {"fan_in": 3, "fan_out": 5})]


@pytest.mark.parametrize("library", ["pytorch", "keras", "sklearn"])
def test_exact_translations_round_trip_to_the_original_values_exactly(library):
    checked = 0
    for setting, ours in ROUND_TRIPS:
        if library not in conventions.SETTINGS[setting].libraries:
            continue
        try:
            there = translate(setting, library, **ours)
        except ValueError as error:  # scikit-learn's invscaling needs n_samples and is per epoch only
            assert "scikit-learn's invscaling" in str(error)
            continue
        if not there.exact:
            continue
        their_names = conventions.parameters(setting, library)
        back = translate_back(setting, library, **{k: v for k, v in there.values.items() if k in their_names})
        for key, value in ours.items():
            if key in ("steps_per_epoch", "n_samples") and key not in their_names:
                continue  # context the library does not carry
            assert back.values[key] == value, (setting, library, key, value, back.values[key])
        checked += 1
    assert checked >= 30


def test_typical_pytorch_values_round_trip_through_ours_exactly():
    for momentum in [0.1, 0.01, 0.5, 0.05]:
        ours = translate_back("batch_norm", "pytorch", momentum=momentum, eps=1e-5)
        assert translate("batch_norm", "pytorch", **ours.values).values["momentum"] == momentum
    for p in [0.1, 0.2, 0.25, 0.3, 0.5]:
        assert translate("dropout", "pytorch", **translate_back("dropout", "pytorch", p=p).values).values["p"] == p


def test_translating_to_ours_gives_our_defaults_and_snippet():
    translation = translate("adam", "ours")
    assert translation.values == {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    assert translation.snippet == "dn.Adam(lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08)"
    assert isinstance(eval(translation.snippet, {"dn": dn}), dn.Adam)  # the snippet runs


def test_keras_defaults_read_back_in_our_terms():
    translation = translate_back("adam", "keras")
    assert translation.values["epsilon"] == 1e-7 and not translation.exact
    assert "dn.Adam(lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-07)" == translation.snippet


def test_str_shows_values_snippet_and_caveat():
    text = str(translate("rmsprop", "keras", lr=0.01))
    assert text.splitlines()[0] == "rmsprop: ours -> keras (approximate)"
    assert "keras.optimizers.RMSprop(learning_rate=0.01, rho=0.999, epsilon=1e-16)" in text
    assert "caveat: Keras adds epsilon inside the square root" in text


# -- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: translate("nesterov", "pytorch"), r"unknown setting 'nesterov'; valid values: 'adam', 'adamw', "
                                                  r"'batch_norm', 'dropout', 'fixed_interval', 'inverse_time', 'l2', "
                                                  r"'momentum', 'rmsprop', 'weight_layout'"),
        (lambda: translate("adam", "jax"), r"unknown library 'jax'; valid values: 'keras', 'ours', 'pytorch', 'sklearn'"),
        (lambda: translate("momentum", "pytorch", lr=0.1, alpha=0.9),
         r"unknown momentum parameter 'alpha' for ours; valid parameters: 'beta', 'lr', 'nesterov'"),
        (lambda: translate_back("momentum", "pytorch", lr=0.1, beta=0.9),
         r"unknown momentum parameter 'beta' for pytorch; valid parameters: 'dampening', 'lr', 'momentum', 'nesterov'"),
        (lambda: translate("dropout", "sklearn"), r"scikit-learn's MLP has no dropout: the setting 'dropout' "
                                                  r"translates to 'keras', 'pytorch'"),
        (lambda: translate("momentum", "pytorch", beta=1.0), r"beta must be in \[0, 1\); got 1.0"),
        (lambda: translate("momentum", "pytorch", lr=0.0), r"lr must be in \(0, inf\); got 0.0"),
        (lambda: translate_back("momentum", "pytorch", lr=0.1, momentum=1.5), r"momentum must be in \[0, 1\); got 1.5"),
        (lambda: translate_back("momentum", "pytorch", lr=0.1, momentum=0.9, dampening=0.5),
         r"dampening must be 0 or equal to momentum \(0.9\) to have a course equivalent; got 0.5"),
        (lambda: translate("dropout", "pytorch", keep_prob=0.0), r"keep_prob must be in \(0, 1\]; got 0.0"),
        (lambda: translate_back("dropout", "pytorch", p=1.0), r"p must be in \[0, 1\); got 1.0"),
        (lambda: translate_back("batch_norm", "pytorch", momentum=0.0), r"momentum must be in \(0, 1\]; got 0.0"),
        (lambda: translate("adam", "keras", epsilon=-1e-8), r"epsilon must be in \(0, inf\); got -1e-08"),
        (lambda: translate("adam", "pytorch", beta2=1.0), r"beta2 must be in \[0, 1\); got 1.0"),
        (lambda: translate("l2", "pytorch", lambd=-0.1, batch_size=64), r"lambd must be in \[0, inf\); got -0.1"),
        (lambda: translate("l2", "pytorch", lambd=0.1), r"l2 in ours terms needs 'batch_size'"),
        (lambda: translate("inverse_time", "keras", lr0=0.1), r"Keras counts optimizer steps: give steps_per_epoch"),
        (lambda: translate("inverse_time", "sklearn", lr0=0.1), r"give n_samples"),
        (lambda: translate("fixed_interval", "pytorch", lr0=0.1, time_interval=0),
         r"time_interval must be an integer in \[1, inf\); got 0"),
        (lambda: translate("momentum", "pytorch", nesterov="yes"), r"nesterov must be True or False; got 'yes'"),
        (lambda: conventions.convert("adam", {}), r"give exactly one of to"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
