"""Videos during training: one evaluation game as an MP4 every ``freq`` steps."""

from __future__ import annotations

import functools
from pathlib import Path

from stable_baselines3.common.vec_env import VecEnv

from simple_game.callbacks.periodic import PeriodicCallback
from simple_game.evaluation import DEFAULT_EPSILON, EpsilonGreedy
from simple_game.runs import RunDirectory
from simple_game.video import record_video


class VideoCallback(PeriodicCallback):
    """Record ``videos/step_<N>.mp4`` of one evaluation game every ``freq`` steps.

    ``env`` is a one-env evaluation env made with ``render_mode="rgb_array"``; the video is
    written by :func:`simple_game.video.record_video`, the same code as ``simple_game.record``.
    The agent plays as training's evaluation does (``EpsilonGreedy`` with ``epsilon``): with
    epsilon 0 a greedy Breakout agent may never press FIRE and stall until ``max_steps``.
    A failure to write a video is reported and turns videos off; it never stops training.
    """

    def __init__(
        self,
        env: VecEnv,
        run: RunDirectory,
        freq: int,
        max_steps: int,
        action_names: list[str],
        *,
        deterministic: bool = True,
        epsilon: float = DEFAULT_EPSILON,
        frame_skip: int = 4,
        seed: int = 0,
    ):
        super().__init__(freq)
        self.env = env
        self.run = run
        self.deterministic = deterministic
        self.epsilon = epsilon
        self.seed = seed
        # The same recorder as ``simple_game.record``, set up once: one game per video.
        self.record = functools.partial(
            record_video, action_names=action_names, episodes=1, max_steps=max_steps, frame_skip=frame_skip
        )
        self.written: list[Path] = []

    def on_period(self) -> bool:
        step = self.num_timesteps
        n_actions = self.env.action_space.n  # type: ignore[attr-defined]
        act = EpsilonGreedy(
            self.model, n_actions, epsilon=self.epsilon, deterministic=self.deterministic, seed=self.seed + step
        )
        try:
            result = self.record(self.env, act, self.run.videos_dir / f"step_{step}.mp4", label=f"step {step:,}")
        except (OSError, RuntimeError, ValueError) as exc:
            print(f"warning: video at step {step:,} failed ({exc}); videos turned off for this run")
            self.freq = 0
            return True
        self.written.append(result.path)
        print(f"video @ {step:,} steps: {result.path} ({result.frames} frames)")
        return True
