"""Checkpoints: a run interrupted at any epoch and resumed ends bit-identical to the run never interrupted."""

from __future__ import annotations

import functools
import os
import shutil

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.callbacks import Checkpoint, IterationCost

X, Y = dn.datasets.moons(60, 0.2, seed=3)  # 4 mini-batches of 16 (the last of 12) per epoch
EPOCHS = 4

OPTIMIZERS = {
    "gd": lambda: dn.GradientDescent(0.1),
    "momentum": lambda: dn.Momentum(0.1, beta=0.9),
    "rmsprop": lambda: dn.RMSProp(0.01),
    "adam": lambda: dn.Adam(0.01),
    "adamw": lambda: dn.AdamW(0.01, weight_decay=0.1),
}
SCHEDULES = {"constant": None, "inverse_time": dn.InverseTimeDecay(lr0=0.05, decay_rate=1.0)}


ARCHITECTURES = {
    "plain": lambda: [dn.Dense(5), dn.ReLU(), dn.Dense(3), dn.Tanh(), dn.Dense(1)],
    "dropout+batchnorm": lambda: [dn.Dense(5, use_bias=False), dn.BatchNorm(momentum=0.8), dn.ReLU(), dn.Dropout(0.7),
                                  dn.Dense(3), dn.Tanh(), dn.Dense(1)],
}


def make_model(seed=0, architecture="plain") -> dn.Sequential:
    return dn.Sequential(ARCHITECTURES[architecture](), seed=seed)


def settings(optimizer: str, schedule: str, **extra) -> dict:
    return dict(epochs=EPOCHS, batch_size=16, optimizer=OPTIMIZERS[optimizer](), schedule=SCHEDULES[schedule],
                l2=0.1, validation_data=(X[:20], Y[:20]), **extra)


def outcome(model: dn.Sequential):
    """Everything a finished run leaves: parameters, optimizer state, history (wall time aside)."""
    state = model.optimizer_state_
    history = {key: value for key, value in model.history_.as_dict().items() if key != "seconds"}
    arrays = {key: getattr(state, key) for key in ("v", "s", "decay_mask")}
    return model.params.copy(), state.t, {k: None if v is None else v.copy() for k, v in arrays.items()}, history


def assert_identical(first, second):
    params1, t1, arrays1, history1 = first
    params2, t2, arrays2, history2 = second
    assert np.array_equal(params1, params2)  # bit for bit, not approximately
    assert t1 == t2 and history1 == history2
    for key in arrays1:
        assert (arrays1[key] is None and arrays2[key] is None) or np.array_equal(arrays1[key], arrays2[key]), key


@functools.lru_cache(maxsize=None)
def uninterrupted(optimizer: str, schedule: str, architecture: str = "plain"):
    model = make_model(architecture=architecture)
    model.fit(X, Y, **settings(optimizer, schedule))
    return outcome(model)


class InterruptAt(dn.Callback):
    """Raises ``error`` (Ctrl-C by default) in the middle of ``epoch``, after mini-batch ``batch``."""

    def __init__(self, epoch: int, batch: int = 1, error: type[BaseException] = KeyboardInterrupt) -> None:
        self.epoch, self.batch, self.error = epoch, batch, error

    def on_batch_end(self, run):
        if run.epoch == self.epoch and run.batch == self.batch:
            raise self.error()


def interrupted_and_resumed(make, config: dict, tmp_path, epoch: int, batch: int = 1, between=None):
    """Outcomes of ``make()`` trained with Ctrl-C at (epoch, batch) then resumed in a fresh model, and uninterrupted.

    ``config["callbacks"]`` is a function giving fresh callbacks for each of the three fits.
    """
    config = dict(config)
    more = config.pop("callbacks", list)
    reference = make()
    reference.fit(X, Y, callbacks=more(), **config)
    path = tmp_path / "run.npz"
    with pytest.raises(dn.TrainingInterrupted):
        make().fit(X, Y, callbacks=[*more(), InterruptAt(epoch, batch), Checkpoint(path)], **config)
    if between is not None:
        between()
    resumed = make()
    resumed.fit(X, Y, callbacks=[*more(), Checkpoint(path, resume=True)], **config)
    return outcome(resumed), outcome(reference)


