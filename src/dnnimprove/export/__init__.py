"""Export a trained :class:`~dnnimprove.Sequential` to ONNX or PyTorch, and import from PyTorch.

- :func:`to_onnx` ``(model, path)``: an ONNX graph of the inference network (``pip install
  "dnnimprove[export]"``), checked by ``onnx.checker``; input ``X`` of shape ``(m, n_features)``,
  output ``probabilities`` (``(m, n_classes)``, as ``predict_proba``) or ``predictions`` (``(m, k)``).
- :func:`to_torch` ``(model)``: a ``torch.nn.Sequential`` in eval mode with the same weights, ending in
  the output activation (``pip install "dnnimprove[torch]"``).
- :func:`from_torch` ``(module)``: the same layer set back into a built ``Sequential``.

Inference mode throughout: dropout is the identity, batch normalization uses its running statistics,
and the output activation fused with the loss becomes explicit. A layer a format cannot express is a
``ValueError`` naming the layer and the format. ``onnx``/``torch`` are imported only when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Sequential

__all__ = ["to_onnx", "to_torch", "from_torch"]


def to_onnx(model: "Sequential", path: Any, *, opset: int = 17) -> str:
    """Write ``model``'s inference network to the ONNX file ``path`` (atomically); returns the path.

    See :mod:`dnnimprove.export.onnx_graph` for the operators used.
    """
    from .onnx_graph import to_onnx as export

    return export(model, path, opset=opset)


def to_torch(model: "Sequential", *, output: str = "probabilities") -> Any:
    """A ``torch.nn.Sequential`` computing ``model``'s inference network; see :mod:`dnnimprove.export.torch_modules`."""
    from .torch_modules import to_torch as export

    return export(model, output=output)


def from_torch(module: Any, *, loss: str | None = None) -> "Sequential":
    """A built ``Sequential`` with ``module``'s layers and weights; see :mod:`dnnimprove.export.torch_modules`."""
    from .torch_modules import from_torch as convert

    return convert(module, loss=loss)
