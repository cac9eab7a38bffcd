"""Checkpoints: save a training run at epoch boundaries and resume it bit for bit.

``fit(..., callbacks=[Checkpoint("run.npz", every=N)])`` writes, every ``N`` epochs and after the last,
one model file (:mod:`dnnimprove.persistence`) whose header gains a ``checkpoint`` section and whose
archive gains the optimizer's arrays:

===========================  ========================================================================
what                         where
===========================  ========================================================================
parameters                   ``params`` (the flat vector)
batch-norm running stats     ``state.<layer>.<name>`` (``model.state_arrays()``)
optimizer state              ``optimizer.v``, ``optimizer.s``, ``optimizer.decay_mask`` (AdamW);
                             ``t``, the optimizer's name and settings in the header
schedule position            the epoch (schedules are functions of the epoch, or of ``t``)
random state                 ``model.random.get_state()`` (the Generator's bit-generator state, or
                             NumPy's legacy state for ``CourseRandom``)
epoch and history            epochs completed; the ``History`` recorded so far: its lists as arrays
                             ``history.<name>`` (their lengths in the header), the rest in the header
settings and data            batch size, L2, shuffling, recording, schedule settings, and a CRC-32
                             of the training (and dev) arrays, checked on resume
===========================  ========================================================================

``fit(..., callbacks=[Checkpoint("run.npz", resume=True)])`` restores all of it into the model (at the
start of training, before the loop reads its position) and continues from the next epoch,
so a run interrupted at any epoch and resumed ends bit-identical to the run never interrupted. The
state of user callbacks (e.g. an early-stopping counter) is not saved.

The run's state at the last completed epoch is also kept in memory (a copy of the parameter-sized
arrays per epoch): on Ctrl-C (``KeyboardInterrupt``) mid-epoch, the callback
writes that state to the checkpoint, puts the model back to it (parameters, optimizer state, random
state and history agree with the file) and raises :class:`~dnnimprove.training.TrainingInterrupted`,
a ``KeyboardInterrupt`` that names the file and how to resume.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import zlib
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ._validation import Boolean, Constraint, Integer, IsInstance, validate_params
from .persistence import Archive, _Expect, header_kind, model_header, read_archive, write_archive
from .safefiles import PathLock, check_target
from .training import Callback, History, TrainingInterrupted, TrainingRun

__all__ = ["Checkpoint", "Boundary", "capture", "apply"]

_HISTORY_LISTS = [f.name for f in dataclasses.fields(History) if f.default_factory is list]
_OPTIMIZER_ARRAYS = ("v", "s", "decay_mask")


@dataclass
class Boundary:
    """The run's state at the end of a completed epoch (``epoch`` epochs done)."""

    epoch: int
    params: np.ndarray
    state_arrays: dict[str, np.ndarray]
    t: int
    optimizer: dict[str, np.ndarray | None]
    random: dict
    history: dict[str, Any]


def _history_dtype(key: str) -> type:
    """The array type of history list ``key`` in a checkpoint: the epoch numbers are integers."""
    return np.int64 if key == "epoch" else np.float64


def _history_values(history: History) -> dict[str, Any]:
    return {key: (list(value) if isinstance(value, list) else value) for key, value in vars(history).items()}


def capture(run: TrainingRun, epoch: int) -> Boundary:
    """Copy what a resume needs. History lists are kept as lengths (they only grow)."""
    model, state = run.model, run.state
    lengths = {key: len(getattr(run.history, key)) for key in _HISTORY_LISTS}
    scalars = {key: value for key, value in vars(run.history).items() if key not in lengths}
    return Boundary(
        epoch=epoch,
        params=model.params.copy(),
        state_arrays={key: value.copy() for key, value in model.state_arrays().items()},
        t=state.t,
        optimizer={key: None if getattr(state, key) is None else getattr(state, key).copy() for key in _OPTIMIZER_ARRAYS},
        random=model.random.get_state(),
        history={**lengths, **scalars},
    )


