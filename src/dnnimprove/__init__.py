"""dnnimprove: improving deep neural networks, in NumPy.

One import gives the whole toolkit::

    import dnnimprove as dn
    X, y = dn.datasets.circles(n_samples=300, noise=0.05, seed=1)
    model = dn.Sequential([dn.Dense(10, init="he"), dn.ReLU(), dn.Dense(5, init="he"), dn.ReLU(),
                           dn.Dense(1, init="he")], loss="binary_crossentropy", seed=3)
    history = model.fit(X, y, epochs=15000, optimizer=dn.GradientDescent(lr=0.01))
    model.evaluate(X, y)
    dn.check_gradients(model, X[:20], y[:20]).ok
"""

from . import augmentation, callbacks, data
from . import data as datasets
from . import export, search
from ._validation import NotFittedError
from .augmentation import Compose, GaussianNoise, RandomShift
from .callbacks import EarlyStopping
from .data import Standardizer, train_dev_test_split
from .diagnostics import Diagnosis, diagnose, diagnose_model
from .estimator import DNNClassifier, DNNRegressor
from .estimator_io import load_estimator, save_estimator
from .gradcheck import GradientCheckReport, check_derivative, check_gradients
from .health import HealthFlag, HealthRecord, TrainingHealth
from .initializers import Initializer, VarianceScaling, Zeros, get_initializer
from .layers import (
    ELU,
    GELU,
    SELU,
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Layer,
    LeakyReLU,
    ParamSpec,
    ReLU,
    SiLU,
    Sigmoid,
    Tanh,
    dense_stack,
    get_activation,
)
from .losses import BinaryCrossEntropy, CategoricalCrossEntropy, Loss, MeanSquaredError, get_loss
from .model import ParamInfo, Sequential
from .persistence import ModelFileError, load, register_layer, save
from .optimizers import Adam, AdamW, GradientDescent, Momentum, Optimizer, OptimizerState, RMSProp, ewma, get_optimizer
from .random import CourseRandom, GeneratorSource, RandomSource, as_random_source
from .schedules import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    FixedIntervalDecay,
    InverseSqrtDecay,
    InverseTimeDecay,
    Schedule,
    Shifted,
    Staircase,
    StepDecay,
    get_schedule,
)
from .threads import blas_threads
from .training import Callback, History, TrainingDiverged, TrainingInterrupted, TrainingRun, fit

__version__ = "0.1.0"

__all__ = [
    "data", "datasets", "Standardizer", "train_dev_test_split", "NotFittedError",
    "GradientCheckReport", "check_gradients", "check_derivative",
    "Initializer", "VarianceScaling", "Zeros", "get_initializer",
    "Layer", "ParamSpec", "Dense", "Activation", "ReLU", "LeakyReLU", "ELU", "SELU", "Tanh", "Sigmoid", "GELU", "SiLU", "get_activation", "dense_stack",
    "Dropout", "BatchNorm",
    "Loss", "BinaryCrossEntropy", "CategoricalCrossEntropy", "MeanSquaredError", "get_loss",
    "Sequential", "ParamInfo",
    "Optimizer", "OptimizerState", "GradientDescent", "Momentum", "RMSProp", "Adam", "AdamW", "get_optimizer", "ewma",
    "RandomSource", "GeneratorSource", "CourseRandom", "as_random_source",
    "Schedule", "Constant", "InverseTimeDecay", "FixedIntervalDecay", "ExponentialDecay", "StepDecay", "CosineDecay", "Shifted",
    "InverseSqrtDecay", "Staircase",
    "get_schedule",
    "save", "load", "register_layer", "ModelFileError",
    "fit", "blas_threads", "callbacks", "History", "Callback", "TrainingRun", "TrainingDiverged", "TrainingInterrupted",
    "augmentation", "RandomShift", "GaussianNoise", "Compose",
    "EarlyStopping", "Diagnosis", "diagnose", "diagnose_model",
    "DNNClassifier", "DNNRegressor", "search", "export", "save_estimator", "load_estimator", "plot_history",
    "TrainingHealth", "HealthRecord", "HealthFlag",
    "recipe",
]


def plot_history(history: History, title: str | None = None):  # noqa: ANN201 (matplotlib loads on use)
    """The loss (and accuracy) curves of a :class:`History` as a matplotlib Figure; see
    :func:`dnnimprove.report.plot_history`."""
    from .report import plot_history as draw

    return draw(history, title)


def __getattr__(name: str):
    """``dn.recipe`` (the basic recipe, :mod:`dnnimprove.basic_recipe`) is imported on first use."""
    if name == "recipe":
        from .basic_recipe import recipe

        return recipe
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
