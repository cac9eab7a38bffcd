"""Compiled engine: forward, fused loss and backward of a small dense network in one numba call.

A tiny network (the moons 2-5-2-1 ReLU net, mini-batch 64) spends its NumPy training step in per-call
overhead: some 25 NumPy calls of well under a microsecond of arithmetic each. :class:`CompiledGradients`
does the whole gradient computation of :meth:`Sequential.compute_gradients` in one compiled kernel that
reads the live flat ``model.params`` and writes ``model.grads`` in place.

Supported models (:func:`unsupported_reason` says why another is not): a stack of ``Dense`` layers (with
or without bias, with or without their own ``l2``), each followed by at most one ``ReLU``,
``LeakyReLU``, ``ELU``, ``SELU``, ``Tanh`` or ``Sigmoid``, the last layer a ``Dense`` (its activation is
fused in the loss), and the built-in ``binary_crossentropy``, ``categorical_crossentropy`` or ``mse``
loss; float64 or float32. Layers and losses must be exactly those classes (a subclass may change the
arithmetic, so it runs on NumPy).

The arithmetic is the NumPy engine's, formula for formula and in the same order (row layout, ``X`` is
``(m, n_in)``, ``W`` is ``(n_in, n_out)``)::

    Z = X @ W, then Z += b                     A = g(Z)   (in the model's dtype; constants rounded to it)
    BCE:  dZ = (1 / (1 + exp(-z)) - y) / m     J = sum(max(z, 0) - y z + log1p(exp(-|z|))) / m
    CCE:  dZ = (exp(z - max) / s - y) / m      J = -sum(y * ((z - max) - log s)) / m,  s = sum exp(z - max)
    MSE:  dZ = (z - y) * (2 / (m k))           J = sum((z - y)**2) / (m k)
    dW = A_prev.T @ dZ, dW += (l2_layer * W) / m, dW += (lambd * W) / m     db = sum over rows of dZ
    dA_prev = dZ @ W.T, then dZ_prev = dA_prev * g'(A_prev)                 (not for the first layer)

except that the matrix products are explicit loops summing in order over the shared index, where
NumPy's BLAS blocks and vectorizes its sums: results agree with the NumPy engine to rounding (about
1e-15 relative in float64), not bit for bit. Meant for small networks: measured on one core, 6x NumPy's
speed for the 2-5-2-1 network, even at hidden width 32, slower beyond (0.44x at 128, where BLAS wins);
``python benchmarks/profile_step.py --compiled``.
"""

from __future__ import annotations

import math

import numpy as np

from ._numba import AVAILABLE, INSTALL_HINT, njit
from ._validation import check_int, check_type
from .layers import ELU, SELU, Dense, LeakyReLU, ReLU, Sigmoid, Tanh
from .losses import BinaryCrossEntropy, CategoricalCrossEntropy, MeanSquaredError
from .model import Sequential

__all__ = ["unsupported_reason", "CompiledGradients", "AVAILABLE"]

# Activation codes of the layer table (0: the Dense layer has none).
NONE, RELU, LEAKY_RELU, ELU_CODE, SELU_CODE, TANH, SIGMOID = range(7)
ACTIVATION_CODES: dict[type, int] = {ReLU: RELU, LeakyReLU: LEAKY_RELU, ELU: ELU_CODE, SELU: SELU_CODE, Tanh: TANH, Sigmoid: SIGMOID}
# Loss codes.
LOSS_CODES: dict[type, int] = {BinaryCrossEntropy: 0, CategoricalCrossEntropy: 1, MeanSquaredError: 2}
BCE, CCE, MSE = 0, 1, 2

# Layer table: row 0 is a header (loss code, number of Dense layers, input width, max_batch, where the scratch
# space for W.T and one row of dA starts, the width from which the row-wise loops run); row 1 + l describes
# Dense layer l.
LOSS, N_LAYERS, N_FEATURES, MAX_BATCH, SCRATCH_AT, WIDE_FROM = range(6)
N_IN, N_OUT, W_AT, B_AT, ACT, IN_AT, BUF_AT, CONST_AT = range(8)
TABLE_WIDTH = 8

