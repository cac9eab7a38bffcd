"""Ctrl-C while the ``dnnimprove`` command starts: one line and status 130, never a traceback.

Importing the toolkit takes a noticeable moment; a ``KeyboardInterrupt`` raised inside those imports
would reach the interpreter before :func:`dnnimprove.cli.main` can catch it. When (and only when) the
process is the command itself (the ``dnnimprove`` script or ``python -m dnnimprove``), :func:`guard`
replaces the SIGINT handler for the duration of the start-up by one that prints
``dnnimprove: interrupted`` and exits with 130; :func:`release`, the first thing ``main`` does, puts
Python's default handler back, so that training sees Ctrl-C as ``KeyboardInterrupt`` again (and
checkpoints on it). Library users are never affected.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

__all__ = ["guard", "release", "is_command", "interrupt_seen"]

_seen = False


def interrupt_seen() -> bool:
    """Whether Ctrl-C arrived since :func:`release` (an import it interrupted may re-raise it as ImportError)."""
    return _seen


def _keyboard_interrupt(signum: int, frame: object) -> None:
    """Python's default behaviour (raise KeyboardInterrupt), remembering that it happened."""
    global _seen
    _seen = True
    raise KeyboardInterrupt


def is_command() -> bool:
    """Whether this process is the ``dnnimprove`` command (script or ``python -m dnnimprove``)."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1] in ("dnnimprove", "dnnimprove.cli"):
        return True
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    return script in ("dnnimprove", "dnnimprove.exe", "dnnimprove-script.py")


def _interrupted(signum: int, frame: object) -> None:
    try:
        os.write(2, b"dnnimprove: interrupted\n")
    finally:
        os._exit(130)


def guard() -> None:
    """Install the start-up handler when this process is the command and Python's default is in place."""
    if threading.current_thread() is not threading.main_thread() or not is_command():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted)


def release() -> None:
    """Replace the start-up handler (when this process is the command) by one that raises
    ``KeyboardInterrupt`` as Python's default does and remembers it (:func:`interrupt_seen`)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is _interrupted:
        signal.signal(signal.SIGINT, _keyboard_interrupt)
