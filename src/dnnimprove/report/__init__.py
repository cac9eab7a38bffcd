"""Tables, figures and the HTML report of the studies (the only package that draws).

``write_study(result, out)`` writes ``OUT/<name>/results.json`` and the result's figures (PNG, Agg,
no pyplot state) for a study's :class:`~dnnimprove.studies.StudyResult` or one ``dnnimprove train`` run's
:class:`~dnnimprove.studies.single.TrainResult` (both give ``name``, ``lesson``, ``figures``, ``title``, ``mode``,
``data``, ``variants``, ``checks``, ``extras``, ``smoke_test`` and ``to_json()``); ``write_index(out)`` writes ``OUT/index.html`` with one section per study found under
``OUT`` (its table, figures and a two-line reading), built from the ``results.json`` files so that
studies run one at a time end up in one report. ``text_table(result)`` is the terminal table.
``write_search(result, out)`` writes a hyperparameter search's ranked trials (CSV) and its scatter of dev
score against the learning rate (``draw_search``).

Modules: :mod:`.text` (tables and readings), :mod:`.figures` (what any study may draw, and the drawing
helpers), :mod:`.study_figures` (single studies' figures, the ``FIGURES`` registry), :mod:`.pages` (results.json
and index.html), :mod:`.recipe` (the basic recipe's page).

Figures: cost against epochs (per variant, mean over seeds), the cost of every mini-batch step with
its exponentially weighted average (:func:`dnnimprove.ewma`) drawn over the noise, cost against wall time, decision
boundaries of 2-D datasets, learning rate against epoch, a tuning scatter on a log axis, a confusion
matrix and the per-tensor gradient-check differences. Each has a title, labelled axes and a legend.
"""

from __future__ import annotations

from .figures import (COINCIDE_RTOL, SMOOTHING, coinciding, draw_boundary, draw_confusion, draw_cost, draw_cost_time,
                      draw_gradcheck, draw_iterations, draw_lr, draw_search, draw_tuning, plot_history, smoothing_for,
                      write_search)
from .pages import dataset_text, held_text, write_index, write_study
from .recipe import draw_recipe_cost, draw_recipe_errors, write_recipe
from .study_figures import FIGURES, draw_figures
from .text import Result, reading, study_table, table_rows, text_table

__all__ = [
    "FIGURES", "write_study", "write_index", "text_table", "reading", "draw_figures", "draw_search", "write_search",
    "draw_recipe_cost", "draw_recipe_errors", "write_recipe", "Result", "SMOOTHING", "COINCIDE_RTOL", "table_rows",
    "study_table", "coinciding", "draw_cost", "smoothing_for", "plot_history", "dataset_text", "held_text",
]
