"""Random search on the right scale, coarse to fine, locally (joblib) and on a Dask cluster."""

from __future__ import annotations

import csv
import io
import math
import os

import numpy as np
import pytest
from scipy import stats
from sklearn.model_selection import RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import dnnimprove as dn
from dnnimprove.search import (
    Choice,
    HiddenLayers,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    PowersOfTwo,
    Uniform,
    coarse_to_fine,
    course_space,
    grid_search,
    narrow_space,
    random_search,
)

SMALL_SPACE = {"lr": LogUniform(1e-3, 1e-1), "hidden_layer_sizes": HiddenLayers(units=(4, 16), layers=(1, 2))}


def fingerprint(result):
    """What must not depend on where trials ran: configurations, scores, ranks."""
    return [(t["rank"], t["round"], t["trial"], t["lr"], t["hidden_layer_sizes"], t["dev_score"], t["train_score"])
            for t in result.trials]


# -- sampling on the right scale -----------------------------------------------------------------
def test_log_uniform_puts_each_decade_equally_often():
    draws = LogUniform(1e-4, 1.0).rvs(size=8000, random_state=0)
    counts = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1, 0])[0] / draws.size
    # each decade holds 1/4 of the draws; 5 binomial standard deviations is 0.024 (a linear scale gives 0.9 in the last)
    np.testing.assert_allclose(counts, 0.25, atol=5 * math.sqrt(0.25 * 0.75 / draws.size))
    assert draws.min() >= 1e-4 and draws.max() <= 1.0


def test_one_minus_log_uniform_is_the_courses_beta_formula():
    draws = OneMinusLogUniform(0.9, 0.999).rvs(size=5, random_state=3)
    # beta = 1 - 10**r, r ~ U(-3, -1): the same draws as scipy's loguniform on 1 - beta
    np.testing.assert_array_equal(draws, 1 - stats.loguniform(1 - 0.999, 1 - 0.9).rvs(size=5, random_state=3))
    many = OneMinusLogUniform(0.9, 0.999).rvs(size=4000, random_state=0)
    assert abs(np.mean(many > 0.99) - 0.5) < 5 * math.sqrt(0.25 / many.size)  # half the draws in [0.99, 0.999]


def test_integer_dimensions_draw_every_value_and_only_those():
    assert set(PowersOfTwo(16, 256).rvs(size=500, random_state=0).tolist()) == {16, 32, 64, 128, 256}
    assert set(IntUniform(1, 3).rvs(size=200, random_state=0).tolist()) == {1, 2, 3}
    assert isinstance(PowersOfTwo(16, 256).rvs(random_state=0), int)
    layers = [HiddenLayers(units=(8, 9), layers=(1, 3)).rvs(random_state=seed) for seed in range(40)]
    assert {len(sizes) for sizes in layers} == {1, 2, 3}
    assert all(len(set(sizes)) == 1 and sizes[0] in (8, 9) for sizes in layers)
    assert set(Choice(["relu", "tanh"]).rvs(size=50, random_state=0)) == {"relu", "tanh"}
    assert 0.5 <= Uniform(0.5, 1.0).rvs(random_state=0) <= 1.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LogUniform(1.0, 0.1), r"LogUniform needs low < high; got low=1, high=0.1"),
        (lambda: LogUniform(0.1, 0.1), r"LogUniform needs low < high"),
        (lambda: LogUniform(0.0, 1.0), r"LogUniform needs positive bounds on a log scale; got low=0, high=1"),
        (lambda: LogUniform(-1.0, 1.0), r"positive bounds"),
        (lambda: LogUniform(1e-4, float("inf")), r"LogUniform high must be a finite number"),
        (lambda: OneMinusLogUniform(0.9, 1.0), r"OneMinusLogUniform high must be in \[0, 1\); got 1.0"),
        (lambda: IntUniform(3, 3), r"IntUniform needs low < high; got low=3, high=3"),
        (lambda: IntUniform(1, 2.5), r"IntUniform high must be an integer; got 2.5"),
        (lambda: PowersOfTwo(10, 64), r"PowersOfTwo low must be a power of two \(1, 2, 4, ...\); got 10"),
        (lambda: Choice([]), r"Choice needs a non-empty list of values"),
        (lambda: Uniform(1.0, 0.0), r"Uniform needs low < high"),
        (lambda: HiddenLayers(units=(0, 8)), r"HiddenLayers units must be >= 1; got IntUniform\(0, 8\)"),
        (lambda: HiddenLayers(layers=Choice([-1, 2])), r"HiddenLayers layers must be >= 0"),
    ],
)
def test_invalid_ranges_are_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_a_space_plugs_into_scikit_learns_randomized_search(moons_200):
    X, y = moons_200
    search = RandomizedSearchCV(dn.DNNClassifier(epochs=5, random_state=0), course_space("momentum"), n_iter=3, cv=2,
                                random_state=0).fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 3 and all(0.9 <= p["beta"] <= 0.999 and 1e-4 <= p["lr"] <= 1 for p in params)


