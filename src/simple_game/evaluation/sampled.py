"""Sampled actions for several games from one batched forward pass, each as if played alone.

A PPO or A2C agent can act by sampling from its policy (``--sample``, ``sampling: stochastic``),
and each game draws from its own torch generator state (:class:`EpisodeRandom`), so its actions
do not depend on which games share its batch. SB3 samples a categorical policy with
``torch.multinomial(probs, 1)``, which draws one ``q ~ Exp(1)`` per action from the generator
and returns ``argmax(probs / q)``: the Gumbel-max trick, written with exponentials. Here the
same draw, from the game's own state, is applied to the batched probabilities. Those can differ
from a batch of one in their last bits (another summation order), which can only matter where
the two largest ratios are within rounding of each other: such a row is drawn again from a
batch-of-one pass, from the same state, exactly the call the game would have made alone.

The first batched call checks every row, action and generator state, against that lone call
and keeps to lone calls if they ever disagree (a torch whose ``multinomial`` draws otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

import numpy as np
import torch
from stable_baselines3.common.distributions import CategoricalDistribution
from stable_baselines3.common.policies import ActorCriticPolicy

from simple_game.evaluation.batched import BatchInvariant, EpisodeRandom, alone_action

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm


def sampled_actions(model: BaseAlgorithm, obs: np.ndarray, randoms: Sequence[EpisodeRandom]) -> np.ndarray:
    """Actions sampled from the policy one game at a time, each with its own torch generator state."""
    actions = np.empty(len(obs), dtype=np.int64)
    saved = torch.get_rng_state()
    try:
        for i, (o, rand) in enumerate(zip(obs, randoms, strict=True)):
            if rand.torch_state is None:
                raise ValueError("sampled actions need EpisodeRandom(..., torch_state=True)")
            torch.set_rng_state(rand.torch_state)
            actions[i] = alone_action(model, o, False)
            rand.torch_state = torch.get_rng_state()
    finally:
        torch.set_rng_state(saved)
    return actions


def action_probs(model: BaseAlgorithm, obs: np.ndarray) -> Optional[torch.Tensor]:
    """The categorical policy's probabilities for a batch (``None``: not a categorical policy)."""
    policy = model.policy
    if not isinstance(policy, ActorCriticPolicy):
        return None
    policy.set_training_mode(False)
    with torch.no_grad():
        dist = policy.get_distribution(policy.obs_to_tensor(obs)[0])
    if not isinstance(dist, CategoricalDistribution):
        return None
    return dist.distribution.probs


class BatchedSampled(BatchInvariant):
    """Batch-invariant sampled actions of ``model`` (see the module docstring)."""

    def __call__(self, obs: np.ndarray, randoms: Sequence[EpisodeRandom]) -> np.ndarray:
        probs = action_probs(self.model, obs) if len(obs) > 1 and self.batched else None
        if probs is None:
            self.batched = self.batched and len(obs) == 1
            return sampled_actions(self.model, obs, randoms)
        if self.checked:
            return self._draw(obs, probs, randoms)
        self.checked = True
        before = [rand.torch_state for rand in randoms]
        actions = self._draw(obs, probs, randoms)
        after = [rand.torch_state for rand in randoms]
        for rand, state in zip(randoms, before, strict=True):
            rand.torch_state = state
        alone = sampled_actions(self.model, obs, randoms)
        same_states = all(torch.equal(a, r.torch_state) for a, r in zip(after, randoms, strict=True))  # type: ignore[arg-type]
        if not (np.array_equal(alone, actions) and same_states):
            self.batched = False
        return alone

    def _draw(self, obs: np.ndarray, probs: torch.Tensor, randoms: Sequence[EpisodeRandom]) -> np.ndarray:
        actions = np.empty(len(obs), dtype=np.int64)
        saved = torch.get_rng_state()
        try:
            for i, rand in enumerate(randoms):
                if rand.torch_state is None:
                    raise ValueError("sampled actions need EpisodeRandom(..., torch_state=True)")
                torch.set_rng_state(rand.torch_state)
                row = probs[i : i + 1]
                ratios = (row / torch.empty_like(row).exponential_(1))[0]  # multinomial's own draw
                top = torch.topk(ratios, min(2, len(ratios))).values
                if len(top) > 1 and float(top[0] - top[1]) < self.margin * float(top[0]):
                    torch.set_rng_state(rand.torch_state)
                    actions[i] = alone_action(self.model, obs[i], False)
                    self.rows_alone += 1
                else:
                    actions[i] = int(ratios.argmax())
                rand.torch_state = torch.get_rng_state()
        finally:
            torch.set_rng_state(saved)
        return actions
