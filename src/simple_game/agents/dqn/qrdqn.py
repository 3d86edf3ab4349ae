"""sb3-contrib's QR-DQN plus ``double``, and our shared-frame buffers with n-step returns.

QR-DQN (Dabney et al. 2018) learns ``n_quantiles`` quantiles of the return for each action
instead of its mean; the greedy action is the one whose quantiles have the largest mean. Its
target bootstraps from the quantiles of that greedy next action.

Double QR-DQN is well defined the same way as Double DQN: the online network's quantiles
choose the next action (largest mean), the target network's quantiles of *that* action are
the target, ``T = r + gamma (1 - done) Z_target(s', argmax_a mean_j Z_online(s', a)_j)``.
sb3-contrib picks the action with the target network's own means.

With ``double: false`` (the default) training is sb3-contrib's, op for op (bit-identical
weights; ``tests/test_dqn_qrdqn.py``), and its checkpoints load into this class.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np
import torch as th
from sb3_contrib import QRDQN as ContribQRDQN
from sb3_contrib.common.utils import quantile_huber_loss
from sb3_contrib.qrdqn.policies import QRDQNPolicy
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import GymEnv, Schedule

from simple_game.agents.dqn.frame_replay import FrameReplayBuffer

__all__ = ["QRDQN"]


class QRDQN(ContribQRDQN):
    """``sb3_contrib.QRDQN`` plus ``double`` (the online quantiles pick the next action, the target's score it).

    The other arguments are sb3-contrib's, with its defaults.
    """

    def __init__(  # noqa: PLR0913 - sb3-contrib's signature, listed so the config check sees every argument
        self,
        policy: str | type[QRDQNPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 5e-5,
        buffer_size: int = 1000000,
        learning_starts: int = 100,
        batch_size: int = 32,
        tau: float = 1.0,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 4,
        gradient_steps: int = 1,
        replay_buffer_class: Optional[type[ReplayBuffer]] = None,
        replay_buffer_kwargs: Optional[dict[str, Any]] = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 1,
        target_update_interval: int = 10000,
        exploration_fraction: float = 0.005,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.01,
        max_grad_norm: Optional[float] = None,
        double: bool = False,
        stats_window_size: int = 100,
        tensorboard_log: Optional[str] = None,
        policy_kwargs: Optional[dict[str, Any]] = None,
        verbose: int = 0,
        seed: Optional[int] = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        args = {k: v for k, v in locals().items() if k not in ("self", "__class__", "double", "_init_setup_model")}
        super().__init__(**args, _init_setup_model=False)
        self.double = bool(double)
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        """sb3-contrib's setup; a shared-frame buffer gets the algorithm's ``n_steps`` and ``gamma``."""
        buffer_class = self.replay_buffer_class
        frames = isinstance(buffer_class, type) and issubclass(buffer_class, FrameReplayBuffer)
        if frames:
            for key, value in (("n_steps", self.n_steps), ("gamma", self.gamma)):
                given = self.replay_buffer_kwargs.setdefault(key, value)
                if given != value:
                    raise ValueError(f"replay_buffer_kwargs.{key}: set hyperparams.{key} instead ({given} != {value})")
        with warnings.catch_warnings():
            if frames:  # SB3 warns that a custom buffer ignores n_steps; ours was just given it
                warnings.filterwarnings("ignore", message=r"`n_steps=\d+` is ignored")
            super()._setup_model()

    def next_quantiles(self, next_observations: th.Tensor) -> th.Tensor:
        """The target quantiles of the next state's greedy action, ``(batch, n_quantiles)``.

        The greedy action has the largest mean quantile: of the target network (sb3-contrib),
        or of the online network with ``double``.
        """
        target = self.quantile_net_target(next_observations)  # (batch, n_quantiles, n_actions)
        chooser = self.quantile_net(next_observations) if self.double else target
        greedy = chooser.mean(dim=1, keepdim=True).argmax(dim=2, keepdim=True)
        greedy = greedy.expand(target.shape[0], target.shape[1], 1)
        return target.gather(dim=2, index=greedy).squeeze(dim=2)

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """sb3-contrib's QR-DQN update, op for op, with the target quantiles of :meth:`next_quantiles`."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses = []
        for _ in range(gradient_steps):
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma
            with th.no_grad():
                next_quantiles = self.next_quantiles(replay_data.next_observations)
                target_quantiles = replay_data.rewards + (1 - replay_data.dones) * discounts * next_quantiles
            current_quantiles = self.quantile_net(replay_data.observations)
            actions = replay_data.actions[..., None].long().expand(batch_size, self.n_quantiles, 1)
            current_quantiles = th.gather(current_quantiles, dim=2, index=actions).squeeze(dim=2)
            loss = quantile_huber_loss(current_quantiles, target_quantiles, sum_over_quantiles=True)
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            if self.max_grad_norm is not None:
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))