# -- narrowing ---------------------------------------------------------------------------------
def test_narrowing_zooms_in_on_each_dimensions_own_axis():
    # log axis: [-3, log10 3e-3] widened by 0.1 x 4 decades on each side
    narrowed = LogUniform(1e-4, 1.0).narrowed([1e-3, 3e-3], margin=0.1)
    np.testing.assert_allclose([narrowed.low, narrowed.high], [10**-3.4, 3e-3 * 10**0.4])
    beta = OneMinusLogUniform(0.9, 0.999).narrowed([0.99], margin=0.1)  # axis log10(1 - beta): -2 +- 0.2
    np.testing.assert_allclose([beta.low, beta.high], [1 - 10**-1.8, 1 - 10**-2.2])
    assert PowersOfTwo(16, 256).narrowed([32, 64], margin=0.1) == PowersOfTwo(32, 64)
    assert IntUniform(1, 3).narrowed([2, 2], margin=0.1) == Choice([2])  # collapses to the one value
    assert IntUniform(0, 100).narrowed([40, 50], margin=0.1) == IntUniform(30, 60)
    assert LogUniform(1e-4, 1.0).narrowed([0.9], margin=0.5).high == 1.0  # never leaves the current range
    assert Choice(["relu", "tanh", "elu"]).narrowed(["elu", "relu"]) == Choice(["relu", "elu"])
    assert HiddenLayers((16, 128), (1, 3)).narrowed([(64, 64), (70, 70)]) == HiddenLayers(IntUniform(53, 81), Choice([2]))


def test_coarse_to_fine_narrows_round_two_around_the_best_of_round_one(moons_200):
    X, y = moons_200
    result = coarse_to_fine(dn.DNNClassifier(epochs=15), SMALL_SPACE, X, y, n_trials=9, rounds=2, top=0.4, seed=2)
    assert [t["round"] for t in sorted(result.trials, key=lambda t: (t["round"], t["trial"]))] == [1] * 5 + [2] * 4
    coarse, fine = result.spaces
    round_one = sorted((t for t in result.trials if t["round"] == 1), key=lambda t: -t["dev_score"])[:2]
    assert coarse["lr"].low <= fine["lr"].low <= min(t["lr"] for t in round_one)
    assert max(t["lr"] for t in round_one) <= fine["lr"].high <= coarse["lr"].high
    assert fine["lr"].high / fine["lr"].low < coarse["lr"].high / coarse["lr"].low
    assert all(fine["lr"].low <= t["lr"] <= fine["lr"].high for t in result.trials if t["round"] == 2)
    scores = [t["dev_score"] for t in result.trials]
    assert scores == sorted(scores, reverse=True) and [t["rank"] for t in result.trials] == list(range(1, 10))
    assert result.best_params == {"hidden_layer_sizes": result.best["hidden_layer_sizes"], "lr": result.best["lr"]}
    assert result.best_estimator.get_params()["lr"] == result.best["lr"]


