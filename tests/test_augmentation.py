"""Augmentation: random pixel shifts and Gaussian noise, drawn from the run's source, only on training batches."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.augmentation import (Compose, GaussianNoise, RandomCrop, RandomFlip, RandomRotation, RandomShift,
                                   RandomZoom)


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


# -- flips, rotations, zooms, crops ----------------------------------------------------------------------
class Fixed:
    """A source whose uniform draws are all ``value`` (to pick a known flip, angle, zoom or corner)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def uniform(self, shape, dtype):
        return np.full(shape, self.value, dtype=dtype)


def images(m: int = 4, shape=(8, 8)) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, (m, int(np.prod(shape))))


def test_a_flip_with_probability_one_mirrors_every_image_and_zero_none():
    X = images()
    left_right = RandomFlip((8, 8), p=1.0)(X, dn.as_random_source(0)).reshape(4, 8, 8)
    np.testing.assert_array_equal(left_right, X.reshape(4, 8, 8)[:, :, ::-1])
    upside_down = RandomFlip((8, 8), horizontal=False, vertical=True, p=1.0)(X, dn.as_random_source(0))
    np.testing.assert_array_equal(upside_down.reshape(4, 8, 8), X.reshape(4, 8, 8)[:, ::-1])
    np.testing.assert_array_equal(RandomFlip((8, 8), p=0.0)(X, dn.as_random_source(0)), X)


def test_flips_happen_with_the_asked_probability():
    X = images(4000, (2, 2))
    out = RandomFlip((2, 2), p=0.3)(X, dn.as_random_source(1))
    flipped = np.mean(np.any(out != X, axis=1))
    assert abs(flipped - 0.3) < 0.03  # 4000 draws: the fraction is 0.3 +- 0.007


def test_a_rotation_by_the_largest_angle_of_90_degrees_is_numpys_quarter_turn():
    X = images(3, (5, 5, 2))  # square, channels rotate together
    out = RandomRotation((5, 5, 2), max_degrees=90.0)(X, Fixed(1.0)).reshape(3, 5, 5, 2)
    np.testing.assert_allclose(out, np.rot90(X.reshape(3, 5, 5, 2), k=-1, axes=(1, 2)), atol=1e-12)


def test_a_small_rotation_moves_a_pixel_along_a_circle_about_the_centre():
    X = np.zeros((1, 81))
    X[0, 4 * 9 + 8] = 1.0  # row 4 (the centre row), column 8: 4 pixels right of the centre
    out = RandomRotation((9, 9), max_degrees=30.0)(X, Fixed(1.0)).reshape(9, 9)
    rows, columns = np.nonzero(out > 0)
    weights = out[rows, columns]
    centre_of_mass = (np.average(rows, weights=weights) - 4, np.average(columns, weights=weights) - 4)
    assert np.hypot(*centre_of_mass) == pytest.approx(4.0, abs=0.3)  # still 4 pixels from the centre ...
    assert abs(np.degrees(np.arctan2(*centre_of_mass))) == pytest.approx(30.0, abs=4.0)  # ... turned 30 degrees


def test_zoom_at_its_largest_factor_enlarges_about_the_centre_and_at_zero_is_the_identity():
    X = np.zeros((1, 81))
    X[0, 4 * 9 + 6] = 1.0  # 2 pixels right of the centre
    out = RandomZoom((9, 9), max_zoom=0.5)(X, Fixed(1.0)).reshape(9, 9)  # factor 1.5: 3 pixels right
    assert out[4, 7] == pytest.approx(1.0)  # output column 7 reads input column 4 + 3 / 1.5 = 6
    spread = np.outer([1 / 3, 1, 1 / 3], [1 / 3, 1, 1 / 3])  # column 6 reads 4 + 2 / 1.5: a third of the pixel
    np.testing.assert_allclose(out[3:6, 6:9], spread, rtol=1e-12)
    assert np.count_nonzero(out) == 9
    X = images()
    np.testing.assert_array_equal(RandomZoom((8, 8), max_zoom=0.0)(X, dn.as_random_source(0)), X)
    np.testing.assert_array_equal(RandomRotation((8, 8), max_degrees=0.0)(X, dn.as_random_source(0)), X)


def test_a_crop_stretches_its_window_back_to_the_whole_image():
    X = np.kron(np.arange(4.0).reshape(2, 2), np.ones((4, 4))).reshape(1, 64)  # four 4x4 quadrants 0, 1, 2, 3
    top_left = RandomCrop((8, 8), crop_shape=(4, 4))(X, Fixed(0.0)).reshape(8, 8)
    np.testing.assert_array_equal(top_left, np.zeros((8, 8)))  # the window is quadrant 0, enlarged
    bottom_right = RandomCrop((8, 8), crop_shape=(4, 4))(X, Fixed(0.999)).reshape(8, 8)
    np.testing.assert_array_equal(bottom_right, np.full((8, 8), 3.0))
    X = images()
    np.testing.assert_array_equal(RandomCrop((8, 8), crop_shape=(8, 8))(X, dn.as_random_source(0)), X)


