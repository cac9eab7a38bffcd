"""The figures of single studies (augmentation, the loss landscape, exponentially weighted averages, batch-norm
noise, L1's sparsity), the registry ``FIGURES`` of every figure a study may name, and ``draw_figures``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..optimizers import ewma
from ..studies.runner import StudyResult
from .figures import (_COLORS, _new_figure, draw_boundary, draw_confusion, draw_cost, draw_cost_time, draw_gradcheck,
                      draw_iterations, draw_lr, draw_tuning)
from .text import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
    from ..studies.landscape import SURFACES

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
    from ..studies.runner import NEAR_ZERO

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
