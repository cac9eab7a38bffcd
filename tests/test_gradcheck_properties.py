"""Property-based gradient checks: any architecture hypothesis draws passes, and a wrong gradient never does.

Drawn: depth 1-4 hidden layers of width 1-8, every activation, with or without dropout and batch norm
per layer, global and per-layer L2, every loss, 1-5 input features and 1-8 examples. Batch norm is drawn
where it is well conditioned: over 4-8 rows (over 2 it maps any input to about +-1) and after a Dense
with fan-in >= 2 (batch norm makes each unit's weight column scale-invariant, so with fan-in 1 that
weight's true gradient is ~epsilon_bn / var, below what a two-sided difference resolves).
Checked in float64 at a generic point: biases and batch-norm shifts drawn at random, batch-norm scales
near 1 (zero biases put ReLU exactly on its kink). Thresholds: overall relative difference < 1e-7; each
tensor <= 1e-5 or within the overall budget (see the first test); a check that is not ok at the default
step 1e-7 is rechecked once at step 1e-5.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import dnnimprove as dn
from dnnimprove.layers import ACTIVATIONS

EXAMPLES = int(os.environ.get("DNNIMPROVE_PROPERTY_EXAMPLES", 60))  # per property; raise it for a longer hunt
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LOSS_UNITS = {"binary_crossentropy": 1, "categorical_crossentropy": 3, "mse": 2}


@st.composite
def problems(draw):
    """(model, X, y, l2, description) for a drawn architecture, at a generic point."""
    loss = draw(st.sampled_from(sorted(LOSS_UNITS)))
    layers, description = [], []
    use_batch_norm = False
    n_features = draw(st.integers(1, 5))
    fan_in = n_features
    for _ in range(draw(st.integers(1, 4))):
        width = draw(st.integers(1, 8))
        batch_norm = fan_in >= 2 and draw(st.booleans())
        fan_in = width
        use_batch_norm |= batch_norm
        layer_l2 = draw(st.sampled_from([0.0, 0.0, 0.3]))
        layers.append(dn.Dense(width, init="xavier", use_bias=not batch_norm, l2=layer_l2))
        if batch_norm:
            layers.append(dn.BatchNorm(momentum=draw(st.sampled_from([0.0, 0.9]))))
        activation = draw(st.sampled_from(sorted(ACTIVATIONS)))
        layers.append(dn.get_activation(activation))
        keep_prob = draw(st.sampled_from([None, None, 0.5, 0.8, 1.0]))
        if keep_prob is not None:
            layers.append(dn.Dropout(keep_prob))
        description.append(f"{width}{'+bn' if batch_norm else ''}-{activation}{f'-drop{keep_prob}' if keep_prob else ''}")
    layers.append(dn.Dense(LOSS_UNITS[loss], init="xavier"))
    m = draw(st.integers(4 if use_batch_norm else 1, 8))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_features))
    if loss == "binary_crossentropy":
        y = rng.integers(0, 2, m)
    elif loss == "categorical_crossentropy":
        y = rng.integers(0, 3, m)
    else:
        y = rng.standard_normal((m, 2))
    model = dn.Sequential(layers, loss=loss, seed=seed).build(n_features)
    for info in model.table:  # a generic point: no ReLU input exactly at its kink
        if info.role in ("bias", "shift"):
            model.params[info.slice] = rng.normal(0.0, 0.3, info.size)
        elif info.role == "scale":
            model.params[info.slice] = 1.0 + rng.normal(0.0, 0.1, info.size)
    l2 = draw(st.sampled_from([0.0, 0.7]))
    return model, X, y, l2, f"{loss} seed={seed} m={m} n={n_features} l2={l2} [{', '.join(description)}]"


@PROPERTY
@given(problem=problems())
def test_every_drawn_architecture_passes_the_gradient_check(problem):
    model, X, y, l2, description = problem
    report = dn.check_gradients(model, X, y, l2=l2)
    if not report.ok:
        # A tensor whose gradient is tiny next to the cost carries the two-sided difference's rounding
        # error ~ 1e-16 |J| / 1e-7: recheck with a step of 1e-5, where rounding is 100x smaller and
        # truncation still ~1e-10 (the course's advice: recheck a suspicious result).
        report = dn.check_gradients(model, X, y, l2=l2, epsilon=1e-5)
    assert report.difference < 1e-7, f"{description}\n{report}"
    # Each tensor: relative difference <= 1e-5, or an error below 1e-7 of the whole gradient (GradientCheckReport.ok):
    # the second covers tensors whose true gradient is zero or nearly (a bias that a later batch norm cancels),
    # whose relative difference compares rounding with rounding. A wrong tensor of ordinary size fails both.
    assert report.ok, f"{description}\n{report}"


@PROPERTY
@given(problem=problems(), factor=st.sampled_from([0.9, 1.1, 2.0, -1.0]))
def test_a_wrong_weight_gradient_in_any_drawn_architecture_is_caught(problem, factor):
    model, X, y, l2, description = problem
    last = [layer for layer in model.layers if isinstance(layer, dn.Dense)][-1]
    correct_backward = last.backward

    def wrong_backward(dZ):
        dX = correct_backward(dZ)
        last.dW *= factor  # a deliberate bug: dW off by a factor
        return dX

    last.backward = wrong_backward
    report = dn.check_gradients(model, X, y, l2=l2)
    true_dW = report.approximation[model.table[[info.name for info in model.table].index(f"{last.name}.W")].slice]
    data_dW = true_dW - (l2 + last.l2) * last.W.ravel() / X.shape[0]  # the part backward computes (L2 is added after)
    assume(np.abs(data_dW).max() > 1e-3)  # all-dead (or dropped) inputs make it zero: no factor can show
    assert not report.ok and f"{last.name}.W" in report.wrong_tensors, f"{description}\n{report}"
