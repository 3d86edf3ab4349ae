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
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from simple_game.errors import SimpleGameError
from simple_game.fsio import TEMP_SUFFIX, atomic_write_json, atomic_write_text
from simple_game.interrupts import critical_section

EVAL_CSV_FIELDS = [
    "timesteps",
    "mean_score",
    "std_score",
    "median_score",
    "min_score",
    "max_score",
    "mean_length",
    "n_episodes",
    "wall_time_s",
]

# --------------------------------------------------------------------------------------------
# The run directory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunDirectory:
    """Paths of one run; creating the object touches nothing on disk."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tensorboard"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def videos_dir(self) -> Path:
        return self.path / "videos"

    @property
    def progress_csv(self) -> Path:
        return self.path / "progress.csv"

    @property
    def eval_csv(self) -> Path:
        return self.path / "eval.csv"

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    @property
    def latest_pointer(self) -> Path:
        return self.checkpoints_dir / "latest"

    @property
    def best_path(self) -> Path:
        return self.checkpoints_dir / "best.zip"

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
        if not self.summary_path.is_file():
            return {}
        try:
            return json.loads(self.summary_path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_json(self.summary_path, summary)


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
