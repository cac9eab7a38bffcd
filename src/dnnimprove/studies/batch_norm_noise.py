"""Batch norm's slight regularizing effect: the train/test gap with and without it, against the batch size.

In training, batch norm normalizes each unit with the mean and variance of the current mini-batch, so every
example's activations carry a little noise from the other examples drawn with it (as dropout's masks add
noise); at inference the running averages replace them. The smaller the mini-batch, the noisier those
statistics, and the more they regularize; on the full batch they carry no noise at all. The course calls the
effect slight and warns not to use batch norm *as* a regularizer.

The study trains a 2-50-50-1 network on 300 noisy two-class points (:func:`dnnimprove.data.noisy_wave`,
which a plain network overfits) with Adam, with and without batch norm, at mini-batches of 16 and 64 and on
the full batch, for the same number of *steps* (``Study.epochs`` is the step count: the epochs of the
full-batch run; a mini-batch run takes ``ceil(steps * batch / m)`` epochs), so that every size fits about
as far. Batch norm's effect at a size is the gap it removes, ``gap(plain) - gap(batch norm)``, measured
seed by seed (both networks start from the same seed) on a test set of 1000 fresh points.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable

from .._validation import Integer, validate_params
from ..random import CourseRandom
from .recipe import DataSpec, Study, Variant
from .runner import RUNNER_CONSTRAINTS, StudyResult, VariantResult, checked_seeds, mean_and_spread, train_once

__all__ = ["BATCH_SIZES", "BATCH_NORM_NOISE", "run_batch_norm_noise", "effect", "RUN_CONSTRAINTS"]

RUN_CONSTRAINTS = {**RUNNER_CONSTRAINTS, "epochs": Integer(low=1)}
"""The legal values of :func:`run_batch_norm_noise`'s ``mode``, each of its ``seeds`` and ``epochs`` (the number
of steps, see the module docstring)."""

BATCH_SIZES = (16, 64, None)
"""Mini-batch sizes compared; ``None`` is the full batch."""


def _label(batch_size: int | None) -> str:
    return "full" if batch_size is None else str(batch_size)


BATCH_NORM_NOISE = Study(
    name="batch_norm_noise",
    title="Batch norm's slight regularizing effect: the train/test gap against the mini-batch size",
    lesson="Batch norm computes its statistics on each mini-batch, which adds noise to every hidden unit and so "
    "regularizes a little, the more the smaller the batch; on the full batch the noise, and the effect, vanish.",
    data=DataSpec("noisy_wave", {"n_samples": 300, "noise": 0.3, "seed": 0},
                  test_settings={"n_samples": 1000, "noise": 0.3, "seed": 1}),
    hidden=(50, 50),
    epochs=1000,
    quick_epochs=20,
    base={"optimizer": "adam", "lr": 0.01},
    variants=tuple(
        Variant(f"{kind}_batch_{_label(size)}", {"batch_size": size, "batch_norm": kind == "batch_norm"})
        for size in BATCH_SIZES for kind in ("plain", "batch_norm")
    ),
    figures=("batch_norm_gap",),
    kind="batch_norm_noise",
)


def effect(plain: VariantResult, normalized: VariantResult) -> list[float]:
    """Per seed, the train/test gap batch norm removes: ``gap(plain) - gap(batch norm)``."""
    return [(p.train_accuracy - p.test_accuracy) - (b.train_accuracy - b.test_accuracy)
            for p, b in zip(plain.runs, normalized.runs)]


def run_batch_norm_noise(
    study: Study,
    mode: str = "robust",
    seeds: Iterable[int] = (0, 1, 2),
    epochs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Every variant on every seed for the same number of steps (``epochs``: see the module docstring)."""
    validate_params(RUN_CONSTRAINTS, mode=mode)
    started = time.perf_counter()
    data = study.data.load()
    m = data.X_train.shape[0]
    steps = validate_params(RUN_CONSTRAINTS, epochs=study.epochs if epochs is None else epochs)["epochs"]
    sources: list[Any] = [CourseRandom()] if mode == "course-exact" else checked_seeds(seeds)
    variants = []
    for variant in study.variants:
        settings = study.settings(variant)
        size = settings["batch_size"]
        n_epochs = steps if size is None else math.ceil(steps * size / m)
        runs = []
        for source in sources:
            runs.append(train_once(study.hidden, study.loss, data, settings, n_epochs, source, False,
                                   max(1, math.ceil(n_epochs / study.points))))
            if progress:
                progress(f"{variant.name} seed {runs[-1].seed}")
        variants.append(VariantResult(variant.name, {**settings, "epochs": n_epochs}, runs))
    by_name = {variant.name: variant for variant in variants}
    effects = {}
    for size in BATCH_SIZES:
        label = _label(size)
        values = effect(by_name[f"plain_batch_{label}"], by_name[f"batch_norm_batch_{label}"])
        mean, spread = mean_and_spread(values)
        effects[label] = {"mean": mean, "std": spread, "per_seed": values}
    full = effects["full"]["mean"]
    checks = []
    for size in BATCH_SIZES[:-1]:
        label = _label(size)
        ok = effects[label]["mean"] > full
        checks.append((f"batch norm removes more of the train/test gap with mini-batches of {label} than on the full "
                       f"batch: {'yes' if ok else 'NO'}, {effects[label]['mean']:+.4f} > {full:+.4f}", bool(ok)))
    gaps = [by_name[f"batch_norm_batch_{_label(size)}"].metric("gap")[0] for size in BATCH_SIZES]
    ok = all(a < b for a, b in zip(gaps, gaps[1:]))
    checks.append((f"with batch norm the gap grows with the batch size: {'yes' if ok else 'NO'}, "
                   + " < ".join(f"{_label(size)}: {gap:.4f}" for size, gap in zip(BATCH_SIZES, gaps)), bool(ok)))
    extras = {"effect": effects, "steps": steps}
    return StudyResult(study, mode, study.title, data, variants, checks, extras, time.perf_counter() - started)
