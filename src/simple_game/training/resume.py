"""``train --resume``: continue a run from its ``latest`` checkpoint up to its budget.

A resumed run uses its own saved ``config.yaml``. ``--set`` may change only what does not
alter what the network learns from: the budget, bookkeeping and logging.

With a larger budget (``--set total_timesteps=N``) the schedules (learning rate, PPO's clip
range, DQN's exploration rate) go on from their values at the checkpoint to their final values
over the added steps (``--schedules continue``, the default), or are re-stretched over the new
budget as plain SB3 would (``--schedules stretch``, a jump at the resumed step): see
:mod:`simple_game.agents.schedules`. A DQN/QR-DQN resumed without its replay buffer refills it
before learning: :mod:`simple_game.agents.replay`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from simple_game.agents.schedules import CONTINUE, SCHEDULE_MODES
from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.config import dump_config, load_config
from simple_game.errors import SimpleGameError
from simple_game.fsio import atomic_write_text
from simple_game.runlock import training_lock
from simple_game.runs import RunDirectory, open_run_dir
from simple_game.training.run import default_experiments_md, run_training

# Keys ``--set`` may change when resuming: budget, bookkeeping, logging and where and how fast
# it runs (device, CPU threads, where freed memory goes), never what the network learned from
# (algorithm, game, protocol, hyperparameters, seed). Other compute switches stay: bf16 changes
# the numbers themselves.
RESUME_SAFE_KEYS = (
    "total_timesteps",
    "device",
    "compute.threads",
    "compute.heap_reuse",
    "eval",
    "checkpoint",
    "logging",
    "video",
    "milestones",
)


def check_resume_overrides(overrides: list[str]) -> None:
    """Refuse a ``--set`` that would change what the network learns from."""
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if not any(key == safe or key.startswith(safe + ".") for safe in RESUME_SAFE_KEYS):
            raise SimpleGameError(
                f"--set {key}: cannot be changed when resuming (allowed: {', '.join(RESUME_SAFE_KEYS)}); "
                "start a new run instead"
            )


def resume_run(
    run_path: str | Path,
    overrides: list[str],
    *,
    experiments_md: Optional[str] = None,
    progress: bool = True,
    exiting: bool = False,
    schedules: str = CONTINUE,
) -> int:
    """Continue ``run_path`` from its ``latest`` checkpoint up to the config's ``total_timesteps``.

    ``schedules``: ``continue`` or ``stretch``, how schedules proceed when the budget changed.
    """
    if schedules not in SCHEDULE_MODES:
        raise SimpleGameError(f"--schedules: expected one of {', '.join(SCHEDULE_MODES)}, got {schedules!r}")
    run = open_run_dir(Path(run_path))
    check_resume_overrides(overrides)
    with training_lock(run.path):  # before the config or the checkpoint is read: one trainer per run
        return _resume_locked(run, overrides, experiments_md, progress, exiting, schedules)


def _resume_locked(
    run: RunDirectory,
    overrides: list[str],
    experiments_md: Optional[str],
    progress: bool,
    exiting: bool,
    schedules: str,
) -> int:
    cfg = load_config(run.config_path, overrides=overrides)
    latest = run.latest_checkpoint()
    if latest is None:
        raise SimpleGameError(f"{run.path}: no checkpoint to resume from (checkpoints/ holds no step_N.zip)")
    step = int(read_checkpoint_metadata(latest).get("step", 0))
    if step >= cfg.total_timesteps:
        print(
            f"{run.path}: already finished ({step:,} of {cfg.total_timesteps:,} steps): nothing to do. "
            f"To train longer: --resume {run.path} --set total_timesteps=N"
        )
        return 0
    if overrides:
        atomic_write_text(run.config_path, dump_config(cfg))
    return run_training(
        cfg,
        run.path.parent,
        Path(experiments_md) if experiments_md else default_experiments_md(run.path.parent),
        progress_bar=cfg.logging.progress_bar and progress,
        config_text=None,
        run=run,
        resume_from=latest,
        exiting=exiting,
        schedules=schedules,
    )
