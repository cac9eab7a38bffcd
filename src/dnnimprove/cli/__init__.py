"""The ``dnnimprove`` command (the only package that parses arguments).

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
Each subcommand is a module of this package with a pair ``_add_<name>(subparsers)`` / ``_run_<name>(args)``
(what they share is in :mod:`.options`); add one the same way and list it in ``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Sequence

from .compare import _add_compare
from .convert import _add_convert
from .gradcheck import _add_gradcheck
from .options import PROGRAM, UsageError, _Parser
from .predict import _add_predict
from .recipe import _add_recipe
from .search import _add_search
from .study import _add_study
from .train import _add_train

__all__ = ["main", "build_parser", "UsageError"]

SUBCOMMANDS: list[Callable[[Any], None]] = [_add_study, _add_train, _add_predict, _add_compare, _add_recipe,
                                            _add_gradcheck, _add_search, _add_convert]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

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
    from .._startup import release

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
        from .._startup import interrupt_seen

        if interrupt_seen():  # Ctrl-C inside an import that turned it into another error (ImportError)
            _say(f"{where}: interrupted")
            return 130
        if os.environ.get("DNNIMPROVE_DEBUG"):
            raise
        _say(f"{where}: internal error: {type(error).__name__}: {_one_line(error)} (set DNNIMPROVE_DEBUG=1 for the traceback)")
        return 1


_COMMANDS = ("study", "train", "predict", "compare", "recipe", "gradcheck", "search", "convert")


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

    from ..training import TrainingDiverged, TrainingInterrupted

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
