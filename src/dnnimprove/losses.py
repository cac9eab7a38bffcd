"""Losses fused with the output activation, computed from the logits ``Z`` of the last dense layer.

Each loss turns raw targets into a target matrix ``Y`` (``encode``), computes the mean cost over the
batch from logits without overflow or ``log(0)``, and the gradient of that cost with respect to the
logits, which for all three is ``(output - Y) / m`` up to a constant:

=========================  ==========================================  ===========================
loss                       cost ``J`` (mean over the ``m`` examples)     ``dJ/dZ``
=========================  ==========================================  ===========================
``binary_crossentropy``    ``-(1/m) sum(y log a + (1-y) log(1-a))``,   ``(a - y) / m``
                           ``a = sigmoid(z)``, computed as
                           ``max(z,0) - y z + log(1 + exp(-|z|))``
``categorical_crossentropy`` ``-(1/m) sum_i sum_k Y_ik log softmax(Z)_ik``  ``(softmax(Z) - Y) / m``
                           via log-sum-exp
``mse``                    ``(1/(m k)) sum (Z - Y)**2``                 ``2 (Z - Y) / (m k)``
=========================  ==========================================  ===========================

``mse`` is the mean over examples *and* outputs, as in PyTorch's ``MSELoss`` and Keras
(scikit-learn's MLPRegressor halves it).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ._inplace import OwnsWorkspace
from ._scalars import constant
from ._validation import Constraint, Real, check_choice, check_finite_array, validate_params

__all__ = ["Loss", "ElementwiseLoss", "BinaryCrossEntropy", "CategoricalCrossEntropy", "MeanSquaredError", "SampleWeighted",
           "LOSSES", "get_loss"]


class Loss(OwnsWorkspace):
    """Base class of the fused output-activation + cost pairs."""

    name: ClassVar[str] = "loss"
    is_classifier: ClassVar[bool] = True
    reuse: bool = False
    """While True (the model sets it for one training pass), the gradient may be an array that the loss
    overwrites at its next call: the built-in losses then compute it in place, into a workspace of their own."""

    def encode(self, y: Any, n_outputs: int, dtype: Any) -> np.ndarray:
        """Validate raw targets and return the target matrix ``Y`` of shape ``(m, n_outputs)``."""
        raise NotImplementedError

    def output(self, Z: np.ndarray) -> np.ndarray:
        """The output activation applied to logits (probabilities or regression values)."""
        raise NotImplementedError

    def cost(self, Z: np.ndarray, Y: np.ndarray) -> float:
        """Mean cost over the batch."""
        raise NotImplementedError

    def gradient(self, Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``dJ/dZ``, shape ``(m, n_outputs)``."""
        raise NotImplementedError

    def sample_costs(self, Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Each example's loss ``l_i``, shape ``(m,)``: ``cost(Z, Y)`` is their mean (up to rounding)."""
        raise NotImplementedError

    def sample_weights(self, Y: np.ndarray) -> np.ndarray | None:
        """The examples' weights carried in the target matrix, ``(m,)``; ``None``: every example weighs the same."""
        return None

    def gradient_and_cost(self, Z: np.ndarray, Y: np.ndarray, need_cost: bool) -> tuple[np.ndarray, float]:
        """``(gradient(Z, Y), cost(Z, Y))``, the cost NaN when ``need_cost`` is false."""
        return self.gradient(Z, Y), (self.cost(Z, Y) if need_cost else float("nan"))


    def predict(self, Z: np.ndarray) -> np.ndarray:
        """Predicted labels (classification) or values (regression), shape ``(m,)`` or ``(m, k)``."""
        raise NotImplementedError

    def accuracy(self, Z: np.ndarray, Y: np.ndarray) -> float:
        """Fraction of correctly classified examples (classification losses only)."""
        raise NotImplementedError


class ElementwiseLoss(Loss):
    """A loss whose cost is a sum of per-entry terms and whose gradient is per entry.

    Its arithmetic is written once, as static formulas over NumPy expressions that work on arrays and on
    single numbers (the compiled engine applies them entry by entry), with every number an argument::

        constants(m, k)                  -> Python floats, for a batch of m rows and k outputs
        terms(Z, Y, *constants)          -> the per-entry cost terms; J = sum(terms) / cost_divisor(m, k)
        gradient_terms(Z, Y, *constants) -> dJ/dZ, per entry
    """

    @staticmethod
    def constants(m, k):
        """The numbers the formulas use for a batch of ``m`` rows and ``k`` outputs (Python floats)."""
        raise NotImplementedError

    @staticmethod
    def cost_divisor(m, k):
        return m

    @staticmethod
    def terms(Z, Y, *constants):
        raise NotImplementedError

    @staticmethod
    def gradient_terms(Z, Y, *constants):
        raise NotImplementedError

    def _constants(self, Z: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(constant(value, Z.dtype) for value in self.constants(*Z.shape))

    def cost(self, Z: np.ndarray, Y: np.ndarray) -> float:
        return float(self.terms(Z, Y, *self._constants(Z)).sum() / self.cost_divisor(*Z.shape))

    @np.errstate(over="ignore")  # exp(-z) overflows to inf for very negative z: the terms are then exact
    def gradient(self, Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        if self.reuse:
            return self.workspace.run(self.gradient_terms, (Z, Y, *self._constants(Z)))[0]
        return self.gradient_terms(Z, Y, *self._constants(Z))

    def sample_costs(self, Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Each row's terms summed, divided by ``cost_divisor(m, k) / m`` (1, or ``k`` for the mean squared error)."""
        m, k = Z.shape
        return self.terms(Z, Y, *self._constants(Z)).sum(axis=1) / (self.cost_divisor(m, k) / m)


class BinaryCrossEntropy(ElementwiseLoss):
    """Sigmoid output with binary cross-entropy; labels in {0, 1}; one output unit.

    Per entry, from the logit ``z``: the cost term ``max(z, 0) - y z + log(1 + exp(-|z|))`` (which is
    ``-[y log a + (1 - y) log(1 - a)]``, stable for any ``z``) and the gradient ``(1 / (1 + exp(-z)) - y) / m``.
    """

    name = "binary_crossentropy"

    def encode(self, y: Any, n_outputs: int, dtype: Any) -> np.ndarray:
        if n_outputs != 1:
            raise ValueError(
                f"binary_crossentropy needs a last Dense layer with 1 unit; got {n_outputs} units "
                "(use categorical_crossentropy for more classes)"
            )
        y = check_finite_array("y", y, ndim=(1, 2))
        if y.ndim == 2 and y.shape[1] != 1:
            raise ValueError(f"y for binary_crossentropy must have shape (m,) or (m, 1); got {y.shape}")
        y = y.reshape(-1)
        labels = np.unique(y)
        if not np.isin(labels, (0, 1)).all():
            bad = labels[~np.isin(labels, (0, 1))]
            raise ValueError(f"y for binary_crossentropy must contain only labels 0 and 1; got {bad[:5].tolist()}")
        return y.astype(dtype).reshape(-1, 1)

    @staticmethod
    def constants(m, k):
        return (0.0, 1.0, float(m))

    @staticmethod
    def terms(Z, Y, zero, one, m):
        return np.maximum(Z, zero) - Y * Z + np.log1p(np.exp(-np.abs(Z)))

    @staticmethod
    def gradient_terms(Z, Y, zero, one, m):
        return (one / (one + np.exp(-Z)) - Y) / m

    @np.errstate(over="ignore")
    def output(self, Z: np.ndarray) -> np.ndarray:
        one = constant(1, Z.dtype)
        return one / (one + np.exp(-Z))

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return (self.output(Z) > 0.5).astype(np.int64).reshape(-1)

    def accuracy(self, Z: np.ndarray, Y: np.ndarray) -> float:
        return float(np.mean((self.output(Z) > 0.5) == (Y > 0.5)))


class CategoricalCrossEntropy(Loss):
    """Softmax output with categorical cross-entropy; integer labels ``0..k-1`` or one-hot rows."""

    name = "categorical_crossentropy"

    def encode(self, y: Any, n_outputs: int, dtype: Any) -> np.ndarray:
        if n_outputs < 2:
            raise ValueError(f"categorical_crossentropy needs a last Dense layer with >= 2 units; got {n_outputs}")
        y = check_finite_array("y", y, ndim=(1, 2))
        if y.ndim == 2 and y.shape[1] != 1:
            if y.shape[1] != n_outputs:
                raise ValueError(f"one-hot y must have {n_outputs} columns (the last layer's units); got {y.shape[1]}")
            if not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
                raise ValueError("one-hot y must have exactly one 1 per row and zeros elsewhere")
            return y.astype(dtype)
        y = y.reshape(-1)
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            raise ValueError(f"y for categorical_crossentropy must hold integer labels; got {y[y != np.round(y)][:5].tolist()}")
        outside = (y < 0) | (y >= n_outputs)  # on the labels as given: a huge float is shown, not its int64 cast
        if outside.any():
            raise ValueError(
                f"y for categorical_crossentropy must hold labels in 0..{n_outputs - 1} "
                f"(the last layer has {n_outputs} units); got {np.unique(y[outside])[:5].tolist()}"
            )
        labels = y.astype(np.int64)
        Y = np.zeros((labels.shape[0], n_outputs), dtype=dtype)
        Y[np.arange(labels.shape[0]), labels] = 1
        return Y

    @staticmethod
    def terms(shifted, log_total, Y):
        """Per entry of a row: ``Y * (shifted - log_total)``, the log-likelihood term (J is minus their sum / m)."""
        return Y * (shifted - log_total)

    @staticmethod
    def gradient_terms(exp, total, Y, m):
        """Per entry of a row: ``(exp / total - Y) / m``, i.e. ``(softmax(Z) - Y) / m``."""
        return (exp / total - Y) / m

    def _shifted(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The row reductions: ``shifted = Z - max``, ``exp(shifted)`` and its row sums ``total``."""
        shifted = Z - Z.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        return shifted, exp, exp.sum(axis=1, keepdims=True)

    def output(self, Z: np.ndarray) -> np.ndarray:
        _, exp, total = self._shifted(Z)
        return exp / total

    def cost(self, Z: np.ndarray, Y: np.ndarray) -> float:
        return self.gradient_and_cost(Z, Y, True)[1]

    def sample_costs(self, Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        shifted, _, total = self._shifted(Z)
        return -self.terms(shifted, np.log(total), Y).sum(axis=1)

    def gradient(self, Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return self.gradient_and_cost(Z, Y, False)[0]

    def gradient_and_cost(self, Z: np.ndarray, Y: np.ndarray, need_cost: bool) -> tuple[np.ndarray, float]:
        """Both from one pass of the row reductions (the shifted logits, their exponentials and row sums)."""
        shifted, exp, total = self._shifted(Z)
        cost = float("nan")
        if need_cost:
            cost = float(-self.terms(shifted, np.log(total), Y).sum() / Z.shape[0])
        arguments = (exp, total, Y, constant(Z.shape[0], Z.dtype))
        if self.reuse:
            return self.workspace.run(self.gradient_terms, arguments)[0], cost
        return self.gradient_terms(*arguments), cost

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return np.argmax(Z, axis=1)

    def accuracy(self, Z: np.ndarray, Y: np.ndarray) -> float:
        return float(np.mean(np.argmax(Z, axis=1) == np.argmax(Y, axis=1)))


class MeanSquaredError(ElementwiseLoss):
    """Identity output with mean squared error, for regression: per entry the term ``(z - y)**2`` and the
    gradient ``(z - y) * (2 / (m k))``; ``J = sum(terms) / (m k)``."""

    name = "mse"
    is_classifier = False

    def encode(self, y: Any, n_outputs: int, dtype: Any) -> np.ndarray:
        y = check_finite_array("y", y, ndim=(1, 2))
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if Y.shape[1] != n_outputs:
            raise ValueError(f"y must have {n_outputs} column(s) (the last layer's units); got shape {y.shape}")
        return Y.astype(dtype)

    def output(self, Z: np.ndarray) -> np.ndarray:
        return Z

    @staticmethod
    def constants(m, k):
        return (2.0 / (m * k),)

    @staticmethod
    def cost_divisor(m, k):
        return m * k

    @staticmethod
    def terms(Z, Y, scale):
        return (Z - Y) * (Z - Y)

    @staticmethod
    def gradient_terms(Z, Y, scale):
        return (Z - Y) * scale

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return Z.reshape(-1) if Z.shape[1] == 1 else Z

    def accuracy(self, Z: np.ndarray, Y: np.ndarray) -> float:
        raise ValueError("accuracy is defined for classification losses only; this model uses mse")


class SampleWeighted(Loss):
    """Another loss with one weight per example: ``J = (c/m) sum_i w_i l_i`` and ``dJ/dZ_i = c w_i dl_i/dZ_i / m``.

    ``l_i`` is the wrapped loss's :meth:`~Loss.sample_costs` and ``c`` the constant ``scale``; with all
    weights 1 and ``scale=1`` this is the wrapped loss. The weights travel as one extra last column of the
    target matrix, ``Y_w = [Y | w]`` of shape ``(m, n_outputs + 1)`` (:meth:`targets` builds it), so
    mini-batch shuffling moves each weight with its example, and they stay as given (frequencies: batch
    normalization reads them through :meth:`sample_weights`). ``scale = m_train / sum(w)`` (as the
    estimators set it) makes a full batch's cost ``sum_i w_i l_i / sum_i w_i``: an integer weight counts as
    that many copies of the example, and a zero weight as its absence. The division is by the batch's ``m``
    (Keras's ``sum_over_batch_size``), never by a batch's weight sum, so a mini-batch of zero weights gives
    a zero gradient.
    """

    is_classifier = True
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"scale": Real(low=0.0, low_open=True)}
    """The checked constructor argument's legal values (``loss`` is resolved by :func:`get_loss`)."""

    def __init__(self, loss: str | Loss, scale: float = 1.0) -> None:
        self.base = get_loss(loss)
        if isinstance(self.base, SampleWeighted):
            raise TypeError("loss is already SampleWeighted")
        self.name = f"sample_weighted_{self.base.name}"  # type: ignore[misc]
        self.is_classifier = self.base.is_classifier  # type: ignore[misc]
        self.scale = validate_params(self._parameter_constraints, scale=scale)["scale"]

    def targets(self, y: Any, sample_weight: Any, n_outputs: int, dtype: Any) -> np.ndarray:
        """``[Y | w]``: the wrapped loss's target matrix for ``y`` with the weights ``(m,)`` as last column."""
        Y = self.base.encode(y, n_outputs, dtype)
        weights = check_finite_array("sample_weight", sample_weight, ndim=(1,))
        if weights.shape[0] != Y.shape[0]:
            raise ValueError(f"sample_weight must have one weight per example ({Y.shape[0]}); got {weights.shape[0]}")
        if (weights < 0).any():
            raise ValueError(f"sample_weight must be >= 0; got {weights[weights < 0][:3].tolist()}")
        return np.hstack([Y, weights.astype(dtype).reshape(-1, 1)])

    def encode(self, y: Any, n_outputs: int, dtype: Any) -> np.ndarray:
        Y = check_finite_array("y", y, ndim=(2,))
        if Y.shape[1] != n_outputs + 1:
            raise ValueError(f"a SampleWeighted loss takes targets [Y | w] with {n_outputs + 1} columns; "
                             f"got {Y.shape[1]} (build them with targets(y, sample_weight, ...))")
        return Y.astype(dtype)

    def output(self, Z: np.ndarray) -> np.ndarray:
        return self.base.output(Z)

    def sample_weights(self, Y: np.ndarray) -> np.ndarray:
        return Y[:, -1]

    def sample_costs(self, Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return (self.scale * Y[:, -1]) * self.base.sample_costs(Z, Y[:, :-1])

    def cost(self, Z: np.ndarray, Y: np.ndarray) -> float:
        return float(self.sample_costs(Z, Y).sum() / Z.shape[0])

    def gradient(self, Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        dZ = self.base.gradient(Z, Y[:, :-1])
        np.multiply(dZ, self.scale * Y[:, -1:], dZ)
        return dZ

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return self.base.predict(Z)

    def accuracy(self, Z: np.ndarray, Y: np.ndarray) -> float:
        return self.base.accuracy(Z, Y[:, :-1])

    def __repr__(self) -> str:
        return f"SampleWeighted({self.base.name!r}, scale={self.scale:g})"


LOSSES: dict[str, type[Loss]] = {
    "binary_crossentropy": BinaryCrossEntropy,
    "categorical_crossentropy": CategoricalCrossEntropy,
    "mse": MeanSquaredError,
}


def get_loss(loss: str | Loss) -> Loss:
    """Resolve a loss by name (see ``LOSSES``) or return the instance given."""
    if isinstance(loss, Loss):
        return loss
    check_choice("loss", loss, LOSSES)
    return LOSSES[loss]()
