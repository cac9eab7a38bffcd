"""Several trained networks of one architecture as one network that outputs the mean of their logits.

:func:`side_by_side` stacks ``K`` networks ``f_1 .. f_K`` (same layers, same widths, e.g. one configuration
trained with ``K`` seeds) into one :class:`~dnnimprove.model.Sequential` ``g`` with
``g(X) = (f_1(X) + ... + f_K(X)) / K`` exactly, where ``f_k(X)`` are the logits (the outputs before the
sigmoid or softmax; the predictions themselves for regression). Every hidden layer of ``g`` holds the ``K``
networks' units side by side, so ``g`` is an ordinary network: it saves, loads and exports as any other.

In row layout (``Z = X @ W + b``), with ``W_k`` of shape ``(n_in, n_out)``:

- the first ``Dense`` puts the blocks side by side: ``W = [W_1 | ... | W_K]``, ``b = [b_1, ..., b_K]``;
- a hidden ``Dense`` is block diagonal: ``W = diag(W_1, ..., W_K)``, ``b = [b_1, ..., b_K]``
  (the off-diagonal zeros keep each network's units fed by its own units only);
- the output ``Dense`` stacks the blocks and averages: ``W = [W_1; ...; W_K] / K``, ``b = mean(b_k)``;
- batch norm's ``gamma``, ``beta`` and running statistics are concatenated (they act per unit);
  activations act per unit and dropout is the identity at inference.

A network without hidden layers averages its weights. Averaging logits (not probabilities) is the mean of
the networks' log-odds: for two classes the averaged probability is ``sigmoid(mean(z_k))``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .layers import BatchNorm, Dense
from .model import Sequential

__all__ = ["side_by_side"]


def side_by_side(models: Sequence[Sequential]) -> Sequential:
    """One network whose logits are the mean of ``models``' logits (see the module doc).

    Parameters
    ----------
    models : sequence of built Sequential
        At least one; the same layer kinds, widths, loss, dtype and input width.

    Returns
    -------
    Sequential
        A new built network (its layer settings, e.g. dropout's ``keep_prob``, those of ``models[0]``).
    """
    from .persistence import LAYER_CLASSES

    models = list(models)
    if not models:
        raise ValueError("models must hold at least one network; got none")
    first = models[0]
    for index, model in enumerate(models):
        if not model.built:
            raise ValueError(f"models[{index}] is not fitted yet")
        if model.config() != first.config() or model.n_features_in_ != first.n_features_in_:
            raise ValueError(f"models[{index}] has another architecture than models[0]: {model!r} vs {first!r}")
    count = len(models)
    dense = [index for index, layer in enumerate(first.layers) if isinstance(layer, Dense)]
    layers = []
    for index, layer in enumerate(first.layers):
        settings = layer.config()
        if isinstance(layer, Dense) and index != dense[-1]:
            settings["units"] = layer.units * count
        layers.append(LAYER_CLASSES[layer.kind](**settings))
    merged = Sequential(layers, loss=first.loss.name, dtype=str(first.dtype)).build(first.n_features_in_)
    for index, layer in enumerate(merged.layers):
        for spec in layer.param_specs():
            parts = [model.tensor(f"{model.layers[index].name}.{spec.name}") for model in models]
            merged.tensor(f"{layer.name}.{spec.name}")[...] = _combine(parts, spec.name, index, dense)
        if isinstance(layer, BatchNorm):
            layer.running_mean[...] = np.concatenate([model.layers[index].running_mean for model in models])
            layer.running_var[...] = np.concatenate([model.layers[index].running_var for model in models])
    return merged


def _combine(parts: list[np.ndarray], name: str, index: int, dense: list[int]) -> np.ndarray:
    """The merged tensor ``name`` of layer ``index`` from the ``K`` networks' ``parts``."""
    is_first, is_last = index == dense[0], index == dense[-1]
    if is_last and (name == "b" or is_first):  # the output layer averages (a network without hidden layers too)
        return np.mean(parts, axis=0)
    if name != "W":  # a bias, or batch norm's gamma and beta: per unit
        return np.concatenate(parts)
    if is_first:
        return np.concatenate(parts, axis=1)
    if is_last:
        return np.concatenate(parts, axis=0) / len(parts)
    rows, cols = parts[0].shape
    block = np.zeros((rows * len(parts), cols * len(parts)), dtype=parts[0].dtype)
    for k, part in enumerate(parts):
        block[k * rows:(k + 1) * rows, k * cols:(k + 1) * cols] = part
    return block
