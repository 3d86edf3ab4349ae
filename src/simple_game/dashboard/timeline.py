"""A run over its life: its checkpoints, its videos and the evaluation score at each step.

Training saves ``checkpoints/step_<N>.zip`` every ``checkpoint.freq`` steps, records
``videos/step_<N>.mp4`` (one evaluation game) every ``video.freq`` steps and evaluates every
``eval.freq`` steps into ``eval.csv``. Lined up by step, they let a learner watch the agent
at a checkpoint beside the score it got there. ``simple-game record`` adds
``videos/<checkpoint>_<YYYYmmdd-HHMMSS>.mp4``, made after training from a named checkpoint.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.dashboard.files import Table
from simple_game.errors import SimpleGameError
from simple_game.runs import RunDirectory

_TRAINING_VIDEO = re.compile(r"step_(\d+)\.mp4")
_RECORD_VIDEO = re.compile(r"(?P<label>.+)_(?P<stamp>\d{8}-\d{6})(-\d+)?\.mp4")


@dataclass(frozen=True)
class Evaluation:
    """One row of ``eval.csv``: the mean score over ``n_episodes`` whole games at ``step``."""

    step: int
    mean: float
    std: float
    episodes: int


@dataclass(frozen=True)
class Moment:
    """One step of a run at which it saved a checkpoint, recorded a video or was evaluated."""

    step: int
    checkpoint: Optional[Path]
    video: Optional[Path]
    evaluation: Optional[Evaluation]


@dataclass(frozen=True)
class RecordedVideo:
    """A video made by ``simple-game record``: from which checkpoint, and when."""

    path: Path
    checkpoint: str  # best, latest, step_N, skill_level_K, or the file name when unknown
    stamp: Optional[str]


def evaluations(table: Optional[Table]) -> dict[int, Evaluation]:
    """Evaluations in ``eval.csv`` by step; of two at one step (a resume) the later row counts."""
    cols = table.columns if table is not None else {}
    if "timesteps" not in cols or "mean_score" not in cols:
        return {}
    found = {}
    for i, (step, mean) in enumerate(zip(cols["timesteps"], cols["mean_score"], strict=True)):
        if math.isnan(step) or math.isnan(mean):
            continue
        std = cols["std_score"][i] if "std_score" in cols else math.nan
        games = cols["n_episodes"][i] if "n_episodes" in cols else math.nan
        found[int(step)] = Evaluation(
            int(step), mean, 0.0 if math.isnan(std) else std, 0 if math.isnan(games) else int(games)
        )
    return found


def _listing(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError:
        return []


def run_timeline(run: RunDirectory, evals: dict[int, Evaluation]) -> tuple[list[Moment], list[str]]:
    """Every step with a checkpoint, a training video or an evaluation, oldest first; and warnings."""
    warnings = []
    checkpoints = dict(run.step_checkpoints()) if run.checkpoints_dir.is_dir() else {}
    if not run.checkpoints_dir.is_dir():
        warnings.append("no checkpoints folder")
    videos: dict[int, Path] = {}
    if run.videos_dir.is_dir():
        for path in _listing(run.videos_dir):
            match = _TRAINING_VIDEO.fullmatch(path.name)
            if match:
                videos[int(match.group(1))] = path
    else:
        warnings.append("no videos folder")
    steps = sorted(set(checkpoints) | set(videos) | set(evals))
    moments = [Moment(s, checkpoints.get(s), videos.get(s), evals.get(s)) for s in steps]
    return moments, warnings


def recorded_videos(run: RunDirectory) -> list[RecordedVideo]:
    """The videos ``record`` wrote into the run (not the training ones), oldest first."""
    found = []
    for path in _listing(run.videos_dir) if run.videos_dir.is_dir() else []:
        if path.suffix.lower() != ".mp4" or _TRAINING_VIDEO.fullmatch(path.name):
            continue
        match = _RECORD_VIDEO.fullmatch(path.name)
        if match:
            found.append(RecordedVideo(path, match.group("label"), match.group("stamp")))
        else:
            found.append(RecordedVideo(path, path.stem, None))
    return sorted(found, key=lambda v: (v.stamp or "", v.path.name))


def checkpoint_step(run: RunDirectory, checkpoint: str) -> Optional[int]:
    """The training step behind a named checkpoint (``step_N``: N; others: from the zip's metadata)."""
    match = re.fullmatch(r"step_(\d+)", checkpoint)
    if match:
        return int(match.group(1))
    path = run.checkpoints_dir / f"{checkpoint}.zip"
    if checkpoint == "latest":
        path = run.latest_checkpoint() or path
    if not path.is_file():
        return None
    try:
        step = read_checkpoint_metadata(path).get("step")
    except (SimpleGameError, OSError):
        return None
    return int(step) if isinstance(step, (int, float)) else None


def score_text(evaluation: Optional[Evaluation]) -> str:
    """``12.5 ± 3.1 over 10 games``, or what is known when there is no evaluation at that step."""
    if evaluation is None:
        return "not evaluated at this step"
    games = f" over {evaluation.episodes} game{'s' if evaluation.episodes != 1 else ''}" if evaluation.episodes else ""
    return f"{evaluation.mean:.1f} ± {evaluation.std:.1f}{games}"