@pytest.mark.parametrize("epoch", range(EPOCHS))
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_ctrl_c_at_any_epoch_then_resume_is_bit_identical(optimizer, schedule, architecture, epoch, tmp_path):
    path = tmp_path / "run.npz"
    with pytest.raises(dn.TrainingInterrupted):
        make_model(architecture=architecture).fit(X, Y, callbacks=[InterruptAt(epoch), Checkpoint(path)],
                                                  **settings(optimizer, schedule))
    resumed = make_model(architecture=architecture)  # a new process builds the same model and resumes
    resumed.fit(X, Y, callbacks=[Checkpoint(path, resume=True)], **settings(optimizer, schedule))
    assert_identical(outcome(resumed), uninterrupted(optimizer, schedule, architecture))
    if architecture != "plain":
        reference = make_model(architecture=architecture)
        reference.fit(X, Y, **settings(optimizer, schedule))
        for key, value in reference.state_arrays().items():  # batch-norm running statistics too
            assert np.array_equal(resumed.state_arrays()[key], value), key


def test_resume_matters_dropout_and_batchnorm_would_differ_without_it(tmp_path):
    """The check above can fail: restarting from the checkpoint's parameters alone does not reproduce the run."""
    path = tmp_path / "run.npz"
    with pytest.raises(dn.TrainingInterrupted):
        make_model(architecture="dropout+batchnorm").fit(X, Y, callbacks=[InterruptAt(2), Checkpoint(path)],
                                                         **settings("adam", "constant"))
    restarted = dn.load(path, seed=0)
    restarted.fit(X, Y, **{**settings("adam", "constant"), "epochs": EPOCHS - 2})
    assert not np.array_equal(restarted.params, uninterrupted("adam", "constant", "dropout+batchnorm")[0])


@pytest.mark.parametrize("optimizer", ["momentum", "adamw"])
def test_a_crash_resumes_from_the_last_checkpoint_on_disk(optimizer, tmp_path):
    path = tmp_path / "run.npz"
    with pytest.raises(RuntimeError):  # not Ctrl-C: nothing is written at the crash, the file is from epoch 2
        make_model().fit(X, Y, callbacks=[InterruptAt(3, error=RuntimeError), Checkpoint(path, every=2)],
                         **settings(optimizer, "inverse_time"))
    resumed = make_model()
    history = resumed.fit(X, Y, callbacks=[Checkpoint(path, resume=True)], **settings(optimizer, "inverse_time"))
    assert_identical(outcome(resumed), uninterrupted(optimizer, "inverse_time"))
    assert history.epoch == list(range(EPOCHS))


def test_ctrl_c_writes_the_last_completed_epoch_and_puts_the_model_back_to_it(tmp_path):
    path = tmp_path / "run.npz"
    model = make_model()
    with pytest.raises(KeyboardInterrupt) as caught:  # TrainingInterrupted is a KeyboardInterrupt
        model.fit(X, Y, callbacks=[InterruptAt(2), Checkpoint(path, every=100)], **settings("adam", "constant"))
    error = caught.value
    assert isinstance(error, dn.TrainingInterrupted) and error.epoch == 2 and error.path == str(path)
    assert str(error) == (f"training interrupted after 2 completed epoch(s); checkpoint written to {path}; "
                          f"resume with callbacks=[Checkpoint({str(path)!r}, resume=True)]")
    assert model.history_.epoch == [0, 1] and model.optimizer_state_.t == 2 * 4
    assert np.array_equal(dn.load(path).params, model.params)  # the model is the checkpoint
    model.fit(X, Y, callbacks=[Checkpoint(path, resume=True)], **settings("adam", "constant"))  # and resumes in place
    assert_identical(outcome(model), uninterrupted("adam", "constant"))


