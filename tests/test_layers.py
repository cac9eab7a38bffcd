"""Activations: each is its two formulas, which give the same numbers on arrays and one number at a time,
keep float32 in float32, and agree with PyTorch's modules in float64."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.layers import ACTIVATIONS
from helpers import at_generic_point, make_problem, randomize_scale_and_shift

Z = np.concatenate([np.linspace(-6, 6, 41), [-40.0, -1e-3, 0.0, 1e-3, 40.0]]).reshape(-1, 1)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_the_formulas_on_numbers_give_the_formulas_on_arrays(name):
    layer = ACTIVATIONS[name]()
    constants = tuple(np.float64(value) for value in layer.constants())
    A = layer.forward(Z, training=True)
    dA = np.random.default_rng(0).standard_normal(Z.shape)
    dZ = layer.backward(dA)
    one_by_one = [type(layer).function(z, *constants) for z in Z.ravel()]
    derivative = [type(layer).derivative(d, z, a, *constants) for d, z, a in zip(dA.ravel(), Z.ravel(), A.ravel())]
    assert np.array_equal(A.ravel(), np.array(one_by_one, dtype=float))
    assert np.array_equal(dZ.ravel(), np.array(derivative, dtype=float))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_float32_stays_float32(name):
    layer = ACTIVATIONS[name]()
    A = layer.forward(Z.astype(np.float32), training=True)
    assert A.dtype == np.float32 and layer.backward(np.ones_like(A)).dtype == np.float32


TORCH = {
    "relu": "ReLU()", "leaky_relu": "LeakyReLU(0.01)", "elu": "ELU(1.0)", "selu": "SELU()", "tanh": "Tanh()",
    "sigmoid": "Sigmoid()", "gelu": 'GELU(approximate="tanh")', "silu": "SiLU()",
}


def test_every_activation_has_a_pytorch_oracle():
    assert set(TORCH) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_every_activation_matches_pytorch_in_float64(name):
    torch = pytest.importorskip("torch")
    oracle = eval(f"torch.nn.{TORCH[name]}")
    layer = ACTIVATIONS[name]()
    Z_torch = torch.from_numpy(Z.copy()).requires_grad_(True)
    A_torch = oracle(Z_torch)
    dA = np.random.default_rng(1).standard_normal(Z.shape)
    A_torch.backward(torch.from_numpy(dA))
    A = layer.forward(Z, training=True)
    np.testing.assert_allclose(A, A_torch.detach().numpy(), rtol=1e-13, atol=1e-15)
    # g'(Z) of GELU is a difference of O(1) terms: float64 rounding of those (about 1e-16 each) is the atol
    np.testing.assert_allclose(layer.backward(dA), Z_torch.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_the_oracle_comparison_notices_the_erf_form_of_gelu():
    """Proof the check can fail: our tanh form is not PyTorch's exact (erf) GELU, by about 1e-4."""
    torch = pytest.importorskip("torch")
    A = dn.GELU().forward(Z, training=True)
    exact = torch.nn.GELU()(torch.from_numpy(Z)).numpy()
    assert not np.allclose(A, exact, rtol=1e-13, atol=1e-15)
    assert np.allclose(A, exact, atol=1e-3)


@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_the_new_activations_are_gradient_checked_in_a_network(name):
    X = np.random.default_rng(2).standard_normal((12, 3))
    y = (X[:, 0] > 0).astype(int)
    model = dn.Sequential([dn.Dense(5), dn.get_activation(name), dn.Dense(4), dn.get_activation(name), dn.Dense(1)],
                          seed=3).build(3)
    report = dn.check_gradients(model, X, y)
    assert report.ok and report.difference < 1e-7, str(report)


# -- dropout_and_batch_norm ------------------------------------------------------------------------
# Dropout and batch normalization: gradient-checked in training mode, exact at inference, and bad input.

