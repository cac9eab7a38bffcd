"""The exponentially weighted averages study: smoother and later with a larger beta, start-up bias corrected."""

from __future__ import annotations

import numpy as np

from dnnimprove.data import daily_temperatures
from dnnimprove.studies import STUDIES, run_study
from dnnimprove.studies.ewma import EWMA, lag, measure


def test_the_series_is_a_seeded_seasonal_curve_plus_noise():
    temperature, seasonal = daily_temperatures(365, noise=3.0, seed=0)
    assert temperature.shape == seasonal.shape == (365,)
    np.testing.assert_array_equal(temperature, daily_temperatures(365, 3.0, 0)[0])
    assert not np.array_equal(temperature, daily_temperatures(365, 3.0, 1)[0])
    assert seasonal.argmin() == 15 and abs(seasonal.argmax() - (15 + 365 / 2)) <= 1  # coldest mid-January
    assert abs(np.std(temperature - seasonal) - 3.0) < 0.3  # 365 draws: 3.0 +- 0.11
    np.testing.assert_array_equal(daily_temperatures(50, noise=0.0, seed=0)[0], daily_temperatures(50, 0.0)[1])


def test_lag_finds_a_known_shift():
    seasonal = daily_temperatures(365, noise=0.0)[1]
    shifted = np.concatenate([np.full(12, seasonal[0]), seasonal[:-12]])  # the curve 12 days late
    assert lag(shifted, seasonal) == 12


def test_measure_on_a_noiseless_constant_shows_the_start_up_bias_only_without_correction():
    constant = np.full(200, 10.0)
    figures = measure(constant, constant, 0.9)
    assert figures["start_corrected"] < 1e-12 and figures["roughness"] < 1e-12
    expected = np.mean(10.0 * 0.9 ** np.arange(1, 11))  # v_t = 10 (1 - 0.9**t): off by 10 * 0.9**t
    assert abs(figures["start_uncorrected"] - expected) < 1e-12


def test_over_three_seeds_the_course_conclusions_hold_as_orderings():
    assert STUDIES["ewma"] is EWMA
    result = run_study("ewma", seeds=[0, 1, 2])
    failing = [text for text, ok in result.checks if not ok]
    assert not failing, failing
    assert len(result.checks) == 7
    summary = result.extras["summary"]
    assert summary["0.98"]["lag"]["mean"] > summary["0.9"]["lag"]["mean"] > summary["0.5"]["lag"]["mean"]
    assert set(summary["0.9"]["roughness"]) == {"mean", "std"} and summary["0.9"]["roughness"]["std"] > 0
    assert [row[0] for row in result.to_json()["table"]["rows"]] == ["0.5", "0.9", "0.98"]
