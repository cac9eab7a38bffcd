"""``dnnimprove train``: one network on a built-in dataset or a data file, with checkpoints and resuming."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from .options import (PROGRAM, UsageError, _add_data_options, _add_model_options, _data_spec, _loss_for, batch_size,
                      fraction, nonnegative_float, nonnegative_int, positive_float, positive_int, prepare_out,
                      probability, seed_value)


def _add_train(subparsers: Any) -> None:
    from ..optimizers import OPTIMIZERS
    from ..schedules import SCHEDULES

    parser = subparsers.add_parser(
        "train", help="train one network and print its results",
        description="Train one network on a dataset and print train/test accuracy, final cost and time.",
    )
    _add_data_options(parser)
    _add_model_options(parser)
    group = parser.add_argument_group("optimization")
    group.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS), help="optimizer (default: adam)")
    group.add_argument("--lr", type=positive_float, default=0.001, help="learning rate, lr0 with a schedule")
    group.add_argument("--beta", type=fraction, help="momentum / RMSprop beta")
    group.add_argument("--beta1", type=fraction, help="Adam beta1")
    group.add_argument("--beta2", type=fraction, help="Adam beta2")
    group.add_argument("--batch-size", type=batch_size, default=None, help="mini-batch size or 'full' (default)")
    group.add_argument("--epochs", type=nonnegative_int, default=1000, help="epochs (default: 1000)")
    schedules = sorted(set(SCHEDULES) - {"constant", "shifted"})
    group.add_argument("--schedule", choices=schedules, help="learning-rate decay (default: none)")
    group.add_argument("--decay-rate", type=nonnegative_float, default=1.0, help="decay rate (default: 1)")
    group.add_argument("--time-interval", type=positive_int, default=1000, help="fixed-interval decay period")
    group.add_argument("--keep-prob", type=probability, help="inverted dropout after every hidden activation")
    group.add_argument("--early-stopping", type=positive_int, metavar="PATIENCE", help="stop when dev cost stalls")
    group.add_argument("--dev-fraction", type=fraction, default=0.0, help="split off a dev set (default: 0)")
    group.add_argument("--engine", choices=("auto", "numpy", "compiled"), default="auto",
                       help="auto (default: compiled where numba and the network allow, else numpy), numpy "
                       "(each block's NumPy code) or compiled (whole epochs in one numba call; the 'fast' extra)")
    parser.add_argument("--seed", type=seed_value, help="model seed (course-exact: the init seed, default 3)")
    parser.add_argument("--course-exact", action="store_true", help="draw from the course's legacy random stream")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (shown with the cost and the time left when stderr is a terminal)")
    parser.add_argument("--out", help="a folder for results.json, figures and model.npz; or a path ending in .npz: "
                        "the model file alone (it carries the preprocessing of --data, for dnnimprove predict)")
    group = parser.add_argument_group("checkpoints")
    group.add_argument("--checkpoint", metavar="PATH", help="save a checkpoint here every --checkpoint-every epochs, "
                       "after the last and on Ctrl-C (default: OUT/checkpoint.npz with --out)")
    group.add_argument("--checkpoint-every", type=positive_int, default=100, metavar="N", help="default: 100")
    group.add_argument("--resume", metavar="PATH", help="continue the run saved in this checkpoint (same options)")
    group.add_argument("--overwrite", action="store_true",
                       help="replace a --checkpoint file that is not a dnnimprove checkpoint (refused by default)")
    parser.set_defaults(handler=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    """Build the network, optimizer and schedule with :mod:`dnnimprove.factory`, ``fit`` them, report the run."""
    import time

    from ..factory import OPTIMIZER_SETTINGS, build_layers, build_optimizer, build_schedule
    from ..model import Sequential
    from ..random import CourseRandom
    from ..studies.recipe import check_settings
    from ..studies.runner import evaluate_run, seed_label
    from ..studies.single import TrainResult
    from ..threads import blas_threads
    from ..training import TrainingDiverged

    for key in ("beta", "beta1", "beta2"):  # the factory ignores them (as in a search space); on the CLI a mistake
        if getattr(args, key) is not None and key not in OPTIMIZER_SETTINGS[args.optimizer]:
            raise UsageError(f"--{key} does not apply to --optimizer {args.optimizer}")
    if args.early_stopping is not None and not args.dev_fraction:
        raise UsageError("--early-stopping needs a dev set: give --dev-fraction (e.g. 0.2)")
    if args.resume is not None and not Path(args.resume).is_file():
        raise UsageError(f"--resume {args.resume!r}: no such checkpoint file")
    out, model_path = _train_outputs(args.out)
    spec = _data_spec(args, dev=args.dev_fraction)
    started = time.perf_counter()
    settings = check_settings({key: value for key, value in _train_settings(args).items() if value is not None})
    data = spec.load()
    loss = _loss_for(data)
    n_outputs = 1 if loss in ("binary_crossentropy", "mse") else data.n_classes
    seed = 0 if args.seed is None else args.seed
    if args.course_exact:  # the course's legacy stream (init seed 3, shuffle seed 10), schedules one epoch late
        seed = CourseRandom(3 if args.seed is None else args.seed, 10)
    model = Sequential(build_layers(args.layers, n_outputs, settings), loss=loss, seed=seed)
    diverged = None
    try:
        with blas_threads(1):  # small networks: one thread, and figures that do not depend on the machine's load
            model.fit(data.X_train, data.y_train, epochs=args.epochs, batch_size=args.batch_size,
                      optimizer=build_optimizer(settings), schedule=build_schedule(settings, args.epochs, args.course_exact),
                      l2=args.l2, validation_data=None if args.early_stopping is None else (data.X_dev, data.y_dev),
                      callbacks=_train_callbacks(args, out), record_every=max(1, math.ceil(args.epochs / 100)),
                      engine=args.engine)
    except TrainingDiverged as error:  # reported below in one line, with status 1, after the results
        diverged = error
    run = evaluate_run(model, data, args.epochs, diverged)
    run.seed = seed_label(seed)
    result = TrainResult(
        title=f"train: {args.dataset}, hidden {','.join(map(str, args.layers))}, {args.optimizer}",
        mode="course-exact" if args.course_exact else "robust", dataset=spec.as_dict(), data=data,
        hidden=tuple(args.layers), loss=loss, settings=settings, run=run, seconds=time.perf_counter() - started,
    )
    _report_train(args, result, out)
    if diverged is not None:
        print(f"{PROGRAM} train: {run.diverged}", file=sys.stderr)
        return 1
    if model_path is not None:
        from ..persistence import save

        model.preprocessing_ = data.preprocessing  # from here on it predicts on raw rows
        save(model, model_path)
        if not args.json:
            print(f"model: {model_path}")
    return 0


def _train_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings under the factory's (and the studies') names."""
    return {
        "init": args.init, "activation": args.activation, "optimizer": args.optimizer, "lr": args.lr,
        "beta": args.beta, "beta1": args.beta1, "beta2": args.beta2, "batch_size": args.batch_size,
        "schedule": args.schedule, "decay_rate": args.decay_rate, "time_interval": args.time_interval,
        "l2": args.l2, "l1": args.l1, "keep_prob": args.keep_prob, "batch_norm": args.batch_norm,
        "early_stopping": args.early_stopping,
    }