def test_ctrl_c_without_a_checkpoint_is_a_plain_keyboard_interrupt():
    with pytest.raises(KeyboardInterrupt) as caught:
        make_model().fit(X, Y, callbacks=[InterruptAt(1)], **settings("gd", "constant"))
    assert type(caught.value) is KeyboardInterrupt


@pytest.mark.parametrize(
    "extra",
    [
        {"record_every": 3, "callbacks": lambda: [IterationCost()]},
        {"schedule": dn.CosineDecay(lr0=0.05, total=10, lr_min=0.001, per_step=True)},
        {"validation_data": None},
        {"shuffle": False},
    ],
    ids=["recording", "per-step-schedule", "no-dev-set", "no-shuffle"],
)
def test_resume_is_bit_identical_with_recording_step_schedules_and_dev_splits(extra, tmp_path):
    config = {**settings("adam", "constant"), **extra}
    assert_identical(*interrupted_and_resumed(make_model, config, tmp_path, epoch=2, batch=2))


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937, np.random.Philox])
def test_the_generators_state_travels_through_the_checkpoint(bit_generator, tmp_path):
    def model():
        return make_model(seed=np.random.Generator(bit_generator(5)))

    def noisy(batch, source):  # draws from the run's generator every mini-batch
        return batch + 0.01 * source.normal(batch.shape, batch.dtype)

    config = {**settings("adam", "constant"), "augment": noisy}
    assert_identical(*interrupted_and_resumed(model, config, tmp_path, epoch=1))


@pytest.mark.parametrize("dropout_seed", [None, 1])
def test_course_random_resumes_bit_identically(dropout_seed, tmp_path):
    def model():
        return make_model(seed=dn.CourseRandom(init_seed=3, shuffle_seed=10, dropout_seed=dropout_seed),
                          architecture="dropout+batchnorm")

    def noisy(batch, source):  # CourseRandom draws from NumPy's legacy global stream
        return batch + 0.01 * source.uniform(batch.shape, batch.dtype)

    config = {**settings("momentum", "constant"), "augment": noisy}
    another_process = lambda: np.random.seed(12345)  # noqa: E731 - the global stream is elsewhere
    assert_identical(*interrupted_and_resumed(model, config, tmp_path, epoch=2, between=another_process))


def test_resuming_a_finished_run_trains_no_further(tmp_path):
    path = tmp_path / "run.npz"
    make_model().fit(X, Y, callbacks=[Checkpoint(path, every=3)], **settings("rmsprop", "constant"))
    resumed = make_model()
    resumed.fit(X, Y, callbacks=[Checkpoint(path, resume=True)], **settings("rmsprop", "constant"))
    assert_identical(outcome(resumed), uninterrupted("rmsprop", "constant"))


def test_checkpoints_are_written_every_n_epochs_and_after_the_last(tmp_path):
    path = tmp_path / "run.npz"
    seen = []

    class Watch(dn.Callback):
        def on_epoch_end(self, run):
            seen.append(dn.load(path).params.copy() if path.exists() else None)

    model = make_model()
    model.fit(X, Y, callbacks=[Watch(), Checkpoint(path, every=2)], **settings("gd", "constant"))
    # Watch runs before the checkpoint at each epoch end: it sees the file of epoch 2 from epochs 3 and 4 on.
    assert seen[0] is None and seen[1] is None and np.array_equal(seen[2], seen[3])
    assert np.array_equal(dn.load(path).params, model.params)
    assert os.listdir(tmp_path) == ["run.npz"]  # no temporary files left behind


def test_a_crash_while_writing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    make_model().fit(X, Y, callbacks=[Checkpoint(path)], **{**settings("adam", "constant"), "epochs": 2})
    before = path.read_bytes()
    real_savez = np.savez

    def crash_while_writing(stream, **arrays):
        real_savez(stream, **arrays)
        stream.truncate(100)
        raise KeyboardInterrupt  # Ctrl-C in the middle of the write

    monkeypatch.setattr(np, "savez", crash_while_writing)
    with pytest.raises(KeyboardInterrupt):
        make_model().fit(X, Y, callbacks=[Checkpoint(path)], **settings("adam", "constant"))
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["run.npz"]


