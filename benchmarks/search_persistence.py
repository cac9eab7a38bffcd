"""Does a search survive crashes, lost workers and company, and what does pruning save?

Four experiments in one run (figures printed; ``docs/search.md`` quotes them):

1. **Client killed.** A 60-trial seeded random search recording into SQLite is run as a child
   process and SIGKILLed at a random moment, then run again with ``resume=True``; ``--kills`` times.
   Each time the study must hold exactly 60 distinct trials whose scores equal an uninterrupted run's.
2. **Worker killed.** A search on a 2-worker ``LocalCluster`` on loopback; one worker process is
   SIGKILLed mid-search. Every trial must be recorded (rerun on a worker that lives).
3. **Two clients, one study.** Two processes run the same search into one study, through SQLite and
   through a real PostgreSQL server (initdb'd in a temporary folder, started on loopback on a free
   port as a non-root user, stopped at the end; skipped when the binaries are missing). No trial may
   run twice.
4. **Pruning on digits.** 40 trials of 27 epochs: no pruning, the median rule, successive halving
   retraining promoted trials, and successive halving continuing them from their checkpoints. Target:
   pruned best dev accuracy within 0.005 of the unpruned best, training <= 60% of its epochs.

    PYTHONPATH=src python3 benchmarks/search_persistence.py [--kills 10] [--skip-postgres] [--only 1,2,3,4]

The machine is shared: the figures here are counts and accuracies, not timings.
"""

from __future__ import annotations

import argparse
import glob
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import dnnimprove as dn
from dnnimprove.search import (HiddenLayers, LogUniform, MedianPruner, OneMinusLogUniform, PowersOfTwo,
                               SuccessiveHalving, random_search)

SPACE = {"lr": LogUniform(1e-3, 1e-1), "hidden_layer_sizes": HiddenLayers(units=(4, 16), layers=(1, 2))}
CLIENT = """
import sys
import dnnimprove as dn
from dnnimprove.search import HiddenLayers, LogUniform, random_search
SPACE = {"lr": LogUniform(1e-3, 1e-1), "hidden_layer_sizes": HiddenLayers(units=(4, 16), layers=(1, 2))}
X, y = dn.datasets.moons(n_samples=300, noise=0.2, seed=0)
random_search(dn.DNNClassifier(epochs=int(sys.argv[3])), SPACE, X, y, n_trials=60, seed=7, storage=sys.argv[1],
              study_name=sys.argv[2], resume=True, refit=False)
"""


def moons_search(storage: Any, study: str, epochs: int, **settings: Any):
    X, y = dn.datasets.moons(n_samples=300, noise=0.2, seed=0)
    return random_search(dn.DNNClassifier(epochs=epochs), SPACE, X, y, n_trials=60, seed=7, storage=storage,
                         study_name=study, resume=True, refit=False, **settings)


def stored(storage: str, study: str) -> list[tuple[int, float]]:
    """(trial, dev score) of every trial in the study, duplicates included."""
    import optuna

    from dnnimprove.search.storage import loads

    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    records = [loads(trial.user_attrs["dnnimprove"]) for trial in trials]
    return [(record["trial"], record["dev_score"]) for record in records]


# -- 1. the client killed -----------------------------------------------------------------------
def client_killed(kills: int, epochs: int) -> None:
    folder = tempfile.mkdtemp(prefix="dnnimprove-kill-")
    reference_url = f"sqlite:///{folder}/reference.db"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", CLIENT, reference_url, "reference", str(epochs)], check=True)
    whole = time.perf_counter() - started
    reference = dict(stored(reference_url, "reference"))
    print(f"1. client SIGKILLed at a random moment, then resumed ({kills} times; an uninterrupted run takes "
          f"{whole:.1f} s, 60 trials)")
    rng = random.Random(0)
    ok = 0
    for repetition in range(kills):
        url = f"sqlite:///{folder}/kill{repetition}.db"
        moment = rng.uniform(0.3 * whole, 0.95 * whole)
        child = subprocess.Popen([sys.executable, "-c", CLIENT, url, "kill", str(epochs)])
        time.sleep(moment)
        child.send_signal(signal.SIGKILL)
        child.wait()
        before = len(stored(url, "kill")) if os.path.exists(url[len("sqlite:///"):]) else 0
        subprocess.run([sys.executable, "-c", CLIENT, url, "kill", str(epochs)], check=True)
        trials = stored(url, "kill")
        keys = [trial for trial, _ in trials]
        same = dict(trials) == reference
        good = len(trials) == 60 and len(set(keys)) == 60 and same
        ok += good
        print(f"   kill {repetition + 1:2d} at {moment:5.2f} s: {before:2d} trials recorded before the kill; after resume "
              f"{len(trials)} trials, {len(set(keys))} distinct, scores identical to the uninterrupted run: {same}")
    print(f"   => {ok}/{kills} repetitions with exactly 60 distinct trials and identical scores")
    shutil.rmtree(folder, ignore_errors=True)


