"""Augmentation: random pixel shifts and Gaussian noise, drawn from the run's source, only on training batches."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.augmentation import Compose, GaussianNoise, RandomShift


def one_hot_images(m: int, size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """m images with one bright pixel each, away from the border; returns (X, positions (m, 2))."""
    rng = np.random.default_rng(0)
    positions = rng.integers(2, size - 2, (m, 2))
    images = np.zeros((m, size, size))
    images[np.arange(m), positions[:, 0], positions[:, 1]] = 1.0
    return images.reshape(m, size * size), positions


def test_each_image_moves_by_its_drawn_shift():
    X, positions = one_hot_images(200)
    shift = RandomShift((8, 8), max_shift=2)
    shifts = shift.draw_shifts(200, dn.as_random_source(5), np.float64)
    out = shift(X, dn.as_random_source(5))  # the same source state draws the same shifts
    moved = np.argwhere(out.reshape(200, 8, 8) == 1.0)
    assert moved.shape == (200, 3)  # every bright pixel is still there (none crossed the border) ...
    np.testing.assert_array_equal(moved[:, 1:], positions + shifts)  # ... at its position plus (dy, dx)
    assert out.sum() == 200.0


def test_shifts_cover_the_whole_range_uniformly():
    shifts = RandomShift((8, 8), max_shift=2).draw_shifts(10_000, dn.as_random_source(0), np.float64)
    values, counts = np.unique(shifts, return_counts=True)
    assert values.tolist() == [-2, -1, 0, 1, 2]
    # 20 000 draws over 5 values: each count is 4000 +- 57 (one standard deviation)
    assert np.all(np.abs(counts - 4000) < 300)


def test_the_uncovered_border_takes_the_fill_value_and_the_input_is_untouched():
    X = np.arange(1.0, 17.0).reshape(1, 16)
    before = X.copy()

    class Fixed:
        def uniform(self, shape, dtype):
            return np.full(shape, 0.99)  # the largest shift: (+1, +1)

    out = RandomShift((4, 4), max_shift=1, fill=-1.0)(X, Fixed()).reshape(4, 4)
    expected = np.full((4, 4), -1.0)
    expected[1:, 1:] = X.reshape(4, 4)[:-1, :-1]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(X, before)


def test_channels_move_together():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 6 * 6 * 3))
    out = RandomShift((6, 6, 3), max_shift=1)(X, dn.as_random_source(2)).reshape(5, 6, 6, 3)
    shifts = RandomShift((6, 6, 3), max_shift=1).draw_shifts(5, dn.as_random_source(2), np.float64)
    images = X.reshape(5, 6, 6, 3)
    for i, (dy, dx) in enumerate(shifts):
        np.testing.assert_array_equal(out[i, 1:5, 1:5], images[i, 1 - dy:5 - dy, 1 - dx:5 - dx])


def test_max_shift_zero_is_the_identity():
    X = np.random.default_rng(0).standard_normal((4, 64))
    np.testing.assert_array_equal(RandomShift((8, 8), max_shift=0)(X, dn.as_random_source(0)), X)


def test_gaussian_noise_has_the_asked_standard_deviation_and_leaves_the_input_alone():
    X = np.ones((400, 250))
    out = GaussianNoise(std=0.3)(X, dn.as_random_source(0))
    noise = out - X
    # 100 000 draws: the sample mean is 0 +- 0.001 and the sample std 0.3 +- 0.0007
    assert abs(noise.mean()) < 0.005
    assert abs(noise.std() - 0.3) < 0.005
    assert np.all(X == 1.0)
    np.testing.assert_array_equal(GaussianNoise(0.0)(X, dn.as_random_source(0)), X)


def test_augmentation_runs_on_training_batches_only_and_is_reproducible():
    X, y = dn.datasets.digits()
    X = X[:400] / 16.0
    y = y[:400]
    calls = []

    def counting(augmentation):
        def augment(X_batch, source):
            calls.append(X_batch.shape[0])
            return augmentation(X_batch, source)
        return augment

    def train(seed):
        model = dn.Sequential([dn.Dense(32), dn.ReLU(), dn.Dense(10)], loss="categorical_crossentropy", seed=seed)
        augment = counting(Compose(RandomShift((8, 8), max_shift=1), GaussianNoise(0.05)))
        model.fit(X, y, epochs=30, batch_size=50, optimizer=dn.Adam(0.01), augment=augment,
                  validation_data=(X[:100], y[:100]))
        return model

    first = train(3)
    assert calls == [50] * 8 * 30  # every training mini-batch, and not the dev-set or accuracy evaluations
    before = len(calls)
    proba = first.predict_proba(X)
    first.evaluate(X, y)
    assert len(calls) == before  # inference never augments ...
    np.testing.assert_array_equal(first.predict_proba(X), proba)  # ... so it is deterministic
    np.testing.assert_array_equal(train(3).params, first.params)  # same seed, same shifts and noise
    assert not np.array_equal(train(4).params, first.params)
    assert first.evaluate(X, y)["accuracy"] > 0.85  # it still learns from shifted, noisy digits


@pytest.mark.parametrize("kwargs, error, message", [
    ({"image_shape": (8, 8), "max_shift": 8}, ValueError, r"max_shift must be an integer in \[0, 7\]; got 8"),
    ({"image_shape": (8, 8), "max_shift": -1}, ValueError, r"max_shift must be an integer in \[0, 7\]; got -1"),
    ({"image_shape": 64}, ValueError, r"image_shape must be \(height, width\) or \(height, width, channels\); got 64"),
    ({"image_shape": (8, 0)}, ValueError, r"image_shape\[1\] must be an integer in \[1, inf\); got 0"),
])
def test_bad_shift_settings_are_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        RandomShift(**kwargs)


def test_images_of_another_width_are_a_clear_error():
    with pytest.raises(ValueError, match=r"needs rows of 64 features; got X of shape \(3, 30\)"):
        RandomShift((8, 8))(np.zeros((3, 30)), dn.as_random_source(0))


def test_negative_noise_is_a_clear_error():
    with pytest.raises(ValueError, match=r"std must be in \[0, inf\); got -0.1"):
        GaussianNoise(-0.1)
    with pytest.raises(TypeError, match=r"augmentations\[1\] must be callable"):
        Compose(GaussianNoise(0.1), "shift")
