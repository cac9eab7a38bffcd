"""The compiled engine trains the network the NumPy engine trains: the same formulas (taken from the blocks),
the same random draws, the parameters equal up to rounding.

Stated precision: float64 parameters agree to ``rtol=1e-9`` after a few hundred steps (the products and batch
sums add in another order than BLAS: about 1e-16 per step, grown by training), float32 to ``rtol=1e-4``. Each
test fits the same model on both engines from the same seed.
"""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.augmentation import DIGITS_SHAPE, Compose, RandomFlip, RandomRotation, RandomZoom
from dnnimprove.compiled import _support

pytestmark = pytest.mark.skipif(_support.unavailable_reason() is not None, reason="numba is off or not installed")

X, Y = dn.datasets.moons(200, 0.2, seed=3)
X3, Y3 = dn.datasets.blobs(150, 3, seed=1) if hasattr(dn.datasets, "blobs") else (None, None)


def both(make_model, X=X, y=Y, **settings):
    """Fit ``make_model()`` with each engine; return {engine: (model, history)}."""
    results = {}
    for engine in ("numpy", "compiled"):
        model = make_model()
        history = model.fit(X, y, engine=engine, **settings)
        assert history.engine == engine
        results[engine] = (model, history)
    return results


def assert_same_up_to_rounding(results, rtol=1e-9, atol=1e-12):
    (numpy_model, numpy_history), (compiled_model, compiled_history) = results["numpy"], results["compiled"]
    np.testing.assert_allclose(compiled_model.params, numpy_model.params, rtol=rtol, atol=atol)
    np.testing.assert_allclose(compiled_history.cost, numpy_history.cost, rtol=rtol)
    assert compiled_history.steps == numpy_history.steps
    for key, value in numpy_model.state_arrays().items():
        np.testing.assert_allclose(compiled_model.state_arrays()[key], value, rtol=rtol, atol=atol)


OPTIMIZERS = {
    "gd": lambda: dn.GradientDescent(0.1),
    "momentum": lambda: dn.Momentum(0.05),
    "nesterov": lambda: dn.Momentum(0.05, nesterov=True),
    "rmsprop": lambda: dn.RMSProp(0.002),
    "adam": lambda: dn.Adam(0.01),
    "adamw": lambda: dn.AdamW(0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_trains_to_the_numpy_parameters_up_to_rounding(name):
    make = lambda: dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1)  # noqa: E731
    results = both(make, epochs=60, batch_size=64, optimizer=OPTIMIZERS[name](), l2=0.2, record_every=10)
    assert_same_up_to_rounding(results)
    assert not np.array_equal(results["compiled"][0].params, make().build(2).params)  # it trained


def every_activation():
    layers = []
    for name in sorted(dn.layers.ACTIVATIONS):
        layers += [dn.Dense(4, l2=0.1 if name == "tanh" else 0.0), dn.get_activation(name)]
    return layers


def test_every_activation_and_a_layer_l2_train_to_the_numpy_parameters():
    make = lambda: dn.Sequential([*every_activation(), dn.Dense(1)], seed=2)  # noqa: E731
    assert_same_up_to_rounding(both(make, epochs=30, batch_size=32, optimizer=dn.Adam(0.01)))


def test_a_layer_l1_trains_to_the_numpy_parameters_with_l2_beside_it():
    make = lambda: dn.Sequential([dn.Dense(6, l1=0.3), dn.Tanh(), dn.Dense(3, l1=0.1, l2=0.2), dn.ReLU(),  # noqa: E731
                                  dn.Dense(1)], seed=4)
    results = both(make, epochs=40, batch_size=64, optimizer=dn.Adam(0.01), l2=0.1)
    assert_same_up_to_rounding(results)
    plain = both(lambda: dn.Sequential([dn.Dense(6), dn.Tanh(), dn.Dense(3, l2=0.2), dn.ReLU(), dn.Dense(1)], seed=4),
                 epochs=40, batch_size=64, optimizer=dn.Adam(0.01), l2=0.1)
    assert not np.allclose(plain["compiled"][0].params, results["compiled"][0].params)  # the L1 terms counted


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "mse"])
def test_the_softmax_and_mse_losses_train_to_the_numpy_parameters(loss):
    y = np.stack([Y, 1 - Y], axis=1).astype(float) if loss == "mse" else Y
    make = lambda: dn.Sequential([dn.Dense(6), dn.Tanh(), dn.Dense(2)], loss=loss, seed=4)  # noqa: E731
    assert_same_up_to_rounding(both(make, y=y, epochs=40, batch_size=50, optimizer=dn.Adam(0.01)))


