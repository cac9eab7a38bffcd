"""The dnnimprove command: help, listing, one training run, gradient checking, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dnnimprove import cli
from dnnimprove.studies import STUDIES
import shlex
import warnings
import dnnimprove as dn
from dnnimprove.cli import main, resume_command

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run_module(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "dnnimprove", *argv], capture_output=True, text=True, env=env)


def test_python_dash_m_dnnimprove_shows_help_with_every_subcommand():
    completed = run_module("--help")
    assert completed.returncode == 0, completed.stderr
    for command in ("study", "train", "gradcheck", "search"):
        assert command in completed.stdout


def test_study_list_names_every_study(capsys):
    assert cli.main(["study", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(STUDIES)


def test_train_json_prints_the_runs_results(capsys):
    status = cli.main(["train", "--dataset", "moons", "--layers", "5,2", "--optimizer", "adam", "--lr", "0.01",
                       "--batch-size", "64", "--epochs", "30", "--test-fraction", "0.25", "--json"])
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "robust" and result["hidden"] == [5, 2] and result["epochs"] == 30
    assert 0.5 < result["train_accuracy"] <= 1 and 0.5 < result["test_accuracy"] <= 1
    assert result["settings"]["optimizer"] == "adam" and result["settings"]["batch_size"] == 64


def test_train_course_exact_reproduces_the_course_decay_figure(capsys):
    # The course's optimization version B: momentum + fixed-interval decay, lr0 0.1, published 0.9533.
    status = cli.main(["train", "--dataset", "moons", "--layers", "5,2", "--optimizer", "momentum", "--beta", "0.9",
                       "--lr", "0.1", "--schedule", "fixed_interval", "--time-interval", "1000", "--batch-size", "64",
                       "--epochs", "5000", "--course-exact", "--json"])
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "course-exact"
    assert round(result["train_accuracy"], 4) == 0.9533


def test_train_out_writes_results_and_figures(tmp_path, capsys):
    status = cli.main(["train", "--dataset", "circles", "--layers", "4", "--epochs", "5", "--out", str(tmp_path)])
    assert status == 0
    assert "train" in capsys.readouterr().out
    assert {path.name for path in (tmp_path / "train").iterdir()} == {"results.json", "cost.png", "boundary.png"}


def test_gradcheck_passes_a_correct_network_and_exits_zero(capsys):
    assert cli.main(["gradcheck", "--dataset", "moons", "--layers", "5,2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["difference"] < 1e-7
    assert set(report["per_tensor"]) == {f"dense_{i}.{key}" for i in (1, 2, 3) for key in "Wb"}


def test_quick_study_writes_results_json_and_index(tmp_path, capsys):
    status = cli.main(["study", "softmax", "--quick", "--seeds", "1", "--out", str(tmp_path), "--no-progress"])
    assert status == 0
    out = capsys.readouterr().out
    assert "adam_minibatch_32" in out and f"report: {tmp_path / 'index.html'}" in out
    assert json.loads((tmp_path / "softmax" / "results.json").read_text())["runs"][0]["epochs"] == 3
    assert 'href="softmax/results.json"' in (tmp_path / "index.html").read_text()


BAD_INPUT = [
    (["study", "nonsense"], ["unknown study 'nonsense'", "'initialization'", "'optimization'"]),
    (["train", "--dataset", "mnist"], ["--dataset", "invalid choice: 'mnist'", "'moons'", "'circles'"]),
    (["train", "--optimizer", "sgd"], ["--optimizer", "invalid choice: 'sgd'", "'adam'", "'momentum'"]),
    (["train", "--activation", "swish"], ["--activation", "invalid choice: 'swish'", "'relu'", "'tanh'"]),
    (["gradcheck", "--layers", "5,x"], ["--layers", "comma-separated positive integers", "'5,x'"]),
    (["train", "--layers", "5,0"], ["--layers", "'5,0'"]),
    (["train", "--epochs", "-5"], ["--epochs", "integer >= 0", "'-5'"]),
    (["train", "--lr", "-0.1"], ["--lr", "number > 0", "'-0.1'"]),
    (["train", "--lr", "nan"], ["--lr", "expected a finite number (a number > 0); got 'nan'"]),
    (["train", "--epochs", "1e20"], ["--epochs", "expected an integer >= 0; got '1e20'"]),
    (["train", "--epochs", "2.5"], ["--epochs", "expected an integer >= 0; got '2.5'"]),
    (["study", "--seeds", "1e3"], ["--seeds", "expected an integer >= 1", "got '1e3'"]),
    (["train", "--resume", "/nonexistent-folder/run.npz"], ["--resume '/nonexistent-folder/run.npz': no such checkpoint file"]),
    (["train", "--keep-prob", "1.5"], ["--keep-prob", "(0, 1]", "'1.5'"]),
    (["train", "--batch-size", "0"], ["--batch-size", "'0'"]),
    (["study", "--seeds", "0"], ["--seeds", "integer >= 1", "'0'"]),
    (["train", "--dataset", "digits", "--noise", "0.3"], ["--noise applies to generated datasets only"]),
    (["train", "--early-stopping", "5"], ["--early-stopping needs a dev set"]),
    (["search", "--n-jobs", "0", "--trials", "2"], ["n_jobs must be a positive number of workers or -1", "got 0"]),
    (["search", "--trials", "2", "--rounds", "3"], ["rounds must be an integer in [1, 2]; got 3"]),
    (["search", "--scheduler", "tcp://127.0.0.1:1", "--timeout", "1", "--trials", "2"],
     ["could not reach the Dask scheduler at 'tcp://127.0.0.1:1' within 1 s"]),
    (["search", "--trials", "0"], ["--trials", "integer >= 1", "'0'"]),
    (["frobnicate"], ["invalid choice: 'frobnicate'", "'study'"]),
]


def exit_status(argv: list[str]) -> int:
    """``cli.main(argv)``'s status, whether it returns it or argparse exits with it."""
    try:
        return cli.main(argv)
    except SystemExit as exit:
        return exit.code


