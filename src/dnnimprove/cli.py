"""The ``dnnimprove`` command (the only module that parses arguments).

::

    dnnimprove study all                       # every classic study -> results/index.html
    dnnimprove study optimization --out results/ --seed 3 --course-exact
    dnnimprove study --list
    dnnimprove train --dataset moons --layers 5,2 --optimizer adam --lr 0.0007 --batch-size 64 --epochs 5000
    dnnimprove gradcheck --dataset moons --layers 5,2 --dropout 0.8
    dnnimprove search --dataset digits --trials 40 --rounds 2 --n-jobs 2 --out results/search
    dnnimprove search --dataset digits --trials 40 --scheduler tcp://127.0.0.1:8786
    dnnimprove search --trials 60 --storage sqlite:///search.db --study digits --resume --pruner halving
    dnnimprove convert momentum --beta 0.9 --lr 0.01 --to pytorch

Bad input (an unknown name, ``--layers`` that does not parse, a negative number, an ``--out`` that
cannot be written) prints one line on stderr and exits with status 2; a run that diverges prints the
``TrainingDiverged`` message as one line and exits with 1. ``train --checkpoint PATH`` (default
``OUT/checkpoint.npz`` with ``--out``) saves a checkpoint every ``--checkpoint-every`` epochs, after the
last and on Ctrl-C; Ctrl-C then prints where it is and the command that resumes it (``--resume PATH``)
and exits with 130.
Each subcommand is a pair ``_add_<name>(subparsers)`` / ``_run_<name>(args)``; add one the same way.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

__all__ = ["main", "build_parser", "UsageError"]

PROGRAM = "dnnimprove"


class UsageError(Exception):
    """Bad input found after parsing: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


# -- argument types: each raises ArgumentTypeError with the value in the message ------------------------
MAX_INT = 2**31 - 1
"""The largest integer any option takes (seeds, counts, epochs): nothing downstream can overflow."""
MAX_SEED = 2**32 - 1
"""Seeds are unsigned 32-bit integers (the course's legacy stream takes no more)."""
MAX_SEEDS = 1000
"""Seeds per variant in robust mode."""


def _shown(text: str, limit: int = 40) -> str:
    """``repr(text)``, cut to ``limit`` characters (a 5000-digit argument is not echoed whole)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def _number(text: str, kind: type, low: float | None, low_open: bool, what: str, high: float | None = None) -> Any:
    if kind is int and len(text.strip()) > 40:  # longer than any integer we accept: refused before int() reads it
        raise argparse.ArgumentTypeError(f"expected {what}; got {_shown(text)}")
    try:
        value = kind(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"expected {what}; got {_shown(text)}") from None
    if kind is float and (value != value or value in (float("inf"), float("-inf"))):
        raise argparse.ArgumentTypeError(f"expected a finite number ({what}); got {_shown(text)}")
    if low is not None and (value <= low if low_open else value < low):
        raise argparse.ArgumentTypeError(f"expected {what}; got {_shown(text)}")
    if high is None and kind is int:
        high, what = MAX_INT, f"{what}, at most {MAX_INT}"
    if high is not None and value > high:
        raise argparse.ArgumentTypeError(f"expected {what}; got {_shown(text)}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, 1, False, "an integer >= 1")


def nonnegative_int(text: str) -> int:
    return _number(text, int, 0, False, "an integer >= 0")


def seed_value(text: str) -> int:
    return _number(text, int, 0, False, f"an integer >= 0, at most {MAX_SEED}", high=MAX_SEED)


def seed_count(text: str) -> int:
    return _number(text, int, 1, False, f"an integer >= 1, at most {MAX_SEEDS}", high=MAX_SEEDS)


def n_jobs_value(text: str) -> int:
    """Parallel jobs, bounded by this machine: ``-cores..4 x cores`` (``-1``: every core; 0 is left to the search's own check)."""
    cores = os.cpu_count() or 1
    return _number(text, int, -cores, False, f"an integer in [-{cores}, {4 * cores}] (this machine has {cores} cores)",
                   high=4 * cores)


def positive_float(text: str) -> float:
    return _number(text, float, 0.0, True, "a number > 0")


def nonnegative_float(text: str) -> float:
    return _number(text, float, 0.0, False, "a number >= 0")


def fraction(text: str) -> float:
    value = _number(text, float, 0.0, False, "a fraction in [0, 1)")
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1); got {_shown(text)}")
    return value


def perturbation(text: str) -> float:
    """A gradient-check step: a number in ``(0, 1)`` (a larger one measures no derivative)."""
    value = _number(text, float, 0.0, True, "a number in (0, 1)")
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1); got {_shown(text)}")
    return value


def probability(text: str) -> float:
    value = _number(text, float, 0.0, True, "a probability in (0, 1]")
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a probability in (0, 1]; got {_shown(text)}")
    return value


