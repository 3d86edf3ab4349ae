"""The shaped return beside the game score: ``rollout/shaped_return_mean``."""

from __future__ import annotations

from collections import deque
from typing import Optional

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from simple_game.envs import SHAPED_RETURN_KEY

__all__ = ["SHAPED_RETURN_METRIC", "ShapedReturnCallback"]

SHAPED_RETURN_METRIC = "rollout/shaped_return_mean"


class ShapedReturnCallback(BaseCallback):
    """Log the mean shaped return of the last 100 games (SB3's window for ``rollout/ep_rew_mean``).

    With ``env.reward_shaping`` the agent learns from clipped rewards minus penalties, while
    ``rollout/ep_rew_mean`` stays the raw game score; this metric shows what is optimised. The
    training env puts each finished game's shaped return in ``info["episode"]["shaped_r"]``
    (:mod:`simple_game.envs.shaping`); without shaping there is none and nothing is logged.
    """

    def __init__(self, window: Optional[int] = None) -> None:
        super().__init__()
        self.window = window
        self.returns: deque[float] = deque(maxlen=window or 100)
        self._mean: Optional[float] = None

    def _init_callback(self) -> None:
        if self.window is None:  # the model's stats window, as SB3 uses for ep_rew_mean
            self.returns = deque(self.returns, maxlen=int(getattr(self.model, "_stats_window_size", 100)))

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            episode = info.get("episode")
            if episode is not None and SHAPED_RETURN_KEY in episode:
                self.returns.append(float(episode[SHAPED_RETURN_KEY]))
                self._mean = None
        if self.returns:
            if self._mean is None:
                self._mean = float(np.mean(self.returns))
            # Recorded at every step (a dict write), so whichever step SB3 dumps its logs at has it.
            self.logger.record(SHAPED_RETURN_METRIC, self._mean)
        return True