def apply(run: TrainingRun, boundary: Boundary) -> None:
    """Put the model, optimizer state, random source and history back to ``boundary`` (all checked)."""
    model, state, history = run.model, run.state, run.history
    np.copyto(model.params, boundary.params)
    for key, value in model.state_arrays().items():
        np.copyto(value, boundary.state_arrays[key])
    state.t = boundary.t
    for key in _OPTIMIZER_ARRAYS:
        saved = boundary.optimizer[key]
        if saved is None:
            continue
        if getattr(state, key) is None:
            setattr(state, key, saved.copy())
        else:
            np.copyto(getattr(state, key), saved)
    model.random.set_state(boundary.random)
    for key, value in boundary.history.items():
        if key in _HISTORY_LISTS:
            current = getattr(history, key)
            current[:] = current[:value] if isinstance(value, int) else value
        else:
            setattr(history, key, value)
    run.epoch = boundary.epoch


def _jsonable(value: Any) -> Any:
    """Random states as JSON: arrays (MT19937 keys, Philox counters) become lists."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _crc(*arrays: np.ndarray) -> int:
    crc = 0
    for array in arrays:
        crc = zlib.crc32(np.ascontiguousarray(array).view(np.uint8).reshape(-1), crc)
    return crc


def _describe(settings: dict, l2: float) -> dict:
    """The fit settings a resumed run must repeat, as JSON (a custom schedule is not compared)."""
    schedule = settings["schedule"]
    described = {
        "batch_size": settings["batch_size"],
        "l2": l2,
        "shuffle": bool(settings["shuffle"]),
        "record_every": settings["record_every"],
        "record_iterations": bool(settings["record_iterations"]),
        "schedule": None if schedule is None else (schedule.config() if hasattr(schedule, "config") else "custom"),
        "augment": settings["augment"] is not None,
    }
    return described


def _check_writable(path: str) -> None:
    """Fail at the start of ``fit``, not after its first epoch, when the checkpoint's folder cannot be written
    or the path is a device, FIFO, directory or broken link (:func:`dnnimprove.safefiles.check_target`)."""
    check_target(path, what="checkpoint")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".dnnimprove-write-test-"):
            pass
    except OSError as error:
        raise type(error)(error.errno, f"checkpoint {path!r} cannot be written ({error.strerror})") from None


class Checkpoint(Callback):
    """Save the run every ``every`` epochs and after the last one; optionally resume it first.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file, written atomically (a model file with a ``checkpoint`` section).
    every : int >= 1
        Write after every ``every``-th completed epoch, after the last epoch and when a callback stops
        training; on Ctrl-C the last completed epoch is written and :class:`TrainingInterrupted` raised.
    resume : bool, str or os.PathLike
        ``True``: at the start of training restore the run saved in ``path`` (parameters, optimizer state,
        batch-norm statistics, random state, epoch, history) and continue from there, ending bit-identical
        to the run never interrupted; a path: restore from that file instead (and write to ``path``).
        The model, data and ``fit`` settings must be the ones the checkpoint was written with; a
        difference is a ``ValueError`` naming it.
    overwrite : bool
        Replace an existing file at ``path`` that is not a dnnimprove checkpoint (refused by default);
        a device, FIFO or directory is never replaced. See :mod:`dnnimprove.safefiles`.

    Notes
    -----
    Put it last in ``callbacks`` when another callback's ``on_train_begin`` should see the restored run.
    The state of other callbacks (an early-stopping counter) is not saved. From the start of training to
    its end the checkpoint's lock is held, so a second process training on the same path gets
    :class:`~dnnimprove.safefiles.FileLockedError` at once instead of interleaving its writes.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "path": IsInstance((str, os.PathLike), "a file path"), "every": Integer(low=1), "resume": Boolean(),
        "overwrite": Boolean(),
    }
    """Each constructor argument's legal values (:func:`dnnimprove._validation.validate_params`); a ``resume``
    that is a path is taken as one, any other ``resume`` must be a bool."""

    def __init__(
        self, path: str | os.PathLike, every: int = 1, resume: bool | str | os.PathLike = False, overwrite: bool = False
    ) -> None:
        resume_file = resume if isinstance(resume, (str, os.PathLike)) else None
        checked = validate_params(self._parameter_constraints, path=path, every=every,
                                  **({} if resume_file is not None else {"resume": resume}), overwrite=overwrite)
        self.path = os.fspath(checked["path"])
        self.every: int = checked["every"]
        if resume_file is None:
            resume_file = self.path if checked["resume"] else None
        self.resume = None if resume_file is None else os.fspath(resume_file)
        self.overwrite: bool = checked["overwrite"]
        _check_writable(self.path)
        self.lock: PathLock | None = None  # held from on_train_begin to the end of training
        self.run: TrainingRun | None = None
        self.boundary: Boundary | None = None  # the last completed epoch, while training runs
        self.settings: dict[str, Any] = {}
        self.data: dict[str, int] = {}

    def on_train_begin(self, run: TrainingRun) -> None:
        """Check the run can be saved; when resuming, restore it (all checked before anything changes)."""
        if self.resume is not None and run.settings.get("optimizer_state_given"):
            raise ValueError("give Checkpoint(resume=...) or an optimizer state, not both (the checkpoint holds the "
                             "optimizer state)")
        model_header(run.model)  # fails now, not after the first epoch, for a model that cannot be saved
        self.run = run
        self.settings = _describe(run.settings, run.l2)
        validation = () if run.validation is None else run.validation
        self.data = {"m": int(run.X.shape[0]), "crc32": _crc(run.X, run.Y), "validation_crc32": _crc(*validation)}
        self.lock = PathLock(self.path).acquire()
        try:
            if self.resume is not None:
                apply(run, read_archive(self.resume, self._boundary_from_file))
            check_target(self.path, is_ours=lambda existing: header_kind(existing) == "checkpoint",
                         overwrite=self.overwrite, what="checkpoint")
        except BaseException:
            self._release()
            raise
        self.boundary = capture(run, run.epoch)

    # -- callback ----------------------------------------------------------------------------
    def on_epoch_end(self, run: TrainingRun) -> None:
        self.boundary = capture(run, run.epoch + 1)  # one assignment: a Ctrl-C never sees half of it
        done = run.epoch + 1
        if done % self.every == 0 or done == run.epochs or run.stop:
            self.write(self.boundary)

    def on_train_end(self, run: TrainingRun) -> None:
        self.boundary = None
        self._release()

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def on_interrupt(self, run: TrainingRun) -> None:
        """On Ctrl-C: write the last completed epoch, put the model back to it and raise TrainingInterrupted."""
        if self.boundary is None:  # interrupted before training began: nothing to save
            return
        try:
            self.write(self.boundary)
        finally:
            self._release()
        apply(self.run, self.boundary)
        raise TrainingInterrupted(self.path, self.boundary.epoch) from None

    # -- writing -----------------------------------------------------------------------------
    def write(self, boundary: Boundary) -> str:
        run = self.run
        history, history_arrays = {}, {}
        for key, value in boundary.history.items():
            if key in _HISTORY_LISTS:  # an array each (the header holds its length): a long run's header stays small
                values = getattr(run.history, key)[:value]
                history[key] = len(values)
                history_arrays[f"history.{key}"] = np.asarray(values, dtype=_history_dtype(key))
            else:
                history[key] = value
        header = model_header(run.model, kind="checkpoint")
        header["checkpoint"] = {
            "epoch": boundary.epoch,
            "epochs": run.epochs,
            "optimizer": {"name": run.optimizer.name, "config": run.optimizer.config(), "t": boundary.t},
            "random": {"source": type(run.model.random).__name__, "state": _jsonable(boundary.random)},
            "history": history,
            "settings": self.settings,
            "data": self.data,
        }
        arrays = {"params": boundary.params}
        arrays.update({f"state.{key}": value for key, value in boundary.state_arrays.items()})
        arrays.update({f"optimizer.{key}": value for key, value in boundary.optimizer.items() if value is not None})
        arrays.update(history_arrays)
        return write_archive(self.path, header, arrays, overwrite=self.overwrite)

    # -- reading -----------------------------------------------------------------------------
    def _boundary_from_file(self, archive: Archive, header: dict) -> Boundary:
        """Check a checkpoint against this run, all of it before anything is changed."""
        run, expect = self.run, _Expect(archive)
        if header.get("kind") != "checkpoint" or not isinstance(header.get("checkpoint"), dict):
            raise archive.error("is a model file, not a checkpoint (save one with callbacks=[Checkpoint(path)])")
        ours = model_header(run.model, kind="checkpoint")
        for key in ("model", "n_params", "parameters", "state"):
            if header.get(key) != ours[key]:
                raise archive.error(f"was written for another model: its {key} is {header.get(key)!r:.200}, this model's {ours[key]!r:.200}")
        section = header["checkpoint"]
        epoch = expect.integer("checkpoint.epoch", section.get("epoch"))
        if epoch > run.epochs:
            raise archive.error(f"has {epoch} completed epochs, more than the {run.epochs} epochs fit was asked for")
        optimizer = expect.kind("checkpoint.optimizer", section.get("optimizer"), dict)
        wanted = {"name": run.optimizer.name, "config": run.optimizer.config()}
        found = {"name": optimizer.get("name"), "config": optimizer.get("config")}
        if found != wanted:
            raise archive.error(f"was written with optimizer {found}; fit was given {wanted}")
        for key, value in self.settings.items():
            saved = expect.section(section, "settings").get(key)
            if saved != value:
                raise archive.error(f"was written with {key}={saved!r:.120}; fit was given {key}={value!r:.120}")
        if section.get("data") != self.data:
            raise archive.error("was written for other training data (the rows, their order or the dev set differ)")
        t = expect.integer("checkpoint.optimizer.t", optimizer.get("t"))
        arrays = {}
        for key in _OPTIMIZER_ARRAYS:
            mine = getattr(run.state, key)
            expected = mine is not None or (key == "decay_mask" and archive.has("optimizer.decay_mask"))
            if archive.has(f"optimizer.{key}") != expected:
                raise archive.error(f"optimizer array {key!r} is {'missing' if expected else 'unexpected'} for {run.optimizer.name}")
            arrays[key] = archive.array(f"optimizer.{key}", run.model.params.shape, run.model.dtype) if expected else None
        params = archive.array("params", run.model.params.shape, run.model.dtype)
        state_arrays = {
            key: archive.array(f"state.{key}", value.shape, value.dtype) for key, value in run.model.state_arrays().items()
        }
        history = self._history(archive, expect.section(section, "history"))
        random = expect.section(section, "random")
        if random.get("source") != type(run.model.random).__name__:
            raise archive.error(f"holds the state of a {random.get('source')!r:.80} random source; the model has {type(run.model.random).__name__}")
        self._check_random_state(archive, random.get("state"))
        return Boundary(epoch, params, state_arrays, t, arrays, random["state"], history)

    def _history(self, archive: Archive, saved: dict) -> dict[str, Any]:
        expect = _Expect(archive)
        values = _history_values(History())
        if set(saved) != set(values):
            raise archive.error(f"checkpoint.history must have the fields {sorted(values)}; got {sorted(saved)!r:.200}")
        for key in _HISTORY_LISTS:
            if isinstance(saved[key], list):  # a checkpoint written when the lists were in the header
                items = saved[key]
                if not all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in items):
                    raise archive.error(f"checkpoint.history.{key} must hold numbers")
                continue
            length = expect.integer(f"checkpoint.history.{key}", saved[key])
            values = archive.array(f"history.{key}", (length,), _history_dtype(key), finite=False)
            saved[key] = values.tolist()
        for key in ("steps",):
            expect.integer(f"checkpoint.history.{key}", saved[key])
        if not isinstance(saved["seconds"], (int, float)) or isinstance(saved["seconds"], bool):
            raise archive.error("checkpoint.history.seconds must be a number")
        for key in ("stopped_epoch", "best_epoch"):
            if saved[key] is not None:
                expect.integer(f"checkpoint.history.{key}", saved[key])
        return saved

    def _check_random_state(self, archive: Archive, state: Any) -> None:
        """Try the state on the model's source and put the current one back: set_state is the check."""
        source = self.run.model.random
        current = source.get_state()
        try:
            source.set_state(state)
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as error:
            raise archive.error(f"holds a random state the model's source rejects ({type(error).__name__}: {error})") from None
        finally:
            source.set_state(current)
