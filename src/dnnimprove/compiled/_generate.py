"""The source text of a network's compiled training kernel, generated from its plan.

The kernel runs mini-batches ``first .. last - 1`` of an epoch: for each, the gather of the shuffled rows,
every layer's forward, the loss's gradient (and cost), every layer's backward, the L2 and L1 terms and the optimizer
update. Activations are indexed ``[unit, example]``; a network with a narrow (loop) layer or batch norm stores
them as *features x batch* (the course's column layout: the loops with the batch innermost vectorize), a network
whose Dense layers are all on BLAS as *batch x features* (NumPy's layout, :func:`_rows_layout`: the products are
the NumPy engine's own calls, and the element-wise loops run along an example's features). Every formula is a
call to the block's own function (a global of the generated module, ``F*`` names); what the text spells out is
only the plumbing: loops, matrix products (loops in index order for narrow layers, BLAS for wide ones: NumPy's
own CBLAS or numba's ``np.dot``), sums over the batch and the order of the calls, which is the NumPy engine's
order.

For a network of loop layers only (no BLAS), the views into ``work`` are made once per call, ``(width, B)``,
and a shorter last mini-batch uses their first ``mb`` columns; a loop layer's product adds its terms in a
register (:data:`REGISTER_SUMS_UP_TO`); the weight and bias gradients' sums over the batch are one call per
layer to :mod:`._batch_sums`, which adds them in vector lanes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import _batch_sums
from ._legacy_random import LANES

__all__ = ["LayerPlan", "Plan", "generate"]

BLAS_FROM = 256
"""A Dense layer with at least this many weights computes its products with BLAS; a smaller one with loops (a
BLAS call costs more than the arithmetic of a layer of a few dozen weights, while the loops' sums over the batch,
added in index order, do not vectorize)."""


@dataclass
class LayerPlan:
    """One layer of the kernel: ``kind`` ("dense", "activation", "dropout", "batch_norm"), widths, where its
    tensors start in ``params`` (-1: none), where its constants start in ``lc``, how many constants it has."""

    kind: str
    n_in: int
    n_out: int
    w_at: int = -1
    b_at: int = -1
    const_at: int = 0
    n_constants: int = 0
    blas: bool = False


@dataclass
class Plan:
    """What the generated kernel is specialized for; equal plans give equal source text."""

    dtype: str
    layers: list[LayerPlan]
    loss_kind: str  # "elementwise" or "softmax"
    n_loss_constants: int
    n_slots: int
    n_inputs: int
    n_hyper: int
    n_bn: int = 0
    names: dict[str, str] = field(default_factory=dict)  # informational: the formula behind each F* global
    legacy: bool = False
    """Whether the kernel draws each epoch's permutation as the course does, ``np.random.seed(seed + epoch)`` then
    ``np.random.permutation(m)`` (:mod:`._legacy_random`, ``LANES`` epochs at a time into the rows of
    ``orders``), from the first epoch's seed in ``gen[0]``."""
    draws: bool = False
    """Whether the kernel draws the permutation and the dropout masks itself, from a ``numpy.random.Generator``
    (NumPy's own algorithms on the same bit generator: the same numbers as the Python calls)."""
    gemm: bool = False
    """Whether the BLAS layers multiply through NumPy's own CBLAS (``GEMM``/``GEMV`` of :mod:`._blas`, with the
    kernel's ``blas`` argument: ``(gemm, gemv)`` ctypes functions) rather than numba's ``np.dot``."""


def _per_batch_views(plan: Plan) -> bool:
    """Whether the views into ``work`` are made per mini-batch, ``(width, mb)`` (BLAS reads contiguous operands of
    the mini-batch's size), or once per call, ``(width, B)`` with the first ``mb`` columns in use: no layer on BLAS
    (making a view per mini-batch costs as much as a tiny layer's arithmetic)."""
    return any(layer.blas for layer in plan.layers)


