"""SB3 callbacks: what happens around ``model.learn`` without touching the algorithm.

SB3 calls ``_on_step`` after every vector-env step (``n_envs`` agent steps at once), so each
callback here checks cheaply whether its moment has come (every N agent steps or seconds).
Callbacks receive the envs and the run directory; they never build them.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from simple_game.runs import RunDirectory, save_checkpoint

if TYPE_CHECKING:
    from rich.console import Console
    from stable_baselines3.common.vec_env import VecEnv

MetadataFn = Callable[[int], dict]


def _episode_scores(model: Any) -> list[float]:
    """True game scores of the last (up to 100) finished games, from SB3's Monitor info."""
    return [float(info["r"]) for info in (model.ep_info_buffer or [])]


class ConsoleCallback(BaseCallback):
    """A compact rich table row every ``interval_s`` seconds: steps, fps, score, ETA."""

    COLUMNS = (("steps", 12), ("done", 6), ("fps", 7), ("games", 7), ("mean score", 11), ("best eval", 10), ("elapsed", 9), ("ETA", 9))

    def __init__(self, total_timesteps: int, interval_s: float = 10.0, console: Optional["Console"] = None, start_step: int = 0):
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
        eval_env: "VecEnv",
        run: RunDirectory,
        freq: int,
        n_episodes: int,
        deterministic: bool,
        metadata: MetadataFn,
        console: Optional[ConsoleCallback] = None,
        best_mean: Optional[float] = None,
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
        self.best_result: Optional[dict[str, float]] = None
        self._last_eval_step = -1
        self._t0 = time.monotonic()

    def on_period(self) -> bool:
        self.evaluate()
        return True

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
            save_checkpoint(self.model, self.run.best_path, self.metadata(self.num_timesteps) | {"eval_mean": result["mean_score"], "eval_std": result["std_score"]})
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
    """Save ``checkpoints/step_<N>.zip`` every ``freq`` steps, point ``latest`` at it, keep the last K."""

    def __init__(self, run: RunDirectory, freq: int, keep: int, metadata: MetadataFn, save_replay_buffer: bool = False):
        super().__init__(freq)
        self.run = run
        self.keep = keep
        self.metadata = metadata
        self.save_replay_buffer = save_replay_buffer
        self.last_saved_step = -1

    def on_period(self) -> bool:
        self.save()
        return True

    def save(self) -> None:
        if self.last_saved_step == self.num_timesteps:
            return
        path = self.run.step_path(self.num_timesteps)
        if self.save_replay_buffer and hasattr(self.model, "replay_buffer") and self.model.replay_buffer is not None:
            self._save_replay_buffer(path)
        save_checkpoint(self.model, path, self.metadata(self.num_timesteps))
        self.run.set_latest(path)
        self.run.prune_checkpoints(self.keep)
        self.last_saved_step = self.num_timesteps

    def _save_replay_buffer(self, checkpoint: "Any") -> None:
        import io
        import pickle

        from simple_game.runs import atomic_write_bytes

        buffer = io.BytesIO()
        pickle.dump(self.model.replay_buffer, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write_bytes(checkpoint.with_name(checkpoint.stem + "_replay_buffer.pkl"), buffer.getvalue())


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
        self.scores: "deque[float]" = deque(maxlen=window)
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
                save_checkpoint(self.model, self.run.skill_path(level), meta)
                self.reached.append(level)
                self.logger.record("milestones/skill_level", level)
                if self.verbose:
                    print(f"skill level {level} reached at {self.num_timesteps} steps (mean {mean:.1f} >= {threshold:g})")
