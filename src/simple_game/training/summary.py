"""``summary.json``: what ran, for how long, and how it ended, as one typed record."""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from simple_game import __version__
from simple_game.config import ExperimentConfig
from simple_game.errors import SimpleGameError
from simple_game.runs import RunDirectory

# Written once the run has ended (with ``finished_at``); absent while it is running.
END_KEYS = ("wall_time_s", "fps", "final_eval_mean", "final_eval_std", "best_eval_mean", "best_eval_std")


@dataclass
class RunSummary:
    """The fields of ``summary.json``, in the file's order.

    ``resumed_at`` is written only for a resumed run, the end fields only once the run has
    ended, ``failure`` only when it failed or crashed.
    """

    experiment: str
    algo: str
    game: str
    protocol: str
    seed: int
    device: str
    total_timesteps: int
    steps_done: int
    status: str
    run_dir: str
    config_name: str
    started_at: str
    simple_game_version: str
    compute: dict[str, str]
    resumed_at: Optional[list[str]] = None
    wall_time_s: Optional[float] = None
    fps: Optional[float] = None
    final_eval_mean: Optional[float] = None
    final_eval_std: Optional[float] = None
    best_eval_mean: Optional[float] = None
    best_eval_std: Optional[float] = None
    finished_at: Optional[str] = None
    failure: Optional[str] = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.resumed_at is None:
            del data["resumed_at"]
        if self.finished_at is None:
            for key in (*END_KEYS, "finished_at"):
                del data[key]
        if not self.failure:
            del data["failure"]
        return data


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def start_summary(
    cfg: ExperimentConfig, run: RunDirectory, device: str, step: int, compute: dict[str, str], resuming: bool
) -> tuple[RunSummary, Stopwatch]:
    """The ``running`` summary, and a stopwatch that continues the earlier sessions' wall time."""
    now = _now()
    prior = run.read_summary() if resuming else {}
    summary = RunSummary(
        experiment=cfg.name,
        algo=cfg.algo,
        game=cfg.env.game,
        protocol=cfg.env.protocol,
        seed=cfg.seed,
        device=device,
        total_timesteps=cfg.total_timesteps,
        steps_done=step,
        status="running",
        run_dir=str(run.path),
        config_name=prior.get("config_name") or (Path(cfg.source).stem if cfg.source and not resuming else cfg.name),
        started_at=prior.get("started_at", now),
        simple_game_version=__version__,
        compute=compute,
        resumed_at=list(prior.get("resumed_at") or []) + [now] if resuming else None,
    )
    return summary, Stopwatch(float(prior.get("wall_time_s") or 0.0))


class Stopwatch:
    """Wall-clock seconds of training: this session's, added to the earlier sessions' ``previous_s``."""

    def __init__(self, previous_s: float = 0.0) -> None:
        self.previous_s = previous_s
        self._t0 = time.monotonic()

    def __call__(self) -> float:
        return self.previous_s + time.monotonic() - self._t0


def record_end(
    run: RunDirectory,
    summary: RunSummary,
    status: str,
    failure: Optional[str],
    steps: int,
    wall: float,
    last: Optional[dict[str, float]],
    best: Optional[dict[str, float]],
) -> None:
    """Write the final ``summary.json`` (best effort when the run failed, e.g. on a full disk).

    ``last`` and ``best``: the final and the best evaluation (``eval.csv`` rows), if any.
    """
    summary.status = status
    summary.steps_done = int(steps)
    summary.wall_time_s = round(wall, 2)
    summary.fps = round(steps / max(wall, 1e-9), 1)
    summary.final_eval_mean = last["mean_score"] if last else None
    summary.final_eval_std = last["std_score"] if last else None
    summary.best_eval_mean = best["mean_score"] if best else None
    summary.best_eval_std = best["std_score"] if best else None
    summary.finished_at = _now()
    if failure:
        summary.failure = failure
    try:
        run.write_summary(summary.as_dict())
    except SimpleGameError:
        if status == "finished":
            raise
