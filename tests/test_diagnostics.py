"""diagnose: the course's four bias/variance cases, its remedies, the numbers, and bad input."""

from __future__ import annotations

import pytest

import dnnimprove as dn


@pytest.mark.parametrize("train, dev, verdict, high_bias, high_variance", [
    (0.01, 0.11, "high variance", False, True),
    (0.15, 0.16, "high bias", True, False),
    (0.15, 0.30, "high bias and high variance", True, True),
    (0.005, 0.01, "fine", False, False),
])
def test_the_courses_four_cases(train, dev, verdict, high_bias, high_variance):
    diagnosis = dn.diagnose(train, dev)
    assert diagnosis.verdict == verdict
    assert (diagnosis.high_bias, diagnosis.high_variance) == (high_bias, high_variance)
    assert diagnosis.avoidable_bias == pytest.approx(train)
    assert diagnosis.variance == pytest.approx(dev - train)


def test_remedies_are_the_courses():
    assert dn.diagnose(0.15, 0.16).remedies == dn.diagnostics.BIAS_REMEDIES
    assert any("bigger network" in remedy for remedy in dn.diagnose(0.15, 0.16).remedies)
    assert any("more training data" in remedy for remedy in dn.diagnose(0.01, 0.11).remedies)
    assert any("regularization" in remedy for remedy in dn.diagnose(0.01, 0.11).remedies)
    both = dn.diagnose(0.15, 0.30).remedies
    assert set(dn.diagnostics.BIAS_REMEDIES) | set(dn.diagnostics.VARIANCE_REMEDIES) == set(both)
    assert len(both) == len(set(both))  # the shared remedy appears once
    assert dn.diagnose(0.005, 0.01).remedies == ()


def test_bayes_error_turns_the_same_errors_from_bias_to_variance():
    # The course's human-level examples: train 8%, dev 10%.
    assert dn.diagnose(0.08, 0.10, bayes_error=0.01).focus == "bias"  # avoidable bias 7% against variance 2%
    low_bayes = dn.diagnose(0.08, 0.10, bayes_error=0.075)
    assert low_bayes.verdict == "high variance" and low_bayes.focus == "variance"
    assert low_bayes.avoidable_bias == pytest.approx(0.005)


def test_thresholds_decide_and_are_reported():
    diagnosis = dn.diagnose(0.03, 0.04, bias_threshold=0.05, variance_threshold=0.005)
    assert diagnosis.verdict == "high variance"
    assert (diagnosis.bias_threshold, diagnosis.variance_threshold) == (0.05, 0.005)
    text = str(diagnosis)
    assert "high variance" in text and "train error 3.00%" in text and "variance +1.00%" in text
    assert dn.diagnose(0.0, 0.02).verdict == "high variance"  # at the threshold counts as high
    assert dn.diagnose(0.0, 0.0199).verdict == "fine"


@pytest.mark.parametrize("kwargs, message", [
    ({"train_error": 1.5, "dev_error": 0.1}, r"train_error must be in \[0, 1\]; got 1.5"),
    ({"train_error": 0.1, "dev_error": -0.01}, r"dev_error must be in \[0, 1\]; got -0.01"),
    ({"train_error": 0.1, "dev_error": 0.2, "bayes_error": 2.0}, r"bayes_error must be in \[0, 1\]; got 2.0"),
    ({"train_error": 0.1, "dev_error": float("nan")}, r"dev_error must be a finite number in \[0, 1\]; got nan"),
    ({"train_error": 11, "dev_error": 16}, r"train_error must be in \[0, 1\]; got 11"),  # percentages, not fractions
])
def test_errors_outside_zero_one_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dn.diagnose(**kwargs)


def test_diagnose_model_on_an_underfitting_and_an_overfitting_model():
    X, y = dn.datasets.circles(n_samples=300, noise=0.05, seed=1)
    X_dev, y_dev = dn.datasets.circles(n_samples=100, noise=0.05, seed=2)
    linear = dn.Sequential([dn.Dense(1)], seed=0)  # logistic regression cannot separate circles
    linear.fit(X, y, epochs=200, optimizer=dn.Adam(0.05))
    underfit = dn.diagnose_model(linear, X, y, X_dev, y_dev)
    assert underfit.high_bias and underfit.train_error > 0.3

    X, y = dn.datasets.moons(300, 0.35, seed=0)
    big = dn.Sequential([dn.Dense(64), dn.ReLU(), dn.Dense(64), dn.ReLU(), dn.Dense(1)], seed=0)
    big.fit(X[:40], y[:40], epochs=300, optimizer=dn.Adam(0.01))
    overfit = dn.diagnose_model(big, X[:40], y[:40], X[40:], y[40:])
    assert overfit.verdict == "high variance" and overfit.train_error == 0.0


def test_diagnose_model_needs_a_classifier():
    model = dn.Sequential([dn.Dense(1)], loss="mse", seed=0)
    model.fit([[0.0], [1.0]], [0.0, 1.0], epochs=1)
    with pytest.raises(ValueError, match="needs a classification loss"):
        dn.diagnose_model(model, [[0.0]], [0.0], [[1.0]], [1.0])
