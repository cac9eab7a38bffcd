"""Ctrl-C in the ``dnnimprove`` command: one line and status 130, never a traceback, never a crash.

Used only when the process is the command itself (the ``dnnimprove`` script or ``python -m
dnnimprove``, see :func:`is_command`); library users keep Python's own handling. Two phases:

* **Start-up** (:func:`guard`, the first statement of ``dnnimprove/__init__``, until ``main`` calls
  :func:`release`): Ctrl-C prints ``dnnimprove: interrupted`` and ends the process at once with 130
  (``os._exit``: nothing is running that could lose work).
* **The command** (after :func:`release`): Ctrl-C raises ``KeyboardInterrupt`` as Python's default
  does, so that ``main`` prints one line and a checkpointing ``fit`` writes its checkpoint, with two
  exceptions that end the process at once as in start-up:

  - Ctrl-C while a module is being imported (any frame of ``importlib``'s bootstrap on the stack). An
    exception raised inside an extension module's initialization can leave that module half built,
    and its teardown at interpreter exit may then abort the process (``Fatal Python error:
    PyThreadState_Get`` after an interrupted ``matplotlib.ft2font``, exit status -6).
  - A ``KeyboardInterrupt`` that Python had to swallow (raised inside a ``__del__``, a weak-reference
    callback, an ``atexit`` handler or the interpreter's shutdown, where it is only reported as
    "Exception ignored"): :func:`_unraisable` ends the process instead of letting the command carry
    on as if never interrupted, or print a traceback on its way out.

Not guarded: the interpreter's own start-up before ``dnnimprove/__init__`` runs (its encodings,
``site`` and ``runpy``, or the console script's first line), a few milliseconds: a Ctrl-C there gets
Python's default behaviour (killed by SIGINT before Python installs its handler, else a short
``KeyboardInterrupt`` traceback).
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["guard", "release", "is_command", "interrupt_seen"]

_seen = False
_label = "dnnimprove"


def interrupt_seen() -> bool:
    """Whether Ctrl-C arrived since :func:`release` (an import it interrupted may re-raise it as ImportError)."""
    return _seen


def _importing(frame: object) -> bool:
    """Whether ``frame`` or one of its callers runs ``importlib``'s bootstrap (a module is being imported)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):  # type: ignore[attr-defined]
            return True
        frame = frame.f_back  # type: ignore[attr-defined]
    return False


def _exit_interrupted() -> None:
    """Print ``<label>: interrupted`` and end the process with 130 without finalizing the interpreter."""
    try:
        try:
            sys.stdout.flush()  # what the command printed so far (best effort: never re-entered)
        except BaseException:
            pass
        os.write(2, f"{_label}: interrupted\n".encode())
    finally:
        os._exit(130)


def _keyboard_interrupt(signum: int, frame: object) -> None:
    """Python's default behaviour (raise KeyboardInterrupt), remembering that it happened; during an
    import, end the process at once instead (see the module docstring)."""
    global _seen
    _seen = True
    if _importing(frame):
        _exit_interrupted()
    raise KeyboardInterrupt


def _unraisable(unraisable: object) -> None:
    """``sys.unraisablehook`` of the command: a swallowed Ctrl-C ends the process; anything else is
    reported as Python reports it."""
    if _seen and isinstance(getattr(unraisable, "exc_value", None), KeyboardInterrupt):
        _exit_interrupted()
    sys.__unraisablehook__(unraisable)  # type: ignore[arg-type]


def is_command() -> bool:
    """Whether this process is the ``dnnimprove`` command (script or ``python -m dnnimprove``)."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1] in ("dnnimprove", "dnnimprove.cli"):
        return True
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    return script in ("dnnimprove", "dnnimprove.exe", "dnnimprove-script.py")


def _interrupted(signum: int, frame: object) -> None:
    _exit_interrupted()


def _install(handler: object) -> bool:
    """Make ``handler`` the SIGINT handler; ``False`` outside the main thread (where Python forbids it)."""
    try:
        signal.signal(signal.SIGINT, handler)  # type: ignore[arg-type]
    except ValueError:  # not the main thread (threading is not imported for this: start-up stays short)
        return False
    return True


def guard() -> None:
    """Install the start-up handler when this process is the command and Python's default is in place."""
    if is_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        _install(_interrupted)


def release(label: str = "dnnimprove") -> None:
    """Replace the start-up handler (when this process is the command) by one that raises
    ``KeyboardInterrupt`` as Python's default does and remembers it (:func:`interrupt_seen`), except
    during an import; ``label`` starts the line printed when it ends the process itself."""
    global _label
    if signal.getsignal(signal.SIGINT) is not _interrupted:
        return
    _label = label
    if _install(_keyboard_interrupt):
        if sys.unraisablehook is sys.__unraisablehook__:
            sys.unraisablehook = _unraisable

