"""One trainer per run directory: an advisory lock held for as long as a process trains the run.

Two processes training one run would interleave their checkpoints, logs and ``summary.json``
(a second ``train --resume`` of a run still training, or a study started again while the first
one runs). ``train`` holds an exclusive ``flock`` on ``<run>/.training.lock`` from before it
reads the checkpoint until it exits; the kernel drops the lock when the process dies, even by
``kill -9``, so a crashed run never stays locked. The file keeps the holder's pid for messages.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Optional

from simple_game.errors import SimpleGameError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, no protection
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".training.lock"


@contextlib.contextmanager
def training_lock(run_path: Path) -> Iterator[None]:
    """Hold ``run_path``'s training lock, or refuse with a one-line error when another process holds it."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    try:
        fh = open(run_path / LOCK_NAME, "a+")
    except OSError as exc:
        raise SimpleGameError(f"{run_path}: cannot write its training lock ({exc.strerror or exc})") from None
    with fh:
        if not _try_lock(fh):
            raise SimpleGameError(
                f"{run_path}: another process is training this run ({_holder(fh)}); "
                "wait for it to end or stop it first (Ctrl-C saves and exits)"
            )
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def held_for_training(
    run_path: Path, *, already_held: bool = False, on_refused: Optional[Callable[[], None]] = None
) -> Iterator[None]:
    """:func:`training_lock`, unless this process holds it already; ``on_refused`` runs before the refusal."""
    if already_held:
        yield
        return
    held = contextlib.ExitStack()
    try:
        held.enter_context(training_lock(run_path))
    except SimpleGameError:
        if on_refused is not None:
            on_refused()
        raise
    with held:
        yield


def trainer_of(run_path: Path) -> Optional[str]:
    """Who holds ``run_path``'s training lock (``"pid 123"``), or None when no process trains it now."""
    lock = run_path / LOCK_NAME
    if fcntl is None or not lock.is_file():
        return None
    with open(lock) as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(fh)
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def _try_lock(fh: IO[str], tries: int = 10) -> bool:
    """The exclusive lock, tried for about a second: :func:`trainer_of` may hold a shared one for an instant."""
    for attempt in range(tries):
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt < tries - 1:
                time.sleep(0.1)
    return False


def _holder(fh: IO[str]) -> str:
    try:
        with open(fh.name) as again:
            pid = again.read().strip()
    except OSError:
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "a running process"
