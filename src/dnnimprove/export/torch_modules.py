"""PyTorch export and import of the inference network (``pip install "dnnimprove[torch]"``).

===============  ==========================================================================================
dnnimprove       torch.nn
===============  ==========================================================================================
Dense            ``Linear(n_in, n_out, bias=use_bias)`` with ``weight = W.T`` (PyTorch stores ``(out, in)``)
BatchNorm        ``BatchNorm1d(n, eps=epsilon, momentum=1 - momentum)`` with the running statistics
                 (PyTorch's momentum weights the *new* value: our 0.9 is its 0.1)
ReLU, Tanh,      ``ReLU``, ``Tanh``, ``Sigmoid``, ``SELU`` (the same two constants)
Sigmoid, SELU
LeakyReLU, ELU   ``LeakyReLU(negative_slope=alpha)``, ``ELU(alpha=alpha)``
Dropout          ``Dropout(p=1 - keep_prob)`` (the identity in eval mode)
output           ``output="probabilities"``: :class:`BinaryProbabilities` (``[1 - p, p]`` as
                 ``predict_proba``) for a sigmoid loss, ``Softmax(dim=1)`` for a softmax loss, nothing for
                 mean squared error; ``output="logits"``: nothing
===============  ==========================================================================================

The module is in eval mode and in the model's dtype (``float64`` models give ``.double()`` modules).
:func:`from_torch` reads the same set back; a trailing ``BinaryProbabilities`` / ``Sigmoid`` after a
one-unit ``Linear``, or ``Softmax(dim=1)``, names the loss (else pass ``loss=``, default ``"mse"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import ELU, SELU, BatchNorm, Dense, Dropout, Layer, LeakyReLU, ReLU, Sigmoid, Tanh
from ..model import Sequential
from .layers import inference_steps, output_kind

__all__ = ["to_torch", "from_torch", "BinaryProbabilities"]

FORMAT = "PyTorch"
OUTPUT_CHOICES = ("probabilities", "logits")


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError('PyTorch export needs torch: pip install "dnnimprove[torch]"') from None
    return torch


def __getattr__(name: str) -> Any:
    if name == "BinaryProbabilities":
        return _binary_probabilities_class()
    raise AttributeError(name)


_CLASS: Any = None


def _binary_probabilities_class() -> Any:
    """``BinaryProbabilities``: a ``torch.nn.Module`` mapping logits ``(m, 1)`` to ``[1 - p, p]`` ``(m, 2)``."""
    global _CLASS
    if _CLASS is None:
        torch = _import_torch()

        class BinaryProbabilities(torch.nn.Module):
            """``p = sigmoid(z)``; returns ``cat([1 - p, p], dim=1)``, the columns of ``predict_proba``."""

            def forward(self, Z: Any) -> Any:
                p = torch.sigmoid(Z)
                return torch.cat([1 - p, p], dim=1)

        _CLASS = BinaryProbabilities
    return _CLASS


def to_torch(model: Sequential, output: str = "probabilities") -> Any:
    """``torch.nn.Sequential`` (eval mode, the model's dtype) computing ``model``'s inference network."""
    torch = _import_torch()
    if output not in OUTPUT_CHOICES:
        raise ValueError(f"output must be one of {OUTPUT_CHOICES}; got {output!r}")
    dtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(model.dtype)]
    modules: list[Any] = []
    layers = {layer.name: layer for layer in model.layers}
    with torch.no_grad():
        for step in inference_steps(model, FORMAT):
            if step.kind == "dense":
                W, b = step.arrays["W"], step.arrays["b"]
                linear = torch.nn.Linear(W.shape[0], W.shape[1], bias=b is not None, dtype=dtype)
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                if b is not None:
                    linear.bias.copy_(torch.from_numpy(b))
                modules.append(linear)
            elif step.kind == "batch_norm":
                layer = layers[step.name]
                norm = torch.nn.BatchNorm1d(layer.input_dim, eps=layer.epsilon, momentum=1 - layer.momentum, dtype=dtype)
                norm.weight.copy_(torch.from_numpy(step.arrays["gamma"]))
                norm.bias.copy_(torch.from_numpy(step.arrays["beta"]))
                norm.running_mean.copy_(torch.from_numpy(layer.running_mean))
                norm.running_var.copy_(torch.from_numpy(layer.running_var))
                modules.append(norm)
            elif step.kind == "dropout":
                modules.append(torch.nn.Dropout(p=1 - layers[step.name].keep_prob))
            elif step.kind == "leaky_relu":
                modules.append(torch.nn.LeakyReLU(negative_slope=step.alpha))
            elif step.kind == "elu":
                modules.append(torch.nn.ELU(alpha=step.alpha))
            else:
                modules.append({"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
                                "selu": torch.nn.SELU}[step.kind]())
    kind = output_kind(model, FORMAT)
    if output == "probabilities" and kind == "sigmoid":
        modules.append(_binary_probabilities_class()())
    elif output == "probabilities" and kind == "softmax":
        modules.append(torch.nn.Softmax(dim=1))
    return torch.nn.Sequential(*modules).eval()


def _layer_from(module: Any, index: int, torch: Any) -> tuple[Layer, dict[str, np.ndarray]]:
    """One dnnimprove layer for ``module`` and the arrays to copy into it once built."""
    nn = torch.nn
    kind = type(module)
    if kind is nn.Linear:
        arrays = {"W": module.weight.detach().cpu().numpy().T}
        if module.bias is not None:
            arrays["b"] = module.bias.detach().cpu().numpy()
        return Dense(module.out_features, use_bias=module.bias is not None), arrays
    if kind is nn.BatchNorm1d:
        if not (module.affine and module.track_running_stats) or module.momentum is None:
            raise ValueError(f"cannot import module {index} ({module!r}) from {FORMAT}: BatchNorm1d needs affine=True, "
                             "track_running_stats=True and a momentum (not None)")
        arrays = {name: getattr(module, attribute).detach().cpu().numpy() for name, attribute in
                  (("gamma", "weight"), ("beta", "bias"), ("running_mean", "running_mean"), ("running_var", "running_var"))}
        return BatchNorm(momentum=1 - module.momentum, epsilon=module.eps), arrays
    if kind is nn.Dropout:
        if not module.p < 1:
            raise ValueError(f"cannot import module {index} (Dropout(p={module.p})) from {FORMAT}: p must be < 1")
        return Dropout(keep_prob=1 - module.p), {}
    if kind is nn.LeakyReLU:
        return LeakyReLU(alpha=module.negative_slope), {}
    if kind is nn.ELU:
        return ELU(alpha=module.alpha), {}
    simple = {nn.ReLU: ReLU, nn.Tanh: Tanh, nn.Sigmoid: Sigmoid, nn.SELU: SELU}
    if kind in simple:
        return simple[kind](), {}
    raise ValueError(
        f"cannot import module {index} ({type(module).__name__}) from {FORMAT}: dnnimprove has no layer for it "
        "(known: Linear, BatchNorm1d, Dropout, ReLU, LeakyReLU, ELU, SELU, Tanh, Sigmoid, and an output "
        "Softmax(dim=1) / Sigmoid / BinaryProbabilities)"
    )


def _split_output(modules: list[Any], loss: str | None, torch: Any) -> tuple[list[Any], str]:
    """The modules without a trailing output activation, and the loss that activation names."""
    last = modules[-1] if modules else None
    linear_before = len(modules) >= 2 and type(modules[-2]) is torch.nn.Linear
    if isinstance(last, _binary_probabilities_class()) or (type(last) is torch.nn.Sigmoid and linear_before
                                                           and modules[-2].out_features == 1 and loss != "mse"):
        found = "binary_crossentropy"
    elif type(last) is torch.nn.Softmax and last.dim in (1, -1):
        found = "categorical_crossentropy"
    else:
        return modules, "mse" if loss is None else loss
    if loss is not None and loss != found:
        raise ValueError(f"loss={loss!r} does not match the module's output {type(last).__name__} ({found})")
    return modules[:-1], found


def from_torch(module: Any, loss: str | None = None) -> Sequential:
    """A built ``Sequential`` (the module's dtype) with ``module``'s layers, weights and running statistics."""
    torch = _import_torch()
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"module must be a torch.nn.Sequential; got {type(module).__name__}")
    modules, loss = _split_output(list(module), loss, torch)
    converted = [_layer_from(child, index, torch) for index, child in enumerate(modules)]
    first = next((child for child in modules if type(child) is torch.nn.Linear), None)
    if first is None or type(modules[0]) is not torch.nn.Linear:
        raise ValueError(f"cannot import from {FORMAT}: the module must start with a Linear layer")
    dtype = {torch.float64: "float64", torch.float32: "float32"}.get(first.weight.dtype)
    if dtype is None:
        raise ValueError(f"cannot import from {FORMAT}: parameters of dtype {first.weight.dtype} (float32 or float64 only)")
    model = Sequential([layer for layer, _ in converted], loss=loss, dtype=dtype).build(first.in_features)
    for layer, arrays in converted:
        for key, value in arrays.items():
            target = getattr(layer, key)
            if target.shape != value.shape:
                raise ValueError(f"cannot import {layer.name}.{key}: shape {value.shape}, the layer expects {target.shape}")
            np.copyto(target, value)
    return model
