"""Where the time of one training step goes, and before/after timings against another version of the code.

    python benchmarks/profile_step.py                       # per-part breakdown of the tiny Adam step
    python benchmarks/profile_step.py --wide                # ... and of the wide one
    git worktree add /tmp/before fd5bfca                    # any earlier revision
    python benchmarks/profile_step.py --against /tmp/before/src --repeats 5
    python benchmarks/profile_step.py --compiled            # + a training step: compiled engine vs NumPy

The breakdown times forward, loss gradient, backward, the optimizer step and the batch gather of the tiny
workload (moons 300, 2-5-2-1 ReLU, mini-batch 64, Adam, float64) one by one, in microseconds per call.
``--against SRC`` runs the tiny workload (1000 epochs) and a wide epoch (20000 x 784 float32, 784-256-128-10,
Adam, mini-batch 128) in fresh subprocesses, alternating this tree's ``src`` and ``SRC``, one BLAS thread,
and prints the medians. ``--compiled`` times a training step of the tiny network on each engine
(``fit(engine="numpy")`` and ``fit(engine="compiled")``), one BLAS thread, medians of 7 rounds, then both
for wider 20-w-w-1 networks.
Speed only: the comparison against peers is ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE_SRC = Path(__file__).resolve().parent.parent / "src"

# Runs in a subprocess with PYTHONPATH set to the source tree under test; uses only the API every
# revision since the first has (Sequential, Dense, ReLU, CourseRandom, Adam, fit).
DRIVER = """
import json, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
import dnnimprove as dn
workload, engine = sys.argv[1], sys.argv[2]
with threadpool_limits(1):
    if workload == "tiny":
        X, y = dn.datasets.moons(300, 0.2, seed=3)
        make = lambda: dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)],
                                     seed=dn.CourseRandom(3, 10))
        epochs, batch, lr = 1000, 64, 0.0007
    else:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((20000, 784)).astype(np.float32)
        y = rng.integers(0, 10, 20000)
        make = lambda: dn.Sequential([dn.Dense(256), dn.ReLU(), dn.Dense(128), dn.ReLU(), dn.Dense(10)],
                                     loss="categorical_crossentropy", seed=0, dtype="float32")
        epochs, batch, lr = 1, 128, 0.001
    make().fit(X[:batch * 2], y[:batch * 2], epochs=1, batch_size=batch, optimizer=dn.Adam(lr), engine=engine)  # warm up
    model = make()
    started = time.perf_counter()
    history = model.fit(X, y, epochs=epochs, batch_size=batch, optimizer=dn.Adam(lr), record_every=epochs,
                        engine=engine)
    seconds = time.perf_counter() - started
print(json.dumps({"us_per_step": seconds / history.steps * 1e6}))
"""


def breakdown(repeats: int = 20000) -> dict[str, float]:
    """Microseconds per call of each part of the tiny Adam step (this tree's code)."""
    sys.path.insert(0, str(HERE_SRC))
    import numpy as np

    import dnnimprove as dn

    X, y = dn.datasets.moons(300, 0.2, seed=3)
    model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=dn.CourseRandom(3, 10))
    with dn.blas_threads(1):
        model.fit(X, y, epochs=1, batch_size=64, optimizer=dn.Adam(0.0007))
    X_batch = np.ascontiguousarray(X[:64])
    Y_batch = model.encode_targets(y[:64], 64)
    Z = model.forward(X_batch, True)
    dZ = model.loss.gradient(Z, Y_batch)
    state = model.optimizer_.init(model.params)
    step = lambda lr: model.optimizer_.update(model.params, model.grads, state, lr)  # noqa: E731
    order = np.random.default_rng(0).permutation(300)[:64]
    X_buffer, Y_all = np.empty((64, 2)), model.encode_targets(y, 300)
    Y_buffer = np.empty((64, 1))
    parts = {
        "forward (training)": lambda: model.forward(X_batch, True),
        "loss gradient": lambda: model.loss.gradient(Z, Y_batch),
        "backward": lambda: model.backward(dZ),
        "forward + loss + backward": lambda: model.compute_gradients(X_batch, Y_batch, True, 0.0, False),
        "Adam step": lambda: step(0.0007),
        "gather X and Y": lambda: (X.take(order, 0, X_buffer, "clip"), Y_all.take(order, 0, Y_buffer, "clip")),
    }
    result = {}
    for name, call in parts.items():
        call()
        started = time.perf_counter()
        for _ in range(repeats):
            call()
        result[name] = (time.perf_counter() - started) / repeats * 1e6
    return result


