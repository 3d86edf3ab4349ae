"""Reward shaping for training: a living penalty and a life-loss penalty, on every backend.

Reward shaping adds an extra reward to the game's own so the agent learns something sooner:
here ``-living_penalty`` at every agent step and ``-life_loss_penalty`` when a life is lost.
It changes what the agent optimises. A living penalty makes every step cost something, so in
a game where the agent cannot gain points, ending the game sooner is worth more than playing
on; a life-loss penalty repeats what ``terminal_on_life_loss`` already teaches (losing a life
ends the value of the future). Only potential-based shaping (Ng, Harada and Russell 1999) is
sure to keep the best policy unchanged; these two penalties are not of that form.

:class:`RewardShaping` is an SB3 ``VecEnvWrapper`` above the finished training env, whichever
backend built it, so it acts the same on all of them. It sits above the backend's reward
clipping: a clipped brick (+1) and the penalties are on one scale, as the recipes that use
these numbers assume. Clipping after shaping would be wrong: ``sign(0 - 0.001)`` turns the
living penalty into -1 at every step without points.

Game scores stay raw: ``info["episode"]["r"]`` (from ``Monitor`` or the C++ backend) is never
touched; the shaped return of the whole game is added beside it as ``info["episode"]["shaped_r"]``
(the sum of the rewards the agent learned from, clipped and shaped, over all lives).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

__all__ = ["SHAPED_RETURN_KEY", "RewardShaping", "lives_lost"]

SHAPED_RETURN_KEY = "shaped_r"
_UNKNOWN = -1  # lives of a game that has not reported them yet


def lives_lost(before: np.ndarray, lives: np.ndarray, game_over: np.ndarray, truncated: np.ndarray) -> np.ndarray:
    """Which envs lost a life on this step.

    Within a game: the lives counter went down (a bonus life going up is not a loss). At game
    over the counter is no help (the C++ backend already reports the next game's lives), so a
    game that ended by itself, not cut off by the frame limit, lost its last life when it had
    lives to lose: Breakout going from 1 to game over does, Pong (no lives counter) does not.
    """
    in_game = (before != _UNKNOWN) & (lives < before)
    last_life = ~truncated & (before > 0)
    return np.where(game_over, last_life, in_game)


class RewardShaping(VecEnvWrapper):
    """Training rewards minus ``living_penalty`` every step and ``life_loss_penalty`` per life lost.

    Lives are read from ``infos[i]["lives"]`` (both backends report them at every step), game
    overs from ``infos[i]["episode"]``, which is why the env below must record whole games like
    ``Monitor``. The first step of each game only reads its lives counter.
    """

    def __init__(self, venv: VecEnv, *, living_penalty: float = 0.0, life_loss_penalty: float = 0.0) -> None:
        super().__init__(venv)
        if not all(venv.env_is_wrapped(Monitor)):
            raise ValueError("RewardShaping needs an env that reports whole games like Monitor (info['episode'])")
        if min(living_penalty, life_loss_penalty) < 0 or not np.isfinite([living_penalty, life_loss_penalty]).all():
            raise ValueError(f"penalties must be finite and >= 0, got {living_penalty}, {life_loss_penalty}")
        self.living_penalty = float(living_penalty)
        self.life_loss_penalty = float(life_loss_penalty)
        self._lives = np.full(self.num_envs, _UNKNOWN, dtype=np.int64)
        self._shaped_return = np.zeros(self.num_envs, dtype=np.float64)

    def reset(self) -> VecEnvObs:
        obs = self.venv.reset()
        self._lives[:] = _UNKNOWN  # SB3's FireResetEnv returns reset infos without lives
        self._shaped_return[:] = 0.0
        return obs

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        lives = np.array([info.get("lives", _UNKNOWN) for info in infos], dtype=np.int64)
        game_over = np.array(["episode" in info for info in infos], dtype=bool)
        truncated = np.array([bool(info.get("TimeLimit.truncated", False)) for info in infos], dtype=bool)
        lost = lives_lost(self._lives, lives, game_over, truncated)
        shaped = (rewards - self.living_penalty - self.life_loss_penalty * lost).astype(np.float32)
        self._shaped_return += shaped
        for i in np.flatnonzero(game_over).tolist():
            self._end_game(i, infos[i])
        self._lives = np.where(game_over, _UNKNOWN, lives)
        return obs, shaped, dones, infos

    def _end_game(self, i: int, info: dict[str, Any]) -> None:
        # A new dict: Monitor keeps its own, and "r" stays the raw game score.
        info["episode"] = {**info["episode"], SHAPED_RETURN_KEY: float(self._shaped_return[i])}
        self._shaped_return[i] = 0.0