def dropout_model(keep_prob: float = 0.8, n_out: int = 1, loss: str = "binary_crossentropy", seed: int = 1):
    return dn.Sequential(
        [dn.Dense(6, init="xavier"), dn.Tanh(), dn.Dropout(keep_prob),
         dn.Dense(5, init="xavier"), dn.ReLU(), dn.Dropout(keep_prob),
         dn.Dense(n_out, init="xavier")],
        loss=loss, seed=seed,
    )


def batchnorm_model(n_out: int = 1, loss: str = "binary_crossentropy", seed: int = 1, activation: str = "relu"):
    return dn.Sequential(
        [dn.Dense(6, use_bias=False), dn.BatchNorm(), dn.get_activation(activation),
         dn.Dense(5, use_bias=False), dn.BatchNorm(), dn.get_activation(activation),
         dn.Dense(n_out)],
        loss=loss, seed=seed,
    )


# -- dropout -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_gradient_check_passes_with_dropout_on_and_frozen_masks(kind):
    X, y, loss, n_out = make_problem(kind, m=16)
    model = at_generic_point(dropout_model(0.8, n_out, loss), X.shape[1])
    report = dn.check_gradients(model, X, y)
    assert report.difference < 1e-7, str(report)
    assert report.ok, str(report)
    # the masks really were on: some units of each dropout layer were dropped
    for layer in (model.layers[2], model.layers[5]):
        assert 0 < layer.mask.sum() < layer.mask.size


def test_gradient_check_passes_with_dropout_and_l2_together():
    X, y, loss, n_out = make_problem("binary", m=16)
    model = at_generic_point(dropout_model(0.8), X.shape[1])
    report = dn.check_gradients(model, X, y, l2=0.7)
    assert report.difference < 1e-7 and report.ok, str(report)


class MaskForgottenInBackward(dn.Dropout):
    """The numpy-ml bug: backward rescales but does not apply the mask."""

    kind = "forgetful_dropout"

    def backward(self, dA):
        return dA / self.keep_prob


def test_gradient_check_catches_a_dropout_whose_backward_forgets_the_mask():
    X, y, _, _ = make_problem("binary", m=16)
    model = dn.Sequential([dn.Dense(6, init="xavier"), dn.Tanh(), MaskForgottenInBackward(0.8),
                           dn.Dense(5, init="xavier"), dn.Tanh(), dn.Dense(1)], seed=1)
    report = dn.check_gradients(at_generic_point(model, X.shape[1]), X, y)
    assert report.verdict == "wrong"
    assert "dense_1.W" in report.wrong_tensors and report.per_tensor["dense_3.W"] < 1e-7


def test_dropout_keeps_the_expected_activation_within_one_percent():
    # Dense -> ReLU -> Dropout -> Dense: the last layer is linear, so E[logits] is the no-dropout logits.
    X, y, _, _ = make_problem("binary", m=40, n_features=5)
    model = dn.Sequential([dn.Dense(30), dn.ReLU(), dn.Dropout(0.8), dn.Dense(3)], loss="mse", seed=4).build(5)
    reference = model.forward(X, training=False)
    n_masks = 2000
    mean = sum(model.forward(X, training=True) for _ in range(n_masks)) / n_masks
    relative_error = np.linalg.norm(mean - reference) / np.linalg.norm(reference)
    assert relative_error < 0.01
    # and the check can fail: without the division by keep_prob the mean is 20% low
    assert np.linalg.norm(0.8 * mean - reference) / np.linalg.norm(reference) > 0.1


def test_dropout_keeps_each_unit_with_probability_keep_prob():
    layer = dn.Dropout(0.7)
    layer.source = dn.as_random_source(0)
    X = np.ones((500, 200))
    A = layer.forward(X, training=True)
    kept = layer.mask.mean()
    # 100 000 Bernoulli(0.7) draws: standard error 0.0014
    assert abs(kept - 0.7) < 0.01
    assert set(np.unique(A)) == {0.0, 1 / 0.7}
    assert np.array_equal(A != 0, layer.mask)


