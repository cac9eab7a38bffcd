"""Bias/variance diagnosis: from train and dev error, what is wrong and what the course says to try.

With error rates in [0, 1] (1 - accuracy)::

    avoidable bias = train_error - bayes_error      (how far training is from the best achievable)
    variance       = dev_error   - train_error      (how much worse unseen data is)

A gap counts as *high* when it reaches its threshold (default 0.02, i.e. two percentage points). The
course's four cases (Bayes error about 0) come out as it teaches them:

=============  ===========  ================  =========================
train error    dev error    gaps (bias, var)  diagnosis
=============  ===========  ================  =========================
1%             11%          0.01, 0.10        high variance
15%            16%          0.15, 0.01        high bias
15%            30%          0.15, 0.15        high bias and high variance
0.5%           1%           0.005, 0.005      fine
=============  ===========  ================  =========================

Why 0.02: the four cases put the small gaps at 0.5-1 point and the large ones at 10-15, so any threshold
in (0.01, 0.10] separates them; 2 points also flags the course's human-level example "Bayes 7.5%, train
8%, dev 10%" as high variance (variance 0.02 against avoidable bias 0.005). Change the thresholds for
problems where 2 points is a lot or a little. ``focus`` names the larger gap, the one the course says to
work on first. Gaps are rounded to 12 decimals before comparing, so ``0.10 - 0.08`` counts as 0.02.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._validation import Real, validate_params

__all__ = ["Diagnosis", "diagnose", "diagnose_model", "BIAS_REMEDIES", "VARIANCE_REMEDIES", "DIAGNOSE_CONSTRAINTS"]

_RATE = Real(low=0.0, high=1.0)
DIAGNOSE_CONSTRAINTS = {name: _RATE for name in ("train_error", "dev_error", "bayes_error", "bias_threshold",
                                                  "variance_threshold")}
"""The legal values of :func:`diagnose`'s arguments: error rates and thresholds, fractions in ``[0, 1]``."""

BIAS_REMEDIES: tuple[str, ...] = (
    "bigger network (more hidden units or layers)",
    "train longer or with a better optimizer (momentum, RMSprop, Adam)",
    "search for a better architecture or hyperparameters",
)
VARIANCE_REMEDIES: tuple[str, ...] = (
    "more training data (or data augmentation)",
    "regularization (L2, dropout, early stopping)",
    "search for a better architecture or hyperparameters",
)


@dataclass(frozen=True)
class Diagnosis:
    """The verdict of :func:`diagnose`, with the numbers it decided on.

    Attributes
    ----------
    verdict : {"high bias", "high variance", "high bias and high variance", "fine"}
    high_bias, high_variance : bool
    avoidable_bias : float
        ``train_error - bayes_error``.
    variance : float
        ``dev_error - train_error``.
    focus : {"bias", "variance", None}
        The larger gap when at least one is high (bias on a tie), else None.
    remedies : tuple of str
        The course's remedies for what is high (bias first), empty when fine.
    train_error, dev_error, bayes_error, bias_threshold, variance_threshold : float
        The inputs.
    """

    verdict: str
    high_bias: bool
    high_variance: bool
    avoidable_bias: float
    variance: float
    focus: str | None
    remedies: tuple[str, ...]
    train_error: float
    dev_error: float
    bayes_error: float
    bias_threshold: float
    variance_threshold: float

    def __str__(self) -> str:
        lines = [
            f"{self.verdict}: train error {self.train_error:.2%}, dev error {self.dev_error:.2%}, "
            f"Bayes error {self.bayes_error:.2%}",
            f"  avoidable bias {self.avoidable_bias:+.2%} (high from {self.bias_threshold:.2%}), "
            f"variance {self.variance:+.2%} (high from {self.variance_threshold:.2%})",
        ]
        if self.focus is not None:
            lines.append(f"  work on {self.focus} first; try:")
        lines += [f"  - {remedy}" for remedy in self.remedies]
        return "\n".join(lines)


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def diagnose(
    train_error: float,
    dev_error: float,
    bayes_error: float = 0.0,
    *,
    bias_threshold: float = 0.02,
    variance_threshold: float = 0.02,
) -> Diagnosis:
    """Say whether a model has high bias, high variance, both, or neither.

    Parameters
    ----------
    train_error, dev_error : float in [0, 1]
        Error rates (fractions, not percentages) on the training and dev sets.
    bayes_error : float in [0, 1]
        The best achievable error (human-level error is a proxy); 0 by default.
    bias_threshold, variance_threshold : float in [0, 1]
        Avoidable bias / variance at or above these is high (default 0.02; see the module docstring).

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> dn.diagnose(0.01, 0.11).verdict
    'high variance'
    """
    train_error, dev_error, bayes_error, bias_threshold, variance_threshold = validate_params(
        DIAGNOSE_CONSTRAINTS, train_error=train_error, dev_error=dev_error, bayes_error=bayes_error,
        bias_threshold=bias_threshold, variance_threshold=variance_threshold).values()
    avoidable_bias = round(train_error - bayes_error, 12)
    variance = round(dev_error - train_error, 12)
    high_bias = avoidable_bias >= bias_threshold
    high_variance = variance >= variance_threshold
    if high_bias and high_variance:
        verdict = "high bias and high variance"
    elif high_bias:
        verdict = "high bias"
    elif high_variance:
        verdict = "high variance"
    else:
        verdict = "fine"
    focus = None
    if high_bias or high_variance:
        focus = "bias" if avoidable_bias >= variance else "variance"
    remedies = (BIAS_REMEDIES if high_bias else ()) + (VARIANCE_REMEDIES if high_variance else ())
    return Diagnosis(
        verdict, high_bias, high_variance, avoidable_bias, variance, focus, _unique(remedies),
        train_error, dev_error, bayes_error, bias_threshold, variance_threshold,
    )


def diagnose_model(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_dev: Any,
    y_dev: Any,
    bayes_error: float = 0.0,
    *,
    bias_threshold: float = 0.02,
    variance_threshold: float = 0.02,
) -> Diagnosis:
    """:func:`diagnose` for a fitted classifier: errors are ``1 - accuracy`` on the two sets, in inference mode.

    Parameters
    ----------
    model : Sequential (fitted, with a classification loss)
    X_train, y_train, X_dev, y_dev : arrays as for ``fit``
    bayes_error : float in [0, 1]
    bias_threshold, variance_threshold : float in [0, 1]
        As for :func:`diagnose`.
    """
    if not model.loss.is_classifier:
        raise ValueError(f"diagnose_model needs a classification loss (errors are 1 - accuracy); got {model.loss.name}")
    train_error = 1.0 - model.evaluate(X_train, y_train)["accuracy"]
    dev_error = 1.0 - model.evaluate(X_dev, y_dev)["accuracy"]
    return diagnose(
        train_error, dev_error, bayes_error, bias_threshold=bias_threshold, variance_threshold=variance_threshold
    )
