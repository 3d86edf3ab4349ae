"""Which runs are seeds of one experiment, and why the others are kept apart.

An RL result is a distribution over seeds, so ``report`` (and the studies built on it) draws
the seeds of one experiment as a median with an interquartile band. Runs are pooled only when
they share a base name (``ppo_pong`` of ``ppo_pong_20240501-090000``) and every setting of
their resolved config.yaml is equal except the run-only ones
(:data:`simple_game.runs.RUN_ONLY_SETTINGS`: seed, device, logging, checkpoints, ...). The
budget counts: schedules and epsilon are functions of ``total_timesteps``.

A seed counts once. Two runs of one experiment with the same seed (a run killed before its
first checkpoint and then started again, or the same seed trained twice by hand) are not two
samples of the seed distribution, so only the one that got furthest is pooled and the other
is named as left out.

Light: reads YAML, JSON and eval.csv (:func:`final_score`), no numpy or matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

from simple_game.runs import RunRecord, is_run_only

_NOT_SET = object()
MAX_DIFFERENCES = 3  # keys named per kept-apart group; the rest are counted


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"env": {"game": "Pong"}}`` -> ``{"env.game": "Pong"}`` (lists stay values), in file order."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def experiment_settings(run: RunRecord) -> Optional[dict[str, Any]]:
    """The run's config as dotted keys without the run-only ones; ``None`` if config.yaml is unreadable."""
    data = run.config()
    return None if data is None else {k: v for k, v in flatten(data).items() if not is_run_only(k)}


@dataclass(frozen=True)
class Difference:
    """One setting in which a kept-apart group differs from the first group of its name."""

    key: str  # dotted: ``hyperparams.learning_rate``, or ``config.yaml`` when it could not be read
    value: Any  # in the kept-apart group
    reference: Any  # in the first group of the same name

    def __str__(self) -> str:
        return f"{self.key} ({_show(self.value)} vs {_show(self.reference)})"


def _show(value: Any) -> str:
    return "not set" if value is _NOT_SET else str(value)


@dataclass(frozen=True)
class SeedGroup:
    """Runs drawn as one experiment: a single run, or seeds pooled as median and IQR.

    ``label`` is the base name, ``name (config 2)`` and so on for a second config under the same
    name; ``differences`` then says how it differs from the first group of that name
    (``compared_with``), first keys in config order.
    """

    label: str
    base_name: str
    runs: tuple[RunRecord, ...]
    settings: Optional[dict[str, Any]]
    compared_with: Optional[str] = None
    differences: tuple[Difference, ...] = ()
    more_differences: int = 0  # differing keys beyond ``differences``
    repeats: tuple[RunRecord, ...] = ()  # runs left out: a seed already pooled by a run that got further

    @property
    def game(self) -> str:
        return str(self._setting("env.game", "game") or "unknown game")

    @property
    def algo(self) -> str:
        return str(self._setting("algo", "algo") or "unknown algo")

    @property
    def budget(self) -> Optional[int]:
        """``total_timesteps``: equal within a group, since the budget is part of what is pooled."""
        value = self._setting("total_timesteps", "total_timesteps")
        return value if isinstance(value, int) else None

    @property
    def seeds(self) -> list[Any]:
        return [_seed(run) for run in self.runs]

    def _setting(self, key: str, summary_key: str) -> Any:
        if self.settings and self.settings.get(key):
            return self.settings[key]
        return next((run.summary[summary_key] for run in self.runs if run.summary.get(summary_key)), None)


def _seed(run: RunRecord) -> Any:
    config = run.config() or {}
    return config.get("seed", run.summary.get("seed", "?"))


def final_score(run: RunRecord) -> Optional[float]:
    """A run's final score: the ``mean_score`` of its last evaluation in eval.csv, ``None`` before the first.

    The last evaluation is the one at the most agent steps (of two at the same step, as after
    a resume, the later row). It is the score of the policy the run ended with, measured the
    same way for every seed (the evaluation protocol is part of what is pooled).
    """
    rows = [row for row in run.directory.eval_rows() if not math.isnan(row["mean_score"])]
    if not rows:
        return None
    return max(enumerate(rows), key=lambda pair: (pair[1]["timesteps"], pair[0]))[1]["mean_score"]


def _progress(run: RunRecord) -> tuple[bool, float, int]:
    """How far a run got: finished first, then the most agent steps evaluated, then the steps saved."""
    rows = run.directory.eval_rows()
    evaluated = max((row["timesteps"] for row in rows), default=-1.0)
    steps = run.summary.get("steps_done")
    return (run.summary.get("status") == "finished", evaluated, steps if isinstance(steps, int) else -1)


def furthest(runs: Sequence[RunRecord]) -> RunRecord:
    """Of runs of one seed (oldest first), the one that got furthest; the newest of equals."""
    return max(reversed(runs), key=_progress)  # max() keeps the first of equals: reversed, the newest