def _rows_layout(plan: Plan) -> bool:
    """Whether the activations are stored example after example (*batch x features*, NumPy's layout) rather than
    feature after feature: every Dense layer on BLAS and no batch norm. The kernel still indexes them
    ``a[unit, example]``, through transposed views, so only the views and the loops' nesting change; the products
    are then the very calls the NumPy engine makes (``X @ W``, ``X.T @ dZ``, ``dZ @ W.T``), which BLAS runs faster
    than their transposes, and the element-wise loops run along the features of an example, contiguous in memory.
    Batch norm's statistics run along a unit's examples, contiguous in the column layout: such networks keep it."""
    dense = [layer for layer in plan.layers if layer.kind == "dense"]
    batch_norm = any(layer.kind == "batch_norm" for layer in plan.layers)
    return bool(dense) and all(layer.blas for layer in dense) and not batch_norm


def _each(plan: Plan, width: int, body: list[str]) -> list[str]:
    """Lines running ``body`` (indexing ``[j, i]``) for every unit ``j < width`` and example ``i < mb``, with the
    example loop innermost in the features-x-batch layout and outermost in the rows layout (contiguous either way)."""
    if _rows_layout(plan):
        return ["for i in range(mb):", f"    for j in range({width}):", *("        " + line for line in body)]
    return [f"for j in range({width}):", "    for i in range(mb):", *("        " + line for line in body)]


def _views(plan: Plan) -> tuple[list[str], int]:
    """Lines creating the views into ``work`` (widths times ``mb`` or ``B``, see :func:`_per_batch_views`), and
    the total width per row. In the rows layout (:func:`_rows_layout`) each view is the transpose of a
    ``(mb, width)`` block: indexed ``[unit, example]`` as in the other layout."""
    lines, at = [], 0
    columns = "mb" if _per_batch_views(plan) else "B"
    rows = _rows_layout(plan)

    def view(name: str, width: int, by_rows: bool = rows, transposed: bool = True) -> None:
        nonlocal at
        block = f"work[{at} * B:{at} * B + {width} * {columns}]"
        lines.append(f"{name} = {block}.reshape(({columns}, {width}))" + (".T" if transposed else "") if by_rows else
                     f"{name} = {block}.reshape(({width}, {columns}))")
        at += width

    if plan.layers[0].blas:  # gathered in row layout (contiguous row copies); BLAS reads its transpose as it is
        view("x_rows", plan.layers[0].n_in, by_rows=True, transposed=False)
        lines.append("a0 = x_rows.T")
    else:
        view("a0", plan.layers[0].n_in)
    view("d0", plan.layers[0].n_in)
    for index, layer in enumerate(plan.layers, start=1):
        view(f"a{index}", layer.n_out)
        view(f"d{index}", layer.n_out)
        if layer.kind == "dropout":
            view(f"mask{index}", layer.n_out)
        if layer.kind == "batch_norm":
            view(f"zn{index}", layer.n_out)
    view("y", plan.layers[-1].n_out)
    lines.append(f"ones = work[{at} * B:{at} * B + {columns}]  # 1.0 each: a BLAS layer's bias gradient is dZ @ ones")
    return lines, at + 1


REGISTER_SUMS_UP_TO = 32
"""A loop-layer's product ``out[r] = 0 + sum_c w(r, c) a[c]`` adds its ``n_c`` terms in a register (the loop over
``c`` unrolled, the batch loop vectorized) up to this many terms; more, it adds them into ``out`` one term for the
whole batch at a time (the batch loop vectorized, ``n_c`` of them). The same additions in the same order."""


def _sum_of_products(out: str, r: str, n_r: int, c: str, n_c: int, weight: str, a: str, bias: str | None) -> list[str]:
    """Lines for ``out[r, i] = 0 + sum over c of weight * a[c, i] (+ bias)`` for every row ``r < n_r`` and column
    ``i < mb`` (``weight`` and ``bias`` are expressions in ``r`` and ``c``)."""
    lines = [f"for {r} in range({n_r}):"]
    if bias is not None:
        lines.append(f"    bias = {bias}")
    if n_c <= REGISTER_SUMS_UP_TO:
        return lines + ["    for i in range(mb):",
                        "        s = zero",
                        f"        for {c} in range({n_c}):",
                        f"            s += {weight} * {a}[{c}, i]",
                        f"        {out}[{r}, i] = s" + (" + bias" if bias is not None else "")]
    lines += ["    for i in range(mb):",
              f"        {out}[{r}, i] = zero",
              f"    for {c} in range({n_c}):",
              f"        w = {weight}",
              "        for i in range(mb):",
              f"            {out}[{r}, i] += w * {a}[{c}, i]"]
    if bias is not None:
        lines += ["    for i in range(mb):", f"        {out}[{r}, i] += bias"]
    return lines


