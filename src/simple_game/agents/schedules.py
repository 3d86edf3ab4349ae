"""Schedules across ``train --resume`` with a larger budget: no jump at the resumed step.

SB3 evaluates every schedule at ``progress_remaining = 1 - t / T``. Resuming with a larger
budget ``T1`` than the ``T0`` the checkpoint trained toward would move every schedule back up
at once (PPO resumed from 1,024 to 4,096 steps: its learning rate x5.7).

The rule here (``continue``, the default): from the value it had at the checkpoint, each
schedule goes on to its final value over the added steps, in the same shape. SB3 still passes
``p = 1 - t / T1``; each schedule sees ``k * p`` instead, with ``k = p0 * T1 / (T1 - t0)``
where ``t0`` is the checkpoint's step and ``p0 = 1 - t0 / T0`` the progress its schedules were
at. So at ``t0`` it sees ``p0`` (no jump) and at ``T1`` it sees 0 (the final value); ``k = 1``
when the budget did not change. A checkpoint that had finished its budget (``p0 = 0``) keeps
every schedule at its final value: ``stretch`` is the way to anneal again.

``stretch``: SB3's plain behaviour, every schedule re-stretched over the new budget (``k = 1``).

Covered: the learning rate (every algorithm), PPO's ``clip_range`` and ``clip_range_vf``,
DQN/QR-DQN's exploration rate. ``k`` is saved with the model: in its ``learning_rate``, the
hyperparameter SB3 rebuilds ``lr_schedule`` from when it loads a checkpoint (SB3 rebuilds the
exploration schedule too, from its three hyperparameters, so that one is wrapped again on each
resume); the scales of several resumes multiply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stable_baselines3.common.utils import FloatSchedule

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

CONTINUE = "continue"
STRETCH = "stretch"
SCHEDULE_MODES = (CONTINUE, STRETCH)

# (attribute on the model, name in logs and console). ``lr_schedule`` is what SB3 calls.
_SCHEDULES = (
    ("lr_schedule", "learning_rate"),
    ("clip_range", "clip_range"),
    ("clip_range_vf", "clip_range_vf"),
    ("exploration_schedule", "exploration_rate"),
)


@dataclass(frozen=True)
class ProgressScaled:
    """``schedule(scale * progress_remaining)``: a schedule continued over a new budget.

    A module-level class, so SB3 can pickle it into a checkpoint and a fresh process load it.
    """

    schedule: Callable[[float], float]
    scale: float

    def __call__(self, progress_remaining: float) -> float:
        return float(self.schedule(self.scale * progress_remaining))

    def __repr__(self) -> str:
        return f"ProgressScaled({self.schedule!r}, scale={self.scale:g})"


@dataclass(frozen=True)
class ScheduleChange:
    """What resuming did to the schedules: the scale, and each schedule's values."""

    mode: str
    scale: float
    end_step: int
    values: list[tuple[str, float, float, float]]  # (name, at the checkpoint, at the resumed step, at the end)

    def describe(self) -> str:
        """``schedules (continue: <the rule>): learning_rate 0.000125 -> 0; clip_range 0.05 -> 0 at 1,024``.

        Each schedule's value at the resumed step, then at the new end; a value that moved away
        from the checkpoint's (``stretch``) also says what it was.
        """
        if not self.values:
            return ""
        parts = []
        for name, before, now, end in self.values:
            jump = f" (was {before:.3g} at the checkpoint)" if abs(now - before) > 1e-12 * max(1.0, abs(before)) else ""
            parts.append(f"{name} {now:.3g}{jump} -> {end:.3g}")
        rule = (
            "from the checkpoint's values to their final ones over the added steps"
            if self.mode == CONTINUE
            else "re-stretched over the whole new budget, as plain SB3 does"
        )
        note = ""
        if self.mode == CONTINUE and self.scale == 0.0:
            note = "; they had reached their final values: --schedules stretch anneals them again"
        return f"schedules ({self.mode}: {rule}): {'; '.join(parts)} at {self.end_step:,}{note}"


def base_schedule(schedule: Any) -> Any:
    """The config's own schedule under SB3's ``FloatSchedule`` and our :class:`ProgressScaled` layers."""
    while isinstance(schedule, (FloatSchedule, ProgressScaled)):
        schedule = schedule.value_schedule if isinstance(schedule, FloatSchedule) else schedule.schedule
    return schedule


def schedule_scale(model: BaseAlgorithm) -> float:
    """The scale the model's schedules run with now (1.0 unless a resume rescaled them)."""
    schedule = getattr(model, "lr_schedule", None)
    while isinstance(schedule, FloatSchedule):
        schedule = schedule.value_schedule
    return schedule.scale if isinstance(schedule, ProgressScaled) else 1.0


def resume_schedules(model: BaseAlgorithm, total_timesteps: int, previous_scale: float, mode: str) -> ScheduleChange:
    """Rescale a just-loaded model's schedules for a run that now ends at ``total_timesteps``.

    ``previous_scale``: :func:`schedule_scale` of the loaded model (1.0 if never rescaled).
    Call before ``learn``: SB3 then replaces ``model._total_timesteps`` (the checkpoint's budget,
    read here) with the new one. The budget may also shrink; the rule is the same.
    """
    step, old_total = int(model.num_timesteps), int(getattr(model, "_total_timesteps", 0) or 0)
    p_old = max(0.0, 1.0 - step / old_total) if old_total > 0 else 1.0
    p_now = 1.0 - step / total_timesteps
    if mode == STRETCH:
        scale = 1.0
    elif old_total <= 0 or p_now <= 0:
        scale = previous_scale  # nothing to go on (or nothing left to train): leave the schedules as saved
    else:
        scale = previous_scale * p_old / p_now
    values = []
    for attribute, name in _SCHEDULES:
        current = getattr(model, attribute, None)
        if current is None or not callable(current):
            continue
        base = base_schedule(current)
        rescaled = ProgressScaled(base, scale) if scale != 1.0 else base
        values.append((name, float(base(previous_scale * p_old)), float(rescaled(p_now)), float(rescaled(0.0))))
        _set_schedule(model, attribute, rescaled)
    if hasattr(model, "exploration_schedule"):
        model.exploration_rate = model.exploration_schedule(p_now)  # type: ignore[attr-defined]
    return ScheduleChange(mode, scale, total_timesteps, values)


def _set_schedule(model: BaseAlgorithm, attribute: str, schedule: Callable[[float], float]) -> None:
    """Put ``schedule`` where SB3 reads it, as SB3 would have built it.

    The learning rate also goes into ``model.learning_rate``, the hyperparameter SB3 rebuilds
    ``lr_schedule`` from when it loads a checkpoint: the scale is saved with the model that way,
    and the next resume reads it back (:func:`schedule_scale`). A plain number stays a number.
    """
    if attribute == "exploration_schedule":
        setattr(model, attribute, schedule)
        return
    if attribute == "lr_schedule" and (isinstance(schedule, ProgressScaled) or callable(model.learning_rate)):
        model.learning_rate = schedule if isinstance(schedule, ProgressScaled) else base_schedule(model.learning_rate)
    setattr(model, attribute, FloatSchedule(schedule))
