"""Benchmarks: dnnimprove against a course-style NumPy network, scikit-learn, PyTorch eager and the GEMM floor.

    python benchmarks/run.py                  # tiny: 5000 epochs; wide: one 60000-row epoch; 3 repeats
    python benchmarks/run.py --quick          # tiny: 500 epochs; wide: one 12000-row epoch; 2 repeats
    python benchmarks/run.py --threads 2      # BLAS threads (threadpoolctl) and torch threads for every row
    python benchmarks/run.py --no-compiled    # leave out the fit(engine="compiled") rows
    python benchmarks/run.py --workloads study  # `dnnimprove study all` with numba and with DNNIMPROVE_DISABLE_NUMBA=1

dnnimprove runs with ``engine="numpy"`` ("dnnimprove" rows) and, when numba is installed (the ``fast``
extra), with ``engine="compiled"`` ("dnnimprove compiled" rows, and a "compiled faster" column: the peer's
time over the compiled engine's; on the GEMM floor row, the compiled step over the floor).

Workloads (issue 6):

- **tiny**: moons (300 points, noise 0.2), 2-5-2-1 ReLU network with a sigmoid output, He initialization,
  mini-batch 64, float64 (float32 rows say so), lr 0.0007 (Adam, momentum beta 0.9, gradient descent).
  dnnimprove and the course-style network are seeded as the course is (``CourseRandom(3, 10)``, published
  Adam accuracy 0.9433 after 5000 epochs); scikit-learn and PyTorch use their own initializers and seeds.
  Reported: microseconds per optimizer step and the final training accuracy.
- **wide**: 60000 x 784 float32 standard-normal inputs, 10 classes (labels from a random linear teacher),
  784-256-128-10 ReLU network with a softmax output, Adam lr 0.001, mini-batch 128, one epoch.
  Reported: microseconds per step and samples per second. The GEMM floor is the eight matrix products of one
  step (three forward, five backward) at the same shapes, alone.
- **study**: ``dnnimprove study all`` (robust mode, 3 seeds) in a subprocess, once with numba and once with
  ``DNNIMPROVE_DISABLE_NUMBA=1`` (so every fit runs on NumPy), alternating, after ``--study-warmup`` untimed
  runs with numba (default one: numba's disk cache then holds every kernel the studies compile, as after any
  earlier run of the same code); reported in seconds of wall and CPU time with the ratio.

Every row runs ``--warmup`` untimed times (default once: one-time costs such as numba loading its compiled
kernels or PyTorch's first dispatch of each operator are not what is measured), then ``--repeats`` times,
round-robin over the rows (so a change of load from other processes
spreads over all of them); the table shows the median and, for each peer, the ratio of its median time to
dnnimprove's on the same workload and variant (``5.0x`` = dnnimprove is five times faster). The machine's
load average is printed before and after: on a shared machine only the ratios of one run mean much.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # benchmark this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

import course_style  # noqa: E402
import dnnimprove as dn  # noqa: E402
from dnnimprove.compiled import unavailable_reason  # noqa: E402

try:
    import torch
except ImportError:  # the `benchmarks` extra is not installed: no PyTorch rows
    torch = None

OURS = "dnnimprove"
COMPILED = "dnnimprove compiled"


@dataclass
class Case:
    """One row: ``run()`` trains once and returns (seconds, optimizer steps, training accuracy or None)."""

    workload: str
    system: str
    variant: str
    dtype: str
    run: Callable[[], tuple[float, float, int, float | None]]
    samples_per_epoch: int = 0
    times: list[float] = field(default_factory=list)  # wall-clock microseconds per step, one per repeat
    cpu_times: list[float] = field(default_factory=list)  # the process's CPU microseconds per step
    accuracy: float | None = None
    epochs: int = 1
    steps: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_times)


def timed(train: Callable[[], tuple[int, float | None]]) -> tuple[float, float, int, float | None]:
    """Wall-clock and CPU seconds of ``train()``, its step count and accuracy. CPU time leaves out the time
    spent waiting for a core, which on a loaded machine is most of the noise (it keeps cache contention)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    steps, accuracy = train()
    return time.perf_counter() - start, time.process_time() - start_cpu, steps, accuracy


