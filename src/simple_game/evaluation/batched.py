"""Several games at once, each exactly as if it had been played alone.

Playing one game at a time wastes most of the machine: the network answers one observation
per call (a batch of 8 costs barely more than a batch of 1) and the emulator waits while it
thinks. Here ``K`` games run side by side on their own emulators and the still-running ones
share one batched forward pass per step. What a game does must not depend on ``K``:

- **its own seeds**: game ``j`` of an evaluation is reset with ``seed + j`` and draws its random
  actions from its own generator (:class:`EpisodeRandom`), whichever emulator plays it and
  whatever the other games do; a finished game's emulator is reset for the next game number;
- **its own actions**: :func:`greedy_actions` is *batch-invariant*, see below.

Why batch-invariance needs care: a batched forward pass sums in another order than a batch of
one (other GEMM/convolution blocking), so the logits can differ in their last bits, and where
two actions are (nearly) tied the argmax could flip and the game diverge. Rather than giving up
the batch (a forward per game costs nearly K times more) or trusting float64 (which cannot undo
float32 rounding inside the network), the greedy action is taken from the batched scores only
where the best action leads the second by more than :data:`TIE_MARGIN`, far above any rounding
difference (measured: at most ~1e-5 here, see docs/performance.md); a near-tie is decided by
the batch-of-one forward pass the game would have had alone (``model.predict`` on that row,
exactly today's call). Sampled actions (``--sample``, ``sampling: stochastic``) get the same
treatment in :mod:`simple_game.evaluation.sampled`. The first batched call of an actor checks every row
against the batch-of-one answer and falls back to one pass per game if they ever disagree (a
policy whose scores this module does not know how to read).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import TYPE_CHECKING, Any, Optional, cast

import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecEnv

from simple_game.config import EnvConfig
from simple_game.envs import make_vec_env
from simple_game.evaluation.episodes import EpisodeResults

if TYPE_CHECKING:
    import gymnasium as gym
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

    from simple_game.evaluation.acting import EpsilonGreedy

DEFAULT_GAMES_AT_ONCE = 8  # evaluate's default number of emulators (docs/performance.md)

# Greedy actions whose lead over the runner-up is below this (in logits or Q-values, scaled by
# their magnitude) are re-decided by a batch-of-one forward pass.
TIE_MARGIN = 1e-3
BF16_TIE_MARGIN = 0.1  # bfloat16 keeps 8 bits of mantissa: rounding differences are far larger


class EpisodeRandom:
    """One game's random numbers: numpy for epsilon and random actions, torch for sampled ones.

    The numpy generator is ``default_rng(seed)``; the torch state is what ``torch.manual_seed(seed)``
    leaves (made only when ``torch_state`` is asked for), restored around each of the game's
    sampled actions, so a game draws exactly what it drew when it had the process to itself.
    """

    def __init__(self, seed: int, *, torch_state: bool = False):
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.torch_state: Optional[torch.Tensor] = None
        if torch_state:
            saved = torch.get_rng_state()
            torch.manual_seed(self.seed)
            self.torch_state = torch.get_rng_state()
            torch.set_rng_state(saved)


def action_scores(model: BaseAlgorithm, obs: np.ndarray) -> Optional[np.ndarray]:
    """Per-action scores whose argmax is the greedy action, for a batch (``None``: unknown policy).

    PPO/A2C: the action distribution's logits; DQN: Q-values; QR-DQN: mean quantiles.
    """
    policy = model.policy
    policy.set_training_mode(False)
    with torch.no_grad():
        tensor = policy.obs_to_tensor(obs)[0]
        net: Any = getattr(policy, "q_net", None)
        net = net if net is not None else getattr(policy, "quantile_net", None)
        if isinstance(policy, ActorCriticPolicy):
            scores = cast(Any, policy.get_distribution(tensor)).distribution.logits
        elif hasattr(policy, "q_net"):
            scores = net(tensor)
        elif hasattr(policy, "quantile_net"):
            scores = net(tensor).mean(dim=1)
        else:
            return None
    return scores.float().cpu().numpy()


def tie_margin(model: BaseAlgorithm) -> float:
    extractors = [getattr(model.policy, name, None) for name in ("features_extractor", "pi_features_extractor")]
    bf16 = any(getattr(m, "autocast_dtype", None) is not None for m in extractors)
    return BF16_TIE_MARGIN if bf16 else TIE_MARGIN


def alone_action(model: BaseAlgorithm, obs: np.ndarray, deterministic: bool) -> int:
    """The action of one observation, from a batch of one: the call a game playing alone makes."""
    action, _ = model.predict(obs[None], deterministic=deterministic)
    return int(np.asarray(action).reshape(-1)[0])


class BatchInvariant:
    """What a batch-invariant actor keeps: its tie margin, whether its first batch was checked
    against the lone calls, whether batching still holds, and how many rows were decided alone."""

    def __init__(self, model: BaseAlgorithm):
        self.model = model
        self.margin = tie_margin(model)
        self.checked = False
        self.batched = True
        self.rows_alone = 0  # near-ties decided alone (reported by the benchmark)


class BatchedGreedy(BatchInvariant):
    """Batch-invariant greedy actions of ``model`` (see the module docstring)."""

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        n = len(obs)
        if n == 1 or not self.batched:
            return np.array([alone_action(self.model, o, True) for o in obs], dtype=np.int64)
        scores = action_scores(self.model, obs)
        if scores is None:
            self.batched = False
            return self(obs)
        actions = scores.argmax(axis=1).astype(np.int64)
        top2 = np.sort(scores, axis=1)[:, -2:] if scores.shape[1] > 1 else np.concatenate([scores, scores - 1], 1)
        close = (top2[:, 1] - top2[:, 0]) < self.margin * np.maximum(1.0, np.abs(top2[:, 1]))
        for i in np.flatnonzero(close):
            actions[i] = alone_action(self.model, obs[i], True)
        self.rows_alone += int(close.sum())
        if not self.checked:
            self.checked = True
            alone = np.array([alone_action(self.model, o, True) for o in obs], dtype=np.int64)
            if not np.array_equal(alone, actions):  # scores read wrongly for this policy: play safe
                self.batched = False
                return alone
        return actions


class SeededGames(VecEnv):
    """``n_slots`` one-game vector envs (emulators); :func:`play_games` resets game ``j`` with ``seed + j``.

    As a plain ``VecEnv`` (what model loading checks its spaces against) env ``i`` is emulator
    ``i``, which goes on to its next game unseeded; per-game seeds come with :func:`play_games`.
    """

    def __init__(self, make_slot: Callable[[int], VecEnv], n_slots: int, seed: int):
        self.seed_base = int(seed)
        self.slots = [make_slot(self.seed_base + k) for k in range(n_slots)]
        first = self.slots[0]
        super().__init__(n_slots, first.observation_space, first.action_space)

    def reset(self) -> VecEnvObs:
        return np.concatenate([cast(np.ndarray, slot.reset()) for slot in self.slots])

    def step_async(self, actions: np.ndarray) -> None:
        for slot, action in zip(self.slots, np.asarray(actions).reshape(self.num_envs), strict=True):
            slot.step_async(np.array([action]))

    def step_wait(self) -> VecEnvStepReturn:
        steps = [slot.step_wait() for slot in self.slots]
        obs = np.concatenate([cast(np.ndarray, s[0]) for s in steps])
        rewards = np.concatenate([s[1] for s in steps])
        dones = np.concatenate([s[2] for s in steps])
        return obs, rewards, dones, [s[3][0] for s in steps]

    def close(self) -> None:
        for slot in self.slots:
            slot.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [self.slots[i].get_attr(attr_name)[0] for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for i in self._get_indices(indices):
            self.slots[i].set_attr(attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: VecEnvIndices = None, **kwargs: Any) -> list[Any]:
        return [self.slots[i].env_method(method_name, *args, **kwargs)[0] for i in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [self.slots[i].env_is_wrapped(wrapper_class)[0] for i in self._get_indices(indices)]

    def play_games(
        self, act: Any, n_episodes: int, on_episode: Optional[Callable[[int, float, int], None]] = None
    ) -> EpisodeResults:
        """:func:`play_games` on these emulators (``act`` must be an :class:`EpsilonGreedy`)."""
        if not hasattr(act, "act_each"):
            raise TypeError("games seeded one by one need an EpsilonGreedy actor (its per-game random numbers)")
        return play_games(self, act, n_episodes, on_episode)

    def start(self, k: int, game: int) -> np.ndarray:
        """Reset emulator ``k`` for game number ``game`` (seed ``seed + game``); its first observation."""
        slot = self.slots[k]
        slot.seed(self.seed_base + game)
        return cast(np.ndarray, slot.reset())[0]


def seeded_games(env_cfg: EnvConfig, seed: int, n_games: int) -> SeededGames:
    """``n_games`` evaluation emulators (whole games, raw scores) on which game ``j`` is reset with ``seed + j``."""
    return SeededGames(lambda s: make_vec_env(env_cfg, training=False, seed=s, n_envs=1), n_games, seed)


def play_games(
    games: SeededGames,
    act: EpsilonGreedy,
    n_episodes: int,
    on_episode: Optional[Callable[[int, float, int], None]] = None,
) -> EpisodeResults:
    """Play games ``0 .. n_episodes - 1`` on ``games``' emulators, results in game order.

    Game ``j`` is reset with ``seed + j`` and acts with random numbers seeded ``seed + j``
    (:meth:`EpsilonGreedy.random_state`), so it is the game ``evaluate --seed S+j --episodes 1``
    played alone, whatever the number of emulators. A finished emulator starts the next game
    number; each step, one batched action call serves every running game. Resets (a ROM reload,
    ~0.25 s, which the C++ backend runs without the GIL) go to threads while the others play.
    """
    loop = _GameLoop(games, act, n_episodes, on_episode)
    with ThreadPoolExecutor(max_workers=games.num_envs, thread_name_prefix="reset") as pool:
        loop.pool = pool
        for k in range(min(games.num_envs, n_episodes)):
            loop.start(k)
        while loop.playing:
            loop.step(loop.ready())
    results = EpisodeResults()
    for game in range(n_episodes):
        score, length, truncated, monitor_length = loop.found[game]
        results.scores.append(score)
        results.lengths.append(length)
        results.truncated.append(truncated)
        results.monitor_lengths.append(monitor_length)
    return results


class _GameLoop:
    """:func:`play_games`' state: which emulator plays which game, its observation and random numbers."""

    def __init__(self, games: SeededGames, act: EpsilonGreedy, n_episodes: int, on_episode: Any):
        self.games, self.act, self.n_episodes, self.on_episode = games, act, n_episodes, on_episode
        self.pool: Optional[ThreadPoolExecutor] = None
        self.playing: dict[int, int] = {}  # emulator -> game number
        self.resetting: dict[int, Future[np.ndarray]] = {}
        self.obs: dict[int, np.ndarray] = {}
        self.randoms: dict[int, EpisodeRandom] = {}
        self.steps: dict[int, int] = {}
        self.found: dict[int, tuple[float, int, bool, int]] = {}
        self.next_game = 0

    def start(self, k: int) -> None:
        assert self.pool is not None
        game = self.next_game
        self.next_game += 1
        self.playing[k], self.steps[k] = game, 0
        self.randoms[k] = self.act.random_state(self.games.seed_base + game)
        self.resetting[k] = self.pool.submit(self.games.start, k, game)

    def ready(self) -> list[int]:
        """The emulators whose game has started (waiting for a reset only when none has)."""
        if len(self.resetting) == len(self.playing):
            futures_wait(list(self.resetting.values()), return_when=FIRST_COMPLETED)
        for k in [k for k, fut in self.resetting.items() if fut.done()]:
            self.obs[k] = self.resetting.pop(k).result()
        return sorted(k for k in self.playing if k not in self.resetting)

    def step(self, running: list[int]) -> None:
        """One action for each running game, one emulator step each (stepped side by side)."""
        slots = self.games.slots
        actions = self.act.act_each(np.stack([self.obs[k] for k in running]), [self.randoms[k] for k in running])
        for k, action in zip(running, actions, strict=True):
            slots[k].step_async(np.array([action]))
        for k in running:
            step_obs, _rewards, dones, infos = slots[k].step_wait()
            self.obs[k], self.steps[k] = cast(np.ndarray, step_obs)[0], self.steps[k] + 1
            episode = infos[0].get("episode") if dones[0] else None
            if dones[0] and episode is None:
                self.steps[k] = 0  # an episode end that is not a game over (not in evaluation envs): play on
            if episode is not None:
                truncated = bool(infos[0].get("TimeLimit.truncated", False))
                self._finish(k, float(episode["r"]), truncated, int(episode["l"]))

    def _finish(self, k: int, score: float, truncated: bool, monitor_length: int) -> None:
        game = self.playing.pop(k)
        self.found[game] = (score, self.steps[k], truncated, monitor_length)
        if self.on_episode is not None:
            self.on_episode(game + 1, score, self.steps[k])
        if self.next_game < self.n_episodes:
            self.start(k)
