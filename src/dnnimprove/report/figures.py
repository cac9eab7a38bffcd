"""The report's figures that any study may draw, and what they share: the figure with its fixed layout, the
line styles, per-seed curves, and the search scatter (PNG, Agg, no pyplot state; matplotlib is imported where a
figure is drawn).

Cost against epochs (per variant, mean over seeds), the cost of every mini-batch step with its exponentially
weighted average (:func:`dnnimprove.ewma`) drawn over the noise, cost against wall time, decision boundaries of
2-D datasets, learning rate against epoch, a tuning scatter on a log axis, a confusion matrix and the per-tensor
gradient-check differences. Each has a title, labelled axes and a legend.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..optimizers import ewma
from ..search import SearchResult
from ..studies.runner import StudyResult, VariantResult, build_schedule
from .text import Result

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn: printing a table needs none of it
    from matplotlib.figure import Figure

SMOOTHING = 0.9
"""``beta`` of the exponentially weighted average drawn over per-step costs (about the last 10 steps)."""

_COLORS = [f"C{index}" for index in range(10)]


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

    from ..training import History

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
    from ..gradcheck import CORRECT, WRONG

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
