"""A block's element-wise formula run in place: the same ufunc calls, written into buffers allocated once.

A formula of the toolkit (an optimizer rule, an activation, a loss gradient, dropout) is written once, as
NumPy expressions (see :mod:`dnnimprove._elementwise`). Run as written on arrays, every operation returns a
new array: an Adam step makes about ten temporaries the size of the model. :func:`in_place` traces the
formula once, on the real arguments, into a straight-line list of ufunc calls, and returns a program that
repeats exactly those calls, in the same order, on the same operands, each writing into a buffer:

- an output bound to an argument (``into``) is written into that argument (a parameter vector, a moment),
  as soon as the argument's old value is read for the last time;
- every other intermediate goes to a workspace the program owns, reused as soon as its value is dead;
- an output bound to nothing lives in a workspace too, which the program returns and overwrites at its
  next call (the caller keeps it only until then, e.g. one training step).

Same calls on the same operands give the same numbers: a ufunc rounds the same whether it allocates its
result or writes it into ``out`` (``np.where`` becomes two ``np.copyto``, a selection, which copies values
unchanged). Operations between numbers only (``lr * weight_decay``) are repeated at every call, as numbers.

A program is specialized to the shapes and dtypes of the arrays it was traced with, and to the truth of any
number the formula tests with ``if`` (momentum's ``nesterov``): when such a number changes, the program
returns None and the caller traces again.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["in_place", "Program", "Workspace", "OwnsWorkspace"]

_ARG, _NODE, _LIT = 0, 1, 2


class _Trace:
    """What a traced call recorded: operations, the outputs and the truth tests on numbers."""

    def __init__(self) -> None:
        self.ops: list[tuple[Any, list[tuple[int, Any]], Any]] = []  # (ufunc or "where", inputs, value)
        self.guards: list[tuple[int, bool]] = []  # (argument index, truth) for numbers tested with `if`


class _Value:
    """A traced value: an argument or the result of a recorded operation; carries its real value."""

    __slots__ = ("trace", "ref", "value")

    def __init__(self, trace: _Trace, ref: tuple[int, Any], value: Any) -> None:
        self.trace, self.ref, self.value = trace, ref, value

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs or ufunc.nout != 1:
            raise TypeError(f"in_place: a formula may call ufuncs plainly only; got {ufunc.__name__}.{method}")
        return _record(self.trace, ufunc, inputs)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if function is np.where and not kwargs and len(args) == 3:
            return _record(self.trace, "where", args)
        raise TypeError(f"in_place: a formula may not call {getattr(function, '__name__', function)}")

    def __bool__(self) -> bool:
        kind, index = self.ref
        if kind != _ARG or np.ndim(self.value) != 0:
            raise TypeError("in_place: only a number argument may be tested with `if` in a formula")
        truth = bool(self.value)
        self.trace.guards.append((index, truth))
        return truth

    # Python's operators, as the ufuncs NumPy maps them to
    def __add__(self, other): return _record(self.trace, np.add, (self, other))
    def __radd__(self, other): return _record(self.trace, np.add, (other, self))
    def __sub__(self, other): return _record(self.trace, np.subtract, (self, other))
    def __rsub__(self, other): return _record(self.trace, np.subtract, (other, self))
    def __mul__(self, other): return _record(self.trace, np.multiply, (self, other))
    def __rmul__(self, other): return _record(self.trace, np.multiply, (other, self))
    def __truediv__(self, other): return _record(self.trace, np.true_divide, (self, other))
    def __rtruediv__(self, other): return _record(self.trace, np.true_divide, (other, self))
    def __pow__(self, other): return _record(self.trace, np.power, (self, other))
    def __rpow__(self, other): return _record(self.trace, np.power, (other, self))
    def __neg__(self): return _record(self.trace, np.negative, (self,))
    def __abs__(self): return _record(self.trace, np.absolute, (self,))
    def __lt__(self, other): return _record(self.trace, np.less, (self, other))
    def __le__(self, other): return _record(self.trace, np.less_equal, (self, other))
    def __gt__(self, other): return _record(self.trace, np.greater, (self, other))
    def __ge__(self, other): return _record(self.trace, np.greater_equal, (self, other))

    __hash__ = None  # type: ignore[assignment]


def _record(trace: _Trace, operation: Any, inputs: Sequence[Any]) -> _Value:
    """Evaluate ``operation`` on the real values (as the formula would) and record it."""
    refs, values = [], []
    for item in inputs:
        if isinstance(item, _Value):
            if item.trace is not trace:  # pragma: no cover - a value kept from another trace
                raise TypeError("in_place: a value from another trace")
            refs.append(item.ref)
            values.append(item.value)
        else:
            refs.append((_LIT, item))
            values.append(item)
    value = np.where(*values) if operation == "where" else operation(*values)
    trace.ops.append((operation, refs, value))
    return _Value(trace, (_NODE, len(trace.ops) - 1), value)


class Program:
    """A traced formula: ``program(*arrays, *numbers)`` runs it in place and returns its outputs (a tuple),
    or None when a number the formula tests with ``if`` changed its truth (trace again). See the module
    docstring; ``workspaces`` are the buffers it owns."""

    def __init__(self, run: Callable[..., Any], workspaces: list[np.ndarray], source: str) -> None:
        self.run, self.workspaces, self.source = run, workspaces, source

    def __call__(self, *args: Any) -> tuple[Any, ...] | None:
        return self.run(*args)


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.ndim > 0


def in_place(formula: Callable[..., Any], args: Sequence[Any], into: Sequence[int | None]) -> Program:
    """Trace ``formula(*args)`` and return the :class:`Program` that repeats it in place.

    Parameters
    ----------
    formula : callable
        An element-wise formula returning one value or a tuple of them.
    args : sequence
        Its arguments, arrays (``ndim >= 1``) and numbers (NumPy scalars, 0-d arrays, Python numbers), in its
        order; the program takes arguments of the same kinds, shapes and dtypes.
    into : sequence of int or None, one per output
        The argument each output is written into (it must be an array of the output's shape and dtype), or
        None for a workspace of the program's, returned and overwritten at the next call.
    """
    trace = _Trace()
    proxies = [_Value(trace, (_ARG, index), value) for index, value in enumerate(args)]
    result = formula(*proxies)
    outputs = result if isinstance(result, tuple) else (result,)
    if len(outputs) != len(into):
        raise ValueError(f"in_place: the formula returns {len(outputs)} values; into has {len(into)}")
    return _compile(trace, list(args), list(outputs), list(into), isinstance(result, tuple))


def _spec(value: Any) -> tuple[tuple[int, ...], np.dtype]:
    return value.shape, value.dtype


def _compile(trace: _Trace, args: list[Any], outputs: list[Any], into: list[int | None], as_tuple: bool) -> Program:
    ops = trace.ops
    n_ops = len(ops)
    end = n_ops  # "read by the outputs": alive to the end
    last_use: dict[tuple[int, Any], int] = {}
    for position, (_, refs, _) in enumerate(ops):
        for ref in refs:
            if ref[0] != _LIT:
                last_use[ref] = position
    output_refs = [item.ref if isinstance(item, _Value) else (_LIT, item) for item in outputs]
    for ref in output_refs:
        if ref[0] != _LIT:
            last_use[ref] = end
    # where each output should end: an argument buffer, or None (any workspace)
    destination_of: dict[int, int] = {}  # node -> argument index
    written_at: dict[int, int] = {}  # argument index -> the op computing its output
    for ref, target in zip(output_refs, into):
        if target is None:
            continue
        if not _is_array(args[target]):
            raise ValueError(f"in_place: into names argument {target}, which is not an array")
        if ref[0] == _NODE and ref[1] not in destination_of and target not in written_at:
            value = ops[ref[1]][2]
            if _is_array(value) and _spec(value) == _spec(args[target]):
                destination_of[ref[1]] = target
                written_at[target] = ref[1]
    # buffers: ("arg", index) for an argument array the program may overwrite, ("ws", k) for a workspace
    workspaces: list[np.ndarray] = []
    holder: dict[tuple[str, int], int | None] = {}  # buffer -> node it holds (None: free)
    where_is: dict[int, tuple[str, int]] = {}  # node -> buffer
    writable = set(written_at)

    def free_at(position: int) -> list[tuple[str, int]]:
        """Buffers whose content is dead after op ``position`` reads it."""
        freed = []
        for buffer, node in holder.items():
            if node is not None and last_use.get((_NODE, node), -1) <= position and destination_of.get(node) is None:
                freed.append(buffer)
        return freed

    def argument_free(index: int, position: int) -> bool:
        """Whether argument ``index``'s buffer may be written at op ``position``: its old value is dead."""
        return last_use.get((_ARG, index), -1) <= position

    lines: list[str] = []
    names: dict[str, Any] = {"np": np}
    literals: list[Any] = []

    def operand(ref: tuple[int, Any]) -> str:
        kind, what = ref
        if kind == _ARG:
            return f"a{what}"
        if kind == _NODE:
            buffer = where_is.get(what)
            return f"n{what}" if buffer is None else _buffer_name(buffer)
        literals.append(what)
        names[f"lit{len(literals) - 1}"] = what
        return f"lit{len(literals) - 1}"

    ufunc_names: dict[Any, str] = {}

    def ufunc_name(ufunc: Any) -> str:
        if ufunc not in ufunc_names:
            ufunc_names[ufunc] = f"u{len(ufunc_names)}"
            names[ufunc_names[ufunc]] = ufunc
        return ufunc_names[ufunc]

    for position, (operation, refs, value) in enumerate(ops):
        inputs = [operand(ref) for ref in refs]
        if not _is_array(value):  # numbers only: repeated as a number
            if operation == "where":
                lines.append(f"n{position} = np.where({', '.join(inputs)})")
            else:
                lines.append(f"n{position} = {ufunc_name(operation)}({', '.join(inputs)})")
            continue
        spec = _spec(value)
        # a dead input of the same shape and dtype may be overwritten by this op (ufuncs allow exact overlap)
        if operation != "where":
            for buffer in free_at(position):
                holder[buffer] = None
        choice: tuple[str, int] | None = None
        target = destination_of.get(position)
        if target is not None and argument_free(target, position) and holder.get(("arg", target)) is None:
            choice = ("arg", target)
        if choice is None:
            for buffer, node in holder.items():
                if node is None and buffer[0] == "ws" and _spec(workspaces[buffer[1]]) == spec:
                    choice = buffer
                    break
        if choice is None and target is None:  # an argument whose own output comes later: dead now, free till then
            for index in sorted(writable):
                if (holder.get(("arg", index)) is None and argument_free(index, position)
                        and _spec(args[index]) == spec and written_at[index] > position
                        and last_use.get((_NODE, position), position) <= written_at[index]):
                    choice = ("arg", index)
                    break
        if choice is None:
            workspaces.append(np.empty(spec[0], spec[1]))
            choice = ("ws", len(workspaces) - 1)
        if operation == "where":
            for buffer in free_at(position):
                if buffer != choice:
                    holder[buffer] = None
        holder[choice] = position
        where_is[position] = choice
        out = _buffer_name(choice)
        if operation == "where":
            condition, x, y = inputs
            lines.append(f"np.copyto({out}, {y}, casting='unsafe')")
            lines.append(f"np.copyto({out}, {x}, casting='unsafe', where={condition})")
        else:
            keyword = "out=" if operation in (np.maximum, np.minimum) else ""  # positional out deprecated there
            lines.append(f"{ufunc_name(operation)}({', '.join(inputs)}, {keyword}{out})")
    # the outputs: in their argument already, or copied there; the others returned
    returned = []
    for ref, target in zip(output_refs, into):
        text = operand(ref)
        if target is not None:
            if not (ref[0] == _NODE and where_is.get(ref[1]) == ("arg", target)) and ref != (_ARG, target):
                lines.append(f"np.copyto(a{target}, {text}, casting='unsafe')")
            text = f"a{target}"
        returned.append(text)
    guard = " or ".join(f"{'not ' if truth else ''}a{index}" for index, truth in trace.guards)
    body = ([f"if {guard}:", "    return None"] if guard else []) + lines
    body.append(f"return ({', '.join(returned)},)" if as_tuple or len(returned) != 1 else f"return ({returned[0]},)")
    for k, buffer in enumerate(workspaces):
        names[f"w{k}"] = buffer
    source = f"def run({', '.join(f'a{i}' for i in range(len(args)))}):\n" + "".join(f"    {line}\n" for line in body)
    namespace: dict[str, Any] = {}
    exec(compile(source, "<dnnimprove.in_place>", "exec"), dict(names), namespace)  # noqa: S102 - our own text
    return Program(namespace["run"], workspaces, source)


def _buffer_name(buffer: tuple[str, int]) -> str:
    return f"a{buffer[1]}" if buffer[0] == "arg" else f"w{buffer[1]}"


class Workspace:
    """A block's in-place programs, one per formula and per shape and dtype of its first two arguments.

    ``run(formula, args)`` traces ``formula`` for arguments of a new shape (at most ``limit`` kept) and runs
    it in place; the other arguments' shapes must follow from the first two (as a layer's do). Its outputs
    live in the program's workspaces: valid until the next ``run`` of the same formula and shape.
    """

    __slots__ = ("programs", "limit")

    def __init__(self, limit: int = 16) -> None:
        self.programs: dict[tuple, Program] = {}
        self.limit = limit

    def __deepcopy__(self, memo: dict) -> Workspace:  # a copy traces its own programs: never shares buffers
        return Workspace(self.limit)

    def __reduce__(self) -> tuple:
        return (Workspace, (self.limit,))

    def run(self, formula: Callable[..., Any], args: Sequence[Any], into: Sequence[int | None] = (None,)) -> tuple:
        first, second = args[0], args[1]
        key = (formula, first.shape, first.dtype, getattr(second, "shape", None), getattr(second, "dtype", None))
        program = self.programs.get(key)
        if program is not None:
            result = program.run(*args)
            if result is not None:
                return result
        if len(self.programs) >= self.limit:
            self.programs.clear()
        program = self.programs[key] = in_place(formula, args, into)
        return program.run(*args)


class OwnsWorkspace:
    """A block (layer or loss) whose in-place programs and their buffers live with it, made when first used."""

    @property
    def workspace(self) -> Workspace:
        """The block's in-place programs and their buffers (see :func:`in_place`)."""
        workspace = self.__dict__.get("_workspace")
        if workspace is None:
            workspace = self.__dict__["_workspace"] = Workspace()
        return workspace
