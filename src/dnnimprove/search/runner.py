"""Running a search: rounds of trials drawn lazily, run where asked, recorded as each one finishes.

:func:`random_search`, :func:`coarse_to_fine` and :func:`grid_search` hold out a dev set (the course's
train/dev split), train one clone of the estimator per configuration and score it on the dev set.
Every finished trial goes to the storage at once (:mod:`.storage`), so a search killed at any moment and
run again with the same storage, study name and seed (``resume=True``) runs only the trials missing and
ends with the same trials and scores as one never interrupted (pruning decisions aside, which depend on
the order trials finish when several run at once). Several processes may run one study together: each
trial is claimed before it runs, and a round waits for the trials other processes are running.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Iterator, Sequence

import numpy as np

from .._validation import Boolean, Integer, Options, Real, check_int, validate_params
from .execution import ClusterLost, check_scheduler, make_executor
from .pruning import MedianPruner, SuccessiveHalving
from .results import SearchResult, rank_trials
from .sampling import SAMPLERS, TpeSampler, optuna_params, random_configuration
from .spaces import NARROW_CONSTRAINTS, _python, check_space, describe_space, estimator_params, narrow_space
from .storage import OptunaStore, Store, open_store, study_fingerprint
from .trial import Outcome, Task, final_step

__all__ = ["random_search", "coarse_to_fine", "grid_search", "MAX_TRIALS", "SEARCH_CONSTRAINTS"]

MAX_TRIALS = 100_000
"""The most trials one search takes: every trial is kept in memory and in the storage."""

SEARCH_CONSTRAINTS = {
    "n_trials": Integer(low=1),
    "rounds": Integer(low=1),
    "top": Real(low=0.0, high=1.0, low_open=True),
    "margin": NARROW_CONSTRAINTS["margin"],
    "n_jobs": Integer(none_ok=True),
    "timeout": Real(low=0.0, low_open=True),
    "resume": Boolean(),
    "progress": Boolean(),
    "sampler": Options(SAMPLERS),
    "seed": Integer(low=0, none_ok=True),
    "dev_fraction": Real(low=0.0, high=1.0, low_open=True, high_open=True),
}
"""The legal values of the searches' settings (:func:`coarse_to_fine`'s parameters). Rules between settings are
checked after the table: ``n_trials <= MAX_TRIALS``, ``rounds <= n_trials``, ``n_jobs != 0``; ``dev_fraction``
only when no ``dev_data`` is given. The estimator, space, storage and cluster are checked where they are used."""

Key = tuple[int, int]


def _seeded_estimator(estimator: Any, seed: int) -> Any:
    """A clone whose unset ``seed``/``random_state`` parameters (also in pipeline steps) get ``seed``.

    Every trial then starts from the same random numbers, so configurations are compared fairly and a
    rerun with the same search seed reproduces every score.
    """
    from sklearn.base import clone

    unset = {
        name: seed
        for name, value in estimator.get_params(deep=True).items()
        if value is None and name.rsplit("__", 1)[-1] in ("seed", "random_state")
    }
    return clone(estimator).set_params(**unset)


def _resolve_seed(seed: int | None) -> int:
    """``seed`` (already checked), or a fresh one drawn from the operating system's entropy for ``None``."""
    return int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else seed


def _split(estimator: Any, X: Any, y: Any, dev_fraction: Any, dev_data: Any, seed: int) -> tuple:
    if dev_data is not None:
        if not isinstance(dev_data, (tuple, list)) or len(dev_data) != 2:
            raise ValueError("dev_data must be a pair (X_dev, y_dev)")
        return (X, y, dev_data[0], dev_data[1])
    from sklearn.base import is_classifier
    from sklearn.model_selection import train_test_split

    dev_fraction = validate_params(SEARCH_CONSTRAINTS, dev_fraction=dev_fraction)["dev_fraction"]
    stratify = y if is_classifier(estimator) else None
    X_train, X_dev, y_train, y_dev = train_test_split(X, y, test_size=dev_fraction, random_state=seed, stratify=stratify)
    return (X_train, y_train, X_dev, y_dev)


