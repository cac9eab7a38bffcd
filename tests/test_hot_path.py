"""The optimized training step computes exactly what the plain formulas compute (float64, bit for bit).

The reference below is the straightforward, allocate-everything NumPy version of one training step
(forward, fused sigmoid + cross-entropy gradient, backward, optimizer update) written per tensor, with the
same operations in the same order. ``fit`` must reproduce it bit for bit: speed-ups of the hot path
(buffers, fewer calls, fused kernels) may not change a single rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn

EPOCHS = 60  # 300 points, mini-batch 64: 5 steps per epoch, 300 steps


def reference_gd(lr):
    def update(p, g, slot, t):
        p -= g * lr

    return update


def reference_momentum(lr, beta=0.9):
    def update(p, g, slot, t):
        slot["v"] = slot["v"] * beta + g * (1 - beta)
        p -= slot["v"] * lr

    return update


def reference_rmsprop(lr, beta=0.999, epsilon=1e-8):
    def update(p, g, slot, t):
        slot["s"] = slot["s"] * beta + (g * g) * (1 - beta)
        p -= (g * lr) / (np.sqrt(slot["s"]) + epsilon)

    return update


def reference_adam(lr, beta1=0.9, beta2=0.999, epsilon=1e-8):
    def update(p, g, slot, t):
        slot["v"] = slot["v"] * beta1 + g * (1 - beta1)
        slot["s"] = slot["s"] * beta2 + (g * g) * (1 - beta2)
        denom = np.sqrt(slot["s"] / (1 - beta2**t)) + epsilon
        p -= ((slot["v"] / (1 - beta1**t)) * lr) / denom

    return update


def reference_training(W, b, X, Y, batch, epochs, permutations, update, relu_hidden=True):
    """Mini-batch training of a ReLU network with a sigmoid output, per tensor, plain NumPy."""
    W = [w.copy() for w in W]
    b = [c.copy() for c in b]
    slots = [{"v": np.zeros_like(p), "s": np.zeros_like(p)} for p in W + b]
    t = 0
    for _ in range(epochs):
        order = permutations.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch):
            rows = order[start : start + batch]
            A = [X[rows]]
            for layer in range(len(W)):
                Z = A[-1] @ W[layer] + b[layer]
                A.append(np.maximum(Z, 0) if layer < len(W) - 1 else Z)
            m = rows.shape[0]
            dZ = (1.0 / (1.0 + np.exp(-A[-1])) - Y[rows]) / m
            dW, db = [None] * len(W), [None] * len(W)
            for layer in reversed(range(len(W))):
                dW[layer] = A[layer].T @ dZ
                db[layer] = dZ.sum(axis=0)
                if layer:
                    dZ = (dZ @ W[layer].T) * (A[layer] > 0)
            t += 1
            for p, g, slot in zip(W + b, dW + db, slots):
                update(p, g, slot, t)
    return W, b


@pytest.fixture(scope="module")
def moons():
    X, y = dn.datasets.moons(300, 0.2, seed=3)
    return X, y.astype(float).reshape(-1, 1)


OPTIMIZERS = {
    "gd": (lambda: dn.GradientDescent(0.05), reference_gd(0.05)),
    "momentum": (lambda: dn.Momentum(0.05, beta=0.9), reference_momentum(0.05)),
    "rmsprop": (lambda: dn.RMSProp(0.002), reference_rmsprop(0.002)),
    "adam": (lambda: dn.Adam(0.0007), reference_adam(0.0007)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fit_matches_the_plain_per_tensor_computation_bit_for_bit(name, moons):
    X, Y = moons
    make_optimizer, update = OPTIMIZERS[name]
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1)
    model.build(2)
    W = [model.tensor(f"dense_{i}.W").copy() for i in (1, 2, 3)]
    b = [model.tensor(f"dense_{i}.b").copy() for i in (1, 2, 3)]
    model.set_random(np.random.default_rng(11))  # shuffling from here on
    model.fit(X, Y.ravel(), epochs=EPOCHS, batch_size=64, optimizer=make_optimizer())
    W_ref, b_ref = reference_training(W, b, X, Y, 64, EPOCHS, np.random.default_rng(11), update)
    for i in (1, 2, 3):
        assert np.array_equal(model.tensor(f"dense_{i}.W"), W_ref[i - 1]), f"dense_{i}.W"
        assert np.array_equal(model.tensor(f"dense_{i}.b"), b_ref[i - 1]), f"dense_{i}.b"
    assert not np.array_equal(model.tensor("dense_1.W"), W[0])  # it trained


@pytest.mark.parametrize("name", ["gd", "adam"])
def test_float32_fit_matches_the_plain_float32_computation_bit_for_bit(name, moons):
    """The 0-d float32 constants of the hot path round as NumPy's float32 arithmetic with Python scalars does."""
    X, Y = (array.astype(np.float32) for array in moons)
    make_optimizer, update = OPTIMIZERS[name]
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1, dtype="float32")
    model.build(2)
    W = [model.tensor(f"dense_{i}.W").copy() for i in (1, 2, 3)]
    b = [model.tensor(f"dense_{i}.b").copy() for i in (1, 2, 3)]
    model.set_random(np.random.default_rng(11))  # shuffling from here on
    model.fit(X, Y.ravel(), epochs=EPOCHS, batch_size=64, optimizer=make_optimizer())
    W_ref, b_ref = reference_training(W, b, X, Y, 64, EPOCHS, np.random.default_rng(11), update)
    assert W_ref[0].dtype == np.float32
    for i in (1, 2, 3):
        assert np.array_equal(model.tensor(f"dense_{i}.W"), W_ref[i - 1]), f"dense_{i}.W"
        assert np.array_equal(model.tensor(f"dense_{i}.b"), b_ref[i - 1]), f"dense_{i}.b"


def test_the_comparison_notices_a_single_rounding(moons):
    """Proof the check can fail: Adam with ``lr * v_hat / denom`` instead of ``(v_hat * lr) / denom``."""
    X, Y = moons

    def reordered(p, g, slot, t, beta1=0.9, beta2=0.999):
        slot["v"] = slot["v"] * beta1 + g * (1 - beta1)
        slot["s"] = slot["s"] * beta2 + (g * g) * (1 - beta2)
        p -= 0.0007 * ((slot["v"] / (1 - beta1**t)) / (np.sqrt(slot["s"] / (1 - beta2**t)) + 1e-8))

    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1)
    model.build(2)
    W = [model.tensor(f"dense_{i}.W").copy() for i in (1, 2, 3)]
    b = [model.tensor(f"dense_{i}.b").copy() for i in (1, 2, 3)]
    model.set_random(np.random.default_rng(11))  # shuffling from here on
    model.fit(X, Y.ravel(), epochs=EPOCHS, batch_size=64, optimizer=dn.Adam(0.0007))
    W_ref, _ = reference_training(W, b, X, Y, 64, EPOCHS, np.random.default_rng(11), reordered)
    assert not all(np.array_equal(model.tensor(f"dense_{i}.W"), W_ref[i - 1]) for i in (1, 2, 3))
