"""Evaluation during training: whole games on a separate env, raw scores, the best model kept."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Optional, cast

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from simple_game.callbacks.console import ConsoleCallback
from simple_game.callbacks.failure_gate import save_if_finite
from simple_game.callbacks.periodic import MetadataFn, PeriodicCallback
from simple_game.evaluation import DEFAULT_EPSILON, EpisodeResults, EpsilonGreedy, run_episodes
from simple_game.evaluation.batched import SeededGames
from simple_game.runs import RunDirectory
from simple_game.stats import summarize

if TYPE_CHECKING:
    from gymnasium.spaces import Discrete
    from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn


class EvaluationCallback(PeriodicCallback):
    """Evaluate on a separate env every ``freq`` steps: whole games, raw scores.

    The games are played as ``simple_game.evaluate`` plays them: the same loop
    (:func:`simple_game.evaluation.run_episodes`) and the same actor
    (:class:`simple_game.evaluation.EpsilonGreedy`): the policy's greedy action (sampled for
    PPO/A2C when ``deterministic`` is false), replaced by a random one with probability
    ``epsilon``. DQN's own exploration rate is never used here, so ``best.zip``, ``eval.csv``
    and ``evaluate`` measure the same thing. On :class:`~simple_game.evaluation.batched.SeededGames`
    (what training makes) every evaluation plays games ``0 .. n-1`` seeded ``seed + j``, env and
    random actions, the games of ``evaluate --seed <seed>``: checkpoints are compared on the same
    games. On a plain vector env the random actions of the evaluation at step N start from
    ``seed + N`` and the envs play on from game to game.
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
        *,
        epsilon: float = DEFAULT_EPSILON,
        seed: int = 0,
    ):
        super().__init__(freq)
        self.eval_env = eval_env if isinstance(eval_env, SeededGames) else _GameLengths(eval_env)
        self.run = run
        self.n_episodes = n_episodes
        self.deterministic = deterministic
        self.epsilon = epsilon
        self.seed = seed
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

    def actor(self) -> EpsilonGreedy:
        """The actor of the evaluation at this step: ``evaluate``'s, seeded with ``seed + step``."""
        n_actions = int(cast("Discrete", self.eval_env.action_space).n)  # Atari action sets are discrete
        return EpsilonGreedy(
            self.model,
            n_actions,
            epsilon=self.epsilon,
            deterministic=self.deterministic,
            seed=self.seed + int(self.num_timesteps),
        )

    def evaluate(self) -> dict[str, float]:
        """Play the games, then record the result (eval.csv, logger, console) and keep the best model."""
        games = run_episodes(self.eval_env, self.actor(), self.n_episodes)
        scores = summarize(games.scores)
        assert scores is not None  # run_episodes plays at least one game
        result = {
            "timesteps": int(self.num_timesteps),
            "mean_score": scores.mean,
            "std_score": scores.std,
            "median_score": scores.median,
            "min_score": scores.min,
            "max_score": scores.max,
            "mean_length": float(np.mean(self._monitor_lengths(games))),
            "n_episodes": scores.n,
            "wall_time_s": round(time.monotonic() - self._t0, 2),
        }
        self._last_eval_step = self.num_timesteps
        self.last_result = result
        if self.best_mean is None or result["mean_score"] > self.best_mean:
            self.best_mean = result["mean_score"]
            self.best_result = result
            best_meta = {"eval_mean": result["mean_score"], "eval_std": result["std_score"]}
            save_if_finite(self.model, self.run.best_path, self.metadata(self.num_timesteps) | best_meta)
        self.run.append_eval_row(result)
        self._report(result)
        return result

    def _monitor_lengths(self, games: EpisodeResults) -> list[int]:
        if isinstance(self.eval_env, _GameLengths):
            return self.eval_env.counted(self.n_episodes)
        return games.monitor_lengths

    def _report(self, result: dict[str, float]) -> None:
        self.logger.record("eval/mean_score", result["mean_score"])
        self.logger.record("eval/std_score", result["std_score"])
        self.logger.record("eval/mean_length", result["mean_length"])
        self.logger.record("eval/best_mean_score", self.best_mean)
        self.logger.dump(self.num_timesteps)
        if self.console is not None:
            self.console.best_eval = self.best_mean
            if self.console.console is not None:
                self.console.console.print(
                    f"[bold]eval[/bold] @ {self.num_timesteps:,} steps: score {result['mean_score']:.1f} "
                    f"± {result['std_score']:.1f} over {result['n_episodes']} games (best {self.best_mean:.1f})"
                )


class _GameLengths(VecEnvWrapper):
    """Records SB3 ``Monitor``'s length of every whole game, per env (``info["episode"]["l"]``).

    ``eval.csv``'s ``mean_length`` has always been Monitor's number (SB3's ``evaluate_policy``
    reports it). On the SB3 backends Monitor also counts the two steps ``FireResetEnv`` takes at
    reset (FIRE games such as Breakout and Pong), which ``run_episodes``' own step count leaves
    out; on the C++ backend the two agree. Kept so the column means what it meant.
    """

    def __init__(self, venv: VecEnv):
        super().__init__(venv)
        self.per_env: list[list[int]] = [[] for _ in range(venv.num_envs)]

    def reset(self) -> np.ndarray:
        self.per_env = [[] for _ in range(self.num_envs)]
        return self.venv.reset()  # type: ignore[return-value]

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        for i in np.flatnonzero(dones):
            episode = infos[i].get("episode")
            if episode is not None:
                self.per_env[i].append(int(episode["l"]))
        return obs, rewards, dones, infos

    def counted(self, n_episodes: int) -> list[int]:
        """The games ``run_episodes`` counted since the last reset: env ``i``'s first ``(n + i) // n_envs``."""
        n_envs = self.num_envs
        return [length for i, lengths in enumerate(self.per_env) for length in lengths[: (n_episodes + i) // n_envs]]