# The workspace (one array of the model's dtype) starts with scalar slots: writing a number into a slot
# and reading it back rounds it to the model's dtype inside the kernel (float32 arithmetic stays float32,
# as NumPy's does with Python scalars).
M_SLOT, LAMBD_SLOT, SCALE_SLOT, SIZE_SLOT, ZERO_SLOT, ONE_SLOT = range(6)
N_SLOTS = 6
WIDE = 8
"""From this many outputs (inputs, for dA) on, the matrix products accumulate whole rows in place, which
vectorizes; below it each sum stays in a register. Both round the same (the same sums in the same order)."""
N_CONSTANTS = 4  # per Dense layer: its own l2, then the activation's constants c0, c1, c2


def unsupported_reason(model: Sequential) -> str | None:
    """Why ``model`` cannot run on the compiled engine, in one line, or ``None`` if it can.

    The model need not be built: only its layer stack and loss are looked at.

    >>> import dnnimprove as dn
    >>> unsupported_reason(dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)])) is None
    True
    >>> unsupported_reason(dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dropout(0.8), dn.Dense(1)]))
    "layers[2] (Dropout) has no compiled kernel; use engine='numpy'"
    """
    check_type("model", model, Sequential, "a Sequential")
    if type(model.loss) not in LOSS_CODES:
        return f"loss {type(model.loss).__name__} has no compiled kernel (only the built-in {', '.join(sorted(cls.name for cls in LOSS_CODES))}); use engine='numpy'"
    previous = None
    for index, layer in enumerate(model.layers):
        kind = type(layer)
        if kind is not Dense and kind not in ACTIVATION_CODES:
            return f"layers[{index}] ({kind.__name__}) has no compiled kernel; use engine='numpy'"
        if kind is not Dense and previous is not Dense:
            where = "first" if previous is None else f"after {previous.__name__}"
            return f"layers[{index}] ({kind.__name__}) comes {where}; the compiled engine needs every activation right after a Dense layer; use engine='numpy'"
        previous = kind
    if previous is not Dense:
        return f"the last layer is {previous.__name__}, not Dense (the output activation is fused in the loss); use engine='numpy'"
    return None


def _activation_constants(layer: object) -> tuple[float, float, float]:
    """The constants the kernel's activation code uses: (c0, c1, c2)."""
    if isinstance(layer, (LeakyReLU, ELU)):
        return layer.alpha, 0.0, 0.0
    if isinstance(layer, SELU):
        # NumPy computes SCALE * ALPHA in Python floats, then rounds it to the model's dtype.
        return SELU.ALPHA, SELU.SCALE, SELU.SCALE * SELU.ALPHA
    return 0.0, 0.0, 0.0