def test_dropout_draws_the_same_masks_from_the_same_source():
    make = lambda: dn.Sequential([dn.Dense(8), dn.ReLU(), dn.Dropout(0.7), dn.Dense(4), dn.ReLU(), dn.Dropout(0.8),  # noqa: E731
                                  dn.Dense(1)], seed=5)
    results = both(make, epochs=20, batch_size=64, optimizer=dn.Adam(0.01))
    assert_same_up_to_rounding(results)
    after = {engine: model.random.uniform((3,), np.float64) for engine, (model, _) in results.items()}
    assert np.array_equal(after["numpy"], after["compiled"])  # both consumed the same draws


def test_batch_norm_trains_to_the_numpy_parameters_and_running_statistics():
    make = lambda: dn.Sequential(dn.dense_stack([6, 3], 1, batch_norm=True), seed=6)  # noqa: E731
    results = both(make, epochs=20, batch_size=48, optimizer=dn.Momentum(0.05))
    assert_same_up_to_rounding(results)
    assert results["compiled"][0].state_arrays()["batch_norm_1.running_var"].std() > 0  # the statistics moved


def test_per_epoch_and_per_step_schedules_and_iteration_costs_agree():
    make = lambda: dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=7)  # noqa: E731
    per_epoch = both(make, epochs=20, batch_size=64, optimizer=dn.GradientDescent(0.5),
                     schedule=dn.InverseTimeDecay(0.5, decay_rate=0.3))
    assert_same_up_to_rounding(per_epoch)
    per_step = both(make, epochs=20, batch_size=64, optimizer=dn.GradientDescent(0.5),
                    schedule=dn.InverseTimeDecay(0.5, decay_rate=0.01, per_step=True),
                    callbacks=[dn.callbacks.IterationCost()])
    assert_same_up_to_rounding(per_step)
    np.testing.assert_allclose(per_step["compiled"][1].iteration_cost, per_step["numpy"][1].iteration_cost, rtol=1e-9)


def test_float32_agrees_to_float32_rounding_and_stays_float32():
    make = lambda: dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1, dtype="float32")  # noqa: E731
    results = both(make, epochs=40, batch_size=64, optimizer=dn.Adam(0.01))
    assert results["compiled"][0].params.dtype == np.float32
    assert_same_up_to_rounding(results, rtol=1e-4, atol=1e-6)


def test_the_comparison_notices_a_formula_changed_in_one_engine_only():
    """Proof the agreement check can fail: a leaky ReLU whose slope differs by 1e-6 trains elsewhere."""
    class Leaky(dn.LeakyReLU):
        def constants(self):
            return (0.0, self.alpha + 1e-6)

    numpy_model = dn.Sequential([dn.Dense(5), dn.LeakyReLU(0.1), dn.Dense(1)], seed=1)
    numpy_model.fit(X, Y, epochs=20, batch_size=64, optimizer=dn.Adam(0.01), engine="numpy")
    compiled_model = dn.Sequential([dn.Dense(5), Leaky(0.1), dn.Dense(1)], seed=1)
    compiled_model.fit(X, Y, epochs=20, batch_size=64, optimizer=dn.Adam(0.01), engine="compiled")
    assert not np.allclose(compiled_model.params, numpy_model.params, rtol=1e-9, atol=1e-12)


def test_a_new_activation_is_one_class_and_runs_on_both_engines():
    """The proof of one source of truth: a user's activation, written once, compiled with no other change."""
    class Softsign(dn.Activation):
        kind = "softsign"

        def constants(self):
            return (1.0,)

        @staticmethod
        def function(Z, one):
            return Z / (one + np.abs(Z))

        @staticmethod
        def derivative(dA, Z, A, one):
            return dA / ((one + np.abs(Z)) * (one + np.abs(Z)))

    make = lambda: dn.Sequential([dn.Dense(5), Softsign(), dn.Dense(1)], seed=8)  # noqa: E731
    assert_same_up_to_rounding(both(make, epochs=20, batch_size=64, optimizer=dn.Adam(0.01)))


