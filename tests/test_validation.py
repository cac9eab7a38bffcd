"""Bad input at every public entry point: a clear error naming the argument, or a correct result.

Property-based: hypothesis throws random shapes, dtypes (int, bool, float16, object, complex, strings),
NaN/inf, empty and ragged arrays, and out-of-range or wrongly typed settings at ``fit``, ``predict``,
``predict_proba``, ``evaluate``, ``check_gradients``, the estimators and the building blocks' constructors.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import dnnimprove as dn

EXAMPLES = int(os.environ.get("DNNIMPROVE_PROPERTY_EXAMPLES", 120))  # per property; raise it for a longer hunt
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NUMERIC_DTYPES = ["int8", "int64", "uint8", "bool", "float16", "float32", "float64"]
ODD_DTYPES = ["complex128", "object", "U3"]
SPECIAL_FLOATS = [0.0, 1.0, -1.0, 0.5, -2.5, math.nan, math.inf, -math.inf]


@st.composite
def any_array(draw, max_dims: int = 3):
    """An array of any dtype and shape (0-3 dims, sides 0-4), with NaN/inf where the dtype allows, or a ragged list."""
    if draw(st.integers(0, 9)) == 0:
        return [[0.0, 1.0], [1.0]]  # ragged
    dtype = draw(st.sampled_from(NUMERIC_DTYPES + ODD_DTYPES))
    shape = draw(array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=4))
    if dtype == "object":
        elements = st.one_of(st.sampled_from(SPECIAL_FLOATS), st.integers(-2, 2), st.text(max_size=2), st.none())
    elif dtype in ("float16", "float32", "float64", "complex128"):
        elements = st.sampled_from(SPECIAL_FLOATS)
    elif dtype == "U3":
        elements = st.text(alphabet="01a", max_size=3)
    elif dtype == "bool":
        elements = st.booleans()
    else:
        elements = st.integers(0, 2)
    return draw(arrays(dtype, shape, elements=elements))


def rows(array) -> int:
    """How many examples ``array`` holds along its first axis (0 for a scalar)."""
    return len(array) if isinstance(array, list) else (np.shape(array)[0] if np.ndim(array) >= 1 else 0)


def assert_clear(error: BaseException, *names: str) -> None:
    """A ValueError/TypeError whose message names one of ``names`` (the argument), never a deep NumPy error."""
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    assert any(re.search(rf"(^|\W){re.escape(name)}(\W|$)", str(error)) for name in names), str(error)


def binary_model(**kwargs) -> dn.Sequential:
    return dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0, **kwargs)


X_GOOD = np.array([[0.0, 1.0], [1.0, 0.5], [-1.0, 2.0], [0.5, -0.5]])
Y_GOOD = np.array([0, 1, 0, 1])


@pytest.fixture(scope="module")
def fitted():
    binary = binary_model()
    binary.fit(X_GOOD, Y_GOOD, epochs=2)
    multi = dn.Sequential([dn.Dense(3), dn.Tanh(), dn.Dense(3)], loss="categorical_crossentropy", seed=0)
    multi.fit(X_GOOD, [0, 1, 2, 1], epochs=2)
    return binary, multi


def as_float(array):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(array).astype(np.float64)


@PROPERTY
@given(X=any_array())
def test_fit_answers_any_X_with_a_clear_error_or_a_trained_model(X):
    y = np.arange(rows(X)) % 2
    model = binary_model()
    try:
        model.fit(X, y, epochs=2, batch_size=2)
    except Exception as error:
        assert_clear(error, "X")
        return
    reference = binary_model()
    reference.fit(as_float(X), y, epochs=2, batch_size=2)
    assert np.array_equal(model.params, reference.params)  # int, bool, float16/32 X train as their float64 values


@PROPERTY
@given(y=any_array(max_dims=2), loss=st.sampled_from(["binary_crossentropy", "categorical_crossentropy", "mse"]))
def test_fit_answers_any_y_with_a_clear_error_or_a_trained_model(y, loss):
    units = {"binary_crossentropy": 1, "categorical_crossentropy": 3, "mse": 2}[loss]
    model = dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(units)], loss=loss, seed=0)
    X = np.tile(X_GOOD, (2, 1))[: max(rows(y), 1)]
    try:
        model.fit(X, y, epochs=1)
    except Exception as error:
        assert_clear(error, "y", "X and y")
        return
    assert np.isfinite(model.params).all() and np.isfinite(model.history_.cost).all()


@PROPERTY
@given(X=any_array(), method=st.sampled_from(["predict", "predict_proba", "decision_function"]), multi=st.booleans())
def test_inference_answers_any_X_with_a_clear_error_or_the_float64_answer(X, method, multi, fitted):
    model = fitted[multi]
    try:
        result = getattr(model, method)(X)
    except Exception as error:
        assert_clear(error, "X")
        return
    expected = getattr(model, method)(as_float(X))
    assert np.array_equal(result, expected) and result.shape[0] == rows(X)


@PROPERTY
@given(X=any_array(), y=any_array(max_dims=2))
def test_evaluate_answers_any_X_and_y_with_a_clear_error_or_the_float64_answer(X, y, fitted):
    try:
        result = fitted[0].evaluate(X, y)
    except Exception as error:
        assert_clear(error, "X", "y", "X and y")
        return
    assert result == fitted[0].evaluate(as_float(X), as_float(y))


@PROPERTY
@given(X=any_array(), y=any_array(max_dims=1), epsilon=st.sampled_from([1e-7, 0.0, -1.0, math.nan, "1e-7", None]),
       l2=st.sampled_from([0.0, 0.5, -0.1, math.inf, "0", [1.0]]))
def test_check_gradients_answers_bad_input_with_a_clear_error_or_a_passing_report(X, y, epsilon, l2):
    model = dn.Sequential([dn.Dense(2), dn.Tanh(), dn.Dense(1)], seed=0)
    try:
        report = dn.check_gradients(model, X, y, epsilon=epsilon, l2=l2)
    except Exception as error:
        assert_clear(error, "X", "y", "X and y", "epsilon", "l2")
        return
    assert report.ok, str(report)


WEIRD = st.one_of(
    st.sampled_from([None, True, False, 0, 1, -1, 2, 0.0, 0.5, 1.5, -0.5, math.nan, math.inf, "3", "adam", [1],
                     (1, 2), 1 + 2j, object(), np.int64(2), np.float32(0.5), np.ones((2, 2)), np.bool_(True)]),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
)
FIT_SETTINGS = ["epochs", "batch_size", "optimizer", "schedule", "l2", "shuffle", "validation_data", "callbacks",
                "augment", "record_every", "engine"]


@PROPERTY
@given(name=st.sampled_from(FIT_SETTINGS), value=WEIRD)
def test_fit_answers_any_setting_with_a_clear_error_or_a_trained_model(name, value):
    if name in ("epochs", "record_every") and isinstance(value, (int, np.integer)) and value > 3:
        value = 3  # keep the test fast; large values are valid
    model = binary_model()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a diverging float setting may overflow on its way to the guard
            model.fit(X_GOOD, Y_GOOD, **{"epochs": 2, name: value})
    except dn.TrainingDiverged:
        assert name == "l2" or value is not None  # a huge l2 diverges with the documented error
        return
    except Exception as error:
        assert_clear(error, name)
        return
    assert np.isfinite(model.params).all()


BUILDING_BLOCKS = {
    dn.GradientDescent: ["lr"], dn.Momentum: ["lr", "beta", "nesterov"], dn.RMSProp: ["lr", "beta", "epsilon"],
    dn.Adam: ["lr", "beta1", "beta2", "epsilon"], dn.AdamW: ["lr", "weight_decay"],
    dn.Dense: ["units", "init", "use_bias"], dn.Dropout: ["keep_prob"], dn.BatchNorm: ["momentum", "epsilon"],
    dn.LeakyReLU: ["alpha"], dn.ELU: ["alpha"], dn.InverseTimeDecay: ["lr0", "decay_rate"],
    dn.FixedIntervalDecay: ["lr0", "decay_rate", "time_interval"], dn.ExponentialDecay: ["lr0", "decay_rate"],
    dn.StepDecay: ["lr0", "drop", "every"], dn.CosineDecay: ["lr0", "total", "lr_min"],
}
REQUIRED = {dn.Dense: {"units": 2}, dn.InverseTimeDecay: {"lr0": 0.1}, dn.FixedIntervalDecay: {"lr0": 0.1},
            dn.ExponentialDecay: {"lr0": 0.1}, dn.StepDecay: {"lr0": 0.1}, dn.CosineDecay: {"lr0": 0.1}}


@PROPERTY
@given(block=st.sampled_from(sorted(BUILDING_BLOCKS, key=lambda cls: cls.__name__)), data=st.data())
def test_building_blocks_answer_any_setting_with_a_clear_error(block, data):
    name = data.draw(st.sampled_from(BUILDING_BLOCKS[block]))
    value = data.draw(WEIRD)
    try:
        built = block(**{**REQUIRED.get(block, {}), name: value})
    except Exception as error:
        assert_clear(error, name, "init", "initializer")
        return
    assert getattr(built, name, None) is not None or name == "init"


ESTIMATOR_SETTINGS = ["hidden_layer_sizes", "activation", "init", "optimizer", "lr", "beta", "beta1", "beta2",
                      "epsilon", "schedule", "decay_rate", "l2", "batch_size", "epochs", "random_state", "dtype",
                      "verbose", "warm_start", "callbacks"]


@PROPERTY
@given(name=st.sampled_from(ESTIMATOR_SETTINGS), value=WEIRD, regression=st.booleans())
def test_estimators_answer_any_hyperparameter_with_a_clear_error_or_a_fitted_estimator(name, value, regression):
    if name in ("epochs", "hidden_layer_sizes") and isinstance(value, (int, np.integer)) and value > 3:
        value = 3
    estimator = (dn.DNNRegressor if regression else dn.DNNClassifier)(**{"epochs": 2, name: value})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X_GOOD, Y_GOOD)
    except dn.TrainingDiverged:
        return  # e.g. lr=1.5e308: the documented error
    except Exception as error:
        assert_clear(error, name, "initializer", "hidden_layer_sizes[0]", "hidden_layer_sizes[1]", "lr0", "decay_rate")
        return
    assert estimator.predict(X_GOOD).shape == (4,)


@PROPERTY
@given(X=any_array(), regression=st.booleans())
def test_estimators_answer_any_X_with_a_value_or_type_error_or_predictions(X, regression):
    estimator = (dn.DNNRegressor if regression else dn.DNNClassifier)(epochs=1, hidden_layer_sizes=(3,))
    m = rows(X)
    try:
        estimator.fit(X, np.arange(m) % 2)
    except (ValueError, TypeError):
        return  # scikit-learn's validate_data messages ("Input X contains NaN", "Expected 2D array", ...)
    assert estimator.predict(X).shape == (m,)


def test_huge_inputs_get_the_diverged_error_that_blames_the_data_not_the_learning_rate():
    with pytest.raises(dn.TrainingDiverged, match=r"before any update \(so not because of the learning rate 0.001\): "
                                                   r"the inputs, targets or initial weights are too large"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dn.Sequential([dn.Dense(2), dn.Dense(2)], loss="mse", seed=0).fit(X_GOOD, np.full((4, 2), 1e308), epochs=1)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"shuffle": "no"}, r"shuffle must be True or False; got 'no' of type str"),
        ({"augment": 3}, r"augment must be a callable \(X_batch, source\) -> X_batch; got 3"),
        ({"schedule": 0.1}, r"schedule must be a callable epoch -> lr"),
        ({"callbacks": [print]}, r"callbacks\[0\] must be a Callback"),
        ({"callbacks": None}, r"callbacks must be a list of Callback objects; got None"),
        ({"optimizer": (dn.Adam(), {})}, r"optimizer\[1\] must be an OptimizerState"),
    ],
)
def test_wrongly_typed_fit_settings_are_named(settings, message):
    with pytest.raises(TypeError, match=message):
        binary_model().fit(X_GOOD, Y_GOOD, epochs=1, **settings)


@pytest.mark.parametrize("row, column", [(0, 0), (1234, 5), (2999, 99)])
def test_a_non_finite_value_in_any_block_of_a_large_X_is_named(row, column):
    """The finiteness check runs over blocks of rows; a NaN in the first, a middle or the last one is found."""
    X = np.zeros((3000, 100))
    X[row, column] = np.nan
    with pytest.raises(ValueError, match=re.escape(f"X must contain only finite values; got nan at index ({row}, {column})")):
        dn.Sequential([dn.Dense(1)]).fit(X, np.zeros(3000), epochs=1)


# -- numbers beyond float, values beyond the model's dtype, non-numeric dtypes --------------------
@pytest.mark.parametrize("value, shown", [(10**400, "an integer of 401 digits"), (-(10**400), "a negative integer of 401 digits"),
                                          (10**5000, "an integer of about 5001 digits")], ids=["1e400", "-1e400", "1e5000"])
def test_integers_beyond_float_range_are_one_clear_value_error(value, shown):
    with pytest.raises(ValueError, match=rf"^lr must be a finite number in \(0, inf\); got {shown}$"):
        dn.Adam(lr=value)


def test_describe_value_never_fails_and_stays_short():
    from dnnimprove._validation import describe_value

    assert describe_value(3) == "3" and describe_value("x" * 200).endswith("...") and len(describe_value("x" * 200)) == 80
    assert describe_value(10**30) == "an integer of 31 digits"


def test_float64_input_beyond_float32_range_is_refused_after_the_cast_not_turned_into_nan():
    model = dn.Sequential([dn.Dense(1)], loss="binary_crossentropy", dtype="float32", seed=0).build(2)
    X = np.array([[0.5, 1.0], [1e300, 0.0]])
    with pytest.raises(ValueError, match=r"X holds 1e\+300 at index \(1, 0\), outside the range of the model's dtype float32"):
        model.predict_proba(X)
    assert np.isfinite(model.predict_proba(X[:1])).all()  # within range: answered


@pytest.mark.parametrize("X", [
    np.array(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"], dtype="datetime64[D]").reshape(-1, 1),
    np.arange(4).astype("timedelta64[s]").reshape(-1, 1),
    np.array([["1.5"], ["2"], ["3"], ["4"]], dtype=object),
    np.array([["1.5"], ["2"], ["3"], ["4"]]),
])
@pytest.mark.parametrize("estimator", [dn.DNNClassifier, dn.DNNRegressor])
def test_dates_durations_and_text_are_refused_as_features_everywhere(X, estimator):
    with pytest.raises(TypeError, match=r"^X must hold numbers; got dtype"):
        estimator(epochs=1).fit(X, [0, 1, 0, 1])
    with pytest.raises((TypeError, ValueError), match=r"X must be a numeric array; got dtype"):
        dn.Sequential([dn.Dense(1)], loss="binary_crossentropy").fit(X, [0, 1, 0, 1], epochs=1)


def test_a_huge_float_label_is_shown_as_given_not_as_its_int64_cast():
    model = dn.Sequential([dn.Dense(3)], loss="categorical_crossentropy", seed=0)
    with pytest.raises(ValueError, match=r"labels in 0\.\.2 .*; got \[1e\+30\]"):
        model.fit(np.zeros((2, 2)), np.array([1e30, 1.0]), epochs=1)


# -- the declarative constraints tables -------------------------------------------------------------------
from dnnimprove import _validation as validation  # noqa: E402
from dnnimprove.factory import SETTING_CONSTRAINTS  # noqa: E402
from dnnimprove import babysit  # noqa: E402
from dnnimprove.ewma import EWMA_CONSTRAINTS, ewma  # noqa: E402
from dnnimprove.studies.table_data import TableSpec  # noqa: E402
from dnnimprove.training import FIT_CONSTRAINTS  # noqa: E402

TABLE_REQUIRED = {dn.Dense: {"units": 3}, dn.optimizers.GradientDescent: {"lr": 0.1}, dn.schedules.Shifted: {"schedule": dn.schedules.Constant(0.1)},
                  dn.checkpoint.Checkpoint: {"path": os.path.join(tempfile.gettempdir(), "dnnimprove-never-written.npz")},
                  dn.studies.recipe.Expectation: {"text": "He beats zeros", "left": "he", "op": ">", "right": "zeros"},
                  TableSpec: {"path": "never-read.csv"}, babysit.ManualDecay: {"lr0": 0.1},
                  "TensorBoard": {"logdir": os.path.join(tempfile.gettempdir(), "dnnimprove-never-written")},
                  dn.losses.SampleWeighted: {"loss": "binary_crossentropy"}}
IMAGES = (dn.RandomShift, dn.RandomFlip, dn.RandomRotation, dn.RandomZoom)
TABLED = [*dn.optimizers.OPTIMIZERS.values(), dn.Dense, dn.LeakyReLU, dn.ELU, dn.Dropout, dn.BatchNorm,
          *dn.schedules.SCHEDULES.values(), dn.schedules.Shifted, *IMAGES, dn.GaussianNoise,
          dn.callbacks.EarlyStopping, dn.health.TrainingHealth, dn.checkpoint.Checkpoint,
          dn.studies.recipe.Expectation, TableSpec, dn.search.MedianPruner, dn.search.SuccessiveHalving,
          babysit.ManualDecay, dn.callbacks.ProgressBar, dn.initializers.VarianceScaling, dn.losses.SampleWeighted,
          *([dn.integrations.TensorBoard] if importlib.util.find_spec("tensorboard") else [])]


def required_arguments(cls) -> dict:
    if cls in IMAGES:
        return {"image_shape": (8, 8)}
    return TABLE_REQUIRED.get(cls, TABLE_REQUIRED.get(cls.__name__, {"lr0": 0.1} if issubclass(cls, dn.schedules.Schedule) else {}))


@pytest.mark.parametrize("cls", TABLED, ids=lambda cls: cls.__name__)
def test_every_table_names_constructor_arguments_and_each_constraint_refuses_its_invalid_value(cls):
    import inspect

    table = cls._parameter_constraints
    assert table and set(table) <= set(inspect.signature(cls).parameters), (cls, sorted(table))
    cls(**required_arguments(cls))  # the defaults pass
    for name, constraint in table.items():
        bad = constraint.invalid()
        with pytest.raises((ValueError, TypeError)) as caught:
            cls(**{**required_arguments(cls), name: bad})
        assert str(caught.value).startswith(f"{name} must ") or f"unknown {name} " in str(caught.value), str(caught.value)


@pytest.mark.parametrize("name", sorted(FIT_CONSTRAINTS))
def test_fit_refuses_each_arguments_invalid_value_naming_it(name):
    model = dn.Sequential([dn.Dense(1)], seed=0)
    with pytest.raises((ValueError, TypeError)) as caught:
        model.fit(np.zeros((4, 2)), [0, 1, 0, 1], **{"epochs": 1, name: FIT_CONSTRAINTS[name].invalid()})
    assert str(caught.value).startswith(f"{name} must "), str(caught.value)


@pytest.mark.parametrize("name", sorted(dn.gradcheck.CHECK_GRADIENTS_CONSTRAINTS))
def test_check_gradients_refuses_each_settings_invalid_value_naming_it(name):
    model = dn.Sequential([dn.Dense(1)], seed=0)
    arguments = {"model": model, name: dn.gradcheck.CHECK_GRADIENTS_CONSTRAINTS[name].invalid()}
    with pytest.raises((ValueError, TypeError)) as caught:
        dn.check_gradients(X=np.zeros((4, 2)), y=[0, 1, 0, 1], **arguments)
    assert str(caught.value).startswith(f"{name} must "), str(caught.value)


def _enter(context):
    with context:
        pass


def _continue_with_lr(**given):
    X, y = np.arange(8.0).reshape(4, 2), [0, 1, 0, 1]
    model = dn.Sequential([dn.Dense(1)], seed=0)
    model.fit(X, y, epochs=1)
    return babysit.continue_with_lr(model, X, y, **{"lr": 0.01, "epochs": 1, **given})


# A public function's table, and how to call the function with one argument changed (the table's name for it, as
# the message names it, and its value); the defaults pass.
FUNCTION_TABLES = {
    "moons": (dn.data.GENERATOR_CONSTRAINTS, lambda **given: dn.data.moons(**given)),
    "circles": (dn.data.GENERATOR_CONSTRAINTS, lambda **given: dn.data.circles(**given)),
    "noisy_wave": (dn.data.GENERATOR_CONSTRAINTS, lambda **given: dn.data.noisy_wave(**given)),
    "daily_temperatures": (dn.data.TEMPERATURE_CONSTRAINTS, lambda **given: dn.data.daily_temperatures(**given)),
    "load": (dn.data.LOAD_CONSTRAINTS, lambda dataset="moons": dn.data.load(dataset)),
    "train_dev_test_split": (dn.data.SPLIT_CONSTRAINTS,
                             lambda **given: dn.data.train_dev_test_split(np.zeros((20, 2)), np.arange(20) % 2, **given)),
    "split_dev": (dn.data.SPLIT_DEV_CONSTRAINTS, lambda fraction=0.25: dn.data.split_dev(np.zeros((8, 2)), np.zeros(8), fraction)),
    "split_dev_rows": (dn.data.SPLIT_DEV_CONSTRAINTS, lambda fraction=0.25: dn.data.split_dev_rows(8, fraction)),
    "coarse_to_fine": (dn.search.runner.SEARCH_CONSTRAINTS, lambda **given: dn.search.coarse_to_fine(
        dn.DNNClassifier(hidden_layer_sizes=(2,), epochs=1), {"lr": dn.search.LogUniform(1e-3, 1e-1)},
        np.zeros((12, 2)), np.arange(12) % 2, **{"n_trials": 2, "dev_fraction": 0.5, "seed": 0, "refit": False, **given})),
    "DataSpec": (dn.studies.recipe.DataSpec._parameter_constraints,
                 lambda dataset="moons", **given: dn.studies.recipe.DataSpec(dataset, **given)),
    "run_comparison": (dn.studies.runner.RUNNER_CONSTRAINTS, lambda mode="robust", seed=0: dn.studies.runner.run_comparison(
        dn.studies.recipe.Study("tiny", "tiny", "tiny", dn.studies.recipe.DataSpec("moons", {"n_samples": 20}), (2,), 1, 1,
                                variants=(dn.studies.recipe.Variant("gd"),)), mode=mode, seeds=(seed,))),
    "narrow_space": (dn.search.spaces.NARROW_CONSTRAINTS,
                     lambda margin=0.1: dn.search.narrow_space({"lr": dn.search.LogUniform(1e-3, 1.0)}, [{"lr": 0.01}], margin)),
    "train_once": (dn.studies.runner.FIT_SETTING_CONSTRAINTS, lambda early_stopping=1: dn.studies.runner.train_once(
        (2,), "binary_crossentropy", dn.studies.recipe.Data(np.zeros((6, 2)), np.arange(6) % 2, np.zeros((4, 2)), np.arange(4) % 2),
        {"early_stopping": early_stopping}, 1, 0)),
    "diagnose": (dn.diagnostics.DIAGNOSE_CONSTRAINTS,
                 lambda **given: dn.diagnostics.diagnose(**{"train_error": 0.1, "dev_error": 0.2, **given})),
    "ManualDecay.set": (babysit.SET_CONSTRAINTS, lambda lr=0.01, epoch=3: babysit.ManualDecay(0.1).set(lr, epoch)),
    "continue_with_lr": (babysit.CONTINUE_CONSTRAINTS, lambda **given: _continue_with_lr(**given)),
    "ewma": (EWMA_CONSTRAINTS, lambda beta=0.9: ewma([1.0, 2.0], beta)),
    "blas_threads": (dn.threads.THREADS_CONSTRAINTS, lambda threads=1: _enter(dn.threads.blas_threads(threads))),
    "priority_space": (dn.search.priorities.PRIORITY_CONSTRAINTS, lambda **given: dn.search.priorities.priority_space(**given)),
    "fit_preprocessing": (dn.preprocessing.PREPROCESSING_CONSTRAINTS,
                          lambda **given: dn.preprocessing.fit_preprocessing(np.arange(8.0).reshape(4, 2), [0, 1, 0, 1], **given)),
    "recipe": (dn.basic_recipe.RECIPE_CONSTRAINTS, lambda **given: dn.basic_recipe.recipe(
        np.arange(40.0).reshape(20, 2), np.arange(20) % 2, **{"epochs": 1, "max_steps": 1, **given})),
}


@pytest.mark.parametrize("function, name", [(function, name) for function, (table, _) in FUNCTION_TABLES.items() for name in table])
def test_every_function_table_refuses_each_arguments_invalid_value_naming_it(function, name):
    table, call = FUNCTION_TABLES[function]
    call()  # the defaults pass
    with pytest.raises((ValueError, TypeError)) as caught:
        call(**{name: table[name].invalid()})
    assert str(caught.value).startswith(f"{name} must ") or f"unknown {name} " in str(caught.value), str(caught.value)


# A search dimension's bounds, valid; its errors name the class and the bound ("LogUniform low must be ...").
DIMENSIONS = {dn.search.Uniform: (0.0, 1.0), dn.search.LogUniform: (1e-3, 1.0), dn.search.OneMinusLogUniform: (0.9, 0.999),
              dn.search.IntUniform: (1, 5), dn.search.PowersOfTwo: (16, 256)}


@pytest.mark.parametrize("cls, name", [(cls, name) for cls in DIMENSIONS for name in cls._parameter_constraints],
                         ids=lambda item: getattr(item, "__name__", item))
def test_every_search_dimension_refuses_each_bounds_invalid_value_naming_the_class_and_the_bound(cls, name):
    bounds = dict(zip(("low", "high"), DIMENSIONS[cls]))
    cls(**bounds)  # the valid bounds pass
    with pytest.raises((ValueError, TypeError)) as caught:
        cls(**{**bounds, name: cls._parameter_constraints[name].invalid()})
    assert str(caught.value).startswith(f"{cls.__name__} {name} must "), str(caught.value)


def _runner_table(study):
    """The table a study's runner checks ``mode``, ``seeds`` (and ``epochs``, where it reads them) against."""
    import importlib

    runner = dn.studies.RUNNERS[study.kind]
    return getattr(importlib.import_module(runner.__module__), "RUN_CONSTRAINTS", dn.studies.runner.RUNNER_CONSTRAINTS)


