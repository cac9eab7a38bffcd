"""``dnnimprove predict``: a saved model's predictions for a data file."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .options import UsageError, prepare_out


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

    from ..persistence import load
    from ..tables import read_table, write_csv

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