def wide_breakdown(repeats: int = 200) -> dict[str, float]:
    """Microseconds of each part of the wide Adam step (784-256-128-10, float32, mini-batch 128, one BLAS
    thread): what the step spends outside its eight matrix products, and fit's one-time work per step of
    a 60000-row epoch (469 steps)."""
    sys.path.insert(0, str(HERE_SRC))
    import numpy as np
    from threadpoolctl import threadpool_limits

    import dnnimprove as dn

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60000)

    def make():
        return dn.Sequential([dn.Dense(256), dn.ReLU(), dn.Dense(128), dn.ReLU(), dn.Dense(10)],
                             loss="categorical_crossentropy", seed=0, dtype="float32")

    model = make()
    model.fit(X[:256], y[:256], epochs=1, batch_size=128, optimizer=dn.Adam(0.001))
    Y_all = model.encode_targets(y, 60000)
    X_buffer, Y_buffer = np.empty((128, 784), np.float32), np.empty((128, 10), np.float32)
    orders = [rng.permutation(60000)[:128] for _ in range(64)]
    X_batch, Y_batch = X[:128].copy(), Y_all[:128].copy()
    Z = model.forward(X_batch, True)
    dZ, _ = model.loss.gradient_and_cost(Z, Y_batch, True)
    state = model.optimizer_.init(model.params)
    step = lambda lr: model.optimizer_.update(model.params, model.grads, state, lr)  # noqa: E731
    W = [model.tensor(f"dense_{i}.W") for i in (1, 2, 3)]
    A1 = np.maximum(X_batch @ W[0], 0)  # stand-ins of the step's shapes: (128, 256) and (128, 128)
    A2 = np.maximum(A1 @ W[1], 0)

    def gemms():  # three forward, five backward (dW3, dA2, dW2, dA1, dW1), as benchmarks/run.py's floor
        np.dot(X_batch, W[0]), np.dot(A1, W[1]), np.dot(A2, W[2])
        np.dot(A2.T, dZ), np.dot(dZ, W[2].T), np.dot(A1.T, A2), np.dot(A2, W[1].T), np.dot(X_batch.T, A1)

    picks = iter(orders * (repeats * 2))
    parts = {
        "gather X and Y (random rows)": lambda: (X.take(next(picks), 0, X_buffer, "clip"),
                                                 Y_all.take(orders[0], 0, Y_buffer, "clip")),
        "forward (training)": lambda: model.forward(X_batch, True),
        "loss gradient and cost": lambda: model.loss.gradient_and_cost(Z, Y_batch, True),
        "backward": lambda: model.backward(dZ),
        "the 8 GEMMs alone": gemms,
        "first product, rows (X @ W1)": lambda: np.dot(X_batch, W[0]),  # the floor's, and the kernel's for this network
        "first product, columns (W1.T @ X.T)": lambda: np.dot(W[0].T, X_batch.T),  # the kernel's column layout
        "Adam step (with its guard)": lambda: step(0.001),
    }
    result = {}
    with threadpool_limits(1):
        for name, call in parts.items():
            call()
            started = time.perf_counter()
            for _ in range(repeats):
                call()
            result[name] = (time.perf_counter() - started) / repeats * 1e6
        from dnnimprove._validation import all_finite

        checks = []
        for _ in range(5):  # part of the one-time work: the inputs' NaN/inf check reads all of X
            started = time.perf_counter()
            all_finite(X)
            checks.append(time.perf_counter() - started)
        setups = []
        for _ in range(5):
            started = time.perf_counter()
            make().fit(X, y, epochs=0, batch_size=128)  # validation, build, init: no step
            setups.append(time.perf_counter() - started)
    result["fit's one-time work / 469 steps"] = statistics.median(setups) / 469 * 1e6
    result["  of which the NaN check of X / 469"] = statistics.median(checks) / 469 * 1e6
    return result


def _per_step(make, X, y, engine: str, epochs: int, batch: int) -> float:
    """Microseconds per step of ``make().fit(...)`` on ``engine`` (after a warm-up fit that compiles)."""
    import dnnimprove as dn

    make().fit(X, y, epochs=1, batch_size=batch, optimizer=dn.Adam(0.0007), engine=engine)
    model = make()
    started = time.perf_counter()
    history = model.fit(X, y, epochs=epochs, batch_size=batch, optimizer=dn.Adam(0.0007), engine=engine,
                        record_every=epochs)
    return (time.perf_counter() - started) / history.steps * 1e6