@pytest.mark.parametrize("study, name", [(study, name) for study in sorted(dn.studies.STUDIES)
                                         for name in _runner_table(dn.studies.STUDIES[study])])
def test_every_study_runner_refuses_each_settings_invalid_value_naming_it(study, name):
    recipe = dn.studies.STUDIES[study]
    table = _runner_table(recipe)
    invalid = table[name].invalid()
    options = {"mode": invalid} if name == "mode" else {"seeds": (invalid,)} if name == "seed" else {"epochs": invalid}
    with pytest.raises((ValueError, TypeError)) as caught:
        dn.studies.run_study(recipe, **options)
    assert str(caught.value).startswith(f"{name} must ") or f"unknown {name} " in str(caught.value), str(caught.value)


@pytest.mark.parametrize("name", sorted(SETTING_CONSTRAINTS))
def test_the_factory_refuses_each_settings_invalid_value_naming_it(name):
    settings = {"optimizer": "adam", "lr": 0.01, name: SETTING_CONSTRAINTS[name].invalid()}
    with pytest.raises((ValueError, TypeError)) as caught:
        dn.factory.build_layers([2], 1, settings)
        dn.factory.build_optimizer(settings)
    assert str(caught.value).startswith(f"{name} must ") or f"unknown {name} " in str(caught.value), str(caught.value)


