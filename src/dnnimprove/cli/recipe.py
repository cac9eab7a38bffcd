"""``dnnimprove recipe``: the course's basic recipe on a table of your own."""

from __future__ import annotations

import argparse
from typing import Any

from .options import (UsageError, _add_data_options, _add_report_options, _data_spec, fraction, nonnegative_float,
                      nonnegative_int, positive_float, positive_int, prepare_out)


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
    _add_report_options(parser, "results/recipe", "recipe.json")
    parser.set_defaults(handler=_run_recipe)


def _run_recipe(args: argparse.Namespace) -> int:
    from ..basic_recipe import recipe

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