# -- data -------------------------------------------------------------------------------------------------
def tiny_data():
    X, y = dn.datasets.moons(300, 0.2, seed=3)
    return X, y


def wide_data(n: int):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 784), dtype=np.float32)
    teacher = rng.standard_normal((784, 10)).astype(np.float32)
    return X, np.argmax(X @ teacher, axis=1).astype(np.int64)


# -- dnnimprove ---------------------------------------------------------------------------------------------
def hidden_layers(widths: tuple[int, int, int], variant: str) -> list:
    """Dense-ReLU twice and a Dense output; with dropout after each ReLU, or batch norm before it."""
    layers = []
    for units in widths[:2]:
        if "batch norm" in variant:
            layers += [dn.Dense(units, use_bias=False), dn.BatchNorm(0.9, 1e-5), dn.ReLU()]
        else:
            layers += [dn.Dense(units), dn.ReLU()] + ([dn.Dropout(0.8)] if "dropout" in variant else [])
    return layers + [dn.Dense(widths[2])]


def ours_optimizer(variant: str, lr: float):
    if variant.startswith("GD"):
        return dn.GradientDescent(lr)
    if variant.startswith("momentum"):
        return dn.Momentum(lr, beta=0.9)
    return dn.Adam(lr)


def ours_case(workload, variant, dtype, data, epochs, threads, engine="numpy") -> Case:
    X, y = data
    tiny = workload == "tiny"

    def train():
        layers = hidden_layers((5, 2, 1) if tiny else (256, 128, 10), variant)
        seed = dn.CourseRandom(init_seed=3, shuffle_seed=10) if tiny else 1
        model = dn.Sequential(layers, loss="binary_crossentropy" if tiny else "categorical_crossentropy",
                              seed=seed, dtype=dtype)
        with dn.blas_threads(threads):
            history = model.fit(X, y, epochs=epochs, batch_size=64 if tiny else 128,
                                optimizer=ours_optimizer(variant, 0.0007 if tiny else 0.001),
                                record_every=epochs, engine=engine)
        return history.steps, model.evaluate(X, y)["accuracy"] if tiny else None

    system = OURS if engine == "numpy" else COMPILED
    return Case(workload, system, variant, dtype, lambda: timed(train), X.shape[0], epochs=epochs)



# -- course style -----------------------------------------------------------------------------------------
def course_case(workload, variant, dtype, data, epochs) -> Case:
    X, y = data
    tiny = workload == "tiny"
    XT = np.ascontiguousarray(X.T, dtype=dtype)
    YT = y.reshape(1, -1).astype(dtype) if tiny else np.eye(10, dtype=dtype)[y].T.copy()
    optimizer = {"GD": "gd", "momentum": "momentum"}.get(variant.split()[0], "adam")

    def train():
        dims = [2, 5, 2, 1] if tiny else [784, 256, 128, 10]
        output = "sigmoid" if tiny else "softmax"
        parameters, steps = course_style.model(
            XT, YT, dims, optimizer=optimizer, learning_rate=0.0007 if tiny else 0.001,
            mini_batch_size=64 if tiny else 128, num_epochs=epochs, output=output, dtype=dtype)
        accuracy = float(np.mean(course_style.predict(XT, parameters, 3, output) == y)) if tiny else None
        return steps, accuracy

    return Case(workload, "course-style NumPy", variant, dtype, lambda: timed(train), X.shape[0], epochs=epochs)


