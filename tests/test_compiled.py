"""The compiled engine computes what ``Sequential.compute_gradients`` computes, to rounding, in one numba call.

Bit-identity with the NumPy engine is not expected (BLAS orders its sums differently from the kernel's
loops); agreement to float64 rounding is: gradients and cost within 1e-12 relative (measured: below
1e-15), float32 within 50 float32 epsilons (measured: below 3e-7 relative).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import dnnimprove as dn
import dnnimprove.compiled as compiled
from conftest import at_generic_point, make_problem
from dnnimprove import _numba
from dnnimprove.compiled import CompiledGradients, unsupported_reason
from dnnimprove.gradcheck import relative_difference
from dnnimprove.regularizers import l2_penalty

needs_numba = pytest.mark.skipif(
    not _numba.AVAILABLE, reason="numba is not installed (or DNNIMPROVE_DISABLE_NUMBA is set): nothing compiles"
)

ACTIVATIONS = ["relu", "leaky_relu", "elu", "selu", "tanh", "sigmoid"]
KINDS = ["binary", "multiclass", "regression"]
FLOAT32_TOLERANCE = 50 * np.finfo(np.float32).eps


def network(activation, n_out, loss, use_bias=True, layer_l2=0.0, dtype="float64", seed=1, hidden=(5, 4)):
    """Dense(hidden[0]) -> g -> Dense(hidden[1]) -> g -> Dense(n_out), at a generic point (random small biases)."""
    layers = [
        dn.Dense(hidden[0], init="xavier", use_bias=use_bias, l2=layer_l2),
        dn.get_activation(activation),
        dn.Dense(hidden[1], init="xavier", use_bias=use_bias),
        dn.get_activation(activation),
        dn.Dense(n_out, init="xavier", l2=layer_l2),
    ]
    if activation == "leaky_relu":
        layers[1], layers[3] = dn.LeakyReLU(0.1), dn.LeakyReLU(0.1)  # a slope large enough to matter
    model = dn.Sequential(layers, loss=loss, seed=seed, dtype=dtype)
    return at_generic_point(model, 4)


def batch(model, kind, m=12, seed=0):
    X, y, _, _ = make_problem(kind, m=m, seed=seed)
    X = model.check_X(X)
    return X, model.encode_targets(y, m)


def numpy_result(model, X, Y, l2, need_cost=True):
    cost = model.compute_gradients(X, Y, True, l2, need_cost)
    return cost, model.grads.copy()


def compiled_result(model, X, Y, l2, need_cost=True, max_batch=None):
    cost = CompiledGradients(model, max_batch or X.shape[0])(X, Y, True, l2, need_cost)
    return cost, model.grads.copy()


# -- agreement with the NumPy engine ----------------------------------------------------------------------


@needs_numba
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("l2, layer_l2", [(0.7, 0.0), (0.0, 0.3), (0.0, 0.0)], ids=["global-l2", "layer-l2", "no-l2"])
def test_gradients_and_cost_agree_with_the_numpy_engine_in_float64(activation, kind, use_bias, l2, layer_l2):
    _, _, loss, n_out = make_problem(kind)
    model = network(activation, n_out, loss, use_bias, layer_l2)
    X, Y = batch(model, kind)
    cost, grads = numpy_result(model, X, Y, l2)
    model.grads[:] = np.nan  # every entry must be written
    compiled_cost, compiled_grads = compiled_result(model, X, Y, l2)
    assert relative_difference(compiled_grads, grads) < 1e-12
    assert abs(compiled_cost - cost) <= 1e-12 * abs(cost)


@needs_numba
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_gradients_and_cost_agree_with_the_numpy_engine_in_float32(activation, kind):
    _, _, loss, n_out = make_problem(kind)
    model = network(activation, n_out, loss, layer_l2=0.3, dtype="float32")
    X, Y = batch(model, kind)
    cost, grads = numpy_result(model, X, Y, 0.7)
    compiled_cost, compiled_grads = compiled_result(model, X, Y, 0.7)
    assert compiled_grads.dtype == np.float32
    assert relative_difference(compiled_grads, grads) < FLOAT32_TOLERANCE
    assert abs(compiled_cost - cost) <= FLOAT32_TOLERANCE * abs(cost)


@needs_numba
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use_bias", [True, False])
def test_wide_layers_take_the_vectorized_loops_and_agree_as_well(activation, kind, use_bias):
    # From compiled.WIDE units on, the products accumulate whole rows (another loop order, the same sums).
    _, _, loss, n_out = make_problem(kind)
    hidden = (compiled.WIDE + 3, compiled.WIDE)
    model = network(activation, n_out, loss, use_bias, layer_l2=0.3, hidden=hidden)
    X, Y = batch(model, kind)
    cost, grads = numpy_result(model, X, Y, 0.7)
    model.grads[:] = np.nan
    compiled_cost, compiled_grads = compiled_result(model, X, Y, 0.7)
    assert relative_difference(compiled_grads, grads) < 1e-12
    assert abs(compiled_cost - cost) <= 1e-12 * abs(cost)


@needs_numba
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_row_wise_and_register_loops_give_the_same_bits(kind, dtype):
    _, _, loss, n_out = make_problem(kind)
    model = network("elu", n_out, loss, layer_l2=0.3, dtype=dtype, hidden=(20, 12))
    X, Y = batch(model, kind)
    gradients = CompiledGradients(model, X.shape[0])
    results = []
    for wide in (compiled.WIDE, 10**9):  # the default, then the register loops everywhere
        gradients._table[0, compiled.WIDE_FROM] = wide
        results.append((gradients(X, Y, True, 0.7, True), model.grads.copy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


@needs_numba
def test_the_agreement_check_sees_a_missing_l2_term():
    # The tolerance above is tight enough to catch a term of the gradient left out.
    model = network("tanh", 1, "binary_crossentropy")
    X, Y = batch(model, "binary")
    _, grads = numpy_result(model, X, Y, 0.7)
    _, without_l2 = compiled_result(model, X, Y, 0.0)
    assert relative_difference(without_l2, grads) > 1e-3


@needs_numba
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("activation", ["relu", "tanh", "selu"])
@pytest.mark.parametrize("hidden", [(5, 4), (compiled.WIDE + 3, compiled.WIDE)], ids=["narrow", "wide"])
def test_compiled_gradients_pass_a_finite_difference_check(kind, activation, hidden):
    # Central differences of the compiled cost (+ the global and the layers' L2 penalties).
    _, _, loss, n_out = make_problem(kind)
    model = network(activation, n_out, loss, layer_l2=0.3, hidden=hidden)
    X, Y = batch(model, kind)
    gradients = CompiledGradients(model, X.shape[0])
    l2, epsilon, m = 0.7, 1e-7, X.shape[0]

    def cost() -> float:
        data_cost = gradients(X, Y, True, l2, True)
        return data_cost + l2_penalty(model.params, model.weight_mask, l2, m) + model.layer_penalty(m)

    cost()
    gradient = model.grads.copy()
    approximation = np.empty_like(gradient)
    params = model.params
    for i in range(params.size):
        original = params[i]
        params[i] = original + epsilon
        plus = cost()
        params[i] = original - epsilon
        minus = cost()
        params[i] = original
        approximation[i] = (plus - minus) / (2 * epsilon)
    assert relative_difference(gradient, approximation) < 1e-7


@needs_numba
def test_check_gradients_accepts_the_compiled_engine_in_place_of_compute_gradients():
    X, y, loss, n_out = make_problem("multiclass")
    model = network("elu", n_out, loss, layer_l2=0.3)
    model.compute_gradients = CompiledGradients(model, X.shape[0])
    report = dn.check_gradients(model, X, y, l2=0.7)
    assert report.ok, str(report)


# -- batches ------------------------------------------------------------------------------------------------


@needs_numba
def test_a_smaller_last_batch_uses_only_its_rows():
    model = network("relu", 3, "categorical_crossentropy")
    X, Y = batch(model, "multiclass", m=12)
    gradients = CompiledGradients(model, max_batch=12)
    gradients(X, Y, True, 0.7, True)  # a full batch first: its rows stay in the workspace
    small_X, small_Y = np.ascontiguousarray(X[:5]), np.ascontiguousarray(Y[:5])
    cost, grads = numpy_result(model, small_X, small_Y, 0.7)
    compiled_cost = gradients(small_X, small_Y, True, 0.7, True)
    assert relative_difference(model.grads, grads) < 1e-12
    assert abs(compiled_cost - cost) <= 1e-12 * abs(cost)


@needs_numba
def test_a_batch_larger_than_max_batch_is_refused():
    model = network("relu", 1, "binary_crossentropy")
    X, Y = batch(model, "binary", m=12)
    with pytest.raises(ValueError, match=r"X has 12 rows, more than max_batch=8"):
        CompiledGradients(model, max_batch=8)(X, Y, True, 0.0, True)


@needs_numba
def test_without_cost_it_returns_nan_and_still_fills_the_gradients():
    model = network("tanh", 2, "mse")
    X, Y = batch(model, "regression")
    _, grads = compiled_result(model, X, Y, 0.7, need_cost=True)
    model.grads[:] = 0.0
    cost, grads_without_cost = compiled_result(model, X, Y, 0.7, need_cost=False)
    assert np.isnan(cost)
    np.testing.assert_array_equal(grads_without_cost, grads)


@needs_numba
@pytest.mark.parametrize(
    "change, message",
    [
        (lambda X, Y: (X.astype(np.float32), Y), "X must have the model's dtype float64; got float32"),
        (lambda X, Y: (np.ascontiguousarray(X[:, :3]), Y), r"X must be a 2-D array with 4 columns; got shape \(12, 3\)"),
        (lambda X, Y: (X, Y[:6]), "X and Y must have the same number of rows; got 12 and 6"),
        (lambda X, Y: (X, np.hstack([Y, Y])), r"Y must be a 2-D array with 1 columns; got shape \(12, 2\)"),
    ],
)
def test_bad_arrays_get_a_clear_error(change, message):
    model = network("relu", 1, "binary_crossentropy")
    X, Y = batch(model, "binary")
    with pytest.raises(ValueError, match=message):
        CompiledGradients(model, 12)(*change(X, Y), True, 0.0, True)


@needs_numba
def test_an_equal_dtype_held_by_another_object_is_accepted():
    model = network("tanh", 1, "binary_crossentropy")
    X, Y = batch(model, "binary")
    same_dtype = np.dtype("float64").newbyteorder("=")  # equal to float64, not the same object
    assert same_dtype is not X.dtype
    cost, grads = numpy_result(model, X, Y, 0.0)
    compiled_cost, compiled_grads = compiled_result(model, X.view(same_dtype), Y.view(same_dtype), 0.0)
    assert relative_difference(compiled_grads, grads) < 1e-12
    assert abs(compiled_cost - cost) <= 1e-12 * abs(cost)


@needs_numba
def test_a_rebuilt_model_needs_a_new_compiled_engine():
    model = network("relu", 1, "binary_crossentropy")
    X, Y = batch(model, "binary")
    gradients = CompiledGradients(model, 12)
    model.build(4)
    with pytest.raises(ValueError, match="rebuilt"):
        gradients(X, Y, True, 0.0, True)


# -- what is supported ----------------------------------------------------------------------------------------


class SquashedBinaryCrossEntropy(dn.BinaryCrossEntropy):
    """A user's loss: a subclass whose gradient the kernel does not know."""

    def gradient(self, Z, Y):
        return super().gradient(Z, Y) * 0.5


