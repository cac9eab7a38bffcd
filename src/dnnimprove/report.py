"""Tables, figures and the HTML report of the studies (the only module that draws).

``write_study(result, out)`` writes ``OUT/<name>/results.json`` and the result's figures (PNG, Agg,
no pyplot state) for a study's :class:`~dnnimprove.studies.StudyResult` or one ``dnnimprove train`` run's
:class:`~dnnimprove.studies.single.TrainResult` (both give ``name``, ``lesson``, ``figures``, ``title``, ``mode``,
``data``, ``variants``, ``checks``, ``extras``, ``smoke_test`` and ``to_json()``); ``write_index(out)`` writes ``OUT/index.html`` with one section per study found under
``OUT`` (its table, figures and a two-line reading), built from the ``results.json`` files so that
studies run one at a time end up in one report. ``text_table(result)`` is the terminal table.
``write_search(result, out)`` writes a hyperparameter search's ranked trials (CSV) and its scatter of dev
score against the learning rate (``draw_search``).

Figures: cost against epochs (per variant, mean over seeds), the cost of every mini-batch step with
its exponentially weighted average (:func:`dnnimprove.ewma`) drawn over the noise, cost against wall time, decision
boundaries of 2-D datasets, learning rate against epoch, a tuning scatter on a log axis, a confusion
matrix and the per-tensor gradient-check differences. Each has a title, labelled axes and a legend.
"""

from __future__ import annotations

import html
import json
import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .optimizers import ewma
from .search import SearchResult
from .studies.runner import StudyResult, VariantResult, build_schedule
from .studies.single import TrainResult

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn: printing a table needs none of it
    from matplotlib.figure import Figure

Result = StudyResult | TrainResult
"""What ``write_study``, ``reading``, ``draw_cost`` and ``draw_boundary`` take: a study's result or one run's."""

__all__ = [
    "FIGURES", "write_study", "write_index", "text_table", "reading", "draw_figures", "draw_search", "write_search",
    "draw_recipe_cost", "draw_recipe_errors", "write_recipe",
]

SMOOTHING = 0.9
"""``beta`` of the exponentially weighted average drawn over per-step costs (about the last 10 steps)."""

_COLORS = [f"C{index}" for index in range(10)]


# -- text -------------------------------------------------------------------------------------------------
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


# -- figures ----------------------------------------------------------------------------------------------
def _new_figure(width: float = 7.0, height: float = 4.2, grid: tuple[int, int] | None = None, *, left: float = 0.8,
                right: float = 0.2, bottom: float = 0.6, top: float = 0.4, wgap: float = 0.9, hgap: float = 0.8) -> Figure:
    """A ``width x height``-inch figure. With ``grid`` (rows, columns of panels): a fixed layout, the margins
    (``left``, ``right``, ``bottom``, ``top``) and the gaps between panels (``wgap``, ``hgap``) in inches, sized
    for the labels the figure draws; without: matplotlib's constrained layout, which measures every label at
    every save (two layout passes and an extra draw: more than half of a figure's time).
    """
    from matplotlib.figure import Figure

    if grid is None:
        return Figure(figsize=(width, height), dpi=100, layout="constrained")
    rows, columns = grid
    panel_width = (width - left - right - (columns - 1) * wgap) / columns
    panel_height = (height - bottom - top - (rows - 1) * hgap) / rows
    figure = Figure(figsize=(width, height), dpi=100)
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                           wspace=wgap / panel_width, hspace=hgap / panel_height)
    return figure


_STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"), ((0, (5, 1, 1, 1)), "v"), ((0, (1, 1)), "P"),
           ((0, (8, 2)), "X"))
"""Line style and marker per variant, so that curves that coincide stay distinguishable."""

COINCIDE_RTOL = 1e-2
"""Two curves "coincide" when every point of one is within this relative distance of the other's."""


def _line_style(index: int) -> dict[str, Any]:
    linestyle, marker = _STYLES[index % len(_STYLES)]
    return {"color": _COLORS[index % len(_COLORS)], "linestyle": linestyle, "marker": marker, "markersize": 5,
            "markevery": (0.025 * (index % 6), 0.15), "linewidth": 1.6}


