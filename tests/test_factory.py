"""The settings factory: one mapping gives the layers, optimizer and schedule, the same way for every caller."""

from __future__ import annotations

import pytest

import dnnimprove as dn
from dnnimprove.factory import build_layers, build_optimizer, build_schedule


def test_layers_follow_the_settings():
    layers = build_layers((5, 3), 1, {"activation": "tanh", "init": "xavier", "keep_prob": 0.8, "batch_norm": True})
    assert [layer.kind for layer in layers] == ["dense", "batch_norm", "tanh", "dropout", "dense", "batch_norm", "tanh",
                                                "dropout", "dense"]
    assert [layer.kind for layer in build_layers((4,), 2, {})] == ["dense", "relu", "dense"]


@pytest.mark.parametrize("settings, expected", [
    ({"optimizer": "gd", "lr": 0.1}, dn.GradientDescent(0.1)),
    ({"optimizer": "momentum", "lr": 0.1, "beta": 0.8}, dn.Momentum(0.1, beta=0.8)),
    ({"optimizer": "rmsprop", "lr": 0.01, "beta": None, "epsilon": 1e-6}, dn.RMSProp(0.01, epsilon=1e-6)),
    ({"optimizer": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99}, dn.Adam(0.01, beta1=0.8, beta2=0.99)),
    ({"optimizer": "adam", "lr": 0.01, "beta": 0.5}, dn.Adam(0.01)),  # beta is momentum's: ignored, as in scikit-learn
])
def test_the_optimizer_takes_its_own_settings(settings, expected):
    assert build_optimizer(settings).config() == expected.config()


def test_schedules_take_their_settings_and_cosine_spans_the_epochs():
    settings = {"lr": 0.5, "schedule": "fixed_interval", "decay_rate": 2.0, "time_interval": 10}
    assert build_schedule(settings) == dn.FixedIntervalDecay(0.5, decay_rate=2.0, time_interval=10)
    assert build_schedule({"lr": 0.5, "schedule": "cosine"}, epochs=40).total == 40
    assert build_schedule({"lr": 0.5, "schedule": None}) is None
    shifted = build_schedule({"lr": 0.5, "schedule": "inverse_time", "decay_rate": 1.0}, course_exact=True)
    assert shifted(0) == shifted(1) == 0.5  # one epoch late, as the course's loop updates after the epoch


@pytest.mark.parametrize("build, settings, error, message", [
    (build_optimizer, {"optimizer": "sgd", "lr": 0.1}, ValueError, r"unknown optimizer 'sgd'"),
    (build_optimizer, {"optimizer": "adam", "lr": 0.1, "beta": 1.5}, ValueError, r"beta must be in \[0, 1\); got 1.5"),
    (build_optimizer, {"optimizer": "adam"}, ValueError, r"settings must give 'lr'"),
    (build_schedule, {"lr": 0.1, "schedule": "step", "decay_rate": 0.5}, ValueError,
     r"schedule 'step': takes no decay_rate; got decay_rate=0.5"),
    (build_schedule, {"lr": 0.1, "schedule": "step", "schedule_params": {"drop": 0.5, "speed": 2}}, ValueError,
     r"schedule 'step': .*speed"),
    (build_layers, {"activation": "swish"}, ValueError, r"unknown activation 'swish'"),
    (build_layers, {"keep_prob": 0.0}, ValueError, r"keep_prob must be in \(0, 1\]; got 0.0"),
])
def test_bad_settings_are_one_clear_error(build, settings, error, message):
    with pytest.raises(error, match=message):
        build((3,), 1, settings) if build is build_layers else build(settings)


def test_the_estimator_and_the_studies_build_the_same_objects_from_the_same_settings():
    from dnnimprove.studies.runner import build_optimizer as study_optimizer

    estimator = dn.DNNClassifier(optimizer="momentum", lr=0.05, beta=0.7)
    assert estimator._make_optimizer().config() == study_optimizer({"optimizer": "momentum", "lr": 0.05, "beta": 0.7}).config()
