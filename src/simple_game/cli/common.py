"""What every command shares: the error wrapper and argument types.

This module imports nothing heavy, so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import Optional

from simple_game.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, SimpleGameError

Main = Callable[[Optional[list[str]]], int]


def positive_int(text: str) -> int:
    """An ``argparse`` type for counts (episodes, steps, envs): a bad value is a usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cli_main(func: Callable[[list[str]], int]) -> Main:
    """Wrap a command's ``main(argv)``: user errors become ``error: ...`` and exit code 2.

    ``--debug`` anywhere in argv re-raises so the full traceback is shown.
    """

    @functools.wraps(func)
    def wrapper(argv: Optional[list[str]] = None) -> int:
        args = sys.argv[1:] if argv is None else list(argv)
        debug = "--debug" in args
        try:
            return func(args)
        except SimpleGameError as exc:
            if debug:
                raise
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        except KeyboardInterrupt:
            if debug:
                raise
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED

    return wrapper
