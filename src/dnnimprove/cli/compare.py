"""``dnnimprove compare``: every combination of the varied settings over several seeds, on a dataset or a data file."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from .options import (UsageError, _add_data_options, _add_report_options, _data_spec, _loss_for, fraction, layer_widths,
                      nonnegative_int, positive_int, prepare_out)


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
    from ..studies import SETTINGS

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
    _add_report_options(parser, "results", "the results as JSON")
    parser.set_defaults(handler=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    from .. import report
    from ..studies import run_study
    from ..studies.compare import comparison_study
    from ..studies.runner import build_optimizer, build_schedule, check_settings

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