class _Heartbeat:
    """A daemon thread telling the store this process is alive, every ``interval`` seconds."""

    def __init__(self, store: Store, interval: float) -> None:
        self.store, self.interval = store, interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="dnnimprove-search-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.store.heartbeat()
            except Exception:  # noqa: BLE001 - a missed beat only lets claims go stale sooner
                pass

    def __enter__(self) -> "_Heartbeat":
        if self.store.persistent:
            self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopped.set()


class _Search:
    """One search's state: what finished (read back or run here), and how to run what is missing."""

    def __init__(self, estimator: Any, data: tuple, scoring: Any, seed: int, store: Store, executor: Any,
                 pruner: Any, sampler: str, progress: Any) -> None:
        self.estimator, self.data, self.scoring, self.seed = estimator, data, scoring, seed
        self.store, self.executor, self.pruner, self.progress = store, executor, pruner, progress
        self.records: dict[Key, dict[str, Any]] = store.finished()
        self.resumed = len(self.records)
        self.sampler = sampler
        self.root_space: dict[str, Any] = {}
        self.tpe: TpeSampler | None = None
        self.params: dict[Key, dict[str, Any]] = {}
        self.epochs = self._max_epochs() if pruner is not None else None

    def _max_epochs(self) -> int:
        final = final_step(self.estimator)
        if not hasattr(final, "model_") and "epochs" not in final.get_params():
            raise ValueError(f"pruning needs a DNNClassifier or DNNRegressor (or a pipeline ending in one); "
                             f"got {type(final).__name__}")
        return check_int("epochs", final.get_params()["epochs"], low=1)

    # -- configurations --------------------------------------------------------------------------
    def configuration(self, space: dict[str, Any], key: Key, grid: Any = None) -> dict[str, Any]:
        if key not in self.params:
            if grid is not None:
                self.params[key] = {name: _python(value) for name, value in grid[key[1]].items()}
            elif self.tpe is not None:
                self.params[key] = self.tpe.ask(key)
            else:
                self.params[key] = random_configuration(space, self.seed, key[0], key[1])
        return self.params[key]

    def _median_rule(self) -> Any:
        if not isinstance(self.pruner, MedianPruner):
            return None
        curves = [record["curve"] for record in self.records.values() if record["state"] == "complete" and record["curve"]]
        return self.pruner.rule(curves)

    def _task(self, space: dict[str, Any], key: Key, grid: Any, **settings: Any) -> Task:
        params = estimator_params(space, self.configuration(space, key, grid))
        return Task(key, params, self.estimator, self.scoring, report=self.pruner is not None, **settings)

    # -- recording -------------------------------------------------------------------------------
    def finish(self, space: dict[str, Any], outcome: Outcome, epochs: int, curve: list[float], state: str | None = None,
               dev_score: float | None = None) -> None:
        params = self.params[outcome.key]
        record = {
            "round": outcome.key[0], "trial": outcome.key[1], "params": params,
            "state": state or outcome.state,
            "dev_score": outcome.dev_score if dev_score is None else dev_score,
            "train_score": outcome.train_score, "epochs": epochs, "curve": list(curve),
            "seconds": outcome.seconds, "worker": outcome.worker, "pid": outcome.pid, "error": outcome.error,
        }
        if isinstance(self.store, OptunaStore):
            # Optuna wants one distribution per parameter name in a study: the unnarrowed space's
            self.store.record({**record, "optuna_params": optuna_params(self.root_space, params)})
        else:
            self.store.record(record)
        self.records[outcome.key] = record
        if self.tpe is not None:
            self.tpe.tell(outcome.key, record)
        self.progress.update(1)
        scores = [r["dev_score"] for r in self.records.values() if r["state"] == "complete" and r["dev_score"] == r["dev_score"]]
        if scores:
            self.progress.set_postfix_str(f"best dev {max(scores):.4f}", refresh=False)

    # -- one round ---------------------------------------------------------------------------------
    def run_round(self, space: dict[str, Any], keys: Sequence[Key], grid: Any = None) -> None:
        """Run every key not finished yet; then wait for (or take over) the keys other processes hold."""
        while True:
            if isinstance(self.pruner, SuccessiveHalving):
                self._halving(space, keys, grid)
            else:
                self._plain(space, keys, grid)
            missing = [key for key in keys if key not in self.records]
            if not missing:
                return
            time.sleep(0.5)  # other processes are running these: wait for them, or for their claims to go stale
            arrived = {key: record for key, record in self.store.finished().items() if key not in self.records}
            self.records.update(arrived)
            self.progress.update(sum(1 for key in arrived if key in missing))

    def _claimed(self, keys: Sequence[Key]) -> Iterator[Key]:
        for key in keys:
            if key not in self.records and self.store.claim(key):
                yield key

    def _plain(self, space: dict[str, Any], keys: Sequence[Key], grid: Any) -> None:
        tasks = (self._task(space, key, grid, stop_rule=self._median_rule()) for key in self._claimed(keys))
        for outcome in self.executor.stream(tasks, self.data):
            self.finish(space, outcome, outcome.epochs, outcome.curve)

    def _halving(self, space: dict[str, Any], keys: Sequence[Key], grid: Any) -> None:
        """Synchronous successive halving over this round's trials (rung scores: the dev score after the
        rung's last epoch, read from the curve of a trial already finished)."""
        pruner: SuccessiveHalving = self.pruner
        budgets = pruner.budgets(self.epochs)
        alive = list(keys)
        progress: dict[Key, dict[str, Any]] = {}  # key -> epochs trained, curve, checkpoint, last outcome
        owned = set(self._claimed(keys))
        for rung, budget in enumerate(budgets):
            last = rung == len(budgets) - 1
            scores: dict[Key, float] = {}
            to_run = []
            for key in alive:
                record = self.records.get(key)
                if record is not None and len(record["curve"]) >= budget:
                    scores[key] = record["curve"][budget - 1]
                elif record is None and key in owned:
                    to_run.append(key)
            tasks = (self._rung_task(space, key, grid, budget, progress.get(key), last) for key in to_run)
            for outcome in self.executor.stream(tasks, self.data):
                state = progress.setdefault(outcome.key, {"epochs": 0, "curve": [], "checkpoint": None})
                continued = pruner.continue_trials and state["checkpoint"] is not None
                state["epochs"] += outcome.epochs
                state["curve"] = (state["curve"] if continued else []) + outcome.curve
                state["checkpoint"], state["outcome"] = outcome.checkpoint, outcome
                if outcome.state == "failed" or last:
                    self.finish(space, outcome, state["epochs"], state["curve"])
                else:
                    scores[outcome.key] = state["curve"][-1] if state["curve"] else outcome.dev_score
            if last:
                return
            ranked = sorted((key for key in alive if key in scores and scores[key] == scores[key]),
                            key=lambda key: (-scores[key], key))
            promoted = set(ranked[: pruner.keep(len(alive))])
            for key in alive:
                if key not in promoted and key in progress and key not in self.records:
                    state = progress[key]
                    self.finish(space, state["outcome"], state["epochs"], state["curve"], state="pruned",
                                dev_score=scores.get(key, float("nan")))
            alive = [key for key in alive if key in promoted]

    def _rung_task(self, space: dict[str, Any], key: Key, grid: Any, budget: int, state: Any, last: bool) -> Task:
        pruner: SuccessiveHalving = self.pruner
        resume = state["checkpoint"] if (state is not None and pruner.continue_trials) else None
        done = len(state["curve"]) if resume is not None else 0
        return self._task(space, key, grid, epochs=budget, checkpoint=pruner.continue_trials and not last,
                          resume=resume, epochs_done=done)

    # -- the result ------------------------------------------------------------------------------
    def trials(self, names: Sequence[str]) -> list[dict[str, Any]]:
        rows = []
        for key, record in self.records.items():
            row = {"rank": 0, "dev_score": record["dev_score"], "train_score": record["train_score"]}
            row.update({name: record["params"].get(name) for name in names})
            row.update({name: record[name] for name in ("round", "trial", "state", "epochs", "seconds", "worker",
                                                        "pid", "error")})
            rows.append(row)
        return rank_trials(rows)


