"""Step checkpoints: ``checkpoints/step_<N>.zip`` every ``freq`` steps, safe to crash in at any moment."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from simple_game.agents import rng_state
from simple_game.callbacks.failure_gate import save_if_finite
from simple_game.callbacks.periodic import MetadataFn, PeriodicCallback
from simple_game.fsio import atomic_write_bytes
from simple_game.interrupts import critical_section
from simple_game.runs import RunDirectory


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
        if self._collecting and isinstance(self.model, OnPolicyAlgorithm):
            self.model.num_timesteps = self._rollout_start_step
            self._collecting = False
        self.num_timesteps = int(self.model.num_timesteps)
        return self.num_timesteps

    def save(self) -> None:
        self.num_timesteps = int(self.model.num_timesteps)  # also right after an interrupt
        if self.last_saved_step == self.num_timesteps:
            return
        path = self.run.step_path(self.num_timesteps)
        with critical_section():
            replay_buffer = getattr(self.model, "replay_buffer", None)  # DQN and QR-DQN only
            if self.save_replay_buffer and replay_buffer is not None:
                self._save_replay_buffer(path, replay_buffer)
            save_if_finite(self.model, path, self.metadata(self.num_timesteps) | {"rng": rng_state(self.model)})
            self.run.set_latest(path)
            self.run.prune_checkpoints(self.keep)
        self.last_saved_step = self.num_timesteps

    def _save_replay_buffer(self, checkpoint: Path, replay_buffer: Any) -> None:
        buffer = io.BytesIO()
        pickle.dump(replay_buffer, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write_bytes(self.run.replay_buffer_path(checkpoint), buffer.getvalue())
