"""What a training run is made of: its envs, its model (built, or loaded to resume) and its callbacks."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from rich.console import Console
from stable_baselines3.common.callbacks import BaseCallback

from simple_game.agents import build_model, checkpoint_metadata, load_checked_model, restore_rng_state
from simple_game.callbacks import (
    CheckpointCallback,
    ConsoleCallback,
    EvaluationCallback,
    FailureGateCallback,
    MetadataFn,
    MilestoneCallback,
    VideoCallback,
)
from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.config import ExperimentConfig
from simple_game.envs import EVAL_SEED_OFFSET, action_meanings, make_eval_env, make_train_env, make_vec_env
from simple_game.runs import RunDirectory

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


@dataclass
class TrainingEnvs:
    """The training env, and the evaluation and video envs when the config asks for them."""

    train: VecEnv
    eval: Optional[VecEnv] = None
    video: Optional[VecEnv] = None

    @classmethod
    def open(cls, cfg: ExperimentConfig) -> TrainingEnvs:
        train = make_train_env(cfg.env, cfg.seed)
        return cls(train, make_eval_env(cfg.env, cfg.seed, n_envs=cfg.eval.n_envs) if cfg.eval.freq > 0 else None)

    def close(self) -> None:
        for env in (self.train, self.eval, self.video):
            if env is not None:
                env.close()


def build_or_resume_model(
    cfg: ExperimentConfig,
    env: VecEnv,
    device: str,
    run: RunDirectory,
    resume_from: Optional[Path],
    console: Console,
) -> BaseAlgorithm:
    """A fresh model, or (resuming) the one in ``resume_from`` with its generators and replay buffer."""
    if resume_from is None:
        return build_model(cfg, env, device)
    model = load_checked_model(resume_from, cfg, env=env, device=device, train=True)
    start_step = int(model.num_timesteps)
    restored = restore_rng_state(read_checkpoint_metadata(resume_from).get("rng") or {}, model)
    # Fresh games from here, reproducible from this checkpoint (emulator states are not saved).
    env.seed(cfg.seed + start_step)
    note = _load_replay_buffer(model, run, resume_from, cfg.checkpoint.save_replay_buffer)
    console.print(
        f"resuming from [bold]{resume_from.name}[/bold] at {start_step:,} of {cfg.total_timesteps:,} steps "
        f"(random generators restored: {', '.join(restored) or 'none'}{note})"
    )
    return model


def _load_replay_buffer(model: Any, run: RunDirectory, checkpoint: Path, wanted: bool) -> str:
    """DQN/QR-DQN: load the replay buffer saved beside ``checkpoint``; a note for the console."""
    if getattr(model, "replay_buffer", None) is None:
        return ""
    path = run.replay_buffer_path(checkpoint)
    if path.is_file():
        model.load_replay_buffer(path)
        return f"; replay buffer restored ({model.replay_buffer.size():,} transitions)"
    if wanted:
        return "; [yellow]replay buffer file missing: starting with an empty buffer[/yellow]"
    return "; replay buffer not saved (checkpoint.save_replay_buffer: false): starting empty"


@dataclass
class TrainingCallbacks:
    """Every callback for ``learn``, and the two ``train`` asks for results afterwards."""

    all: list[BaseCallback]
    checkpoint: CheckpointCallback
    evaluation: Optional[EvaluationCallback]

    def results(self) -> tuple[Optional[dict[str, float]], Optional[dict[str, float]]]:
        """The final and the best evaluation (``None`` without evaluations)."""
        if self.evaluation is None:
            return None, None
        return self.evaluation.last_result, self.evaluation.best_result


def make_callbacks(
    cfg: ExperimentConfig, run: RunDirectory, envs: TrainingEnvs, console: Console, start_step: int, resuming: bool
) -> TrainingCallbacks:
    """The callbacks ``cfg`` asks for (opens the video env if it asks for videos)."""
    metadata: MetadataFn = functools.partial(checkpoint_metadata, cfg, seed=cfg.seed)
    console_cb = ConsoleCallback(
        cfg.total_timesteps, cfg.logging.console_interval_s, console=console, start_step=start_step
    )
    checkpoint_cb = CheckpointCallback(
        run, cfg.checkpoint.freq, cfg.checkpoint.keep, metadata, cfg.checkpoint.save_replay_buffer
    )
    checkpoint_cb.last_saved_step = start_step
    # The failure gate goes first so a diverged network stops training before anything else runs.
    callbacks: list[BaseCallback] = [FailureGateCallback(), console_cb, checkpoint_cb]
    if cfg.milestones.thresholds:
        callbacks.append(MilestoneCallback(run, cfg.milestones.thresholds, cfg.milestones.window, metadata))
    eval_cb = None
    if envs.eval is not None:
        # On resume the best evaluation so far is in eval.csv: best.zip is replaced only by a better one.
        best_row = max(run.eval_rows(), key=lambda r: r["mean_score"], default=None) if resuming else None
        eval_cb = EvaluationCallback(
            envs.eval,
            run,
            cfg.eval.freq,
            cfg.eval.episodes,
            cfg.eval.deterministic,
            metadata,
            console=console_cb,
            best_mean=best_row["mean_score"] if best_row else None,
            best_result=best_row,
        )
        callbacks.append(eval_cb)
    if cfg.video.freq > 0:
        callbacks.append(_video_callback(cfg, run, envs))
    return TrainingCallbacks(callbacks, checkpoint_cb, eval_cb)


def _video_callback(cfg: ExperimentConfig, run: RunDirectory, envs: TrainingEnvs) -> VideoCallback:
    envs.video = make_vec_env(
        cfg.env, training=False, seed=cfg.seed + EVAL_SEED_OFFSET + 1, n_envs=1, render_mode="rgb_array"
    )
    return VideoCallback(
        envs.video,
        run,
        cfg.video.freq,
        cfg.video.max_steps,
        action_meanings(cfg.env),
        deterministic=cfg.eval.deterministic,
        frame_skip=cfg.env.frame_skip,
        seed=cfg.seed,
    )