def _progress_bar(total: int, initial: int, show: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="search", unit="trial", disable=not show, leave=False)


def _run(kind: str, estimator: Any, space: dict[str, Any], X: Any, y: Any, *, n_trials: int, rounds: int, top: float,
         margin: float, dev_fraction: float, dev_data: Any, scoring: Any, seed: Any, n_jobs: Any, scheduler: Any,
         client: Any, timeout: float, refit: bool, storage: Any, study_name: Any, resume: bool, pruner: Any,
         sampler: str, progress: bool, grid: Any = None) -> SearchResult:
    started = time.perf_counter()
    if not hasattr(estimator, "fit") or not hasattr(estimator, "get_params"):
        raise TypeError(f"estimator must be a scikit-learn estimator (with fit and get_params); got {estimator!r}")
    checked = validate_params(SEARCH_CONSTRAINTS, n_trials=n_trials, rounds=rounds, top=top, margin=margin,
                              n_jobs=n_jobs, timeout=timeout, resume=resume, progress=progress, sampler=sampler, seed=seed)
    n_trials, top, margin, n_jobs = checked["n_trials"], checked["top"], checked["margin"], checked["n_jobs"]
    timeout, resume, progress, sampler, seed = (checked[name] for name in ("timeout", "resume", "progress", "sampler", "seed"))
    if n_trials > MAX_TRIALS:
        raise ValueError(f"n_trials must be at most {MAX_TRIALS} (every trial is kept in memory and in the storage); "
                         f"got {n_trials}")
    rounds = Integer(low=1, high=n_trials).check("rounds", checked["rounds"])  # the table's rule, bounded by n_trials
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive number of workers or -1 for all cores; got 0")
    if pruner is not None and not isinstance(pruner, (MedianPruner, SuccessiveHalving)):
        raise TypeError(f"pruner must be None, a MedianPruner or a SuccessiveHalving; got {pruner!r}")
    if sampler == "tpe" and rounds > 1:
        raise ValueError(f"sampler='tpe' narrows the space itself; give rounds=1 (got rounds={rounds})")
    if scheduler is not None and client is not None:
        raise ValueError("give scheduler= (an address) or client= (a dask.distributed.Client), not both")
    if n_jobs is not None and (scheduler is not None or client is not None):
        raise ValueError(f"n_jobs={n_jobs} is for trials on this machine; a Dask cluster runs them on all its workers "
                         "(give n_jobs or a scheduler/client, not both)")
    if scheduler is not None:
        check_scheduler(scheduler)
    if study_name is not None and (not isinstance(study_name, str) or not study_name.strip()):
        raise ValueError(f"study_name must be a non-empty string; got {study_name!r}")
    if resume and seed is None:
        raise ValueError("resume=True needs the seed of the search it resumes; got seed=None")
    space = check_space(space, estimator)
    seed = _resolve_seed(seed)
    seeded = _seeded_estimator(estimator, seed)
    data = _split(estimator, X, y, dev_fraction, dev_data, seed)
    fingerprint = study_fingerprint(
        search=kind, space=describe_space(space), seed=seed, estimator=repr(seeded), scoring=repr(scoring),
        dev=repr(dev_fraction) if dev_data is None else "dev_data", sampler=sampler, pruner=repr(pruner),
        rounds=rounds, top=top, margin=margin, n_trials=n_trials if rounds > 1 else "any",
    )
    store = open_store(storage, timeout)
    try:
        study = study_name or "dnnimprove-search"
        store.open(study, fingerprint)
        search = _Search(seeded, data, scoring, seed, store, make_executor(n_jobs, scheduler, client, timeout),
                         pruner, sampler, None)
        if search.records and not resume:
            raise ValueError(f"storage {store.url!r} already holds {len(search.records)} trial(s) of study {study!r}; "
                             "pass resume=True (--resume) to continue it, or choose another study name")
        search.root_space = space
        if sampler == "tpe":
            search.tpe = TpeSampler(space, seed)
        try:
            spaces = _rounds(search, kind, space, n_trials, rounds, top, margin, grid, progress)
        except ClusterLost as lost:
            kept = (f"the {len(search.records)} finished trial(s) are kept in {store.url!r} (rerun with resume=True)"
                    if store.persistent else f"{len(search.records)} finished trial(s) lost (give storage= to keep them)")
            raise ClusterLost(f"{lost}; {kept}") from None
    finally:
        store.close()
    names = sorted(space)
    result = SearchResult(search.trials(names), names, spaces, seed, "score" if scoring is None else str(scoring),
                          epochs_budget=(len(search.records) * search.epochs) if search.epochs else 0,
                          resumed=search.resumed, study_name=study if store.persistent else None,
                          storage=store.url if store.persistent else None)
    if search.epochs is None:
        result.epochs_budget = result.epochs_trained
    if refit and result.trials and result.best["state"] == "complete" and not math.isnan(result.best_score):
        from sklearn.base import clone

        result.best_estimator = clone(seeded).set_params(**result.best_params).fit(X, y)
    result.seconds = time.perf_counter() - started
    return result


