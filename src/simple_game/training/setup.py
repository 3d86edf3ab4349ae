"""What a training run is made of: its envs, its model (built, or loaded to resume) and its callbacks."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from rich.console import Console
from stable_baselines3.common.callbacks import BaseCallback

from simple_game.agents import build_model, checkpoint_metadata, load_checked_model, restore_rng_state
from simple_game.agents.dqn import check_replay_memory, format_bytes
from simple_game.agents.replay import load_replay_buffer, refill_note, refill_replay_buffer, transitions_to_refill
from simple_game.agents.schedules import CONTINUE, resume_schedules, schedule_scale
from simple_game.callbacks import (
    CheckpointCallback,
    ConsoleCallback,
    EvaluationCallback,
    FailureGateCallback,
    MetadataFn,
    MilestoneCallback,
    VideoCallback,
)
from simple_game.callbacks.hparams import HParamsCallback
from simple_game.callbacks.shaping import ShapedReturnCallback
from simple_game.callbacks.trackers import WandbCallback
from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.config import ExperimentConfig, algorithm_class, model_kwargs
from simple_game.envs import EVAL_SEED_OFFSET, action_meanings, make_train_env, make_vec_env
from simple_game.evaluation.batched import seeded_games
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
        # Game j of every evaluation is reset with cfg.seed + EVAL_SEED_OFFSET + j: evaluate's games.
        evals = seeded_games(cfg.env, cfg.seed + EVAL_SEED_OFFSET, cfg.eval.n_envs) if cfg.eval.freq > 0 else None
        return cls(train, evals)

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
    *,
    schedules: str = CONTINUE,
) -> BaseAlgorithm:
    """A fresh model, or (resuming) the one in ``resume_from`` with its generators and replay buffer.

    Resuming, its schedules go on as ``schedules`` says (:mod:`simple_game.agents.schedules`:
    ``continue``, no jump when the budget grew, or ``stretch``); an off-policy model without a
    saved buffer refills it when training starts (:mod:`simple_game.agents.replay`).
    """
    if resume_from is None:
        return build_model(cfg, env, device)
    model = load_checked_model(resume_from, cfg, env=env, device=device, train=True)
    start_step = int(model.num_timesteps)
    restored = restore_rng_state(read_checkpoint_metadata(resume_from).get("rng") or {}, model)
    # Fresh games from here, reproducible from this checkpoint (emulator states are not saved).
    env.seed(cfg.seed + start_step)
    wanted = cfg.checkpoint.save_replay_buffer
    note = load_replay_buffer(model, run.replay_buffer_path(resume_from), wanted)
    change = resume_schedules(model, cfg.total_timesteps, schedule_scale(model), schedules)
    console.print(
        f"resuming from [bold]{resume_from.name}[/bold] at {start_step:,} of {cfg.total_timesteps:,} steps "
        f"(random generators restored: {', '.join(restored) or 'none'}{note})"
    )
    if change.values:
        console.print(change.describe(), highlight=False)
    return model


class RefillReplayBuffer(BaseCallback):
    """At the start of a resumed off-policy run: refill an empty replay buffer before any gradient step.

    Runs inside ``learn`` (on the run's clock, under its interrupt handling); what it plays and
    why: :mod:`simple_game.agents.replay`.
    """

    def __init__(self, console: Console, every_s: float):
        super().__init__()
        self.console = console
        self.every_s = every_s
        self.refilled = 0

    def _on_training_start(self) -> None:
        n = transitions_to_refill(self.model)
        note = refill_note(self.model, n)
        if note is None:
            return
        self.console.print(note, highlight=False)
        report = functools.partial(self.console.print, highlight=False)
        self.refilled = refill_replay_buffer(self.model, n, report, self.every_s)  # type: ignore[arg-type]
        self.num_timesteps = self.model.num_timesteps

    def _on_step(self) -> bool:
        return True


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
    cfg: ExperimentConfig,
    run: RunDirectory,
    envs: TrainingEnvs,
    console: Console,
    start_step: int,
    resuming: bool,
    *,
    clock: Optional[Callable[[], float]] = None,
) -> TrainingCallbacks:
    """The callbacks ``cfg`` asks for (opens the video env if it asks for videos).

    ``clock``: the run's wall clock (:class:`~simple_game.training.summary.Stopwatch`); each
    checkpoint then records ``wall_time_s``, the run's training time up to it, which a resume
    continues from (even after a ``kill -9``, which leaves no ``wall_time_s`` in ``summary.json``).
    """
    metadata = _metadata_fn(cfg, clock)
    console_cb = ConsoleCallback(
        cfg.total_timesteps, cfg.logging.console_interval_s, console=console, start_step=start_step
    )
    checkpoint_cb = CheckpointCallback(
        run, cfg.checkpoint.freq, cfg.checkpoint.keep, metadata, cfg.checkpoint.save_replay_buffer
    )
    checkpoint_cb.last_saved_step = start_step
    # The failure gate goes first so a diverged network stops training before anything else runs.
    callbacks: list[BaseCallback] = [FailureGateCallback(), console_cb, checkpoint_cb]
    if resuming:  # ahead of the console, whose fps leaves out the time of callbacks after it: refilling is training
        callbacks.insert(1, RefillReplayBuffer(console, cfg.logging.console_interval_s))
    if cfg.milestones.thresholds:
        callbacks.append(MilestoneCallback(run, cfg.milestones.thresholds, cfg.milestones.window, metadata))
    eval_cb = None
    if envs.eval is not None:
        # On resume the best evaluation so far is in eval.csv: best.zip is replaced only by a better one.
        rows = run.eval_rows() if resuming else []
        best_row = max(rows, key=lambda r: r["mean_score"], default=None)
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
            epsilon=cfg.eval.epsilon,
            seed=cfg.seed + EVAL_SEED_OFFSET,
        )
        # A resumed run stopped before its next evaluation still reports the last one it had.
        eval_cb.last_result = rows[-1] if rows else None
        callbacks.append(eval_cb)
    if cfg.video.freq > 0:
        callbacks.append(_video_callback(cfg, run, envs))
    if cfg.env.reward_shaping.active:  # the shaped return beside the raw game score
        callbacks.append(ShapedReturnCallback())
    callbacks += _tracker_callbacks(cfg, run, console, resuming)  # last: the final evaluation reaches them
    return TrainingCallbacks(callbacks, checkpoint_cb, eval_cb)


def _tracker_callbacks(
    cfg: ExperimentConfig, run: RunDirectory, console: Console, resuming: bool
) -> list[BaseCallback]:
    """TensorBoard's HParams record, and the W&B mirror when ``logging.wandb`` asks for it."""
    trackers: list[BaseCallback] = [HParamsCallback(cfg, resuming)]
    if cfg.logging.wandb is not None:
        trackers.append(WandbCallback(cfg, run, console))
    return trackers


def _metadata_fn(cfg: ExperimentConfig, clock: Optional[Callable[[], float]]) -> MetadataFn:
    """step -> what a checkpoint saved at that step records (with the run's wall time so far)."""

    def metadata(step: int) -> dict[str, Any]:
        wall = {"wall_time_s": round(clock(), 2)} if clock is not None else {}
        return checkpoint_metadata(cfg, step, seed=cfg.seed, **wall)

    return metadata


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
        epsilon=cfg.eval.epsilon,
        frame_skip=cfg.env.frame_skip,
        seed=cfg.seed,
    )


def check_replay_fits(cfg: ExperimentConfig, env: VecEnv, console: Console) -> None:
    """Off-policy algorithms: stop at once when the replay buffer cannot fit in memory.

    SB3 allocates the whole buffer up front, but a size that barely fits is only touched page by
    page as it fills, so the process would be killed hours later; numpy refuses a size that does
    not fit at all with a traceback. One line at the start instead, and the size is printed.
    """
    params = inspect.signature(algorithm_class(cfg.algo)).parameters
    if "buffer_size" not in params:
        return
    default = int(params["buffer_size"].default)
    need = check_replay_memory(env.observation_space, env.action_space, model_kwargs(cfg), env.num_envs, default)
    size = int(cfg.hyperparams.get("buffer_size", default))
    console.print(f"replay buffer: {size:,} transitions, {format_bytes(need)} of memory")