def test_backward_applies_the_same_mask_and_scale():
    layer = dn.Dropout(0.5)
    layer.source = dn.as_random_source(3)
    rng = np.random.default_rng(0)
    X, dA = rng.standard_normal((8, 6)), rng.standard_normal((8, 6))
    A = layer.forward(X, training=True)
    dX = layer.backward(dA)
    np.testing.assert_array_equal(A, X * layer.mask / 0.5)
    np.testing.assert_array_equal(dX, dA * layer.mask / 0.5)


def test_dropout_is_the_identity_at_inference():
    X, y = dn.datasets.moons(200, 0.2, seed=3)
    with_dropout = dropout_model(0.6, seed=5)
    with_dropout.fit(X, y, epochs=20, batch_size=32, optimizer=dn.Adam(0.01))
    without = dn.Sequential([layer for layer in with_dropout.layers if not isinstance(layer, dn.Dropout)], seed=5)
    without.build(2)
    without.params[:] = with_dropout.params  # dropout has no parameters: the flat layouts coincide
    np.testing.assert_array_equal(with_dropout.decision_function(X), without.decision_function(X))
    np.testing.assert_array_equal(with_dropout.predict(X[:1]), with_dropout.predict(X[:1]))  # deterministic


def test_a_dropout_layer_without_a_random_source_is_a_clear_error():
    with pytest.raises(ValueError, match="dropout has no random source"):
        dn.Dropout(0.5).forward(np.ones((2, 3)), training=True)
    np.testing.assert_array_equal(dn.Dropout(0.5).forward(np.ones((2, 3)), training=False), 1.0)


def test_keep_prob_one_is_the_identity_in_training():
    layer = dn.Dropout(1.0)
    layer.source = dn.as_random_source(0)
    X = np.arange(12.0).reshape(3, 4)
    assert layer.forward(X, training=True) is X


def test_same_seed_draws_the_same_masks_and_the_masks_change_between_passes():
    X, y, _, _ = make_problem("binary", m=10)

    def masks(seed):
        model = dropout_model(0.5, seed=seed).build(X.shape[1])
        model.forward(X, training=True)
        first = model.layers[2].mask.copy()
        model.forward(X, training=True)
        return first, model.layers[2].mask.copy()

    (a1, a2), (b1, b2) = masks(7), masks(7)
    assert np.array_equal(a1, b1) and np.array_equal(a2, b2)
    assert not np.array_equal(a1, a2)


def test_frozen_dropout_replays_its_mask_and_rejects_another_shape():
    layer = dn.Dropout(0.5)
    layer.source = dn.as_random_source(1)
    X = np.ones((6, 4))
    layer.forward(X, training=True)
    first = layer.mask.copy()
    layer.freeze_randomness(True)
    layer.forward(X, training=True)
    assert np.array_equal(layer.mask, first)
    with pytest.raises(ValueError, match=r"frozen with a mask of shape \(6, 4\); got input of shape \(3, 4\)"):
        layer.forward(np.ones((3, 4)), training=True)
    layer.freeze_randomness(False)
    layer.forward(np.ones((3, 4)), training=True)  # a smaller last mini-batch reuses the buffer
    assert layer.mask.shape == (3, 4)


def test_course_random_draws_the_courses_dropout_masks():
    # The course: np.random.seed(1) inside forward; D1 = rand(n1, m) < keep_prob; D2 = rand(n2, m) < keep_prob.
    X, _, _, _ = make_problem("binary", m=7, n_features=3)
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dropout(0.86), dn.Dense(4), dn.ReLU(), dn.Dropout(0.86),
                           dn.Dense(1)], seed=dn.CourseRandom(init_seed=3, dropout_seed=1)).build(3)
    for _ in range(2):  # every training pass reseeds, as the course's forward pass does
        model.forward(X, training=True)
        np.random.seed(1)
        D1 = np.random.rand(5, 7) < 0.86
        D2 = np.random.rand(4, 7) < 0.86
        assert np.array_equal(model.layers[2].mask, D1.T)
        assert np.array_equal(model.layers[5].mask, D2.T)