def _rounds(search: _Search, kind: str, space: dict[str, Any], n_trials: int, rounds: int, top: float, margin: float,
            grid: Any, progress: bool) -> list[dict[str, Any]]:
    spaces = []
    with search.executor, _Heartbeat(search.store, 5.0):  # the bar shows once the cluster is reached
        bar = _progress_bar(n_trials, sum(1 for key in search.records if key[1] < n_trials), progress)
        search.progress = bar
        try:
            for round_index in range(rounds):
                if round_index:
                    finished = [r for key, r in search.records.items() if key[0] <= round_index]
                    ranked = sorted(finished, key=lambda r: (r["state"] != "complete", r["dev_score"] != r["dev_score"],
                                                             -np.nan_to_num(r["dev_score"]), r["round"], r["trial"]))
                    best = ranked[: max(1, math.ceil(top * len(ranked)))]
                    usable = [r for r in best if r["state"] == "complete" and r["dev_score"] == r["dev_score"]] or best
                    space = narrow_space(space, [r["params"] for r in usable], margin)
                spaces.append(space)
                size = n_trials // rounds + (round_index < n_trials % rounds)
                keys = [(round_index + 1, index) for index in range(size)]
                search.run_round(space, keys, grid)
        finally:
            bar.close()
    # a random search resumed with fewer trials than stored: keep the first n_trials only
    for key in [key for key in search.records if kind != "grid" and rounds == 1 and key[1] >= n_trials]:
        del search.records[key]
    return spaces




