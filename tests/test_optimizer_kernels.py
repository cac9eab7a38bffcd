"""The compiled one-pass optimizer updates round exactly as the NumPy passes, and guard against bad gradients.

``Optimizer.step`` is the NumPy code; ``Optimizer.stepper`` (what ``fit`` uses) runs the compiled kernel of
:mod:`dnnimprove._optimizer_kernels` when numba is installed. Both must give the same bits, in float64
and float32, for every built-in optimizer and setting.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove import _numba

needs_numba = pytest.mark.skipif(not _numba.AVAILABLE, reason="numba is not installed (the 'fast' extra)")

OPTIMIZERS = {
    "gd": lambda: dn.GradientDescent(0.05),
    "momentum": lambda: dn.Momentum(0.05, beta=0.9),
    "nesterov": lambda: dn.Momentum(0.05, beta=0.8, nesterov=True),
    "rmsprop": lambda: dn.RMSProp(0.002, beta=0.99),
    "adam": lambda: dn.Adam(0.0007),
    "adam_beta1_0": lambda: dn.Adam(0.01, beta1=0.0),
    "adamw_masked": lambda: dn.AdamW(0.003, weight_decay=0.1),
    "adamw_all": lambda: dn.AdamW(0.003, weight_decay=0.1),
    "adamw_no_decay": lambda: dn.AdamW(0.003, weight_decay=0.0),
}


def init_state(name, optimizer, params):
    if name == "adamw_masked":
        mask = (np.arange(params.size) % 3 != 0).astype(params.dtype)
        return optimizer.init(params, mask)
    return optimizer.init(params)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_compiled_step_gives_the_numpy_step_bit_for_bit(name, dtype):
    rng = np.random.default_rng(7)
    size = 1031  # not a multiple of any vector width: the loops' remainders run too
    reference = OPTIMIZERS[name]()
    compiled = OPTIMIZERS[name]()
    p_ref = rng.standard_normal(size).astype(dtype)
    p_fast = p_ref.copy()
    g = np.empty_like(p_ref)
    s_ref, s_fast = init_state(name, reference, p_ref), init_state(name, compiled, p_fast)
    assert compiled.uses_kernel(p_fast)
    step = compiled.stepper(p_fast, g, s_fast)
    for t in range(1, 41):
        g[:] = rng.standard_normal(size) * 10.0 ** rng.integers(-6, 2, size)  # gradients over seven decades
        lr = 0.01 / t  # a schedule's changing learning rate
        reference.step(p_ref, g, s_ref, lr)
        assert step(lr) is True
        assert np.array_equal(p_fast, p_ref), f"params differ at step {t}"
    assert s_fast.t == s_ref.t == 40
    for key in ("v", "s"):
        if getattr(s_ref, key) is not None:
            assert np.array_equal(getattr(s_fast, key), getattr(s_ref, key)), key


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam", "adamw_masked"])
def test_a_non_finite_gradient_takes_no_step_and_changes_nothing(name, bad, compiled, monkeypatch):
    if compiled and not _numba.AVAILABLE:
        pytest.skip("numba is not installed (the 'fast' extra)")
    monkeypatch.setattr(_numba, "AVAILABLE", compiled)
    optimizer = OPTIMIZERS[name]()
    params = np.linspace(-1, 1, 50)
    grads = np.full(50, 0.1)
    state = init_state(name, optimizer, params)
    step = optimizer.stepper(params, grads, state)
    assert step(0.01)
    before = (params.copy(), None if state.v is None else state.v.copy(), None if state.s is None else state.s.copy())
    grads[37] = bad
    assert step(0.01) is False
    assert state.t == 1
    assert np.array_equal(params, before[0])
    for key, saved in zip(("v", "s"), before[1:]):
        if saved is not None:
            assert np.array_equal(getattr(state, key), saved), key


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_finite_gradients_whose_sum_overflows_still_step(compiled, monkeypatch):
    """The guard is per element: large finite gradients are not a divergence."""
    if compiled and not _numba.AVAILABLE:
        pytest.skip("numba is not installed (the 'fast' extra)")
    monkeypatch.setattr(_numba, "AVAILABLE", compiled)
    params, grads = np.zeros(4), np.full(4, 1e308)  # their sum is inf
    optimizer = dn.GradientDescent(0.01)
    with np.errstate(over="ignore"):
        assert optimizer.stepper(params, grads, optimizer.init(params))(0.01)
    assert np.array_equal(params, np.full(4, -1e306))


@needs_numba
def test_a_subclass_that_overrides_update_keeps_its_own_arithmetic():
    class HalfStepGD(dn.GradientDescent):
        def _update(self, params, grads, state, lr):
            params -= 0.5 * lr * grads

    optimizer = HalfStepGD(0.1)
    params, grads = np.ones(8), np.full(8, 2.0)
    assert not optimizer.uses_kernel(params)
    optimizer.stepper(params, grads, optimizer.init(params))(0.1)
    assert np.allclose(params, 0.9)
    assert dn.Adam().uses_kernel(params)


@needs_numba
def test_kernels_apply_to_contiguous_float_vectors_only():
    optimizer = dn.Adam()
    assert optimizer.uses_kernel(np.zeros(10, dtype=np.float32))
    assert not optimizer.uses_kernel(np.zeros(20)[::2])
    assert not optimizer.uses_kernel(np.zeros((2, 5)))


def test_fit_gives_the_same_bits_with_and_without_numba():
    """End to end: the same training run in two processes, kernels on and off (the environment switch)."""
    script = textwrap.dedent(
        """
        import numpy as np, dnnimprove as dn
        from dnnimprove import _numba
        X, y = dn.datasets.moons(300, 0.2, seed=3)
        out = []
        for optimizer in (dn.Adam(0.0007), dn.Momentum(0.05), dn.AdamW(0.003, weight_decay=0.1)):
            model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=dn.CourseRandom(3, 10))
            model.fit(X, y, epochs=40, batch_size=64, optimizer=optimizer)
            out.append(model.params)
        print(_numba.AVAILABLE, np.concatenate(out).tobytes().hex())
        """
    )
    results = {}
    for disabled in ("0", "1"):
        env = {**os.environ, "DNNIMPROVE_DISABLE_NUMBA": disabled, "MPLBACKEND": "Agg"}
        completed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        available, digest = completed.stdout.split()
        results[disabled] = (available, digest)
    assert results["1"][0] == "False"
    assert results["0"][0] == str(_numba.AVAILABLE)
    assert results["0"][1] == results["1"][1]


def test_an_adamw_state_whose_mask_has_another_dtype_is_refused_by_name():
    """AdamW.init casts the mask to the parameters' dtype; a hand-made state with another one would round
    the decay differently in the two code paths, so it is an error, not a silent difference."""
    params = np.zeros(6, dtype=np.float32)
    optimizer = dn.AdamW(0.01)
    state = optimizer.init(params, np.ones(6, dtype=np.float32))
    state.decay_mask = np.ones(6)  # float64
    with pytest.raises(ValueError, match=r"decay_mask has 6 float64 values.*6 float32 parameters"):
        optimizer.stepper(params, np.zeros(6, dtype=np.float32), state)