def _seed_curves(variant: VariantResult, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs (from 1) and a ``(seeds, epochs)`` array of a History list, NaN where a run stopped early."""
    histories = [run.history for run in variant.runs]
    longest = max(histories, key=lambda history: len(getattr(history, key)))
    length = len(getattr(longest, key))
    stacked = np.full((len(histories), length), np.nan)
    for row, history in enumerate(histories):
        values = np.asarray(getattr(history, key), dtype=float)
        stacked[row, : values.size] = values
    return np.asarray(longest.epoch[:length]) + 1, stacked


def _nanmedian(stacked: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(stacked, axis=0)


def coinciding(curves: list[tuple[str, np.ndarray]], rtol: float = COINCIDE_RTOL) -> list[tuple[str, str]]:
    """Pairs ``(earlier, later)`` of curves of equal length within ``rtol`` of each other at every point."""
    pairs = []
    for index, (name, values) in enumerate(curves):
        for other, reference in curves[:index]:
            if values.shape == reference.shape and values.size and np.all(np.isfinite(values)) \
                    and np.all(np.abs(values - reference) <= rtol * np.abs(reference)):
                pairs.append((other, name))
                break
    return pairs


def _coincide_note(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    joined = "; ".join(f"{later} coincides with {earlier}" for earlier, later in pairs)
    return (f" Note: {joined} (within {COINCIDE_RTOL:.1%} at every point): the line styles and markers differ so "
            "that both stay visible.")


def draw_cost(result: Result) -> tuple[Figure, str]:
    """Median cost over seeds (a diverging seed cannot dominate it), the seeds' range shaded, off-scale seeds marked."""
    figure = _new_figure(grid=(1, 1))
    axes = figure.add_subplot()
    curves = [(variant, *_seed_curves(variant, "cost")) for variant in result.variants]
    medians = [(variant.name, _nanmedian(stacked)) for variant, _, stacked in curves]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lowest = [np.nanmin(stacked, axis=0) for _, _, stacked in curves]  # the best seed at every epoch
    finite = [values[np.isfinite(values)] for values in lowest]
    top = 100.0 * max((float(values.max()) for values in finite if values.size), default=1.0)
    pairs = coinciding(medians)
    twin = {later: earlier for earlier, later in pairs}
    off_scale = []
    for index, ((variant, epochs, stacked), (_, median)) in enumerate(zip(curves, medians)):
        style = _line_style(index)
        label = variant.name + (f" (= {twin[variant.name]})" if variant.name in twin else "")
        axes.plot(epochs, median, label=label, **style)
        if len(stacked) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                low, high = np.nanmin(stacked, axis=0), np.minimum(np.nanmax(stacked, axis=0), top)
            axes.fill_between(epochs, low, high, color=style["color"], alpha=0.12, linewidth=0)
        above = np.nan_to_num(stacked, nan=0.0) > top
        for row in np.flatnonzero(above.any(axis=1)):
            seed = variant.runs[row].seed
            columns = np.flatnonzero(above[row])
            axes.plot(epochs[columns], np.full(columns.size, top), "^", color=style["color"], markersize=7,
                      clip_on=False, label=f"{variant.name}, seed {seed}: off the scale")
            off_scale.append(f"{variant.name} seed {seed} (up to {np.nanmax(stacked[row]):.3g})")
    axes.set_yscale("log")
    if off_scale:
        axes.set_ylim(top=top)
    axes.set_xlabel("epoch")
    axes.set_ylabel("training cost J (log scale)")
    seeds = len(result.variants[0].runs)
    spread = f"median over {seeds} seeds, range shaded" if seeds > 1 else "one run"
    axes.set_title(f"{result.name}: training cost ({spread})")
    axes.legend(fontsize="small")
    caption = "Training cost (the epoch's mean over its mini-batches) against epochs, one curve per variant"
    caption += ": the median over seeds, so that one diverging seed cannot dominate it, with the seeds' range shaded." \
        if seeds > 1 else "."
    if off_scale:
        caption += f" Off the scale (triangles on the top edge): {', '.join(off_scale)}."
    return figure, caption + _coincide_note(pairs)


def smoothing_for(steps: int) -> float:
    """The EWMA ``beta`` drawn over ``steps`` per-step costs: about the last 1/200 of the run, at least 10 steps."""
    return max(SMOOTHING, 1.0 - 1.0 / max(10.0, steps / 200.0))


def draw_iterations(result: StudyResult) -> tuple[Figure, str]:
    variants = result.variants
    figure = _new_figure(7.0, 2.2 * len(variants) + 0.6, (len(variants), 1), top=0.45, hgap=0.15)
    panels = figure.subplots(len(variants), 1, sharex=True, squeeze=False)[:, 0]
    for axes, variant, color in zip(panels, variants, _COLORS):
        run = variant.runs[0]
        cost = np.asarray(run.history.iteration_cost, dtype=float)
        epochs = np.arange(1, cost.size + 1) * (run.epochs / max(cost.size, 1))
        beta = smoothing_for(cost.size)
        axes.plot(epochs, cost, color=color, alpha=0.2, linewidth=0.4, label=f"{variant.name}: each step")
        axes.plot(epochs, ewma(cost, beta), color="black", linewidth=1.4,
                  label=f"EWMA, beta {beta:.4g} (about {1 / (1 - beta):.0f} steps)")
        axes.set_yscale("log")
        axes.set_ylabel("step cost J (log)")
        axes.legend(fontsize="small", loc="lower left")
    panels[-1].set_xlabel("epoch (steps scaled to epochs)")
    figure.suptitle(f"{result.name}: cost of every mini-batch step (first seed)")
    return figure, ("Cost of each step (faint), on a log scale so that nothing is cut off: smooth for batch descent, "
                    "noisy for mini-batches and very noisy for stochastic descent; the black line is its exponentially "
                    "weighted average over about the last 1/200 of the run.")


def draw_cost_time(result: StudyResult) -> tuple[Figure, str]:
    figure = _new_figure(10.0, 4.2, (1, 2))
    by_epoch, by_time = figure.subplots(1, 2)
    curves = [(variant.name, np.asarray(variant.runs[0].history.cost, dtype=float)) for variant in result.variants]
    pairs = coinciding(curves)
    twin = {later: earlier for earlier, later in pairs}
    for index, variant in enumerate(result.variants):
        run = variant.runs[0]
        cost = np.asarray(run.history.cost)
        label = variant.name + (f" (= {twin[variant.name]})" if variant.name in twin else "")
        by_epoch.plot(np.asarray(run.history.epoch) + 1, cost, label=label, **_line_style(index))
        by_time.plot(run.clock[: cost.size], cost, label=label, **_line_style(index))
    by_epoch.set_xlabel("epoch")
    by_time.set_xlabel("wall time (s, log scale)")
    by_time.set_xscale("log")
    for axes in (by_epoch, by_time):
        axes.set_ylabel("training cost J")
        axes.legend(fontsize="small")
    by_epoch.set_title("cost against epochs (first seed)")
    by_time.set_title("cost against wall time (first seed)")
    return figure, "The same runs against epochs (left) and against seconds of training (right)." + _coincide_note(pairs)


def draw_boundary(result: Result) -> tuple[Figure, str]:
    data = result.data
    if data.n_features != 2:
        raise ValueError(f"decision boundaries need 2-D data; {result.name} has {data.n_features} features")
    variants = result.variants
    columns = min(len(variants), 4)
    rows = math.ceil(len(variants) / columns)
    figure = _new_figure(3.2 * columns, 3.0 * rows + 0.4, (rows, columns), left=0.6, top=0.75, wgap=0.8, hgap=0.85)
    grid = figure.subplots(rows, columns, squeeze=False)
    X, y = data.X_train, data.y_train
    low, high = X.min(axis=0) - 0.4, X.max(axis=0) + 0.4
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], 160), np.linspace(low[1], high[1], 160))
    points = np.c_[xx.ravel(), yy.ravel()]
    for axes, variant in zip(grid.ravel(), variants):
        model = variant.runs[0].model
        probability = model.predict_proba(points)[:, 1].reshape(xx.shape)
        axes.contourf(xx, yy, probability, levels=[0, 0.5, 1], colors=["#f4c7c3", "#c6dbef"], alpha=0.8)
        axes.contour(xx, yy, probability, levels=[0.5], colors="k", linewidths=0.8)
        for label, color in ((0, "#d62728"), (1, "#1f77b4")):
            chosen = y == label
            axes.scatter(X[chosen, 0], X[chosen, 1], s=6, c=color, label=f"class {label}")
        axes.set_title(f"{variant.name}: train {variant.runs[0].train_accuracy:.3f}", fontsize="medium")
        axes.set_xlabel("x1")
        axes.set_ylabel("x2")
    for axes in grid.ravel()[len(variants):]:
        axes.set_axis_off()
    grid.ravel()[0].legend(fontsize="small", loc="lower left")
    figure.suptitle(f"{result.name}: decision boundaries (first seed; shaded: predicted class)")
    return figure, "Decision boundary of each variant's first-seed model over the training set."


def draw_lr(result: StudyResult) -> tuple[Figure, str]:
    figure = _new_figure(grid=(1, 1))
    axes = figure.add_subplot()
    styles = ["-", "--", ":", "-."]
    for index, variant in enumerate(result.variants):
        epochs = variant.runs[0].epochs
        schedule = build_schedule(variant.settings, course_exact=result.mode == "course-exact")
        rates = [variant.settings["lr"] if schedule is None else schedule(epoch) for epoch in range(epochs)]
        axes.step(np.arange(1, epochs + 1), rates, where="post", label=variant.name,
                  linestyle=styles[index % len(styles)], linewidth=2.5 - 0.2 * index)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("epoch (log scale)")
    axes.set_ylabel("learning rate (log scale)")
    axes.set_title(f"{result.name}: learning rate against epoch")
    axes.legend(fontsize="small")
    return figure, "Learning rate of every epoch, from each variant's schedule (overlapping variants share a line)."


