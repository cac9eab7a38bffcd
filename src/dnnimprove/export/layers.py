"""The inference network of a model as a list of steps, the form both exporters translate.

Each step is one built-in layer in inference mode with its arrays copied out in the model's dtype:

======================  =====================================================================
step                    arrays / settings
======================  =====================================================================
``dense``               ``W`` ``(n_in, n_out)``, ``b`` ``(n_out,)`` or ``None``
``batch_norm``          ``mean`` (running mean), ``std = sqrt(running_var + epsilon)``, ``gamma``,
                        ``beta``: ``A = (Z - mean) / std * gamma + beta``, as ``BatchNorm`` infers
``relu`` ``tanh``       none
``sigmoid`` ``selu``
``leaky_relu`` ``elu``  ``alpha``
``dropout``             none: the identity at inference (kept so that layer indices match)
======================  =====================================================================

followed by the output: ``sigmoid`` (binary cross-entropy; ``predict_proba`` stacks ``[1 - p, p]``),
``softmax`` (categorical cross-entropy) or ``identity`` (mean squared error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..layers import ELU, SELU, BatchNorm, Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh
from ..losses import LOSSES
from ..model import Sequential

__all__ = ["Step", "inference_steps", "output_kind", "OUTPUTS"]

OUTPUTS = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax", "mse": "identity"}
"""The output activation each registered loss is fused with."""

_ACTIVATIONS = {ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid", SELU: "selu", LeakyReLU: "leaky_relu", ELU: "elu"}


@dataclass
class Step:
    """One layer of the inference network: its kind, its name in the model and its arrays / settings."""

    kind: str
    name: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    alpha: float | None = None


def inference_steps(model: Sequential, fmt: str) -> list[Step]:
    """The steps of a built ``model``; a layer that is not a built-in (exact class) is a ``ValueError``
    naming the layer and ``fmt``, the format it could not be written to."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a dnnimprove Sequential; got {type(model).__name__}")
    if not model.built:
        raise ValueError("the model is not built yet: fit it (or call build(n_features)) before exporting")
    output_kind(model, fmt)
    steps = []
    for layer in model.layers:
        kind = type(layer)
        if kind is Dense:
            bias = None if layer.b is None else layer.b.copy()
            steps.append(Step("dense", layer.name, {"W": layer.W.copy(), "b": bias}))
        elif kind is BatchNorm:
            std = np.sqrt(layer.running_var + layer.epsilon)
            arrays = {"mean": layer.running_mean.copy(), "std": std, "gamma": layer.gamma.copy(), "beta": layer.beta.copy()}
            steps.append(Step("batch_norm", layer.name, arrays))
        elif kind is Dropout:
            steps.append(Step("dropout", layer.name))
        elif kind in _ACTIVATIONS:
            steps.append(Step(_ACTIVATIONS[kind], layer.name, alpha=getattr(layer, "alpha", None)))
        else:
            raise ValueError(
                f"cannot export layer {layer.name!r} ({type(layer).__name__}) to {fmt}: {fmt} export knows the "
                "built-in layers Dense, BatchNorm, Dropout, ReLU, LeakyReLU, ELU, SELU, Tanh and Sigmoid"
            )
    return steps


def output_kind(model: Sequential, fmt: str) -> str:
    """``"sigmoid"``, ``"softmax"`` or ``"identity"``: the model's output activation (its loss, fused)."""
    kind = OUTPUTS.get(model.loss.name)
    if kind is None or type(model.loss) is not LOSSES[model.loss.name]:
        raise ValueError(f"cannot export the loss {model.loss!r} to {fmt}: {fmt} export knows {sorted(OUTPUTS)}")
    return kind