def compiled_gradients(rounds: int = 7) -> dict[str, float]:
    """Microseconds per training step of the tiny network on each engine (1000 epochs), medians of ``rounds``."""
    sys.path.insert(0, str(HERE_SRC))
    import dnnimprove as dn

    X, y = dn.datasets.moons(300, 0.2, seed=3)
    make = lambda: dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(2), dn.ReLU(), dn.Dense(1)], seed=1)  # noqa: E731
    times: dict[str, list[float]] = {"numpy": [], "compiled": []}
    with dn.blas_threads(1):
        for _ in range(rounds):
            for engine in times:
                times[engine].append(_per_step(make, X, y, engine, 1000, 64))
    return {engine: statistics.median(values) for engine, values in times.items()}


def compiled_by_width(widths=(8, 16, 32, 64, 128), rounds: int = 3) -> list[tuple[int, float, float]]:
    """``(width, numpy us, compiled us)`` per training step of a 20-w-w-1 ReLU network, mini-batch 64,
    float64, one BLAS thread, medians of ``rounds``."""
    sys.path.insert(0, str(HERE_SRC))
    import numpy as np

    import dnnimprove as dn

    rng = np.random.default_rng(0)
    X = rng.standard_normal((640, 20))
    y = (X[:, 0] > 0).astype(int)
    rows = []
    with dn.blas_threads(1):
        for width in widths:
            make = lambda: dn.Sequential([dn.Dense(width), dn.ReLU(), dn.Dense(width), dn.ReLU(), dn.Dense(1)],  # noqa: E731
                                         seed=0)
            times = {engine: statistics.median(_per_step(make, X, y, engine, 100, 64) for _ in range(rounds))
                     for engine in ("numpy", "compiled")}
            rows.append((width, times["numpy"], times["compiled"]))
    return rows


def timed_run(src: Path, workload: str, engine: str) -> float:
    output = subprocess.run(
        [sys.executable, "-c", DRIVER, workload, engine], env={**os.environ, "PYTHONPATH": str(src)},
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])["us_per_step"]


def compare(against: Path, repeats: int, engine: str) -> None:
    print(f"{'workload':<10}{'against (' + str(against) + ')':>44}{'this tree':>14}{'change':>10}")
    for workload in ("tiny", "wide"):
        times: dict[str, list[float]] = {"against": [], "this": []}
        for _ in range(repeats):  # interleaved, so a change in machine load hits both
            times["against"].append(timed_run(against, workload, engine))
            times["this"].append(timed_run(HERE_SRC, workload, engine))
        before, after = statistics.median(times["against"]), statistics.median(times["this"])
        print(f"{workload:<10}{before:>44.1f}{after:>14.1f}{(after / before - 1) * 100:>9.0f}%")
    print(f"us per optimizer step, medians of {repeats} interleaved runs, 1 BLAS thread, engine={engine!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, help="another source tree (its src/ folder) to time against")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs per workload (default 5)")
    parser.add_argument("--engine", default="auto", choices=["auto", "numpy", "compiled"],
                        help="the engine of the --against runs (default auto)")
    parser.add_argument("--compiled", action="store_true", help="also time the compiled engine's gradient call (numba)")
    parser.add_argument("--wide", action="store_true", help="also break down the wide step (784-256-128-10, float32)")
    args = parser.parse_args()
    for name, micros in breakdown().items():
        print(f"{name:<28}{micros:8.2f} us")
    if args.wide:
        print()
        for name, micros in wide_breakdown().items():
            print(f"wide: {name:<34}{micros:9.1f} us")
    if args.compiled:
        print()
        results = compiled_gradients()
        for name, micros in results.items():
            print(f"{name:<36}{micros:8.2f} us per training step")
        speedup = results["numpy"] / results["compiled"]
        print(f"compiled engine {speedup:.1f}x faster per step (tiny network, mini-batch 64, float64, 1 BLAS thread, medians of 7)")
        print()
        print(f"{'20-w-w-1 ReLU, batch 64':<26}{'numpy us':>10}{'compiled us':>13}{'ratio':>8}")
        for width, numpy_us, compiled_us in compiled_by_width():
            print(f"{'w = ' + str(width):<26}{numpy_us:>10.1f}{compiled_us:>13.1f}{numpy_us / compiled_us:>7.2f}x")
    if args.against is not None:
        print()
        compare(args.against, args.repeats, args.engine)


if __name__ == "__main__":
    main()
