"""The landscape study: gradient descent, momentum, RMSprop and Adam on three 2-D surfaces.

In high dimensions local optima are rare (every one of many directions would have to curve up); what
slows training are saddle points, where the gradient vanishes between directions curving up and down,
plateaus, where it is nearly zero over a long stretch, and ravines, steep across and shallow along. Each
surface here is a function of the flat parameter vector ``theta = (x, y)``, and each optimizer is the
library's own (``optimizer.init(theta)``, ``optimizer.step(theta, gradient, state, lr)``), exactly as it
steps a network's flat vector.

=========  =========================================  ==============================================
surface    ``J(x, y)``                                 left when (counted in iterations)
=========  =========================================  ==============================================
saddle     ``x**2 + y**4 / 4 - y**2 / 2``              ``|y| > 0.5`` (saddle at 0, minima at y = ±1)
plateau    ``1 - exp(-(x**2 + y**2) / 2)``              ``x**2 + y**2 < 1`` (into the bowl at 0)
ravine     ``x**2 / 20 + 5 y**2``                       ``J < 0.01`` (the bottom of the ravine)
=========  =========================================  ==============================================

Every optimizer takes the same learning rate on a surface (:data:`LEARNING_RATES`; the ravine's is 90 % of
gradient descent's stability limit ``2 / 10``), with the defaults beta 0.9 (momentum and RMSprop), Adam's
beta1 0.9, beta2 0.999, epsilon 1e-8. A seed moves the starting point a little (how close to the saddle,
where on the plateau, where in the ravine). On the ravine the study also counts how often the steep
coordinate ``y`` changes sign in the first 100 iterations: the zig-zag momentum averages away.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from .._validation import Integer, validate_params
from ..optimizers import Adam, GradientDescent, Momentum, Optimizer, RMSProp
from .recipe import Data, DataSpec, Study, Variant
from .runner import RUNNER_CONSTRAINTS, StudyResult, checked_seeds, mean_and_spread

__all__ = ["Surface", "SURFACES", "OPTIMIZERS", "LEARNING_RATES", "LANDSCAPE", "descend", "run_landscape",
           "RUN_CONSTRAINTS"]

RUN_CONSTRAINTS = {**RUNNER_CONSTRAINTS, "epochs": Integer(low=1)}
"""The legal values of :func:`run_landscape`'s ``mode``, each of its ``seeds`` and ``epochs`` (the number of
iterations)."""


@dataclass(frozen=True)
class Surface:
    """A cost surface over ``theta = (x, y)``: its value, gradient, where a run starts and when it has left."""

    name: str
    formula: str
    value: Callable[[np.ndarray], float]
    gradient: Callable[[np.ndarray], np.ndarray]
    left: Callable[[np.ndarray], bool]
    start: Callable[[np.random.Generator], np.ndarray]
    extent: tuple[float, float, float, float]
    """``(x_min, x_max, y_min, y_max)`` of the contour plot."""


def _saddle_start(rng: np.random.Generator) -> np.ndarray:
    return np.array([1.0 + 0.2 * rng.uniform(-1, 1), rng.choice([-1, 1]) * 1e-3 * 10 ** rng.uniform(-0.5, 0.5)])


def _plateau_start(rng: np.random.Generator) -> np.ndarray:
    radius, angle = 3.4 + 0.2 * rng.uniform(-1, 1), rng.uniform(0.3, 1.2)
    return np.array([radius * np.cos(angle), radius * np.sin(angle)])


def _ravine_start(rng: np.random.Generator) -> np.ndarray:
    return np.array([-9.0 + 0.5 * rng.uniform(-1, 1), 1.0 + 0.2 * rng.uniform(-1, 1)])


SURFACES: dict[str, Surface] = {
    surface.name: surface for surface in (
        Surface("saddle", "x² + y⁴/4 − y²/2",
                lambda t: t[0] ** 2 + t[1] ** 4 / 4 - t[1] ** 2 / 2,
                lambda t: np.array([2 * t[0], t[1] ** 3 - t[1]]),
                lambda t: abs(t[1]) > 0.5, _saddle_start, (-1.5, 1.5, -1.5, 1.5)),
        Surface("plateau", "1 − exp(−(x² + y²)/2)",
                lambda t: 1 - np.exp(-(t[0] ** 2 + t[1] ** 2) / 2),
                lambda t: t * np.exp(-(t[0] ** 2 + t[1] ** 2) / 2),
                lambda t: t[0] ** 2 + t[1] ** 2 < 1.0, _plateau_start, (-1.5, 4.0, -1.5, 4.0)),
        Surface("ravine", "x²/20 + 5y²",
                lambda t: t[0] ** 2 / 20 + 5 * t[1] ** 2,
                lambda t: np.array([t[0] / 10, 10 * t[1]]),
                lambda t: t[0] ** 2 / 20 + 5 * t[1] ** 2 < 0.01, _ravine_start, (-10.0, 1.5, -1.5, 1.5)),
    )
}

OPTIMIZERS: dict[str, Callable[[float], Optimizer]] = {
    "gd": GradientDescent,
    "momentum": lambda lr: Momentum(lr, beta=0.9),
    "rmsprop": lambda lr: RMSProp(lr, beta=0.9),
    "adam": Adam,
}
"""The four optimizers compared, by name (momentum and RMSprop with beta 0.9; Adam with its defaults)."""

LEARNING_RATES = {"saddle": 0.05, "plateau": 0.1, "ravine": 0.18}
"""One learning rate per surface, shared by the four optimizers."""

ZIGZAG_WINDOW = 100
"""Iterations over which the ravine's zig-zag (sign changes of ``y``) is counted."""