# -- 2. a worker killed -----------------------------------------------------------------------------
def worker_killed(epochs: int) -> None:
    from distributed import Client, LocalCluster

    folder = tempfile.mkdtemp(prefix="dnnimprove-worker-")
    url = f"sqlite:///{folder}/worker.db"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        with Client(cluster) as client:
            client.wait_for_workers(2)
            pids = client.run(os.getpid)
            victim = sorted(pids.items())[0]
            killed = threading.Event()

            def kill_when_running() -> None:
                while not killed.is_set():  # kill the worker while it is running a trial, after 8 are stored
                    try:
                        done = len(stored(url, "worker"))
                    except Exception:  # noqa: BLE001 - the study does not exist yet
                        done = 0
                    busy = client.processing().get(victim[0])
                    if done >= 8 and busy:
                        os.kill(victim[1], signal.SIGKILL)
                        killed.set()
                        return
                    time.sleep(0.02)

            killer = threading.Thread(target=kill_when_running, daemon=True)
            killer.start()
            result = moons_search(url, "worker", epochs, client=client, timeout=60)
            killed.set()
    trials = stored(url, "worker")
    failed = [t for t in result.trials if t["state"] == "failed"]
    workers = {t["worker"] for t in result.trials}
    print(f"2. 2-worker LocalCluster, worker {victim[0]} (pid {victim[1]}) SIGKILLed mid-trial: {len(result.trials)} "
          f"trials in the result, {len(trials)} recorded ({len(set(k for k, _ in trials))} distinct), {len(failed)} failed "
          f"{[t['error'] for t in failed]}; trials ran on {len(workers)} worker addresses")
    shutil.rmtree(folder, ignore_errors=True)


# -- 3. two clients sharing one study ---------------------------------------------------------------
def _client(url: str, study: str, epochs: int, queue: Any) -> None:
    result = moons_search(url, study, epochs)
    queue.put(os.getpid())
    del result


def two_clients(url: str, label: str, epochs: int) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_client, args=(url, "shared", epochs, queue)) for _ in range(2)]
    for process in processes:
        process.start()
    pids = [queue.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    import optuna

    from dnnimprove.search.storage import loads

    records = [loads(t.user_attrs["dnnimprove"]) for t in optuna.load_study(study_name="shared", storage=url).trials]
    keys = [record["trial"] for record in records]
    by_pid = {pid: sum(record["pid"] == pid for record in records) for pid in pids}
    print(f"3. two processes, one study through {label}: {len(records)} trials recorded, {len(set(keys))} distinct "
          f"(run twice: {len(keys) - len(set(keys))}); trials run by each process: {sorted(by_pid.values())}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_binary(name: str) -> str | None:
    return shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server initdb'd in a temporary folder, on loopback on a free port; its URL."""
    initdb, pg_ctl = _postgres_binary("initdb"), _postgres_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise FileNotFoundError("PostgreSQL's initdb/pg_ctl are not installed")
    folder = tempfile.mkdtemp(prefix="dnnimprove-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(folder, "data"), free_port()
    subprocess.run([*as_user, initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([*as_user, pg_ctl, "-D", data, "-l", os.path.join(folder, "log"), "-w", "-o",
                    f"-p {port} -h 127.0.0.1 -k {folder} -c fsync=off", "start"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", data, "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)


# -- 4. pruning on digits ---------------------------------------------------------------------------
def pruning(trials: int, epochs: int) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = dn.datasets.digits()
    space = {
        "dnnclassifier__lr": LogUniform(1e-4, 1e-1),
        "dnnclassifier__beta1": OneMinusLogUniform(0.9, 0.999),
        "dnnclassifier__batch_size": PowersOfTwo(32, 256),
        "dnnclassifier__hidden_layer_sizes": HiddenLayers(units=(16, 64), layers=(1, 2)),
    }
    estimator = make_pipeline(StandardScaler(), dn.DNNClassifier(epochs=epochs))
    print(f"4. digits, {trials} trials of {epochs} epochs (seed 0)")
    runs = {"no pruning": None, "median rule": MedianPruner(warmup_epochs=3, startup_trials=5),
            "halving, retrained": SuccessiveHalving(min_epochs=3, factor=3, continue_trials=False),
            "halving, continued": SuccessiveHalving(min_epochs=3, factor=3)}
    base = None
    for label, pruner in runs.items():
        result = random_search(estimator, space, X, y, n_trials=trials, seed=0, refit=False, pruner=pruner)
        trained = result.epochs_trained
        budget = trials * epochs
        base = result.best_score if base is None else base
        states = [t["state"] for t in result.trials]
        print(f"   {label:20s} best dev accuracy {result.best_score:.4f} (gap {base - result.best_score:+.4f}); "
              f"epochs trained {trained}/{budget} = {trained / budget:.0%}; complete {states.count('complete')}, "
              f"pruned {states.count('pruned')}, failed {states.count('failed')}; {result.seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=30, help="epochs per moons trial (experiments 1-3)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--only", default="1,2,3,4")
    args = parser.parse_args()
    only = set(args.only.split(","))
    print(f"machine load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if "1" in only:
        client_killed(args.kills, args.epochs)
    if "2" in only:
        worker_killed(args.epochs * 10)
    if "3" in only:
        folder = tempfile.mkdtemp(prefix="dnnimprove-share-")
        two_clients(f"sqlite:///{folder}/shared.db", "SQLite", args.epochs)
        shutil.rmtree(folder, ignore_errors=True)
        if args.skip_postgres:
            print("   PostgreSQL: skipped (--skip-postgres)")
        else:
            try:
                with postgres_server() as url:
                    two_clients(url, "PostgreSQL", args.epochs)
            except FileNotFoundError as missing:
                print(f"   PostgreSQL: skipped ({missing})")
    if "4" in only:
        pruning(40, 27)


if __name__ == "__main__":
    main()