def test_the_courses_reseeded_shuffles_drawn_in_the_kernel_are_the_numpy_engines():
    def fit(engine):
        model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)],
                              seed=dn.CourseRandom(3, 10))
        model.fit(X, Y, epochs=40, batch_size=64, optimizer=dn.Adam(0.01), engine=engine, record_every=15)
        return model, np.random.get_state()[1].copy()

    (numpy_model, numpy_stream), (compiled_model, compiled_stream) = fit("numpy"), fit("compiled")
    np.testing.assert_allclose(compiled_model.params, numpy_model.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(compiled_stream, numpy_stream)  # NumPy's global stream left where NumPy leaves it


def test_the_kernels_blas_loaded_inside_blas_threads_keeps_its_limit():
    import subprocess
    import sys

    code = ("import threadpoolctl, dnnimprove as dn\n"
            "from dnnimprove.compiled.engine import _load_kernel_blas\n"
            "with dn.blas_threads(1):\n"
            "    _load_kernel_blas()\n"
            "    print(sorted({i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'}))\n")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[1]"  # NumPy's BLAS and the one numba's np.dot calls (SciPy's), both limited


def test_a_run_is_reproducible_bit_for_bit_from_a_seed():
    runs = []
    for _ in range(2):
        model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1)
        model.fit(X, Y, epochs=20, batch_size=64, optimizer=dn.Adam(0.01), l2=0.3, engine="compiled")
        runs.append(model.params.copy())
    assert np.array_equal(runs[0], runs[1])


def test_the_benchmark_network_reaches_the_courses_accuracy():
    X_moons, y_moons = dn.datasets.moons(300, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=dn.CourseRandom(3, 10))
    history = model.fit(X_moons, y_moons, epochs=5000, batch_size=64, optimizer=dn.Adam(0.0007), engine="compiled",
                        record_every=5000)
    assert history.engine == "compiled"  # asked for: the course's draws, the compiled arithmetic
    assert round(model.evaluate(X_moons, y_moons)["accuracy"], 4) == 0.9433  # the course's published Adam figure


@pytest.mark.parametrize("blas", ["numpy's cblas", "numba's np.dot"])
def test_wide_layers_use_blas_and_train_to_the_numpy_parameters(blas, monkeypatch):
    from dnnimprove.compiled import engine

    if blas == "numba's np.dot":  # as where NumPy's BLAS exports no CBLAS symbols known to dnnimprove
        monkeypatch.setattr(engine, "numpy_blas", lambda dtype: None)
    elif engine.numpy_blas(np.float64) is None:
        pytest.skip("NumPy's BLAS exports no CBLAS symbols known here")
    rng = np.random.default_rng(9)
    X_wide = rng.standard_normal((120, 70))
    y_wide = rng.integers(0, 3, 120)
    make = lambda: dn.Sequential([dn.Dense(64), dn.ReLU(), dn.Dense(80), dn.Tanh(), dn.Dense(3)],  # noqa: E731
                                 loss="categorical_crossentropy", seed=10)
    plan = engine._plan(make().build(70), dn.Adam(0.01))[0]
    assert [layer.blas for layer in plan.layers if layer.kind == "dense"] == [True, True, False]
    assert plan.gemm == (blas == "numpy's cblas")
    assert_same_up_to_rounding(both(make, X=X_wide, y=y_wide, epochs=10, batch_size=32, optimizer=dn.Adam(0.01), l2=0.1))


ALL_BLAS = {  # every Dense layer has at least BLAS_FROM weights, no batch norm: activations stored by rows
    "softmax, dropout, no bias": (
        lambda: [dn.Dense(64), dn.ReLU(), dn.Dropout(0.8), dn.Dense(32, use_bias=False), dn.Tanh(), dn.Dense(8)],
        "categorical_crossentropy", lambda rng: rng.integers(0, 8, 120)),
    "squared error, every output": (
        lambda: [dn.Dense(48), dn.GELU(), dn.Dense(40, l1=0.01), dn.Sigmoid(), dn.Dense(8, l2=0.2)],
        "mse", lambda rng: rng.standard_normal((120, 8))),
}


