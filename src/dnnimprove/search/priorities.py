"""The course's order of tuning priority, as search spaces: tune what matters most first.

=========  ========================================================  ===========================================
priority   searched (the ones before included)                       on the scale
=========  ========================================================  ===========================================
1          the learning rate ``lr``                                  log-uniform in [1e-4, 1]
2          momentum's ``beta``, the hidden units, the mini-batch     ``1 - 10**U(-3, -1)`` (0.9 to 0.999); 16 to
           size                                                      128 units; a power of two in [16, 256]
3          the number of layers, learning-rate decay                 1 to 3 layers; inverse-time ``decay_rate``
                                                                     log-uniform in [1e-4, 1]
4          Adam's ``beta1``, ``beta2`` and ``epsilon`` (rarely       ``beta1`` 0.9 to 0.999, ``beta2`` 0.99 to
           tuned: the defaults 0.9, 0.999, 1e-8 almost always do)    0.9999 (both ``1 - 10**U``); ``epsilon``
                                                                     log-uniform in [1e-10, 1e-6]
=========  ========================================================  ===========================================

What a priority leaves out keeps the estimator's setting (one hidden layer, no decay, ...). With
``optimizer="adam"`` there is no ``beta`` (Adam's ``beta1`` belongs to priority 4). The result is a
space for :func:`dnnimprove.search.random_search` / :func:`~dnnimprove.search.coarse_to_fine` over a
:class:`dnnimprove.DNNClassifier` (``prefix`` for a pipeline step, e.g. ``"dnnclassifier__"``);
``course_space(priority=p)`` is ``priority_space(p)``.
"""

from __future__ import annotations

from typing import Any

from .._validation import Integer, Options, validate_params

__all__ = ["PRIORITIES", "priority_space", "PRIORITY_CONSTRAINTS"]

PRIORITIES: dict[int, tuple[str, ...]] = {
    1: ("lr",),
    2: ("beta", "hidden units", "batch_size"),
    3: ("hidden layers", "decay_rate"),
    4: ("beta1", "beta2", "epsilon"),
}
"""What each priority adds to the search, in the course's order."""

PRIORITY_CONSTRAINTS = {
    "priority": Integer(low=1, high=max(PRIORITIES)),
    "optimizer": Options(("gd", "momentum", "rmsprop", "adam", "adamw")),
}
"""The legal values of :func:`priority_space`'s ``priority`` and ``optimizer`` (``prefix`` is any string)."""


def priority_space(priority: int = 1, optimizer: str = "momentum", prefix: str = "") -> dict[str, Any]:
    """The search space of everything up to ``priority`` (1 to 4; see the module table).

    >>> sorted(priority_space(1))
    ['lr']
    >>> sorted(priority_space(2))
    ['batch_size', 'beta', 'hidden_layer_sizes', 'lr']
    """
    from .spaces import Choice, HiddenLayers, LogUniform, OneMinusLogUniform, PowersOfTwo

    priority, optimizer = validate_params(PRIORITY_CONSTRAINTS, priority=priority, optimizer=optimizer).values()
    space: dict[str, Any] = {"lr": LogUniform(1e-4, 1.0)}
    if priority >= 2:
        if optimizer in ("momentum", "rmsprop"):
            space["beta"] = OneMinusLogUniform(0.9, 0.999)
        space["batch_size"] = PowersOfTwo(16, 256)
        space["hidden_layer_sizes"] = HiddenLayers(units=(16, 128), layers=Choice([1]))
    if priority >= 3:
        space["hidden_layer_sizes"] = HiddenLayers(units=(16, 128), layers=(1, 3))
        space["schedule"] = Choice(["inverse_time"])
        space["decay_rate"] = LogUniform(1e-4, 1.0)
    if priority >= 4 and optimizer in ("adam", "adamw"):
        space["beta1"] = OneMinusLogUniform(0.9, 0.999)
        space["beta2"] = OneMinusLogUniform(0.99, 0.9999)
        space["epsilon"] = LogUniform(1e-10, 1e-6)
    return {prefix + name: dimension for name, dimension in space.items()}
