"""Ctrl-C and SIGTERM during training: never in the middle of a save.

While :func:`interrupt_handlers` is active, the first signal stops training at once, except
inside :func:`critical_section` (a checkpoint being written), where it waits until the block
ends; :func:`ignoring_interrupts` protects the final save after the first signal.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, Optional


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (save, write the summary, exit 130)."""


class _InterruptGuard:
    """While installed, the first SIGINT/SIGTERM raises ``KeyboardInterrupt``/:class:`Terminated`
    at once, except inside :func:`critical_section` (a save in progress), where it waits until
    the block ends. Later signals, and any inside :func:`ignoring_interrupts` (the final save),
    are only reported: the program is already stopping and must finish writing."""

    def __init__(self) -> None:
        self.depth = 0
        self.ignoring = 0
        self.pending: Optional[int] = None
        self.stopping = False

    def handle(self, signum: int, frame: Any) -> None:
        if self.stopping or self.ignoring > 0 or self.depth > 0:
            if not (self.stopping or self.ignoring):
                self.pending = signum
            print(
                f"\n{signal.Signals(signum).name}: saving, please wait (the last complete checkpoint stays valid)",
                file=sys.stderr,
                flush=True,
            )
            return
        self.raise_for(signum)

    def raise_for(self, signum: int) -> None:
        self.stopping = True
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


_GUARD = _InterruptGuard()


@contextlib.contextmanager
def interrupt_handlers(exiting: bool = False) -> Iterator[None]:
    """Install the guard's SIGINT and SIGTERM handlers for the duration of the block.

    ``exiting``: the process ends right after the block (a CLI). If it was interrupted, further
    signals stay ignored until exit, so a second Ctrl-C cannot turn a clean exit 130 into a crash.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _GUARD.stopping, _GUARD.pending = False, None
    previous = {sig: signal.signal(sig, _GUARD.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        ignore = exiting and _GUARD.stopping
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if ignore else handler)
        _GUARD.stopping, _GUARD.pending = False, None


@contextlib.contextmanager
def _counted(attr: str) -> Iterator[None]:
    """Raise one of the guard's nesting counters for the duration of the block."""
    setattr(_GUARD, attr, getattr(_GUARD, attr) + 1)
    try:
        yield
    finally:
        setattr(_GUARD, attr, getattr(_GUARD, attr) - 1)


@contextlib.contextmanager
def critical_section() -> Iterator[None]:
    """A signal arriving inside is raised when the block ends, so a save is never cut short."""
    with _counted("depth"):
        yield
    if _GUARD.depth == 0 and _GUARD.pending is not None and not _GUARD.ignoring:
        signum, _GUARD.pending = _GUARD.pending, None
        _GUARD.raise_for(signum)


@contextlib.contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """After the first Ctrl-C: further signals are reported but do not stop the final save."""
    try:
        with _counted("ignoring"):
            yield
    finally:
        _GUARD.pending = None
