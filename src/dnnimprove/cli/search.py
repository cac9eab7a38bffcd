"""``dnnimprove search``: random search and coarse to fine, persistent and distributed."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .options import (UsageError, _add_data_options, _data_spec, fraction, n_jobs_value, positive_float, positive_int,
                      prepare_out, seed_value)


def _add_search(subparsers: Any) -> None:
    from ..optimizers import OPTIMIZERS

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

    from .. import report
    from ..estimator import DNNClassifier, DNNRegressor
    from ..search import MedianPruner, SuccessiveHalving, coarse_to_fine, course_space

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
