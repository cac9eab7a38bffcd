"""The compiled engine: a network's epoch as one numba call, built from the blocks' own formulas.

:class:`CompiledEngine` has the interface of :class:`dnnimprove.engine.NumpyEngine` (``begin_epoch``,
``epoch``, ``step``): ``epoch`` runs every mini-batch of the epoch in one call, ``step`` one mini-batch (for
a per-step schedule, per-iteration costs or a callback between mini-batches). The kernel is generated for
the network (:mod:`._generate`), compiled once and kept on disk (numba's cache, in a folder named by
``DNNIMPROVE_CACHE_DIR``, default ``~/.cache/dnnimprove``), so a later process loads it in milliseconds.

Random draws: the epoch's permutation and the dropout masks' uniform draws come from the model's random
source, through the same calls in the same order as the NumPy engine (the permutation at the epoch's start,
then per mini-batch and per dropout layer ``uniform((rows, units))``), so both engines see the same numbers.

What differs from the NumPy engine is only rounding: matrix products add in index order and the gradients'
sums over the batch in vector lanes (BLAS blocks its sums differently), and numba may evaluate a float32
``expm1``/``log1p`` in float64.
Parameters agree to about 1e-12 relative after hundreds of float64 steps (``tests/test_compiled.py``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..batches import Batches, NonFinite
from ..ewma import ewma_step
from ..layers import Activation, BatchNorm, Dense, Dropout
from ..losses import CategoricalCrossEntropy
from ..regularizers import l1_gradient, l2_gradient
from ._batch_sums import batch_dots, batch_sums, jit_options
from ._blas import gemm, gemv, numpy_blas
from ._formulas import jitable
from ._legacy_random import LANES, SCRATCH_WORDS, legacy_permutations
from ._generate import BLAS_FROM, LayerPlan, Plan, generate, row_width
from ._support import mark_broken, numba_module

__all__ = ["CompiledEngine", "CompileFailed"]

_WHAT = {1: "cost", 2: "gradient", 3: "parameters"}
_KERNELS: dict[str, Callable[..., Any]] = {}


class CompileFailed(RuntimeError):
    """numba could not compile the kernel (a broken installation, or a formula numba cannot type)."""


def _kernel_draws(model: Any) -> bool:
    """Whether the kernel can draw from the model's generator itself: a plain generator source, and numba's
    implementation of NumPy's bit-generator calls importable."""
    from ..random import GeneratorSource

    if type(model.random) is not GeneratorSource:
        return False
    try:
        from numba.np.random.generator_core import next_double, next_float  # noqa: F401
        from numba.np.random.random_methods import random_interval  # noqa: F401
    except ImportError:  # pragma: no cover - another numba: draw from Python
        return False
    return True


def _legacy_shuffle(model: Any) -> bool:
    """Whether the kernel draws the course's reseeded shuffles itself: the model draws from
    :class:`dnnimprove.CourseRandom` and nothing else draws from NumPy's global stream (no dropout)."""
    from ..random import CourseRandom

    return type(model.random) is CourseRandom and not any(isinstance(layer, Dropout) for layer in model.layers)


