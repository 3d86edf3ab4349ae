"""The run directory: where one experiment's outputs live, written so nothing is half-written.

::

    runs/<experiment>_<YYYYmmdd-HHMMSS>/
      config.yaml        the fully resolved config that ran
      tensorboard/       `tensorboard --logdir runs`
      checkpoints/       step_<N>.zip, latest (a pointer file), best.zip, skill_level_<k>.zip
      videos/            MP4s
      progress.csv       SB3's logged metrics, one row per dump
      eval.csv           one row per evaluation
      summary.json       what ran, for how long, final and best evaluation

Every file that matters is written to a temporary name, flushed to disk, then renamed over
the old one: a crash (even ``kill -9``) leaves either the old file or the new one, never a
torn one. ``checkpoints/latest`` is a small text file naming the newest complete checkpoint,
rewritten only after that checkpoint is on disk; pruning old checkpoints never deletes the one
``latest`` names. While training, Ctrl-C and SIGTERM wait for a save in progress to finish
(:func:`critical_section`), so an interrupt never leaves half a checkpoint either.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import fnmatch
import glob
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, overload

import yaml

from simple_game.errors import SimpleGameError
from simple_game.fsio import TEMP_SUFFIX, atomic_write_json, atomic_write_text
from simple_game.interrupts import critical_section

EVAL_CSV_FIELDS = [  # eval.csv's columns, one row per evaluation
    *("timesteps", "mean_score", "std_score", "median_score", "min_score", "max_score"),
    *("mean_length", "n_episodes", "wall_time_s"),
]

# --------------------------------------------------------------------------------------------
# The run directory
# --------------------------------------------------------------------------------------------


class _InRun:
    """A fixed path inside the run directory, read as an attribute: ``run.eval_csv``."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    @overload
    def __get__(self, run: None, owner: type) -> _InRun: ...
    @overload
    def __get__(self, run: RunDirectory, owner: type) -> Path: ...
    def __get__(self, run: Optional[RunDirectory], owner: type) -> _InRun | Path:
        return self if run is None else run.path.joinpath(*self.parts)


