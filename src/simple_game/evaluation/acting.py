"""Choosing actions: the one epsilon-greedy actor, and loading the policy it wraps.

With probability epsilon a uniformly random action, otherwise the policy's. A little randomness
(epsilon 0.05, the DQN-paper evaluation protocol) stops a greedy agent from repeating one action
forever, e.g. never pressing FIRE to relaunch the ball in Breakout, which would otherwise stall a
game until the frame cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

import numpy as np
import torch

from simple_game.agents import load_checked_model
from simple_game.compute import apply_compute
from simple_game.errors import SimpleGameError
from simple_game.evaluation.batched import BatchedGreedy, EpisodeRandom
from simple_game.evaluation.sampled import BatchedSampled
from simple_game.evaluation.target import Target

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

DEFAULT_EPSILON = 0.05


def _check_epsilon(epsilon: float) -> float:
    if not 0.0 <= epsilon <= 1.0:
        raise SimpleGameError(f"--epsilon: must be between 0 and 1, got {epsilon}")
    return float(epsilon)


def action_mode(epsilon: Optional[float], deterministic: bool, sample: bool) -> tuple[float, bool]:
    """``(epsilon, greedy?)`` from the ``--epsilon``, ``--deterministic`` and ``--sample`` flags.

    ``--deterministic`` means epsilon 0; ``--sample`` draws PPO/A2C actions from the policy's
    distribution instead of taking the most likely one.
    """
    if sample and deterministic:
        raise SimpleGameError("--sample and --deterministic contradict each other: pick one")
    if deterministic:
        return 0.0, True
    return _check_epsilon(DEFAULT_EPSILON if epsilon is None else float(epsilon)), not sample


class EpsilonGreedy:
    """Actions for a batch of observations: random with probability ``epsilon``, else the policy's.

    ``model=None`` is the random policy (every action uniformly random). ``deterministic``
    picks the policy's most likely action (greedy); ``False`` samples from PPO/A2C's action
    distribution. DQN-family models are always greedy here: their own exploration is replaced
    by ``epsilon``, so every algorithm is evaluated the same way.
    """

    def __init__(
        self,
        model: Optional[BaseAlgorithm],
        n_actions: int,
        *,
        epsilon: float = DEFAULT_EPSILON,
        deterministic: bool = True,
        seed: int = 0,
    ):
        self.model = model
        self.n_actions = int(n_actions)
        self.epsilon = _check_epsilon(epsilon)
        self.deterministic = bool(deterministic) or hasattr(model, "exploration_rate")
        self.rng = np.random.default_rng(seed)
        self._greedy: Optional[BatchedGreedy] = None
        self._sampled: Optional[BatchedSampled] = None

    def reseed(self, seed: int) -> None:
        """Restart the random actions from ``seed`` (collect seeds every episode on its own)."""
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        n = len(obs)
        if self.model is None:
            return self.rng.integers(self.n_actions, size=n)
        actions, _ = self.model.predict(obs, deterministic=self.deterministic)
        actions = np.asarray(actions, dtype=np.int64).reshape(n).copy()
        if self.epsilon > 0:
            explore = self.rng.random(n) < self.epsilon
            if explore.any():
                actions[explore] = self.rng.integers(self.n_actions, size=int(explore.sum()))
        return actions

    def random_state(self, seed: int) -> EpisodeRandom:
        """A game's own random numbers, seeded with ``seed`` (torch too when actions are sampled)."""
        return EpisodeRandom(seed, torch_state=self.model is not None and not self.deterministic)

    def act_each(self, obs: np.ndarray, randoms: Sequence[EpisodeRandom]) -> np.ndarray:
        """Actions for several games, game ``i`` with its own ``randoms[i]``.

        Row ``i`` gets exactly the action ``self(obs[i:i+1])`` would give with ``self.rng`` set to
        ``randoms[i].rng`` (and torch seeded as that game's): the same draws in the same order, and
        a policy action that does not depend on the other rows (:mod:`simple_game.evaluation.batched`).
        """
        if self.model is None:
            return np.array([int(r.rng.integers(self.n_actions, size=1)[0]) for r in randoms], dtype=np.int64)
        if self.deterministic:
            if self._greedy is None:
                self._greedy = BatchedGreedy(self.model)
            actions = self._greedy(obs)
        else:
            if self._sampled is None:
                self._sampled = BatchedSampled(self.model)
            actions = self._sampled(obs, randoms)
        if self.epsilon > 0:
            for i, rand in enumerate(randoms):
                if rand.rng.random(1)[0] < self.epsilon:
                    actions[i] = rand.rng.integers(self.n_actions, size=1)[0]
        return actions


def make_policy(target: Target, env: VecEnv, device: str = "cpu") -> Optional[BaseAlgorithm]:
    """Load ``target``'s checkpoint, checked against ``env`` (``None`` for the random policy)."""
    if target.checkpoint is None:
        return None
    model = load_checked_model(target.checkpoint, target.cfg, env=env, device=device)
    apply_compute(model, target.cfg.compute, device)  # same maths as in training (channels-last, bf16 if chosen)
    return model


def setup_inference(seed: int, device: str = "cpu") -> None:
    """Seed PyTorch (sampled actions repeat with the same ``--seed``) and, on CPU, use one thread.

    Playing feeds the network one observation at a time; for such tiny batches extra PyTorch
    threads only wait on each other (measured: 3 ms per action with one thread, 12-95 ms with
    two on a busy two-core machine).
    """
    torch.manual_seed(seed)
    if device == "cpu":
        torch.set_num_threads(1)