LANDSCAPE = Study(
    name="landscape",
    title="Optimization landscape: a saddle point, a plateau and a ravine, with GD, momentum, RMSprop and Adam",
    lesson="In high dimensions saddle points and plateaus, not local optima, slow training: gradient descent "
    "creeps where the gradient is small, RMSprop and Adam scale each step by the gradient's running size and "
    "leave quickly, and momentum averages away the zig-zag across a ravine.",
    data=DataSpec("moons", {"n_samples": 2}),
    hidden=(),
    epochs=1000,
    quick_epochs=30,
    variants=tuple(Variant(name, {"optimizer": optimizer}) for name, optimizer in
                   (("gd", "gd"), ("momentum", "momentum"), ("rmsprop", "rmsprop"), ("adam", "adam"))),
    figures=("landscape_paths", "landscape_iterations"),
    kind="landscape",
)


def descend(surface: Surface, optimizer: Optimizer, start: np.ndarray, iterations: int, lr: float) -> np.ndarray:
    """Run ``optimizer`` on ``surface`` from ``start``: the path, an array of shape ``(iterations + 1, 2)``.

    ``theta`` and its gradient are flat float64 vectors, stepped in place by ``optimizer.step``. A
    non-finite step ends the path early (the rest is NaN).
    """
    theta = np.array(start, dtype=float)
    gradient = np.zeros_like(theta)
    state = optimizer.init(theta)
    path = np.full((iterations + 1, 2), np.nan)
    path[0] = theta
    with np.errstate(over="ignore", invalid="ignore"):
        for index in range(1, iterations + 1):
            gradient[:] = surface.gradient(theta)
            optimizer.step(theta, gradient, state, lr)
            if not np.all(np.isfinite(theta)):
                break
            path[index] = theta
    return path


def iterations_to_leave(surface: Surface, path: np.ndarray) -> int | None:
    """The first iteration after which the path has left (see the module table); ``None``: not within the path."""
    for index in range(1, len(path)):
        if np.all(np.isfinite(path[index])) and surface.left(path[index]):
            return index
    return None


def zigzag(path: np.ndarray, window: int = ZIGZAG_WINDOW) -> int:
    """How often the second coordinate changes sign over the first ``window`` iterations."""
    y = path[1: window + 1, 1]
    y = y[np.isfinite(y)]
    return int(np.count_nonzero(np.diff(np.sign(y)) != 0))


def _cell(values: list[float | None], cap: int) -> str:
    if any(value is None for value in values):
        return f"> {cap} ({sum(value is None for value in values)} not)"
    mean, spread = mean_and_spread(values)
    return f"{mean:.1f} ± {spread:.1f}"


