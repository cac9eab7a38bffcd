"""TrainingHealth: per-layer gradient norms and activation statistics; flags vanishing, exploding, dead units."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn


@pytest.fixture(scope="module")
def standardized_moons():
    X, y = dn.datasets.moons(200, 0.2, seed=3)
    return dn.Standardizer().fit_transform(X), y


def ten_layer_net(activation: str, init: str, seed: int, width: int = 8) -> dn.Sequential:
    layers = []
    for _ in range(9):
        layers += [dn.Dense(width, init=init), dn.get_activation(activation)]
    layers.append(dn.Dense(1, init=init))
    return dn.Sequential(layers, seed=seed)


def train_with_health(model, X, y, epochs=10, **settings) -> dn.TrainingHealth:
    health = dn.TrainingHealth()
    model.fit(X, y, epochs=epochs, batch_size=50, optimizer=dn.Adam(0.001), callbacks=[health], **settings)
    return health


@pytest.mark.parametrize("seed", range(4))
def test_vanishing_gradients_are_flagged_in_a_deep_sigmoid_net_with_standard_normal_init(seed, standardized_moons):
    health = train_with_health(ten_layer_net("sigmoid", "random", seed), *standardized_moons)
    vanishing = health.flagged("vanishing")
    assert vanishing, health.report()
    assert "dense_1" in {flag.layer for flag in vanishing}  # the earliest layer is among them
    for flag in vanishing:
        record = next(r for r in health.records if r.epoch == flag.epoch)
        assert flag.value == record.grad_norm[flag.layer] / record.grad_norm["dense_10"] < 1e-2


@pytest.mark.parametrize("seed", range(4))
def test_a_he_initialized_relu_net_of_the_same_depth_is_not_flagged_for_vanishing_or_exploding(seed, standardized_moons):
    health = train_with_health(ten_layer_net("relu", "he", seed), *standardized_moons)
    assert not health.flagged("vanishing") and not health.flagged("exploding"), health.report()
    first = health.records[0].grad_norm
    assert min(first.values()) / first["dense_10"] > 1e-2


def test_records_hold_every_layer_every_epoch(standardized_moons):
    X, y = standardized_moons
    model = dn.Sequential([dn.Dense(6), dn.ReLU(), dn.Dropout(0.9), dn.Dense(4, use_bias=False), dn.BatchNorm(),
                           dn.Tanh(), dn.Dense(1)], seed=0)
    health = dn.TrainingHealth(every=2)
    model.fit(X, y, epochs=5, batch_size=50, callbacks=[health])
    assert [record.epoch for record in health.records] == [0, 2, 4]
    record = health.records[-1]
    assert set(record.grad_norm) == {"dense_1", "dense_2", "dense_3"}
    assert set(record.activation_mean) == {layer.name for layer in model.layers}
    assert set(record.dead_fraction) == {"relu_1"}
    # the statistics are those of an inference-mode pass over the probe rows
    A = model.layers[0].forward(X, training=False)
    A = model.layers[1].forward(A, training=False)
    assert record.activation_mean["relu_1"] == pytest.approx(A.mean(), rel=1e-12)
    assert record.activation_std["relu_1"] == pytest.approx(A.std(), rel=1e-12)
    # the gradient norm is the mean over the mini-batches since the last measurement
    assert all(value > 0 for value in record.grad_norm.values())


def test_gradient_norm_is_the_mean_of_the_mini_batch_norms(standardized_moons):
    X, y = standardized_moons
    norms = []

    class Spy(dn.Callback):
        def on_batch_end(self, run):
            norms.append(np.linalg.norm(run.model.tensor("dense_1.W", grad=True)))

    health = dn.TrainingHealth()
    dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=1).fit(X, y, epochs=1, batch_size=50,
                                                                      callbacks=[health, Spy()])
    assert len(norms) == 4
    assert health.records[0].grad_norm["dense_1"] == pytest.approx(np.mean(norms), rel=1e-12)


def test_dead_relus_are_flagged_with_epoch_and_layer(standardized_moons):
    X, y = standardized_moons
    model = dn.Sequential([dn.Dense(8), dn.ReLU(), dn.Dense(8), dn.ReLU(), dn.Dense(1)], seed=0).build(2)
    model.tensor("dense_2.b")[:] = -1e3  # every unit of the second ReLU layer is off for every input
    health = dn.TrainingHealth()
    model.fit(X, y, epochs=3, batch_size=50, optimizer=dn.GradientDescent(0.01), callbacks=[health])
    dead = health.flagged("dead_units")
    assert [(flag.layer, flag.epoch, flag.value) for flag in dead] == [("relu_2", 0, 1.0)]
    assert health.records[0].dead_fraction["relu_1"] < 0.5
    assert "relu_2: 100% of the units output 0" in health.report()


def test_exploding_gradients_are_flagged_before_training_diverges():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = X.sum(axis=1, keepdims=True)
    model = dn.Sequential([dn.Dense(16), dn.ReLU(), dn.Dense(16), dn.ReLU(), dn.Dense(16), dn.ReLU(), dn.Dense(1)],
                          loss="mse", seed=0)
    health = dn.TrainingHealth()
    with pytest.raises(dn.TrainingDiverged) as diverged, np.errstate(all="ignore"):
        model.fit(X, y, epochs=40, optimizer=dn.GradientDescent(0.5), callbacks=[health])
    exploding = health.flagged("exploding")
    assert {flag.layer for flag in exploding} == {"dense_1", "dense_2", "dense_3", "dense_4"}
    assert max(flag.epoch for flag in exploding) < diverged.value.epoch
    assert all(flag.value >= 1e3 for flag in exploding)


def test_a_healthy_small_run_reports_nothing(standardized_moons):
    X, y = standardized_moons
    health = dn.TrainingHealth()
    dn.Sequential([dn.Dense(16), dn.Tanh(), dn.Dense(1)], seed=0).fit(X, y, epochs=3, callbacks=[health])
    assert health.flags == [] and "nothing flagged" in health.report()
    assert "nothing measured" in dn.TrainingHealth().report()


@pytest.mark.parametrize("kwargs, message", [
    ({"every": 0}, r"every must be an integer in \[1, inf\); got 0"),
    ({"vanishing_ratio": 1.0}, r"vanishing_ratio must be in \(0, 1\); got 1.0"),
    ({"exploding_ratio": 0.5}, r"exploding_ratio must be in \(1, inf\); got 0.5"),
    ({"dead_fraction": 0.0}, r"dead_fraction must be in \(0, 1\]; got 0.0"),
])
def test_bad_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dn.TrainingHealth(**kwargs)