@pytest.mark.parametrize("constraint, value, check", [
    (validation.Real(low=0.0, high=1.0, high_open=True), 1.5,
     lambda v: validation.check_number("x", v, low=0.0, high=1.0, high_open=True)),
    (validation.Real(low=0.0, low_open=True), "0.1", lambda v: validation.check_number("x", v, low=0.0, low_open=True)),
    (validation.Integer(low=1), 0, lambda v: validation.check_int("x", v, low=1)),
    (validation.Integer(low=1), True, lambda v: validation.check_int("x", v, low=1)),
    (validation.Options(("a", "b")), "c", lambda v: validation.check_choice("x", v, ("a", "b"))),
    (validation.Boolean(), "yes", lambda v: validation.check_bool("x", v)),
    (validation.IsCallable("epoch -> lr"), 3, lambda v: validation.check_callable("x", v, "epoch -> lr")),
    (validation.IsInstance(list, "a list"), (1,), lambda v: validation.check_type("x", v, list, "a list")),
])
def test_a_constraint_gives_the_same_error_as_the_check_it_declares(constraint, value, check):
    with pytest.raises((ValueError, TypeError)) as declared:
        validation.validate_params({"x": constraint}, x=value)
    with pytest.raises(type(declared.value)) as called:
        check(value)
    assert str(declared.value) == str(called.value)