def draw_confusion(result: StudyResult) -> tuple[Figure, str]:
    from sklearn.metrics import confusion_matrix

    data = result.data
    X, y, which = (data.X_test, data.y_test, "test") if data.X_test is not None else (data.X_train, data.y_train, "train")
    variant = result.variants[0]
    predicted = variant.runs[0].model.predict(X)
    labels = np.arange(max(int(y.max()), int(predicted.max())) + 1)
    matrix = confusion_matrix(y, predicted, labels=labels)
    figure = _new_figure(5.6, 4.8, (1, 1), left=0.6, right=0.1)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            color = "white" if count > matrix.max() / 2 else "black"
            axes.text(column, row, str(count), ha="center", va="center", fontsize="small", color=color)
    axes.set_xticks(labels)
    axes.set_yticks(labels)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    accuracy = float(np.mean(predicted == y))
    axes.set_title(f"{result.name}: {which} confusion matrix (accuracy {accuracy:.3f})")
    figure.colorbar(image, ax=axes, label="examples")
    return figure, f"Confusion matrix on the {which} set (first seed); off-diagonal cells are mistakes."


def _log_scatter(title: str, xlabel: str, ylabel: str, groups: list[tuple[str, str, list, list]]) -> Figure:
    """Trials as points on a log x axis, one marker per group ``(label, marker, xs, ys)``; empty groups skipped."""
    figure = _new_figure(grid=(1, 1))
    axes = figure.add_subplot()
    for label, marker, xs, ys in groups:
        if xs:
            size = 180 if marker == "*" else None
            axes.scatter(xs, ys, marker=marker, s=size, label=label, alpha=0.8, edgecolors="black" if size else None)
    axes.set_xscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(fontsize="small")
    return figure


def draw_tuning(result: StudyResult) -> tuple[Figure, str]:
    trials = result.extras["trials"]
    groups = []
    for stage, marker in (("grid", "s"), ("coarse", "o"), ("fine", "^")):
        chosen = [trial for trial in trials if trial["stage"] == stage]
        groups.append((f"{stage} ({len(chosen)} trials)", marker, [t["settings"]["lr"] for t in chosen],
                       [t["dev_accuracy"] for t in chosen]))
    searches = len({trial["seed"] for trial in trials})
    title = f"{result.name}: dev accuracy against learning rate ({searches} seed{'s' * (searches > 1)})"
    figure = _log_scatter(title, "learning rate (log scale)", "dev accuracy", groups)
    return figure, "Every trial's dev accuracy against its learning rate: random search on a log scale vs a grid."


def _searched(result: SearchResult, param: str, argument: str) -> str:
    """The column of the searched parameter ``param`` (full name or last part); else a ValueError naming ``argument``."""
    matches = [name for name in result.param_names if param in (name, name.rsplit("__", 1)[-1])]
    if len(matches) != 1:
        raise ValueError(f"{argument} {param!r} must name one searched parameter; searched: {', '.join(result.param_names)}")
    return matches[0]


def draw_search(
    result: SearchResult, param: str = "lr", ylabel: str = "dev accuracy", hue: str | None = None
) -> tuple[Figure, str]:
    """Every trial's dev score against one hyperparameter on a log axis, one marker per round, the best starred.

    ``param`` is a searched parameter, by its full name or its last part (``"lr"`` finds
    ``"dnnclassifier__lr"``). ``hue`` colours the points by a second searched parameter: a colour bar
    for numbers (log-scaled when they are positive and span more than a factor of 10), one colour per
    value otherwise. Trials without a finite score (NaN: diverged; -inf: overflowed) are left out and
    counted in the caption.
    """
    column = _searched(result, param, "param")
    if hue is not None:
        return _draw_search_hue(result, param, column, ylabel, hue)
    scored = [trial for trial in result.trials if math.isfinite(trial["dev_score"])]
    groups = []
    for round_index, marker in zip(sorted({trial["round"] for trial in result.trials}), "o^sDvP"):
        chosen = [trial for trial in scored if trial["round"] == round_index]
        groups.append((f"round {round_index} ({len(chosen)} trials)", marker, [t[column] for t in chosen],
                       [t["dev_score"] for t in chosen]))
    if scored:
        best = scored[0]
        groups.append((f"best: {param} {best[column]:.3g}, {best['dev_score']:.4f}", "*", [best[column]],
                       [best["dev_score"]]))
    rounds = len(result.spaces)
    title = f"random search: {ylabel} against {param} ({len(result.trials)} trials, {rounds} round{'s' * (rounds > 1)})"
    failed = len(result.trials) - len(scored)
    caption = f"Every trial's {ylabel} against its {param} (log scale); later rounds zoom in around the best."
    if failed:
        caption += f" Not drawn: {failed} trial{'s' * (failed > 1)} without a finite score (diverged or overflowed)."
    return _log_scatter(title, f"{param} (log scale)", ylabel, groups), caption


def _draw_search_hue(result: SearchResult, param: str, column: str, ylabel: str, hue: str) -> tuple[Figure, str]:
    from matplotlib.colors import LogNorm, Normalize

    hue_column = _searched(result, hue, "hue")
    scored = [trial for trial in result.trials if math.isfinite(trial["dev_score"])]
    figure = _new_figure()
    axes = figure.add_subplot()
    values = [trial[hue_column] for trial in scored]
    numeric = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values)
    if numeric and values:
        positive = min(values) > 0 and max(values) > 10 * min(values)
        norm = LogNorm(min(values), max(values)) if positive else Normalize(min(values), max(values))
        for round_index, marker in zip(sorted({trial["round"] for trial in result.trials}), "o^sDvP"):
            chosen = [trial for trial in scored if trial["round"] == round_index]
            points = axes.scatter([t[column] for t in chosen], [t["dev_score"] for t in chosen], c=[t[hue_column] for t in chosen],
                                  norm=norm, cmap="viridis", marker=marker, label=f"round {round_index} ({len(chosen)} trials)",
                                  edgecolors="black", linewidths=0.3)
        figure.colorbar(points, ax=axes, label=f"{hue}{' (log scale)' if positive else ''}")
    else:
        for index, value in enumerate(sorted({repr(value) for value in values})):
            chosen = [trial for trial in scored if repr(trial[hue_column]) == value]
            axes.scatter([t[column] for t in chosen], [t["dev_score"] for t in chosen], color=_COLORS[index % len(_COLORS)],
                         label=f"{hue} = {value} ({len(chosen)})", alpha=0.8)
    axes.set_xscale("log")
    axes.set_xlabel(f"{param} (log scale)")
    axes.set_ylabel(ylabel)
    axes.set_title(f"random search: {ylabel} against {param}, coloured by {hue} ({len(result.trials)} trials)")
    axes.legend(fontsize="small")
    caption = f"Every trial's {ylabel} against its {param} (log scale), coloured by its {hue}."
    failed = len(result.trials) - len(scored)
    if failed:
        caption += f" Not drawn: {failed} trial{'s' * (failed > 1)} without a finite score (diverged or overflowed)."
    return figure, caption


