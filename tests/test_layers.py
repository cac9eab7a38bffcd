"""Activations: each is its two formulas, which give the same numbers on arrays and one number at a time,
keep float32 in float32, and agree with PyTorch's modules in float64."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.layers import ACTIVATIONS

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
