"""Trials persist as they finish (Optuna's database or JSON lines), resume, and are shared between processes."""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import sqlite3

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.search import HiddenLayers, LogUniform, StudyMismatch, random_search, read_csv
from dnnimprove.search.storage import JsonLinesStore, open_store

SPACE = {"lr": LogUniform(1e-3, 1e-1), "hidden_layer_sizes": HiddenLayers(units=(4, 16), layers=(1, 2))}



@pytest.fixture(scope="module")
def moons_160():
    return dn.datasets.moons(n_samples=160, noise=0.2, seed=0)


def url(kind, tmp_path):
    if kind == "jsonl":
        return str(tmp_path / "search.jsonl")
    pytest.importorskip("optuna")
    return f"sqlite:///{tmp_path / 'search.db'}"


def search(moons_160, storage, n_trials=4, **settings):
    X, y = moons_160
    settings.setdefault("seed", 3)
    return random_search(dn.DNNClassifier(epochs=4), SPACE, X, y, n_trials=n_trials, storage=storage, refit=False,
                         **settings)


def fingerprint(result):
    return sorted((t["round"], t["trial"], t["lr"], t["hidden_layer_sizes"], t["dev_score"]) for t in result.trials)


@pytest.mark.parametrize("kind", ["jsonl", "sqlite"])
def test_a_rerun_with_more_trials_reads_the_stored_ones_back_and_runs_only_the_new(moons_160, tmp_path, kind):
    storage = url(kind, tmp_path)
    first = search(moons_160, storage, n_trials=3)
    longer = search(moons_160, storage, n_trials=5, resume=True)
    whole = search(moons_160, None, n_trials=5)
    assert first.resumed == 0 and longer.resumed == 3
    assert fingerprint(longer) == fingerprint(whole)
    pids = {(t["trial"], t["pid"]) for t in longer.trials}
    assert len(pids) == 5
    assert isinstance(longer.trials[0]["hidden_layer_sizes"], tuple)  # types survive the storage


@pytest.mark.parametrize("kind", ["jsonl", "sqlite"])
def test_a_stored_study_of_another_search_is_refused_naming_the_difference(moons_160, tmp_path, kind):
    storage = url(kind, tmp_path)
    search(moons_160, storage, n_trials=2)
    with pytest.raises(StudyMismatch, match=r"seed=3 there, seed=4 here"):
        search(moons_160, storage, n_trials=2, seed=4, resume=True)
    with pytest.raises(StudyMismatch, match=r"space=.*LogUniform\(0.001, 0.1\).*there"):
        X, y = moons_160
        random_search(dn.DNNClassifier(epochs=4), {**SPACE, "lr": LogUniform(1e-4, 1e-1)}, X, y, n_trials=2, seed=3,
                      storage=storage, resume=True, refit=False)
    with pytest.raises(ValueError, match=r"already holds 2 trial\(s\) of study 'dnnimprove-search'; pass resume=True"):
        search(moons_160, storage, n_trials=2)
    assert search(moons_160, storage, n_trials=2, study_name="another").resumed == 0


def test_optunas_own_tools_read_a_dnnimprove_search(moons_160, tmp_path):
    optuna = pytest.importorskip("optuna")
    storage = url("sqlite", tmp_path)
    result = search(moons_160, storage, n_trials=3, study_name="moons")
    study = optuna.load_study(study_name="moons", storage=storage)
    assert len(study.trials) == 3
    assert study.best_value == result.best_score
    assert study.best_trial.params["lr"] == result.best["lr"]
    assert study.best_trial.params["hidden_layer_sizes.units"] == result.best["hidden_layer_sizes"][0]


def test_the_csv_gives_back_every_parameter_with_its_type(moons_160, tmp_path):
    result = search(moons_160, None, n_trials=3)
    result.to_csv(tmp_path / "trials.csv")
    back = read_csv(tmp_path / "trials.csv")
    for stored, trial in zip(back, result.trials):
        assert stored["hidden_layer_sizes"] == trial["hidden_layer_sizes"] and isinstance(stored["hidden_layer_sizes"], tuple)
        assert stored["lr"] == trial["lr"] and stored["dev_score"] == trial["dev_score"]
        assert stored["trial"] == trial["trial"] and stored["state"] == "complete"


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_file_goes_on(moons_160, tmp_path):
    storage = str(tmp_path / "search.jsonl")
    search(moons_160, storage, n_trials=2)
    with open(storage, "a", encoding="utf-8") as handle:
        handle.write('{"study": "dnnimprove-search", "type": "trial", "rec')  # killed mid-write
    resumed = search(moons_160, storage, n_trials=3, resume=True)
    assert resumed.resumed == 2 and len(resumed.trials) == 3
    assert search(moons_160, storage, n_trials=3, resume=True).resumed == 3


