"""The generated kernel's text: what is made once per call and what per mini-batch."""

import dnnimprove as dn
from dnnimprove.compiled._generate import generate


def kernel_text(layers, n_features=2):
    from dnnimprove.compiled.engine import _plan

    model = dn.Sequential(layers, seed=1)
    model.build(n_features)
    plan, _, _ = _plan(model, dn.Adam(0.01))
    return plan, generate(plan)


def batch_loop(text):
    return text[text.index("for batch in range(first, last):"):]


def test_a_network_of_loops_makes_its_views_once_per_call():
    plan, text = kernel_text([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.Tanh(), dn.Dense(1)])
    assert not any(layer.blas for layer in plan.layers)
    assert "reshape((5, B))" in text.split("for epoch in range")[0]  # (width, B): the first mb columns in use
    assert ".reshape(" not in batch_loop(text)


def test_a_network_with_a_blas_layer_makes_its_views_per_mini_batch():
    plan, text = kernel_text([dn.Dense(64), dn.ReLU(), dn.Dense(1)], n_features=8)
    assert any(layer.blas for layer in plan.layers)
    assert "reshape((64, mb))" in batch_loop(text)  # BLAS reads contiguous operands of the mini-batch's size


def test_a_network_all_on_blas_stores_activations_by_rows_and_loops_over_an_examples_features():
    plan, text = kernel_text([dn.Dense(64), dn.ReLU(), dn.Dense(32)], n_features=8)
    assert all(layer.blas for layer in plan.layers if layer.kind == "dense")
    loop = batch_loop(text)
    assert "reshape((mb, 64)).T" in loop and "reshape((64, mb))" not in loop  # indexed [unit, example] as before
    assert "for i in range(mb):\n                for j in range(64):\n                    a2[j, i] = F2(a1[j, i]" in loop


def test_the_gradient_sums_over_the_batch_are_the_reorderable_ones():
    _, text = kernel_text([dn.Dense(3), dn.ReLU(), dn.Dense(1)])
    loop = batch_loop(text)
    assert loop.count("BATCH_DOTS(") == 2 and loop.count("BATCH_SUMS(") == 2  # dW and db of both Dense layers
    assert text.startswith("# BATCH_DOTS, BATCH_SUMS: numba options {'fastmath': {'reassoc'}}")  # in the cache key


def test_a_loop_layers_products_add_in_registers_up_to_a_few_dozen_terms():
    from dnnimprove.compiled._generate import REGISTER_SUMS_UP_TO

    n_features = REGISTER_SUMS_UP_TO + 8
    plan, text = kernel_text([dn.Dense(2), dn.ReLU(), dn.Dense(1)], n_features=n_features)
    assert not plan.layers[0].blas
    loop = batch_loop(text)
    assert f"for k in range({n_features}):\n                    w = W1[k, j]" in loop  # many terms: row at a time
    assert "for k in range(2):\n                        s += W3[k, j] * a2[k, i]" in loop  # few: in a register