def test_image_transforms_are_reproducible_and_leave_their_input_alone():
    X = images(6)
    before = X.copy()
    for transform in [RandomRotation((8, 8), 15.0), RandomZoom((8, 8), 0.2), RandomCrop((8, 8), (6, 7)),
                      RandomFlip((8, 8))]:
        first = transform(X, dn.as_random_source(3))
        np.testing.assert_array_equal(first, transform(X, dn.as_random_source(3)))
        assert not np.array_equal(first, transform(X, dn.as_random_source(4))), transform
        assert first.shape == X.shape and first.dtype == X.dtype
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("make, message", [
    (lambda: RandomRotation((8, 8), max_degrees=200), r"max_degrees must be in \[0, 180\]; got 200"),
    (lambda: RandomRotation((8, 8), max_degrees=float("nan")), r"max_degrees must be a finite number"),
    (lambda: RandomZoom((8, 8), max_zoom=1.0), r"max_zoom must be in \[0, 1\); got 1.0"),
    (lambda: RandomZoom((8, 8), max_zoom=-0.1), r"max_zoom must be in \[0, 1\); got -0.1"),
    (lambda: RandomCrop((8, 8), crop_shape=(9, 8)), r"crop_shape\[0\] must be an integer in \[1, 8\]; got 9"),
    (lambda: RandomCrop((8, 8), crop_shape=7), r"crop_shape must be \(height, width\); got 7"),
    (lambda: RandomFlip((8, 8), p=1.5), r"p must be in \[0, 1\]; got 1.5"),
    (lambda: RandomFlip((8,), p=0.5), r"image_shape must be \(height, width\) or \(height, width, channels\); got \(8,\)"),
])
def test_bad_magnitudes_are_one_clear_error_naming_the_argument_and_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("transform", [RandomRotation((8, 8)), RandomZoom((8, 8)), RandomCrop((8, 8)), RandomFlip((8, 8))])
def test_images_that_do_not_match_the_declared_shape_are_refused_naming_x_and_both_shapes(transform):
    with pytest.raises(ValueError, match=r"X must be a 2-D array with rows of 64 features \(image_shape \(8, 8\)\) "
                                         r"for Random\w+; got X of shape \(3, 63\)"):
        transform(np.zeros((3, 63)), dn.as_random_source(0))


SPLIT_TRANSFORMS = [
    RandomShift((8, 8), max_shift=2), RandomFlip((8, 8), horizontal=True, vertical=True), RandomRotation((8, 8), 20.0),
    RandomZoom((8, 8), 0.2), RandomCrop((8, 8), (6, 7)), GaussianNoise(0.1),
    Compose(RandomRotation((8, 8), 12.0), RandomZoom((8, 8), 0.1), GaussianNoise(0.05)),
]


@pytest.mark.parametrize("transform", SPLIT_TRANSFORMS, ids=lambda transform: type(transform).__name__)
def test_an_epoch_augmented_at_once_equals_its_batches_augmented_one_by_one(transform):
    from dnnimprove.augmentation import Augmentation, draw_batches

    X = np.random.default_rng(6).random((23, 64))
    sizes = [8, 8, 7]
    by_batch_source, at_once_source = dn.as_random_source(11), dn.as_random_source(11)
    starts = np.cumsum([0] + sizes)
    by_batch = np.concatenate([transform(X[start:stop], by_batch_source) for start, stop in zip(starts, starts[1:])])
    drawn = draw_batches(transform, [(size, 64) for size in sizes], at_once_source, X.dtype)
    assert isinstance(transform, Augmentation)
    np.testing.assert_array_equal(transform.apply(X, drawn), by_batch)  # bit for bit
    assert at_once_source.uniform((1,), np.float64) == by_batch_source.uniform((1,), np.float64)  # same draws made
    assert not np.array_equal(transform.apply(X, draw_batches(transform, [(23, 64)], at_once_source, X.dtype)),
                              by_batch)  # other draws, another result


def test_a_compose_of_plain_functions_is_no_split_augmentation():
    shift = RandomShift((8, 8))
    composed = Compose(lambda X_batch, source: X_batch + 1.0, shift)
    assert not composed.splits and Compose(shift, GaussianNoise(0.1)).splits
    with pytest.raises(TypeError, match=r"Compose of plain functions has no draw\(\)"):
        composed.draw((4, 64), dn.as_random_source(0), np.float64)