def coarse_to_fine(
    estimator: Any,
    space: dict[str, Any],
    X: Any,
    y: Any,
    *,
    n_trials: int = 40,
    rounds: int = 2,
    top: float = 0.25,
    margin: float = 0.1,
    dev_fraction: float = 0.2,
    dev_data: tuple[Any, Any] | None = None,
    scoring: Any = None,
    seed: int | None = None,
    n_jobs: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    timeout: float = 10.0,
    refit: bool = True,
    storage: Any = None,
    study_name: str | None = None,
    resume: bool = False,
    pruner: Any = None,
    sampler: str = "random",
    progress: bool = False,
) -> SearchResult:
    """Random search in ``rounds`` rounds, each narrowing the space around the best trials so far.

    Round 1 samples ``space``; every later round samples :func:`narrow_space` of the previous round's
    space around the ``top`` fraction of all trials so far (at least one), widened by ``margin`` x the
    range on each dimension's own axis (log, ``log(1 - beta)``, integer, power of two).
    ``n_trials`` are split evenly over the rounds (the first rounds take the remainder); at most
    :data:`MAX_TRIALS`. Configurations are drawn one trial at a time, when the trial is about to run.

    Parameters
    ----------
    estimator : scikit-learn estimator
        E.g. ``DNNClassifier(epochs=30)`` or a pipeline; cloned for every trial. Unset ``seed`` /
        ``random_state`` parameters are set to the search seed, so every trial starts alike.
    space : dict
        Parameter name -> :class:`Dimension` (or a list of values, or a scipy.stats distribution);
        entries may be conditional (``.when(optimizer="adam")``).
    X, y : arrays
        The training data; a dev set of ``dev_fraction`` is held out of it (stratified for a
        classifier) unless ``dev_data=(X_dev, y_dev)`` is given.
    scoring : str, callable or None
        scikit-learn scoring for the dev score; ``None`` uses ``estimator.score`` (accuracy, R^2).
    seed : int or None
        Fixes the configurations drawn, the dev split and the trials' initialization. ``None`` draws a
        seed (recorded in the result).
    n_jobs : int or None
        Parallel trials on this machine with joblib (``-1``: every core); ``0`` is an error. Not with a
        Dask cluster, whose workers take the trials as they come (one per worker thread).
    scheduler : str or None
        Address of a Dask scheduler (``"tcp://127.0.0.1:8786"``): trials run on its workers.
    client : dask.distributed.Client or None
        An existing client instead of an address.
    timeout : float > 0
        Seconds to wait for the scheduler (and its workers) or the database before a ``ConnectionError``.
    refit : bool
        Fit a clone with the best parameters on all of ``X, y``, dev part included
        (``result.best_estimator``).
    storage : None, str or path
        Where trials persist as they finish: ``None`` (nowhere), a database URL
        (``"sqlite:///search.db"``, ``"postgresql://user@host/db"``: Optuna's storage, needs
        ``dnnimprove[search]``), an SQLite file path, or a ``.jsonl`` file. See :mod:`dnnimprove.search.storage`.
    study_name : str or None
        The study in the storage (default ``"dnnimprove-search"``). A study made by a search with another
        space, seed, estimator or settings is refused, naming the difference.
    resume : bool
        Continue the study stored under ``study_name``: trials already there are read back, only the
        missing ones run. Without it a study that already has trials is refused.
    pruner : None, MedianPruner or SuccessiveHalving
        Stop hopeless trials on their dev accuracy per epoch (the estimator must be a DNNClassifier /
        DNNRegressor or a pipeline ending in one).
    sampler : {"random", "tpe"}
        ``"random"``: the course's random search (each trial its own seeded draw); ``"tpe"``: Optuna's
        TPE (needs ``optuna``; ``rounds=1``).
    progress : bool
        Show a progress bar over the trials with the best dev score so far.
    Returns
    -------
    SearchResult
    """
    return _run("coarse_to_fine", estimator, space, X, y, n_trials=n_trials, rounds=rounds, top=top, margin=margin,
                dev_fraction=dev_fraction, dev_data=dev_data, scoring=scoring, seed=seed, n_jobs=n_jobs,
                scheduler=scheduler, client=client, timeout=timeout, refit=refit, storage=storage,
                study_name=study_name, resume=resume, pruner=pruner, sampler=sampler, progress=progress)




