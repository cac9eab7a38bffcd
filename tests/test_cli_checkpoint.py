"""The CLI's side of reliability: checkpoints, Ctrl-C with the command that resumes, divergence as one line."""

from __future__ import annotations

import json
import shlex
import warnings

import pytest

import dnnimprove as dn
from dnnimprove.cli import main, resume_command
from dnnimprove.studies import runner

TRAIN = ["train", "--dataset", "moons", "--n-samples", "120", "--layers", "5,2", "--batch-size", "32",
         "--optimizer", "adam", "--lr", "0.01", "--keep-prob", "0.8", "--batch-norm", "--epochs", "6", "--json"]


def results(capsys) -> dict:
    summary = json.loads(capsys.readouterr().out)
    summary.pop("seconds")
    return summary


def test_ctrl_c_prints_the_checkpoint_and_the_command_that_resumes_it_bit_identically(tmp_path, capsys, monkeypatch):
    assert main(TRAIN) == 0
    uninterrupted = results(capsys)

    def ctrl_c_at_epoch_3(self, run):
        if run.epoch == 3:
            raise KeyboardInterrupt

    path = tmp_path / "run.npz"
    with monkeypatch.context() as patch:
        patch.setattr(runner.EpochClock, "on_epoch_end", ctrl_c_at_epoch_3)
        assert main([*TRAIN, "--checkpoint", str(path)]) == 130
    message = capsys.readouterr().err
    command = resume_command([*TRAIN, "--checkpoint", str(path)], str(path))
    assert message == (f"dnnimprove train: interrupted after 3 completed epoch(s); checkpoint written to {path}; "
                       f"resume with: {command}\n")
    assert main(shlex.split(command)[1:]) == 0  # the printed command, as a user would paste it
    assert results(capsys) == uninterrupted


def test_out_gets_a_checkpoint_by_default(tmp_path, capsys):
    assert main([*TRAIN, "--out", str(tmp_path / "out"), "--checkpoint-every", "2"]) == 0
    model = dn.load(tmp_path / "out" / "checkpoint.npz")
    assert model.n_features_in_ == 2 and {layer.kind for layer in model.layers} >= {"batch_norm", "dropout"}


def test_resume_command_replaces_an_earlier_resume():
    assert resume_command(["train", "--resume", "a.npz", "--epochs", "5", "--resume=b.npz"], "c d.npz") == \
        "dnnimprove train --epochs 5 --resume 'c d.npz'"


def test_a_checkpoint_from_other_settings_is_one_clear_line_and_exit_code_2(tmp_path, capsys):
    path = tmp_path / "run.npz"
    assert main([*TRAIN, "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    assert main([*TRAIN, "--lr", "0.02", "--resume", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"dnnimprove train: error: {path}: was written with optimizer") and error.count("\n") == 1


def test_divergence_is_one_line_and_exit_code_1(capsys):
    argv = ["train", "--dataset", "moons", "--n-samples", "60", "--optimizer", "gd", "--lr", "1e300", "--epochs", "3"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(argv) == 1
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []  # no overflow noise
    error = capsys.readouterr().err
    assert error.startswith("dnnimprove train: training diverged: non-finite") and error.count("\n") == 1
    assert "try a smaller learning rate (e.g. 1e+299)" in error


@pytest.mark.parametrize(
    "option, message",
    [("--resume", "--resume '{path}': no such checkpoint file"), ("--checkpoint", "checkpoint '{path}' cannot be written")],
)
def test_a_missing_or_unwritable_path_is_one_line_and_exit_code_2(option, message, tmp_path, capsys):
    path = tmp_path / "run.npz" if option == "--resume" else tmp_path / "missing" / "run.npz"
    assert main([*TRAIN, option, str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"dnnimprove train: error: {message.format(path=path)}") and error.count("\n") == 1