def _train_callbacks(args: argparse.Namespace, out: Path | None) -> list[Any]:
    """Early stopping on the dev set, the checkpoint (``--checkpoint``, ``--resume``, or OUT's), the progress bar."""
    from ..callbacks import Checkpoint, EarlyStopping, ProgressBar

    callbacks: list[Any] = []
    if args.early_stopping is not None:
        callbacks.append(EarlyStopping(patience=args.early_stopping, restore_best=True))
    checkpoint = args.checkpoint or (str(out / "checkpoint.npz") if out is not None else None)
    if checkpoint is not None or args.resume is not None:
        callbacks.append(Checkpoint(args.resume if checkpoint is None else checkpoint, every=args.checkpoint_every,
                                    resume=args.resume or False, overwrite=args.overwrite))
    if not args.no_progress and sys.stderr.isatty():
        callbacks.append(ProgressBar(leave=False, file=sys.stderr))
    return callbacks


def _report_train(args: argparse.Namespace, result: Any, out: Path | None) -> None:
    """Print the run's table (or its JSON) and write OUT/train/ (results.json and figures) with ``--out``."""
    from .. import report

    summary = result.to_json()
    if out is not None:
        report.write_study(result, out)
    if args.json:
        run = summary["runs"][0]
        fields = ("train_accuracy", "dev_accuracy", "test_accuracy", "final_cost", "epochs", "seconds")
        print(json.dumps({"mode": result.mode, "dataset": summary["dataset"], "hidden": list(args.layers),
                          "settings": run["settings"], **{key: run[key] for key in fields}}, indent=2))
    else:
        print(report.text_table(summary))
        if result.data.task == "regression":
            print(_regression_line(result.run.model, result.data))


def _train_outputs(path: str | None) -> tuple[Path | None, Path | None]:
    """``(results folder, model file)`` of ``train --out``: a ``.npz`` path is the model file alone."""
    if path is None:
        return None, None
    if path.lower().endswith(".npz"):
        if os.path.isdir(path):
            raise UsageError(f"--out {path!r} is a folder; give a file name ending in .npz or a folder without it")
        prepare_out(os.path.dirname(os.path.abspath(path)))
        return None, Path(path)
    out = prepare_out(path)
    return out, out / "model.npz"


def _regression_line(model, data) -> str:
    """Mean squared error and R² on each split, in the target's own units."""
    from sklearn.metrics import mean_squared_error, r2_score

    decode = data.preprocessing.decode
    parts = []
    for name, X, y in (("train", data.X_train, data.y_train), ("dev", data.X_dev, data.y_dev),
                       ("test", data.X_test, data.y_test)):
        if X is not None:
            truth, predicted = decode(y), decode(model.loss.predict(model.forward(X)))
            parts.append(f"{name} MSE {mean_squared_error(truth, predicted):.4g}, R2 {r2_score(truth, predicted):.4f}")
    return "regression: " + "; ".join(parts)
