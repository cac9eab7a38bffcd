"""Tracking callbacks write what History holds; each is read back with the tool's own reader."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.integrations import CSVLogger


def trained(callbacks, epochs=3, **settings):
    X, y = dn.datasets.moons(n_samples=60, noise=0.2, seed=0)
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(4), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=epochs, batch_size=20, validation_data=(X[:15], y[:15]), callbacks=callbacks,
                        **settings)
    return model, history


def test_csv_logger_rows_are_the_history(tmp_path):
    path = tmp_path / "log.csv"
    _, history = trained([CSVLogger(path)])
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "data_cost", "penalty"]
    assert [int(row["epoch"]) for row in rows] == history.epoch
    for index, row in enumerate(rows):
        for key, value in history.logs(index).items():
            assert float(row[key]) == value  # repr round-trips a float exactly
        assert float(row["data_cost"]) == history.data_cost[index]


def test_csv_logger_appends_for_a_continued_fit(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path, append=True)
    trained([logger], epochs=2)
    trained([logger], epochs=2)
    with open(path, newline="") as stream:
        assert [row["epoch"] for row in csv.DictReader(stream)] == ["0", "1", "0", "1"]


def test_tensorboard_scalars_histograms_and_health_read_back(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing import event_accumulator

    from dnnimprove.integrations import TensorBoard

    model, history = trained([TensorBoard(tmp_path)])
    events = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    tags = events.Tags()
    for key, values in history.history.items():
        scalars = events.Scalars(f"epoch/{key}")
        assert [event.step for event in scalars] == history.epoch
        np.testing.assert_array_equal([event.value for event in scalars], np.float32(values))  # stored as float32
    for info in model.table:
        assert f"weights/{info.name}" in tags["histograms"] and f"gradients/{info.name}" in tags["histograms"]
    last = events.Histograms("weights/dense_1.W")[-1].histogram_value
    W = model.tensor("dense_1.W")
    assert (last.num, last.min, last.max) == (W.size, W.min(), W.max())
    for statistic in ("grad_norm/dense_1", "activation_std/relu_1", "dead_fraction/relu_2"):
        assert f"health/{statistic}" in tags["scalars"]


def test_mlflow_logger_params_metrics_by_epoch_and_model_artifact(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for this to use a plain local file store
    from mlflow.tracking import MlflowClient

    from dnnimprove.integrations import MLflowLogger

    uri = (tmp_path / "mlruns").as_uri()
    logger = MLflowLogger(experiment="moons", tracking_uri=uri, params={"note": "test"})
    model, history = trained([logger], optimizer=dn.Adam(lr=0.01))
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(logger.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["optimizer"] == "Adam" and float(run.data.params["optimizer.lr"]) == 0.01
    assert run.data.params["note"] == "test" and run.data.params["loss"] == "binary_crossentropy"
    for key, values in history.history.items():
        metric = client.get_metric_history(logger.run_id, key)
        assert [point.step for point in metric] == history.epoch
        assert [point.value for point in metric] == values
    local = client.download_artifacts(logger.run_id, "model/model.npz", str(tmp_path))
    np.testing.assert_array_equal(dn.load(local).params, model.params)


def test_a_missing_tracking_extra_names_the_pip_extra(monkeypatch, tmp_path):
    from dnnimprove.integrations import MLflowLogger, TensorBoard

    for module in ("tensorboard", "tensorboard.compat.proto.summary_pb2", "mlflow", "mlflow.tracking"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(ImportError, match=r'TensorBoard logging needs the tensorboard package: pip install "dnnimprove\[tracking\]"'):
        TensorBoard(tmp_path)
    with pytest.raises(ImportError, match=r'MLflow logging needs the mlflow package: pip install "dnnimprove\[tracking\]"'):
        MLflowLogger()


def test_importing_dnnimprove_imports_no_tracking_library():
    import subprocess

    code = "import sys, dnnimprove, dnnimprove.integrations; print(sorted({'mlflow', 'tensorboard', 'onnx', 'torch'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
