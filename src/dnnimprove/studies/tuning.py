"""The tuning study: random search on the right scale, coarse then fine, beside a grid of the same budget.

The search is :mod:`dnnimprove.search` over a :class:`dnnimprove.estimator.DNNClassifier`: the learning
rate log-uniform in [1e-4, 1], momentum's ``beta = 1 - 10**U(-3, -1)``, the hidden units and the
mini-batch size as a power of two. A grid with the same number of trials tries only a few learning
rates; random search tries a new one every trial. Every search scores on the dev set; the best
configuration is refitted on the training set and scored once on the test set.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

from .._validation import validate_params
from ..search import Choice, HiddenLayers, LogUniform, OneMinusLogUniform, PowersOfTwo, coarse_to_fine, grid_search
from .recipe import DataSpec, Expectation, Study, Variant
from .runner import RUNNER_CONSTRAINTS, SeedRun, StudyResult, VariantResult, check_expectations, checked_seeds

__all__ = ["TUNING", "run_tuning"]

TUNING = Study(
    name="tuning",
    title="Tuning: random search on the right scale (coarse to fine) vs a grid of the same budget",
    lesson="With the same budget a grid tries only a few values of the learning rate, the hyperparameter "
    "that matters most; random search on a log scale tries a new one every trial, then zooms in.",
    data=DataSpec("digits", {}, test=0.2, dev=0.2, split_seed=0, standardize=True),
    hidden=(32,),
    loss="categorical_crossentropy",
    epochs=10,
    quick_epochs=1,
    base={"optimizer": "momentum"},
    variants=(Variant("random_coarse_to_fine"), Variant("grid")),
    expectations=(
        Expectation("random search finds a dev accuracy at least as good as the grid", "random_coarse_to_fine",
                    ">=", "grid", metric="dev_accuracy"),
    ),
    figures=("tuning",),
    kind="tuning",
    extra={
        "space": {
            "lr": LogUniform(1e-4, 1.0),
            "beta": OneMinusLogUniform(0.9, 0.999),
            "hidden_layer_sizes": HiddenLayers(units=(8, 64), layers=Choice([1])),
            "batch_size": PowersOfTwo(16, 256),
        },
        "grid": {
            "lr": [1e-3, 1e-2, 1e-1],
            "beta": [0.9, 0.99],
            "hidden_layer_sizes": [(16,), (64,)],
            "batch_size": [64],
        },
        "rounds": 2,
    },
)


def _budget(grid: dict[str, list]) -> int:
    size = 1
    for values in grid.values():
        size *= len(values)
    return size


def _seed_run(search: Any, data: Any, seed: int) -> SeedRun:
    best = search.best_estimator
    return SeedRun(
        seed=seed,
        train_accuracy=float(best.score(data.X_train, data.y_train)),
        dev_accuracy=float(search.best_score),
        test_accuracy=float(best.score(data.X_test, data.y_test)),
        final_cost=float(best.history_.cost[-1]),
        epochs=int(best.n_iter_),
        seconds=float(search.seconds),
        history=best.history_,
        model=best.model_,
    )


def _trials(search: Any, stage: Callable[[dict], str], seed: int) -> list[dict[str, Any]]:
    names = search.param_names
    return [
        {"stage": stage(trial), "seed": seed, "rank": trial["rank"], "dev_accuracy": trial["dev_score"],
         "train_accuracy": trial["train_score"], "settings": {name: trial[name] for name in names},
         "error": trial["error"]}
        for trial in search.trials
    ]


def run_tuning(
    study: Study,
    mode: str = "robust",
    seeds: Iterable[int] = (0, 1, 2),
    epochs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """One coarse-to-fine random search and one grid search of the same budget per seed.

    Course-exact mode has no published figures to match: it runs one search with the course's seed 3.
    """
    from ..estimator import DNNClassifier

    validate_params(RUNNER_CONSTRAINTS, mode=mode)
    started = time.perf_counter()
    data = study.data.load()
    seeds = [3] if mode == "course-exact" else checked_seeds(seeds)
    n_epochs = study.epochs if epochs is None else epochs
    grid, space = study.extra["grid"], study.extra["space"]
    budget = _budget(grid)
    estimator = DNNClassifier(hidden_layer_sizes=study.hidden, optimizer=study.base["optimizer"], epochs=n_epochs)
    dev = (data.X_dev, data.y_dev)
    random_runs, grid_runs, trials = [], [], []
    for seed in seeds:
        searched = coarse_to_fine(estimator, space, data.X_train, data.y_train, n_trials=budget,
                                  rounds=study.extra["rounds"], dev_data=dev, seed=seed)
        random_runs.append(_seed_run(searched, data, seed))
        trials += _trials(searched, lambda trial: "coarse" if trial["round"] == 1 else "fine", seed)
        if progress:
            progress(f"random search seed {seed}")
        gridded = grid_search(estimator, grid, data.X_train, data.y_train, dev_data=dev, seed=seed)
        grid_runs.append(_seed_run(gridded, data, seed))
        trials += _trials(gridded, lambda trial: "grid", seed)
        if progress:
            progress(f"grid search seed {seed}")
    variants = [
        VariantResult("random_coarse_to_fine", {"space": {k: repr(v) for k, v in space.items()}, "trials": budget,
                                                "rounds": study.extra["rounds"], "epochs": n_epochs}, random_runs),
        VariantResult("grid", {"grid": {k: [repr(v) for v in values] for k, values in grid.items()},
                               "trials": budget, "epochs": n_epochs}, grid_runs),
    ]
    first = [trial for trial in trials if trial["seed"] == seeds[0]]
    distinct = {stage: len({t["settings"]["lr"] for t in first if t["stage"] in stages})
                for stage, stages in (("random", ("coarse", "fine")), ("grid", ("grid",)))}
    checks = check_expectations(study, variants)
    checks.append((f"learning rates tried with {budget} trials (seed {seeds[0]}): random {distinct['random']}, "
                   f"grid {distinct['grid']}", distinct["random"] > distinct["grid"]))
    return StudyResult(study, mode, study.title, data, variants, checks, {"trials": trials},
                       time.perf_counter() - started)