class Doubling(dn.Layer):
    kind = "doubling"

    def forward(self, X, training):
        return 2 * X

    def backward(self, dA):
        return 2 * dA


UNSUPPORTED = [
    ([dn.Dense(5), dn.ReLU(), dn.Dropout(0.8), dn.Dense(1)], "binary_crossentropy", r"layers\[2\] \(Dropout\) has no compiled kernel"),
    ([dn.Dense(5, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dense(1)], "binary_crossentropy", r"layers\[1\] \(BatchNorm\) has no compiled kernel"),
    ([dn.Dense(5), Doubling(), dn.Dense(1)], "binary_crossentropy", r"layers\[1\] \(Doubling\) has no compiled kernel"),
    ([dn.Dense(5), dn.ReLU(), dn.Tanh(), dn.Dense(1)], "binary_crossentropy", r"layers\[2\] \(Tanh\) comes after ReLU"),
    ([dn.ReLU(), dn.Dense(1)], "binary_crossentropy", r"layers\[0\] \(ReLU\) comes first"),
    ([dn.Dense(5), dn.ReLU(), dn.Dense(1), dn.Sigmoid()], "binary_crossentropy", "the last layer is Sigmoid, not Dense"),
    ([dn.Dense(5), dn.ReLU(), dn.Dense(1)], SquashedBinaryCrossEntropy(), "loss SquashedBinaryCrossEntropy has no compiled kernel"),
]


@pytest.mark.parametrize("layers, loss, message", UNSUPPORTED)
def test_unsupported_reason_names_the_layer_or_loss(layers, loss, message):
    reason = unsupported_reason(dn.Sequential(layers, loss=loss, seed=0))
    assert reason is not None and "\n" not in reason and "engine='numpy'" in reason
    assert re.search(message, reason), reason


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_supported_model_has_no_unsupported_reason(activation, kind):
    _, _, loss, n_out = make_problem(kind)
    assert unsupported_reason(network(activation, n_out, loss, use_bias=False)) is None
    assert unsupported_reason(dn.Sequential(dn.dense_stack([3], n_out, activation), loss=loss)) is None
    assert unsupported_reason(dn.Sequential([dn.Dense(3), dn.Dense(n_out)], loss=loss)) is None


@needs_numba
@pytest.mark.parametrize("layers, loss, message", UNSUPPORTED)
def test_an_unsupported_model_is_refused_with_its_reason(layers, loss, message):
    model = dn.Sequential(layers, loss=loss, seed=0)
    with pytest.raises(ValueError, match=message):
        CompiledGradients(model.build(4), 8)


def test_without_numba_the_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(compiled, "AVAILABLE", False)
    model = network("relu", 1, "binary_crossentropy")
    with pytest.raises(ValueError, match=r"engine='compiled' needs numba: pip install \"dnnimprove\[fast\]\""):
        CompiledGradients(model, 8)


@needs_numba
def test_an_unbuilt_model_is_refused():
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=0)
    with pytest.raises(ValueError, match="model must be built"):
        CompiledGradients(model, 8)


@needs_numba
def test_max_batch_is_validated():
    with pytest.raises(ValueError, match="max_batch"):
        CompiledGradients(network("relu", 1, "binary_crossentropy"), 0)


# -- training ---------------------------------------------------------------------------------------------------


@needs_numba
def test_adam_training_on_the_compiled_engine_follows_the_numpy_engine():
    # 50 epochs of the tiny moons network (250 Adam steps): measured max difference 2.2e-16 here.
    X, y = dn.datasets.moons(300, 0.2, seed=3)

    def tiny() -> dn.Sequential:
        return dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=3).build(2)

    reference, model, start = tiny(), tiny(), tiny().params
    model.compute_gradients = CompiledGradients(model, 64)
    for net in (reference, model):
        net.fit(X, y, epochs=50, batch_size=64, optimizer=dn.Adam(0.0007), l2=0.1)
    assert np.linalg.norm(model.params - start) > 0.1, "training must move the parameters for the check to mean anything"
    assert np.abs(model.params - reference.params).max() <= 1e-9
    assert model.history_.cost == pytest.approx(reference.history_.cost, rel=1e-12)
