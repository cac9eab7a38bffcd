"""Named search spaces: ready-made spaces for the estimators, by name (``dnnimprove search --space NAME``).

A named space is a function returning a fresh space dict; :data:`SPACES` maps each name to its function
and :func:`get_space` builds one by name with its options. Add a space by writing its function here and
registering it in :data:`SPACES`.
"""

from __future__ import annotations

from typing import Any, Callable

from .spaces import Choice, Dimension, HiddenLayers, LogUniform, OneMinusLogUniform, PowersOfTwo

__all__ = ["course_space", "SPACES", "get_space"]

_BETA_OPTIMIZERS = ("momentum", "rmsprop")
_ADAM_OPTIMIZERS = ("adam", "adamw")


def course_space(optimizer: str = "adam", prefix: str = "", priority: int | None = None) -> dict[str, Dimension]:
    """The course's search space for ``DNNClassifier``/``DNNRegressor`` (or a pipeline step, via ``prefix``).

    ``priority`` (1 to 4) gives instead the space of the course's tuning priorities up to that tier, the
    learning rate first (:func:`dnnimprove.search.priorities.priority_space`).

    ``lr`` log-uniform in [1e-4, 1]; ``beta`` (momentum, RMSprop) or ``beta1`` (Adam) as
    ``1 - 10**U(-3, -1)``, i.e. in [0.9, 0.999]; ``l2`` log-uniform in [1e-4, 1]; mini-batch size a power
    of two in [16, 256]; 1 to 3 hidden layers of 16 to 128 units.

    ``optimizer="any"`` also searches the optimizer (gradient descent, momentum, RMSprop, Adam) with a
    conditional space: ``beta`` only for momentum and RMSprop, ``beta1`` in [0.9, 0.999] and ``beta2`` in
    [0.99, 0.9999] (both as ``1 - 10**U``) only for Adam.

    ``prefix`` is the pipeline step, e.g. ``"dnnclassifier__"`` for
    ``make_pipeline(StandardScaler(), DNNClassifier())``.
    """
    if priority is not None:
        from .priorities import priority_space

        return priority_space(priority, "momentum" if optimizer == "any" else optimizer, prefix)
    space: dict[str, Dimension] = {
        "lr": LogUniform(1e-4, 1.0),
        "l2": LogUniform(1e-4, 1.0),
        "batch_size": PowersOfTwo(16, 256),
        "hidden_layer_sizes": HiddenLayers(units=(16, 128), layers=(1, 3)),
    }
    if optimizer == "any":
        space["optimizer"] = Choice(["gd", "momentum", "rmsprop", "adam"])
        when_beta = {prefix + "optimizer": list(_BETA_OPTIMIZERS)}
        when_adam = {prefix + "optimizer": ["adam"]}
        space["beta"] = OneMinusLogUniform(0.9, 0.999).when(**when_beta)
        space["beta1"] = OneMinusLogUniform(0.9, 0.999).when(**when_adam)
        space["beta2"] = OneMinusLogUniform(0.99, 0.9999).when(**when_adam)
    elif optimizer in _ADAM_OPTIMIZERS:
        space["beta1"] = OneMinusLogUniform(0.9, 0.999)
    elif optimizer != "gd":
        space["beta"] = OneMinusLogUniform(0.9, 0.999)
    return {prefix + name: dimension for name, dimension in space.items()}


SPACES: dict[str, Callable[..., dict[str, Dimension]]] = {
    "course": course_space,
}


def get_space(name: str, **options: Any) -> dict[str, Dimension]:
    """The named space ``name`` (a key of :data:`SPACES`) built with ``options``."""
    if name not in SPACES:
        raise ValueError(f"space must be one of {', '.join(sorted(SPACES))}; got {name!r}")
    return SPACES[name](**options)
