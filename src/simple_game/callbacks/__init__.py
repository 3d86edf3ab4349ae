"""SB3 callbacks: what happens around ``model.learn`` without touching the algorithm.

SB3 calls ``_on_step`` after every vector-env step (``n_envs`` agent steps at once), so each
callback here checks cheaply whether its moment has come (every N agent steps or seconds).
Callbacks receive the envs and the run directory; they never build them.

Every save goes through :func:`save_if_finite`: a network whose weights turned NaN or inf is
never written as a checkpoint, and :class:`FailureGateCallback` stops such a run early.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from simple_game.checkpoints import save_checkpoint
from simple_game.fsio import atomic_write_bytes
from simple_game.interrupts import critical_section
from simple_game.runs import RunDirectory

if TYPE_CHECKING:
    from rich.console import Console
    from stable_baselines3.common.vec_env import VecEnv

MetadataFn = Callable[[int], dict]


class TrainingDiverged(Exception):
    """The loss or the network weights became NaN or inf: training cannot recover."""


def divergence_reason(exc: BaseException, model: Any) -> Optional[str]:
    """Why an exception out of ``learn`` means training diverged, or ``None`` if it is another error.

    A NaN reaching PPO/A2C's action distribution makes PyTorch raise ``ValueError`` ("found
    invalid values") inside SB3 before any callback can look; that is divergence, not a bug.
    """
    from simple_game.agents import parameters_finite

    text = str(exc)
    if isinstance(exc, ValueError) and ("found invalid values" in text or re.search(r"\bnan\b", text, re.IGNORECASE)):
        return f"network outputs became NaN or inf at step {model.num_timesteps:,} (PyTorch rejected the action distribution)"
    if isinstance(exc, (ValueError, RuntimeError)) and not parameters_finite(model):
        return f"network weights became NaN or inf at step {model.num_timesteps:,}"
    return None


def save_if_finite(model: Any, path: Any, metadata: dict) -> None:
    """Save a checkpoint, unless the network holds NaN or inf (then raise :class:`TrainingDiverged`)."""
    from simple_game.agents import parameters_finite

    if not parameters_finite(model):
        raise TrainingDiverged(
            f"network weights are NaN or inf at step {model.num_timesteps:,}; not saving {Path(path).name}"
        )
    save_checkpoint(model, path, metadata)


def _episode_scores(model: Any) -> list[float]:
    """True game scores of the last (up to 100) finished games, from SB3's Monitor info."""
    return [float(info["r"]) for info in (model.ep_info_buffer or [])]


class ConsoleCallback(BaseCallback):
    """A compact rich table row every ``interval_s`` seconds: steps, fps, score, ETA."""

    COLUMNS = (
        ("steps", 12),
        ("done", 6),
        ("fps", 7),
        ("games", 7),
        ("mean score", 11),
        ("best eval", 10),
        ("elapsed", 9),
        ("ETA", 9),
    )

    def __init__(
        self, total_timesteps: int, interval_s: float = 10.0, console: Optional[Console] = None, start_step: int = 0
    ):
        super().__init__()
        self.total_timesteps = total_timesteps
        self.interval_s = interval_s
        self.console = console
        self.start_step = start_step
        self.best_eval: Optional[float] = None
        self._t0 = 0.0
        self._last_t = 0.0
        self._last_steps = 0
        self._games = 0
        self._rows = 0

    def _on_training_start(self) -> None:
        if self.console is None:
            from rich.console import Console

            self.console = Console()
        self._t0 = self._last_t = time.monotonic()
        self._last_steps = self.num_timesteps

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            if "episode" in info:
                self._games += 1
        now = time.monotonic()
        if now - self._last_t >= self.interval_s:
            self.print_row(now)
        return True

    def _on_training_end(self) -> None:
        self.print_row(time.monotonic())

    def print_row(self, now: float) -> None:
        from rich.table import Table

        fps = (self.num_timesteps - self._last_steps) / max(now - self._last_t, 1e-9)
        overall_fps = (self.num_timesteps - self.start_step) / max(now - self._t0, 1e-9)
        remaining = max(self.total_timesteps - self.num_timesteps, 0)
        scores = _episode_scores(self.model)
        table = Table(show_header=self._rows == 0, box=None, pad_edge=False)
        for title, width in self.COLUMNS:
            table.add_column(title, justify="right", width=width, no_wrap=True)
        table.add_row(
            f"{self.num_timesteps:,}",
            f"{100 * self.num_timesteps / self.total_timesteps:.0f}%",
            f"{fps:,.0f}",
            f"{self._games:,}",
            f"{np.mean(scores):.1f}" if scores else "-",
            f"{self.best_eval:.1f}" if self.best_eval is not None else "-",
            _hms(now - self._t0),
            _hms(remaining / overall_fps) if overall_fps > 0 and remaining else "-",
        )
        assert self.console is not None
        self.console.print(table)
        self._rows += 1
        self._last_t, self._last_steps = now, self.num_timesteps


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"