# -- scikit-learn -----------------------------------------------------------------------------------------
def sklearn_case(workload, variant, data, epochs) -> Case:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y = data
    tiny = workload == "tiny"
    batch = 64 if tiny else 128
    sgd = variant.startswith("GD")
    solver = {"solver": "sgd", "momentum": 0.0, "nesterovs_momentum": False} if sgd else {"solver": "adam"}

    def train():
        clf = MLPClassifier(
            hidden_layer_sizes=(5, 2) if tiny else (256, 128), activation="relu", alpha=0.0,
            batch_size=batch, learning_rate_init=0.0007 if tiny else 0.001, max_iter=epochs, shuffle=True,
            random_state=1, tol=0.0, n_iter_no_change=epochs + 1, **solver)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        steps = clf.n_iter_ * -(-X.shape[0] // batch)
        return steps, float(clf.score(X, y)) if tiny else None

    name = "scikit-learn MLP" + (" (sgd, momentum 0)" if sgd else "")
    return Case(workload, name, variant, str(X.dtype), lambda: timed(train), X.shape[0], epochs=epochs)


# -- PyTorch ----------------------------------------------------------------------------------------------
def torch_case(workload, variant, dtype, data, epochs, fused=False) -> Case:
    X, y = data
    tiny = workload == "tiny"
    tdtype = getattr(torch, dtype)
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=dtype))
    yt = torch.from_numpy(y.astype(dtype).reshape(-1, 1)) if tiny else torch.from_numpy(y)
    batch = 64 if tiny else 128
    lr = 0.0007 if tiny else 0.001

    def network():
        widths = [2, 5, 2, 1] if tiny else [784, 256, 128, 10]
        modules = []
        for i in range(3):
            bn = "batch norm" in variant and i < 2
            linear = torch.nn.Linear(widths[i], widths[i + 1], bias=not bn)
            torch.nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")  # He: std sqrt(2 / fan_in)
            if linear.bias is not None:
                torch.nn.init.zeros_(linear.bias)
            modules.append(linear)
            if i < 2:
                if bn:
                    modules.append(torch.nn.BatchNorm1d(widths[i + 1], eps=1e-5, momentum=0.1))  # ours 0.9
                modules.append(torch.nn.ReLU())
                if "dropout" in variant:
                    modules.append(torch.nn.Dropout(p=0.2))  # keep_prob 0.8
        return torch.nn.Sequential(*modules).to(tdtype)

    def make_optimizer(params):
        if variant.startswith("GD"):
            return torch.optim.SGD(params, lr=lr)
        if variant.startswith("momentum"):  # dampening=beta is the course's (1 - beta) form
            return torch.optim.SGD(params, lr=lr, momentum=0.9, dampening=0.9)
        return torch.optim.Adam(params, lr=lr, eps=1e-8, fused=True) if fused else torch.optim.Adam(params, lr=lr, eps=1e-8)

    def train():
        torch.manual_seed(1)
        generator = torch.Generator().manual_seed(1)
        net = network()
        optimizer = make_optimizer(net.parameters())
        loss_fn = torch.nn.BCEWithLogitsLoss() if tiny else torch.nn.CrossEntropyLoss()
        m, steps = Xt.shape[0], 0
        net.train()
        for _ in range(epochs):
            order = torch.randperm(m, generator=generator)
            for start in range(0, m, batch):
                rows = order[start : start + batch]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(net(Xt[rows]), yt[rows])
                loss.backward()
                optimizer.step()
                steps += 1
        accuracy = None
        if tiny:
            net.eval()
            with torch.no_grad():
                accuracy = float(((net(Xt) > 0).to(tdtype) == yt).to(torch.float64).mean())
        return steps, accuracy

    label = variant + (" (fused)" if fused else "")
    return Case(workload, "PyTorch eager", label, dtype, lambda: timed(train), X.shape[0], epochs=epochs)