def _one_per_seed(runs: Sequence[RunRecord]) -> tuple[tuple[RunRecord, ...], tuple[RunRecord, ...]]:
    """``(kept, repeats)``: of runs with one seed the :func:`furthest`; runs of unknown seed all kept."""
    by_seed: dict[Any, list[RunRecord]] = {}
    for run in runs:
        seed = _seed(run)
        if seed not in (None, "?"):
            by_seed.setdefault(seed, []).append(run)
    repeats: list[RunRecord] = []
    for same in by_seed.values():
        if len(same) > 1:
            kept = furthest(same)  # once per seed: it reads each run's eval.csv
            repeats += [run for run in same if run is not kept]
    left_out = {id(run) for run in repeats}
    return tuple(run for run in runs if id(run) not in left_out), tuple(repeats)


def group_seeds(runs: Sequence[RunRecord]) -> list[SeedGroup]:
    """Group ``runs`` into experiments, in order of first appearance (``runs`` oldest first), one run per seed."""
    members: list[tuple[str, Optional[dict[str, Any]], list[RunRecord]]] = []
    for run in runs:
        settings = experiment_settings(run)
        # an unreadable config.yaml cannot be shown to match anything: that run stays on its own
        same = (m for m in members if m[0] == run.base_name and settings is not None and m[1] == settings)
        entry = next(same, None)
        if entry is None:
            members.append((run.base_name, settings, [run]))
        else:
            entry[2].append(run)
    groups: list[SeedGroup] = []
    first_of: dict[str, SeedGroup] = {}
    for name, settings, found in members:
        n = sum(1 for g in groups if g.base_name == name) + 1
        kept, repeats = _one_per_seed(found)
        group = SeedGroup(name if n == 1 else f"{name} (config {n})", name, kept, settings, repeats=repeats)
        if name in first_of:
            group = _compared(group, first_of[name])
        else:
            first_of[name] = group
        groups.append(group)
    return groups


def _compared(group: SeedGroup, reference: SeedGroup) -> SeedGroup:
    """``group`` with the settings in which it differs from ``reference``."""
    if group.settings is None or reference.settings is None:
        diffs = [Difference("config.yaml", _readable(group.settings), _readable(reference.settings))]
    else:
        keys = list(reference.settings) + [k for k in group.settings if k not in reference.settings]
        diffs = [
            Difference(key, group.settings.get(key, _NOT_SET), reference.settings.get(key, _NOT_SET))
            for key in keys
            if group.settings.get(key, _NOT_SET) != reference.settings.get(key, _NOT_SET)
        ]
    return SeedGroup(
        group.label,
        group.base_name,
        group.runs,
        group.settings,
        compared_with=reference.label,
        differences=tuple(diffs[:MAX_DIFFERENCES]),
        more_differences=max(0, len(diffs) - MAX_DIFFERENCES),
        repeats=group.repeats,
    )


def _readable(settings: Optional[dict[str, Any]]) -> str:
    return "unreadable" if settings is None else "read"


def describe_pooling(groups: Sequence[SeedGroup]) -> list[str]:
    """One line per base name with more than one run: what was pooled and what was kept apart.

    ``pooled ppo_pong x3 (seeds 0, 1, 2); kept apart: ppo_pong_20240502-100000 differs in
    total_timesteps (512 vs 768), drawn as 'ppo_pong (config 2)'``
    """
    lines = []
    for name in dict.fromkeys(g.base_name for g in groups):
        family = [g for g in groups if g.base_name == name]
        if sum(len(g.runs) + len(g.repeats) for g in family) < 2:
            continue
        first, others = family[0], family[1:]
        line = f"pooled {_who(first)}" if len(first.runs) > 1 else f"{name}: 1 run (seed {first.seeds[0]})"
        if others:
            line += "; kept apart: " + "; ".join(_why_apart(g) for g in others)
        repeats = [run for g in family for run in g.repeats]
        if repeats:
            names = ", ".join(f"{run.path.name} (seed {_seed(run)})" for run in repeats)
            line += f"; left out, a seed already pooled from a run that got further: {names}"
        lines.append(line)
    return lines


def _who(group: SeedGroup) -> str:
    seeds = ", ".join(str(s) for s in group.seeds)
    return f"{group.label} x{len(group.runs)} (seeds {seeds})"


def _why_apart(group: SeedGroup) -> str:
    diffs = ", ".join(str(d) for d in group.differences)
    if group.more_differences:
        diffs += f" and {group.more_differences} more"
    if len(group.runs) == 1:
        return f"{group.runs[0].path.name} differs in {diffs}, drawn as '{group.label}'"
    return f"{_who(group)} differ in {diffs}"
