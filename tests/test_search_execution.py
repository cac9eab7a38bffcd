"""Trials on many machines: lost workers, a lost scheduler, a killed client, a shared PostgreSQL study."""

from __future__ import annotations

import glob
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import dnnimprove as dn
from dnnimprove import cli
from dnnimprove.search import HiddenLayers, LogUniform, random_search
from dnnimprove.search.execution import ClusterLost

SPACE = {"lr": LogUniform(1e-3, 1e-1), "hidden_layer_sizes": HiddenLayers(units=(4, 16), layers=(1, 2))}
pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use", "ignore::ResourceWarning")


def search(storage=None, n_trials=6, epochs=5, **settings):
    X, y = dn.datasets.moons(n_samples=160, noise=0.2, seed=0)
    return random_search(dn.DNNClassifier(epochs=epochs), SPACE, X, y, n_trials=n_trials, seed=2, storage=storage,
                         refit=False, **settings)


def test_an_unknown_scheduler_scheme_is_refused_at_once():
    started = time.monotonic()
    with pytest.raises(ValueError, match=r"scheduler 'http://127.0.0.1:8786' has an unknown scheme 'http'"):
        search(scheduler="http://127.0.0.1:8786", timeout=30)
    assert time.monotonic() - started < 5


def test_a_killed_worker_loses_no_trial(tmp_path):
    distributed = pytest.importorskip("distributed")
    storage = str(tmp_path / "search.jsonl")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, timeout=60) as cluster:
        with distributed.Client(cluster, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            address, pid = sorted(client.run(os.getpid).items())[0]

            def kill_mid_trial():
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if client.processing().get(address):
                        os.kill(pid, signal.SIGKILL)
                        return
                    time.sleep(0.01)

            killer = threading.Thread(target=kill_mid_trial, daemon=True)
            killer.start()
            result = search(storage, n_trials=8, epochs=150, client=client, timeout=60)
            killer.join()
    assert sorted(t["trial"] for t in result.trials) == list(range(8))
    assert all(t["state"] == "complete" or "died" in t["error"] for t in result.trials)
    assert search(storage, n_trials=8, epochs=150, resume=True).resumed == 8  # every one recorded


CLIENT = """
import sys
import dnnimprove as dn
from dnnimprove.search import HiddenLayers, LogUniform, random_search
SPACE = {"lr": LogUniform(1e-3, 1e-1), "hidden_layer_sizes": HiddenLayers(units=(4, 16), layers=(1, 2))}
X, y = dn.datasets.moons(n_samples=160, noise=0.2, seed=0)
random_search(dn.DNNClassifier(epochs=40), SPACE, X, y, n_trials=12, seed=2, storage=sys.argv[1], resume=True, refit=False)
"""


def test_a_client_killed_mid_search_resumes_to_the_same_trials_and_scores(tmp_path):
    storage = str(tmp_path / "killed.jsonl")
    child = subprocess.Popen([sys.executable, "-c", CLIENT, storage])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not os.path.exists(storage) or open(storage).read().count('"trial"') < 3):
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    subprocess.run([sys.executable, "-c", CLIENT, storage], check=True)
    subprocess.run([sys.executable, "-c", CLIENT, str(tmp_path / "whole.jsonl")], check=True)
    X, y = dn.datasets.moons(n_samples=160, noise=0.2, seed=0)

    def trials(path):
        result = random_search(dn.DNNClassifier(epochs=40), SPACE, X, y, n_trials=12, seed=2, storage=path,
                               resume=True, refit=False)
        assert result.resumed == 12
        return sorted((t["trial"], t["lr"], t["hidden_layer_sizes"], t["dev_score"]) for t in result.trials)

    assert trials(storage) == trials(str(tmp_path / "whole.jsonl"))
    lines = [line for line in open(storage) if '"type": "trial"' in line]
    assert len(lines) == 12  # nothing recorded twice


# -- a real PostgreSQL server, when its binaries are installed -------------------------------------------
def _binary(name):
    return shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)


@pytest.fixture()
def postgres():
    pytest.importorskip("optuna")
    pytest.importorskip("psycopg")
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed")
    folder = tempfile.mkdtemp(prefix="dnnimprove-pg-")
    as_user = []
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            shutil.chown(folder, "postgres")
        except LookupError:
            pytest.skip("running as root and there is no postgres user to run the server")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = os.path.join(folder, "data")
    subprocess.run([*as_user, initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([*as_user, pg_ctl, "-D", data, "-l", os.path.join(folder, "log"), "-w", "-o",
                    f"-p {port} -h 127.0.0.1 -k {folder} -c fsync=off", "start"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", data, "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)


def _share(storage, queue):
    result = search(storage, n_trials=8, study_name="shared", resume=True)
    queue.put([(t["trial"], t["pid"]) for t in result.trials])


def test_two_processes_share_one_study_through_postgresql(postgres):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_share, args=(postgres, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    first, second = (dict(queue.get(timeout=240)) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert first == second and sorted(first) == list(range(8))
    import optuna

    assert len(optuna.load_study(study_name="shared", storage=postgres).trials) == 8  # none run twice


def test_an_unreachable_scheduler_on_the_command_line_is_one_line(capsys, tmp_path):
    status = cli.main(["search", "--scheduler", "tcp://127.0.0.1:1", "--timeout", "1", "--trials", "2",
                       "--out", str(tmp_path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and "tcp://127.0.0.1:1" in lines[0]
