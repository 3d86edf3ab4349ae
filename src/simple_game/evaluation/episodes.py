"""The one loop that plays whole games, and how they were played.

Evaluation envs play whole games (a lost life does not end the episode) with raw, unclipped
rewards, the config's protocol (sticky actions or not, up to ``noop_max`` random no-ops at
reset) and its frame cap (``env.max_frames_per_episode``, 108,000 frames = 30 minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, cast

import numpy as np

from simple_game.config import EnvConfig
from simple_game.errors import SimpleGameError
from simple_game.stats import summarize

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env import VecEnv


@dataclass
class EpisodeResults:
    """Raw scores and lengths (agent steps) of whole games, in the order they finished."""

    scores: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)
    monitor_lengths: list[int] = field(default_factory=list)  # Monitor's ``l`` (SB3 backends: + FIRE-reset steps)

    def summary(self) -> dict[str, Any]:
        """``n_episodes``, score mean/std/median/min/max, ``mean_length`` and ``n_truncated``."""
        scores = summarize(self.scores)
        if scores is None:
            return {"n_episodes": 0}
        return {
            "n_episodes": scores.n,
            "mean": scores.mean,
            "std": scores.std,
            "median": scores.median,
            "min": scores.min,
            "max": scores.max,
            "mean_length": float(np.mean(self.lengths)),
            "n_truncated": int(sum(self.truncated)),
        }


def run_episodes(
    env: VecEnv,
    act: Callable[[np.ndarray], np.ndarray],
    n_episodes: int,
    on_episode: Optional[Callable[[int, float, int], None]] = None,
) -> EpisodeResults:
    """Play ``n_episodes`` whole games on ``env`` (an evaluation vector env) with ``act``.

    On :class:`~simple_game.evaluation.batched.SeededGames` (what ``evaluate`` plays on) game
    ``j`` is reset with ``seed + j`` and has its own random numbers, so the scores, in game order,
    do not depend on how many games run at once (:func:`~simple_game.evaluation.batched.play_games`).
    On any other vector env (training's evaluation) each env plays on from its first seed. There,
    a game is counted when SB3's ``Monitor`` reports it (``info["episode"]``: the true score
    over all lives). With several envs, env ``i`` plays a fixed quota of games
    (``(n_episodes + i) // n_envs``), as SB3's ``evaluate_policy`` does, so short games are not
    over-represented just because they finish first. ``on_episode(i, score, length)`` is called
    as game ``i`` (1-based) finishes.
    """
    if n_episodes < 1:
        raise SimpleGameError(f"--episodes: must be at least 1, got {n_episodes}")
    play_games = getattr(env, "play_games", None)  # SeededGames plays its own way
    if play_games is not None:
        return cast(EpisodeResults, play_games(act, n_episodes, on_episode))
    n_envs = env.num_envs
    quota = np.array([(n_episodes + i) // n_envs for i in range(n_envs)], dtype=int)
    played = np.zeros(n_envs, dtype=int)
    steps = np.zeros(n_envs, dtype=int)
    results = EpisodeResults()
    obs = cast(np.ndarray, env.reset())  # Atari observations are arrays, not dicts or tuples
    while (played < quota).any():
        step_obs, _rewards, dones, infos = env.step(act(obs))
        obs = cast(np.ndarray, step_obs)
        steps += 1
        for i in np.flatnonzero(dones):
            episode = infos[i].get("episode")
            if episode is not None and played[i] < quota[i]:
                results.scores.append(float(episode["r"]))
                results.lengths.append(int(steps[i]))
                results.truncated.append(bool(infos[i].get("TimeLimit.truncated", False)))
                played[i] += 1
                if on_episode is not None:
                    on_episode(len(results.scores), results.scores[-1], results.lengths[-1])
            steps[i] = 0
    return results


def protocol_info(env_cfg: EnvConfig, *, epsilon: float, deterministic: bool, seed: int, n_envs: int) -> dict[str, Any]:
    """How the games were played, for the JSON report: enough to reproduce the numbers."""
    return {
        "protocol": env_cfg.protocol,
        "sticky_action_probability": env_cfg.sticky_probability,
        "noop_max": env_cfg.noop_max,
        "frame_skip": env_cfg.frame_skip,
        "max_frames_per_episode": env_cfg.max_frames_per_episode,
        "frame_stack": env_cfg.frame_stack,
        "screen_size": env_cfg.screen_size,
        "full_games": True,
        "raw_scores": True,
        "epsilon": epsilon,
        "actions": "greedy" if deterministic else "sampled",
        "seed": seed,
        "game_seeds": "game j (0-based): emulator reset with seed + j, random actions from a generator seeded seed + j",
        "n_envs": n_envs,
    }
