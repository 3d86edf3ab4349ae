"""The seeds of a study: ``--seeds`` and ``--parallel`` read, and what each (variant, seed) still needs.

A study is re-runnable: each (variant, seed) is looked up among the run folders first. A run
of the same name, seed and settings (the config as resolved, less the run-only settings of
:data:`simple_game.runs.RUN_ONLY_SETTINGS`) that finished is kept; one that was interrupted
(Ctrl-C, a crash, ``kill -9``) is resumed from its latest checkpoint; only what is missing is
trained from scratch. A run that failed (diverged, or a user error such as a full disk) is
reported and not retried: resume or delete it by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from simple_game.config import ExperimentConfig, dump_config
from simple_game.errors import SimpleGameError
from simple_game.pooling import experiment_settings, flatten
from simple_game.runlock import trainer_of
from simple_game.runs import RunDirectory, RunRecord, is_run_only, read_summary_file
from simple_game.studies.membership import Member

NEW, RESUME, DONE, FAILED, RUNNING = "new", "resume", "done", "failed", "running"


def parse_seeds(text: str) -> list[int]:
    """``3`` -> seeds 0, 1, 2 (a count); ``0,1,2`` or ``4,7`` -> those seeds (a list, no repeats)."""
    allowed = "a count such as 3 (seeds 0, 1, 2) or a list such as 0,1,2 of whole numbers >= 0, no repeats"
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not re.fullmatch(r"\d+", part) for part in parts):
        raise SimpleGameError(f"--seeds: {text!r} is not {allowed}")
    numbers = [int(part) for part in parts]
    if len(numbers) == 1 and "," not in text:
        if numbers[0] < 1:
            raise SimpleGameError(f"--seeds: {text!r} trains no seed ({allowed})")
        return list(range(numbers[0]))
    if len(set(numbers)) != len(numbers):
        raise SimpleGameError(f"--seeds: {text!r} repeats a seed ({allowed})")
    return numbers


def parse_parallel(text: Optional[str], runs: int) -> int:
    """``--parallel N``: at least 1 and at most the number of runs of the study (``None``: 1)."""
    if text is None:
        return 1
    if not re.fullmatch(r"\s*\d+\s*", text) or not 1 <= int(text) <= runs:
        raise SimpleGameError(
            f"--parallel: {text!r} is not allowed (a whole number from 1 to {runs}, the number of runs of this study)"
        )
    return int(text)


def planned_settings(cfg: ExperimentConfig) -> dict[str, Any]:
    """What a run of ``cfg`` must have in its config.yaml to count as that run: the settings, run-only ones left out."""
    data = yaml.safe_load(dump_config(cfg))
    return {k: v for k, v in flatten(data).items() if not is_run_only(k)}


@dataclass(frozen=True)
class Job:
    """One (variant, seed) of a study and what it needs: a ``new`` run, a ``resume``, nothing (``done``, ``failed``)."""

    member: Member
    action: str
    run: Optional[Path] = None  # the existing run, for resume, done and failed
    note: str = ""

    def describe(self) -> str:
        where = f" {self.run}" if self.run else ""
        return f"{self.member.run_name}: {self.action}{where}{f' ({self.note})' if self.note else ''}"


def plan_job(member: Member, settings: dict[str, Any], runs_dir: Path) -> Job:
    """What ``member`` needs, from the run folders under ``runs_dir`` of its name, seed and ``settings``."""
    runs = _runs_of(member, settings, runs_dir)
    statuses = [(run, run.summary.get("status")) for run in runs]
    for run, status in statuses:
        if status == "finished":
            return Job(member, DONE, run.path)
    for run, _ in statuses:  # another study (or a train --resume) is training it now: leave it alone
        holder = trainer_of(run.path)
        if holder is not None:
            return Job(member, RUNNING, run.path, f"being trained by another process ({holder})")
    resumable = [run for run, status in statuses if status != "failed" and run.directory.latest_checkpoint()]
    if resumable:
        newest = resumable[-1]
        return Job(member, RESUME, newest.path, f"was {newest.summary.get('status') or 'killed'}")
    failed = [run for run, status in statuses if status == "failed"]
    if failed:
        reason = str(failed[-1].summary.get("failure") or "failed")
        return Job(member, FAILED, failed[-1].path, f"{reason}; not retried: resume or delete it by hand")
    if statuses:  # killed before its first checkpoint: nothing to resume; report pools only the furthest run
        return Job(member, NEW, note=f"{statuses[-1][0].path.name} was killed before its first checkpoint")
    return Job(member, NEW)


def _runs_of(member: Member, settings: dict[str, Any], runs_dir: Path) -> list[RunRecord]:
    """Run folders ``<run_name>_<stamp>`` under ``runs_dir`` with the member's seed and settings, oldest first."""
    pattern = re.compile(re.escape(member.run_name) + r"_\d{8}-\d{6}(-\d+)?")
    found = []
    for path in sorted(Path(runs_dir).iterdir()) if Path(runs_dir).is_dir() else []:
        if not (pattern.fullmatch(path.name) and (path / "config.yaml").is_file()):
            continue
        summary_path = path / "summary.json"
        try:
            summary = read_summary_file(summary_path) if summary_path.is_file() else {}
        except SimpleGameError:
            summary = {}  # damaged: treated as a run that did not say how it ended
        run = RunRecord(RunDirectory(path), summary)
        if (run.config() or {}).get("seed") == member.seed and experiment_settings(run) == settings:
            found.append(run)
    return found


def plan_jobs(members: Sequence[tuple[Member, dict[str, Any]]], runs_dir: Path) -> list[Job]:
    """:func:`plan_job` for each ``(member, settings)``, in the order given."""
    return [plan_job(member, settings, runs_dir) for member, settings in members]