# -- GEMM floor -------------------------------------------------------------------------------------------
def gemm_floor_case(steps: int) -> Case:
    rng = np.random.default_rng(0)
    f32 = np.float32
    shapes = {"X": (128, 784), "W1": (784, 256), "A1": (128, 256), "W2": (256, 128), "A2": (128, 128),
              "W3": (128, 10), "dZ3": (128, 10), "dZ2": (128, 128), "dZ1": (128, 256)}
    a = {name: rng.standard_normal(shape, dtype=f32) for name, shape in shapes.items()}
    out = {name: np.empty(shape, f32) for name, shape in
           {"Z1": (128, 256), "Z2": (128, 128), "Z3": (128, 10), "dW1": (784, 256), "dW2": (256, 128),
            "dW3": (128, 10), "dA2": (128, 128), "dA1": (128, 256)}.items()}

    def train():
        for _ in range(steps):
            np.dot(a["X"], a["W1"], out["Z1"])
            np.dot(a["A1"], a["W2"], out["Z2"])
            np.dot(a["A2"], a["W3"], out["Z3"])
            np.dot(a["A2"].T, a["dZ3"], out["dW3"])
            np.dot(a["dZ3"], a["W3"].T, out["dA2"])
            np.dot(a["A1"].T, a["dZ2"], out["dW2"])
            np.dot(a["dZ2"], a["W2"].T, out["dA1"])
            np.dot(a["X"].T, a["dZ1"], out["dW1"])
        return steps, None

    return Case("wide", "GEMM floor", "8 GEMMs of a step", "float32", lambda: timed(train), steps * 128)