class CompiledGradients:
    """``model.compute_gradients`` as one compiled call, for a supported dense network.

    Parameters
    ----------
    model : Sequential
        A built model that :func:`unsupported_reason` accepts. Its ``params`` are read and its ``grads``
        written at every call, so training may change ``params`` in place between calls.
    max_batch : int >= 1
        The largest mini-batch; the workspace (one activation buffer per Dense layer, ``max_batch`` rows)
        is allocated once here, none per call.

    Raises
    ------
    ValueError
        When numba is not installed (or disabled), when the model is not built, or when it has a layer or
        loss without a compiled kernel (the message names it).

    Notes
    -----
    The layer stack is read once, here: the layers' ``l2`` and activation constants (``alpha``) and the
    parameter layout are copied into a small int64 table and the workspace. After changing them, or after
    ``model.build`` (new buffers: the call says so), make a new ``CompiledGradients``.

    Examples
    --------
    >>> import numpy as np, dnnimprove as dn
    >>> model = dn.Sequential([dn.Dense(5), dn.ReLU(), dn.Dense(1)], seed=0).build(2)
    >>> gradients = CompiledGradients(model, max_batch=64)              # doctest: +SKIP
    >>> X, Y = np.ones((8, 2)), np.ones((8, 1))
    >>> cost = gradients(X, Y, True, 0.0, True)  # fills model.grads    # doctest: +SKIP
    """

    def __init__(self, model: Sequential, max_batch: int) -> None:
        if not AVAILABLE:
            raise ValueError("engine='compiled' needs numba: " + INSTALL_HINT)
        reason = unsupported_reason(model)
        if reason is not None:
            raise ValueError(reason)
        if not model.built:
            raise ValueError("model must be built (fit it, or call model.build(n_features)) before compiling its gradients")
        self.max_batch = check_int("max_batch", max_batch, low=1)
        self.model = model
        self.dtype = model.dtype
        self.n_features = model.n_features_in_
        self.n_outputs = model.n_outputs
        self._params = model.params
        self._grads = model.grads
        self._table, self._work = self._layout(model, self.max_batch)

    @staticmethod
    def _layout(model: Sequential, max_batch: int) -> tuple[np.ndarray, np.ndarray]:
        """The int64 layer table and the workspace (scalar slots, per-layer constants, activation buffers)."""
        tensors = {(info.layer, info.key): info for info in model.table}
        dense = [index for index, layer in enumerate(model.layers) if type(layer) is Dense]
        table = np.zeros((1 + len(dense), TABLE_WIDTH), dtype=np.int64)
        table[0, LOSS] = LOSS_CODES[type(model.loss)]
        table[0, N_LAYERS] = len(dense)
        table[0, N_FEATURES] = model.n_features_in_
        table[0, MAX_BATCH] = max_batch
        constants_at = N_SLOTS
        input_at = constants_at + N_CONSTANTS * len(dense)  # the kernel copies X here: all layers read `work`
        buffer_at = input_at + max_batch * model.n_features_in_
        constants = []
        for row, index in enumerate(dense, start=1):
            layer = model.layers[index]
            weight = tensors[(index, "W")]
            bias = tensors.get((index, "b"))
            following = model.layers[index + 1] if index + 1 < len(model.layers) else None
            table[row, [N_IN, N_OUT, W_AT, B_AT, ACT, IN_AT, BUF_AT, CONST_AT]] = (
                weight.shape[0], weight.shape[1], weight.start, -1 if bias is None else bias.start,
                ACTIVATION_CODES.get(type(following), NONE), input_at, buffer_at, constants_at + N_CONSTANTS * (row - 1),
            )
            constants += [layer.l2, *_activation_constants(following)]
            input_at = buffer_at
            buffer_at += max_batch * weight.shape[1]
        table[0, SCRATCH_AT] = buffer_at
        table[0, WIDE_FROM] = WIDE
        scratch = max(int(np.prod(info.shape)) + info.shape[0] for info in model.table if info.role == "weight")
        work = np.zeros(buffer_at + scratch, dtype=model.dtype)
        work[ONE_SLOT] = 1
        work[constants_at : constants_at + len(constants)] = constants
        return table, work

    def __call__(
        self, X: np.ndarray, Y: np.ndarray, training: bool = True, l2: float = 0.0, need_cost: bool = True
    ) -> float:
        """Fill ``model.grads`` for the batch ``(X, Y)``; return its data cost (NaN when ``need_cost`` is False).

        Exactly :meth:`Sequential.compute_gradients`'s contract: ``X`` is ``(m, n_features)``, ``Y`` is
        ``(m, n_outputs)`` as ``model.encode_targets`` gives, both C-contiguous in the model's dtype, with
        ``m <= max_batch``; the gradient holds the global L2 term ``(l2 * W) / m`` and every Dense layer's
        own; the returned cost leaves the L2 penalty out.
        """
        dtype = self.dtype
        if X.dtype is not dtype or Y.dtype is not dtype or X.ndim != 2 or Y.ndim != 2:
            self._check(X, Y)  # raises, unless the dtypes are equal without being the same object
        model = self.model
        if model.params is not self._params:
            raise ValueError("the model was rebuilt after its CompiledGradients was made; make a new one")
        if training:  # the course's random source reseeds here, as model.forward does
            model.random.start_forward()
        cost = _gradients(X, Y, self._params, self._grads, self._work, self._table, float(l2), need_cost)
        if cost < 0.0:  # the kernel's answer to shapes it cannot take (no data cost is negative)
            self._check(X, Y)
            raise ValueError(f"X of shape {X.shape} and Y of shape {Y.shape} do not fit this model")  # pragma: no cover
        return cost

    def _check(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Raise a ValueError naming what is wrong with ``X`` or ``Y``; return if nothing is."""
        for name, array, width in (("X", X, self.n_features), ("Y", Y, self.n_outputs)):
            if not isinstance(array, np.ndarray) or array.ndim != 2 or array.shape[1] != width:
                raise ValueError(f"{name} must be a 2-D array with {width} columns; got shape {np.shape(array)}")
            if array.dtype != self.dtype:
                raise ValueError(f"{name} must have the model's dtype {self.dtype}; got {array.dtype}")
        if X.shape[0] > self.max_batch:
            raise ValueError(f"X has {X.shape[0]} rows, more than max_batch={self.max_batch} this CompiledGradients was made for")
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"X and Y must have the same number of rows; got {X.shape[0]} and {Y.shape[0]}")


# -- the kernel -------------------------------------------------------------------------------------------
# Plain Python functions, compiled by ``njit`` (None when numba is off). Every array is addressed flat by the
# offsets of the layer table: ``W[k, j]`` of a Dense layer is ``params[W_AT + k * n_out + j]``, row ``i`` of
# its activations starts at ``work[BUF_AT + i * n_out]``. Each index is cast to unsigned (``U``) where it is
# used: a signed index costs a negative-index wraparound test per access, which made the loops twice as slow,
# and 2-D views instead cost about 20 ns each in reference counting. ``zero``, ``one`` and every constant are
# read from the workspace, so they have the model's dtype.

U = np.uint64


def _activate(work, start, stop, code, c0, c1, zero, one):  # pragma: no cover - compiled
    """``A = g(Z)`` in place on ``work[start:stop]``, the formulas of the NumPy activation layers."""
    if code == RELU:
        for at in range(start, stop):
            work[U(at)] = np.maximum(work[U(at)], zero)
    elif code == LEAKY_RELU:
        for at in range(start, stop):
            z = work[U(at)]
            work[U(at)] = z if z > zero else c0 * z
    elif code == ELU_CODE:
        for at in range(start, stop):
            z = work[U(at)]
            work[U(at)] = z if z > zero else c0 * np.expm1(np.minimum(z, zero))
    elif code == SELU_CODE:
        for at in range(start, stop):
            z = work[U(at)]
            work[U(at)] = c1 * (z if z > zero else c0 * np.expm1(np.minimum(z, zero)))
    elif code == TANH:
        for at in range(start, stop):
            work[U(at)] = np.tanh(work[U(at)])
    elif code == SIGMOID:
        for at in range(start, stop):
            work[U(at)] = one / (one + np.exp(-work[U(at)]))


def _activation_backward(dA, A, code, c0, c1, c2, zero, one):  # pragma: no cover - compiled
    """``dZ = dA * g'(Z)`` for one entry, from the activation's output ``A`` (``A > 0`` exactly when ``Z > 0``)."""
    if code == RELU:
        return dA * np.sign(A)
    if code == LEAKY_RELU:
        return dA if A > zero else c0 * dA
    if code == ELU_CODE:
        return dA if A > zero else dA * (A + c0)
    if code == SELU_CODE:
        return dA * (c1 if A > zero else A + c2)  # c1 = lambda, c2 = lambda * alpha
    if code == TANH:
        return dA * (one - A * A)
    if code == SIGMOID:
        return dA * A * (one - A)
    return dA


def _dense_forward(params, work, a_at, w_at, b_at, z_at, m, n_in, n_out, wide, zero):  # pragma: no cover - compiled
    """``Z = A @ W``, then ``Z += b`` (``b_at >= 0``); each entry summed in order over the shared index.

    Narrow layers keep each sum in a register; from ``wide`` outputs on, a row of ``Z`` is accumulated in
    place, ``Z[i, :] += A[i, k] * W[k, :]`` for k in order, which vectorizes over the outputs. The two round
    the same: each entry is ``((0 + a_0 w_0) + a_1 w_1) + ... + b`` either way.
    """
    for i in range(m):
        a_row = a_at + i * n_in
        z_row = z_at + i * n_out
        if n_out >= wide:
            for j in range(n_out):
                work[U(z_row + j)] = zero
            for k in range(n_in):
                a = work[U(a_row + k)]
                w_row = w_at + k * n_out
                for j in range(n_out):
                    work[U(z_row + j)] += a * params[U(w_row + j)]
            if b_at >= 0:
                for j in range(n_out):
                    work[U(z_row + j)] += params[U(b_at + j)]
            continue
        for j in range(n_out):
            z = zero
            for k in range(n_in):
                z += work[U(a_row + k)] * params[U(w_at + k * n_out + j)]
            if b_at >= 0:
                z += params[U(b_at + j)]
            work[U(z_row + j)] = z


def _loss_gradient(work, Y, z_at, m, k, code, need_cost, fm, scale, size, zero, one):  # pragma: no cover - compiled
    """Replace the logits (``m x k`` at ``work[z_at]``) by ``dJ/dZ`` in place; return the data cost (0 if not needed)."""
    total = zero
    if code == BCE:
        for i in range(m):
            for j in range(k):
                at = U(z_at + i * k + j)
                z = work[at]
                y = Y[i, j]
                if need_cost:
                    total += (np.maximum(z, zero) - y * z) + np.log1p(np.exp(-np.abs(z)))
                work[at] = (one / (one + np.exp(-z)) - y) / fm
        return total / fm
    if code == CCE:
        for i in range(m):
            row = z_at + i * k
            top = work[U(row)]
            for j in range(1, k):
                top = np.maximum(top, work[U(row + j)])
            s = zero
            for j in range(k):
                s += np.exp(work[U(row + j)] - top)
            log_s = np.log(s)
            for j in range(k):
                shifted = work[U(row + j)] - top
                if need_cost:
                    total += Y[i, j] * (shifted - log_s)
                work[U(row + j)] = (np.exp(shifted) / s - Y[i, j]) / fm
        return -total / fm
    for i in range(m):
        for j in range(k):
            at = U(z_at + i * k + j)
            diff = work[at] - Y[i, j]
            if need_cost:
                total += diff * diff
            work[at] = diff * scale
    return total / size


def _dense_backward(params, grads, work, a_at, w_at, b_at, z_at, m, n_in, n_out, wide, zero):  # pragma: no cover - compiled
    """``dW = A.T @ dZ`` and (``b_at >= 0``) ``db`` = column sums of ``dZ``, summed in order over the rows.

    Narrow layers keep each sum in a register; from ``wide`` outputs on, ``dW[k, :] += A[i, k] * dZ[i, :]``
    row by row (vectorized over the outputs, the same rounding).
    """
    if n_out >= wide:
        for at in range(w_at, w_at + n_in * n_out):
            grads[U(at)] = zero
        if b_at >= 0:
            for j in range(n_out):
                grads[U(b_at + j)] = zero
        for i in range(m):
            a_row = a_at + i * n_in
            z_row = z_at + i * n_out
            for k in range(n_in):
                a = work[U(a_row + k)]
                g_row = w_at + k * n_out
                for j in range(n_out):
                    grads[U(g_row + j)] += a * work[U(z_row + j)]
            if b_at >= 0:
                for j in range(n_out):
                    grads[U(b_at + j)] += work[U(z_row + j)]
        return
    for k in range(n_in):
        for j in range(n_out):
            s = zero
            for i in range(m):
                s += work[U(a_at + i * n_in + k)] * work[U(z_at + i * n_out + j)]
            grads[U(w_at + k * n_out + j)] = s
    if b_at >= 0:
        for j in range(n_out):
            s = zero
            for i in range(m):
                s += work[U(z_at + i * n_out + j)]
            grads[U(b_at + j)] = s


def _input_gradient(params, work, a_at, w_at, z_at, t_at, m, n_in, n_out, wide, code, c0, c1, c2, zero, one):  # pragma: no cover
    """The layer below's ``dZ = (dZ @ W.T) * g'``, written over its activation output (at ``a_at``) in place.

    From ``wide`` inputs on, ``W.T`` is first copied to ``work[t_at:]`` and a row of ``dZ @ W.T`` is accumulated
    in ``work[t_at + n_in * n_out:]``, ``dA[i, :] += dZ[i, j] * W.T[j, :]`` for j in order (vectorized over the
    inputs, the same rounding as the register sums of narrow layers).
    """
    if n_in >= wide:
        row_at = t_at + n_in * n_out
        for k in range(n_in):
            for j in range(n_out):
                work[U(t_at + j * n_in + k)] = params[U(w_at + k * n_out + j)]
        for i in range(m):
            z_row = z_at + i * n_out
            a_row = a_at + i * n_in
            for k in range(n_in):
                work[U(row_at + k)] = zero
            for j in range(n_out):
                d = work[U(z_row + j)]
                t_row = t_at + j * n_in
                for k in range(n_in):
                    work[U(row_at + k)] += d * work[U(t_row + k)]
            for k in range(n_in):
                at = U(a_row + k)
                work[at] = _activation_backward(work[U(row_at + k)], work[at], code, c0, c1, c2, zero, one)
        return
    for i in range(m):
        z_row = z_at + i * n_out
        for k in range(n_in):
            s = zero
            for j in range(n_out):
                s += work[U(z_row + j)] * params[U(w_at + k * n_out + j)]
            at = U(a_at + i * n_in + k)
            work[at] = _activation_backward(s, work[at], code, c0, c1, c2, zero, one)


def _add_l2(params, grads, start, stop, lambd, fm):  # pragma: no cover - compiled
    """``grads += (lambd * W) / m`` on ``[start, stop)``, computed as NumPy does: ``W * lambd / m``."""
    for at in range(start, stop):
        grads[U(at)] += params[U(at)] * lambd / fm


def _gradients_kernel(X, Y, params, grads, work, table, lambd, need_cost):  # pragma: no cover - compiled
    """The whole of ``Sequential.compute_gradients`` for the model described by ``table``; returns the cost."""
    m, n_features = X.shape
    n_layers = table[0, N_LAYERS]
    wide = table[0, WIDE_FROM]
    if m > table[0, MAX_BATCH] or n_features != table[0, N_FEATURES] or Y.shape[0] != m or Y.shape[1] != table[n_layers, N_OUT]:
        return -1.0  # before touching anything: the caller names the problem
    work[M_SLOT] = m
    work[LAMBD_SLOT] = lambd
    zero, one, fm, lambd_ = work[ZERO_SLOT], work[ONE_SLOT], work[M_SLOT], work[LAMBD_SLOT]
    x_at = table[1, IN_AT]
    for i in range(m):
        for k in range(n_features):
            work[U(x_at + i * n_features + k)] = X[i, k]
    for layer in range(1, n_layers + 1):  # forward: each buffer ends up holding g(Z) (the logits for the last)
        n_in, n_out, out_at, c = table[layer, N_IN], table[layer, N_OUT], table[layer, BUF_AT], table[layer, CONST_AT]
        _dense_forward(params, work, table[layer, IN_AT], table[layer, W_AT], table[layer, B_AT], out_at, m, n_in, n_out, wide, zero)
        _activate(work, out_at, out_at + m * n_out, table[layer, ACT], work[c + 1], work[c + 2], zero, one)
    k = table[n_layers, N_OUT]
    work[SCALE_SLOT] = 2.0 / (m * k)
    work[SIZE_SLOT] = m * k
    cost = _loss_gradient(
        work, Y, table[n_layers, BUF_AT], m, k, table[0, LOSS], need_cost, fm, work[SCALE_SLOT], work[SIZE_SLOT], zero, one
    )
    for layer in range(n_layers, 0, -1):  # backward: each buffer becomes its layer's dZ
        n_in, n_out, w_at, c = table[layer, N_IN], table[layer, N_OUT], table[layer, W_AT], table[layer, CONST_AT]
        a_at, z_at = table[layer, IN_AT], table[layer, BUF_AT]
        _dense_backward(params, grads, work, a_at, w_at, table[layer, B_AT], z_at, m, n_in, n_out, wide, zero)
        if layer > 1:
            below = table[layer - 1, CONST_AT]
            _input_gradient(
                params, work, a_at, w_at, z_at, table[0, SCRATCH_AT], m, n_in, n_out, wide, table[layer - 1, ACT],
                work[below + 1], work[below + 2], work[below + 3], zero, one,
            )
        if work[c] != zero:  # the layer's own l2, then the global one, in NumPy's order
            _add_l2(params, grads, w_at, w_at + n_in * n_out, work[c], fm)
        if lambd_ != zero:
            _add_l2(params, grads, w_at, w_at + n_in * n_out, lambd_, fm)
    return cost if need_cost else math.nan


if AVAILABLE:  # the helpers are compiled into the kernel that calls them
    _activate = njit(_activate)
    _activation_backward = njit(_activation_backward)
    _dense_forward = njit(_dense_forward)
    _loss_gradient = njit(_loss_gradient)
    _dense_backward = njit(_dense_backward)
    _input_gradient = njit(_input_gradient)
    _add_l2 = njit(_add_l2)
_gradients = njit(_gradients_kernel)
