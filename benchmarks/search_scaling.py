"""How much faster is a random search with 2 Dask workers than with 1? And what does 30 trials find?

Runs the same 16-trial random search on digits on a local Dask cluster of 1 worker and of 2 worker
processes (one thread each, on 127.0.0.1), ``--repeats`` times each alternately, and prints the
median wall times and their ratio (target: <= 0.65), plus the same for joblib's ``n_jobs`` 1 vs 2.
Then it runs a 30-trial random search over the course's space and prints the best dev accuracy
(target: >= 0.95). Every worker's BLAS runs on one thread (Dask's nanny sets ``OMP_NUM_THREADS=1``;
joblib is pinned with threadpoolctl), so the ratio measures trial parallelism, not BLAS threads.

    PYTHONPATH=src python3 benchmarks/search_scaling.py [--repeats 3] [--epochs 100] [--backends dask,joblib] [--skip-quality]

The machine is shared and noisy: read the ratio of medians measured in one run, not lone times.
"Trials running at once" (the trials' seconds added up over the wall time) shows whether the workers
really overlapped. On Linux with ``sched_autogroup_enabled=1`` the CPU is shared fairly between
*sessions*: while other sessions keep the cores busy this one gets the same share with 1 or 2
workers, the trials overlap but each runs slower, and the ratio tends to 1. Measure on an idle machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import dnnimprove as dn
from dnnimprove.search import Choice, HiddenLayers, LogUniform, OneMinusLogUniform, course_space, random_search

SCALING_SPACE = {
    # trials of similar cost, so the measurement is about scheduling, not about one slow straggler
    "dnnclassifier__lr": LogUniform(1e-4, 1e-1),
    "dnnclassifier__beta1": OneMinusLogUniform(0.9, 0.999),
    "dnnclassifier__hidden_layer_sizes": HiddenLayers(units=(48, 64), layers=Choice([1])),
}


def estimator(epochs: int):
    return make_pipeline(StandardScaler(), dn.DNNClassifier(epochs=epochs, batch_size=64))


def timed(run) -> tuple[float, float]:
    """Wall time of ``run()`` (a search) and its concurrency: the trials' own seconds added up / wall."""
    started = time.perf_counter()
    result = run()
    wall = time.perf_counter() - started
    return wall, sum(trial["seconds"] for trial in result.trials) / wall


def dask_scaling(X, y, epochs: int, repeats: int, trials: int) -> dict[str, list[tuple[float, float]]]:
    from distributed import Client, LocalCluster

    times: dict[str, list[tuple[float, float]]] = {"dask 1 worker": [], "dask 2 workers": []}
    clusters = {}
    try:
        for workers in (1, 2):
            cluster = LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.ERROR)
            clusters[workers] = (cluster, Client(cluster))
            clusters[workers][1].wait_for_workers(workers)
        for _ in range(repeats):
            for workers, label in ((1, "dask 1 worker"), (2, "dask 2 workers")):
                client = clusters[workers][1]
                times[label].append(timed(lambda: random_search(
                    estimator(epochs), SCALING_SPACE, X, y, n_trials=trials, seed=0, refit=False, client=client)))
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()
    return times


def joblib_scaling(X, y, epochs: int, repeats: int, trials: int) -> dict[str, list[tuple[float, float]]]:
    times: dict[str, list[tuple[float, float]]] = {"joblib n_jobs=1": [], "joblib n_jobs=2": []}
    random_search(estimator(1), SCALING_SPACE, X, y, n_trials=2, seed=0, refit=False, n_jobs=2)  # start loky
    for _ in range(repeats):
        for n_jobs in (1, 2):
            with threadpool_limits(1):
                times[f"joblib n_jobs={n_jobs}"].append(timed(lambda: random_search(
                    estimator(epochs), SCALING_SPACE, X, y, n_trials=trials, seed=0, refit=False, n_jobs=n_jobs)))
    return times


def report(times: dict[str, list[tuple[float, float]]]) -> None:
    labels = list(times)
    walls = {label: [wall for wall, _ in times[label]] for label in labels}
    for label in labels:
        concurrency = statistics.median(c for _, c in times[label])
        print(f"  {label:<16} median {statistics.median(walls[label]):6.2f} s  runs {[round(t, 2) for t in walls[label]]}"
              f"  trials running at once {concurrency:.2f}")
    ratio = statistics.median(walls[labels[1]]) / statistics.median(walls[labels[0]])
    print(f"  ratio {labels[1]} / {labels[0]}: {ratio:.2f}  (target <= 0.65)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--quality-epochs", type=int, default=20, help="epochs per trial of the 30-trial run")
    parser.add_argument("--backends", default="dask,joblib", help="which scaling runs: dask, joblib or both")
    parser.add_argument("--skip-quality", action="store_true", help="skip the 30-trial accuracy run")
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    X, y = dn.datasets.digits()
    print(f"{args.trials}-trial random search on digits, {args.epochs} epochs per trial, median of {args.repeats}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before")
    backends = args.backends.split(",")
    if "dask" in backends:
        report(dask_scaling(X, y, args.epochs, args.repeats, args.trials))
    if "joblib" in backends:
        report(joblib_scaling(X, y, args.epochs, args.repeats, args.trials))
    print(f"load average {os.getloadavg()[0]:.1f} after (other processes compete for the same cores)")
    if not args.skip_quality:
        space = course_space(prefix="dnnclassifier__")
        result = random_search(estimator(args.quality_epochs), space, X, y, n_trials=30, seed=0, refit=False)
        print(f"30-trial random search over course_space(), seed 0, {args.quality_epochs} epochs: "
              f"best dev accuracy {result.best_score:.4f} (target >= 0.95) in {result.seconds:.1f} s")
        print(result.table(top=5))


if __name__ == "__main__":
    main()
