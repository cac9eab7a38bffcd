"""Exported ONNX (onnxruntime) and PyTorch outputs against ``predict_proba`` / ``predict``, per layer type.

For every layer type, output (sigmoid, softmax, identity) and dtype, a small network
``Dense(7) -> <layer> -> Dense(k)`` is trained five epochs, exported, run on its 90 training rows, and the
largest absolute difference from dnnimprove's own inference is printed (the worst over the three outputs).
Targets: <= 1e-5 in float32, <= 1e-9 in float64.

    python benchmarks/export_differences.py
"""

from __future__ import annotations

import tempfile

import numpy as np
import onnxruntime
import torch

import dnnimprove as dn
from dnnimprove.export import to_onnx, to_torch

LAYERS = {
    "Dense": lambda: [],
    "ReLU": lambda: [dn.ReLU()],
    "LeakyReLU": lambda: [dn.LeakyReLU(0.2)],
    "ELU": lambda: [dn.ELU(0.7)],
    "SELU": lambda: [dn.SELU()],
    "Tanh": lambda: [dn.Tanh()],
    "Sigmoid": lambda: [dn.Sigmoid()],
    "Dropout": lambda: [dn.ReLU(), dn.Dropout(0.6)],
    "BatchNorm": lambda: [dn.BatchNorm(momentum=0.5), dn.ReLU()],
}
OUTPUTS = {"binary_crossentropy": 1, "categorical_crossentropy": 3, "mse": 2}


def differences(layer: str, dtype: str, directory: str) -> tuple[float, float]:
    X, labels = dn.datasets.moons(n_samples=90, noise=0.3, seed=0)
    X = np.hstack([X, X ** 2]) * 2.0
    worst_onnx = worst_torch = 0.0
    for loss, k in OUTPUTS.items():
        y = {"binary_crossentropy": labels, "categorical_crossentropy": np.arange(90) % 3, "mse": X[:, :2] ** 2}[loss]
        model = dn.Sequential([dn.Dense(7, use_bias=layer != "BatchNorm"), *LAYERS[layer](), dn.Dense(k)],
                              loss=loss, seed=1, dtype=dtype)
        model.fit(X, y, epochs=5, batch_size=30, optimizer=dn.Adam(lr=0.05))
        Xd = X.astype(dtype)
        expected = model.predict_proba(Xd) if model.loss.is_classifier else model.predict(Xd).reshape(90, -1)
        session = onnxruntime.InferenceSession(to_onnx(model, f"{directory}/m.onnx"), providers=["CPUExecutionProvider"])
        worst_onnx = max(worst_onnx, float(np.abs(session.run(None, {"X": Xd})[0] - expected).max()))
        with torch.no_grad():
            output = to_torch(model)(torch.from_numpy(Xd)).numpy()
        worst_torch = max(worst_torch, float(np.abs(output - expected).max()))
    return worst_onnx, worst_torch


def main() -> None:
    print(f"{'layer':<11}{'ONNX f32':>11}{'torch f32':>11}{'ONNX f64':>11}{'torch f64':>11}")
    with tempfile.TemporaryDirectory() as directory:
        for layer in LAYERS:
            row = [*differences(layer, "float32", directory), *differences(layer, "float64", directory)]
            print(f"{layer:<11}" + "".join(f"{value:>11.1e}" for value in row))


if __name__ == "__main__":
    main()