class PeriodicCallback(BaseCallback):
    """Base for 'every ``freq`` agent steps' callbacks (robust to n_envs not dividing freq)."""

    def __init__(self, freq: int):
        super().__init__()
        self.freq = freq
        self._next = freq

    def _on_training_start(self) -> None:
        # On resume, continue the cadence from the restored step counter.
        self._next = (self.num_timesteps // self.freq + 1) * self.freq if self.freq > 0 else 0

    def _on_step(self) -> bool:
        if self.freq > 0 and self.num_timesteps >= self._next:
            self._next = (self.num_timesteps // self.freq + 1) * self.freq
            return self.on_period()
        return True

    def on_period(self) -> bool:
        raise NotImplementedError


class EvaluationCallback(PeriodicCallback):
    """Evaluate on a separate env every ``freq`` steps: whole games, raw scores.

    Logs ``eval/mean_score``, ``eval/std_score``, ``eval/mean_length``, ``eval/best_mean_score``,
    appends a row to ``eval.csv`` and saves ``checkpoints/best.zip`` when the mean improves.
    """

    def __init__(
        self,
        eval_env: VecEnv,
        run: RunDirectory,
        freq: int,
        n_episodes: int,
        deterministic: bool,
        metadata: MetadataFn,
        console: Optional[ConsoleCallback] = None,
        best_mean: Optional[float] = None,
        best_result: Optional[dict[str, float]] = None,
    ):
        super().__init__(freq)
        self.eval_env = eval_env
        self.run = run
        self.n_episodes = n_episodes
        self.deterministic = deterministic
        self.metadata = metadata
        self.console = console
        self.best_mean = best_mean
        self.last_result: Optional[dict[str, float]] = None
        self.best_result: Optional[dict[str, float]] = best_result  # on resume: the best of eval.csv
        self._last_eval_step = -1
        self._t0 = time.monotonic()

    def on_period(self) -> bool:
        self.evaluate()
        return True

    def _on_training_start(self) -> None:
        super()._on_training_start()
        if self.console is not None:
            self.console.best_eval = self.best_mean

    def _on_training_end(self) -> None:
        # Always finish with an evaluation of the final policy.
        if self._last_eval_step != self.num_timesteps:
            self.evaluate()

    def evaluate(self) -> dict[str, float]:
        from stable_baselines3.common.evaluation import evaluate_policy

        scores, lengths = evaluate_policy(
            self.model,
            self.eval_env,
            n_eval_episodes=self.n_episodes,
            deterministic=self.deterministic,
            return_episode_rewards=True,
            warn=False,
        )
        scores_arr, lengths_arr = np.asarray(scores, dtype=float), np.asarray(lengths, dtype=float)
        result = {
            "timesteps": int(self.num_timesteps),
            "mean_score": float(scores_arr.mean()),
            "std_score": float(scores_arr.std()),
            "median_score": float(np.median(scores_arr)),
            "min_score": float(scores_arr.min()),
            "max_score": float(scores_arr.max()),
            "mean_length": float(lengths_arr.mean()),
            "n_episodes": int(len(scores_arr)),
            "wall_time_s": round(time.monotonic() - self._t0, 2),
        }
        self._last_eval_step = self.num_timesteps
        self.last_result = result
        if self.best_mean is None or result["mean_score"] > self.best_mean:
            self.best_mean = result["mean_score"]
            self.best_result = result
            save_if_finite(
                self.model,
                self.run.best_path,
                self.metadata(self.num_timesteps)
                | {"eval_mean": result["mean_score"], "eval_std": result["std_score"]},
            )
        self.run.append_eval_row(result)
        self.logger.record("eval/mean_score", result["mean_score"])
        self.logger.record("eval/std_score", result["std_score"])
        self.logger.record("eval/mean_length", result["mean_length"])
        self.logger.record("eval/best_mean_score", self.best_mean)
        self.logger.dump(self.num_timesteps)
        if self.console is not None:
            self.console.best_eval = self.best_mean
            if self.console.console is not None:
                self.console.console.print(
                    f"[bold]eval[/bold] @ {self.num_timesteps:,} steps: score {result['mean_score']:.1f} ± {result['std_score']:.1f} "
                    f"over {result['n_episodes']} games (best {self.best_mean:.1f})"
                )
        return result


class CheckpointCallback(PeriodicCallback):
    """Save ``checkpoints/step_<N>.zip`` every ``freq`` steps, point ``latest`` at it, keep the last K.

    Saves happen at the start of a rollout, i.e. right after the network was updated on the
    previous one, so a checkpoint holds everything learned from its N steps. The order makes
    every moment safe to crash in: replay buffer (if any), then the checkpoint (both atomic),
    then the ``latest`` pointer, then pruning, which spares what ``latest`` names. Step
    checkpoints also store the random generators' states, for ``train --resume``.
    """

    def __init__(self, run: RunDirectory, freq: int, keep: int, metadata: MetadataFn, save_replay_buffer: bool = False):
        super().__init__(freq)
        self.run = run
        self.keep = keep
        self.metadata = metadata
        self.save_replay_buffer = save_replay_buffer
        self.last_saved_step = -1
        self._collecting = False
        self._rollout_start_step = 0

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        self._collecting = True
        self._rollout_start_step = self.num_timesteps = int(self.model.num_timesteps)
        if self.freq > 0 and self.num_timesteps >= self._next:
            self._next = (self.num_timesteps // self.freq + 1) * self.freq
            self.save()

    def _on_rollout_end(self) -> None:
        self._collecting = False

    def discard_partial_rollout(self) -> int:
        """After an interrupt: PPO/A2C throw away a half-collected rollout, so count only the
        steps they learned from (resuming then ends exactly at the budget). Returns the step."""
        from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

        if self._collecting and isinstance(self.model, OnPolicyAlgorithm):
            self.model.num_timesteps = self._rollout_start_step
            self._collecting = False
        self.num_timesteps = int(self.model.num_timesteps)
        return self.num_timesteps

    def save(self) -> None:
        self.num_timesteps = int(self.model.num_timesteps)  # also right after an interrupt
        if self.last_saved_step == self.num_timesteps:
            return
        from simple_game.agents import rng_state

        path = self.run.step_path(self.num_timesteps)
        with critical_section():
            if self.save_replay_buffer and getattr(self.model, "replay_buffer", None) is not None:
                self._save_replay_buffer(path)
            save_if_finite(self.model, path, self.metadata(self.num_timesteps) | {"rng": rng_state(self.model)})
            self.run.set_latest(path)
            self.run.prune_checkpoints(self.keep)
        self.last_saved_step = self.num_timesteps

    def _save_replay_buffer(self, checkpoint: Path) -> None:
        import io
        import pickle

        buffer = io.BytesIO()
        pickle.dump(self.model.replay_buffer, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write_bytes(self.run.replay_buffer_path(checkpoint), buffer.getvalue())


class FailureGateCallback(BaseCallback):
    """Stop training as soon as a logged loss or a network weight is NaN or inf.

    Checked after every update (at the start of the next rollout, and at the end of training):
    the ``train/*loss*`` values SB3 has logged, and the weights whenever an update happened. It
    raises :class:`TrainingDiverged`; ``train`` then marks the run ``failed`` and keeps the
    last good checkpoint (a diverged network is never saved, see :func:`save_if_finite`).
    Usual causes: a learning rate far too high, or a bad custom network.
    """

    def __init__(self) -> None:
        super().__init__()
        self._checked_updates = -1

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        self.check()

    def _on_training_end(self) -> None:
        self.check()

    def check(self) -> None:
        # Losses only: some statistics are NaN by definition at times (SB3's explained_variance
        # is NaN when all returns in a rollout are equal), which is not divergence.
        bad = sorted(
            key
            for key, value in self.logger.name_to_value.items()
            if key.startswith("train/")
            and "loss" in key
            and isinstance(value, (int, float, np.floating))
            and not math.isfinite(float(value))
        )
        if bad:
            raise TrainingDiverged(f"{', '.join(bad)} became NaN or inf at step {self.model.num_timesteps:,}")
        updates = int(getattr(self.model, "_n_updates", 0))
        if updates != self._checked_updates:
            from simple_game.agents import parameters_finite

            if not parameters_finite(self.model):
                raise TrainingDiverged(f"network weights became NaN or inf at step {self.model.num_timesteps:,}")
            self._checked_updates = updates


class VideoCallback(PeriodicCallback):
    """Record ``videos/step_<N>.mp4`` of one evaluation game every ``freq`` steps.

    ``env`` is a one-env evaluation env made with ``render_mode="rgb_array"``; the video is
    written by :func:`simple_game.video.record_video`, the same code as ``simple_game.record``.
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
        frame_skip: int = 4,
        seed: int = 0,
    ):
        super().__init__(freq)
        self.env = env
        self.run = run
        self.max_steps = max_steps
        self.action_names = action_names
        self.deterministic = deterministic
        self.frame_skip = frame_skip
        self.seed = seed
        self.written: list[Path] = []

    def on_period(self) -> bool:
        from simple_game.evaluation import EpsilonGreedy
        from simple_game.video import record_video

        step = self.num_timesteps
        act = EpsilonGreedy(
            self.model, self.env.action_space.n, epsilon=0.0, deterministic=self.deterministic, seed=self.seed + step
        )
        try:
            result = record_video(
                self.env,
                act,
                self.run.videos_dir / f"step_{step}.mp4",
                action_names=self.action_names,
                episodes=1,
                max_steps=self.max_steps,
                frame_skip=self.frame_skip,
                label=f"step {step:,}",
            )
        except (OSError, RuntimeError, ValueError) as exc:
            print(f"warning: video at step {step:,} failed ({exc}); videos turned off for this run")
            self.freq = 0
            return True
        self.written.append(result.path)
        print(f"video @ {step:,} steps: {result.path} ({result.frames} frames)")
        return True


class MilestoneCallback(BaseCallback):
    """Save ``checkpoints/skill_level_<k>.zip`` the first time the agent reaches skill tier k.

    Tier k (1-based) is reached when the mean true game score over the last ``window`` whole
    games first reaches ``thresholds[k-1]``. Tier 0 is the random policy and has no checkpoint.
    These checkpoints are the agents a gameplay dataset is recorded from (``simple_game.collect``).
    """

    def __init__(self, run: RunDirectory, thresholds: list[float], window: int, metadata: MetadataFn):
        super().__init__()
        from collections import deque

        self.run = run
        self.thresholds = list(thresholds)
        self.window = window
        self.metadata = metadata
        self.scores: deque[float] = deque(maxlen=window)
        self.reached: list[int] = []

    def _on_training_start(self) -> None:
        # On resume, tiers already saved stay reached (never overwritten by a later, weaker agent).
        self.reached = [k for k in range(1, len(self.thresholds) + 1) if self.run.skill_path(k).is_file()]

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            episode = info.get("episode")
            if episode is not None:
                self.scores.append(float(episode["r"]))
                self._check()
        return True

    def _check(self) -> None:
        if len(self.scores) < self.window:
            return
        mean = float(np.mean(self.scores))
        for level, threshold in enumerate(self.thresholds, start=1):
            if level not in self.reached and mean >= threshold:
                meta = self.metadata(self.num_timesteps) | {
                    "skill_level": level,
                    "threshold": threshold,
                    "rolling_mean_score": mean,
                    "window": self.window,
                }
                save_if_finite(self.model, self.run.skill_path(level), meta)
                self.reached.append(level)
                self.logger.record("milestones/skill_level", level)
                if self.verbose:
                    print(
                        f"skill level {level} reached at {self.num_timesteps} steps (mean {mean:.1f} >= {threshold:g})"
                    )


# --------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------


def _appending_csv_class() -> type:
    from stable_baselines3.common.logger import CSVOutputFormat

    class AppendingCSVOutputFormat(CSVOutputFormat):
        """SB3's CSV writer, but an existing file is continued instead of truncated (``--resume``).

        SB3 opens with ``"w+"``; here an existing file is opened ``"r+"``, its header becomes the
        known columns and writing continues at the end. New columns still rewrite the header,
        as in SB3.
        """

        def __init__(self, filename: str):
            path = Path(filename)
            if not (path.is_file() and path.stat().st_size > 0):
                super().__init__(filename)
                return
            self.file = open(filename, "r+")
            header = self.file.readline().rstrip("\n")
            self.keys = [k for k in header.split(",") if k]
            self.separator = ","
            self.quotechar = '"'
            self.file.seek(0, 2)
            if self.file.tell() > 0:
                self.file.seek(self.file.tell() - 1)
                last = self.file.read(1)
                self.file.seek(0, 2)
                if last != "\n":  # a row cut short by a crash: end it
                    self.file.write("\n")

    return AppendingCSVOutputFormat


def make_logger(run: RunDirectory, tensorboard: bool, append: bool = False) -> Any:
    """SB3 logger writing ``progress.csv`` and TensorBoard events into the run directory.

    With ``append`` (resuming), ``progress.csv`` is continued and TensorBoard gets a new event
    file in the same ``tensorboard/`` folder; SB3 logs with ``step=num_timesteps``, so the
    curves continue where they stopped.
    """
    from stable_baselines3.common.logger import CSVOutputFormat, Logger, TensorBoardOutputFormat

    csv_format = _appending_csv_class()(str(run.progress_csv)) if append else CSVOutputFormat(str(run.progress_csv))
    formats: list = [csv_format]
    if tensorboard:
        formats.append(TensorBoardOutputFormat(str(run.tensorboard_dir)))
    return Logger(folder=str(run.path), output_formats=formats)
