"""The base of every 'each ``freq`` agent steps' callback, and the checkpoint-metadata hook type.

SB3 calls ``_on_step`` after every vector-env step, i.e. ``n_envs`` agent steps at once, so
the step counter rarely lands exactly on a multiple of ``freq``: the next moment is the first
step at or after it.
"""

from __future__ import annotations

from collections.abc import Callable

from stable_baselines3.common.callbacks import BaseCallback

# step -> the metadata stored inside a checkpoint saved at that step (see simple_game.agents).
MetadataFn = Callable[[int], dict]


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
