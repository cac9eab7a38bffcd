"""The report: results.json in the issue's schema, figures with title/axes/legend, index.html links."""

from __future__ import annotations

import json
import re

import pytest

from dnnimprove import report
from dnnimprove.studies import get_study, run_study

RUN_KEYS = {"name", "settings", "seeds", "train_accuracy", "test_accuracy", "final_cost", "epochs", "seconds"}


@pytest.fixture(scope="module")
def quick_results():
    """Quick runs of studies covering every figure kind (a few epochs, two seeds)."""
    names = ["optimization", "minibatch", "softmax", "gradient_checking", "tuning", "augmentation", "landscape"]
    return {name: run_study(name, seeds=[0, 1], epochs=get_study(name).quick_epochs) for name in names}


@pytest.fixture(scope="module")
def written(quick_results, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    for result in quick_results.values():
        report.write_study(result, out)
    report.write_index(out, order=list(quick_results))
    return out


def test_results_json_follows_the_schema(written, quick_results):
    for name, result in quick_results.items():
        summary = json.loads((written / name / "results.json").read_text())
        assert summary["study"] == name and summary["mode"] == "robust"
        if "table" not in summary:  # a study with its own table (landscape) trains no network on a dataset
            assert summary["dataset"]["name"] == result.study.data.name
        assert len(summary["reading"]) == 2
        for run in summary["runs"]:
            assert RUN_KEYS <= set(run), name
            assert run["seeds"] == [0, 1]
            assert run["train_accuracy_std"] is not None and "test_accuracy_std" in run
            assert isinstance(run["settings"], dict)


def test_test_accuracy_is_null_where_there_is_no_test_set(written):
    summary = json.loads((written / "gradient_checking" / "results.json").read_text())
    assert all(run["test_accuracy"] is None for run in summary["runs"])


def test_every_figure_listed_is_a_png_on_disk(written, quick_results):
    for name, result in quick_results.items():
        summary = json.loads((written / name / "results.json").read_text())
        assert [figure["file"] for figure in summary["figures"]] == [f"{kind}.png" for kind in result.study.figures]
        for figure in summary["figures"]:
            assert (written / name / figure["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_index_links_one_section_per_study_with_its_table_figures_and_results(written, quick_results):
    page = (written / "index.html").read_text()
    sections = re.findall(r'<section id="([^"]+)">', page)
    assert sections == list(quick_results)
    for name in quick_results:
        assert f'href="#{name}"' in page and f'href="{name}/results.json"' in page
    for source in re.findall(r'<img src="([^"]+)"', page):
        assert (written / source).is_file(), source
    assert page.count("<table>") == len(quick_results)
    assert page.count('class="reading"') == len(quick_results)


@pytest.mark.parametrize("kind", sorted(report.FIGURES))
def test_every_figure_has_a_title_labelled_axes_and_a_legend(kind, quick_results):
    result = next(r for r in quick_results.values() if kind in r.study.figures) if kind != "boundary" else \
        quick_results["optimization"]
    figure, caption = report.FIGURES[kind](result)
    assert caption
    axes = [a for a in figure.axes if a.get_label() != "<colorbar>"]
    assert figure.get_suptitle() or all(a.get_title() for a in axes)
    shown = [a for a in axes if a.axison]
    assert all(a.get_ylabel() for a in shown), kind
    assert any(a.get_xlabel() for a in shown), kind  # panels sharing an x axis label it once, at the bottom
    has_legend = any(a.get_legend() is not None for a in axes) or len(figure.axes) > len(axes)  # colorbar
    assert has_legend, kind


def test_text_table_lists_every_variant_and_check(quick_results):
    result = quick_results["optimization"]
    table = report.text_table(result)
    for variant in result.variants:
        assert variant.name in table
    assert table.count("\n  ok ") + table.count("\n  NO ") == len(result.checks)


def test_index_keeps_studies_written_by_earlier_runs(tmp_path, quick_results):
    report.write_study(quick_results["softmax"], tmp_path)
    report.write_index(tmp_path)
    report.write_study(quick_results["gradient_checking"], tmp_path)
    page = report.write_index(tmp_path, order=["gradient_checking", "softmax"]).read_text()
    assert re.findall(r'<section id="([^"]+)">', page) == ["gradient_checking", "softmax"]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_search_scatter_draws_every_scored_trial_on_a_log_lr_axis_and_stars_the_best(tmp_path):
    import math

    import numpy as np

    import dnnimprove as dn
    from dnnimprove.search import LogUniform, coarse_to_fine

    X = np.random.default_rng(0).normal(size=(80, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    space = {"lr": LogUniform(1e-3, 1e4), "hidden_layer_sizes": [(4,)]}  # the largest rates diverge
    result = coarse_to_fine(dn.DNNRegressor(optimizer="gd", epochs=5), space, X, y, n_trials=8, rounds=2, seed=0)
    failed = sum(not math.isfinite(trial["dev_score"]) for trial in result.trials)
    assert failed > 0
    figure, caption = report.draw_search(result, "lr", ylabel="dev R^2")
    axes = figure.axes[0]
    assert axes.get_xscale() == "log" and axes.get_title() and axes.get_xlabel() == "lr (log scale)"
    assert axes.get_ylabel() == "dev R^2" and axes.get_legend() is not None
    points = [collection.get_offsets() for collection in axes.collections]
    assert sum(len(p) for p in points[:-1]) == len(result.trials) - failed
    np.testing.assert_array_equal(points[-1], [[result.best["lr"], result.best["dev_score"]]])
    assert f"Not drawn: {failed} trials without a finite score" in caption
    with pytest.raises(ValueError, match="param 'beta' must name one searched parameter; searched: "):
        report.draw_search(result, "beta")
    written = report.write_search(result, tmp_path)
    assert [path.name for path in written] == ["trials.csv", "dev_vs_lr.png"] and all(p.exists() for p in written)

