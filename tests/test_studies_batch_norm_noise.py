"""Batch norm's regularizing effect against the batch size: same steps for every size, effect per seed."""

from __future__ import annotations

import math

import pytest

from dnnimprove.studies import STUDIES, run_study
from dnnimprove.studies.batch_norm_noise import BATCH_NORM_NOISE, effect
from dnnimprove.studies.runner import SeedRun, VariantResult


def test_every_size_runs_the_same_number_of_steps():
    assert STUDIES["batch_norm_noise"] is BATCH_NORM_NOISE
    result = run_study("batch_norm_noise", seeds=[0], epochs=20)
    m = result.data.X_train.shape[0]
    assert m == 300
    for variant in result.variants:
        size = variant.settings["batch_size"]
        expected = 20 if size is None else math.ceil(20 * size / m)
        assert variant.settings["epochs"] == expected and variant.runs[0].epochs == expected, variant.name


def test_effect_is_the_gap_removed_seed_by_seed():
    def variant(*pairs):
        runs = [SeedRun(seed, train, test, None, 1, 0.0, None, None) for seed, (train, test) in enumerate(pairs)]
        return VariantResult("v", {}, runs)

    plain = variant((1.0, 0.8), (0.9, 0.85))
    normalized = variant((0.95, 0.85), (0.9, 0.86))
    assert effect(plain, normalized) == pytest.approx([0.2 - 0.1, 0.05 - 0.04])


def test_over_three_seeds_batch_norm_removes_more_gap_with_mini_batches_than_on_the_full_batch():
    result = run_study("batch_norm_noise", seeds=[0, 1, 2])
    failing = [text for text, ok in result.checks if not ok]
    assert not failing, failing
    effects = result.extras["effect"]
    assert set(effects) == {"16", "64", "full"} and all(len(e["per_seed"]) == 3 for e in effects.values())