def _plan(model: Any, optimizer: Any) -> tuple[Plan, dict[str, Callable[..., Any]], list[float]]:
    """The kernel's plan, the formula functions it calls (its globals) and the layers' constants ``lc``."""
    tensors = {(info.layer, info.key): info for info in model.table}
    functions: dict[str, Callable[..., Any]] = {"EWMA": ewma_step, "L2": l2_gradient, "L1": l1_gradient,
                                                "BATCH_DOTS": batch_dots, "BATCH_SUMS": batch_sums}
    constants: list[float] = []
    layers: list[LayerPlan] = []
    width = model.n_features_in_
    n_bn = 0
    for index, layer in enumerate(model.layers):
        position = index + 1
        kind = type(layer)
        if isinstance(layer, Dense):
            weight, bias = tensors[(index, "W")], tensors.get((index, "b"))
            plan = LayerPlan("dense", width, layer.units, weight.start, -1 if bias is None else bias.start,
                             len(constants), 2, blas=width * layer.units >= BLAS_FROM)
            values = [layer.l2, layer.l1]
        elif isinstance(layer, Activation):
            values = [float(value) for value in layer.constants()]
            plan = LayerPlan("activation", width, width, const_at=len(constants), n_constants=len(values))
            functions[f"F{position}"], functions[f"D{position}"] = kind.function, kind.derivative
        elif isinstance(layer, Dropout):
            values = [layer.keep_prob]
            plan = LayerPlan("dropout", width, width, const_at=len(constants), n_constants=1)
            functions[f"KEEP{position}"], functions[f"APPLY{position}"] = kind.keep, kind.apply
        elif isinstance(layer, BatchNorm):
            values = [layer.epsilon, layer.momentum, 1 - layer.momentum, 1.0]
            plan = LayerPlan("batch_norm", width, width, tensors[(index, "gamma")].start, tensors[(index, "beta")].start,
                             len(constants), 4)
            for global_name, name in (("INVSTD", "inverse_std"), ("NORMALIZE", "normalize"),
                                      ("SCALESHIFT", "scale_shift"), ("INPUTGRAD", "input_gradient")):
                functions[f"{global_name}{position}"] = getattr(kind, name)
            n_bn += 1
        else:  # pragma: no cover - unsupported_reason refuses it first
            raise ValueError(f"layers[{index}] ({kind.__name__}) has no compiled form")
        constants += values
        layers.append(plan)
        width = plan.n_out
    loss = type(model.loss)
    softmax = isinstance(model.loss, CategoricalCrossEntropy)
    functions["LOSS_TERMS"], functions["LOSS_GRADIENT"] = loss.terms, loss.gradient_terms
    n_loss_constants = 0
    if not softmax:
        functions["LOSS_CONSTANTS"], functions["LOSS_DIVISOR"] = loss.constants, loss.cost_divisor
        n_loss_constants = len(loss.constants(2, width))
    optimizer_type = type(optimizer)
    functions["OPT_CONSTANTS"], functions["RULE"] = optimizer_type.constants, optimizer_type.rule
    n_opt_constants = len(optimizer_type.constants(1, 0.1, *optimizer.hyperparameters()))
    legacy = _legacy_shuffle(model)
    if legacy:
        functions["LEGACY_PERMUTATIONS"] = legacy_permutations
    numpy_gemm = any(layer.blas for layer in layers) and numpy_blas(model.dtype) is not None
    if numpy_gemm:
        functions["GEMM"], functions["GEMV"] = gemm, gemv
    plan = Plan(str(model.dtype), layers, "softmax" if softmax else "elementwise", n_loss_constants,
                len(optimizer.slots), len(optimizer.inputs), len(optimizer.hyperparameters()), n_bn,
                {"n_opt_constants": str(n_opt_constants)}, legacy=legacy, draws=_kernel_draws(model),
                gemm=numpy_gemm)
    return plan, functions, constants