def layer_widths(text: str) -> tuple[int, ...]:
    """``"5,2"`` -> ``(5, 2)``: hidden layer widths, comma-separated positive integers."""
    message = f"expected comma-separated positive integers such as 5,2 (each at most {MAX_INT}); got {_shown(text)}"
    try:
        widths = tuple(_number(part, int, 1, False, "") for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(message) from None
    if not widths:
        raise argparse.ArgumentTypeError(message)
    return widths


def batch_size(text: str) -> int | None:
    """A positive integer, or ``full`` for batch gradient descent."""
    if text == "full":
        return None
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected an integer in [1, {MAX_INT}] or 'full'; got {_shown(text)}") from None


def prepare_out(path: str | Path) -> Path:
    """Create ``path`` and prove it writable, or raise UsageError naming it."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as error:
        raise UsageError(f"--out {str(path)!r} cannot be written: {error.strerror or error}") from None
    return out


# -- shared options -------------------------------------------------------------------------------------
def _add_data_options(parser: argparse.ArgumentParser) -> None:
    from .data import DATASETS

    group = parser.add_argument_group("data")
    group.add_argument("--dataset", choices=sorted(DATASETS), help="built-in dataset (default: moons)")
    group.add_argument("--n-samples", type=positive_int, help="examples to generate (generated datasets)")
    group.add_argument("--noise", type=nonnegative_float, help="noise of the generator (generated datasets)")
    group.add_argument("--data-seed", type=seed_value, help="seed of the generator (default: the course's)")
    group.add_argument("--test-fraction", type=fraction, default=0.0, help="split off a test set (default: 0)")
    group.add_argument("--standardize", action="store_true", help="standardize inputs (fitted on train)")
    _add_file_options(parser)


def _add_file_options(parser: argparse.ArgumentParser) -> None:
    from .preprocessing import IMPUTE, TASKS

    group = parser.add_argument_group("your data (instead of --dataset)")
    group.add_argument("--data", metavar="FILE", help="a .csv/.tsv, .parquet, .feather or .npz (X, y) file; numeric "
                       "columns are standardized and text columns one-hot encoded, fitted on the training rows")
    group.add_argument("--target", metavar="COLUMN", help="the column to predict (default for .npz: y)")
    group.add_argument("--task", choices=TASKS, default="auto", help="classification, regression (MSE) or auto "
                       "(text or at most 20 integer values: classification)")
    group.add_argument("--impute", choices=IMPUTE, help="fill missing values (text: most frequent); default: refuse them")
    group.add_argument("--drop", type=column_names, default=(), metavar="COLS", help="comma-separated columns to leave out")
    group.add_argument("--no-standardize", action="store_true",
                       help="leave the numeric columns of --data as they are (default: standardized)")


def column_names(text: str) -> tuple[str, ...]:
    """``"id,name"`` -> ``("id", "name")``."""
    names = tuple(part.strip() for part in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated column names; got {text!r}")
    return names


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    from .initializers import INITIALIZERS
    from .layers import ACTIVATIONS

    group = parser.add_argument_group("model")
    group.add_argument("--layers", type=layer_widths, default=(5, 2), help="hidden widths, e.g. 5,2 (default)")
    group.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS), help="hidden activation")
    group.add_argument("--init", default="he", choices=sorted(INITIALIZERS), help="weight initializer (default: he)")
    group.add_argument("--l2", type=nonnegative_float, default=0.0, help="L2 strength lambd (default: 0)")
    group.add_argument("--l1", type=nonnegative_float, default=0.0, help="L1 strength of every Dense layer (default: 0)")
    group.add_argument("--batch-norm", action="store_true", help="batch norm before every hidden activation")


def _data_spec(args: argparse.Namespace, dev: float = 0.0):
    from .studies import DataSpec

    if args.data is not None:
        return _table_spec(args, dev)
    if args.target is not None or args.impute is not None or args.drop or args.task != "auto" or args.no_standardize:
        raise UsageError("--target, --task, --impute, --drop and --no-standardize apply to --data FILE")
    if args.dataset is None:
        args.dataset = getattr(args, "default_dataset", "moons")
    settings = {key: value for key, value in (("n_samples", args.n_samples), ("noise", args.noise),
                                              ("seed", args.data_seed)) if value is not None}
    if settings and args.dataset in ("digits", "breast_cancer"):
        given = ", ".join(f"--{key.replace('_', '-')}" for key in settings)
        raise UsageError(f"{given} applies to generated datasets only; {args.dataset!r} is a fixed dataset")
    return DataSpec(args.dataset, settings, test=args.test_fraction, dev=dev, standardize=args.standardize)


def _table_spec(args: argparse.Namespace, dev: float):
    from .studies.table_data import TableSpec

    given = [flag for flag, value in (("--dataset", args.dataset), ("--n-samples", args.n_samples),
                                      ("--noise", args.noise), ("--data-seed", args.data_seed)) if value is not None]
    if given:
        raise UsageError(f"{', '.join(given)} describe built-in datasets; give them or --data, not both")
    target = args.target
    if target is None:
        if not args.data.lower().endswith(".npz"):
            raise UsageError(f"--data {args.data!r} needs --target COLUMN (the column to predict)")
        target = "y"
    args.dataset = os.path.basename(args.data)
    return TableSpec(args.data, target, task=args.task, impute=args.impute, drop=tuple(args.drop),
                     test=args.test_fraction, dev=dev, standardize=not args.no_standardize)


def _loss_for(data) -> str:
    if data.task == "regression":
        return "mse"
    return "binary_crossentropy" if data.n_classes <= 2 else "categorical_crossentropy"


# -- study -----------------------------------------------------------------------------------------------
def _add_study(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "study", help="run classic studies and write an HTML report",
        description="Run the classic studies (or some of them), print a table per study and write "
        "OUT/index.html with tables, figures and a reading, and OUT/<study>/results.json.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="'all' (default) or study names (see --list)")
    parser.add_argument("--list", action="store_true", help="list the studies and exit")
    parser.add_argument("--out", default="results", help="output folder (default: results)")
    parser.add_argument("--seed", type=seed_value, default=0, help="first seed of robust mode (default: 0)")
    parser.add_argument("--seeds", type=seed_count, default=3, help="seeds per variant in robust mode (default: 3)")
    parser.add_argument("--course-exact", action="store_true", help="the course's random stream and published figures")
    parser.add_argument("--quick", action="store_true", help="a few epochs per run (a smoke test, not results)")
    parser.add_argument("--epochs", type=nonnegative_int, help="override every study's epochs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_run_study)


def _run_study(args: argparse.Namespace) -> int:
    from . import report
    from .studies import STUDIES, run_study
    from .studies.runner import count_runs

    if args.list:
        width = max(map(len, STUDIES))
        for name, study in STUDIES.items():
            print(f"{name:<{width}}  {study.title}")
        return 0
    names = args.names or ["all"]
    if "all" in names:
        names = list(STUDIES)
    for name in names:
        if name not in STUDIES:
            raise UsageError(f"unknown study {name!r}; valid values: 'all', {', '.join(map(repr, STUDIES))}")
    if args.quick and args.epochs is not None:
        raise UsageError("give --quick or --epochs, not both")
    out = prepare_out(args.out)
    mode = "course-exact" if args.course_exact else "robust"
    seeds = list(range(args.seed, args.seed + args.seeds))
    studies = [STUDIES[name] for name in names]
    from tqdm.auto import tqdm

    total = sum(count_runs(study, mode, len(seeds)) for study in studies)
    summaries = []
    with tqdm(total=total, unit="run", disable=True if args.no_progress else None, file=sys.stderr) as bar:
        for study in studies:
            bar.set_description(study.name)
            epochs = study.quick_epochs if args.quick else args.epochs
            result = run_study(study, mode=mode, seeds=seeds, epochs=epochs, progress=lambda label: bar.update())
            result.smoke_test = bool(args.quick)
            path = report.write_study(result, out)
            summaries.append(json.loads(path.read_text()))
            if not args.json:
                bar.write(report.text_table(result) + "\n")
    index = report.write_index(out, order=list(STUDIES))
    if args.json:
        print(json.dumps(summaries, indent=2))
    else:
        print(f"report: {index}")
    return 0


# -- train -----------------------------------------------------------------------------------------------
def _add_train(subparsers: Any) -> None:
    from .optimizers import OPTIMIZERS
    from .schedules import SCHEDULES

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

    from .factory import OPTIMIZER_SETTINGS, build_layers, build_optimizer, build_schedule
    from .model import Sequential
    from .random import CourseRandom
    from .studies.recipe import check_settings
    from .studies.runner import evaluate_run, seed_label
    from .studies.single import TrainResult
    from .threads import blas_threads
    from .training import TrainingDiverged

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
        from .persistence import save

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
    from .callbacks import Checkpoint, EarlyStopping, ProgressBar

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
    from . import report

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


# -- gradcheck --------------------------------------------------------------------------------------------
def _add_gradcheck(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gradcheck", help="gradient-check a network on a few examples",
        description="Train a network briefly, then compare back-propagation with two-sided differences "
        "(float64) per tensor. Exit status 0 when every tensor is correct, 1 otherwise.",
    )
    _add_data_options(parser)
    _add_model_options(parser)
    parser.add_argument("--dropout", type=probability, metavar="KEEP_PROB", help="inverted dropout, checked on")
    parser.add_argument("--examples", type=positive_int, default=20, help="examples to check on (default: 20)")
    parser.add_argument("--epochs", type=nonnegative_int, default=20,
                        help="epochs of Adam before checking, away from the zero-bias ReLU kink (default: 20)")
    parser.add_argument("--epsilon", type=perturbation, default=1e-7, help="perturbation in (0, 1) (default: 1e-7)")
    parser.add_argument("--seed", type=seed_value, default=0, help="model seed (default: 0)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=_run_gradcheck)


def _run_gradcheck(args: argparse.Namespace) -> int:
    from .gradcheck import check_gradients
    from .optimizers import Adam
    from .studies import build_model
    from .threads import blas_threads

    data = _data_spec(args).load()
    loss = _loss_for(data)
    settings = {"init": args.init, "activation": args.activation, "keep_prob": args.dropout,
                "batch_norm": args.batch_norm, "l1": args.l1}
    n_outputs = 1 if loss in ("binary_crossentropy", "mse") else data.n_classes
    model = build_model(args.layers, n_outputs, settings, loss, args.seed)
    with blas_threads(1):
        model.fit(data.X_train, data.y_train, epochs=args.epochs, optimizer=Adam(0.01), l2=args.l2,
                  batch_size=min(64, len(data.X_train)), record_every=max(args.epochs, 1))
    X, y = data.X_train[: args.examples], data.y_train[: args.examples]
    checked = check_gradients(model, X, y, epsilon=args.epsilon, l2=args.l2)
    network = f"{data.n_features}-{'-'.join(map(str, args.layers))}-{n_outputs} {args.activation}"
    extras = [f"dropout keep_prob {args.dropout:g} (masks frozen)" if args.dropout else "",
              "batch norm" if args.batch_norm else "", f"l2 {args.l2:g}" if args.l2 else "",
              f"l1 {args.l1:g}" if args.l1 else ""]
    described = ", ".join([network, *filter(None, extras)]) + f"; {len(X)} examples, float64"
    if args.json:
        print(json.dumps({"network": described, "difference": checked.difference, "verdict": checked.verdict,
                          "ok": checked.ok, "per_tensor": checked.per_tensor,
                          "wrong_tensors": checked.wrong_tensors}, indent=2))
    else:
        print(f"network: {described}")
        print(checked)
    return 0 if checked.ok else 1


# -- search -----------------------------------------------------------------------------------------------
def _add_search(subparsers: Any) -> None:
    from .optimizers import OPTIMIZERS

    parser = subparsers.add_parser(
        "search", help="random search of hyperparameters, coarse to fine, on this machine or a Dask cluster",
        description="Random search over the course's space (lr and l2 log-uniform, beta as 1 - 10**U, "
        "batch size a power of two, units and layers as integers) for a DNNClassifier (a DNNRegressor, scored "
        "by R2, for a regression target) behind a StandardScaler, narrowing around the best trials each round. "
        "Prints the ranked trials and writes OUT/trials.csv and OUT/dev_vs_lr.png.",
    )
    _add_data_options(parser)
    parser.set_defaults(default_dataset="digits", test_fraction=0.2)
    group = parser.add_argument_group("search")
    group.add_argument("--trials", type=positive_int, default=40, help="trials in all (default: 40)")
    group.add_argument("--rounds", type=positive_int, default=2, help="coarse-to-fine rounds (default: 2)")
    group.add_argument("--epochs", type=positive_int, default=20, help="epochs per trial (default: 20)")
    group.add_argument("--optimizer", default="adam", choices=[*sorted(OPTIMIZERS), "any"],
                       help="optimizer; 'any' searches it too, with beta only for momentum/RMSprop and beta1/beta2 "
                       "only for Adam (default: adam)")
    group.add_argument("--dev-fraction", type=fraction, default=0.2, help="dev set held out of train (default: 0.2)")
    group.add_argument("--seed", type=seed_value, default=0, help="search seed (default: 0)")
    group.add_argument("--sampler", default="random", choices=["random", "tpe"],
                       help="random (the course's, default) or tpe (Optuna's; --rounds 1)")
    group.add_argument("--pruner", default="none", choices=["none", "median", "halving", "halving-retrain"],
                       help="stop hopeless trials on their dev accuracy per epoch: median rule, or successive "
                       "halving continuing promoted trials from their checkpoints (halving-retrain: from scratch)")
    group.add_argument("--no-progress", action="store_true", help="no progress bar (shown on a terminal)")
    kept = parser.add_argument_group("where trials persist")
    kept.add_argument("--storage", metavar="URL", help="database URL (sqlite:///search.db, postgresql://...), "
                      "SQLite file or .jsonl file: every trial is recorded as it finishes")
    kept.add_argument("--study", metavar="NAME", help="study name in the storage (default: dnnimprove-search)")
    kept.add_argument("--resume", action="store_true", help="continue the stored study: run only the missing trials")
    where = parser.add_argument_group("where trials run")
    where.add_argument("--n-jobs", type=n_jobs_value, help="parallel trials on this machine (-1: every core)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    where.add_argument("--timeout", type=positive_float, default=10.0, help="seconds to reach the scheduler")
    parser.add_argument("--top", type=positive_int, default=10, help="rows of the table printed (default: 10)")
    parser.add_argument("--out", default="results/search", help="output folder (default: results/search)")
    parser.set_defaults(handler=_run_search)


def _run_search(args: argparse.Namespace) -> int:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import report
    from .estimator import DNNClassifier, DNNRegressor
    from .search import MedianPruner, SuccessiveHalving, coarse_to_fine, course_space

    out = prepare_out(args.out)
    data = _data_spec(args).load()
    regression = data.task == "regression"  # a DNNRegressor scored by R2 (targets standardized on train)
    estimator, metric = (DNNRegressor, "R2") if regression else (DNNClassifier, "accuracy")
    optimizer = "adam" if args.optimizer == "any" else args.optimizer
    pipeline = make_pipeline(StandardScaler(), estimator(epochs=args.epochs, optimizer=optimizer))
    pruner = {"none": None, "median": MedianPruner(), "halving": SuccessiveHalving(),
              "halving-retrain": SuccessiveHalving(continue_trials=False)}[args.pruner]
    try:
        result = coarse_to_fine(pipeline, course_space(args.optimizer, prefix=f"{estimator.__name__.lower()}__"), data.X_train,
                                data.y_train, n_trials=args.trials, rounds=args.rounds, dev_fraction=args.dev_fraction,
                                seed=args.seed, n_jobs=args.n_jobs, scheduler=args.scheduler, timeout=args.timeout,
                                storage=args.storage, study_name=args.study, resume=args.resume, pruner=pruner,
                                sampler=args.sampler, progress=sys.stderr.isatty() and not args.no_progress)
    except (ConnectionError, ImportError) as error:
        raise UsageError(str(error)) from None
    print(result.table(top=args.top))
    where = args.scheduler or f"n_jobs={args.n_jobs or 1}"
    print(f"{len(result.trials)} trials in {result.seconds:.1f} s ({where}); best dev {metric} {result.best_score:.4f}")
    if result.resumed:
        print(f"resumed study {result.study_name!r}: {result.resumed} trial(s) read back from {result.storage}")
    if pruner is not None:
        print(f"pruning: {result.epochs_trained} of {result.epochs_budget} epochs trained "
              f"({result.epochs_saved} saved)")
    if result.best_estimator is not None and data.X_test is not None:
        print(f"best configuration refitted on train: test {metric} "
              f"{result.best_estimator.score(data.X_test, data.y_test):.4f}")
    for path in report.write_search(result, out):
        print(f"wrote {path}")
    return 0


# -- convert ----------------------------------------------------------------------------------------------
def setting_value(text: str) -> bool | int | float:
    """A convention parameter on the command line: true/false, an integer, or a finite number."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        return _number(text, float, None, False, "a number, true or false")


def _add_convert(subparsers: Any) -> None:
    from .conventions import LIBRARIES, SETTINGS, parameters

    parser = subparsers.add_parser(
        "convert", help="express a setting in PyTorch, Keras or scikit-learn terms, or back",
        description="Translate one setting between our (the course's) convention and PyTorch's, Keras's or "
        "scikit-learn's: prints the values, a line to paste, whether it is exact, and the caveat when not. "
        "E.g. dnnimprove convert momentum --beta 0.9 --lr 0.01 --to pytorch; "
        "dnnimprove convert batch_norm --momentum 0.1 --from pytorch.",
        epilog="our parameters: " + "; ".join(f"{setting} {', '.join(parameters(setting))}" for setting in SETTINGS)
        + ". The libraries' own names (e.g. --alpha, --eps, --learning-rate) are taken with --from.",
    )
    parser.add_argument("setting", choices=sorted(SETTINGS), help="the setting to translate")
    direction = parser.add_mutually_exclusive_group(required=True)
    direction.add_argument("--to", choices=LIBRARIES, help="from ours to this library")
    direction.add_argument("--from", dest="source", choices=LIBRARIES, help="from this library to ours")
    parser.add_argument("--json", action="store_true", help="print the translation as JSON")
    values = parser.add_argument_group("values (each setting and library takes its own; omitted ones take defaults)")
    names = sorted({name for setting in SETTINGS for library in ("ours", *SETTINGS[setting].libraries)
                    for name in parameters(setting, library)})
    for name in names:
        flags = sorted({f"--{name}", f"--{name.replace('_', '-')}"})
        values.add_argument(*flags, dest=f"value_{name}", type=setting_value, metavar="V", default=None,
                            help=argparse.SUPPRESS)
    parser.set_defaults(handler=_run_convert, value_names=names)


def _run_convert(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .conventions import convert

    given = {name: getattr(args, f"value_{name}") for name in args.value_names
             if getattr(args, f"value_{name}") is not None}
    try:
        translation = convert(args.setting, given, to=args.to, source=args.source)
    except (ValueError, TypeError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(_in_option_terms(str(error), args.value_names)) from None
    print(json.dumps(asdict(translation), indent=2) if args.json else translation)
    return 0


def _in_option_terms(message: str, names: Sequence[str]) -> str:
    """A :func:`~dnnimprove.conventions.convert` message as the command's user reads it: the parameter that opens
    it (``fan_in must be ...``) or that it asks for (``... needs 'batch_size'``) becomes its option (``--fan-in``)."""
    import re

    def option(name: str) -> str:
        return "--" + name.replace("_", "-")

    first = message.split(" ", 1)[0]
    if first in names and message.startswith(f"{first} must "):
        message = option(first) + message[len(first):]
    return re.sub(r"needs '(\w+)'$", lambda found: f"needs {option(found.group(1))}" if found.group(1) in names
                  else found.group(0), message)


# -- compare ----------------------------------------------------------------------------------------------
def setting_text(text: str) -> Any:
    """A setting value on the command line: none, true/false, an integer, a number, or a name."""
    lowered = text.strip().lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number; got {text!r}")
        return value
    return text.strip()


def assignment(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2`` -> ``("KEY", [V1, V2])`` (a key of the study settings, at least one value)."""
    from .studies import SETTINGS

    key, equals, values = text.partition("=")
    key = key.strip().replace("-", "_")
    if not equals or not values.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE[,VALUE...] such as optimizer=gd,adam; got {text!r}")
    if key not in SETTINGS:
        raise argparse.ArgumentTypeError(f"unknown setting {key!r} in {text!r}; valid: {', '.join(SETTINGS)}")
    return key, [setting_text(value) for value in values.split(",")]


def _add_compare(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare settings (optimizers, initializations, regularizers ...) on your data",
        description="Train every combination of the --vary values over several seeds (mean ± spread), print the "
        "table and write OUT/compare/results.json, the figures and OUT/index.html, as the classic studies do. "
        "E.g. dnnimprove compare --data my.csv --target label --vary optimizer=gd,momentum,adam --vary init=he,xavier",
    )
    _add_data_options(parser)
    parser.add_argument("--vary", type=assignment, action="append", required=True, metavar="KEY=V1,V2",
                        help="a setting and the values compared (repeat for a grid); keys as in dnnimprove train")
    parser.add_argument("--set", type=assignment, action="append", default=[], metavar="KEY=VALUE",
                        help="a setting shared by every variant, e.g. lr=0.01 or batch_size=64 (repeatable)")
    parser.add_argument("--layers", type=layer_widths, default=(5, 2), help="hidden widths, e.g. 5,2 (default)")
    parser.add_argument("--epochs", type=positive_int, default=1000, help="epochs per run (default: 1000)")
    parser.add_argument("--dev-fraction", type=fraction, default=0.0, help="split off a dev set (default: 0)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="first seed (default: 0)")
    parser.add_argument("--seeds", type=positive_int, default=3, help="seeds per variant (default: 3)")
    parser.add_argument("--out", default="results", help="output folder (default: results)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    from . import report
    from .studies import run_study
    from .studies.compare import comparison_study
    from .studies.runner import build_optimizer, build_schedule, check_settings

    vary: dict[str, list[Any]] = {}
    for key, values in args.vary:
        if key in vary:
            raise UsageError(f"--vary {key}=... is given twice; list every value once: --vary {key}=a,b")
        vary[key] = values
    base: dict[str, Any] = {}
    for key, values in args.set:
        if len(values) != 1:
            raise UsageError(f"--set {key}= takes one value; got {len(values)} (compare several with --vary)")
        base[key] = values[0]
    spec = _data_spec(args, dev=args.dev_fraction)
    out = prepare_out(args.out)
    data = spec.load()
    study = comparison_study(spec, vary, base=base, hidden=args.layers, epochs=args.epochs, loss=_loss_for(data),
                             figures=("cost", "boundary") if data.n_features == 2 else ("cost",))
    for variant in study.variants:  # every name and number checked before the first run
        settings = check_settings(study.settings(variant))
        try:
            build_optimizer(settings)
            build_schedule(settings)
        except (TypeError, ValueError) as error:
            raise UsageError(f"variant {variant.name!r}: {error}") from None
    from tqdm.auto import tqdm

    seeds = list(range(args.seed, args.seed + args.seeds))
    with tqdm(total=len(study.variants) * len(seeds), unit="run", disable=True if args.no_progress else None,
              file=sys.stderr) as bar:
        result = run_study(study, mode="robust", seeds=seeds, progress=lambda label: bar.update())
    path = report.write_study(result, out)
    index = report.write_index(out)
    if args.json:
        print(path.read_text())
    else:
        print(report.text_table(result))
        print(f"report: {index}")
    return 0


# -- recipe -----------------------------------------------------------------------------------------------
def _add_recipe(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recipe", help="the course's basic recipe on your data: fix bias, then variance, one knob at a time",
        description="Split train/dev/test, train a small baseline, measure avoidable bias (against --human-error "
        "or an estimate) and variance, then try the course's remedies in order (bias: wider, deeper, longer, "
        "Adam, He init, batch norm; variance: L2, dropout, early stopping, input noise), keeping a change only "
        "when the dev error improves by more than its noise. With --max-minutes the time left after that tunes "
        "the remedies as knobs, coarse to fine. Writes OUT/recipe.html, recipe.json, the figures and "
        "OUT/model.npz.",
    )
    _add_data_options(parser)
    parser.set_defaults(test_fraction=0.2)
    parser.add_argument("--dev-fraction", type=fraction, default=0.2, help="dev set fraction (default: 0.2)")
    parser.add_argument("--human-error", type=fraction, metavar="ERROR",
                        help="baseline (e.g. human-level) error; default: estimated from the data")
    parser.add_argument("--tolerance", type=nonnegative_float, default=0.01,
                        help="a gap at most this large is not worth closing (default: 0.01)")
    parser.add_argument("--epochs", type=positive_int, default=100, help="the baseline's epochs (default: 100)")
    parser.add_argument("--max-steps", type=positive_int,
                        help="remedies tried at most (default: 20 without --max-minutes, no limit with it)")
    parser.add_argument("--max-minutes", type=positive_float,
                        help="the time budget: tune the remedies while it lasts, start nothing that would overrun it")
    parser.add_argument("--seeds", type=positive_int,
                        help="train every configuration with this many seeds and decide on the mean; with --folds, "
                        "repeats of the cross-validation (default: 1 with --folds, else 3 with --max-minutes, else 1)")
    parser.add_argument("--folds", type=nonnegative_int,
                        help="measure every configuration by K-fold cross-validation over the train + dev rows; 0: on "
                        "the dev set (default: 3 with --max-minutes when train + dev hold at most 20000 rows, else 0)")
    parser.add_argument("--average", type=positive_int,
                        help="train the chosen configuration again with this many seeds; the final model averages "
                        "their outputs (one network holding them side by side) (default: 3 with --max-minutes, else 1)")
    parser.add_argument("--no-refit", action="store_true",
                        help="keep the best step's model (trained on the train rows) instead of training it again "
                        "on train + dev")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the split and the runs (default: 0)")
    parser.add_argument("--out", default="results/recipe", help="output folder (default: results/recipe)")
    parser.add_argument("--json", action="store_true", help="print recipe.json instead of the table")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_run_recipe)


def _run_recipe(args: argparse.Namespace) -> int:
    from .basic_recipe import recipe

    if args.dev_fraction <= 0:
        raise UsageError("--dev-fraction must be > 0: the recipe decides on the dev error")
    if args.folds == 1:
        raise UsageError("--folds must be 0 (the dev set) or at least 2; got 1")
    spec = _data_spec(args, dev=args.dev_fraction)
    out = prepare_out(args.out)
    result = recipe(spec, human_error=args.human_error, tolerance=args.tolerance, seed=args.seed,
                    epochs=args.epochs, max_steps=args.max_steps, max_minutes=args.max_minutes, n_seeds=args.seeds,
                    folds="auto" if args.folds is None else args.folds or None, refit=not args.no_refit,
                    average="auto" if args.average is None else args.average, progress=not args.no_progress, out=out)
    if args.json:
        print((out / "recipe.json").read_text())
    else:
        print(result.table())
        print(f"report: {out / 'recipe.html'}; model: {result.model_path}")
    return 0


# -- predict ----------------------------------------------------------------------------------------------
def _add_predict(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "predict", help="predict with a saved model on the raw rows of a data file",
        description="Load a model file (dnnimprove train --out model.npz) and predict on a data file with the "
        "columns it was trained on (the target column may be there; it is ignored). Writes a CSV: the "
        "prediction, then one probability column per class (classification).",
    )
    parser.add_argument("--model", required=True, metavar="FILE", help="a model file (.npz)")
    parser.add_argument("--data", required=True, metavar="FILE", help="a .csv/.tsv, .parquet, .feather or .npz file")
    parser.add_argument("--out", metavar="FILE", help="write the predictions here (CSV; default: standard output)")
    parser.set_defaults(handler=_run_predict)


def _run_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from .persistence import load
    from .tables import read_table, write_csv

    if args.out is not None:
        if os.path.isdir(args.out):
            raise UsageError(f"--out {args.out!r} is a folder; give a file name")
        prepare_out(os.path.dirname(os.path.abspath(args.out)))
    model = load(args.model)
    table = read_table(args.data)
    if model.preprocessing_ is None:  # a model trained on arrays: numeric columns in order, a y column ignored
        columns = [column for name, column in table.items() if not (args.data.endswith(".npz") and name == "y")]
        text = next((name for name, column in table.items() if column.dtype.kind != "f"), None)
        if text is not None:
            raise UsageError(f"column {text!r} of {args.data!r} is not numeric, and {args.model!r} carries no "
                             "preprocessing (it was trained on arrays)")
        inputs = np.column_stack(columns)
    else:
        inputs = table
    try:
        predictions = model.predict(inputs)
        probabilities = model.predict_proba(inputs) if model.loss.is_classifier else None
    except ValueError as error:
        raise UsageError(f"{args.data!r} does not fit {args.model!r}: {error}") from None
    classes = model.preprocessing_.classes if model.preprocessing_ is not None else None
    header = ["prediction"]
    if probabilities is not None:
        labels = classes if classes is not None else list(range(probabilities.shape[1]))
        header += [f"proba_{label}" for label in labels]
    cell = lambda value: repr(float(value)) if isinstance(value, (float, np.floating)) else str(value)  # noqa: E731
    rows = []
    for index, prediction in enumerate(predictions.tolist()):
        row = [cell(prediction)]
        if probabilities is not None:
            row += [cell(p) for p in probabilities[index]]
        rows.append(row)
    if args.out is None:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    else:
        write_csv(args.out, header, rows)
        print(f"wrote {len(rows)} predictions to {args.out}", file=sys.stderr)
    return 0


# -- main ------------------------------------------------------------------------------------------------
SUBCOMMANDS: list[Callable[[Any], None]] = [_add_study, _add_train, _add_predict, _add_compare, _add_recipe,
                                            _add_gradcheck, _add_search, _add_convert]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog=PROGRAM,
        description="dnnimprove: improving deep neural networks, in NumPy. Run the classic studies, train "
        "one network, or gradient-check one.",
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def resume_command(argv: Sequence[str], path: str) -> str:
    """The command line that resumes ``argv`` from the checkpoint ``path`` (any earlier --resume replaced)."""
    import shlex

    words, kept = list(argv), []
    while words:
        word = words.pop(0)
        if word == "--resume":
            words = words[1:]
        elif not word.startswith("--resume="):
            kept.append(word)
    return shlex.join([PROGRAM, *kept, "--resume", str(path)])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    No traceback reaches the user: bad input is one line and status 2, a diverged run one line and
    status 1, Ctrl-C (even during start-up, before the heavy imports are done) one line and status 130,
    and anything unexpected one line naming the error and status 1 (``DNNIMPROVE_DEBUG=1`` re-raises it).
    """
    from ._startup import release

    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((word for word in argv if not word.startswith("-")), "")
    where = f"{PROGRAM} {command}".rstrip() if command in _COMMANDS else PROGRAM
    release(where)  # from here on Ctrl-C is a KeyboardInterrupt, caught below (and by checkpointing fits)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        _say(f"{where}: interrupted")
        return 130
    except SystemExit as error:  # argparse: --help, --version and its one-line errors
        return error.code if isinstance(error.code, int) else (0 if error.code is None else 2)
    except BrokenPipeError:  # `dnnimprove ... | head` closed our stdout: stop quietly, as SIGPIPE would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        return 141
    except MemoryError as error:  # an estimate refused before allocating is a ValueError too: see _main
        _say(f"{where}: error: out of memory ({error or 'the request is too large for this machine'})")
        return 1
    except Exception as error:  # a bug or an environment problem: one line, never a traceback
        from ._startup import interrupt_seen

        if interrupt_seen():  # Ctrl-C inside an import that turned it into another error (ImportError)
            _say(f"{where}: interrupted")
            return 130
        if os.environ.get("DNNIMPROVE_DEBUG"):
            raise
        _say(f"{where}: internal error: {type(error).__name__}: {_one_line(error)} (set DNNIMPROVE_DEBUG=1 for the traceback)")
        return 1


_COMMANDS = ("study", "train", "gradcheck", "search", "convert")


def _one_line(error: BaseException, limit: int = 500) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _say(line: str) -> None:
    """Print one line on stderr; never fails (a closed stderr is ignored)."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import numpy as np

    from .training import TrainingDiverged, TrainingInterrupted

    where = f"{PROGRAM} {args.command}"
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged run is reported in one line, not warnings
            return args.handler(args)
    except UsageError as error:
        _say(f"{where}: error: {_one_line(error)}")
        return 2
    except TrainingDiverged as error:
        _say(f"{where}: {_one_line(error)}")
        return 1
    except (ValueError, TypeError, OverflowError) as error:  # the library's validation messages name argument and value
        _say(f"{where}: error: {_one_line(error)}")
        return 2
    except BrokenPipeError:
        raise
    except OSError as error:  # e.g. a --resume file that does not exist, a --checkpoint folder not writable
        text = f"{error.strerror or _one_line(error)}: {error.filename or ''}".rstrip(": ")
        _say(f"{where}: error: {text}")
        return 2
    except TrainingInterrupted as error:  # Ctrl-C with a checkpoint: say where it is and how to go on
        _say(f"{where}: interrupted after {error.epoch} completed epoch(s); checkpoint written to "
             f"{error.path}; resume with: {resume_command(argv, error.path)}")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
