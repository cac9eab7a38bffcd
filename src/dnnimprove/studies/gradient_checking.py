"""The gradient-checking study: a correct network passes, a deliberately wrong layer is named.

Each network is trained briefly with Adam (so that no ReLU sits exactly on its kink, as it can with zero
biases); Adam divides each gradient by its own running scale, so the doubled and quadrupled gradients
train like the right ones (up to ``epsilon``): training curves cannot reveal this bug, the gradient
check does. :func:`dnnimprove.check_gradients` compares back-propagation with two-sided differences in float64.
The wrong network swaps one hidden ``Dense`` for :class:`BuggyDense`, whose backward doubles ``dW`` and
quadruples ``db``; the study checks that the report names exactly that layer's tensors.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

import numpy as np

from .._validation import validate_params
from ..gradcheck import check_gradients
from ..layers import Dense
from ..model import Sequential
from .recipe import DataSpec, Study, Variant
from .runner import (RUNNER_CONSTRAINTS, StudyResult, VariantResult, build_model, checked_seeds, fit_and_evaluate,
                     seed_label)

__all__ = ["BuggyDense", "GRADIENT_CHECKING", "run_gradient_checking"]


class BuggyDense(Dense):
    """A dense layer with a deliberate bug in its backward: ``dW`` doubled, ``db`` quadrupled.

    It keeps ``Dense``'s kind, so its tensors are named by position like any dense layer's (``dense_2.W``).
    """

    def backward(self, dZ: np.ndarray) -> np.ndarray:
        dX = super().backward(dZ)
        self.dW *= 2
        if self.db is not None:
            self.db *= 4
        return dX


BUGGY_LAYER = 2
"""The hidden Dense layer (counted from 1) that the wrong network replaces with :class:`BuggyDense`."""

GRADIENT_CHECKING = Study(
    name="gradient_checking",
    title="Gradient checking: a correct network vs one with a wrong backward",
    lesson="Two-sided differences on the flat parameter vector agree with a correct back-propagation to "
    "about 1e-9 and expose a wrong one (dW doubled, db quadrupled) tensor by tensor, although Adam, blind "
    "to a gradient's scale, trains both networks identically.",
    data=DataSpec("moons", {"n_samples": 300, "noise": 0.2, "seed": 3}),
    hidden=(10, 5),
    epochs=20,
    quick_epochs=2,
    base={"optimizer": "adam", "lr": 0.01, "batch_size": 64},
    variants=(Variant("correct"), Variant("buggy_dense_2")),
    figures=("gradcheck",),
    kind="gradcheck",
)

EXAMPLES = 20
"""Examples the gradients are checked on (the check costs ``2 * n_params + 1`` forward passes)."""


def _network(study: Study, variant: Variant, seed: Any) -> Sequential:
    model = build_model(study.hidden, 1, study.settings(variant), study.loss, seed)
    if variant.name == "correct":
        return model
    layers = list(model.layers)
    dense = [index for index, layer in enumerate(layers) if isinstance(layer, Dense)]
    original = layers[dense[BUGGY_LAYER - 1]]
    layers[dense[BUGGY_LAYER - 1]] = BuggyDense(original.units, init=original.init)
    return Sequential(layers, loss=study.loss, seed=model.random)


def run_gradient_checking(
    study: Study,
    mode: str = "robust",
    seeds: Iterable[int] = (0, 1, 2),
    epochs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Train each network briefly, gradient-check it on a few examples, and check the verdicts."""
    from ..random import CourseRandom

    validate_params(RUNNER_CONSTRAINTS, mode=mode)
    started = time.perf_counter()
    data = study.data.load()
    n_epochs = study.epochs if epochs is None else epochs
    sources = [CourseRandom()] if mode == "course-exact" else checked_seeds(seeds)
    variants, reports, checks = [], [], []
    expected = {f"dense_{BUGGY_LAYER}.W", f"dense_{BUGGY_LAYER}.b"}
    for variant in study.variants:
        runs = []
        for source in sources:
            model = _network(study, variant, source)
            run = fit_and_evaluate(model, data, study.settings(variant), n_epochs, mode == "course-exact",
                                   max(n_epochs, 1))
            run.seed = seed_label(source)
            report = check_gradients(model, data.X_train[:EXAMPLES], data.y_train[:EXAMPLES])
            reports.append({"name": variant.name, "seed": run.seed, "difference": report.difference,
                            "verdict": report.verdict, "ok": report.ok, "per_tensor": report.per_tensor,
                            "wrong_tensors": report.wrong_tensors})
            runs.append(run)
            if progress:
                progress(f"{variant.name} seed {run.seed}")
        variants.append(VariantResult(variant.name, study.settings(variant), runs))
    for report in reports:
        if report["name"] == "correct":
            ok = report["ok"]
            text = f"correct network (seed {report['seed']}) passes: difference {report['difference']:.2e}"
        else:
            ok = not report["ok"] and set(report["wrong_tensors"]) == expected
            text = (f"wrong network (seed {report['seed']}) is caught, naming {', '.join(report['wrong_tensors'])}"
                    f" (expected {', '.join(sorted(expected))}): difference {report['difference']:.2e}")
        checks.append((text, bool(ok)))
    return StudyResult(study, mode, study.title, data, variants, checks, {"gradient_checks": reports},
                       time.perf_counter() - started)
