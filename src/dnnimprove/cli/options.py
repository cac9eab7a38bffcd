"""What every command shares: the program name, the one-line usage error, the parser that reports in one line,
the argument types (each raises ``ArgumentTypeError`` with the value in the message) and the shared options."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any, NoReturn


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
    from ..data import DATASETS

    group = parser.add_argument_group("data")
    group.add_argument("--dataset", choices=sorted(DATASETS), help="built-in dataset (default: moons)")
    group.add_argument("--n-samples", type=positive_int, help="examples to generate (generated datasets)")
    group.add_argument("--noise", type=nonnegative_float, help="noise of the generator (generated datasets)")
    group.add_argument("--data-seed", type=seed_value, help="seed of the generator (default: the course's)")
    group.add_argument("--test-fraction", type=fraction, default=0.0, help="split off a test set (default: 0)")
    group.add_argument("--standardize", action="store_true", help="standardize inputs (fitted on train)")
    _add_file_options(parser)


def _add_file_options(parser: argparse.ArgumentParser) -> None:
    from ..preprocessing import IMPUTE, TASKS

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


def _add_report_options(parser: argparse.ArgumentParser, out: str, printed: str) -> None:
    """``--out`` (the report's folder, default ``out``), ``--json`` (print ``printed`` instead of the table) and
    ``--no-progress``: the options of the commands that write a report."""
    parser.add_argument("--out", default=out, help=f"output folder (default: {out})")
    parser.add_argument("--json", action="store_true", help=f"print {printed} instead of the table")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    from ..initializers import INITIALIZERS
    from ..layers import ACTIVATIONS

    group = parser.add_argument_group("model")
    group.add_argument("--layers", type=layer_widths, default=(5, 2), help="hidden widths, e.g. 5,2 (default)")
    group.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS), help="hidden activation")
    group.add_argument("--init", default="he", choices=sorted(INITIALIZERS), help="weight initializer (default: he)")
    group.add_argument("--l2", type=nonnegative_float, default=0.0, help="L2 strength lambd (default: 0)")
    group.add_argument("--l1", type=nonnegative_float, default=0.0, help="L1 strength of every Dense layer (default: 0)")
    group.add_argument("--batch-norm", action="store_true", help="batch norm before every hidden activation")


def _data_spec(args: argparse.Namespace, dev: float = 0.0):
    from ..studies import DataSpec

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
    from ..studies.table_data import TableSpec

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