# -- the table --------------------------------------------------------------------------------------------
def build_cases(args) -> list[Case]:
    tiny_epochs = 500 if args.quick else 5000
    wide_rows = 12000 if args.quick else 60000
    tiny, wide = tiny_data(), wide_data(wide_rows)
    has_reg = hasattr(dn, "Dropout") and hasattr(dn, "BatchNorm")
    t = args.threads
    cases = []
    if "tiny" in args.workloads:
        variants = ["Adam", "momentum", "GD"] + (["Adam + dropout", "Adam + batch norm"] if has_reg else [])
        for variant in variants:
            cases.append(ours_case("tiny", variant, "float64", tiny, tiny_epochs, t))
        cases.append(ours_case("tiny", "Adam", "float32", tiny, tiny_epochs, t))
        if args.compiled:
            for variant in ("Adam", "momentum", "GD"):
                cases.append(ours_case("tiny", variant, "float64", tiny, tiny_epochs, t, engine="compiled"))
            cases.append(ours_case("tiny", "Adam", "float32", tiny, tiny_epochs, t, engine="compiled"))
        cases.append(course_case("tiny", "Adam", "float64", tiny, tiny_epochs))
        cases.append(sklearn_case("tiny", "Adam", tiny, tiny_epochs))
        cases.append(sklearn_case("tiny", "GD", tiny, tiny_epochs))
        if torch is not None:
            for dtype in ("float64", "float32"):
                cases.append(torch_case("tiny", "Adam", dtype, tiny, tiny_epochs))
                cases.append(torch_case("tiny", "Adam", dtype, tiny, tiny_epochs, fused=True))
            for variant in ["momentum", "GD"] + (["Adam + dropout", "Adam + batch norm"] if has_reg else []):
                cases.append(torch_case("tiny", variant, "float64", tiny, tiny_epochs, fused=variant.startswith("Adam")))
    if "wide" in args.workloads:
        for variant in ["Adam"] + (["Adam + dropout", "Adam + batch norm"] if has_reg else []):
            cases.append(ours_case("wide", variant, "float32", wide, 1, t))
        cases.append(course_case("wide", "Adam", "float32", wide, 1))
        cases.append(sklearn_case("wide", "Adam", wide, 1))
        if torch is not None:
            cases.append(torch_case("wide", "Adam", "float32", wide, 1))
            for variant in ["Adam"] + (["Adam + dropout", "Adam + batch norm"] if has_reg else []):
                cases.append(torch_case("wide", variant, "float32", wide, 1, fused=True))
        if args.compiled:
            for variant in ["Adam"] + (["Adam + dropout", "Adam + batch norm"] if has_reg else []) + ["GD"]:
                cases.append(ours_case("wide", variant, "float32", wide, 1, t, engine="compiled"))
            if torch is not None:  # GD: how far above the floor a step is whose update costs almost nothing
                cases.append(torch_case("wide", "GD", "float32", wide, 1))
        cases.append(gemm_floor_case(-(-wide_rows // 128)))
    return cases


def study_all(args) -> None:
    """``dnnimprove study all`` timed with numba and with ``DNNIMPROVE_DISABLE_NUMBA=1``, alternating; the checks
    of the studies (their conclusions) counted in every timed run."""
    import json
    import subprocess
    import tempfile

    import resource

    times: dict[str, list[float]] = {"compiled (auto)": [], "numpy (DNNIMPROVE_DISABLE_NUMBA=1)": []}
    cpu: dict[str, list[float]] = {label: [] for label in times}
    held: dict[str, list[str]] = {label: [] for label in times}
    command = [sys.executable, "-m", "dnnimprove", "study", "all", "--no-progress", "--json"]
    for _ in range(args.study_warmup):  # untimed: fills numba's kernel cache
        with tempfile.TemporaryDirectory() as out:
            env = {**os.environ, "DNNIMPROVE_DISABLE_NUMBA": "0", "OPENBLAS_NUM_THREADS": str(args.threads)}
            subprocess.run([*command, "--out", out], env=env, check=True, stdout=subprocess.DEVNULL)
    for repeat in range(args.study_repeats):
        for label in times:
            env = {**os.environ, "DNNIMPROVE_DISABLE_NUMBA": "1" if label.startswith("numpy") else "0",
                   "OPENBLAS_NUM_THREADS": str(args.threads)}
            with tempfile.TemporaryDirectory() as out:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                finished = subprocess.run([*command, "--out", out], env=env, check=True, stdout=subprocess.PIPE)
                times[label].append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[label].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                checks = [check["ok"] for study in json.loads(finished.stdout) for check in study["checks"]]
                held[label].append(f"{sum(map(bool, checks))} of {len(checks)}")
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    for label, values in times.items():
        print(f"dnnimprove study all, {label}: {statistics.median(values):.1f} s wall (runs: "
              f"{', '.join(f'{v:.1f}' for v in values)}), {statistics.median(cpu[label]):.1f} s CPU (user + system); "
              f"checks held: {', '.join(held[label])}")
    compiled, numpy_ = (statistics.median(values) for values in times.values())
    compiled_cpu, numpy_cpu = (statistics.median(values) for values in cpu.values())
    print(f"with numba {numpy_ / compiled:.2f}x faster than without in wall time, {numpy_cpu / compiled_cpu:.2f}x in CPU "
          f"time (median of {args.study_repeats}, alternating)")


def family(case: Case) -> str:
    """The dnnimprove variant a row is compared with ("Adam (fused)" -> "Adam")."""
    return case.variant.replace(" (fused)", "")


def ratio_text(case: Case, cases: list[Case], cpu: bool = False, system: str = OURS) -> str:
    """Peer time / the time of ``system`` (dnnimprove with one engine); for the GEMM floor, dnnimprove's step
    time / the floor."""
    time_of = (lambda c: c.cpu_median) if cpu else (lambda c: c.median)  # noqa: E731
    if case.system in (OURS, COMPILED):
        return ""
    if case.system == "GEMM floor":
        steps = {c.variant: time_of(c) / time_of(case) for c in cases if c.system == system and c.workload == "wide"}
        if "Adam" not in steps:
            return ""
        return f"step = {steps['Adam']:.2f}x floor" + (f" (GD step {steps['GD']:.2f}x)" if "GD" in steps else "")
    ours = [c for c in cases if c.system == system and c.workload == case.workload and c.variant == family(case)
            and (c.dtype == case.dtype or c.dtype == "float64")]
    ours.sort(key=lambda c: c.dtype != case.dtype)  # same dtype first
    return f"{time_of(case) / time_of(ours[0]):.2f}x" if ours else ""


def print_table(cases: list[Case], args) -> None:
    setting = f"{args.threads} thread{'s' if args.threads > 1 else ''}"
    compiled = any(case.system == COMPILED for case in cases)
    header = ["workload", "system", "variant", "dtype", "us/step", "samples/s", "train acc", "dnnimprove faster"]
    header += ["compiled faster"] if compiled else []
    header += ["cpu us/step", "faster (cpu)"] + (["compiled faster (cpu)"] if compiled else [])
    rows = []
    for case in cases:
        samples = f"{case.samples_per_epoch * case.epochs / (case.median * 1e-6 * case.steps):,.0f}" if case.workload == "wide" else ""
        row = [case.workload, case.system, case.variant, case.dtype, f"{case.median:,.1f}", samples,
               "" if case.accuracy is None else f"{case.accuracy:.4f}", ratio_text(case, cases)]
        row += [ratio_text(case, cases, system=COMPILED)] if compiled else []
        row += [f"{case.cpu_median:,.1f}", ratio_text(case, cases, cpu=True)]
        row += [ratio_text(case, cases, cpu=True, system=COMPILED)] if compiled else []
        rows.append(row)
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    line = lambda row: "| " + " | ".join(str(v).ljust(w) for v, w in zip(row, widths)) + " |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print(f"\nEvery row: BLAS {setting} (threadpoolctl; dnnimprove blas_threads({args.threads})), "
          f"torch.set_num_threads({args.threads}); medians of {args.repeats} repeats after {args.warmup} untimed, run round-robin. us/step is "
          "wall-clock time, cpu us/step the process's CPU time; \"faster\" is the peer's time over dnnimprove's "
          "(same workload and variant, same dtype where there is one), the GEMM floor row dnnimprove's step over it.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and rows, 2 repeats")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads for every row (default 1)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per row (default 3, 2 with --quick)")
    parser.add_argument("--no-compiled", dest="compiled", action="store_false",
                        help="leave out the rows of fit(engine='compiled') (they need numba, the 'fast' extra)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed rounds over every row first (default 1)")
    parser.add_argument("--workloads", nargs="+", default=["tiny", "wide"], choices=["tiny", "wide", "study"])
    parser.add_argument("--study-repeats", type=int, default=1, help="runs of each study-all timing (default 1)")
    parser.add_argument("--study-warmup", type=int, default=1,
                        help="untimed study-all runs with numba first, filling its kernel cache (default 1)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be >= 1; got {args.threads}")
    if args.warmup < 0:
        parser.error(f"--warmup must be >= 0; got {args.warmup}")
    args.repeats = args.repeats or (2 if args.quick else 3)
    args.compiled = args.compiled and unavailable_reason() is None
    if torch is not None:
        torch.set_num_threads(args.threads)
    pools = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    pools.sort(key=lambda pool: "numpy" not in pool["filepath"])  # NumPy's own BLAS first
    blas = [f"{pool['internal_api']} {pool.get('version')} ({pool.get('architecture')} kernels)" for pool in pools[:1]]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores; "
          f"numpy {np.__version__} with {', '.join(blas) or 'unknown BLAS'}; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}" + (f"; torch {torch.__version__}" if torch is not None else "; no torch"))
    if "study" in args.workloads:
        study_all(args)
        args.workloads = [name for name in args.workloads if name != "study"]
        if not args.workloads:
            return
    with threadpool_limits(args.threads, user_api="blas"):
        cases = build_cases(args)
        for repeat in range(args.warmup + args.repeats):
            for case in cases:
                seconds, cpu_seconds, steps, accuracy = case.run()
                if repeat < args.warmup:  # one-time costs: numba loading its kernels, PyTorch's first dispatches
                    continue
                case.steps = steps
                case.times.append(seconds / steps * 1e6)
                case.cpu_times.append(cpu_seconds / steps * 1e6)
                case.accuracy = accuracy
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print_table(cases, args)


if __name__ == "__main__":
    main()
