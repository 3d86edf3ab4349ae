"""``summary.json``: what ran, for how long, and how it ended, as one typed record.

Time and speed, for a run trained in one session or resumed over several:

- ``wall_time_s``: the run's training time, all sessions. A resumed session continues from the
  time recorded in the checkpoint it resumed from (``wall_time_s`` in its metadata; older
  checkpoints: the previous ``summary.json``), so work lost to a ``kill -9`` after the last
  checkpoint counts in neither the steps nor the time.
- ``fps``: the whole run's agent steps per second, ``steps_done / wall_time_s`` (evaluations,
  checkpoints and other pauses included).
- ``session_fps``: this session's steps per second: the steps it took (from the checkpoint it
  resumed from, or 0) over its own wall time. This is what the last console line reports first.
- ``track``: the config's ``track:`` (``A`` paper-faithful, ``B`` modern; docs/dqn.md), when set.
- ``budgets`` (resumed runs): the ``total_timesteps`` of each session in order, e.g.
  ``[1024, 4096]`` for a run resumed once with ``--set total_timesteps=4096``.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from simple_game import __version__
from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.config import ExperimentConfig
from simple_game.errors import SimpleGameError
from simple_game.runs import RunDirectory

if TYPE_CHECKING:
    from simple_game.training.warm_start import WarmStart

# Written once the run has ended (with ``finished_at``); absent while it is running.
END_KEYS = (
    "wall_time_s",
    "fps",
    "session_fps",
    "final_eval_mean",
    "final_eval_std",
    "best_eval_mean",
    "best_eval_std",
)
# Where this session started (step, run clock): for ``session_fps``, never written.
_SESSION_KEYS = ("session_start_step", "session_previous_s")


@dataclass
class RunSummary:
    """The fields of ``summary.json``, in the file's order.

    ``track`` only when the config names one (docs/dqn.md), ``resumed_at`` and ``budgets`` only
    for a resumed run, the end fields only once
    the run has ended, ``failure`` only when it failed or crashed.
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
    track: Optional[str] = None
    init_from: Optional[dict[str, Any]] = None
    resumed_at: Optional[list[str]] = None
    budgets: Optional[list[int]] = None
    wall_time_s: Optional[float] = None
    fps: Optional[float] = None
    session_fps: Optional[float] = None
    final_eval_mean: Optional[float] = None
    final_eval_std: Optional[float] = None
    best_eval_mean: Optional[float] = None
    best_eval_std: Optional[float] = None
    finished_at: Optional[str] = None
    failure: Optional[str] = None
    session_start_step: int = field(default=0, repr=False)
    session_previous_s: float = field(default=0.0, repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in _SESSION_KEYS:
            del data[key]
        for key in ("track", "init_from", "resumed_at", "budgets"):
            if data[key] is None:
                del data[key]
        if self.finished_at is None:
            for key in (*END_KEYS, "finished_at"):
                del data[key]
        if not self.failure:
            del data["failure"]
        return data


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def start_summary(
    cfg: ExperimentConfig,
    run: RunDirectory,
    device: str,
    step: int,
    compute: dict[str, str],
    resuming: bool,
    started: Optional[WarmStart] = None,
) -> tuple[RunSummary, Stopwatch]:
    """The ``running`` summary, and a stopwatch that continues the earlier sessions' wall time.

    ``started``: the agent a warm-started run's network came from (kept when the run resumes)."""
    now = _now()
    prior = run.read_summary() if resuming else {}
    previous_s = _previous_wall_time(run, prior) if resuming else 0.0
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
        track=cfg.track,
        init_from=started.record() if started is not None else prior.get("init_from"),
        resumed_at=list(prior.get("resumed_at") or []) + [now] if resuming else None,
        budgets=_budgets(prior, cfg.total_timesteps) if resuming else None,
        session_start_step=step,
        session_previous_s=previous_s,
    )
    return summary, Stopwatch(previous_s)


def _previous_wall_time(run: RunDirectory, prior: dict[str, Any]) -> float:
    """The run's training time up to the checkpoint this session resumes from (see the module doc)."""
    latest = run.latest_checkpoint()
    recorded = read_checkpoint_metadata(latest).get("wall_time_s") if latest is not None else None
    if isinstance(recorded, (int, float)):
        return float(recorded)
    return float(prior.get("wall_time_s") or 0.0)


def _budgets(prior: dict[str, Any], total_timesteps: int) -> list[int]:
    """Each session's budget, this one's last (a summary from before ``budgets`` gives its one budget)."""
    earlier = prior.get("budgets")
    if not isinstance(earlier, list):
        known = prior.get("total_timesteps")  # earlier resumes' budgets are unknown: taken as this one
        earlier = [known] * (len(prior.get("resumed_at") or []) + 1) if isinstance(known, int) else []
    return [int(b) for b in earlier] + [int(total_timesteps)]


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
    summary.session_fps = round((steps - summary.session_start_step) / max(wall - summary.session_previous_s, 1e-9), 1)
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


def describe_speed(summary: RunSummary) -> str:
    """``1,234 steps/s this session (3,072 steps in 41s); 987 steps/s over the run (4,096 steps in 62s, 2 sessions)``.

    For the last console line, after :func:`record_end`. A run in one session gets the first part only.
    """
    wall = summary.wall_time_s or 0.0
    session_steps = summary.steps_done - summary.session_start_step
    session_wall = wall - summary.session_previous_s
    text = f"{summary.session_fps or 0:,.0f} steps/s ({session_steps:,} steps in {session_wall:.0f}s"
    if not summary.resumed_at:
        return text + ")"
    sessions = len(summary.resumed_at) + 1
    return (
        f"{text} this session); {summary.fps or 0:,.0f} steps/s over the run "
        f"({summary.steps_done:,} steps in {wall:.0f}s, {sessions} sessions)"
    )