@dataclass(frozen=True)
class RunDirectory:
    """Paths of one run; creating the object touches nothing on disk."""

    path: Path

    config_path = _InRun("config.yaml")
    tensorboard_dir = _InRun("tensorboard")
    checkpoints_dir = _InRun("checkpoints")
    videos_dir = _InRun("videos")
    progress_csv = _InRun("progress.csv")
    eval_csv = _InRun("eval.csv")
    summary_path = _InRun("summary.json")
    latest_pointer = _InRun("checkpoints", "latest")
    best_path = _InRun("checkpoints", "best.zip")

    @property
    def name(self) -> str:
        return self.path.name

    def step_path(self, step: int) -> Path:
        return self.checkpoints_dir / f"step_{step}.zip"

    def skill_path(self, level: int) -> Path:
        return self.checkpoints_dir / f"skill_level_{level}.zip"

    def make_dirs(self) -> None:
        for d in (self.path, self.tensorboard_dir, self.checkpoints_dir, self.videos_dir):
            d.mkdir(parents=True, exist_ok=True)

    # -- checkpoints -----------------------------------------------------------------------

    def step_checkpoints(self) -> list[tuple[int, Path]]:
        """Periodic checkpoints on disk, oldest first."""
        found = []
        for p in self.checkpoints_dir.glob("step_*.zip"):
            m = re.fullmatch(r"step_(\d+)\.zip", p.name)
            if m:
                found.append((int(m.group(1)), p))
        return sorted(found)

    def set_latest(self, checkpoint: Path) -> None:
        """Point ``latest`` at ``checkpoint``; call only once that file is completely written."""
        if not Path(checkpoint).is_file():
            raise SimpleGameError(f"{checkpoint}: cannot point latest at a missing checkpoint")
        with critical_section():
            atomic_write_text(self.latest_pointer, Path(checkpoint).name + "\n")

    def latest_checkpoint(self) -> Optional[Path]:
        """The checkpoint ``latest`` names, or the newest step file if the pointer is missing."""
        if self.latest_pointer.is_file():
            name = self.latest_pointer.read_text().strip()
            candidate = self.checkpoints_dir / name
            if name and candidate.is_file():
                return candidate
        steps = self.step_checkpoints()
        return steps[-1][1] if steps else None

    def prune_checkpoints(self, keep: int) -> None:
        """Delete the oldest periodic checkpoints, never the one ``latest`` names."""
        latest = self.latest_checkpoint()
        steps = self.step_checkpoints()
        with critical_section():
            for _, path in steps[: max(0, len(steps) - keep)]:
                if path != latest:
                    with contextlib.suppress(OSError):
                        path.unlink()
                        replay = self.replay_buffer_path(path)
                        if replay.exists():
                            replay.unlink()

    @staticmethod
    def replay_buffer_path(checkpoint: Path) -> Path:
        """``step_N.zip`` -> ``step_N_replay_buffer.pkl`` (DQN's replay buffer, when saved)."""
        return Path(checkpoint).with_name(Path(checkpoint).stem + "_replay_buffer.pkl")

    def remove_temp_files(self) -> list[Path]:
        """Delete temporary files a killed process left behind (never a finished file)."""
        removed = []
        for directory in (self.path, self.checkpoints_dir, self.videos_dir):
            for tmp in directory.glob(f".*{TEMP_SUFFIX}*") if directory.is_dir() else []:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    removed.append(tmp)
        return removed

    def resolve_checkpoint(self, which: str = "best") -> Path:
        """``latest``, ``best``, ``step_N`` or ``skill_level_K`` -> a checkpoint file."""
        if which == "latest":
            path = self.latest_checkpoint()
        elif which == "best":
            path = self.best_path if self.best_path.is_file() else self.latest_checkpoint()
        elif re.fullmatch(r"(step_\d+|skill_level_\d+)", which):
            path = self.checkpoints_dir / f"{which}.zip"
        else:
            raise SimpleGameError(f"--checkpoint: unknown {which!r} (allowed: latest, best, step_N, skill_level_K)")
        if path is None or not path.is_file():
            available = (
                sorted(p.stem for p in self.checkpoints_dir.glob("*.zip")) if self.checkpoints_dir.is_dir() else []
            )
            raise SimpleGameError(f"{self.path}: no {which!r} checkpoint (available: {', '.join(available) or 'none'})")
        return path

    # -- logs and summary -----------------------------------------------------------------

    def append_eval_row(self, row: dict[str, Any]) -> None:
        new = not self.eval_csv.exists()
        with open(self.eval_csv, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=EVAL_CSV_FIELDS, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
            fh.flush()

    def eval_rows(self) -> list[dict[str, float]]:
        """Every evaluation so far (``eval.csv``), as numbers; unreadable rows are skipped."""
        if not self.eval_csv.is_file():
            return []
        rows = []
        with open(self.eval_csv, newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    rows.append({k: float(v) for k, v in row.items() if k in EVAL_CSV_FIELDS and v not in (None, "")})
                except ValueError:
                    continue
        return [r for r in rows if "mean_score" in r and "timesteps" in r]

    def read_summary(self) -> dict[str, Any]:
        """``summary.json`` as a dict: ``{}`` while the run has none; a broken one is an error.

        See :func:`read_summary_file` for the policy.
        """
        return read_summary_file(self.summary_path) if self.summary_path.is_file() else {}

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_json(self.summary_path, summary)


# --------------------------------------------------------------------------------------------
# Making a run; finding one: by path or glob (find_run), by checkpoint (find_run_dir), or many
# (find_runs, below)
# --------------------------------------------------------------------------------------------


def new_run_dir(runs_root: Path, experiment: str, now: Optional[_dt.datetime] = None) -> RunDirectory:
    """Create ``runs_root/<experiment>_<timestamp>`` (a suffix is added if it already exists)."""
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = Path(runs_root) / f"{experiment}_{stamp}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            break
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")
        except OSError as exc:
            raise SimpleGameError(f"{runs_root}: cannot create run directory ({exc.strerror or exc})") from None
    run = RunDirectory(candidate)
    run.make_dirs()
    return run


def open_run_dir(path: Path) -> RunDirectory:
    """An existing run directory (must contain config.yaml)."""
    path = Path(path)
    if not path.is_dir():
        raise SimpleGameError(f"{path}: run directory not found")
    run = RunDirectory(path)
    if not run.config_path.is_file():
        raise SimpleGameError(f"{path}: not a simple-game run directory (no config.yaml)")
    return run


def find_run_dir(checkpoint: Path) -> Optional[RunDirectory]:
    """The run a checkpoint file belongs to: ``<run>/checkpoints/x.zip`` -> ``<run>``.

    Looks at the checkpoint's folder and the one above it for ``config.yaml``; ``None`` for a
    checkpoint copied somewhere else.
    """
    for parent in list(Path(checkpoint).resolve().parents)[:2]:
        if (parent / "config.yaml").is_file():
            return RunDirectory(parent)
    return None


class NoMatchingRunError(SimpleGameError):
    """A glob given for a run matched no run directory (callers may add a hint on how to make one)."""


def find_run(pattern: str | Path) -> RunDirectory:
    """A run directory, or a glob of them (``runs/ppo_breakout_data_*``).

    A glob picks the last match by name that holds ``config.yaml``: run names end in a
    timestamp, so for one experiment that is the newest run. No match raises
    :class:`NoMatchingRunError`; a path that is not a run raises :class:`SimpleGameError`.
    """
    text = str(pattern)
    if any(c in text for c in "*?["):
        matches = sorted(p for p in glob.glob(text) if (Path(p) / "config.yaml").is_file())
        if not matches:
            raise NoMatchingRunError(f"no run directory matches {text!r}")
        text = matches[-1]
    return open_run_dir(Path(text))


# --------------------------------------------------------------------------------------------
# summary.json and listings of runs (``simple-game report``)
# --------------------------------------------------------------------------------------------

_RUN_STAMP = re.compile(r"_\d{8}-\d{6}(-\d+)?$")  # _YYYYmmdd-HHMMSS, -2 if that existed
_SEED_SUFFIX = re.compile(r"[_-](seed|s)\d+$")  # ppo_pong_seed1, ppo_pong-s2
# Run-only settings: config keys (dotted; a key names its whole section) that may differ between
# runs that are still seeds of one experiment, because they change how a run is carried out or
# logged, never what the agent learns or how its score is measured. Everything else, budget
# included, must be equal for runs to be pooled (see simple_game.pooling).
RUN_ONLY_SETTINGS = (
    "name",  # the folder's label; runs are grouped by base name on top of this comparison
    "seed",  # what seeds of one experiment differ in
    "device",  # cpu, cuda or mps compute the same algorithm
    "env.backend",  # dummy, subproc and the C++ ale_vector env play the same game (decisions.md 9)
    "logging",  # console, progress bar, TensorBoard and how often SB3 writes progress.csv
    "checkpoint",  # how often the run is saved and how much is kept: the learning is the same
    "milestones",  # skill-tier checkpoints are saved along the way; they do not change learning
    "video",  # videos are played on a separate env
    "eval.freq",  # how often the evaluation curve is sampled (eval.episodes and
    "eval.n_envs",  # eval.deterministic define what a point of it means, so they must match)
    "compute.threads",  # speed only (compute.bf16 changes the arithmetic, so it must match)
    "compute.channels_last",
    "compute.compile",
    "compute.heap_reuse",
)
# total_timesteps is NOT run-only: learning-rate, clip-range and epsilon schedules are
# functions of the budget, so 512 and 768 steps are two experiments even at step 100.


def is_run_only(key: str) -> bool:
    """Whether the dotted config ``key`` is (inside) one of :data:`RUN_ONLY_SETTINGS`."""
    return any(key == k or key.startswith(k + ".") for k in RUN_ONLY_SETTINGS)


def read_summary_file(path: Path) -> dict[str, Any]:
    """Load a ``summary.json``. The one policy: a broken file is a one-line error naming it.

    Training writes the file atomically, so a broken one was edited or damaged by hand; the
    user should hear about it rather than get a silently empty summary. Listings of many runs
    (:func:`find_runs`) catch this error and mark that one run instead of stopping.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimpleGameError(f"cannot read {path}: {exc} (fix or delete that file)") from None
    if not isinstance(data, dict):
        raise SimpleGameError(f"cannot read {path}: expected a JSON object, got {type(data).__name__}")
    return data


@dataclass(frozen=True)
class RunRecord:
    """A run found by :func:`find_runs`: its directory and what its ``summary.json`` says.

    ``summary`` is ``{}`` when the run has no summary yet (still running, or crashed early);
    ``summary_error`` says why it could not be read when the file is broken.
    """

    directory: RunDirectory
    summary: dict[str, Any] = field(default_factory=dict)
    summary_error: Optional[str] = None

    @property
    def path(self) -> Path:
        return self.directory.path

    @property
    def name(self) -> str:
        return str(self.summary.get("experiment") or self.path.name)

    @property
    def base_name(self) -> str:
        """The experiment name without its ``_YYYYmmdd-HHMMSS`` stamp or a ``_seed3`` suffix."""
        return _SEED_SUFFIX.sub("", _RUN_STAMP.sub("", self.path.name))

    def config(self) -> Optional[dict[str, Any]]:
        """The run's resolved config.yaml as a dict, or ``None`` when it is missing or unreadable."""
        try:
            data = yaml.safe_load(self.directory.config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None
        return data if isinstance(data, dict) else None

    @property
    def sort_key(self) -> tuple[str, str]:
        """Oldest first, by the date the results table shows (finish time, else start time)."""
        when = str(self.summary.get("finished_at") or self.summary.get("started_at") or "")
        match = re.search(r"_(\d{8})-(\d{6})$", self.path.name)
        if not when and match:
            d, t = match.groups()
            when = f"{d[:4]}-{d[4:6]}-{d[6:]}T{t[:2]}:{t[2:4]}:{t[4:]}"
        return (when, self.name)


def find_runs(runs_dir: Path, pattern: str = "*") -> list[RunRecord]:
    """Run directories under ``runs_dir`` whose name matches ``pattern``, oldest first.

    A run directory is one with a summary.json, or at least a progress.csv / eval.csv (a run
    that crashed before writing its summary can still be plotted). One broken summary.json
    does not stop the listing: that run comes back with ``summary_error`` set.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    runs = []
    for path in sorted(runs_dir.iterdir()):
        if not path.is_dir() or not fnmatch.fnmatchcase(path.name, pattern):
            continue
        run = RunDirectory(path)
        if run.summary_path.is_file():
            try:
                runs.append(RunRecord(run, read_summary_file(run.summary_path)))
            except SimpleGameError as exc:
                runs.append(RunRecord(run, summary_error=str(exc)))
        elif run.progress_csv.is_file() or run.eval_csv.is_file():
            runs.append(RunRecord(run))
    return sorted(runs, key=lambda r: r.sort_key)
