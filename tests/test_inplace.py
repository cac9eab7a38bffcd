"""A block's formula run in place gives the formula's own numbers, bit for bit, from buffers allocated once."""

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove import layers, losses, optimizers
from dnnimprove._inplace import Workspace, in_place
from dnnimprove._scalars import constant

DTYPES = [np.float64, np.float32]


def _optimizer_case(optimizer, dtype, n=37, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    state = optimizer.init(w, (rng.random(n) > 0.5).astype(dtype))
    for key in optimizer.slots:
        getattr(state, key)[:] = rng.random(n).astype(dtype)
    return w, g, state


OPTIMIZERS = [optimizers.GradientDescent(0.1), optimizers.Momentum(0.05), optimizers.Momentum(0.05, nesterov=True),
              optimizers.RMSProp(0.01), optimizers.Adam(0.01), optimizers.AdamW(0.01, weight_decay=0.1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=repr)
def test_an_optimizer_update_equals_its_rule_on_new_arrays_bit_for_bit(optimizer, dtype):
    w, g, state = _optimizer_case(optimizer, dtype)
    expected_w, expected_slots = w.copy(), {key: getattr(state, key).copy() for key in optimizer.slots}
    for t in range(1, 4):
        constants = tuple(dtype(c) for c in optimizer.constants(t, 0.01, *optimizer.hyperparameters()))
        new = optimizer.rule(expected_w, g, *(expected_slots[key] for key in optimizer.slots),
                             *(getattr(state, key) for key in optimizer.inputs), *constants)
        expected_w = np.asarray(new[0])
        expected_slots = {key: np.asarray(value) for key, value in zip(optimizer.slots, new[1:])}
        optimizer.update(w, g, state, 0.01)
        assert state.t == t
        np.testing.assert_array_equal(w, expected_w)
        for key in optimizer.slots:
            np.testing.assert_array_equal(getattr(state, key), expected_slots[key])
        assert w.dtype == dtype


def test_adam_keeps_two_workspaces_and_no_more_across_steps():
    optimizer = optimizers.Adam(0.01)
    w, g, state = _optimizer_case(optimizer, np.float64)
    program = optimizers.RuleProgram()
    optimizer.update(w, g, state, 0.01, program)
    traced = program.program
    for _ in range(3):
        optimizer.update(w, g, state, 0.01, program)
    assert program.program is traced  # the same program, the same buffers, at every step
    assert len(traced.workspaces) == 2  # v, s and w are written in place; two (n,) intermediates besides


def test_a_number_tested_with_if_traces_again_when_its_truth_changes():
    optimizer = optimizers.Momentum(0.05)
    w, g, state = _optimizer_case(optimizer, np.float64)
    twin_w, twin_state = w.copy(), optimizers.OptimizerState(t=0, v=state.v.copy())
    program = optimizers.RuleProgram()
    optimizer.update(w, g, state, 0.05, program)
    optimizer.nesterov = True  # the rule's `if nesterov` now takes the other branch
    optimizer.update(w, g, state, 0.05, program)
    plain = optimizers.Momentum(0.05)
    plain.update(twin_w, g, twin_state, 0.05, optimizers.RuleProgram())
    optimizers.Momentum(0.05, nesterov=True).update(twin_w, g, twin_state, 0.05, optimizers.RuleProgram())
    np.testing.assert_array_equal(w, twin_w)
    np.testing.assert_array_equal(state.v, twin_state.v)


def test_new_arrays_trace_a_new_program():
    optimizer = optimizers.Adam(0.01)
    program = optimizers.RuleProgram()
    w, g, state = _optimizer_case(optimizer, np.float64, n=10)
    optimizer.update(w, g, state, 0.01, program)
    w2, g2, state2 = _optimizer_case(optimizer, np.float64, n=20)
    before = w2.copy()
    optimizer.update(w2, g2, state2, 0.01, program)
    assert not np.array_equal(w2, before) and len(program.program.workspaces[0]) == 20


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(layers.ACTIVATIONS))
def test_an_activation_in_place_equals_its_formulas(name, dtype):
    activation = layers.get_activation(name)
    rng = np.random.default_rng(1)
    Z = (rng.standard_normal((16, 7)) * 3).astype(dtype)
    dA = rng.standard_normal((16, 7)).astype(dtype)
    constants = tuple(constant(value, dtype) for value in activation.constants())
    workspace = Workspace()
    A = activation.function(Z, *constants)
    for _ in range(2):  # the second call replays the traced program
        np.testing.assert_array_equal(workspace.run(activation.function, (Z, *constants))[0], A)
        dZ = workspace.run(activation.derivative, (dA, Z, A, *constants))[0]
        np.testing.assert_array_equal(dZ, activation.derivative(dA, Z, A, *constants))
        assert dZ.dtype == dtype


@pytest.mark.parametrize("loss", [losses.BinaryCrossEntropy(), losses.MeanSquaredError()], ids=repr)
def test_an_elementwise_loss_gradient_in_place_equals_its_formula(loss):
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((9, 1))
    Y = (rng.random((9, 1)) > 0.5).astype(float)
    expected = loss.gradient(Z, Y)
    loss.reuse = True
    np.testing.assert_array_equal(loss.gradient(Z, Y), expected)
    np.testing.assert_array_equal(loss.gradient(Z, Y), expected)


def test_where_and_broadcasting_replay_as_the_formula():
    def formula(x, row, c):
        return dn._elementwise.where(x > c, x * row, row - x), np.sqrt(row * row + c)

    rng = np.random.default_rng(3)
    x, row = rng.standard_normal((5, 4)), rng.standard_normal(4)
    c = constant(0.1, np.float64)
    program = in_place(formula, (x, row, c), (None, None))
    first, second = program(x, row, c)
    expected = formula(x, row, c)
    np.testing.assert_array_equal(first, expected[0])
    np.testing.assert_array_equal(second, expected[1])
    assert second.shape == (4,)


def test_a_formula_that_calls_a_non_elementwise_function_is_refused():
    with pytest.raises(TypeError, match="may not call"):
        in_place(lambda x: np.sum(x) * x, (np.ones(3),), (None,))


def test_a_training_pass_in_place_gives_the_plain_passes_gradients():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((128, 70))
    y = rng.integers(0, 3, 128)
    model = dn.Sequential([dn.Dense(80), dn.ReLU(), dn.Dropout(0.8), dn.Dense(80), dn.Tanh(), dn.Dense(3)],
                          loss="categorical_crossentropy", seed=0)
    model.build(70)
    Y = model.encode_targets(y, 128)
    from dnnimprove import model as model_module

    assert 128 * 80 >= model_module.REUSE_FROM  # this pass runs in place
    model.random = dn.random.as_random_source(5)
    for layer in model.layers:
        layer.source = model.random
    cost = model.compute_gradients(X, Y, True, 0.0, True)
    in_place_grads = model.grads.copy()
    model.random = dn.random.as_random_source(5)  # the same dropout draws
    for layer in model.layers:
        layer.source = model.random
    Z = model.forward(X, True)  # a plain pass: every array new
    dZ, plain_cost = model.loss.gradient_and_cost(Z, Y, True)
    model.backward(dZ)
    np.testing.assert_array_equal(in_place_grads, model.grads)
    assert cost == plain_cost
    assert not any(layer.reuse for layer in model.layers)