def fitted_checkpoint(tmp_path):
    path = tmp_path / "run.npz"
    with pytest.raises(dn.TrainingInterrupted):
        make_model().fit(X, Y, callbacks=[InterruptAt(2), Checkpoint(path)], **settings("adam", "constant"))
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        ({"optimizer": dn.Adam(0.02)}, r"was written with optimizer .*'lr': 0.01.*; fit was given .*'lr': 0.02"),
        ({"optimizer": dn.Momentum(0.01)}, r"was written with optimizer \{'name': 'adam'"),
        ({"batch_size": 32}, r"was written with batch_size=16; fit was given batch_size=32"),
        ({"l2": 0.0}, r"was written with l2=0.1; fit was given l2=0.0"),
        ({"schedule": dn.InverseTimeDecay(0.05)}, r"was written with schedule=None"),
        ({"epochs": 1}, r"has 2 completed epochs, more than the 1 epochs fit was asked for"),
        ({"X": X[::-1].copy()}, r"was written for other training data"),
        ({"model": dn.Sequential([dn.Dense(4), dn.ReLU(), dn.Dense(1)], seed=0)}, r"was written for another model"),
        ({"optimizer": (dn.Adam(0.01), dn.Adam(0.01).init(np.zeros(34)))},
         r"give Checkpoint\(resume=...\) or an optimizer state, not both"),
    ],
)
def test_resume_refuses_a_checkpoint_from_another_run(change, message, tmp_path):
    path = fitted_checkpoint(tmp_path)
    config = {**settings("adam", "constant"), **change}
    model, data = config.pop("model", make_model()), config.pop("X", X)
    before = model.params.copy() if model.built else None
    with pytest.raises(ValueError, match=message):
        model.fit(data, Y, callbacks=[Checkpoint(path, resume=True)], **config)
    if before is not None:
        assert np.array_equal(model.params, before)  # nothing was restored from a refused checkpoint


def test_a_model_file_is_not_a_checkpoint(tmp_path):
    model = make_model()
    model.fit(X, Y, epochs=1)
    dn.save(model, tmp_path / "model.npz")
    with pytest.raises(ValueError, match="is a model file, not a checkpoint"):
        make_model().fit(X, Y, callbacks=[Checkpoint(tmp_path / "model.npz", resume=True)], epochs=2)


def test_a_damaged_checkpoint_is_refused_and_changes_nothing(tmp_path):
    path = fitted_checkpoint(tmp_path)
    damaged = tmp_path / "damaged.npz"
    shutil.copy(path, damaged)
    with open(damaged, "r+b") as stream:
        stream.truncate(os.path.getsize(damaged) // 2)
    model = make_model().build(2)
    before = model.params.copy()
    with pytest.raises(ValueError, match=r"damaged.npz: not a readable dnnimprove file"):
        model.fit(X, Y, callbacks=[Checkpoint(damaged, resume=True)], **settings("adam", "constant"))
    assert np.array_equal(model.params, before)


def test_a_checkpoint_folder_that_cannot_be_written_fails_before_training(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"checkpoint '.*missing/run.npz' cannot be written"):
        Checkpoint(tmp_path / "missing" / "run.npz")


def test_a_missing_resume_file_is_file_not_found(tmp_path):
    model = make_model()
    with pytest.raises(FileNotFoundError):
        model.fit(X, Y, callbacks=[Checkpoint(tmp_path / "nothing.npz", resume=True)], **settings("gd", "constant"))
    assert model.optimizer_state_.t == 0  # not a single step taken


@pytest.mark.parametrize("arguments, error, message", [
    ({"path": 3}, TypeError, r"path must be a file path; got 3"),
    ({"path": "run.npz", "every": 0}, ValueError, r"every must be an integer in \[1, inf\); got 0"),
    ({"path": "run.npz", "resume": 3}, TypeError, r"resume must be True or False; got 3"),
])
def test_bad_checkpoint_arguments_are_named(arguments, error, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message):
        Checkpoint(**arguments)
