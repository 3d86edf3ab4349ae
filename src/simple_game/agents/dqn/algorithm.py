"""SB3's DQN with Double DQN, prioritized replay and n-step returns, each off by default.

With every option at its default this trains exactly as ``stable_baselines3.DQN`` (same
random draws, same operations, bit-identical weights; ``tests/test_dqn_algorithm.py`` checks
it), so checkpoints, callbacks, logging and ``--resume`` behave as for SB3's DQN.

- ``double=True`` (van Hasselt et al. 2016): the max over the target network's values is
  biased upwards (the max of noisy estimates overestimates); Double DQN lets the online
  network pick the next action and the target network score it:
  ``y = r + gamma * Q_target(s', argmax_a Q_online(s', a))``.
- ``replay_buffer_class=PrioritizedReplayBuffer`` (or ``PrioritizedFrameReplayBuffer``): see
  :mod:`.prioritized`; the loss of each sample is scaled by its importance weight and its
  priority becomes its new ``|TD error|``.
- ``replay_buffer_class=FrameReplayBuffer``: each frame stored once (:mod:`.frame_replay`).
- ``n_steps`` (SB3's own argument): n-step returns. Uniform replay uses SB3's
  ``NStepReplayBuffer`` as is; with our buffers ``n_steps`` and ``gamma`` are handed to the
  buffer, which computes the same returns.
- ``policy="DuelingCnnPolicy"``: the dueling network of :mod:`.dueling`.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, ClassVar, Optional

import numpy as np
import torch as th
from stable_baselines3 import DQN as SB3DQN
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, ReplayBufferSamples, Schedule
from stable_baselines3.dqn.policies import DQNPolicy
from torch.nn import functional as F

from simple_game.agents.dqn.dueling import DuelingCnnPolicy
from simple_game.agents.dqn.frame_replay import FrameReplayBuffer
from simple_game.agents.dqn.prioritized import PrioritizedBatch, PrioritizedSampling

__all__ = ["DQN"]


class DQN(SB3DQN):
    """``stable_baselines3.DQN`` plus ``double``; takes our replay buffers and ``DuelingCnnPolicy``.

    :param double: Double DQN targets (the online network chooses, the target network evaluates).
    The other arguments are SB3's, with SB3's defaults.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        **SB3DQN.policy_aliases,
        "DuelingCnnPolicy": DuelingCnnPolicy,
    }

    def __init__(  # noqa: PLR0913 - SB3's signature, listed so the config check sees every argument
        self,
        policy: str | type[DQNPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-4,
        buffer_size: int = 1_000_000,
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
        exploration_fraction: float = 0.1,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.05,
        max_grad_norm: float = 10,
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
        """SB3's setup; our buffers (prioritized, frame-sharing) get the algorithm's ``n_steps`` and ``gamma``."""
        buffer_class = self.replay_buffer_class
        ours = isinstance(buffer_class, type) and issubclass(buffer_class, (PrioritizedSampling, FrameReplayBuffer))
        if ours:
            for key, value in (("n_steps", self.n_steps), ("gamma", self.gamma)):
                given = self.replay_buffer_kwargs.setdefault(key, value)
                if given != value:
                    raise ValueError(f"replay_buffer_kwargs.{key}: set hyperparams.{key} instead ({given} != {value})")
        if self.optimize_memory_usage and (ours or self.n_steps > 1):
            raise ValueError(
                "optimize_memory_usage: true does not work with n_steps > 1, prioritized or frame-sharing replay"
            )
        _check_buffer_kwargs(buffer_class or (NStepReplayBuffer if self.n_steps > 1 else ReplayBuffer), self)
        with warnings.catch_warnings():
            if ours:  # SB3 warns that a custom buffer ignores n_steps; ours was just given it
                warnings.filterwarnings("ignore", message=r"`n_steps=\d+` is ignored")
            super()._setup_model()

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """SB3's DQN update, op for op, with the Double target and the prioritized loss when enabled.

        Beside SB3's ``train/loss`` it logs what a DQN user watches (docs/metrics.md):
        ``train/q_mean`` and ``train/q_max`` of the chosen actions' ``Q(s, a)``,
        ``train/td_error_mean`` (mean ``|Q(s, a) - target|``) and ``train/grad_norm`` (before
        clipping). They are read from tensors the update computes anyway, so no number changes.
        """
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        buffer = self.replay_buffer
        assert buffer is not None
        prioritized = isinstance(buffer, PrioritizedSampling)
        beta = buffer.beta(self._current_progress_remaining) if isinstance(buffer, PrioritizedSampling) else 1.0
        losses, weight_means, stats = [], [], []
        for _ in range(gradient_steps):
            batch: Optional[PrioritizedBatch] = None
            if isinstance(buffer, PrioritizedSampling):
                batch = buffer.sample_prioritized(batch_size, beta, env=self._vec_normalize_env)
                replay_data = batch.samples
                weight_means.append(float(batch.weights.mean()))
            else:
                replay_data = buffer.sample(batch_size, env=self._vec_normalize_env)
            loss, chosen_q, td_errors = self._loss(replay_data, batch)
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            grad_norm = th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
            stats.append(_update_stats(chosen_q, td_errors, grad_norm))
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))
        self._record_update_stats(stats)
        if prioritized:
            self.logger.record("train/per_beta", beta)
            self.logger.record("train/per_weight_mean", np.mean(weight_means))

    def _record_update_stats(self, stats: list[th.Tensor]) -> None:
        """Log this round's Q, TD-error and gradient-norm figures; one device-to-host copy for all steps."""
        if not stats:
            return
        rows = th.stack(stats).cpu().numpy()  # (gradient_steps, 4): q mean, q max, mean |TD error|, grad norm
        self.logger.record("train/q_mean", float(rows[:, 0].mean()))
        self.logger.record("train/q_max", float(rows[:, 1].max()))
        self.logger.record("train/td_error_mean", float(rows[:, 2].mean()))
        self.logger.record("train/grad_norm", float(rows[:, 3].mean()))

    def _loss(
        self, replay_data: ReplayBufferSamples, batch: Optional[PrioritizedBatch]
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """Huber loss between Q(s, a) and the TD target; importance-weighted, with new priorities, under PER.

        Returns the loss, the chosen actions' ``Q(s, a)`` and the TD errors ``Q(s, a) - target``
        (both detached, ``(batch, 1)``).
        """
        discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma
        with th.no_grad():
            next_q_values = self.next_q_values(replay_data.next_observations)
            target_q_values = replay_data.rewards + (1 - replay_data.dones) * discounts * next_q_values
        current_q_values = self.q_net(replay_data.observations)
        current_q_values = th.gather(current_q_values, dim=1, index=replay_data.actions.long())
        chosen_q = current_q_values.detach()
        td_errors = chosen_q - target_q_values
        if batch is None:
            return F.smooth_l1_loss(current_q_values, target_q_values), chosen_q, td_errors
        assert isinstance(self.replay_buffer, PrioritizedSampling)
        self.replay_buffer.update_priorities(batch.batch_inds, batch.env_inds, td_errors.cpu().numpy())
        elementwise = F.smooth_l1_loss(current_q_values, target_q_values, reduction="none")
        return (batch.weights * elementwise).mean(), chosen_q, td_errors

    def next_q_values(self, next_observations: th.Tensor) -> th.Tensor:
        """The value of the next state, ``(batch, 1)``: max of the target network, or Double DQN's."""
        target_values = self.q_net_target(next_observations)
        if self.double:
            next_actions = self.q_net(next_observations).argmax(dim=1, keepdim=True)
            return th.gather(target_values, dim=1, index=next_actions)
        best, _ = target_values.max(dim=1)
        return best.reshape(-1, 1)


def _update_stats(chosen_q: th.Tensor, td_errors: th.Tensor, grad_norm: th.Tensor) -> th.Tensor:
    """One gradient step's ``[mean Q, max Q, mean |TD error|, grad norm]``, left on the device."""
    with th.no_grad():
        return th.stack((chosen_q.mean(), chosen_q.max(), td_errors.abs().mean(), grad_norm.to(chosen_q)))


def _check_buffer_kwargs(buffer_class: type, model: DQN) -> None:
    """An option the buffer does not take is a ``ValueError`` naming ``replay_buffer_kwargs``."""
    parameters = inspect.signature(buffer_class).parameters
    accepted = set(parameters)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):  # NStepReplayBuffer(**kwargs)
        accepted |= set(inspect.signature(ReplayBuffer).parameters)
    own = {"buffer_size", "observation_space", "action_space", "device", "n_envs", "optimize_memory_usage"}
    allowed = sorted(accepted - own - {"args", "kwargs"})
    for key in model.replay_buffer_kwargs:
        if key not in accepted or key in own:
            raise ValueError(
                f"replay_buffer_kwargs.{key}: unknown option for {buffer_class.__name__} "
                f"(allowed: {', '.join(allowed) or 'none'})"
            )