def test_course_forward_propagation_with_dropout_published_output():
    # The course's forward_propagation_with_dropout_test_case (keep_prob 0.7), column layout transposed:
    # published A3 = [[0.36974721 0.00305176 0.04565099 0.49683389 0.36974721]].
    np.random.seed(1)
    X = np.random.randn(3, 5)
    course = {"dense_1.W": np.random.randn(2, 3), "dense_1.b": np.random.randn(2, 1),
              "dense_2.W": np.random.randn(3, 2), "dense_2.b": np.random.randn(3, 1),
              "dense_3.W": np.random.randn(1, 3), "dense_3.b": np.random.randn(1, 1)}
    model = dn.Sequential([dn.Dense(2), dn.ReLU(), dn.Dropout(0.7), dn.Dense(3), dn.ReLU(), dn.Dropout(0.7),
                           dn.Dense(1)], seed=dn.CourseRandom(dropout_seed=1)).build(3)
    for name, value in course.items():
        model.tensor(name)[...] = value.T.reshape(model.tensor(name).shape)
    A3 = model.loss.output(model.forward(X.T, training=True)).T
    np.testing.assert_allclose(A3, [[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]], atol=5e-9)


@pytest.mark.parametrize("keep_prob", [0.0, -0.1, 1.5, float("nan")])
def test_keep_prob_outside_zero_one_is_a_clear_error(keep_prob):
    with pytest.raises(ValueError, match=r"keep_prob must be (a finite number )?in \(0, 1\]; got"):
        dn.Dropout(keep_prob)


def test_keep_prob_of_another_type_is_a_clear_error():
    with pytest.raises(TypeError, match="keep_prob must be a real number"):
        dn.Dropout("0.5")


# -- batch normalization -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradient_check_passes_through_batch_norm_in_training_mode(kind, activation):
    X, y, loss, n_out = make_problem(kind, m=16)
    model = randomize_scale_and_shift(batchnorm_model(n_out, loss, activation=activation).build(X.shape[1]))
    report = dn.check_gradients(model, X, y)
    assert report.difference < 1e-7, str(report)
    assert report.ok, str(report)
    assert {"batch_norm_1.gamma", "batch_norm_1.beta", "batch_norm_2.gamma", "batch_norm_2.beta"} <= set(report.per_tensor)


