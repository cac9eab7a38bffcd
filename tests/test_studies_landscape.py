"""The landscape study: the library's optimizers on a saddle, a plateau and a ravine."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.studies import STUDIES, run_study
from dnnimprove.studies.landscape import LANDSCAPE, SURFACES, descend, iterations_to_leave, zigzag


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_every_surface_gradient_matches_two_sided_differences(name):
    surface = SURFACES[name]
    rng = np.random.default_rng(0)
    for _ in range(5):
        theta = rng.uniform(-2, 2, 2)
        numeric = np.array([(surface.value(theta + step) - surface.value(theta - step)) / 2e-6
                            for step in np.eye(2) * 1e-6])
        np.testing.assert_allclose(surface.gradient(theta), numeric, rtol=1e-7, atol=1e-9)


def test_the_saddle_is_flat_at_the_origin_and_curves_up_in_x_and_down_in_y():
    saddle = SURFACES["saddle"]
    np.testing.assert_array_equal(saddle.gradient(np.zeros(2)), [0.0, 0.0])
    assert saddle.value(np.array([0.1, 0.0])) > 0 > saddle.value(np.array([0.0, 0.1]))


def test_descend_steps_the_flat_vector_with_the_librarys_optimizer():
    ravine = SURFACES["ravine"]
    start = np.array([-9.0, 1.0])
    path = descend(ravine, dn.GradientDescent(0.1), start, 2, 0.1)
    first = start - 0.1 * ravine.gradient(start)
    np.testing.assert_array_equal(path[1], first)
    np.testing.assert_array_equal(path[2], first - 0.1 * ravine.gradient(first))
    adam = dn.Adam(0.01)
    path = descend(ravine, adam, start, 1, 0.01)
    np.testing.assert_allclose(path[1], start - 0.01 * np.sign(ravine.gradient(start)), rtol=1e-9)  # Adam's 1st step


def test_leaving_and_zigzag_are_counted_on_the_path():
    saddle = SURFACES["saddle"]
    path = np.array([[1.0, 0.001], [0.5, 0.2], [0.2, 0.6], [0.0, 1.0]])
    assert iterations_to_leave(saddle, path) == 2
    assert iterations_to_leave(saddle, path[:2]) is None
    assert zigzag(np.array([[0, 1], [0, -1], [0, 1], [0, 0.5], [0, -0.1]])) == 2  # counted after the start


def test_over_three_seeds_adaptive_steps_leave_saddle_and_plateau_and_momentum_damps_the_ravine():
    assert STUDIES["landscape"] is LANDSCAPE
    result = run_study("landscape", seeds=[0, 1, 2])
    failing = [text for text, ok in result.checks if not ok]
    assert not failing, failing
    summary = result.extras["summary"]
    assert summary["adam"]["saddle"]["per_seed"] != [None] * 3 and len(summary["gd"]["plateau"]["per_seed"]) == 3
    assert summary["gd"]["plateau"]["std"] > 0  # the seeds start from different points
    json = result.to_json()
    assert json["table"]["header"][0] == "optimizer" and len(json["table"]["rows"]) == 4
