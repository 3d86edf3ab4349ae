"""One exception type for user errors, and the CLI wrapper that turns it into one line.

A user error (bad config, missing checkpoint, unknown game) is not a bug: the user gets a
single clear line on stderr and exit code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Callable

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class SimpleGameError(Exception):
    """A problem the user can fix: the message says what, where, and what is allowed."""


def positive_int(text: str) -> int:
    """An ``argparse`` type for counts (episodes, steps, envs): a bad value is a usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cli_main(func: Callable[..., int]) -> Callable[..., int]:
    """Wrap a CLI ``main(argv)``: user errors become ``error: ...`` and exit code 2.

    ``--debug`` anywhere in argv re-raises so the full traceback is shown.
    """

    @functools.wraps(func)
    def wrapper(argv: list[str] | None = None) -> int:
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
