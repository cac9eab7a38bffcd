"""Export to ONNX (run with onnxruntime) and to PyTorch reproduces ``predict_proba`` / ``predict`` for every
layer type in inference mode; ``from_torch`` reads the same layer set back; what a format cannot express
is refused naming the layer and the format."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.export import from_torch, to_onnx, to_torch

TOLERANCE = {"float32": 1e-5, "float64": 1e-9}

LAYERS = {
    "dense": lambda: [],
    "relu": lambda: [dn.ReLU()],
    "leaky_relu": lambda: [dn.LeakyReLU(0.2)],
    "elu": lambda: [dn.ELU(0.7)],
    "selu": lambda: [dn.SELU()],
    "tanh": lambda: [dn.Tanh()],
    "sigmoid": lambda: [dn.Sigmoid()],
    "dropout": lambda: [dn.ReLU(), dn.Dropout(0.6)],
    "batch_norm": lambda: [dn.BatchNorm(momentum=0.5), dn.ReLU()],
}
OUTPUTS = {"binary_crossentropy": 1, "categorical_crossentropy": 3, "mse": 2}


def trained(layer: str, loss: str, dtype: str) -> tuple[dn.Sequential, np.ndarray]:
    """A small network with ``layer`` between two Dense layers, trained a few epochs (so batch-norm running
    statistics and weights are far from their initial values)."""
    X, labels = dn.datasets.moons(n_samples=90, noise=0.3, seed=0)
    X = np.hstack([X, X ** 2]) * 2.0
    targets = {"binary_crossentropy": labels, "categorical_crossentropy": np.arange(90) % 3, "mse": X[:, :2] ** 2}[loss]
    use_bias = layer != "batch_norm"
    model = dn.Sequential([dn.Dense(7, use_bias=use_bias), *LAYERS[layer](), dn.Dense(OUTPUTS[loss])],
                          loss=loss, seed=1, dtype=dtype)
    model.fit(X, targets, epochs=5, batch_size=30, optimizer=dn.Adam(lr=0.05))
    return model, X.astype(dtype)


def reference(model: dn.Sequential, X: np.ndarray) -> np.ndarray:
    return model.predict_proba(X) if model.loss.is_classifier else model.predict(X).reshape(len(X), -1)


@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
@pytest.mark.parametrize("loss", sorted(OUTPUTS))
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_onnx_runs_every_layer_like_predict_proba(layer, loss, dtype, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    model, X = trained(layer, loss, dtype)
    path = to_onnx(model, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"X": X})
    assert output.dtype == np.dtype(dtype)
    assert session.get_outputs()[0].name == ("probabilities" if model.loss.is_classifier else "predictions")
    expected = reference(model, X)
    assert output.shape == expected.shape
    assert np.abs(output - expected).max() <= TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
@pytest.mark.parametrize("loss", sorted(OUTPUTS))
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_torch_module_equals_predict_proba_and_comes_back_identical(layer, loss, dtype):
    torch = pytest.importorskip("torch")
    model, X = trained(layer, loss, dtype)
    module = to_torch(model)
    assert not module.training
    with torch.no_grad():
        output = module(torch.from_numpy(X)).numpy()
    assert output.dtype == np.dtype(dtype)
    assert np.abs(output - reference(model, X)).max() <= TOLERANCE[dtype]
    back = from_torch(module)
    assert back.loss.name == loss and [layer.kind for layer in back.layers] == [layer.kind for layer in model.layers]
    np.testing.assert_array_equal(back.params, model.params)
    np.testing.assert_array_equal(reference(back, X), reference(model, X))


def test_torch_keeps_the_conventions_that_differ():
    pytest.importorskip("torch")
    model, _ = trained("batch_norm", "mse", "float64")
    norm = to_torch(model)[1]
    assert norm.momentum == pytest.approx(0.5) and norm.eps == model.layers[1].epsilon
    dropout = to_torch(trained("dropout", "mse", "float64")[0])[2]
    assert dropout.p == pytest.approx(0.4)  # PyTorch's p drops, our keep_prob keeps
    logits = to_torch(model, output="logits")
    assert type(logits[-1]).__name__ == "Linear"


def test_a_network_written_in_torch_comes_in_and_predicts_the_same():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ELU(0.5),
                                 torch.nn.Dropout(0.2), torch.nn.Linear(6, 3), torch.nn.Softmax(dim=1)).double()
    module.train()
    module(torch.randn(32, 4, dtype=torch.float64))  # running statistics away from 0 and 1
    module.eval()
    X = np.random.default_rng(0).normal(size=(10, 4))
    model = from_torch(module)
    assert model.loss.name == "categorical_crossentropy" and model.layers[1].momentum == pytest.approx(0.9)
    with torch.no_grad():
        expected = module(torch.from_numpy(X)).numpy()
    assert np.abs(model.predict_proba(X) - expected).max() <= 1e-12


class Square(dn.Activation):
    kind = "square"

    def forward(self, X, training):
        return X * X


def test_a_layer_a_format_cannot_express_is_named_with_the_format(tmp_path):
    model = dn.Sequential([dn.Dense(3), Square(), dn.Dense(1)], seed=0).build(2)
    pytest.importorskip("onnx")
    with pytest.raises(ValueError, match=r"cannot export layer 'square_1' \(Square\) to ONNX"):
        to_onnx(model, tmp_path / "model.onnx")
    assert not list(tmp_path.iterdir())  # nothing half-written
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"cannot export layer 'square_1' \(Square\) to PyTorch"):
        to_torch(model)


def test_a_torch_module_without_a_dnnimprove_layer_is_named():
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.GELU(), torch.nn.Linear(3, 1))
    with pytest.raises(ValueError, match=r"cannot import module 1 \(GELU\) from PyTorch"):
        from_torch(module)
    with pytest.raises(TypeError, match="module must be a torch.nn.Sequential; got Linear"):
        from_torch(torch.nn.Linear(2, 1))


def test_an_unbuilt_model_is_a_clear_error(tmp_path):
    pytest.importorskip("onnx")
    with pytest.raises(ValueError, match="not built yet"):
        to_onnx(dn.Sequential([dn.Dense(1)]), tmp_path / "m.onnx")


def test_a_missing_extra_is_a_clear_error(tmp_path, monkeypatch):
    model = dn.Sequential([dn.Dense(1)], seed=0).build(2)
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    with pytest.raises(ImportError, match=r'pip install "dnnimprove\[export\]"'):
        to_onnx(model, tmp_path / "m.onnx")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r'pip install "dnnimprove\[torch\]"'):
        to_torch(model)
