"""The augmentation study: rotations and zooms help a network trained on a few hundred digits."""

from __future__ import annotations

import numpy as np

from dnnimprove.studies import STUDIES, run_study
from dnnimprove.studies.augmentation import AUGMENTATION, PIXEL_MAX


def test_it_is_registered_and_trains_on_a_few_hundred_digits_scaled_to_zero_one():
    assert STUDIES["augmentation"] is AUGMENTATION
    result = run_study("augmentation", seeds=[0], epochs=1)
    assert result.data.X_train.shape == (359, 64) and result.data.X_test.shape == (1438, 64)
    assert result.data.X_train.min() == 0.0 and result.data.X_train.max() == 1.0  # 16 / PIXEL_MAX
    assert PIXEL_MAX == 16.0
    assert [variant.name for variant in result.variants] == ["no_augmentation", "rotate_zoom", "mirror"]
    shown = result.extras["_augmented"]
    assert shown["no_augmentation"] is None and shown["rotate_zoom"].shape == (6, 64)
    assert not np.array_equal(shown["rotate_zoom"], result.extras["_examples"])


def test_over_three_seeds_rotations_and_zooms_raise_test_accuracy_on_every_seed():
    result = run_study("augmentation", seeds=[0, 1, 2])
    failing = [text for text, ok in result.checks if not ok]
    assert not failing, failing
    gain = result.extras["gain"]
    assert len(gain["per_seed"]) == 3 and min(gain["per_seed"]) > 0
    assert gain["mean"] > 2 * gain["std"]  # a gain well outside its spread over seeds
    assert result.to_json()["gain"] == gain
