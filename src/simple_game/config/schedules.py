"""Hyperparameter schedules: values that change as training progresses.

SB3 calls a schedule with ``progress_remaining``, which falls from 1.0 at the first step to
0.0 at the last. Annealing the learning rate (and PPO's clip range) towards zero is part of
the tuned Atari recipe: large steps early to learn fast, small steps late to settle.

Two spellings are accepted in YAML:

- ``lin_2.5e-4``: linear from 2.5e-4 down to 0 (the RL Zoo spelling);
- ``{schedule: linear, start: 2.5e-4, end: 1.0e-5}`` or ``{schedule: constant, value: 3e-4}``.

A plain number is a constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from simple_game.config.numbers import finite_number

SCHEDULABLE = ("learning_rate", "clip_range", "clip_range_vf")


@dataclass(frozen=True)
class LinearSchedule:
    """``start`` at the beginning of training, ``end`` at the end, a straight line between."""

    start: float
    end: float = 0.0

    def __call__(self, progress_remaining: float) -> float:
        # SB3 stops only between rollouts, so the last one can overshoot the budget and hand in a
        # negative progress: hold the end value there instead of going past it.
        progress = min(max(progress_remaining, 0.0), 1.0)
        return self.end + progress * (self.start - self.end)

    def __str__(self) -> str:
        return f"linear({self.start:g} -> {self.end:g})"


Schedule = Union[float, LinearSchedule]

SCHEDULE_HELP = "a number, 'lin_<start>' or {schedule: linear, start: X, end: Y} / {schedule: constant, value: X}"


def parse_schedule(value: Any) -> Schedule:
    """Turn a YAML value into a float or a :class:`LinearSchedule`; ``ValueError`` if malformed."""
    if isinstance(value, bool):
        raise ValueError(f"expected {SCHEDULE_HELP}, got {value!r}")
    if isinstance(value, (int, float)):
        return finite_number(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.startswith("lin_"):
                return LinearSchedule(start=finite_number(text[4:]), end=0.0)
            return finite_number(text)
        except ValueError:
            raise ValueError(f"bad schedule {value!r}: expected {SCHEDULE_HELP}") from None
    if isinstance(value, dict):
        kind = value.get("schedule")
        keys = set(value)
        if kind == "linear" and keys <= {"schedule", "start", "end"} and "start" in keys:
            return LinearSchedule(start=finite_number(value["start"]), end=finite_number(value.get("end", 0.0)))
        if kind == "constant" and keys == {"schedule", "value"}:
            return finite_number(value["value"])
        raise ValueError(f"bad schedule {value!r}: expected {SCHEDULE_HELP}")
    raise ValueError(f"bad schedule {value!r}: expected {SCHEDULE_HELP}")


def schedule_to_yaml(value: Schedule) -> Any:
    """The inverse of :func:`parse_schedule`, for writing the resolved config."""
    if isinstance(value, LinearSchedule):
        return {"schedule": "linear", "start": value.start, "end": value.end}
    return value