def test_narrow_space_keeps_foreign_distributions_as_they_are():
    space = {"lr": LogUniform(1e-4, 1), "l2": stats.expon(scale=0.1)}
    narrowed = narrow_space(space, [{"lr": 0.01, "l2": 0.3}])
    assert narrowed["l2"] is space["l2"] and narrowed["lr"].high < 1


# -- reproducibility, results, failures ----------------------------------------------------------
def test_same_seed_same_configurations_and_scores_and_another_seed_differs(moons_200):
    X, y = moons_200
    first = random_search(dn.DNNClassifier(epochs=10), SMALL_SPACE, X, y, n_trials=4, seed=5, refit=False)
    again = random_search(dn.DNNClassifier(epochs=10), SMALL_SPACE, X, y, n_trials=4, seed=5, refit=False)
    other = random_search(dn.DNNClassifier(epochs=10), SMALL_SPACE, X, y, n_trials=4, seed=6, refit=False)
    assert fingerprint(first) == fingerprint(again)
    assert {t["lr"] for t in first.trials}.isdisjoint({t["lr"] for t in other.trials})


def test_parallel_trials_on_this_machine_equal_the_serial_run(moons_200):
    X, y = moons_200
    serial = random_search(dn.DNNClassifier(epochs=10), SMALL_SPACE, X, y, n_trials=4, seed=1, refit=False)
    parallel = random_search(dn.DNNClassifier(epochs=10), SMALL_SPACE, X, y, n_trials=4, seed=1, n_jobs=2, refit=False)
    assert fingerprint(parallel) == fingerprint(serial)
    assert {t["pid"] for t in serial.trials} == {os.getpid()}
    assert os.getpid() not in {t["pid"] for t in parallel.trials}


def test_table_and_csv_list_the_trials_best_first(moons_200, tmp_path):
    X, y = moons_200
    result = random_search(make_pipeline(StandardScaler(), dn.DNNClassifier(epochs=5)),
                           {"dnnclassifier__lr": LogUniform(1e-3, 1e-1), "dnnclassifier__batch_size": [16, 32]},
                           X, y, n_trials=3, seed=0, refit=False)
    lines = result.table().splitlines()
    assert lines[0].split() == ["rank", "dev_score", "train_score", "batch_size", "lr", "round", "trial", "state",
                                "epochs", "seconds", "worker"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3"]
    result.to_csv(tmp_path / "trials.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "trials.csv").read_text())))
    assert [float(row["dev_score"]) for row in rows] == [t["dev_score"] for t in result.trials]
    assert [float(row["dnnclassifier__lr"]) for row in rows] == [t["dnnclassifier__lr"] for t in result.trials]
    assert result.trials[0]["dev_score"] == result.best_score


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_diverged_trial_scores_nan_ranks_last_and_says_why():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    result = grid_search(dn.DNNRegressor(optimizer="gd", epochs=20), {"lr": [1e3, 1e-2]}, X, y, seed=0)
    good, bad = result.trials
    assert (good["lr"], bad["lr"]) == (1e-2, 1e3) and math.isnan(bad["dev_score"]) and not good["error"]
    assert (good["state"], bad["state"]) == ("complete", "failed")
    assert "training diverged" in bad["error"] and "learning rate 1000" in bad["error"]
    assert result.best_estimator.get_params()["lr"] == 1e-2


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"n_jobs": 0}, ValueError, r"n_jobs must be a positive number of workers or -1 for all cores; got 0"),
        ({"n_jobs": 1.5}, TypeError, r"n_jobs must be an integer; got 1.5"),
        ({"n_trials": 0}, ValueError, r"n_trials must be an integer in \[1, inf\); got 0"),
        ({"dev_fraction": 1.0}, ValueError, r"dev_fraction must be in \(0, 1\); got 1.0"),
        ({"scheduler": "tcp://127.0.0.1:1", "timeout": 1.0}, ConnectionError,
         r"could not reach the Dask scheduler at 'tcp://127.0.0.1:1' within 1 s"),
        ({"scheduler": "tcp://127.0.0.1:1", "client": object()}, ValueError, r"not both"),
        ({"scheduler": "tcp://127.0.0.1:1", "n_jobs": 2}, ValueError, r"n_jobs=2 is for trials on this machine"),
        ({"space": {"learning_rate": LogUniform(1e-3, 1)}}, ValueError,
         r"space has 'learning_rate', which is not a parameter of DNNClassifier; valid names: activation"),
        ({"space": {"lr": 0.1}}, TypeError, r"space\['lr'\] must be a distribution .* got 0.1"),
    ],
)
def test_bad_search_settings_are_clear_errors(moons_200, settings, error, message):
    if "scheduler" in settings and "client" not in settings:
        pytest.importorskip("distributed")  # the dask extra
    X, y = moons_200
    space = settings.pop("space", SMALL_SPACE)
    with pytest.raises(error, match=message):
        random_search(dn.DNNClassifier(epochs=1), space, X, y, n_trials=settings.pop("n_trials", 2), **settings)


