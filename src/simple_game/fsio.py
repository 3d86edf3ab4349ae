"""Files that are never half-written: atomic replace, fsync, and an advisory lock.

Every file that matters is written to a temporary name in the same directory, flushed to disk,
then renamed over the old one: a crash (even ``kill -9``) leaves either the old file or the new
one, never a torn one.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simple_game.errors import SimpleGameError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

TEMP_SUFFIX = ".tmp"  # in-progress writes: ``.<name>.<random>.tmp``, renamed when complete


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one.

    The bytes go to a temporary file in the same directory, are flushed to disk (``fsync``),
    and only then renamed over ``path``: a crash at any moment, even ``kill -9``, leaves the
    old file or the new one. Anything that goes wrong (disk full, Ctrl-C) removes the temporary
    file and leaves ``path`` untouched.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise SimpleGameError(f"{path}: cannot write ({_describe_os_error(exc)}); nothing was overwritten") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _default_file_mode())  # mkstemp makes 0600 files; use the usual umask
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise SimpleGameError(
                f"{path}: cannot write ({_describe_os_error(exc)}); nothing was overwritten"
            ) from None
        raise
    fsync_dir(path.parent)


def _describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "disk full: free some space or lower checkpoint.keep"
    return exc.strerror or str(exc)


@functools.lru_cache(maxsize=1)
def _default_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=json_default) + "\n")


def json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


def fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An advisory lock so two runs finishing together do not lose each other's row."""
    lock_path = path.with_name(f".{path.name}.lock")
    if fcntl is None:  # pragma: no cover - Windows: no advisory locks
        yield
        return
    with open(lock_path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks (datasets' shards, shipped agents)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