def run_landscape(
    study: Study,
    mode: str = "robust",
    seeds: Iterable[int] = (0, 1, 2),
    epochs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Every optimizer on every surface from every seed's start; ``epochs`` is the number of iterations.

    Course-exact mode has nothing published to match: it runs seed 3 only.
    """
    validate_params(RUN_CONSTRAINTS, mode=mode)
    started = time.perf_counter()
    iterations = validate_params(RUN_CONSTRAINTS, epochs=study.epochs if epochs is None else epochs)["epochs"]
    seeds = [3] if mode == "course-exact" else checked_seeds(seeds)
    runs: list[dict[str, Any]] = []
    for name, make in OPTIMIZERS.items():
        for surface in SURFACES.values():
            lr = LEARNING_RATES[surface.name]
            for seed in seeds:
                path = descend(surface, make(lr), surface.start(np.random.default_rng(seed)), iterations, lr)
                runs.append({"optimizer": name, "surface": surface.name, "seed": seed, "lr": lr,
                             "iterations": iterations_to_leave(surface, path), "zigzag": zigzag(path),
                             "path": path})
        if progress:
            for seed in seeds:
                progress(f"{name} seed {seed}")
    summary = _summary(runs, iterations)
    checks = _checks(summary, iterations)
    header = ["optimizer"] + [f"{surface} (lr {LEARNING_RATES[surface]:g}): iterations to leave" for surface in SURFACES]
    header.append(f"ravine: sign changes of y in {ZIGZAG_WINDOW} iterations")
    rows = []
    for name in OPTIMIZERS:
        row = [name] + [_cell(summary[name][surface]["per_seed"], iterations) for surface in SURFACES]
        zig = summary[name]["ravine"]["zigzag"]
        row.append(f"{np.mean(zig):.1f} ± {np.std(zig):.1f}")
        rows.append(row)
    extras = {
        "dataset": {"name": "none: 2-D cost surfaces", **{surface.name: surface.formula for surface in SURFACES.values()}},
        "architecture": {"hidden": [], "loss": "the surface J(x, y)"},
        "seeds": len(seeds),
        "iterations": iterations,
        "learning_rates": dict(LEARNING_RATES),
        "summary": summary,
        "table": {"header": header, "rows": rows},
        "_runs": runs,
    }
    return StudyResult(study, mode, study.title, _NO_DATA, [], checks, extras, time.perf_counter() - started)


_NO_DATA = Data(np.zeros((0, 2)), np.zeros(0))
"""The landscape study trains no network: it has no dataset."""


def _summary(runs: list[dict[str, Any]], cap: int) -> dict[str, dict[str, dict[str, Any]]]:
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for run in runs:
        cell = summary.setdefault(run["optimizer"], {}).setdefault(run["surface"], {"per_seed": [], "zigzag": []})
        cell["per_seed"].append(run["iterations"])
        cell["zigzag"].append(run["zigzag"])
    for by_surface in summary.values():
        for cell in by_surface.values():
            capped = [cap + 1 if value is None else value for value in cell["per_seed"]]
            cell["mean"], cell["std"] = mean_and_spread(capped)
            cell["left"] = sum(value is not None for value in cell["per_seed"])
    return summary


def _checks(summary: dict[str, Any], cap: int) -> list[tuple[str, bool]]:
    def compare(text: str, left: str, op: str, right: str, surface: str, key: str = "mean") -> tuple[str, bool]:
        a = summary[left][surface][key] if key == "mean" else float(np.mean(summary[left][surface][key]))
        b = summary[right][surface][key] if key == "mean" else float(np.mean(summary[right][surface][key]))
        ok = a < b if op == "<" else a >= b
        unit = "iterations" if key == "mean" else "sign changes"
        return f"{text}: {'yes' if ok else 'NO'}, {left} {a:.1f} {op} {right} {b:.1f} ({surface}, {unit})", bool(ok)

    checks = []
    for surface in ("saddle", "plateau"):
        for fast in ("rmsprop", "adam"):
            checks.append(compare(f"{fast} leaves the {surface} in fewer iterations than gradient descent",
                                  fast, "<", "gd", surface))
        checks.append(compare(f"at the same learning rate momentum leaves the {surface} no faster than gradient "
                              "descent (on a smooth slope its (1 - beta) average takes the same step)",
                              "momentum", ">=", "gd", surface))
    checks.append(compare("momentum zig-zags less across the ravine than gradient descent", "momentum", "<", "gd",
                          "ravine", key="zigzag"))
    for fast in ("momentum", "rmsprop", "adam"):
        checks.append(compare(f"{fast} reaches the bottom of the ravine in fewer iterations than gradient descent",
                              fast, "<", "gd", "ravine"))
    return checks
