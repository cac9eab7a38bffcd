"""The augmentation study: a few hundred digits, trained with and without image augmentation.

With only ~360 training images (the other 80 % of the digits are the test set) a 64-unit network fits
its training set perfectly and generalizes to about 94 %. Training on randomly rotated (up to 12
degrees) and zoomed (up to 10 %) copies of each mini-batch, drawn afresh every step, shows it new
images that keep their label, and raises the test accuracy; mirroring does not keep a digit's label
(a mirrored 2 is no digit), and the study shows what that costs. The gain is measured per seed (the
same seed trains both networks from the same initial weights) and reported with its spread.

The pixels are scaled to [0, 1] (divided by 16, their maximum) rather than standardized, so that the
background stays 0, the value the transforms fill in.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Callable, Iterable

import numpy as np

from .._validation import validate_params
from ..augmentation import DIGITS_SHAPE, Compose, RandomFlip, RandomRotation, RandomZoom
from ..random import CourseRandom
from .recipe import Data, DataSpec, Expectation, Study, Variant
from .runner import (RUNNER_CONSTRAINTS, StudyResult, VariantResult, check_expectations, checked_seeds, mean_and_spread,
                     record_every_for, train_once)

__all__ = ["AUGMENTATION", "PIXEL_MAX", "run_augmentation", "augmentation_gain"]

PIXEL_MAX = 16.0
"""The digits' largest pixel value: the study divides by it."""

AUGMENTATION = Study(
    name="augmentation",
    title="Data augmentation: 360 digits with and without random rotations and zooms (and mirrored)",
    lesson="With few training examples, random label-preserving distortions of every mini-batch (small "
    "rotations and zooms) act as extra data and raise the test accuracy; a transform that changes the "
    "label (mirroring a digit) does not help.",
    data=DataSpec("digits", {}, test=0.8, split_seed=0),
    hidden=(64,),
    loss="categorical_crossentropy",
    epochs=200,
    quick_epochs=3,
    base={"optimizer": "adam", "lr": 0.003, "batch_size": 32},
    variants=(Variant("no_augmentation"), Variant("rotate_zoom"), Variant("mirror")),
    expectations=(
        Expectation("rotations and zooms raise the test accuracy", "rotate_zoom", ">", "no_augmentation",
                    metric="test_accuracy"),
        Expectation("rotations and zooms shrink the train/test gap", "rotate_zoom", "<", "no_augmentation",
                    metric="gap"),
        Expectation("rotations and zooms beat mirroring the digits", "rotate_zoom", ">", "mirror",
                    metric="test_accuracy"),
    ),
    figures=("augmentation_examples", "augmentation_gain"),
    kind="augmentation",
    extra={
        "augment": {
            "no_augmentation": None,
            "rotate_zoom": Compose(RandomRotation(DIGITS_SHAPE, max_degrees=12.0),
                                   RandomZoom(DIGITS_SHAPE, max_zoom=0.1)),
            "mirror": RandomFlip(DIGITS_SHAPE, horizontal=True, p=0.5),
        },
    },
)


def _scaled(data: Data) -> Data:
    scale = lambda X: None if X is None else X / PIXEL_MAX  # noqa: E731
    return replace(data, X_train=scale(data.X_train), X_dev=scale(data.X_dev), X_test=scale(data.X_test))


def augmentation_gain(augmented: VariantResult, plain: VariantResult) -> tuple[float, float, list[float]]:
    """Test-accuracy gain of ``augmented`` over ``plain`` seed by seed: ``(mean, spread, per seed)``."""
    gains = [a.test_accuracy - p.test_accuracy for a, p in zip(augmented.runs, plain.runs)]
    mean, spread = mean_and_spread(gains)
    return float(mean), float(spread), gains


def run_augmentation(
    study: Study,
    mode: str = "robust",
    seeds: Iterable[int] = (0, 1, 2),
    epochs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Train every variant on every seed with its augmentation (``study.extra["augment"]``); check and measure.

    Course-exact mode has nothing published to match: it runs once on the course's random source.
    """
    validate_params(RUNNER_CONSTRAINTS, mode=mode)
    started = time.perf_counter()
    data = _scaled(study.data.load())
    n_epochs = study.epochs if epochs is None else epochs
    sources: list[Any] = [CourseRandom()] if mode == "course-exact" else checked_seeds(seeds)
    augment = study.extra["augment"]
    variants = []
    for variant in study.variants:
        settings = study.settings(variant)
        runs = []
        for source in sources:
            runs.append(train_once(study.hidden, study.loss, data, settings, n_epochs, source, False,
                                   record_every_for(study, n_epochs), fit_options={"augment": augment[variant.name]}))
            if progress:
                progress(f"{variant.name} seed {runs[-1].seed}")
        variants.append(VariantResult(variant.name, {**settings, "augment": repr(augment[variant.name])}, runs))
    checks = check_expectations(study, variants)
    by_name = {variant.name: variant for variant in variants}
    mean, spread, gains = augmentation_gain(by_name["rotate_zoom"], by_name["no_augmentation"])
    wins = sum(gain > 0 for gain in gains)
    checks.append((f"rotations and zooms gain {mean:+.4f} ± {spread:.4f} test accuracy ({wins} of {len(gains)} "
                   f"seeds gain)", wins == len(gains)))
    examples = data.X_train[:6]
    shown = {name: None if transform is None else transform(examples, _example_source())
             for name, transform in augment.items()}
    extras = {
        "gain": {"mean": mean, "std": spread, "per_seed": gains},
        "_examples": examples,
        "_augmented": shown,
    }
    return StudyResult(study, mode, study.title, data, variants, checks, extras, time.perf_counter() - started)


def _example_source() -> Any:
    from ..random import as_random_source

    return as_random_source(np.random.default_rng(0))