def plot_history(history: Any, title: str | None = None) -> Figure:
    """The curves of a :class:`~dnnimprove.History` as a matplotlib ``Figure`` (Agg; save it with ``savefig``).

    Left: the training cost (``loss``) and, with a dev set, the dev cost (``val_loss``) per recorded epoch;
    right (when recorded): training and dev accuracy. The learning rate is on a second axis of the left
    panel when it changed during training.
    """
    from matplotlib.ticker import MaxNLocator

    from .training import History

    if not isinstance(history, History):
        raise TypeError(f"history must be a dnnimprove History (what fit returns); got {type(history).__name__}")
    if not history.epoch:
        raise ValueError("history has no recorded epochs to plot")
    curves = history.history
    accuracy = [key for key in ("accuracy", "val_accuracy") if key in curves]
    figure = _new_figure(width=10.0 if accuracy else 6.0, height=4.0)
    panels = figure.subplots(1, 2 if accuracy else 1, squeeze=False)[0]
    loss_axes = panels[0]
    for index, key in enumerate(key for key in ("loss", "val_loss") if key in curves):
        loss_axes.plot(history.epoch, curves[key], label=key, **_line_style(index))
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("cost")
    loss_axes.legend(fontsize="small", loc="upper left")
    if len(set(history.lr)) > 1:
        rate_axes = loss_axes.twinx()
        rate_axes.plot(history.epoch, history.lr, color="grey", linewidth=1, label="lr")
        rate_axes.set_ylabel("learning rate", color="grey")
    if accuracy:
        for index, key in enumerate(accuracy):
            panels[1].plot(history.epoch, curves[key], label=key, **_line_style(index))
        panels[1].set_xlabel("epoch")
        panels[1].set_ylabel("accuracy")
        panels[1].legend(fontsize="small")
    for axes in panels:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(title or f"training history ({len(history.epoch)} recorded epochs)")
    return figure


