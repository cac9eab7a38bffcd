"""ONNX export of the inference network (``pip install "dnnimprove[export]"``: onnx, onnxruntime to run it).

Operators, in the model's dtype (float32 or float64; constants are graph initializers, never float32
attributes, so a float64 model keeps float64 arithmetic throughout):

==============  ===================================================================================
layer           ONNX
==============  ===================================================================================
Dense           ``MatMul(X, W)`` then ``Add(b)`` (no ``Add`` without a bias)
BatchNorm       ``Div(Sub(Z, mean), std)`` then ``Mul(gamma)``, ``Add(beta)``, with
                ``std = sqrt(running_var + epsilon)``: the order of ``BatchNorm``'s own inference
ReLU            ``Relu``;  Tanh ``Tanh``;  Sigmoid ``Sigmoid``
LeakyReLU       ``Where(Greater(Z, 0), Z, Mul(Z, alpha))``
ELU             ``Where(Greater(Z, 0), Z, Mul(Sub(Exp(Min(Z, 0)), 1), alpha))``
SELU            ELU's form with SELU's alpha, then ``Mul(scale)``
Dropout         nothing (the identity at inference)
output          sigmoid loss: ``Concat(Sub(1, p), p)`` with ``p = Sigmoid(Z)``, as ``predict_proba``;
                softmax loss: ``Softmax(axis=1)``; mean squared error: the logits
==============  ===================================================================================

The graph's input is ``X`` of shape ``(m, n_features)`` with ``m`` free; its output ``probabilities``
(classifiers) or ``predictions`` (regression). ELU's ``exp(z) - 1`` differs from NumPy's ``expm1`` by at
most one unit in the last place of 1 for small ``|z|``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..layers import SELU
from ..model import Sequential
from .layers import Step, inference_steps, output_kind

__all__ = ["to_onnx", "onnx_model"]

FORMAT = "ONNX"


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError('ONNX export needs the onnx package: pip install "dnnimprove[export]"') from None
    return onnx


class _Graph:
    """Nodes and initializers under construction; every name is unique."""

    def __init__(self, onnx: Any, dtype: np.dtype) -> None:
        self.onnx, self.dtype = onnx, dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def constant(self, hint: str, value: Any) -> str:
        name = self.name(hint)
        array = np.asarray(value, dtype=self.dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        output = self.name(hint)
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output


def _elu_like(graph: _Graph, Z: str, alpha: float, name: str) -> str:
    zero = graph.constant(f"{name}.zero", 0)
    negative = graph.op("Min", [Z, zero], f"{name}.min")
    expm1 = graph.op("Sub", [graph.op("Exp", [negative], f"{name}.exp"), graph.constant(f"{name}.one", 1)], f"{name}.expm1")
    scaled = graph.op("Mul", [expm1, graph.constant(f"{name}.alpha", alpha)], f"{name}.negative")
    return graph.op("Where", [graph.op("Greater", [Z, zero], f"{name}.positive"), Z, scaled], name)


def _step(graph: _Graph, step: Step, Z: str) -> str:
    name = step.name
    if step.kind == "dense":
        Z = graph.op("MatMul", [Z, graph.constant(f"{name}.W", step.arrays["W"])], f"{name}.matmul")
        if step.arrays["b"] is not None:
            Z = graph.op("Add", [Z, graph.constant(f"{name}.b", step.arrays["b"])], name)
        return Z
    if step.kind == "batch_norm":
        arrays = step.arrays
        centred = graph.op("Sub", [Z, graph.constant(f"{name}.mean", arrays["mean"])], f"{name}.centred")
        normalized = graph.op("Div", [centred, graph.constant(f"{name}.std", arrays["std"])], f"{name}.normalized")
        scaled = graph.op("Mul", [normalized, graph.constant(f"{name}.gamma", arrays["gamma"])], f"{name}.scaled")
        return graph.op("Add", [scaled, graph.constant(f"{name}.beta", arrays["beta"])], name)
    if step.kind in ("relu", "tanh", "sigmoid"):
        return graph.op({"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}[step.kind], [Z], name)
    if step.kind == "leaky_relu":
        zero = graph.constant(f"{name}.zero", 0)
        negative = graph.op("Mul", [Z, graph.constant(f"{name}.alpha", step.alpha)], f"{name}.negative")
        return graph.op("Where", [graph.op("Greater", [Z, zero], f"{name}.positive"), Z, negative], name)
    if step.kind == "elu":
        return _elu_like(graph, Z, step.alpha, name)
    if step.kind == "selu":
        inner = _elu_like(graph, Z, SELU.ALPHA, f"{name}.elu")
        return graph.op("Mul", [inner, graph.constant(f"{name}.scale", SELU.SCALE)], name)
    if step.kind == "dropout":
        return Z
    raise ValueError(f"cannot export layer {name!r} ({step.kind}) to {FORMAT}")  # pragma: no cover


def onnx_model(model: Sequential, opset: int = 17) -> Any:
    """The checked ``onnx.ModelProto`` of ``model``'s inference network."""
    onnx = _import_onnx()
    steps = inference_steps(model, FORMAT)
    output = output_kind(model, FORMAT)
    dtype = np.dtype(model.dtype)
    graph = _Graph(onnx, dtype)
    Z = "X"
    for step in steps:
        Z = _step(graph, step, Z)
    if output == "sigmoid":
        p = graph.op("Sigmoid", [Z], "output.sigmoid")
        q = graph.op("Sub", [graph.constant("output.one", 1), p], "output.complement")
        Z = graph.op("Concat", [q, p], "probabilities", axis=1)
    elif output == "softmax":
        Z = graph.op("Softmax", [Z], "probabilities", axis=1)
    final = "probabilities" if output != "identity" else "predictions"
    graph.nodes.append(onnx.helper.make_node("Identity", [Z], [final], name=final))
    element = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    inputs = [onnx.helper.make_tensor_value_info("X", element, ["m", model.n_features_in_])]
    outputs = [onnx.helper.make_tensor_value_info(final, element, ["m", None])]
    body = onnx.helper.make_graph(graph.nodes, "dnnimprove", inputs, outputs, graph.initializers)
    proto = onnx.helper.make_model(body, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="dnnimprove")
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(proto, full_check=True)
    return proto


def to_onnx(model: Sequential, path: Any, opset: int = 17) -> str:
    """Write the ONNX file atomically (a temporary file in the same directory, then a rename)."""
    proto = onnx_model(model, opset)
    path = os.fspath(path)
    temporary = f"{path}.tmp{os.getpid()}"
    try:
        with open(temporary, "wb") as stream:
            stream.write(proto.SerializeToString())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path
