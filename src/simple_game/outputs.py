"""Output paths checked before work starts.

A command that plays a hundred games or rebuilds a table and only then finds that its output
folder is a file has wasted the user's time and may have written half its outputs. So every
command checks each place it will write, before it starts, with these two functions: they
create nothing, and a problem is one line naming the flag and the path::

    check_writable_dir(args.out, "--out")            # a folder that is, or can be made, writable
    check_writable_file(args.json, "--json")         # a file whose folder is, or can be made, writable

Both raise :class:`~simple_game.errors.SimpleGameError` (one line, exit 2 through ``cli_main``).
Light: no imports beyond the standard library.
"""

from __future__ import annotations

import os
from pathlib import Path

from simple_game.errors import SimpleGameError


def check_writable_dir(path: Path, what: str) -> Path:
    """Check that files can be written into the folder ``path`` (made later if missing); return it.

    ``what`` names where the path came from (``--out``, ``run folder``) for the message. The
    folder need not exist: then its nearest existing ancestor must be a folder we may create
    folders in. A file in the way, a parent that is a file, or a place without write permission
    raise a one-line :class:`SimpleGameError`.
    """
    path = Path(path)
    problem = _dir_problem(path)
    if problem:
        raise SimpleGameError(f"{what} {path}: {problem}")
    return path


def check_writable_file(path: Path, what: str) -> Path:
    """Check that the file ``path`` can be written (replaced atomically, so its folder must be writable).

    A folder where the file should be, or a folder that :func:`check_writable_dir` would refuse,
    raise a one-line :class:`SimpleGameError`. Returns ``path``.
    """
    path = Path(path)
    if path.is_dir():
        raise SimpleGameError(f"{what} {path}: is a folder, not a file (give a file name)")
    problem = _dir_problem(path.parent)
    if problem:
        raise SimpleGameError(f"{what} {path}: its folder {path.parent} {problem}")
    return path


def _dir_problem(path: Path) -> str:
    """Why files cannot be written into the folder ``path``, or ``""`` when they can."""
    if path.exists() and not path.is_dir():
        return "is a file, not a folder (choose another folder or move the file)"
    existing = path
    while not existing.exists():
        if existing.is_symlink():
            return f"cannot be created: {existing} is a broken symbolic link"
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot be created: {existing} is a file"
    if not os.access(existing, os.W_OK | os.X_OK):
        return (
            "is not writable (permission denied)"
            if existing == path
            else (f"cannot be created: {existing} is not writable (permission denied)")
        )
    return ""