def row_width(plan: Plan) -> int:
    """``work`` holds this many values per row of the largest mini-batch (plus the per-unit batch-norm slots)."""
    return _views(plan)[1]


def _transposed(expression: str) -> str:
    return expression[:-2] if expression.endswith(".T") else f"{expression}.T"


def _product(plan: Plan, a: str, b: str, out: str) -> str:
    """The statement ``out = a @ b`` of a BLAS layer (``b`` a vector: a matrix-vector product)."""
    if not plan.gemm:
        if _rows_layout(plan) and out[0] in "ad" and out[1:].isdigit():  # numba's np.dot writes C-ordered results only
            return f"np.dot({_transposed(b)}, {_transposed(a)}, {out}.T)"  # out.T = b.T @ a.T
        return f"np.dot({a}, {b}, {out})"
    return f"GEMV(blas[1], {a}, {b}, {out})" if b == "ones" else f"GEMM(blas[0], {a}, {b}, {out})"


def generate(plan: Plan) -> str:
    """The kernel's module source: one function ``run``; see the module docstring."""
    dt = f"np.{plan.dtype}"
    layers = plan.layers
    n_layers = len(layers)
    k_out = layers[-1].n_out
    slots = [f"slot{i}" for i in range(plan.n_slots)]
    inputs = [f"input{i}" for i in range(plan.n_inputs)]
    stats = [name for i in range(plan.n_bn) for name in (f"running_mean{i}", f"running_var{i}", f"unit{i}")]
    keeps = ["keep_params", *[f"keep_{name}" for name in slots + stats if not name.startswith("unit")]]
    kept = ["params", *[name for name in slots + stats if not name.startswith("unit")]]
    args = ["X", "Y", "orders", "first", "last", "B", "params", "grads", "work", "lc", "hyper", "uniforms",
            *slots, *inputs, *stats, *keeps, "lrs", "t", "lambd", "need_cost", "gen", "shuffle", "batch_costs", "blas"]
    out = [f"# BATCH_DOTS, BATCH_SUMS: numba options {_batch_sums.OPTIONS}", "import math", "import numpy as np"]
    if plan.draws:
        out += ["from numba.np.random.generator_core import next_double, next_float",
                "from numba.np.random.random_methods import random_interval"]
    out += ["", "", f"def run({', '.join(args)}):"]
    body: list[str] = []
    emit = body.append
    emit(f"DT = {dt}")
    emit("zero = DT(0.0)")
    emit("m_all = X.shape[0]")
    emit("total = 0.0")
    # parameter views, made once per call
    for index, layer in enumerate(layers, start=1):
        if layer.kind == "dense":
            size = layer.n_in * layer.n_out
            emit(f"W{index} = params[{layer.w_at}:{layer.w_at + size}].reshape(({layer.n_in}, {layer.n_out}))")
            emit(f"dW{index} = grads[{layer.w_at}:{layer.w_at + size}].reshape(({layer.n_in}, {layer.n_out}))")
            if layer.b_at >= 0:
                emit(f"b{index} = params[{layer.b_at}:{layer.b_at + layer.n_out}]")
                emit(f"db{index} = grads[{layer.b_at}:{layer.b_at + layer.n_out}]")
        if layer.kind == "batch_norm":
            emit(f"gamma{index} = params[{layer.w_at}:{layer.w_at + layer.n_out}]")
            emit(f"dgamma{index} = grads[{layer.w_at}:{layer.w_at + layer.n_out}]")
            emit(f"beta{index} = params[{layer.b_at}:{layer.b_at + layer.n_out}]")
            emit(f"dbeta{index} = grads[{layer.b_at}:{layer.b_at + layer.n_out}]")
        for c in range(layer.n_constants):
            emit(f"k{index}_{c} = DT(lc[{layer.const_at + c}])")
    if not _per_batch_views(plan):  # activations and gradients, features x batch: made once
        body.extend(_views(plan)[0])
    emit("hyper_args = (" + "".join(f"hyper[{i}], " for i in range(plan.n_hyper)) + ")")
    emit("u_at = 0")
    emit("t_start = t")
    if plan.draws:
        next_uniform = "next_float" if plan.dtype == "float32" else "next_double"
        emit("bits = gen.bit_generator")
    # epochs: lrs holds one learning rate per epoch of this call; each epoch starts with a copy of what the
    # divergence guard restores, then (shuffled, at the epoch's first batch) its permutation
    emit("for epoch in range(lrs.size):")
    emit("    lr = lrs[epoch]")
    emit("    epoch_cost = need_cost and epoch == lrs.size - 1")
    if plan.legacy:  # gen: int64 [first epoch's seed (-1: orders given), scratch...]; orders: LANES rows
        emit("    if first == 0 and shuffle and gen[0] >= 0:  # np.random.seed(seed); np.random.permutation(m)")
        emit(f"        lane = epoch % {LANES}")
        emit("        if lane == 0:  # the permutations of the next LANES epochs")
        emit(f"            LEGACY_PERMUTATIONS(orders, gen[0] + epoch, min({LANES}, lrs.size - epoch), gen[1:])")
        emit("        order = orders[lane]")
        emit("    else:")
        emit("        order = orders[epoch if orders.shape[0] > 1 else 0]")
    else:
        emit("    order = orders[epoch if orders.shape[0] > 1 else 0]")
    emit("    if first == 0:")
    emit("        t_start = t")
    for keep, array in zip(keeps, kept):
        emit(f"        {keep}[:] = {array}")
    if plan.draws:
        emit("    if first == 0 and shuffle:  # Generator.permutation(m)'s algorithm on the same bit generator")
        emit("        for i in range(m_all):")
        emit("            order[i] = i")
        emit("        for i in range(m_all - 1, 0, -1):")
        emit("            j = np.intp(random_interval(bits, i))")
        emit("            swap = order[i]")
        emit("            order[i] = order[j]")
        emit("            order[j] = swap")
    emit("    total = 0.0")
    emit("    for batch in range(first, last):")
    loop: list[str] = []
    put = loop.append
    put("start = batch * B")
    put("mb = min(B, m_all - start)")
    put("FM = DT(mb)")
    if _per_batch_views(plan):
        loop.extend(_views(plan)[0])
    # gather the shuffled rows, transposed
    put("for i in range(mb):")
    put("    row = np.uintp(order[start + i])  # unsigned: no negative-index wraparound on X and Y")
    put(f"    for k in range({layers[0].n_in}):")
    put("        x_rows[i, k] = X[row, k]" if layers[0].blas else "        a0[k, i] = X[row, k]")
    put(f"    for k in range({k_out}):")
    put("        y[k, i] = Y[row, k]")
    bn = 0
    bn_of: dict[int, int] = {}
    for index, layer in enumerate(layers, start=1):
        a_in, a_out = f"a{index - 1}", f"a{index}"
        ks = "".join(f", k{index}_{c}" for c in range(layer.n_constants))
        if layer.kind == "dense":
            if layer.blas:
                put(_product(plan, f"W{index}.T", a_in, a_out))
                if layer.b_at >= 0:
                    loop.extend(_each(plan, layer.n_out, [f"{a_out}[j, i] += b{index}[j]"]))
            else:
                bias = f"b{index}[j]" if layer.b_at >= 0 else None
                loop.extend(_sum_of_products(a_out, "j", layer.n_out, "k", layer.n_in, f"W{index}[k, j]", a_in, bias))
        elif layer.kind == "activation":
            loop.extend(_each(plan, layer.n_out, [f"{a_out}[j, i] = F{index}({a_in}[j, i]{ks})"]))
        elif layer.kind == "dropout":
            put("for i in range(mb):")
            put(f"    for j in range({layer.n_out}):")
            draw = f"{next_uniform}(bits)" if plan.draws else f"uniforms[u_at + i * {layer.n_out} + j]"
            put(f"        keep = DT(KEEP{index}({draw}, k{index}_0))")
            put(f"        mask{index}[j, i] = keep")
            put(f"        {a_out}[j, i] = APPLY{index}({a_in}[j, i], keep, k{index}_0)")
            put(f"u_at += mb * {layer.n_out}")
        elif layer.kind == "batch_norm":  # constants: epsilon, momentum, 1 - momentum, 1
            bn_of[index] = bn
            unit = f"unit{bn}"
            put("unbiased = DT(mb / (mb - 1))")
            put(f"for j in range({layer.n_out}):")
            put("    s = zero")
            put("    for i in range(mb):")
            put(f"        s += {a_in}[j, i]")
            put("    mu = s / FM")
            put("    s = zero")
            put("    for i in range(mb):")
            put(f"        c = {a_in}[j, i] - mu")
            put("        s += c * c")
            put("    var = s / FM")
            put(f"    inv = INVSTD{index}(var, k{index}_0, k{index}_3)")
            put(f"    {unit}[j] = inv")
            put(f"    gj = gamma{index}[j]")
            put(f"    bj = beta{index}[j]")
            put("    for i in range(mb):")
            put(f"        zn = NORMALIZE{index}({a_in}[j, i], mu, inv)")
            put(f"        zn{index}[j, i] = zn")
            put(f"        {a_out}[j, i] = SCALESHIFT{index}(zn, gj, bj)")
            put(f"    running_mean{bn}[j] = EWMA(running_mean{bn}[j], mu, k{index}_1, k{index}_2)")
            put(f"    running_var{bn}[j] = EWMA(running_var{bn}[j], var * unbiased, k{index}_1, k{index}_2)")
            bn += 1
    # the loss: gradient into d_L, the cost if needed
    z, dz = f"a{n_layers}", f"d{n_layers}"
    if plan.loss_kind == "elementwise":
        put(f"lcs = LOSS_CONSTANTS(mb, {k_out})")
        put("".join(f"c{c} = DT(lcs[{c}]); " for c in range(plan.n_loss_constants)) or "pass")
        cs = "".join(f", c{c}" for c in range(plan.n_loss_constants))
        loop.extend(_each(plan, k_out, [f"{dz}[j, i] = LOSS_GRADIENT({z}[j, i], y[j, i]{cs})"]))
        put("cost = math.nan")
        put("if epoch_cost:")
        put("    acc = 0.0")
        loop.extend("    " + line for line in _each(plan, k_out, [f"acc += LOSS_TERMS({z}[j, i], y[j, i]{cs})"]))
        put(f"    cost = acc / LOSS_DIVISOR(mb, {k_out})")
    else:
        put("acc = 0.0")
        put("for i in range(mb):")
        put(f"    top = {z}[0, i]")
        put(f"    for j in range(1, {k_out}):")
        put(f"        top = max(top, {z}[j, i])")
        put("    s = zero")
        put(f"    for j in range({k_out}):")
        put(f"        e = np.exp({z}[j, i] - top)")
        put(f"        {dz}[j, i] = e")
        put("        s += e")
        put("    if epoch_cost:")
        put("        log_s = np.log(s)")
        put(f"        for j in range({k_out}):")
        put(f"            acc += LOSS_TERMS({z}[j, i] - top, log_s, y[j, i])")
        put(f"    for j in range({k_out}):")
        put(f"        {dz}[j, i] = LOSS_GRADIENT({dz}[j, i], s, y[j, i], FM)")
        put("cost = -acc / mb if epoch_cost else math.nan")
    put("if epoch_cost and not math.isfinite(cost):")
    put("    return total, t, epoch, batch, 1, t_start")
    # backward
    for index in range(n_layers, 0, -1):
        layer = layers[index - 1]
        a_in, a_out, d_in, d_out = f"a{index - 1}", f"a{index}", f"d{index - 1}", f"d{index}"
        ks = "".join(f", k{index}_{c}" for c in range(layer.n_constants))
        first_layer = index == 1
        if layer.kind == "dense":
            if layer.blas:
                put(_product(plan, a_in, f"{d_out}.T", f"dW{index}"))
            else:
                put(f"BATCH_DOTS({a_in}, {d_out}, dW{index}, mb, zero)")
            if layer.b_at >= 0 and layer.blas:
                put(_product(plan, d_out, "ones", f"db{index}"))
            elif layer.b_at >= 0:
                put(f"BATCH_SUMS({d_out}, db{index}, mb, zero)")
            if not first_layer:
                if layer.blas:
                    put(_product(plan, f"W{index}", d_out, d_in))
                else:
                    loop.extend(_sum_of_products(d_in, "k", layer.n_in, "j", layer.n_out, f"W{index}[k, j]", d_out, None))
            # the layer's own L2 and L1, then the global L2 (the NumPy engine's order)
            for c, formula in ((0, "L2"), (1, "L1")):
                put(f"if k{index}_{c} != zero:")
                put(f"    for k in range({layer.n_in}):")
                put(f"        for j in range({layer.n_out}):")
                put(f"            dW{index}[k, j] += {formula}(W{index}[k, j], k{index}_{c}, FM)")
        elif first_layer:
            if layer.kind == "batch_norm":
                b = bn_of[index]
                put(f"for j in range({layer.n_out}):")
                put("    sg = zero")
                put("    sb = zero")
                put("    for i in range(mb):")
                put(f"        sg += {d_out}[j, i] * zn{index}[j, i]")
                put(f"        sb += {d_out}[j, i]")
                put(f"    dgamma{index}[j] = sg")
                put(f"    dbeta{index}[j] = sb")
            continue
        elif layer.kind == "activation":
            loop.extend(_each(plan, layer.n_out, [f"{d_in}[j, i] = D{index}({d_out}[j, i], {a_in}[j, i], {a_out}[j, i]{ks})"]))
        elif layer.kind == "dropout":
            loop.extend(_each(plan, layer.n_out, [f"{d_in}[j, i] = APPLY{index}({d_out}[j, i], mask{index}[j, i], k{index}_0)"]))
        elif layer.kind == "batch_norm":
            b = bn_of[index]
            put("minus_inv_m = DT(-1.0 / mb)")
            put(f"for j in range({layer.n_out}):")
            put("    sg = zero")
            put("    sb = zero")
            put("    for i in range(mb):")
            put(f"        sg += {d_out}[j, i] * zn{index}[j, i]")
            put(f"        sb += {d_out}[j, i]")
            put(f"    dgamma{index}[j] = sg")
            put(f"    dbeta{index}[j] = sb")
            put(f"    gj = gamma{index}[j]")
            put(f"    inv = unit{b}[j]")
            put("    for i in range(mb):")
            put(f"        {d_in}[j, i] = INPUTGRAD{index}({d_out}[j, i], zn{index}[j, i], sg, sb, gj, inv, minus_inv_m)")
    put("lambd_ = DT(lambd)")
    put("if lambd_ != zero:")
    for index, layer in enumerate(layers, start=1):
        if layer.kind == "dense":
            put(f"    for k in range({layer.n_in}):")
            put(f"        for j in range({layer.n_out}):")
            put(f"            dW{index}[k, j] += L2(W{index}[k, j], lambd_, FM)")
    put("    pass")
    # the optimizer's rule over the flat vectors, with the gradient check folded in
    put("t += 1")
    put("oc = OPT_CONSTANTS(t, lr, *hyper_args)")
    n_constants = plan.names.get("n_opt_constants", "0")
    put("".join(f"o{c} = DT(oc[{c}]); " for c in range(int(n_constants))) or "pass")
    os_ = "".join(f", o{c}" for c in range(int(n_constants)))
    state_args = "".join(f", {name}[p]" for name in slots + inputs)
    put("bad = False")
    put("for p in range(params.size):")
    put("    g = grads[p]")
    put("    bad |= g - g != zero")
    put(f"    new = RULE(params[p], g{state_args}{os_})")
    put("    params[p] = new[0]")
    for i, name in enumerate(slots, start=1):
        put(f"    {name}[p] = new[{i}]")
    put("if bad:")
    put("    return total, t, epoch, batch, 2, t_start")
    put("if epoch_cost:")
    put("    total += cost * mb")
    put("    if batch_costs.size:")
    put("        batch_costs[batch] = cost")
    body.extend("        " + line for line in loop)
    body.append("    for p in range(params.size):  # an update that overflowed with a finite gradient")
    body.append("        if params[p] - params[p] != zero:")
    body.append("            return total, t, epoch, last - 1, 3, t_start")
    body.append("return total, t, -1, -1, 0, t_start")
    out.extend("    " + line for line in body)
    return "\n".join(out) + "\n"
