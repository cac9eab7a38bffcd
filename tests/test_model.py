"""Sequential: one flat parameter vector with views, inference, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


def small_model(**kwargs) -> dn.Sequential:
    return dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=0, **kwargs)


def test_tensors_are_views_into_one_flat_vector():
    model = small_model().build(2)
    assert [(i.name, i.shape, i.role) for i in model.table] == [
        ("dense_1.W", (2, 5), "weight"), ("dense_1.b", (5,), "bias"),
        ("dense_2.W", (5, 2), "weight"), ("dense_2.b", (2,), "bias"),
        ("dense_3.W", (2, 1), "weight"), ("dense_3.b", (1,), "bias"),
    ]
    assert model.params.size == 2 * 5 + 5 + 5 * 2 + 2 + 2 + 1
    model.params[:] = np.arange(model.params.size)
    assert model.tensor("dense_2.b").tolist() == [25.0, 26.0]
    assert np.shares_memory(model.layers[0].W, model.params)
    assert np.shares_memory(model.layers[0].dW, model.grads)
    assert model.weight_mask.sum() == 10 + 10 + 2
    assert "dense_3.W" in model.summary(print_fn=None)


def test_summary_prints_like_keras_and_returns_the_text(capsys):
    model = dn.Sequential([dn.Dense(5, use_bias=False), dn.BatchNorm(), dn.ReLU(), dn.Dense(1)], seed=0).build(3)
    text = model.summary()
    assert capsys.readouterr().out == text + "\n"
    lines = text.splitlines()
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]
    assert lines[4].split() == ["dense_1", "(Dense)", "(None,", "5)", "15"]
    assert lines[5].split() == ["batch_norm_1", "(BatchNorm)", "(None,", "5)", "10"]
    assert lines[7].split() == ["dense_2", "(Dense)", "(None,", "1)", "6"]
    assert "Trainable params: 31 (one flat vector)" in text
    assert "Non-trainable params: 10 (batch-norm running statistics)" in text
    assert "Total params: 41 (328 bytes)" in text
    assert any(line.split() == ["batch_norm_1.gamma", "15:20", "(5,)", "scale"] for line in lines)
    assert model.summary(print_fn=None) == text and capsys.readouterr().out == ""


def test_summary_before_the_model_is_built_is_an_error():
    with pytest.raises(dn.NotFittedError, match="before summary"):
        small_model().summary()


def test_width_is_inferred_at_first_fit_and_checked_afterwards():
    X, y = dn.datasets.moons(60, 0.2, seed=0)
    model = small_model()
    model.fit(X, y, epochs=1)
    assert model.n_features_in_ == 2
    with pytest.raises(ValueError, match="X has 3 features, but the model was built for 2"):
        model.predict(np.ones((4, 3)))


def test_binary_predict_proba_has_two_columns_that_sum_to_one():
    X, y = dn.datasets.moons(60, 0.2, seed=0)
    model = small_model()
    model.fit(X, y, epochs=5)
    proba = model.predict_proba(X)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(model.predict(X), (proba[:, 1] > 0.5).astype(int))


def test_multiclass_with_integer_labels_learns_digits():
    X, y = dn.datasets.digits()
    X = dn.Standardizer().fit_transform(X)
    model = dn.Sequential([dn.Dense(32), dn.ReLU(), dn.Dense(10)], loss="categorical_crossentropy", seed=0)
    model.fit(X[:1200], y[:1200], epochs=30, batch_size=64, optimizer=dn.Adam(0.003))
    assert model.evaluate(X[1200:], y[1200:])["accuracy"] > 0.9
    assert model.predict_proba(X[:5]).shape == (5, 10)


def test_regression_with_mse_fits_a_line():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 1))
    y = 3 * X[:, 0] - 1
    model = dn.Sequential([dn.Dense(1)], loss="mse", seed=0)
    model.fit(X, y, epochs=400, optimizer=dn.GradientDescent(0.3))
    assert model.evaluate(X, y)["cost"] < 1e-8
    np.testing.assert_allclose(model.predict(X[:3]), y[:3], atol=1e-4)
    assert "accuracy" not in model.evaluate(X, y)


def test_float32_stays_float32_end_to_end():
    X, y = dn.datasets.moons(60, 0.2, seed=0)
    model = small_model(dtype="float32")
    model.fit(X, y, epochs=3, batch_size=16, optimizer=dn.Adam(0.01))
    assert model.params.dtype == np.float32 and model.grads.dtype == np.float32
    assert model.decision_function(X).dtype == np.float32


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: dn.Dense(0), r"units must be an integer in \[1, inf\); got 0"),
        (lambda: dn.get_activation("swish"), r"unknown activation 'swish'; valid values: .*'relu'"),
        (lambda: dn.Sequential([dn.Dense(1)], loss="hinge"), r"unknown loss 'hinge'"),
        (lambda: dn.Sequential([dn.Dense(1)], dtype="float16"), r"unknown dtype 'float16'"),
        (lambda: dn.Sequential([]), r"at least one layer"),
        (lambda: dn.Sequential(["relu"]), r"layers\[0\] must be a Layer"),
    ],
)
def test_construction_errors_name_the_argument_and_value(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_predicting_before_fitting_is_a_clear_error():
    with pytest.raises(dn.NotFittedError, match="not fitted yet"):
        small_model().predict(np.ones((2, 2)))


def test_rebuilding_gives_a_fresh_table_of_the_same_layout():
    model = small_model().build(2)
    first = list(model.table)
    model.build(3)
    assert len(model.table) == len(first)
    assert model.table[0].shape == (3, 5)


def test_dense_stack_builds_the_usual_network():
    layers = dn.dense_stack([8, 4], 3, activation="tanh", init="xavier", batch_norm=True, keep_prob=0.8)
    assert [layer.kind for layer in layers] == [
        "dense", "batch_norm", "tanh", "dropout", "dense", "batch_norm", "tanh", "dropout", "dense"]
    assert not layers[0].use_bias and layers[-1].use_bias and layers[-1].units == 3
    assert [layer.kind for layer in dn.dense_stack([5], 1, keep_prob=1.0)] == ["dense", "relu", "dense"]


def test_fit_shows_the_parameters_of_training_fit_to_help_and_inspect():
    import inspect

    from dnnimprove.training import fit

    def described(function):
        parameters = list(inspect.signature(function).parameters.values())[1:]  # without model / self
        return [(p.name, p.kind, p.default, str(p.annotation)) for p in parameters]

    assert described(dn.Sequential.fit) == described(fit), (
        "Sequential.fit must repeat training.fit's signature (names, defaults, annotations) and pass every "
        "parameter on"
    )
    assert "settings" not in inspect.signature(dn.Sequential.fit).parameters
    source = inspect.getsource(dn.Sequential.fit)
    for name, *_ in described(fit)[2:]:
        assert f"{name}={name}" in source, f"Sequential.fit does not pass {name} on"


# -- tables and text labels -----------------------------------------------------------------------------
def test_fit_on_a_dataframe_with_text_labels_predicts_those_labels_from_raw_rows():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=80), "shade": rng.choice(["dark", "light"], 80)})
    labels = np.where(frame["x"] + (frame["shade"] == "dark") > 0.5, "cat", "dog")
    model = dn.Sequential([dn.Dense(8), dn.ReLU(), dn.Dense(1)], seed=0)
    model.fit(frame, labels, epochs=200, batch_size=16, optimizer=dn.Adam(0.01))
    assert model.preprocessing_.classes == ["cat", "dog"] and model.preprocessing_.categorical == ["shade"]
    assert set(model.predict(frame)) <= {"cat", "dog"}
    assert model.evaluate(frame, labels)["accuracy"] > 0.9


def test_fit_on_arrays_with_text_labels_maps_only_the_labels():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = dn.Sequential([dn.Dense(3)], loss="categorical_crossentropy", seed=0)
    model.fit(X, ["b", "a", "c", "a"], epochs=2)
    assert model.preprocessing_.columns is None and model.preprocessing_.classes == ["a", "b", "c"]
    assert set(model.predict(X)) <= {"a", "b", "c"}


def test_fit_on_numeric_arrays_learns_no_preprocessing():
    X, y = dn.datasets.moons(40)
    model = dn.Sequential([dn.Dense(1)], seed=0)
    model.fit(X, y, epochs=1)
    assert model.preprocessing_ is None