def write_search(result: SearchResult, out: str | os.PathLike, param: str = "lr", hue: str | None = None) -> list[Path]:
    """Write ``OUT/trials.csv`` (the ranked trials) and ``OUT/dev_vs_<param>.png`` (coloured by ``hue``, a
    second searched parameter, when given); returns their paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / "trials.csv"
    result.to_csv(table)
    figure, _ = draw_search(result, param, hue=hue)
    picture = folder / f"dev_vs_{param}.png"
    figure.savefig(picture)
    return [table, picture]


def draw_gradcheck(result: StudyResult) -> tuple[Figure, str]:
    from .gradcheck import CORRECT, WRONG

    checks = list({check["name"]: check for check in reversed(result.extras["gradient_checks"])}.values())[::-1]
    figure = _new_figure(grid=(1, 1), bottom=1.0)
    axes = figure.add_subplot()
    width = 0.8 / len(checks)
    names = list(checks[0]["per_tensor"])
    positions = np.arange(len(names))
    for index, check in enumerate(checks):
        values = [max(check["per_tensor"][name], 1e-16) for name in names]
        axes.bar(positions + index * width, values, width, label=f"{check['name']} (seed {check['seed']})")
    axes.axhline(CORRECT, color="green", linestyle="--", label=f"correct below {CORRECT:g}")
    axes.axhline(WRONG, color="red", linestyle="--", label=f"wrong above {WRONG:g}")
    axes.set_yscale("log")
    axes.set_xticks(positions + width * (len(checks) - 1) / 2, names, rotation=30)
    axes.set_xlabel("tensor")
    axes.set_ylabel("relative difference (log scale)")
    axes.set_title(f"{result.name}: back-propagation vs two-sided differences")
    axes.legend(fontsize="small")
    return figure, "Relative difference per tensor: the deliberately wrong layer's tensors stand out."


# -- figures of the augmentation study -------------------------------------------------------------------
def draw_augmentation_examples(result: StudyResult) -> tuple[Figure, str]:
    examples = result.extras["_examples"]
    augmented = {"original": examples, **{name: images for name, images in result.extras["_augmented"].items()
                                          if images is not None}}
    side = int(round(math.sqrt(examples.shape[1])))
    figure = _new_figure(1.2 * examples.shape[0] + 1.4, 1.3 * len(augmented) + 0.6, (len(augmented), examples.shape[0]),
                         left=0.45, right=0.1, bottom=0.35, top=0.7, wgap=0.1, hgap=0.1)
    grid = figure.subplots(len(augmented), examples.shape[0], squeeze=False)
    for row, (name, images) in zip(grid, augmented.items()):
        for axes, image in zip(row, images):
            picture = axes.imshow(image.reshape(side, side), cmap="gray_r", vmin=0.0, vmax=1.0)
            axes.set_xticks([])
            axes.set_yticks([])
        row[0].set_ylabel(name, fontsize="small")
        for axes in row[1:]:
            axes.set_axis_off()
    for index, axes in enumerate(grid[0]):
        axes.set_title(f"example {index + 1}", fontsize="small")
    grid[-1, 0].set_xlabel("8x8 pixels", fontsize="small")
    figure.colorbar(picture, ax=grid, label="pixel value (0: background)", shrink=0.8)
    figure.suptitle(f"{result.name}: training images as the network sees them (one draw)")
    return figure, "The first training digits, unchanged (top) and after one random draw of each augmentation."


def draw_augmentation_gain(result: StudyResult) -> tuple[Figure, str]:
    figure = _new_figure(7.0, 4.2, (1, 1))
    axes = figure.add_subplot()
    names = [variant.name for variant in result.variants]
    for index, (variant, color) in enumerate(zip(result.variants, _COLORS)):
        values = [run.test_accuracy for run in variant.runs]
        mean, spread = variant.metric("test_accuracy")
        axes.errorbar([index], [mean], yerr=[spread], fmt="o", color=color, capsize=6, markersize=9,
                      label=f"{variant.name}: {mean:.4f} ± {spread:.4f}")
        axes.scatter(np.full(len(values), index + 0.12), values, color=color, marker="x", s=25)
    axes.set_xticks(range(len(names)), names)
    axes.set_xlim(-0.5, len(names) - 0.5)
    axes.set_xlabel("variant (x: one seed each)")
    axes.set_ylabel("test accuracy")
    gain = result.extras["gain"]
    seeds = len(result.variants[0].runs)
    axes.set_title(f"{result.name}: test accuracy over {seeds} seeds (gain {gain['mean']:+.4f} ± {gain['std']:.4f})")
    axes.legend(fontsize="small")
    return figure, ("Test accuracy of each variant: mean ± spread over seeds (circle and bar), every seed (x); the "
                    "gain of rotations and zooms is measured seed by seed.")


# -- figures of the landscape study ----------------------------------------------------------------------
def draw_landscape_paths(result: StudyResult) -> tuple[Figure, str]:
    from .studies.landscape import SURFACES

    runs = result.extras["_runs"]
    first = runs[0]["seed"]
    figure = _new_figure(5.0 * len(SURFACES), 4.6, (1, len(SURFACES)), top=0.75)
    panels = figure.subplots(1, len(SURFACES))
    for axes, surface in zip(panels, SURFACES.values()):
        x_min, x_max, y_min, y_max = surface.extent
        xx, yy = np.meshgrid(np.linspace(x_min, x_max, 200), np.linspace(y_min, y_max, 200))
        zz = surface.value(np.stack([xx, yy]))
        axes.contourf(xx, yy, zz, levels=30, cmap="Greys", alpha=0.55)
        axes.contour(xx, yy, zz, levels=15, colors="grey", linewidths=0.4)
        chosen = [run for run in runs if run["surface"] == surface.name and run["seed"] == first]
        for index, (run, color) in enumerate(zip(chosen, _COLORS)):
            path = run["path"]
            left = run["iterations"]
            label = f"{run['optimizer']}: {'not left' if left is None else f'left at {left}'}"
            axes.plot(path[:, 0], path[:, 1], color=color, linewidth=3.0 if index == 0 else 1.2,
                      linestyle="--" if index == 1 else "-", marker=".", markersize=2.5, label=label)
        axes.plot(*chosen[0]["path"][0], marker="*", color="black", markersize=12, linestyle="none", label="start")
        axes.set_xlim(x_min, x_max)
        axes.set_ylim(y_min, y_max)
        axes.set_xlabel("x (theta[0])")
        axes.set_ylabel("y (theta[1])")
        axes.set_title(f"{surface.name}: J = {surface.formula}, lr {chosen[0]['lr']:g}", fontsize="medium")
        axes.legend(fontsize="x-small", loc="upper right")
    figure.suptitle(f"{result.name}: optimizer trajectories on the contours of J (seed {first}, "
                    f"{result.extras['iterations']} iterations)")
    return figure, ("Each optimizer's path over the cost contours (darker: higher cost), from the star: gradient "
                    "descent creeps off the saddle and across the plateau and zig-zags in the ravine.")


def draw_landscape_iterations(result: StudyResult) -> tuple[Figure, str]:
    summary = result.extras["summary"]
    names = list(summary)
    surfaces = list(summary[names[0]])
    cap = result.extras["iterations"]
    figure = _new_figure(7.5, 4.4, (1, 1))
    axes = figure.add_subplot()
    width = 0.8 / len(names)
    positions = np.arange(len(surfaces))
    for index, (name, color) in enumerate(zip(names, _COLORS)):
        means = [summary[name][surface]["mean"] for surface in surfaces]
        spreads = [summary[name][surface]["std"] for surface in surfaces]
        axes.bar(positions + index * width, means, width, yerr=spreads, capsize=3, color=color, label=name)
    axes.axhline(cap, color="red", linestyle="--", linewidth=1, label=f"iteration budget ({cap})")
    axes.set_yscale("log")
    axes.set_xticks(positions + width * (len(names) - 1) / 2, surfaces)
    axes.set_xlabel("surface")
    axes.set_ylabel("iterations to leave (log scale)")
    seeds = result.extras["seeds"]
    axes.set_title(f"{result.name}: iterations to leave the saddle, the plateau, the ravine ({seeds} seeds)")
    axes.legend(fontsize="small")
    return figure, ("Iterations each optimizer needs to leave each surface's slow region: mean ± spread over the "
                    "seeds' starting points (a run that never leaves counts as the budget plus one).")


# -- figures of the exponentially weighted averages study ---------------------------------------------------
def draw_ewma_curves(result: StudyResult) -> tuple[Figure, str]:
    series, seasonal = result.extras["_series"]
    days = np.arange(1, len(series) + 1)
    figure = _new_figure(9.0, 4.8, (1, 1))
    axes = figure.add_subplot()
    axes.scatter(days, series, s=5, color="grey", alpha=0.6, label="daily temperature θ_t")
    axes.plot(days, seasonal, color="black", linewidth=1, linestyle=":", label="seasonal curve (no noise)")
    end = int(len(series) * 0.75)
    for index, (beta, color) in enumerate(zip(result.extras["betas"], _COLORS)):
        average = ewma(series, beta)
        window = 1 / (1 - beta)
        axes.plot(days, average, color=color, linewidth=1.6, label=f"β = {beta:g} (window ≈ {window:.0f} days)")
        low = float(np.min(series)) - 1.0 - 0.9 * index
        axes.plot([end - window, end], [low, low], color=color, linewidth=4, solid_capstyle="butt")
    axes.annotate("the last 1/(1-β) days averaged at day " + str(end), (end, float(np.min(series)) - 1.0),
                  xytext=(6, 4), textcoords="offset points", fontsize="small")
    axes.set_xlabel("day")
    axes.set_ylabel("temperature (°C)")
    axes.set_title(f"{result.name}: bias-corrected averages of a noisy year (seed {result.extras['_seed']})")
    axes.legend(fontsize="small", loc="upper left")
    return figure, ("Daily temperatures and their exponentially weighted averages: β = 0.98 is smoothest and latest, "
                    "β = 0.5 follows the noise; the bars mark each average's ~1/(1-β)-day window.")


def draw_ewma_start(result: StudyResult) -> tuple[Figure, str]:
    series, seasonal = result.extras["_series"]
    shown = min(len(series), 80)
    days = np.arange(1, shown + 1)
    figure = _new_figure(8.0, 4.4, (1, 1))
    axes = figure.add_subplot()
    axes.scatter(days, series[:shown], s=8, color="grey", alpha=0.6, label="daily temperature θ_t")
    for beta, color in zip(result.extras["betas"][1:], _COLORS[1:]):
        axes.plot(days, ewma(series, beta, bias_correction=False)[:shown], color=color, linestyle="--",
                  label=f"β = {beta:g}, v_0 = 0, no correction")
        axes.plot(days, ewma(series, beta)[:shown], color=color, label=f"β = {beta:g}, bias-corrected v_t/(1-β^t)")
        axes.plot(days, ewma(series, beta, bias_correction=False, v0="first")[:shown], color=color, linestyle=":",
                  linewidth=2.2, label=f"β = {beta:g}, v_0 = θ_1, no correction")
        axes.axvline(1 / (1 - beta), color=color, linewidth=0.8, linestyle=":")
    axes.set_xlabel("day (dotted: 1/(1-β))")
    axes.set_ylabel("temperature (°C)")
    axes.set_title(f"{result.name}: the start-up bias and its correction (first {shown} days)")
    axes.set_ylim(top=float(np.max(series[:shown])) + 6)
    axes.legend(fontsize="x-small", loc="upper left", ncol=2)
    return figure, ("Started at v_0 = 0 the averages begin near 0 and need about 1/(1-β) days to catch up; divided by "
                    "1 - β^t, or started at the first value, they start on the data.")


def draw_ewma_weights(result: StudyResult) -> tuple[Figure, str]:
    figure = _new_figure(7.0, 4.2, (1, 1))
    axes = figure.add_subplot()
    for beta, color in zip(result.extras["betas"], _COLORS):
        window = 1 / (1 - beta)
        ages = np.arange(0, int(3 * window) + 1)
        axes.plot(ages, (1 - beta) * beta**ages / (1 - beta), color=color, label=f"β = {beta:g}")
        axes.axvline(window, color=color, linestyle=":", linewidth=1)
    axes.axhline(1 / math.e, color="black", linestyle="--", linewidth=0.8, label="1/e")
    axes.set_xscale("symlog", linthresh=1.0)
    axes.set_xlim(0, 3 / (1 - max(result.extras["betas"])))
    axes.set_xlabel("age of a value k (days ago, log scale; dotted: 1/(1-β))")
    axes.set_ylabel("weight β^k relative to today's")
    axes.set_title(f"{result.name}: how fast old values are forgotten")
    axes.legend(fontsize="small")
    return figure, "Weight of a value k days old relative to today's: it falls to about 1/e after 1/(1-β) days."


# -- figures of the batch-norm noise study ----------------------------------------------------------------
def draw_batch_norm_gap(result: StudyResult) -> tuple[Figure, str]:
    effects = result.extras["effect"]
    labels = list(effects)
    by_name = {variant.name: variant for variant in result.variants}
    positions = np.arange(len(labels))
    figure = _new_figure(10.0, 4.2, (1, 2), top=0.7)
    gaps, removed = figure.subplots(1, 2)
    for offset, (kind, color) in enumerate(zip(("plain", "batch_norm"), _COLORS)):
        values = [by_name[f"{kind}_batch_{label}"].metric("gap") for label in labels]
        gaps.errorbar(positions + 0.06 * (2 * offset - 1), [v[0] for v in values], yerr=[v[1] for v in values],
                      color=color, marker="o", capsize=4, label=kind.replace("_", " "))
    gaps.set_ylabel("train − test accuracy (gap)")
    gaps.set_title("train/test gap, mean ± spread")
    removed.errorbar(positions, [effects[label]["mean"] for label in labels],
                     yerr=[effects[label]["std"] for label in labels], color="C2", marker="o", capsize=4,
                     label="gap removed by batch norm")
    for index, label in enumerate(labels):
        removed.scatter(np.full(len(effects[label]["per_seed"]), index + 0.08), effects[label]["per_seed"],
                        color="C2", marker="x", s=25, label="one seed" if index == 0 else None)
    removed.axhline(0, color="black", linewidth=0.8)
    removed.set_ylabel("gap(plain) − gap(batch norm)")
    removed.set_title("batch norm's regularizing effect")
    m = result.data.X_train.shape[0]
    for axes in (gaps, removed):
        axes.set_xticks(positions, [f"{label} ({m})" if label == "full" else label for label in labels])
        axes.set_xlabel("mini-batch size")
        axes.legend(fontsize="small")
    seeds = len(result.variants[0].runs)
    figure.suptitle(f"{result.name}: {result.extras['steps']} steps per run, {seeds} seeds")
    return figure, ("Left: train/test gap with and without batch norm at each mini-batch size. Right: the part of the "
                    "gap batch norm removes, seed by seed (x): smaller on the full batch, whose statistics carry no noise.")


# -- L1's sparsity -------------------------------------------------------------------------------------------
def draw_sparsity(result: StudyResult) -> tuple[Figure, str]:
    from .studies.runner import NEAR_ZERO

    figure = _new_figure(10.0, 4.2, (1, 2), bottom=0.95, top=0.7)
    histogram, fractions = figure.subplots(1, 2)
    bins = np.linspace(-6, 1, 36)
    for variant, color in zip(result.variants, _COLORS):
        model = variant.runs[0].model
        weights = np.abs(model.params[model.weight_mask != 0])
        histogram.hist(np.log10(np.maximum(weights, 1e-6)), bins=bins, histtype="step", color=color, linewidth=1.5,
                       label=variant.name)
    histogram.axvline(np.log10(NEAR_ZERO), color="black", linestyle="--", linewidth=0.8, label=f"|W| = {NEAR_ZERO:g}")
    histogram.set_xlabel("log10 |W| (weights below 1e-6 counted at -6)")
    histogram.set_ylabel("weights")
    histogram.set_title("sizes of the weights (first seed)")
    histogram.legend(fontsize="small")
    names = [variant.name for variant in result.variants]
    values = [variant.metric("near_zero") for variant in result.variants]
    fractions.bar(names, [value[0] for value in values], yerr=[value[1] for value in values], capsize=4,
                  color=_COLORS[: len(names)])
    fractions.tick_params(axis="x", labelrotation=20)
    fractions.set_xlabel("variant")
    fractions.set_ylabel(f"fraction of weights with |W| < {NEAR_ZERO:g}")
    fractions.set_title("near-zero weights, mean ± spread over seeds")
    figure.suptitle(f"{result.name}: how sparse each regularizer leaves the network")
    return figure, ("L1's constant pull towards 0 leaves most weights near zero (a sparse network), around the size of "
                    "one step; L2's pull, proportional to the weight, shrinks most weights without zeroing them (its "
                    "spike at the left: weights that no longer get a gradient from the data, e.g. into dead units).")


FIGURES: dict[str, Callable[[StudyResult], tuple[Figure, str]]] = {
    "cost": draw_cost,
    "cost_time": draw_cost_time,
    "iterations": draw_iterations,
    "boundary": draw_boundary,
    "lr": draw_lr,
    "confusion": draw_confusion,
    "tuning": draw_tuning,
    "gradcheck": draw_gradcheck,
    "augmentation_examples": draw_augmentation_examples,
    "augmentation_gain": draw_augmentation_gain,
    "landscape_paths": draw_landscape_paths,
    "landscape_iterations": draw_landscape_iterations,
    "ewma_curves": draw_ewma_curves,
    "ewma_start": draw_ewma_start,
    "ewma_weights": draw_ewma_weights,
    "batch_norm_gap": draw_batch_norm_gap,
    "sparsity": draw_sparsity,
}


def draw_figures(result: Result, folder: Path) -> list[dict[str, str]]:
    """Draw the study's figures into ``folder``; returns ``[{"file": ..., "caption": ...}]``."""
    figures = []
    for name in result.figures:
        path = folder / f"{name}.png"
        figure, caption = FIGURES[name](result)
        if getattr(result, "smoke_test", False):
            figure.text(0.5, 0.5, "SMOKE TEST", ha="center", va="center", fontsize=44, color="#b42318", alpha=0.15,
                        rotation=20, transform=figure.transFigure)
            caption = "Smoke test (a few epochs, not results). " + caption
        figure.savefig(path)
        figures.append({"file": path.name, "caption": caption})
    return figures


