"""How a training run ended: the one map from what stopped it to a status and an exit code.

=============  ==========  =========================================================
status         exit code   when
=============  ==========  =========================================================
finished       0           the budget was reached
interrupted    130         Ctrl-C or SIGTERM: a checkpoint is saved, ``--resume`` goes on
failed         3           training diverged (NaN/inf); the last good checkpoint is kept
failed         2           a user error, e.g. a full disk while saving
crashed        (raised)    anything else is a bug: recorded, then the exception propagates
=============  ==========  =========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional

from simple_game.callbacks import TrainingDiverged, divergence_reason
from simple_game.errors import EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_USER_ERROR, SimpleGameError


@dataclass(frozen=True)
class Outcome:
    """A status for ``summary.json``, the process exit code, and the error message if it failed."""

    status: str
    exit_code: int
    failure: Optional[str] = None
    cause: Optional[BaseException] = None  # the exception that ended training, if any


FINISHED = Outcome("finished", 0)


def outcome_of(exc: BaseException, model: Any) -> Optional[Outcome]:
    """The outcome an exception out of training means, or ``None`` for a crash (a bug)."""
    if isinstance(exc, KeyboardInterrupt):  # also SIGTERM (simple_game.interrupts.Terminated)
        return Outcome("interrupted", EXIT_INTERRUPTED, cause=exc)
    if isinstance(exc, TrainingDiverged):
        return Outcome("failed", EXIT_DIVERGED, f"training diverged: {exc}", exc)
    if isinstance(exc, SimpleGameError):
        return Outcome("failed", EXIT_USER_ERROR, str(exc), exc)
    reason = divergence_reason(exc, model)
    return Outcome("failed", EXIT_DIVERGED, f"training diverged: {reason}", exc) if reason else None


def attempt(action: Callable[[], object], model: Any, on_crash: Callable[[BaseException], None]) -> Optional[Outcome]:
    """Run ``action``: ``None`` when it returns, else the :func:`outcome_of` what it raised.

    A crash calls ``on_crash`` (to mark the run ``crashed``) and re-raises, traceback intact.
    """
    try:
        action()
    except (KeyboardInterrupt, Exception) as exc:
        outcome = outcome_of(exc, model)
        if outcome is None:
            on_crash(exc)
            raise
        return outcome
    return None