@pytest.mark.parametrize("blas", ["numpy's cblas", "numba's np.dot"])
@pytest.mark.parametrize("network", sorted(ALL_BLAS))
def test_a_network_all_on_blas_stores_its_activations_by_rows_and_trains_to_the_numpy_parameters(network, blas, monkeypatch):
    from dnnimprove.compiled import _generate, engine

    if blas == "numba's np.dot":
        monkeypatch.setattr(engine, "numpy_blas", lambda dtype: None)
    elif engine.numpy_blas(np.float64) is None:
        pytest.skip("NumPy's BLAS exports no CBLAS symbols known here")
    layers, loss, targets = ALL_BLAS[network]
    rng = np.random.default_rng(4)
    X_wide, y_wide = rng.standard_normal((120, 70)), targets(rng)
    make = lambda: dn.Sequential(layers(), loss=loss, seed=5)  # noqa: E731
    plan = engine._plan(make().build(70), dn.Adam(0.01))[0]
    assert _generate._rows_layout(plan) and plan.gemm == (blas == "numpy's cblas")
    results = both(make, X=X_wide, y=y_wide, epochs=6, batch_size=32, optimizer=dn.Adam(0.01), l2=0.1)
    assert_same_up_to_rounding(results)  # 24 steps, the last mini-batch shorter (120 = 3 x 32 + 24)


def test_a_network_all_on_blas_with_batch_norm_keeps_the_column_layout_and_trains_to_the_numpy_parameters():
    from dnnimprove.compiled import _generate, engine

    rng = np.random.default_rng(4)
    X_wide, y_wide = rng.standard_normal((120, 70)), rng.integers(0, 8, 120)
    make = lambda: dn.Sequential([dn.Dense(64), dn.ReLU(), dn.Dense(32, use_bias=False), dn.BatchNorm(),  # noqa: E731
                                  dn.Tanh(), dn.Dense(8)], loss="categorical_crossentropy", seed=5)
    assert not _generate._rows_layout(engine._plan(make().build(70), dn.Adam(0.01))[0])
    assert_same_up_to_rounding(both(make, X=X_wide, y=y_wide, epochs=6, batch_size=32, optimizer=dn.Adam(0.01)))


@pytest.mark.parametrize("augment", [
    dn.GaussianNoise(0.1),
    Compose(RandomRotation(DIGITS_SHAPE, 12.0), RandomZoom(DIGITS_SHAPE, 0.1)),
    RandomFlip(DIGITS_SHAPE),
], ids=["noise", "rotate_zoom", "flip"])
def test_an_augmentation_drawn_an_epoch_ahead_trains_to_the_numpy_parameters(augment):
    X_digits, y_digits = dn.datasets.digits()
    X_digits, y_digits = X_digits[:150] / 16.0, y_digits[:150]
    make = lambda: dn.Sequential([dn.Dense(16), dn.ReLU(), dn.Dense(10)],  # noqa: E731
                                 loss="categorical_crossentropy", seed=2)
    results = both(make, X=X_digits, y=y_digits, epochs=6, batch_size=32, optimizer=dn.Adam(0.01), augment=augment)
    assert_same_up_to_rounding(results)
    (numpy_model, _), (compiled_model, _) = results["numpy"], results["compiled"]
    assert numpy_model.random.uniform((1,), np.float64) == compiled_model.random.uniform((1,), np.float64)


@pytest.mark.parametrize("dtype, rtol, atol", [("float64", 1e-9, 1e-12), ("float32", 1e-4, 1e-6)])
@pytest.mark.parametrize("rows, batch_size", [(70, 64), (50, 64), (64, 64)])
def test_a_last_partial_mini_batch_uses_the_first_columns_of_the_views(dtype, rows, batch_size, rtol, atol):
    make = lambda: dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)],  # noqa: E731
                                 seed=dn.CourseRandom(3, 10), dtype=dtype)
    results = both(make, X=X[:rows], y=Y[:rows], epochs=30, batch_size=batch_size, optimizer=dn.Adam(0.01))
    assert_same_up_to_rounding(results, rtol=rtol, atol=atol)


def test_a_loop_layer_of_many_inputs_trains_to_the_numpy_parameters():
    from dnnimprove.compiled._generate import REGISTER_SUMS_UP_TO

    rng = np.random.default_rng(5)
    X_many = rng.standard_normal((96, REGISTER_SUMS_UP_TO + 8))  # its products add a row at a time, not in registers
    y_many = (X_many[:, 0] > 0).astype(int)
    make = lambda: dn.Sequential([dn.Dense(2), dn.Tanh(), dn.Dense(1)], seed=6)  # noqa: E731
    assert_same_up_to_rounding(both(make, X=X_many, y=y_many, epochs=10, batch_size=16, optimizer=dn.Adam(0.01)))
