"""dnnimprove: improving deep neural networks, in NumPy.

The top level holds what a training script needs::

    import dnnimprove as dn
    X, y = dn.datasets.circles(n_samples=300, noise=0.05, seed=1)
    model = dn.Sequential([dn.Dense(10, init="he"), dn.ReLU(), dn.Dense(5, init="he"), dn.ReLU(),
                           dn.Dense(1, init="he")], loss="binary_crossentropy", seed=3)
    history = model.fit(X, y, epochs=15000, optimizer=dn.GradientDescent(lr=0.01))
    model.evaluate(X, y)
    dn.check_gradients(model, X[:20], y[:20]).ok

The rest lives in named submodules, loaded when first used (as scikit-learn's and SciPy's do), so that
``import dnnimprove`` loads neither scikit-learn, SciPy, matplotlib, joblib nor numba:
:mod:`dnnimprove.callbacks`, :mod:`dnnimprove.data` (``datasets``), :mod:`dnnimprove.estimator`
(``DNNClassifier``, ``DNNRegressor``), :mod:`dnnimprove.search`, :mod:`dnnimprove.diagnostics`,
:mod:`dnnimprove.augmentation`, :mod:`dnnimprove.health`, :mod:`dnnimprove.export`,
:mod:`dnnimprove.integrations`, :mod:`dnnimprove.studies`, :mod:`dnnimprove.report`,
:mod:`dnnimprove.factory`, :mod:`dnnimprove.conventions`. Their best-known names stay reachable from here
(``dn.DNNClassifier``, ``dn.TrainingHealth``, ...) and import their module on first access.
"""

from __future__ import annotations

from ._startup import guard as _guard_startup

_guard_startup()  # first: in the command, Ctrl-C during the imports below is one line, not a traceback

import importlib
from typing import Any

from . import callbacks, data
from . import data as datasets
from ._validation import NotFittedError
from .callbacks import Callback, EarlyStopping
from .data import Standardizer, train_dev_test_split
from .gradcheck import GradientCheckReport, check_derivative, check_gradients
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
from .optimizers import Adam, AdamW, GradientDescent, Momentum, Optimizer, OptimizerState, RMSProp, ewma, get_optimizer
from .persistence import ModelFileError, load, register_layer, save
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
from .training import History, TrainingDiverged, TrainingInterrupted, TrainingRun, fit

__version__ = "0.1.0"

__all__ = [
    # the model and its training
    "Sequential", "fit", "History", "TrainingDiverged", "TrainingInterrupted", "check_gradients", "save", "load",
    "blas_threads", "EarlyStopping", "Callback", "CourseRandom",
    # layers
    "Dense", "ReLU", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Tanh", "Sigmoid", "Dropout", "BatchNorm",
    # losses
    "BinaryCrossEntropy", "CategoricalCrossEntropy", "MeanSquaredError",
    # optimizers
    "GradientDescent", "Momentum", "RMSProp", "Adam", "AdamW",
    # schedules
    "InverseTimeDecay", "InverseSqrtDecay", "FixedIntervalDecay", "Staircase", "ExponentialDecay", "StepDecay",
    "CosineDecay",
    # submodules
    "callbacks", "datasets",
]

_SUBMODULES = frozenset({
    "augmentation", "callbacks", "checkpoint", "conventions", "data", "diagnostics", "engine", "estimator",
    "estimator_io", "export", "factory", "gradcheck", "health", "initializers", "integrations", "layers", "losses",
    "model", "optimizers", "persistence", "random", "regularizers", "report", "schedules", "search", "studies",
    "threads", "training", "compiled", "ewma", "tables", "preprocessing", "basic_recipe",
})

_LAZY: dict[str, str] = {
    "DNNClassifier": "estimator", "DNNRegressor": "estimator",
    "save_estimator": "estimator_io", "load_estimator": "estimator_io",
    "Diagnosis": "diagnostics", "diagnose": "diagnostics", "diagnose_model": "diagnostics",
    "TrainingHealth": "health", "HealthRecord": "health", "HealthFlag": "health",
    "plot_history": "report",
    "recipe": "basic_recipe",
}
"""Names kept at the top level for compatibility, each imported from its module on first access."""

_LAZY_AUGMENTATION = ("RandomShift", "GaussianNoise", "Compose", "RandomFlip", "RandomRotation", "RandomZoom",
                      "RandomCrop")


def __getattr__(name: str) -> Any:
    """Load a submodule (``dn.search``) or a compatibility name (``dn.DNNClassifier``) on first access."""
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
    elif name in _LAZY or name in _LAZY_AUGMENTATION:
        owner = _LAZY.get(name, "augmentation")
        module = getattr(importlib.import_module(f".{owner}", __name__), name)
    else:
        raise AttributeError(f"module 'dnnimprove' has no attribute {name!r}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES, *_LAZY, *_LAZY_AUGMENTATION})