def test_validate_params_returns_the_checked_values_and_none_only_where_allowed():
    table = {"lr": validation.Real(low=0.0, low_open=True), "batch_size": validation.Integer(low=1, none_ok=True)}
    assert validation.validate_params(table, lr=1, batch_size=None) == {"lr": 1.0, "batch_size": None}
    assert type(validation.validate_params(table, lr=1)["lr"]) is float
    with pytest.raises(TypeError, match=r"^lr must be a real number; got None of type NoneType$"):
        validation.validate_params(table, lr=None)
    with pytest.raises(KeyError):
        validation.validate_params(table, momentum=0.9)  # a name the table does not declare is never let through


@pytest.mark.parametrize("name", sorted(dn.DNNClassifier._hyperparameter_constraints))
def test_the_estimator_refuses_each_hyperparameters_invalid_value_at_fit_naming_it(name):
    X, y = dn.datasets.moons(20, 0.2, seed=0)
    invalid = dn.DNNClassifier._hyperparameter_constraints[name].invalid()
    estimator = dn.DNNClassifier(**{"hidden_layer_sizes": (2,), "epochs": 1, "early_stopping": True, name: invalid})
    with pytest.raises((ValueError, TypeError)) as caught:
        estimator.fit(X, y)
    assert str(caught.value).startswith(f"{name} must "), str(caught.value)