def test_gradient_check_passes_with_batch_norm_dropout_and_l2_together():
    X, y, loss, n_out = make_problem("multiclass", m=16)
    model = dn.Sequential(
        [dn.Dense(6, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dropout(0.8),
         dn.Dense(5, use_bias=False), dn.BatchNorm(), dn.Tanh(), dn.Dropout(0.8), dn.Dense(n_out)],
        loss=loss, seed=2)
    model = randomize_scale_and_shift(model.build(X.shape[1]))
    report = dn.check_gradients(model, X, y, l2=0.7)
    assert report.difference < 1e-7 and report.ok, str(report)


class NaiveBatchNorm(dn.BatchNorm):
    """Backward that treats the batch mean and variance as constants: a classic mistake."""

    kind = "naive_batch_norm"

    def backward(self, dA):
        np.sum(dA * self._Z_norm, axis=0, out=self.dgamma)
        np.sum(dA, axis=0, out=self.dbeta)
        return dA * self.gamma * self._inv_std


def test_gradient_check_catches_a_batch_norm_backward_that_ignores_the_batch_statistics():
    X, y, _, _ = make_problem("binary", m=16)
    model = dn.Sequential([dn.Dense(6, use_bias=False), NaiveBatchNorm(), dn.Tanh(), dn.Dense(4), dn.Tanh(),
                           dn.Dense(1)], seed=1)
    report = dn.check_gradients(randomize_scale_and_shift(model.build(X.shape[1])), X, y)
    assert report.verdict == "wrong" and "dense_1.W" in report.wrong_tensors
    assert report.per_tensor["naive_batch_norm_1.gamma"] < 1e-7  # gamma's gradient is right; dZ is not


def test_training_mode_normalizes_each_unit_then_scales_and_shifts():
    rng = np.random.default_rng(0)
    model = dn.Sequential([dn.BatchNorm(), dn.Dense(1)], seed=0).build(3)
    Z = rng.normal(5.0, 3.0, (50, 3))
    layer = model.layers[0]
    Z_norm = layer.forward(Z, training=True)
    variance = Z.var(axis=0)
    np.testing.assert_allclose(Z_norm.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(Z_norm.var(axis=0), variance / (variance + 1e-5), rtol=1e-12)
    layer.gamma[:] = [2.0, 3.0, 4.0]
    layer.beta[:] = [-1.0, 0.0, 1.0]
    A = layer.forward(Z, training=True)
    np.testing.assert_allclose(A, (Z - Z.mean(0)) / np.sqrt(variance + 1e-5) * [2, 3, 4] + [-1, 0, 1], rtol=1e-12)


def test_running_statistics_are_exponentially_weighted_averages_with_the_unbiased_variance():
    rng = np.random.default_rng(1)
    layer = dn.Sequential([dn.BatchNorm(momentum=0.8), dn.Dense(1)], seed=0).build(2).layers[0]
    batches = [rng.normal(3.0, 2.0, (10, 2)) for _ in range(3)]
    mean, var = np.zeros(2), np.ones(2)
    for Z in batches:
        layer.forward(Z, training=True)
        mean = 0.8 * mean + 0.2 * Z.mean(axis=0)
        var = 0.8 * var + 0.2 * Z.var(axis=0, ddof=1)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-14)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-14)
    layer.forward(batches[0], training=False)  # inference does not move them
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-14)


def test_running_statistics_are_the_models_state_and_gradient_checking_leaves_them_alone():
    X, y, _, _ = make_problem("binary", m=16)
    model = batchnorm_model().build(X.shape[1])
    model.forward(X, training=True)
    state = model.state_arrays()
    assert set(state) == {"batch_norm_1.running_mean", "batch_norm_1.running_var",
                          "batch_norm_2.running_mean", "batch_norm_2.running_var"}
    before = {key: value.copy() for key, value in state.items()}
    dn.check_gradients(model, X, y)
    for key, value in model.state_arrays().items():
        np.testing.assert_array_equal(value, before[key])


def test_gamma_and_beta_are_in_the_flat_vector_and_not_weights():
    model = batchnorm_model().build(4)
    rows = {info.name: info for info in model.table}
    assert rows["batch_norm_1.gamma"].role == "scale" and rows["batch_norm_1.beta"].role == "shift"
    assert np.all(model.tensor("batch_norm_1.gamma") == 1) and np.all(model.tensor("batch_norm_1.beta") == 0)
    assert np.shares_memory(model.layers[1].gamma, model.params)
    assert model.weight_mask[rows["batch_norm_1.gamma"].slice].sum() == 0
    assert "dense_1.b" not in rows


def test_one_row_predicts_the_same_alone_as_inside_a_large_batch():
    X, y = dn.datasets.moons(400, 0.2, seed=3)
    model = batchnorm_model(seed=3)
    model.fit(X, y, epochs=15, batch_size=32, optimizer=dn.Adam(0.01))
    batch = model.predict_proba(X)
    for i in (0, 17, 399):
        np.testing.assert_allclose(model.predict_proba(X[i:i + 1]), batch[i:i + 1], rtol=1e-12, atol=0)
    # inference really uses the running statistics, not the batch's: training mode gives other logits
    assert not np.allclose(model.forward(X[:32], training=True), model.forward(X[:32], training=False))


