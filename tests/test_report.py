"""The report: results.json in the issue's schema, figures with title/axes/legend, index.html links."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

from dnnimprove import report
from dnnimprove.studies import get_study, run_study

RUN_KEYS = {"name", "settings", "seeds", "train_accuracy", "test_accuracy", "final_cost", "epochs", "seconds"}


@pytest.fixture(scope="module")
def quick_results():
    """Quick runs of studies covering every figure kind (a few epochs, two seeds)."""
    names = ["optimization", "minibatch", "softmax", "gradient_checking", "tuning", "augmentation", "landscape",
             "ewma", "batch_norm_noise", "regularization"]
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
    assert sections == ["summary", *quick_results]
    for name in quick_results:
        assert f'href="#{name}"' in page and f'href="{name}/results.json"' in page
    for source in re.findall(r'<img src="([^"]+)"', page):
        assert (written / source).is_file(), source
    assert page.count("<table>") == len(quick_results) + 1  # and the summary's
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
    assert re.findall(r'<section id="([^"]+)">', page) == ["summary", "gradient_checking", "softmax"]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_search_scatter_draws_every_scored_trial_on_a_log_lr_axis_and_stars_the_best(tmp_path):
    import math

    import numpy as np

    import dnnimprove as dn
    from dnnimprove.search import LogUniform, coarse_to_fine

    X = np.random.default_rng(0).normal(size=(80, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    space = {"lr": LogUniform(1e-3, 1e4), "hidden_layer_sizes": [(4,)]}  # the largest rates diverge
    result = coarse_to_fine(dn.DNNRegressor(optimizer="gd", epochs=5), space, X, y, n_trials=8, rounds=2, seed=1)
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


def test_search_scatter_hue_colours_the_trials_by_a_second_parameter(tmp_path):
    import math

    import numpy as np

    import dnnimprove as dn
    from dnnimprove.search import LogUniform, random_search

    X = np.random.default_rng(0).normal(size=(60, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    space = {"lr": LogUniform(1e-3, 1e-1), "l2": LogUniform(1e-4, 1.0), "activation": ["relu", "tanh"]}
    result = random_search(dn.DNNRegressor(epochs=3, hidden_layer_sizes=(4,)), space, X, y, n_trials=6, seed=0, refit=False)
    scored = [trial for trial in result.trials if math.isfinite(trial["dev_score"])]
    figure, caption = report.draw_search(result, "lr", ylabel="dev R^2", hue="l2")
    axes, colour_bar = figure.axes
    assert colour_bar.get_ylabel() == "l2 (log scale)" and "coloured by its l2" in caption
    np.testing.assert_allclose(np.concatenate([c.get_array() for c in axes.collections]),
                               [t["l2"] for round_ in sorted({t["round"] for t in scored}) for t in scored if t["round"] == round_])
    figure, _ = report.draw_search(result, "lr", hue="activation")
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert sorted(label.split(" (")[0] for label in labels) == ["activation = 'relu'", "activation = 'tanh'"]
    with pytest.raises(ValueError, match="hue 'beta' must name one searched parameter"):
        report.draw_search(result, "lr", hue="beta")
    written = report.write_search(result, tmp_path, hue="l2")
    assert written[1].exists()


def test_plot_history_draws_loss_and_accuracy_curves_as_history_holds_them():
    import numpy as np

    import dnnimprove as dn

    X, y = dn.datasets.moons(n_samples=60, noise=0.2, seed=0)
    model = dn.Sequential([dn.Dense(4), dn.ReLU(), dn.Dense(1)], seed=0)
    history = model.fit(X, y, epochs=4, validation_data=(X[:10], y[:10]))
    figure = dn.plot_history(history)
    loss_axes, accuracy_axes = figure.axes
    lines = {line.get_label(): line for axes in figure.axes for line in axes.get_lines()}
    np.testing.assert_array_equal(lines["loss"].get_ydata(), history.cost)
    np.testing.assert_array_equal(lines["val_loss"].get_ydata(), history.val_cost)
    np.testing.assert_array_equal(lines["val_accuracy"].get_xdata(), history.epoch)
    assert accuracy_axes.get_ylabel() == "accuracy"
    plain = dn.plot_history(model.fit(X, y, epochs=2))
    assert len(plain.axes) == 1
    with pytest.raises(TypeError, match="history must be a dnnimprove History"):
        dn.plot_history({"loss": [1.0]})
    with pytest.raises(ValueError, match="no recorded epochs"):
        dn.plot_history(dn.History())



# -- the summary, the links, smoke tests ----------------------------------------------------------------
class _Page(HTMLParser):
    """Every id, link target and image source of a page, and the text of each summary-table row."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.targets: list[str] = []
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        for key in ("href", "src"):
            if key in attributes:
                self.targets.append(attributes[key])
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._row:
            self._row[-1] += data


