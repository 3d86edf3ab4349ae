"""A study, top to bottom: configs checked, each (variant, seed) planned, the missing runs trained, the outcome told.

Two kinds share this path: the seeds of one config (``train --config X --seeds 3``) and an
ablation series (``simple-game study <folder> --seeds 3``, :mod:`~simple_game.studies.series`).
Everything that can be refused is refused before the first run starts: every config of the
series is loaded and checked, the runs folder and the experiment log are checked writable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from simple_game.config import load_config
from simple_game.config.schema import safe_name
from simple_game.errors import EXIT_INTERRUPTED, SimpleGameError
from simple_game.experiment_log import default_log_path
from simple_game.outputs import check_writable_dir, check_writable_file
from simple_game.studies.launcher import Launcher, Result, echo_line
from simple_game.studies.membership import Member, write_member
from simple_game.studies.seeds import (
    DONE,
    FAILED,
    NEW,
    RESUME,
    RUNNING,
    Job,
    parse_parallel,
    parse_seeds,
    plan_jobs,
    planned_settings,
)
from simple_game.studies.series import read_series

EXIT_NOT_ALL_FINISHED = 1


@dataclass(frozen=True)
class StudyPlan:
    """Every (variant, seed) of a study with the settings its run must have, and how many train at once."""

    members: list[tuple[Member, dict[str, Any]]]
    parallel: int
    overrides: tuple[str, ...]  # the user's --set, applied to every new run


def seed_study(
    config: str, overrides: Sequence[str], name: Optional[str], seeds: str, parallel: Optional[str]
) -> StudyPlan:
    """``train --config X --seeds S``: one member per seed, the study named after the experiment."""
    seed_list = parse_seeds(seeds)
    workers = parse_parallel(parallel, len(seed_list))
    _check_overrides(overrides)
    cfg = load_config(config, overrides=list(overrides), name=name)
    settings = planned_settings(cfg)
    members = [(Member(cfg.name, "seeds", cfg.name, 1, seed, str(config)), settings) for seed in seed_list]
    return StudyPlan(members, workers, tuple(overrides))


def series_study(
    folder: str | Path, overrides: Sequence[str], name: Optional[str], seeds: str, parallel: Optional[str]
) -> StudyPlan:
    """``study FOLDER --seeds S``: every variant (in file-name order) for every seed; every config checked first."""
    series = read_series(folder)
    seed_list = parse_seeds(seeds)
    workers = parse_parallel(parallel, len(series.variants) * len(seed_list))
    _check_overrides(overrides)
    study = _safe_study_name(name or series.name)
    members = []
    for variant in series.variants:
        member = Member(
            study, "series", variant.name, variant.index, 0, str(variant.path), str(series.path), series.description
        )
        settings = planned_settings(load_config(variant.path, overrides=list(overrides), name=member.experiment))
        members += [(replace(member, seed=seed), settings) for seed in seed_list]
    return StudyPlan(members, workers, tuple(overrides))


def _safe_study_name(name: str) -> str:
    try:
        return safe_name(name)
    except ValueError as exc:
        raise SimpleGameError(f"--name: {exc}") from None


def _check_overrides(overrides: Sequence[str]) -> None:
    for item in overrides:
        if item.split("=", 1)[0].strip() in ("seed", "name"):
            raise SimpleGameError(f"--set {item}: a study sets each run's seed and name itself (use --seeds, --name)")


def run_study(
    plan: StudyPlan,
    *,
    runs_dir: str | Path = "runs",
    experiments_md: Optional[str | Path] = None,
    dry_run: bool = False,
    echo: Callable[[str], None] = echo_line,
) -> int:
    """Train what ``plan`` still misses (see :func:`~simple_game.studies.seeds.plan_job`); returns the exit code.

    0 when every (variant, seed) has a finished run, 130 when Ctrl-C or SIGTERM stopped it, else 1.
    """
    runs_root = Path(runs_dir)
    check_writable_dir(runs_root, "--runs-dir")
    log = Path(experiments_md) if experiments_md else default_log_path(runs_root)
    check_writable_file(log, "experiment log (--experiments-md)")
    jobs = plan_jobs(plan.members, runs_root)
    for job in jobs:
        if job.run is not None and job.action in (DONE, FAILED):
            write_member(job.run, job.member)
    echo(_plan_line(jobs))
    if dry_run:
        for job in jobs:
            echo(f"  {job.describe()}")
        return 0
    todo = [job for job in jobs if job.action in (NEW, RESUME)]
    at_once = min(plan.parallel, max(1, len(todo)))  # the CPU is divided among the runs that really share it
    launcher = Launcher(runs_root, plan.overrides, log if experiments_md else None, at_once, echo=echo)
    if launcher.threads:
        echo(f"{at_once} runs at a time, {launcher.threads} threads each ({launcher.cores} cores)")
    results = {id(r.job): r for r in launcher.run(todo)}
    outcome = [results.get(id(job)) or _standing(job) for job in jobs]
    for line in _outcome_lines(outcome):
        echo(line)
    if launcher.signalled is not None:
        return EXIT_INTERRUPTED
    return 0 if all(r.status == "finished" for r in outcome) else EXIT_NOT_ALL_FINISHED


def _standing(job: Job) -> Result:
    """A job that was not run this time: done before, failed before, or not started because of a signal."""
    status = {DONE: "finished", FAILED: "failed", RUNNING: "running elsewhere"}.get(job.action, "not started")
    return Result(job, status, None, job.run)


def _plan_line(jobs: Sequence[Job]) -> str:
    member = jobs[0].member
    what = f"series {member.series}" if member.kind == "series" else f"seeds of {member.config}"
    counts = Counter(job.action for job in jobs)
    parts = [
        f"{counts[a]} {word}"
        for a, word in (
            (DONE, "finished"),
            (RUNNING, "being trained elsewhere"),
            (RESUME, "to resume"),
            (NEW, "new"),
            (FAILED, "failed"),
        )
        if counts[a]
    ]
    return f"study {member.study} ({what}): {len(jobs)} runs: {', '.join(parts)}"


def _outcome_lines(results: Sequence[Result]) -> list[str]:
    counts = Counter(r.status for r in results)
    head = f"study {results[0].job.member.study}: " + ", ".join(f"{n} {status}" for status, n in counts.items())
    lines = [head]
    for r in results:
        lines.append(f"  {r.job.member.label:<24} {r.status:<12} {r.run or '-'}")
    if any(r.status not in ("finished", "failed") for r in results):
        lines.append("run the same command again to resume and finish the rest (or train --resume RUN_DIR for one run)")
    return lines