def test_thirty_trials_on_digits_find_dev_accuracy_of_at_least_95_percent():
    X, y = dn.datasets.digits()
    space = course_space(prefix="dnnclassifier__")
    space["dnnclassifier__hidden_layer_sizes"] = HiddenLayers(units=(16, 64), layers=(1, 2))
    result = random_search(make_pipeline(StandardScaler(), dn.DNNClassifier(epochs=10)), space, X, y,
                           n_trials=30, seed=0, refit=False)
    assert len(result.trials) == 30 and result.best_score >= 0.95


# -- across machines: a real Dask cluster on loopback --------------------------------------------
@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, timeout=60) as cluster:
        with distributed.Client(cluster, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            yield cluster, client


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # another cluster on this machine: a free port is used
def test_trials_run_on_the_dask_workers_and_equal_the_local_run(moons_200, dask_cluster):
    cluster, client = dask_cluster
    X, y = moons_200
    local = random_search(dn.DNNClassifier(epochs=10), SMALL_SPACE, X, y, n_trials=6, seed=3, refit=False)
    by_address = random_search(dn.DNNClassifier(epochs=10), SMALL_SPACE, X, y, n_trials=6, seed=3, refit=False,
                               scheduler=cluster.scheduler_address, timeout=30)
    by_client = random_search(dn.DNNClassifier(epochs=10), SMALL_SPACE, X, y, n_trials=6, seed=3, refit=False,
                              client=client, timeout=30)
    assert fingerprint(by_address) == fingerprint(local) == fingerprint(by_client)
    worker_pids = client.run(os.getpid)  # {worker address: pid}
    for result in (by_address, by_client):
        assert {t["worker"] for t in result.trials} <= set(worker_pids)
        assert all(worker_pids[t["worker"]] == t["pid"] != os.getpid() for t in result.trials)
    assert len({t["worker"] for t in by_address.trials + by_client.trials}) == 2  # both workers took trials


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # another cluster on this machine: a free port is used
def test_a_one_worker_cluster_still_runs_every_trial_on_its_worker(moons_200):
    # joblib's Dask backend would count one job here and run the trials in this process
    distributed = pytest.importorskip("distributed")
    X, y = moons_200
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, timeout=60) as cluster:
        with distributed.Client(cluster, timeout=60) as client:
            result = random_search(dn.DNNClassifier(epochs=5), SMALL_SPACE, X, y, n_trials=3, seed=0, refit=False,
                                   client=client)
            (address, pid), = client.run(os.getpid).items()
    assert {(t["worker"], t["pid"]) for t in result.trials} == {(address, pid)} and pid != os.getpid()

