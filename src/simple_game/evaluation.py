"""Playing whole games with a trained (or random) agent: shared by evaluate, record and collect.

Three pieces, each usable alone:

- :func:`resolve_target` turns what the user typed (a run directory, a checkpoint file, a
  config) into the saved config, the run and the checkpoint file. The config comes from the
  run's own ``config.yaml``, so game, protocol and frame stack are never repeated by hand.
- :class:`EpsilonGreedy` picks actions: with probability epsilon a uniformly random action,
  otherwise the policy's. A little randomness (epsilon 0.05, the DQN-paper evaluation protocol)
  stops a greedy agent from repeating one action forever, e.g. never pressing FIRE to
  relaunch the ball in Breakout, which would otherwise stall a game until the frame cap.
- :func:`run_episodes` plays N whole games on a vector env and returns raw game scores.

Evaluation envs play whole games (a lost life does not end the episode) with raw, unclipped
rewards, the config's protocol (sticky actions or not, up to ``noop_max`` random no-ops at
reset) and its frame cap (``env.max_frames_per_episode``, 108,000 frames = 30 minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.config import EnvConfig, ExperimentConfig, load_config
from simple_game.errors import SimpleGameError
from simple_game.runs import RunDirectory, find_run_dir

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

DEFAULT_EPSILON = 0.05
CONFIG_SUFFIXES = (".yaml", ".yml")


@dataclass
class Target:
    """What to evaluate: the config that defines the game, and the agent's checkpoint.

    ``checkpoint`` is ``None`` for the random-policy baseline.
    """

    cfg: ExperimentConfig
    run: Optional[RunDirectory]
    checkpoint: Optional[Path]

    @property
    def label(self) -> str:
        """A short name for files and tables: ``best``, ``step_512``, ``random``."""
        return self.checkpoint.stem if self.checkpoint is not None else "random"

    @property
    def step(self) -> Optional[int]:
        """Training steps behind the checkpoint (from its metadata or SB3's counter)."""
        if self.checkpoint is None:
            return None
        meta = read_checkpoint_metadata(self.checkpoint)
        if "step" in meta:
            return int(meta["step"])
        return None


def load_run_config(run: RunDirectory) -> ExperimentConfig:
    """The fully resolved config a run was trained with (its ``config.yaml``)."""
    if not run.config_path.is_file():
        raise SimpleGameError(f"{run.path}: not a simple-game run directory (no config.yaml)")
    return load_config(run.config_path)


def resolve_target(
    target: Optional[str],
    *,
    checkpoint: Optional[str] = None,
    config: Optional[str] = None,
    random_policy: bool = False,
) -> Target:
    """Turn ``RUN_OR_CHECKPOINT`` (+ ``--checkpoint``, ``--config``, ``--random``) into a :class:`Target`.

    - a run directory: its ``config.yaml`` and its ``best`` checkpoint (or ``checkpoint``:
      ``latest``, ``best``, ``step_N``, ``skill_level_K``);
    - a checkpoint file: the config of the run it lies in (``<run>/checkpoints/x.zip``), or
      ``config`` for a checkpoint kept somewhere else;
    - with ``random_policy``, no checkpoint is loaded: the run, checkpoint or config (which may
      also be given as ``target``) only defines the game and protocol.
    """
    explicit_cfg = load_config(config) if config else None
    if target is None:
        if random_policy and explicit_cfg is not None:
            return Target(explicit_cfg, None, None)
        raise SimpleGameError(
            "give a run directory or a checkpoint file (or --random --config FILE for a random-policy baseline)"
        )
    path = Path(target)
    if not path.exists():
        raise SimpleGameError(f"{path}: no such run directory or checkpoint")
    if path.is_dir():
        run = RunDirectory(path)
        if explicit_cfg is None and not run.config_path.is_file():
            raise SimpleGameError(
                f"{path}: not a simple-game run directory (no config.yaml); pass --config FILE to name the game"
            )
        cfg = explicit_cfg or load_run_config(run)
        if random_policy:
            return Target(cfg, run, None)
        return Target(cfg, run, run.resolve_checkpoint(checkpoint or "best"))
    if path.suffix.lower() in CONFIG_SUFFIXES:
        if not random_policy:
            raise SimpleGameError(
                f"{path}: is a config file; give a run directory or a checkpoint (or add --random for a random-policy baseline)"
            )
        return Target(explicit_cfg or load_config(path), None, None)
    if checkpoint is not None:
        raise SimpleGameError(
            f"--checkpoint picks a checkpoint inside a run directory, but {path} is already a checkpoint file"
        )
    run = find_run_dir(path)
    if explicit_cfg is None:
        if run is None:
            raise SimpleGameError(
                f"{path}: checkpoint is not inside a run directory (no config.yaml found next to it); pass --config FILE to say which game and protocol"
            )
        explicit_cfg = load_run_config(run)
    read_checkpoint_metadata(path)  # a clear error for a file that is not a checkpoint at all
    return Target(explicit_cfg, run, None if random_policy else path)


# --------------------------------------------------------------------------------------------
# Acting
# --------------------------------------------------------------------------------------------


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
        if not 0.0 <= epsilon <= 1.0:
            raise SimpleGameError(f"--epsilon: must be between 0 and 1, got {epsilon}")
        self.model = model
        self.n_actions = int(n_actions)
        self.epsilon = float(epsilon)
        self.deterministic = bool(deterministic) or hasattr(model, "exploration_rate")
        self.rng = np.random.default_rng(seed)

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


@dataclass
class EpisodeResults:
    """Raw scores and lengths (agent steps) of whole games, in the order they finished."""

    scores: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        scores = np.asarray(self.scores, dtype=float)
        lengths = np.asarray(self.lengths, dtype=float)
        if not len(scores):
            return {"n_episodes": 0}
        return {
            "n_episodes": int(len(scores)),
            "mean": float(scores.mean()),
            "std": float(scores.std()),
            "median": float(np.median(scores)),
            "min": float(scores.min()),
            "max": float(scores.max()),
            "mean_length": float(lengths.mean()),
            "n_truncated": int(sum(self.truncated)),
        }


def run_episodes(
    env: VecEnv,
    act: Callable[[np.ndarray], np.ndarray],
    n_episodes: int,
    on_episode: Optional[Callable[[int, float, int], None]] = None,
) -> EpisodeResults:
    """Play ``n_episodes`` whole games on ``env`` (an evaluation vector env) with ``act``.

    A game is counted when SB3's ``Monitor`` reports it (``info["episode"]``: the true score
    over all lives). With several envs, env ``i`` plays a fixed quota of games
    (``(n_episodes + i) // n_envs``), as SB3's ``evaluate_policy`` does, so short games are not
    over-represented just because they finish first.
    """
    if n_episodes < 1:
        raise SimpleGameError(f"--episodes: must be at least 1, got {n_episodes}")
    n_envs = env.num_envs
    quota = np.array([(n_episodes + i) // n_envs for i in range(n_envs)], dtype=int)
    played = np.zeros(n_envs, dtype=int)
    steps = np.zeros(n_envs, dtype=int)
    results = EpisodeResults()
    obs = env.reset()
    while (played < quota).any():
        obs, _rewards, dones, infos = env.step(act(obs))
        steps += 1
        for i in np.flatnonzero(dones):
            episode = infos[i].get("episode")
            if episode is not None and played[i] < quota[i]:
                results.scores.append(float(episode["r"]))
                results.lengths.append(int(steps[i]))
                results.truncated.append(bool(infos[i].get("TimeLimit.truncated", False)))
                played[i] += 1
                if on_episode is not None:
                    on_episode(len(results.scores), results.scores[-1], results.lengths[-1])
            steps[i] = 0
    return results


def protocol_info(env_cfg: EnvConfig, *, epsilon: float, deterministic: bool, seed: int, n_envs: int) -> dict[str, Any]:
    """How the games were played, for the JSON report: enough to reproduce the numbers."""
    return {
        "protocol": env_cfg.protocol,
        "sticky_action_probability": env_cfg.sticky_probability,
        "noop_max": env_cfg.noop_max,
        "frame_skip": env_cfg.frame_skip,
        "max_frames_per_episode": env_cfg.max_frames_per_episode,
        "frame_stack": env_cfg.frame_stack,
        "screen_size": env_cfg.screen_size,
        "full_games": True,
        "raw_scores": True,
        "epsilon": epsilon,
        "actions": "greedy" if deterministic else "sampled",
        "seed": seed,
        "n_envs": n_envs,
    }


def make_policy(target: Target, env: VecEnv, device: str = "cpu") -> Optional[BaseAlgorithm]:
    """Load ``target``'s checkpoint, checked against ``env`` (``None`` for the random policy)."""
    if target.checkpoint is None:
        return None
    from simple_game.agents import load_checked_model
    from simple_game.compute import apply_compute

    model = load_checked_model(target.checkpoint, target.cfg, env=env, device=device)
    apply_compute(model, target.cfg.compute, device)  # same maths as in training (channels-last, bf16 if chosen)
    return model


def setup_inference(seed: int, device: str = "cpu") -> None:
    """Seed PyTorch (sampled actions repeat with the same ``--seed``) and, on CPU, use one thread.

    Playing feeds the network one observation at a time; for such tiny batches extra PyTorch
    threads only wait on each other (measured: 3 ms per action with one thread, 12-95 ms with
    two on a busy two-core machine).
    """
    import torch

    torch.manual_seed(seed)
    if device == "cpu":
        torch.set_num_threads(1)