def random_search(estimator: Any, space: dict[str, Any], X: Any, y: Any, *, n_trials: int = 20, **settings: Any) -> SearchResult:
    """One round of random search: ``n_trials`` configurations drawn from ``space`` (see :func:`coarse_to_fine`).

    With a storage, a random search resumed with more trials than before runs only the new ones.
    """
    if "rounds" in settings:
        raise TypeError("random_search is one round; use coarse_to_fine for rounds")
    return coarse_to_fine(estimator, space, X, y, n_trials=n_trials, rounds=1, **settings)


def grid_search(
    estimator: Any,
    grid: dict[str, Sequence[Any]],
    X: Any,
    y: Any,
    **settings: Any,
) -> SearchResult:
    """Every combination of ``grid`` (lists of values), run and ranked like a random search, to compare.

    The course's point: with a budget of ``n`` trials a grid tries only ``n ** (1/d)`` values of each of
    ``d`` hyperparameters, a random search ``n`` values of each. The settings are :func:`coarse_to_fine`'s
    (but ``n_trials``, ``rounds``, ``top``, ``margin`` and ``sampler``).
    """
    if not isinstance(grid, dict) or not all(isinstance(v, (list, tuple)) and len(v) for v in grid.values()):
        raise ValueError(f"grid must be a dict of parameter name -> non-empty list of values; got {grid!r}")
    for name in ("n_trials", "rounds", "top", "margin", "sampler"):
        if name in settings:
            raise TypeError(f"grid_search got an unexpected setting {name!r}")
    from sklearn.model_selection import ParameterGrid

    combinations = ParameterGrid(grid)
    if len(combinations) > MAX_TRIALS:
        raise ValueError(f"grid has {len(combinations)} combinations; at most {MAX_TRIALS} (every trial is kept)")
    options = dict(dev_fraction=0.2, dev_data=None, scoring=None, seed=None, n_jobs=None, scheduler=None, client=None,
                   timeout=10.0, refit=True, storage=None, study_name=None, resume=False, pruner=None, progress=False)
    unknown = sorted(set(settings) - set(options))
    if unknown:
        raise TypeError(f"grid_search got an unexpected setting {unknown[0]!r}")
    options.update(settings)
    return _run("grid", estimator, dict(grid), X, y, n_trials=len(combinations), rounds=1, top=1.0, margin=0.0,
                sampler="random", grid=combinations, **options)
