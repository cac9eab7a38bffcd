"""``dnnimprove study``: the classic studies and their report."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .options import UsageError, _add_report_options, nonnegative_int, prepare_out, seed_count, seed_value


def _add_study(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "study", help="run classic studies and write an HTML report",
        description="Run the classic studies (or some of them), print a table per study and write "
        "OUT/index.html with tables, figures and a reading, and OUT/<study>/results.json.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="'all' (default) or study names (see --list)")
    parser.add_argument("--list", action="store_true", help="list the studies and exit")
    parser.add_argument("--seed", type=seed_value, default=0, help="first seed of robust mode (default: 0)")
    parser.add_argument("--seeds", type=seed_count, default=3, help="seeds per variant in robust mode (default: 3)")
    parser.add_argument("--course-exact", action="store_true", help="the course's random stream and published figures")
    parser.add_argument("--quick", action="store_true", help="a few epochs per run (a smoke test, not results)")
    parser.add_argument("--epochs", type=nonnegative_int, help="override every study's epochs")
    _add_report_options(parser, "results", "the results as JSON")
    parser.set_defaults(handler=_run_study)


def _run_study(args: argparse.Namespace) -> int:
    from .. import report
    from ..studies import STUDIES, run_study
    from ..studies.runner import count_runs

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