def test_an_unreachable_database_fails_within_the_timeout_naming_the_url(moons_160, tmp_path):
    pytest.importorskip("optuna")
    with pytest.raises(ConnectionError, match=r"could not open the database 'sqlite:///.*/missing/search.db'"):
        search(moons_160, f"sqlite:///{tmp_path / 'missing' / 'search.db'}", n_trials=1)
    pytest.importorskip("psycopg")
    with pytest.raises(ConnectionError, match=r"could not open the database 'postgresql://user@127.0.0.1:1/db' within 2 s"):
        search(moons_160, "postgresql://user:secret@127.0.0.1:1/db", n_trials=1, timeout=2)


def test_a_plain_path_is_opened_by_its_content(tmp_path):
    pytest.importorskip("optuna")
    jsonl = tmp_path / "trials"
    jsonl.write_text('{"study": "x", "type": "study", "fingerprint": {}}\n')
    assert isinstance(open_store(str(jsonl), 1.0), JsonLinesStore)
    database = tmp_path / "search.db"
    sqlite3.connect(database).execute("create table t (x)").connection.commit()
    assert type(open_store(str(database), 1.0)).__name__ == "OptunaStore"


# -- sharing a study between processes -----------------------------------------------------------------
def _share(storage, seed, queue):
    X, y = dn.datasets.moons(n_samples=160, noise=0.2, seed=0)
    result = random_search(dn.DNNClassifier(epochs=4), SPACE, X, y, n_trials=8, seed=seed, storage=storage,
                           study_name="shared", resume=True, refit=False)
    queue.put([(t["trial"], t["pid"]) for t in result.trials])


@pytest.mark.parametrize("kind", ["jsonl", "sqlite"])
def test_two_processes_sharing_one_study_never_run_a_trial_twice(tmp_path, kind):
    storage = url(kind, tmp_path)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_share, args=(storage, 5, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    outcomes = [queue.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    first, second = ({trial: pid for trial, pid in outcome} for outcome in outcomes)
    assert first == second and sorted(first) == list(range(8))  # both see all 8, each run once, by one process
    assert {pid for pid in first.values()} <= {worker.pid for worker in workers}


def test_the_claim_of_a_dead_process_is_taken_over(tmp_path, moons_160):
    storage = str(tmp_path / "search.jsonl")
    search(moons_160, storage, n_trials=1)
    store = JsonLinesStore(storage)
    store.study = "dnnimprove-search"
    with store._locked() as handle:  # a process that claimed trial 1 and died: pid 2**22 + 1 does not run
        store._append(handle, {"type": "claim", "key": [1, 1], "owner": "gone", "host": os.uname().nodename,
                               "pid": 2**22 + 1, "time": 0.0})
    resumed = search(moons_160, storage, n_trials=2, resume=True)
    assert sorted(t["trial"] for t in resumed.trials) == [0, 1] and all(math.isfinite(t["dev_score"]) for t in resumed.trials)


def test_optunas_tpe_sampler_by_name_draws_inside_the_space_and_records_every_trial(moons_160, tmp_path):
    """sampler="tpe" asks Optuna's TPE for each configuration; every trial is recorded, in range, and stored."""
    optuna = pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path / 'tpe.db'}"
    result = search(moons_160, storage, n_trials=6, sampler="tpe", study_name="tpe")
    lrs = [trial["lr"] for trial in result.trials]
    assert len(lrs) == 6 and all(1e-3 <= lr <= 1e-1 for lr in lrs)
    stored = optuna.load_study(study_name="tpe", storage=storage)
    assert len([t for t in stored.trials if t.state == optuna.trial.TrialState.COMPLETE]) == 6
