"""The basic recipe's report: its cost and error figures and its HTML page."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .figures import _COLORS, _new_figure
from .pages import _STYLE

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
