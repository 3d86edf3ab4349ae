"""The dueling network (Wang et al. 2016): Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a').

In many states the action hardly matters (no ball near the paddle); a dueling head learns
how good the state is, ``V(s)``, separately from how much better each action is, ``A(s, a)``,
so every update improves ``V`` whichever action was taken. ``V + A`` alone is not
identifiable (a constant can move from one stream to the other), so the mean advantage is
subtracted: the advantages of a state then average to 0 and ``V`` is the mean Q-value.

Both streams sit on the policy's features extractor (``SimpleNatureCNN`` in our Atari
configs) and each is an MLP with the policy's ``net_arch`` hidden layers, as SB3's single
Q head is. Select it with ``policy: DuelingCnnPolicy`` (algo ``dqn``); checkpoints record
this class, so ``evaluate``, ``record`` and ``--resume`` rebuild the same network.
"""

from __future__ import annotations

from typing import Any

import torch as th
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.dqn.policies import CnnPolicy, QNetwork
from torch import nn

__all__ = ["DuelingCnnPolicy", "DuelingQNetwork", "dueling_aggregate"]


def dueling_aggregate(value: th.Tensor, advantages: th.Tensor) -> th.Tensor:
    """``Q = V + A - mean(A)``: ``value`` is ``(batch, 1)``, ``advantages`` ``(batch, n_actions)``."""
    return value + advantages - advantages.mean(dim=1, keepdim=True)


class DuelingQNetwork(QNetwork):
    """SB3's ``QNetwork`` with a value stream and an advantage stream instead of one Q head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.q_net  # SB3's single head; the two streams below replace it
        n_actions = int(self.action_space.n)
        self.value_net = nn.Sequential(*create_mlp(self.features_dim, 1, self.net_arch, self.activation_fn))
        self.advantage_net = nn.Sequential(*create_mlp(self.features_dim, n_actions, self.net_arch, self.activation_fn))

    def forward(self, obs: th.Tensor) -> th.Tensor:  # type: ignore[override]
        """Q-values ``(batch, n_actions)`` from the shared features."""
        features = self.extract_features(obs, self.features_extractor)
        return dueling_aggregate(self.value_net(features), self.advantage_net(features))


class DuelingCnnPolicy(CnnPolicy):
    """SB3's DQN ``CnnPolicy`` whose online and target networks are :class:`DuelingQNetwork`."""

    def make_q_net(self) -> QNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return DuelingQNetwork(**net_args).to(self.device)
