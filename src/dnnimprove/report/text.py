"""The studies' results as text: the terminal table, the report's table rows and its two-line reading."""

from __future__ import annotations

from typing import Any

from ..studies.runner import StudyResult
from ..studies.single import TrainResult

Result = StudyResult | TrainResult
"""What ``write_study``, ``reading``, ``draw_cost`` and ``draw_boundary`` take: a study's result or one run's."""


def _cell(mean: float | None, spread: float | None, digits: int = 4) -> str:
    """``mean ± spread``; the spread is left out when it is None (one run)."""
    if mean is None:
        return "-"
    if spread is None:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {spread:.{digits - 1}f}"


def table_rows(runs: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a study table from results.json rows."""
    published = any("published" in run for run in runs)
    regression = any(run.get("train_r2") is not None for run in runs)
    header = ["variant", "train acc", "test acc", "final cost", "epochs", "s/run"]
    keys = ["train_accuracy", "test_accuracy"]
    if regression:  # R^2 where a classifier has its accuracy, and the test MSE in the target's units
        header = ["variant", "train R2", "test R2", "test MSE", "final cost", "epochs", "s/run"]
        keys = ["train_r2", "test_r2", "test_mse"]
    if any(run.get("dev_r2" if regression else "dev_accuracy") is not None for run in runs):
        header.insert(2, "dev R2" if regression else "dev acc")
        keys.insert(1, "dev_r2" if regression else "dev_accuracy")
    if published:
        header.append("published")
    if any(run.get("diverged") for run in runs):
        header.append("diverged")
    rows = []
    for run in runs:
        several = len(run["seeds"]) > 1
        cell = lambda key: _cell(run.get(key), run.get(f"{key}_std") if several else None)  # noqa: E731
        row = [run["name"], *(cell(key) for key in keys)]
        row += [
            cell("final_cost"),
            f"{run['epochs']:g}",
            f"{run['seconds']:.2f}",
        ]
        if published:
            values = run.get("published")
            if values:
                mark = "=" if run.get("matches_published") else "≠"
                row.append(mark + " " + " / ".join(f"{value:g}" for value in values.values()))
            else:
                row.append("")
        if "diverged" in header:
            row.append(f"{run.get('diverged', 0)}/{len(run['seeds'])}")
        rows.append(row)
    return header, rows


def study_table(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a study's table: its own ``table`` (studies that train no network), else its runs'."""
    if "table" in summary:
        return list(summary["table"]["header"]), [list(row) for row in summary["table"]["rows"]]
    return table_rows(summary["runs"])


def text_table(result: Result | dict[str, Any]) -> str:
    """The study's table as aligned text, its title above and the checks below."""
    summary = result if isinstance(result, dict) else result.to_json()
    header, rows = study_table(summary)
    widths = [max(len(str(line[i])) for line in [header, *rows]) for i in range(len(header))]
    smoke = summary.get("smoke_test", False)
    lines = [f"{summary['title']} [{summary['mode']}{', SMOKE TEST: a few epochs, not results' if smoke else ''}]"]
    lines.append("  ".join(name.ljust(width) for name, width in zip(header, widths)))
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) for row in rows]
    lines += [f"  {_CHECK_WORDS[check['ok']]} {check['text']}" for check in summary["checks"]]
    return "\n".join(lines)


_CHECK_WORDS = {True: "ok ", False: "NO ", None: "-- not evaluated (smoke test):"}


def reading(result: Result) -> list[str]:
    """Two lines: what the study teaches, and what this run measured."""
    checks = result.checks
    held = sum(ok for _, ok in checks)
    if getattr(result, "smoke_test", False):
        epochs = max((run.epochs for variant in result.variants for run in variant.runs), default=0)
        measured = (f"Smoke test: at most {epochs} epochs per run, to check that the study runs; its "
                    f"{len(checks)} conclusions are not evaluated. Run without --quick for results.")
    elif result.mode == "course-exact" and checks:
        measured = f"Course-exact: {held} of {len(checks)} runs reproduce the course's published figures."
        if held < len(checks):
            measured += " Differing: " + "; ".join(text for text, ok in checks if not ok) + "."
    elif checks:
        seeds = result.extras.get("seeds") or len(result.variants[0].runs)
        measured = f"Measured over {seeds} seed{'s' * (seeds > 1)}: {held} of {len(checks)} of the course's conclusions hold"
        failing = [text for text, ok in checks if not ok]
        measured += "." if not failing else "; not: " + "; ".join(failing) + "."
    else:
        regression = any(run.train_r2 is not None for variant in result.variants for run in variant.runs)
        key, label = "train_accuracy", "train"
        if regression:  # the R2 of the last split there is
            first = result.variants[0]
            split = next(name for name in ("test", "dev", "train") if first.metric(f"{name}_r2")[0] is not None)
            key, label = f"{split}_r2", f"{split} R2"
        measured = "Measured: " + "; ".join(
            f"{variant.name} {label} {_cell(*variant.metric(key))}" for variant in result.variants
        ) + "."
    return [result.lesson, measured]