def parse(path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def broken_links(folder, page: _Page) -> list[str]:
    broken = []
    for target in page.targets:
        if target.startswith("#"):
            if target[1:] not in page.ids:
                broken.append(target)
        elif not (folder / target).is_file():
            broken.append(target)
    return broken


def test_the_summary_counts_studies_and_conclusions_and_every_link_resolves(written, quick_results):
    page = parse(written / "index.html")
    assert page.ids[0] == "summary" and broken_links(written, page) == []
    facts = {row[0]: row[1] for row in page.rows if len(row) == 2}
    checks = [check for result in quick_results.values() for check in result.checks]
    assert facts["studies"] == str(len(quick_results))
    assert facts["conclusions"] == f"{sum(ok for _, ok in checks)} / {len(checks)} hold"
    assert facts["mode"] == "robust (2 seeds per variant)"
    assert facts["engine"] and facts["machine"] and facts["BLAS"] and "written" in facts["time"]
    start = page.rows.index(["study", "compares", "conclusions", "seconds", "data"]) + 1
    studies = page.rows[start: start + len(quick_results)]
    assert [row[0] for row in studies] == list(quick_results)
    for row, result in zip(studies, quick_results.values()):
        held = sum(ok for _, ok in result.checks)
        assert row[2] == f"{held} / {len(result.checks)} hold"
    for name in quick_results:
        assert f"#{name}" in page.targets and f"{name}/results.json" in page.targets


def test_a_broken_link_in_the_report_is_found(written, tmp_path):
    shutil.copytree(written, tmp_path / "copy")
    (tmp_path / "copy" / "softmax" / "confusion.png").unlink()
    index = tmp_path / "copy" / "index.html"
    index.write_text(index.read_text().replace('href="#tuning"', 'href="#nowhere"'))
    assert sorted(set(broken_links(tmp_path / "copy", parse(index)))) == ["#nowhere", "softmax/confusion.png"]


def test_a_smoke_test_is_labelled_everywhere_and_evaluates_no_conclusion(quick_results, tmp_path):
    result = copy.copy(quick_results["optimization"])
    result.smoke_test = True
    report.write_study(result, tmp_path)
    html_text = report.write_index(tmp_path).read_text()
    summary = json.loads((tmp_path / "optimization" / "results.json").read_text())
    assert summary["smoke_test"] is True and all(check["ok"] is None for check in summary["checks"])
    assert not any(re.search(r": (yes|NO), ", check["text"]) for check in summary["checks"])
    assert "(SMOKE TEST)</title>" in html_text and 'class="badge">smoke test' in html_text
    assert 'class="no"' not in html_text and "&#10007;" not in html_text
    assert html_text.count("not evaluated (smoke test)") == len(result.checks) + 1  # each check, and its row
    assert "Smoke test" in summary["reading"][1]
    assert all(figure["caption"].startswith("Smoke test") for figure in summary["figures"])
    assert "SMOKE TEST" in report.text_table(summary) and "\n  NO " not in report.text_table(summary)


def test_dataset_settings_read_as_text():
    dataset = {"name": "circles", "n_samples": 300, "noise": 0.05, "seed": 1,
               "test_set": {"n_samples": 100, "noise": 0.05, "seed": 2}, "standardize": False}
    assert report.dataset_text(dataset) == ("circles: 300 examples, noise 0.05, seed 1, test set: 100 examples, "
                                            "noise 0.05, seed 2, standardized no")


def test_curves_that_coincide_are_found_and_noted():
    base = np.linspace(1.0, 0.1, 50)
    pairs = report.coinciding([("gd", base), ("momentum", base * (1 + 5e-3)), ("adam", base * 0.5)])
    assert pairs == [("gd", "momentum")]
    assert report.coinciding([("gd", base), ("momentum", base * (1 + 2e-2))]) == []


def test_coinciding_variants_get_distinct_styles_and_a_note(quick_results):
    result = copy.copy(quick_results["optimization"])
    twin = copy.copy(result.variants[0])
    twin.name = "twin"
    result.variants = [result.variants[0], twin]
    figure, caption = report.draw_cost(result)
    lines = [line for line in figure.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert len({(line.get_linestyle(), line.get_marker()) for line in lines}) == 2
    assert f"twin (= {result.variants[0].name})" in [line.get_label() for line in lines]
    assert f"twin coincides with {result.variants[0].name}" in caption


def test_one_diverging_seed_does_not_dominate_the_cost_curve(quick_results):
    result = copy.copy(quick_results["optimization"])
    variant = copy.copy(result.variants[0])
    runs = [copy.copy(run) for run in variant.runs + variant.runs[:1]]  # three seeds: a median can leave one out
    runs[1].history = copy.copy(runs[1].history)
    runs[1].history.cost = list(runs[1].history.cost)
    runs[1].history.cost[3] = 1e13
    variant.runs = runs
    result.variants = [variant]
    figure, caption = report.draw_cost(result)
    axes = figure.axes[0]
    assert axes.get_ylim()[1] < 1e3
    assert f"{variant.name}, seed {runs[1].seed}: off the scale" in [line.get_label() for line in axes.get_lines()]
    assert "Off the scale" in caption and "1e+13" in caption


def test_the_per_step_panel_shows_every_step_on_a_log_scale(quick_results):
    figure, _ = report.draw_iterations(quick_results["minibatch"])
    for axes, variant in zip(figure.axes, quick_results["minibatch"].variants):
        cost = np.asarray(variant.runs[0].history.iteration_cost)
        low, high = axes.get_ylim()
        assert axes.get_yscale() == "log" and low <= cost.min() and high >= cost.max()
    assert report.smoothing_for(90000) == pytest.approx(1 - 1 / 450)
    assert report.smoothing_for(300) == report.SMOOTHING


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_chromium_renders_the_report_with_its_summary_first(written, tmp_path):
    command = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    url = (written / "index.html").resolve().as_uri()
    dom = subprocess.run(command + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert re.findall(r'<section id="([^"]+)">', dom)[0] == "summary" and "conclusions" in dom
    shot = tmp_path / "report.png"
    subprocess.run(command + ["--window-size=1200,1600", f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