# -- files ------------------------------------------------------------------------------------------------
def write_study(result: Result, out: str | os.PathLike, figures: bool = True) -> Path:
    """Write ``OUT/<study>/results.json`` (and the figures); returns the path of results.json."""
    folder = Path(out) / result.name
    folder.mkdir(parents=True, exist_ok=True)
    summary = result.to_json()
    summary["reading"] = reading(result)
    summary["environment"] = _environment(result)
    summary["figures"] = draw_figures(result, folder) if figures else []
    path = folder / "results.json"
    path.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    return path


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; }
table.facts th { text-align: left; } table.facts td { text-align: left; }
td.text, th.text { text-align: left; }
nav { line-height: 1.8; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; max-width: 700px; }
.reading { background: #f7f7f2; border-left: 4px solid #999; padding: 0.4em 0.8em; }
.ok { color: #1a7f37; } .no { color: #b42318; } .skipped { color: #666; }
.smoke { background: #fff4e5; border: 2px solid #d9822b; padding: 0.5em 0.8em; font-weight: bold; }
.badge { background: #d9822b; color: white; font-size: 0.6em; padding: 0.1em 0.5em; border-radius: 0.3em;
         vertical-align: middle; }
nav a { margin-right: 1em; }
"""

_KEY_NAMES = {"n_samples": "examples", "test_set": "test set", "dev_fraction": "dev fraction",
              "test_fraction": "test fraction", "split_seed": "split seed", "standardize": "standardized"}


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "x".join(str(item) for item in value)
    return str(value)


def _settings_text(settings: dict[str, Any]) -> str:
    parts = []
    for key, value in settings.items():
        if value is None or key == "name":
            continue
        name = _KEY_NAMES.get(key, key.replace("_", " "))
        if isinstance(value, dict):
            parts.append(f"{name}: {_settings_text(value)}")
        elif key == "n_samples":
            parts.append(f"{value} {name}")
        else:
            parts.append(f"{name} {_value_text(value)}")
    return ", ".join(parts)


def dataset_text(dataset: dict[str, Any]) -> str:
    """A dataset's settings as a phrase: ``circles: 300 examples, noise 0.05, seed 1, test set: ...``."""
    details = _settings_text(dataset)
    return f"{dataset.get('name', 'data')}: {details}" if details else str(dataset.get("name", "data"))


def _environment(result: Result) -> dict[str, Any]:
    """Where and when the study ran: the machine, its BLAS library, the engine, the date."""
    import platform
    from datetime import datetime, timezone

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        found = [f"{pool.get('internal_api', '?')} {pool.get('version') or ''} ({pool.get('architecture') or '?'} kernels)"
                 .replace("  ", " ") for pool in threadpool_info() if pool.get("user_api") == "blas"]
        blas = "; ".join(dict.fromkeys(found)) or blas
    except Exception:  # noqa: BLE001 -- the report must not fail on an odd BLAS setup
        pass
    engine = result.extras.get("engine")
    if engine is None:
        import inspect

        from .training import fit

        parameter = inspect.signature(fit).parameters.get("engine")
        engine = parameter.default if parameter is not None else "numpy"
    return {"machine": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}", "blas": blas,
            "engine": str(engine), "python": platform.python_version(), "numpy": np.__version__,
            "written": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _check_item(check: dict[str, Any]) -> str:
    if check["ok"] is None:
        return f'<li class="skipped">&ndash; not evaluated (smoke test): {html.escape(check["text"])}</li>'
    css, mark = ("ok", "&#10003;") if check["ok"] else ("no", "&#10007;")
    return f'<li class="{css}">{mark} {html.escape(check["text"])}</li>'


def _section(summary: dict[str, Any]) -> str:
    name = html.escape(summary["study"])
    smoke = summary.get("smoke_test", False)
    header, rows = study_table(summary)
    badge = ' <span class="badge">smoke test</span>' if smoke else ""
    parts = [f'<section id="{name}">', f"<h2>{html.escape(summary['title'])}{badge}</h2>"]
    if smoke:
        parts.append('<p class="smoke">Smoke test (--quick): a few epochs per run, to check that the study runs. '
                     "These numbers are not results and the conclusions are not evaluated.</p>")
    hidden = "-".join(str(width) for width in summary["architecture"]["hidden"]) or "none"
    parts.append(f"<p>Mode: <b>{html.escape(summary['mode'])}{' (smoke test)' if smoke else ''}</b> &middot; "
                 f"data: {html.escape(dataset_text(summary['dataset']))} &middot; hidden layers {html.escape(hidden)} "
                 f'&middot; <a href="{name}/results.json">results.json</a> &middot; <a href="#summary">summary</a></p>')
    lines = summary.get("reading", [])
    parts.append('<p class="reading">' + "<br>".join(html.escape(line) for line in lines) + "</p>")
    parts.append("<table><tr>" + "".join(f"<th>{html.escape(cell)}</th>" for cell in header) + "</tr>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>")
    parts.append("</table>")
    if summary["checks"]:
        parts.append("<ul>" + "".join(_check_item(check) for check in summary["checks"]) + "</ul>")
    for figure in summary.get("figures", []):
        source = f"{name}/{html.escape(figure['file'])}"
        parts.append(f'<figure><a href="{source}"><img src="{source}" alt="{html.escape(figure["caption"])}"></a>'
                     f"<figcaption>{html.escape(figure['caption'])}</figcaption></figure>")
    parts.append("</section>")
    return "\n".join(parts)


def held_text(checks: list[dict[str, Any]]) -> tuple[str, str]:
    """``("3 / 3 hold", css class)`` for a study's checks; ``not evaluated`` for a smoke test's."""
    if not checks:
        return "no checks", "skipped"
    if any(check["ok"] is None for check in checks):
        return f"{len(checks)} not evaluated (smoke test)", "skipped"
    held = sum(bool(check["ok"]) for check in checks)
    return f"{held} / {len(checks)} hold", "ok" if held == len(checks) else "no"


def _summary(summaries: list[dict[str, Any]]) -> str:
    """The report's first section: what ran, how many conclusions held, where and when, with links."""
    smoke = any(summary.get("smoke_test") for summary in summaries)
    checks = [check for summary in summaries for check in summary["checks"]]
    evaluated = [check for check in checks if check["ok"] is not None]
    held = sum(bool(check["ok"]) for check in evaluated)
    modes = sorted({summary["mode"] for summary in summaries})
    seeds = sorted({len(run["seeds"]) for summary in summaries for run in summary["runs"]})
    environments = [summary["environment"] for summary in summaries if summary.get("environment")]
    latest = max(environments, key=lambda environment: environment["written"]) if environments else {}
    seconds = sum(summary.get("seconds", 0.0) for summary in summaries)
    if smoke:
        conclusions = (f"not evaluated: {len(checks) - len(evaluated)} of {len(checks)} come from a smoke test (--quick)"
                       + (f"; {held} / {len(evaluated)} of the others hold" if evaluated else ""))
        css = "skipped"
    else:
        conclusions, css = f"{held} / {len(checks)} hold", "ok" if held == len(checks) else "no"
    mode = ", ".join(modes)
    if seeds:
        mode += f" ({' or '.join(map(str, seeds))} seed{'s' * (seeds != [1])} per variant)"
    facts = [("studies", str(len(summaries))), ("conclusions", f'<span class="{css}">{html.escape(conclusions)}</span>'),
             ("mode", html.escape(mode + (", SMOKE TEST" if smoke else ""))),
             ("engine", html.escape(latest.get("engine", "-"))), ("machine", html.escape(latest.get("machine", "-"))),
             ("BLAS", html.escape(latest.get("blas", "-"))),
             ("time", html.escape(f"{seconds:.1f} s of training; written {latest.get('written', '-')}"))]
    parts = ['<section id="summary">', "<h2>Summary</h2>"]
    if smoke:
        parts.append('<p class="smoke">SMOKE TEST: these runs had a few epochs each (--quick). They check that the '
                     "studies run; their numbers are not results and the course's conclusions are not evaluated.</p>")
    parts.append('<table class="facts">' + "".join(f"<tr><th>{key}</th><td>{value}</td></tr>" for key, value in facts)
                 + "</table>")
    parts.append('<table><tr><th>study</th><th class="text">compares</th><th>conclusions</th><th>seconds</th>'
                 "<th>data</th></tr>")
    for summary in summaries:
        name = html.escape(summary["study"])
        text, css = held_text(summary["checks"])
        parts.append(f'<tr><td><a href="#{name}">{name}</a></td><td class="text">{html.escape(summary["title"])}</td>'
                     f'<td class="{css}">{html.escape(text)}</td><td>{summary.get("seconds", 0.0):.1f}</td>'
                     f'<td><a href="{name}/results.json">results.json</a></td></tr>')
    parts.append("</table>")
    parts.append("<p>Robust mode reports the mean &plusmn; standard deviation over seeds in the tables and the median "
                 "over seeds in the cost figures; course-exact mode reproduces the course's published figures. Some runs "
                 "are chaotic (large random initialization, a plain deep network at a large learning rate): their value "
                 "on one seed depends on the machine's rounding (BLAS kernel, CPU), their spread over seeds does not "
                 "much.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def write_index(out: str | os.PathLike, order: list[str] | None = None) -> Path:
    """Write ``OUT/index.html``: a summary, then a section for every ``OUT/<study>/results.json`` (``order`` first)."""
    out = Path(out)
    found = {path.parent.name: path for path in sorted(out.glob("*/results.json"))}
    names = [name for name in (order or []) if name in found] + sorted(set(found) - set(order or []))
    summaries = [json.loads(found[name].read_text()) for name in names]
    smoke = any(summary.get("smoke_test") for summary in summaries)
    title = "dnnimprove: the classic studies" + (" (SMOKE TEST)" if smoke else "")
    body = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Written by <code>dnnimprove study</code>: one section per study with its table, its checks of the "
        "course's conclusions, its figures and a two-line reading.</p>",
        '<nav><a href="#summary">summary</a> '
        + " ".join(f'<a href="#{html.escape(s["study"])}">{html.escape(s["study"])}</a>' for s in summaries) + "</nav>",
        _summary(summaries),
    ]
    body += [_section(summary) for summary in summaries]
    body.append("</body></html>")
    path = out / "index.html"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path


# -- the basic recipe ---------------------------------------------------------------------------------------
def draw_recipe_cost(result: Any) -> tuple[Figure, str]:
    """Training cost against epochs of every step of a recipe; kept steps solid, rejected ones dashed."""
    figure = _new_figure()
    axes = figure.add_subplot()
    for step in result.steps:
        if step.cost:
            axes.plot(step.cost_epochs, step.cost, color=_COLORS[step.index % len(_COLORS)],
                      linestyle="-" if step.kept else "--", label=f"{step.index}: {step.remedy}")
    axes.set_yscale("log")
    axes.set(title="Basic recipe: training cost of each step", xlabel="epoch", ylabel="training cost (log scale)")
    axes.legend(fontsize="small", ncol=2)
    return figure, "Training cost of every step's network; solid: kept (the dev error improved), dashed: rejected."


def draw_recipe_errors(result: Any) -> tuple[Figure, str]:
    """Train and dev error per step, with the baseline (Bayes) error as a line."""
    figure = _new_figure()
    axes = figure.add_subplot()
    index = [step.index for step in result.steps]
    axes.plot(index, [step.train_error for step in result.steps], "o-", color="C0", label="train error")
    axes.plot(index, [step.dev_error for step in result.steps], "s-", color="C1", label="dev error")
    kept = [step for step in result.steps if step.kept]
    axes.plot([step.index for step in kept], [step.dev_error for step in kept], "k*", markersize=11, label="kept")
    axes.axhline(result.bayes_error, color="grey", linestyle=":", label=f"baseline error ({result.bayes_source})")
    axes.set_xticks(index, [f"{step.index}\n{step.remedy}" for step in result.steps], fontsize="x-small")
    axes.set(title="Basic recipe: train and dev error per step", ylabel="error")
    axes.legend(fontsize="small")
    return figure, ("Train error minus the baseline error is the avoidable bias, dev minus train error the "
                    "variance; a step is kept only when its dev error improves.")


def write_recipe(result: Any, out: str | os.PathLike) -> Path:
    """Write ``OUT/recipe.json``, ``OUT/recipe_cost.png``, ``OUT/recipe_errors.png`` and ``OUT/recipe.html``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = result.to_json()
    figures = []
    for name, draw in (("recipe_cost", draw_recipe_cost), ("recipe_errors", draw_recipe_errors)):
        figure, caption = draw(result)
        figure.savefig(out / f"{name}.png")
        figures.append({"file": f"{name}.png", "caption": caption})
    summary["figures"] = figures
    (out / "recipe.json").write_text(json.dumps(summary, indent=2, allow_nan=False, default=str) + "\n")
    rows = []
    for step in result.steps:
        css = "ok" if step.kept else "no"
        rows.append(f'<tr><td>{step.index}</td><td>{html.escape(step.remedy)}</td><td>{step.train_error:.4f}</td>'
                    f'<td>{step.dev_error:.4f}</td><td class="{css}">{"kept" if step.kept else "rejected"}</td>'
                    f"<td>{html.escape(step.verdict)}</td><td>{html.escape(step.reason)}</td>"
                    f"<td>{step.seconds:.1f}</td></tr>")
    final = (f"test {result.score_name} <b>{result.test_score:.4f}</b>" if result.test_score is not None
             else "no test set")
    model = f' &middot; model: <a href="{html.escape(Path(result.model_path).name)}">{html.escape(Path(result.model_path).name)}</a>' \
        if result.model_path else ""
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>dnnimprove recipe</title>',
        f"<style>{_STYLE}</style></head><body>",
        "<h1>The basic recipe</h1>",
        f'<p class="reading">Task: {html.escape(result.task)} &middot; baseline error {result.bayes_error:.4f} '
        f"({html.escape(result.bayes_source)}) &middot; tolerance {result.tolerance:g}<br>"
        f"Dev error measured by {html.escape(result.validation)}<br>"
        f"Stopped: {html.escape(result.stopped)}<br>Final: {html.escape(str(summary['final_config']))} &middot; "
        f"{final}{model}" + (f"<br>Final model: {html.escape(result.refit)}" if result.refit else "") + "</p>",
        "<table><tr><th>step</th><th>remedy</th><th>train error</th><th>dev error</th><th>decision</th>"
        "<th>verdict</th><th>next</th><th>s</th></tr>",
        *rows,
        "</table>",
    ]
    for figure in figures:
        body.append(f'<figure><img src="{figure["file"]}" alt="{html.escape(figure["caption"])}">'
                    f"<figcaption>{html.escape(figure['caption'])}</figcaption></figure>")
    body.append("</body></html>")
    path = out / "recipe.html"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path