def _cache_dir() -> Path | None:
    root = os.environ.get("DNNIMPROVE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "dnnimprove")
    path = Path(root) / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def _fingerprint(source: str, functions: dict[str, Callable[..., Any]]) -> str | None:
    """A hash of the kernel text and of every formula's source (None when a source cannot be read: no disk cache)."""
    memo_key = (source, *((name, id(function)) for name, function in sorted(functions.items())))
    if memo_key in _FINGERPRINTS:
        return _FINGERPRINTS[memo_key]
    digest = hashlib.sha256(source.encode())
    digest.update(f"{_numba_version()} {np.__version__} {sys.version}".encode())
    for name in sorted(functions):
        function = getattr(functions[name], "__func__", functions[name])
        text = _source_text(function)
        if text is None:
            return None
        digest.update(f"{name}:{function.__module__}.{function.__qualname__}:{text}".encode())
        for called in function.__code__.co_names:  # the plain functions a formula calls (ewma_step, where, ...)
            value = function.__globals__.get(called)
            if inspect.isfunction(value):
                text = _source_text(value)
                if text is None:
                    return None
                digest.update(text.encode())
    _FINGERPRINTS[memo_key] = key = digest.hexdigest()[:24]
    return key


def _source_text(function: Callable[..., Any]) -> str | None:
    """``inspect.getsource(function)``, read once per function object (None when it cannot be read)."""
    if function not in _SOURCES:
        try:
            _SOURCES[function] = inspect.getsource(function)
        except (OSError, TypeError):
            _SOURCES[function] = None
    return _SOURCES[function]


_SOURCES: dict[Callable[..., Any], str | None] = {}


_FINGERPRINTS: dict[tuple, str] = {}  # per source text and formula objects: reading the sources takes milliseconds


@functools.cache
def _numba_version() -> str:
    """numba's version, from its installed metadata (without importing it; read once: a metadata lookup scans
    every installed distribution, milliseconds)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("numba")
    except PackageNotFoundError:  # pragma: no cover - imported from a source tree
        return numba_module().__version__


def _load_kernel_blas() -> None:
    """Load the BLAS that numba's ``np.dot`` calls (SciPy's, another library than NumPy's) and, when this loads
    it, give it the thread count NumPy's BLAS has now: a ``with dn.blas_threads(1):`` entered before it was
    loaded then holds for the kernels' matrix products too."""
    if "scipy.linalg.cython_blas" in sys.modules:
        return
    from threadpoolctl import ThreadpoolController

    before = {library.filepath: library.num_threads for library in ThreadpoolController().select(user_api="blas").lib_controllers}
    import scipy.linalg.cython_blas  # noqa: F401

    threads = min(before.values(), default=None)
    if threads is None:  # pragma: no cover - NumPy without a BLAS threadpoolctl knows
        return
    for library in ThreadpoolController().select(user_api="blas").lib_controllers:
        if library.filepath not in before and library.num_threads != threads:
            library.set_num_threads(threads)


_STEPS_SEEN: dict[str, int] = {}  # kernel key -> steps of short runs this process has run with it on NumPy


def ready_for(model: Any, optimizer: Any, steps: int, min_steps: int) -> bool:
    """Whether ``engine="auto"`` compiles a short run (fewer than ``min_steps`` steps) of this network: its kernel
    is in this process's memo or in numba's disk cache (it loads in milliseconds), or this process has now run
    ``min_steps`` steps of this very network (then one compilation pays off, in this process and the next).
    Imports no numba; False when the network cannot be planned (``unsupported_reason`` says why)."""
    try:
        plan, functions, _ = _plan(model, optimizer)
        key = _fingerprint(generate(plan), functions)
    except Exception:  # pragma: no cover - a network the engine refuses anyway
        return False
    if key is None:
        return False
    if key in _KERNELS:
        return True
    folder = _cache_dir()
    if folder is not None and key in _keys_on_disk(folder):
        return True
    _STEPS_SEEN[key] = seen = _STEPS_SEEN.get(key, 0) + steps
    return seen >= min_steps


_ON_DISK: dict[Path, set[str]] = {}  # cache folder -> keys of the kernels numba's disk cache held when first asked


def _keys_on_disk(folder: Path) -> set[str]:
    """The keys of the kernels in numba's disk cache under ``folder`` (its index files ``kernel_<key>.run-*.nbi``),
    listed once per process: a kernel this process compiles is in its memo from then on."""
    if folder not in _ON_DISK:
        try:
            names = os.listdir(folder / "__pycache__")
        except OSError:
            names = []
        _ON_DISK[folder] = {name[len("kernel_"):].split(".", 1)[0] for name in names
                            if name.startswith("kernel_") and ".run-" in name and name.endswith(".nbi")}
    return _ON_DISK[folder]


def _kernel(plan: Plan, functions: dict[str, Callable[..., Any]]) -> Callable[..., Any]:
    """The compiled ``run`` of this plan: from this process's memo, from numba's disk cache, or compiled now."""
    source = generate(plan)
    key = _fingerprint(source, functions)
    memo = key or source
    if memo in _KERNELS:
        return _KERNELS[memo]
    numba = numba_module()
    for function in functions.values():
        jitable(function, **jit_options(function))
    folder = _cache_dir() if key is not None else None
    cache = folder is not None
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="dnnimprove-kernel-"))
        key = key or hashlib.sha256(source.encode()).hexdigest()[:24]
    path = folder / f"kernel_{key}.py"
    if not path.exists():
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text("# generated by dnnimprove.compiled from the blocks' formulas; safe to delete\n" + source)
        os.replace(temporary, path)
    spec = importlib.util.spec_from_file_location(f"dnnimprove_kernel_{key}", path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(functions)  # the formulas, as globals of the generated code
    sys.modules[spec.name] = module  # numba's disk cache finds the kernel's globals through it
    spec.loader.exec_module(module)
    kernel = numba.njit(cache=cache, nogil=True, error_model="numpy")(module.run)
    _KERNELS[memo] = kernel
    return kernel


class CompiledEngine:
    """One epoch (or one mini-batch) of ``fit`` as one compiled call; see the module docstring.

    Parameters are those of :class:`dnnimprove.engine.NumpyEngine`: the training run (model, optimizer, state,
    data, L2), the mini-batch size, whether to shuffle, and ``augment``: None or an
    :class:`dnnimprove.augmentation.Augmentation`, applied an epoch ahead (at :meth:`begin_epoch`: the
    permutation, then every mini-batch's draws in the NumPy engine's order, applied to all rows at once, the
    same numbers as batch by batch); the kernel then reads the augmented epoch in order.

    Raises
    ------
    CompileFailed
        When numba cannot compile the kernel (after one warning; the caller then runs the NumPy engine).
    """

    name = "compiled"

    def __init__(self, run: Any, batch_size: int | None, shuffle: bool, augment: Any = None) -> None:
        model, optimizer, state = run.model, run.optimizer, run.state
        optimizer.check_state(model.params, model.grads, state)
        self.run = run
        dtype = model.dtype
        self.X = np.ascontiguousarray(run.X, dtype=dtype)
        self.Y = np.ascontiguousarray(run.Y, dtype=dtype)
        self.batches = Batches(run.X, run.Y, batch_size, shuffle)
        m = self.X.shape[0]
        self.B = self.batches.size
        self.plan, functions, constants = _plan(model, optimizer)
        self.dropouts = [(layer.n_out) for layer in self.plan.layers if layer.kind == "dropout"]
        self.bn_layers = [layer for layer in model.layers if isinstance(layer, BatchNorm)]
        self.units = [np.empty(layer.input_dim, dtype=dtype) for layer in self.bn_layers]
        self.work = np.zeros(row_width(self.plan) * self.B, dtype=dtype)
        self.work[-self.B:] = 1  # the kernel's "ones" (bias gradients of BLAS layers)
        self.lc = np.array(constants, dtype=np.float64)
        self.hyper = np.array(optimizer.hyperparameters(), dtype=np.float64)
        self.orders = np.arange(m, dtype=np.int64).reshape(1, m)  # the kernel writes in-kernel permutations here
        self.no_draws = np.zeros(0, dtype=dtype)
        self.no_costs = np.zeros(0, dtype=np.float64)
        self.generator = model.random.generator if self.plan.draws else None
        if self.plan.legacy:  # [first epoch's seed or -1, scratch]; the kernel's LANES permutations: see _permutations
            self.generator = np.full(1 + SCRATCH_WORDS, -1, dtype=np.int64)
            self.lane_orders = np.empty((LANES, m), dtype=np.int64)
        self.shuffle = self.batches.shuffled
        self.augment = augment
        self.inputs = (self.X, self.Y)  # what the kernel reads: the training set, or the augmented epoch
        if augment is not None:  # unsupported_reason lets through only an Augmentation, no dropout, a Generator
            self.inputs = (np.empty_like(self.X), np.empty_like(self.Y))
            self.shuffle = False  # the rows come in the epoch's order already
        self.one_lr = np.zeros(1, dtype=np.float64)  # step()'s learning rate
        self.blas = numpy_blas(dtype) if self.plan.gemm else ()  # NumPy's CBLAS (gemm, gemv) for the BLAS layers
        self.kept = self._kept()
        self.keeps = tuple(array.copy() for array in self.kept)
        self.t_start = state.t
        self.epoch_index = 0
        try:
            if any(layer.blas for layer in self.plan.layers) and not self.plan.gemm:
                _load_kernel_blas()
            self.kernel = _kernel(self.plan, functions)
            self._call(0, 0, np.zeros(1), False, self.no_draws, warm_up=True)  # compiles now (or loads), no batch
        except (ImportError, OSError) as error:  # a broken installation: NumPy from now on
            raise CompileFailed(mark_broken(error)) from error
        except numba_module().core.errors.NumbaError as error:  # a formula numba cannot compile
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise CompileFailed(f"numba could not compile this network ({type(error).__name__}: {first})") from error

    @property
    def chunks(self) -> bool:
        """Whether :meth:`epochs` may run several epochs in one call (its random draws then come from the kernel,
        or from Python ahead of time when nothing but the permutations is drawn)."""
        return (self.plan.draws or not self.dropouts) and self.augment is None

    def _kept(self) -> tuple[np.ndarray, ...]:
        """What the divergence guard restores (the kernel copies it at every epoch's start): the parameters, the
        optimizer's slots, the batch-norm running statistics."""
        state = self.run.state
        arrays = [self.run.model.params, *[getattr(state, key) for key in self.run.optimizer.slots]]
        for layer in self.bn_layers:
            arrays += [layer.running_mean, layer.running_var]
        return tuple(arrays)

    def restore(self) -> None:
        """Put back the start of the epoch that failed (parameters, optimizer state, batch-norm statistics)."""
        for array, keep in zip(self._kept(), self.keeps):
            np.copyto(array, keep)
        self.run.state.t = self.t_start

    def _arrays(self) -> tuple[np.ndarray, ...]:
        state = self.run.state
        arrays = [getattr(state, key) for key in self.run.optimizer.slots + self.run.optimizer.inputs]
        for layer, unit in zip(self.bn_layers, self.units):
            arrays += [layer.running_mean, layer.running_var, unit]
        return tuple(arrays)

    def _call(self, first: int, last: int, lrs: np.ndarray, need_cost: bool, uniforms: np.ndarray,
              warm_up: bool = False, first_epoch: int = 0, costs: np.ndarray | None = None) -> float:
        run = self.run
        model = run.model
        total, t, bad_epoch, bad_batch, what, t_start = self.kernel(
            *self.inputs, self.orders, first, last, self.B, model.params, model.grads, self.work, self.lc,
            self.hyper, uniforms, *self._arrays(), *self.keeps, lrs, run.state.t, float(run.l2), bool(need_cost),
            self.generator, self.shuffle and not warm_up, self.no_costs if costs is None else costs, self.blas,
        )
        if warm_up:
            return 0.0
        run.state.t = t
        if first == 0:
            self.t_start = t_start
        if what:
            raise NonFinite(bad_batch, _WHAT[what], first_epoch + bad_epoch)
        return total

    def _uniforms(self, first: int, last: int) -> np.ndarray:
        """The dropout layers' draws for mini-batches ``first .. last - 1``, in the NumPy engine's order."""
        if not self.dropouts or self.plan.draws:
            return self.no_draws
        source, dtype = self.run.model.random, self.run.model.dtype
        draws = []
        for index in range(first, last):
            source.start_forward()  # the course's stream reseeds at every forward pass
            draws += [source.uniform((self.batch_rows(index), units), dtype).ravel() for units in self.dropouts]
        return np.concatenate(draws).astype(dtype, copy=False)

    @property
    def n_batches(self) -> int:
        return len(self.batches.items)

    def batch_rows(self, index: int) -> int:
        start, stop = self.batches.items[index][:2]
        return stop - start

    def _permutations(self, first_epoch: int, count: int, in_kernel: bool = False) -> None:
        """The permutations of ``count`` epochs from ``first_epoch``, drawn from Python (the kernel draws its own;
        ``in_kernel``: the course's reseeded shuffles too, see :meth:`epochs`)."""
        if self.plan.legacy:
            self.generator[0] = self.run.model.random.shuffle_seed + first_epoch + 1 if in_kernel else -1
            if in_kernel:
                self.orders = self.lane_orders
                return
        if self.batches.shuffled and not self.plan.draws:
            source, m = self.run.model.random, self.X.shape[0]
            self.orders = np.stack([np.asarray(source.permutation(m, epoch), dtype=np.int64)
                                    for epoch in range(first_epoch, first_epoch + count)])

    def begin_epoch(self, epoch: int) -> None:
        if self.augment is not None:
            self._augment_epoch(epoch)
        else:
            self._permutations(epoch, 1)
        self.epoch_index = epoch

    def _augment_epoch(self, epoch: int) -> None:
        """The epoch's rows in its order, augmented: the permutation, every mini-batch's draws, then one apply."""
        from ..augmentation import draw_batches

        source, X = self.run.model.random, self.X
        if self.batches.shuffled:
            order = np.asarray(source.permutation(X.shape[0], epoch), dtype=np.intp)
            X = X.take(order, 0, self.inputs[0])  # the epoch's rows in order, augmented below
            self.Y.take(order, 0, self.inputs[1])
        else:
            np.copyto(self.inputs[1], self.Y)
        shapes = [(stop - start, X.shape[1]) for start, stop, *_ in self.batches.items]
        drawn = draw_batches(self.augment, shapes, source, X.dtype)
        np.copyto(self.inputs[0], self.augment.apply(X, drawn), casting="unsafe")

    def step(self, index: int, lr: float, need_cost: bool) -> float:
        """Mini-batch ``index``: returns its data cost (NaN when not needed)."""
        self.one_lr[0] = lr  # one array for every mini-batch's call, not one per call
        total = self._call(index, index + 1, self.one_lr, need_cost,
                           self._uniforms(index, index + 1), first_epoch=self.epoch_index)
        return total / self.batch_rows(index) if need_cost else float("nan")

    def epoch(self, lr: float, need_cost: bool, costs: np.ndarray | None = None) -> float:
        """Every mini-batch in one call; returns the sum of ``cost * rows``. ``costs`` (float64, one per mini-batch;
        with ``need_cost``) receives each mini-batch's data cost."""
        return self._call(0, self.n_batches, np.array([lr], dtype=np.float64), need_cost,
                          self._uniforms(0, self.n_batches), first_epoch=self.epoch_index, costs=costs)

    def epochs(self, first_epoch: int, lrs: np.ndarray, need_cost: bool) -> float:
        """Epochs ``first_epoch ..`` (one per learning rate in ``lrs``) in one call; returns the last epoch's sum
        of ``cost * rows`` (costs are computed for the last epoch only, when ``need_cost``)."""
        legacy = self.plan.legacy and self.batches.shuffled
        self._permutations(first_epoch, lrs.size, in_kernel=legacy)
        reached = first_epoch + lrs.size - 1
        try:
            return self._call(0, self.n_batches, lrs, need_cost, self._uniforms(0, self.n_batches),
                              first_epoch=first_epoch)
        except NonFinite as failure:
            reached = failure.epoch if failure.epoch is not None else reached
            raise
        finally:
            if legacy:  # NumPy's global stream as the NumPy engine leaves it: after the last epoch's shuffle
                self.run.model.random.permutation(self.X.shape[0], reached)

    def check_parameters(self) -> None:
        """Nothing to do: the kernel checks the parameters at the end of every call."""
