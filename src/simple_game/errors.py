"""One exception type for user errors, and the exit codes every command shares.

A user error (bad config, missing checkpoint, unknown game) is not a bug: the command layer
(:func:`simple_game.cli.common.cli_main`) prints it as one line on stderr and exits 2.
A path the machine refuses (``OSError``) is shown the same way; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


class SimpleGameError(Exception):
    """A problem the user can fix: the message says what, where, and what is allowed."""


class ConfigError(SimpleGameError):
    """A config file (or ``--set`` override) is malformed."""
