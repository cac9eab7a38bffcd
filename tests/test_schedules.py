"""Learning-rate schedules: the course's figures, every formula, fit's use of them, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.schedules import checked_lr


def test_inverse_time_decay_matches_the_course_figure():
    assert dn.InverseTimeDecay(lr0=0.5, decay_rate=1.0)(2) == pytest.approx(0.5 / 3, rel=1e-15)
    assert dn.InverseTimeDecay(lr0=0.5, decay_rate=1.0)(2) == pytest.approx(0.16666666666666666, abs=1e-16)


def test_fixed_interval_decay_matches_the_course_figures():
    schedule = dn.FixedIntervalDecay(lr0=0.5, decay_rate=0.3, time_interval=100)
    assert schedule(10) == 0.5
    assert schedule(100) == pytest.approx(0.38461538461538464, abs=1e-16)
    assert schedule(99) == 0.5 and schedule(199) == schedule(100)


@pytest.mark.parametrize(
    "schedule, formula",
    [
        (dn.Constant(lr0=0.3), lambda e: 0.3),
        (dn.InverseTimeDecay(lr0=0.3, decay_rate=0.7), lambda e: 0.3 / (1 + 0.7 * e)),
        (dn.FixedIntervalDecay(lr0=0.3, decay_rate=0.7, time_interval=4), lambda e: 0.3 / (1 + 0.7 * math.floor(e / 4))),
        (dn.ExponentialDecay(lr0=0.3, decay_rate=0.9), lambda e: 0.3 * 0.9**e),
        (dn.StepDecay(lr0=0.3, drop=0.5, every=3), lambda e: 0.3 * 0.5 ** math.floor(e / 3)),
        (dn.CosineDecay(lr0=0.3, total=10, lr_min=0.01),
         lambda e: 0.01 + (0.3 - 0.01) * (1 + math.cos(math.pi * min(e, 10) / 10)) / 2),
    ],
    ids=lambda value: getattr(value, "name", ""),
)
def test_every_schedule_is_its_formula(schedule, formula):
    for epoch in [0, 1, 2, 3, 4, 7, 10, 13, 100]:
        assert schedule(epoch) == pytest.approx(formula(epoch), rel=1e-15), epoch
    assert schedule(0) == 0.3


def test_inverse_sqrt_decay_is_the_course_k_over_sqrt_epoch_num_counting_epochs_from_one():
    schedule = dn.InverseSqrtDecay(lr0=0.2, k=1.5)
    for epoch in [0, 1, 2, 3, 8, 99]:
        epoch_num = epoch + 1  # the course counts epochs from 1
        assert schedule(epoch) == pytest.approx(1.5 / math.sqrt(epoch_num) * 0.2, rel=1e-15), epoch
    assert dn.InverseSqrtDecay(lr0=0.2)(0) == 0.2  # k = 1: the first epoch runs at lr0
    assert dn.InverseSqrtDecay(lr0=0.2)(3) == 0.1  # and the fourth at half of it
    assert dn.get_schedule("inverse_sqrt", lr0=0.2, k=1.5) == schedule


def test_the_discrete_staircase_halves_the_rate_at_every_stair():
    assert dn.Staircase is dn.StepDecay
    staircase = dn.Staircase(lr0=0.4, drop=0.5, every=10)
    assert [staircase(epoch) for epoch in (0, 9, 10, 19, 20, 30)] == [0.4, 0.4, 0.2, 0.2, 0.1, 0.05]


def test_cosine_decay_reaches_lr_min_and_stays_there():
    schedule = dn.CosineDecay(lr0=0.2, total=8)
    assert schedule(4) == pytest.approx(0.1, rel=1e-15)
    assert schedule(8) == 0.0 and schedule(20) == 0.0
    assert checked_lr(schedule, 20) == 0.0  # zero is a legal learning rate at the end of a schedule


def test_schedules_round_trip_through_their_config():
    for schedule in [dn.FixedIntervalDecay(0.1, 0.5, 10), dn.CosineDecay(0.2, 30, 0.01, per_step=True),
                     dn.InverseSqrtDecay(0.1, 2.0)]:
        config = schedule.config()
        assert dn.get_schedule(config.pop("name"), **config) == schedule


def moons_model() -> dn.Sequential:
    return dn.Sequential([dn.Dense(3), dn.ReLU(), dn.Dense(1)], seed=0)


def test_fit_applies_the_schedule_at_the_start_of_every_epoch_and_records_it():
    X, y = dn.datasets.moons(40, 0.2, seed=3)
    schedule = dn.FixedIntervalDecay(lr0=0.5, decay_rate=1.0, time_interval=2)
    model = moons_model()
    history = model.fit(X, y, epochs=5, optimizer=dn.GradientDescent(0.5), schedule=schedule)
    assert history.lr == [0.5, 0.5, 0.25, 0.25, 0.5 / 3]
    # The same five epochs, one at a time at the scheduled rate, give bit-identical parameters.
    manual = moons_model()
    state = None
    for epoch in range(5):
        optimizer = dn.GradientDescent(schedule(epoch))
        manual.fit(X, y, epochs=1, optimizer=optimizer if state is None else (optimizer, state))
        state = manual.optimizer_state_
    assert np.array_equal(model.params, manual.params)


class CountingSchedule:
    """A per-step schedule that records the counters it was called with."""

    per_step = True

    def __init__(self) -> None:
        self.counters: list[int] = []

    def __call__(self, counter: int) -> float:
        self.counters.append(counter)
        return 0.1 / (1 + counter)


def test_a_per_step_schedule_is_called_with_the_step_count_before_every_step():
    X, y = dn.datasets.moons(40, 0.2, seed=3)
    schedule = CountingSchedule()
    history = moons_model().fit(X, y, epochs=3, batch_size=16, optimizer=dn.GradientDescent(0.1), schedule=schedule)
    assert schedule.counters == list(range(9))  # 3 mini-batches per epoch, counted from 0 across epochs
    assert history.lr == [0.1 / 3, 0.1 / 6, 0.1 / 9]  # the rate of each epoch's last step


def test_the_builtin_schedules_work_per_step():
    X, y = dn.datasets.moons(40, 0.2, seed=3)
    schedule = dn.InverseTimeDecay(lr0=0.1, decay_rate=0.5, per_step=True)
    history = moons_model().fit(X, y, epochs=2, batch_size=10, optimizer=dn.Adam(), schedule=schedule)
    assert history.lr == [0.1 / (1 + 0.5 * 3), 0.1 / (1 + 0.5 * 7)]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: dn.InverseTimeDecay(lr0=0.0), r"lr0 must be in \(0, inf\); got 0.0"),
        (lambda: dn.Constant(lr0=-1.0), r"lr0 must be in \(0, inf\); got -1.0"),
        (lambda: dn.InverseTimeDecay(lr0=0.1, decay_rate=-0.5), r"decay_rate must be in \[0, inf\); got -0.5"),
        (lambda: dn.FixedIntervalDecay(lr0=0.1, decay_rate=-1), r"decay_rate must be in \[0, inf\); got -1"),
        (lambda: dn.FixedIntervalDecay(lr0=0.1, time_interval=0), r"time_interval must be an integer in \[1, inf\); got 0"),
        (lambda: dn.ExponentialDecay(lr0=0.1, decay_rate=1.5), r"decay_rate must be in \(0, 1\]; got 1.5"),
        (lambda: dn.StepDecay(lr0=0.1, drop=0.0), r"drop must be in \(0, 1\]; got 0.0"),
        (lambda: dn.StepDecay(lr0=0.1, every=0), r"every must be an integer in \[1, inf\); got 0"),
        (lambda: dn.CosineDecay(lr0=0.1, lr_min=0.2), r"lr_min must be in \[0, 0.1\]; got 0.2"),
        (lambda: dn.get_schedule("linear", lr0=0.1), r"unknown schedule 'linear'; valid values: 'constant', 'cosine', "
                                                     r"'exponential', 'fixed_interval', 'inverse_sqrt', 'inverse_time', "
                                                     r"'step'"),
        (lambda: dn.InverseSqrtDecay(lr0=0.1, k=0.0), r"k must be in \(0, inf\); got 0.0"),
        (lambda: dn.InverseSqrtDecay(lr0=0.1, k=float("nan")), r"k must be a finite number in \(0, inf\); got nan"),
        (lambda: dn.InverseSqrtDecay(lr0=-0.1), r"lr0 must be in \(0, inf\); got -0.1"),
        (lambda: dn.InverseTimeDecay(lr0=0.1, decay_rate=float("nan")),
         r"decay_rate must be a finite number in \[0, inf\); got nan"),
        (lambda: dn.Staircase(lr0=0.1, drop=1.5), r"drop must be in \(0, 1\]; got 1.5"),
    ],
)
def test_bad_schedule_settings_get_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_fractional_time_interval_is_a_type_error():
    with pytest.raises(TypeError, match=r"time_interval must be an integer; got 1.5"):
        dn.FixedIntervalDecay(lr0=0.1, time_interval=1.5)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.01, "0.1", None])
def test_a_schedule_returning_a_non_finite_or_negative_rate_stops_fit_with_a_clear_error(bad):
    X, y = dn.datasets.moons(20, 0.2, seed=3)
    schedule = lambda epoch: 0.1 if epoch < 2 else bad  # noqa: E731
    with pytest.raises(ValueError, match=r"learning rate from schedule .* at 2 must be"):
        moons_model().fit(X, y, epochs=4, optimizer=dn.GradientDescent(0.1), schedule=schedule)