@pytest.mark.parametrize("argv, fragments", BAD_INPUT, ids=[" ".join(argv) for argv, _ in BAD_INPUT])
def test_bad_input_gives_one_clear_line_and_exit_code_2(argv, fragments, capsys):
    if "--scheduler" in argv:
        pytest.importorskip("distributed")  # the dask extra
    status = exit_status(argv)
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    for fragment in fragments:
        assert fragment in lines[0]


def test_an_out_folder_that_cannot_be_written_gives_exit_code_2(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    status = exit_status(["study", "softmax", "--quick", "--out", str(blocker / "results")])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.count("\n") == 1 and f"--out '{blocker / 'results'}' cannot be written" in captured.err
    assert not (blocker.parent / "index.html").exists()


def test_bad_input_from_the_command_line_has_no_traceback():
    completed = run_module("train", "--layers", "5,,2")
    assert completed.returncode == 2
    assert completed.stderr.startswith("dnnimprove train: error: argument --layers") and "Traceback" not in completed.stderr


def test_gradcheck_with_dropout_checks_with_frozen_masks(capsys):
    assert cli.main(["gradcheck", "--dataset", "moons", "--layers", "5,2", "--dropout", "0.8", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and "dropout keep_prob 0.8" in report["network"]


def test_search_prints_the_ranked_trials_and_writes_the_csv_and_the_lr_scatter(tmp_path, capsys):
    import csv

    out = tmp_path / "search"
    status = cli.main(["search", "--dataset", "digits", "--trials", "6", "--rounds", "2", "--epochs", "3",
                       "--n-jobs", "1", "--seed", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0
    assert printed.splitlines()[0].split()[:5] == ["rank", "dev_score", "train_score", "batch_size", "beta1"]
    assert "6 trials in" in printed and "test accuracy" in printed
    with (out / "trials.csv").open() as trials:
        rows = list(csv.DictReader(trials))
    assert [row["rank"] for row in rows] == ["1", "2", "3", "4", "5", "6"]
    assert sorted(row["round"] for row in rows) == ["1", "1", "1", "2", "2", "2"]
    scores = [float(row["dev_score"]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert (out / "dev_vs_lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- convert ----------------------------------------------------------------------------------------------


def test_convert_momentum_to_pytorch_prints_values_snippet_and_exactness(capsys):
    assert cli.main(["convert", "momentum", "--beta", "0.9", "--lr", "0.01", "--to", "pytorch"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "momentum: ours -> pytorch (exact)"
    assert lines[1].split() == ["lr=0.001", "momentum=0.9", "nesterov=False"]
    assert lines[2] == "  torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, nesterov=False)"


def test_convert_from_a_library_prints_ours_and_the_caveat(capsys):
    assert cli.main(["convert", "adam", "--from", "keras", "--learning-rate", "0.01", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["values"] == {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}
    assert result["exact"] is False and "epsilon hat" in result["caveat"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["convert", "momentum", "--beta", "1.5", "--to", "pytorch"], "--beta must be in [0, 1); got 1.5"),
        (["convert", "momentum", "--alpha", "0.9", "--to", "pytorch"], "valid parameters: 'beta', 'lr', 'nesterov'"),
        (["convert", "dropout", "--keep-prob", "0.8", "--to", "sklearn"], "scikit-learn's MLP has no dropout"),
        (["convert", "momentum", "--beta", "abc", "--to", "pytorch"], "expected a number, true or false; got 'abc'"),
        (["convert", "momentum", "--lr", "inf", "--to", "pytorch"], "expected a finite number (a number, true or false); got 'inf'"),
        (["convert", "momentm", "--to", "pytorch"], "invalid choice: 'momentm'"),
        (["convert", "momentum", "--beta", "0.9"], "one of the arguments --to --from is required"),
        (["convert", "weight_layout", "--to", "pytorch"], "weight_layout in ours terms needs --fan-in"),
        (["convert", "l2", "--lambd", "0.1", "--to", "pytorch"], "l2 in ours terms needs --batch-size"),
        (["convert", "l2", "--lambd", "0.1", "--batch-size", "0", "--to", "pytorch"],
         "--batch-size must be an integer in [1, inf); got 0"),
    ],
)
def test_convert_bad_input_exits_2_with_one_line(argv, message, capsys):
    try:
        status = cli.main(argv)
    except SystemExit as stop:  # argparse's own errors (unknown choice, missing --to/--from, a bad number)
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and message in err
    assert err.startswith("dnnimprove convert: error: ")


def test_study_json_prints_every_results_json(tmp_path, capsys):
    status = cli.main(["study", "gradient_checking", "softmax", "--quick", "--seeds", "1", "--json",
                       "--out", str(tmp_path), "--no-progress"])
    assert status == 0
    printed = json.loads(capsys.readouterr().out)
    assert [summary["study"] for summary in printed] == ["gradient_checking", "softmax"]
    assert printed[1] == json.loads((tmp_path / "softmax" / "results.json").read_text())


def test_a_closed_pipe_ends_quietly_without_a_traceback():
    # `dnnimprove study --list | head -0`: the reader is gone before the command writes (it is still importing).
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-m", "dnnimprove", "study", "--list"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141
    assert stderr == ""


def run_on_a_terminal(*argv: str) -> str:
    """What ``python -m dnnimprove ARGV`` writes to a 120-column pseudo-terminal (stdout and stderr)."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), "MPLBACKEND": "Agg"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of 40 rows and 120 columns, then the command
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execve(sys.executable, [sys.executable, "-m", "dnnimprove", *argv], env)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    return output.decode(errors="replace")


TRAIN_ARGS = ("train", "--dataset", "moons", "--layers", "5,2", "--epochs", "400", "--batch-size", "64")


def test_train_shows_a_progress_bar_with_the_cost_and_the_time_left_on_a_terminal():
    screen = run_on_a_terminal(*TRAIN_ARGS)
    frames = [frame for frame in screen.split("\r") if frame.startswith("training:")]
    assert frames, screen[-500:]
    assert any("/400 [" in frame and "<" in frame and "cost=" in frame for frame in frames)  # position, ETA, cost
    assert len(frames) < 100  # redrawn at most every 0.1 s, not at every one of the 400 epochs
    assert "final cost" in screen  # the results table follows


def test_train_shows_no_progress_bar_off_a_terminal_or_when_asked():
    assert "training:" not in run_on_a_terminal(*TRAIN_ARGS, "--no-progress")
    completed = run_module(*TRAIN_ARGS)
    assert completed.returncode == 0 and "training:" not in completed.stderr


# -- checkpoints_and_ctrl-c ------------------------------------------------------------------------
# The CLI's side of reliability: checkpoints, Ctrl-C with the command that resumes, divergence as one line.

TRAIN = ["train", "--dataset", "moons", "--n-samples", "120", "--layers", "5,2", "--batch-size", "32",
         "--optimizer", "adam", "--lr", "0.01", "--keep-prob", "0.8", "--batch-norm", "--epochs", "6", "--json"]


def results(capsys) -> dict:
    summary = json.loads(capsys.readouterr().out)
    summary.pop("seconds")
    return summary


def test_ctrl_c_prints_the_checkpoint_and_the_command_that_resumes_it_bit_identically(tmp_path, capsys, monkeypatch):
    assert main(TRAIN) == 0
    uninterrupted = results(capsys)

    checkpoint_epoch_end = dn.callbacks.Checkpoint.on_epoch_end

    def ctrl_c_at_epoch_3(self, run):
        if run.epoch == 3:
            raise KeyboardInterrupt
        checkpoint_epoch_end(self, run)

    path = tmp_path / "run.npz"
    with monkeypatch.context() as patch:
        patch.setattr(dn.callbacks.Checkpoint, "on_epoch_end", ctrl_c_at_epoch_3)
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


def test_train_builds_the_run_through_the_factory_and_no_study(monkeypatch, capsys):
    from dnnimprove.studies import recipe

    def no_study(self):
        raise AssertionError("dnnimprove train built a Study")

    monkeypatch.setattr(recipe.Study, "__post_init__", no_study)
    assert main(["train", "--dataset", "moons", "--n-samples", "60", "--layers", "3", "--epochs", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == 2