def test_batch_norm_network_learns_digits():
    X, y = dn.datasets.digits()
    X = dn.Standardizer().fit_transform(X)
    model = dn.Sequential([dn.Dense(32, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dense(10)],
                          loss="categorical_crossentropy", seed=0)
    model.fit(X[:1200], y[:1200], epochs=10, batch_size=64, optimizer=dn.Adam(0.01))
    assert model.evaluate(X[1200:], y[1200:])["accuracy"] > 0.9


def test_batch_norm_runs_in_float32_end_to_end():
    X, y = dn.datasets.moons(100, 0.2, seed=3)
    model = batchnorm_model()
    model = dn.Sequential(model.layers, seed=0, dtype="float32")
    model.fit(X, y, epochs=2, batch_size=20)
    assert model.layers[1].running_var.dtype == np.float32
    assert model.forward(X.astype(np.float32), training=True).dtype == np.float32
    assert model.decision_function(X).dtype == np.float32


def test_batch_norm_on_a_training_batch_of_one_row_is_a_clear_error():
    X, y = dn.datasets.moons(65, 0.2, seed=3)  # 65 = 64 + 1: the last mini-batch has one row
    model = batchnorm_model()
    with pytest.raises(ValueError, match="batch_norm_1: .* at least 2 rows; got 1"):
        model.fit(X, y, epochs=1, batch_size=64)
    model.predict(X[:1])  # at inference one row is fine


@pytest.mark.parametrize("kwargs, message", [
    ({"momentum": 1.0}, r"momentum must be in \[0, 1\); got 1.0"),
    ({"momentum": -0.1}, r"momentum must be in \[0, 1\); got -0.1"),
    ({"epsilon": 0.0}, r"epsilon must be in \(0, inf\); got 0.0"),
])
def test_batch_norm_settings_outside_their_range_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dn.BatchNorm(**kwargs)


def test_batch_norm_matches_pytorch_batchnorm1d_in_float64():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layer = dn.Sequential([dn.BatchNorm(momentum=0.9, epsilon=1e-5), dn.Dense(1)], seed=0).build(4).layers[0]
    layer.needs_input_grad = True  # as the model's first layer it would skip dZ
    layer.gamma[:] = rng.uniform(0.5, 1.5, 4)
    layer.beta[:] = rng.normal(size=4)
    oracle = torch.nn.BatchNorm1d(4, momentum=0.1, eps=1e-5, dtype=torch.float64)  # PyTorch's 0.1 is our 0.9
    with torch.no_grad():
        oracle.weight.copy_(torch.from_numpy(layer.gamma.copy()))
        oracle.bias.copy_(torch.from_numpy(layer.beta.copy()))
    for _ in range(3):
        Z, dA = rng.normal(2.0, 3.0, (12, 4)), rng.standard_normal((12, 4))
        Z_torch = torch.from_numpy(Z).requires_grad_(True)
        oracle.zero_grad()
        A_torch = oracle(Z_torch)
        A_torch.backward(torch.from_numpy(dA))
        A = layer.forward(Z, training=True)
        dZ = layer.backward(dA)
        np.testing.assert_allclose(A, A_torch.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dZ, Z_torch.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.dgamma, oracle.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.dbeta, oracle.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.running_mean, oracle.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, oracle.running_var.numpy(), rtol=1e-12)
    oracle.eval()
    Z = rng.normal(2.0, 3.0, (5, 4))
    np.testing.assert_allclose(layer.forward(Z, training=False), oracle(torch.from_numpy(Z)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


# -- together, with every optimizer ---------------------------------------------------------------

@pytest.mark.parametrize("name, lr", [("gd", 0.1), ("momentum", 0.1), ("rmsprop", 0.003), ("adam", 0.003),
                                      ("adamw", 0.003)])
def test_dropout_batch_norm_and_l2_train_with_every_optimizer(name, lr):
    X, y = dn.datasets.moons(200, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(16, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dropout(0.9),
                           dn.Dense(8, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=30, batch_size=32, optimizer=dn.get_optimizer(name, lr=lr), l2=0.1)
    assert history.data_cost[-1] < 0.7 * history.data_cost[0], (name, history.data_cost[::10])
    assert model.evaluate(X, y)["accuracy"] > 0.8
