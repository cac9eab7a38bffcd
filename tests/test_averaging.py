"""Networks side by side: one network whose logits are exactly the mean of theirs."""

from __future__ import annotations

import numpy as np
import pytest

import dnnimprove as dn
from dnnimprove.averaging import side_by_side
from dnnimprove.studies.runner import build_model


def _trained(hidden, loss, n_outputs, settings, seeds, X, y):
    models = []
    for seed in seeds:
        model = build_model(hidden, n_outputs, {"optimizer": "adam", "lr": 0.01, **settings}, loss, seed)
        model.fit(X, y, epochs=3, batch_size=16)
        models.append(model)
    return models


@pytest.mark.parametrize("loss, n_outputs", [("binary_crossentropy", 1), ("categorical_crossentropy", 3), ("mse", 1)])
@pytest.mark.parametrize("hidden, settings", [((5,), {}), ((5, 3), {"batch_norm": True, "keep_prob": 0.8}), ((), {})])
def test_the_merged_logits_are_the_mean_of_the_networks_logits(loss, n_outputs, hidden, settings):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    y = rng.normal(size=40) if loss == "mse" else rng.integers(0, max(2, n_outputs), 40)
    models = _trained(hidden, loss, n_outputs, settings, (0, 1, 2), X, y)
    merged = side_by_side(models)
    mean = np.mean([model.decision_function(X) for model in models], axis=0)
    np.testing.assert_allclose(merged.decision_function(X), mean, rtol=0, atol=1e-12)
    assert not np.allclose(models[0].decision_function(X), mean)  # the networks differ: the mean is not one of them
    dense_widths = [layer.units for layer in merged.layers if hasattr(layer, "units")]
    assert dense_widths == [3 * width for width in hidden] + [n_outputs]


def test_the_merged_network_saves_and_loads_as_any_other(tmp_path):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    merged = side_by_side(_trained((4,), "binary_crossentropy", 1, {}, (0, 1), X, y))
    loaded = dn.load(dn.save(merged, tmp_path / "merged.npz"))
    np.testing.assert_array_equal(loaded.decision_function(X), merged.decision_function(X))


def test_networks_of_different_architectures_are_refused():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    narrow = _trained((4,), "binary_crossentropy", 1, {}, (0,), X, y)
    wide = _trained((6,), "binary_crossentropy", 1, {}, (1,), X, y)
    with pytest.raises(ValueError, match=r"models\[1\] has another architecture"):
        side_by_side(narrow + wide)
    with pytest.raises(ValueError, match="models must hold at least one network"):
        side_by_side([])
