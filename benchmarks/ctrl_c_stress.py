"""Ctrl-C at random moments of `dnnimprove train` start-up: every run must end with one line and status 130.

Usage: python benchmarks/ctrl_c_stress.py [SEED] [ROUNDS] [LO_S] [HI_S]
Each round starts 6 runs and sends SIGINT to each at a random delay in [LO_S, HI_S) seconds after NumPy is
mapped into it; a run that exits otherwise, or prints more than one line, is counted bad. Runs in a temporary
folder. Prints "bad N of M".
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
import time


def numpy_loaded(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return "numpy" in maps.read()
    except OSError:
        return False


def main(seed: int = 0, rounds: int = 5, lo: float = 0.0, hi: float = 2.0) -> int:
    rng = random.Random(seed)
    bad = total = 0
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(rounds):
            delays = [rng.uniform(lo, hi) for _ in range(6)]
            command = [sys.executable, "-m", "dnnimprove", "train", "--epochs", "1000000", "--n-samples", "50",
                       "--engine", "numpy"]
            runs = [subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for _ in delays]
            started: dict[int, float] = {}
            while len(started) < len(runs):
                for i, run in enumerate(runs):
                    if i not in started and numpy_loaded(run.pid):
                        started[i] = time.monotonic()
                time.sleep(0.002)
            for i in sorted(range(len(runs)), key=lambda i: started[i] + delays[i]):
                time.sleep(max(0.0, started[i] + delays[i] - time.monotonic()))
                runs[i].send_signal(signal.SIGINT)
            for delay, run in zip(delays, runs):
                _, err = run.communicate(timeout=120)
                total += 1
                lines = [line for line in err.splitlines() if line.strip()]
                if run.returncode not in (130, -2) or len(lines) != 1:
                    bad += 1
                    print("BAD", round(delay, 3), run.returncode, err[-3000:], flush=True)
    print(f"bad {bad} of {total}")
    return 1 if bad else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(int(args[0]) if args else 0, int(args[1]) if len(args) > 1 else 5,
                  float(args[2]) if len(args) > 2 else 0.0, float(args[3]) if len(args) > 3 else 2.0))
