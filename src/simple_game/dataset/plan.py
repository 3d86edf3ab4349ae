"""From a collect config to a collection plan: tiers, their checkpoints and the policies that play them.

Each tier is an agent of a known skill: tier 0 plays uniformly at random, tier k >= 1 is a
checkpoint (usually ``skill_level_k``, saved when the agent's rolling mean score first reached
the k-th milestone). :func:`build_plan` resolves runs and checkpoints and checks that they fit
the env; nothing heavy is loaded until a tier's policy is made.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from simple_game.agents import load_model
from simple_game.agents.sources import ForeignAgent, is_hub_ref, observation_layout, open_agent, read_saved_agent
from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.config import ALGORITHMS, CollectConfig, EnvConfig, TierSpec, load_config
from simple_game.dataset.format import tier_name
from simple_game.envs import action_meanings
from simple_game.errors import SimpleGameError
from simple_game.evaluation import EpsilonGreedy, setup_inference
from simple_game.runs import NoMatchingRunError, RunDirectory, find_run

CHECKPOINT_NAMES = re.compile(r"latest|best|step_\d+|skill_level_\d+")
TRAIN_HINT = (
    "train one first (python -m simple_game.train --config configs/ppo_breakout_data.yaml) or --set run=runs/<your run>"
)
RANDOM_TIER_INFO: dict[str, Any] = {
    "source": "random",
    "run": None,
    "checkpoint": None,
    "checkpoint_sha256": None,
    "algo": None,
    "sampling": "random",
    "epsilon": None,
    "milestone": None,
}


# --------------------------------------------------------------------------------------------
# Policies: what picks the actions of one tier
# --------------------------------------------------------------------------------------------


class Policy:
    """What picks the actions of one tier. ``start`` is called with each episode's own seed."""

    def start(self, seed: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def act(self, t: int, obs: np.ndarray) -> int:  # pragma: no cover - interface
        raise NotImplementedError


class RandomPolicy(Policy):
    """Tier 0: uniformly random actions from the episode's own generator."""

    def __init__(self, n_actions: int):
        self.n_actions = n_actions
        self.actor = EpsilonGreedy(None, n_actions)

    def start(self, seed: int) -> None:
        self.actor.reseed(seed)

    def act(self, t: int, obs: np.ndarray) -> int:
        return int(self.actor(obs[None])[0])


class FrameStacker:
    """The last ``n`` frames, oldest first, shape ``(n, H, W)``: the observation SB3's
    ``VecFrameStack`` + ``VecTransposeImage`` give an agent in training (zeros after a reset)."""

    def __init__(self, n: int, size: int):
        self.frames = np.zeros((n, size, size), dtype=np.uint8)

    def reset(self) -> None:
        self.frames[:] = 0

    def push(self, frame: np.ndarray) -> np.ndarray:
        self.frames[:-1] = self.frames[1:]
        self.frames[-1] = frame
        return self.frames


class AgentPolicy(Policy):
    """A trained agent seeing what it saw in training: its own last ``frame_stack`` frames, channel first.

    The agent's frame stack is its own (read from its saved observation space), whatever the
    dataset's ``env.frame_stack`` says: the frames stored are single frames either way.

    ``epsilon``: the greedy action, or with probability epsilon a random one (the DQN-paper
    evaluation rule, which also stops an agent from waiting forever to press FIRE);
    ``deterministic``: always the greedy action; ``stochastic``: sample from the policy's
    action distribution (value-based agents have none and act greedily). The torch and numpy
    generators are seeded per episode, so an episode does not depend on what ran before it.

    Datasets recorded before collect acted through :class:`EpsilonGreedy` replay draw for draw:
    per step it draws one uniform number (epsilon only) and an integer only when it explores,
    and a greedy ``predict`` uses no random numbers, so asking the network first changes nothing.
    """

    def __init__(self, path: Path, algo: str, env_cfg: EnvConfig, sampling: str, epsilon: float, n_actions: int):
        self.model = load_model(path, algo, device="cpu", acting=True)
        frame_stack = agent_frame_stack(path, tuple(self.model.observation_space.shape or ()), env_cfg.screen_size)
        agent_actions = getattr(self.model.action_space, "n", n_actions)
        if agent_actions != n_actions:
            raise SimpleGameError(f"{path}: the agent has {agent_actions} actions, the game has {n_actions}")
        self.actor = EpsilonGreedy(
            self.model,
            n_actions,
            epsilon=epsilon if sampling == "epsilon" else 0.0,
            deterministic=sampling != "stochastic",
        )
        self.stack = FrameStacker(frame_stack, env_cfg.screen_size)

    def start(self, seed: int) -> None:
        setup_inference(seed)  # torch seeded per episode; one CPU thread, which leaves cores to PNG encoding
        self.actor.reseed(seed)
        self.stack.reset()

    def act(self, t: int, obs: np.ndarray) -> int:
        # A batch of one: the stacked frames the agent would have seen from a vector env.
        return int(self.actor(self.stack.push(obs)[None])[0])


def agent_frame_stack(path: Path, shape: tuple[int, ...], screen_size: int) -> int:
    """The agent's own frame stack; its screen must be the dataset's (the stored frames are what it sees)."""
    layout = observation_layout(path, shape)
    if layout.screen_size != screen_size:
        raise SimpleGameError(
            f"{path}: the agent sees {layout.screen_size}x{layout.screen_size} frames, this dataset's env makes "
            f"{screen_size}x{screen_size} (env.screen_size)"
        )
    return layout.frame_stack


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


@dataclass
class TierPlan:
    """One tier to collect: its level, how its actions are chosen, and what to record about it."""

    level: int
    episodes: int
    max_steps: Optional[int]
    make_policy: Callable[[int], Policy]  # n_actions -> a policy (loads the agent when called)
    info: dict[str, Any]  # source, checkpoint, sha256, algo, sampling, epsilon, milestone...

    @property
    def name(self) -> str:
        return tier_name(self.level)

    @property
    def source_label(self) -> str:
        """The checkpoint's file name, or ``random``."""
        return Path(self.info["checkpoint"]).name if self.info.get("checkpoint") else "random"

    @property
    def sampling_label(self) -> str:
        """How actions are picked: ``epsilon 0.05``, ``deterministic``, ``random``..."""
        eps = self.info.get("epsilon")
        return f"{self.info['sampling']}" + (f" {eps:g}" if eps is not None else "")

    @property
    def milestone_label(self) -> str:
        """The milestone a ``skill_level_k`` checkpoint reached, e.g. ``mean 52.3 >= 50 at step 1200000``."""
        ms = self.info.get("milestone")
        if not ms:
            return ""
        return f"mean {ms['rolling_mean_score']:.1f} >= {ms['threshold']:g} at step {ms.get('step', '?')}"


@dataclass
class CollectionPlan:
    """Everything a collection needs: where it goes, the env, the seed and the tiers."""

    output: Path
    env_cfg: EnvConfig
    seed: int
    rgb: bool
    workers: int
    validation_fraction: float
    tiers: list[TierPlan]
    config_source: str = ""


@dataclass
class CollectionStats:
    """What one collect call wrote, and how fast."""

    frames_written: int = 0
    episodes_written: int = 0
    episodes_skipped: int = 0
    bytes_written: int = 0
    wall_s: float = 0.0
    encode_wait_s: float = 0.0

    @property
    def frames_per_s(self) -> float:
        return self.frames_written / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def encode_wait_percent(self) -> float:
        """How much of the time the emulator waited on PNG encoding (high: add workers)."""
        return 100 * self.encode_wait_s / self.wall_s if self.wall_s else 0.0


def build_plan(cfg: CollectConfig, source: str) -> CollectionPlan:
    """Resolve runs and checkpoints and check they fit the env; nothing is loaded yet."""
    base_run = _find_run(cfg.run, cfg.where("run", source)) if cfg.run else None
    if base_run is not None:
        env_cfg = load_config(base_run.config_path).env
    else:
        assert cfg.env is not None
        env_cfg = cfg.env
    tiers = []
    for i, spec in enumerate(cfg.tiers):
        make_policy: Callable[[int], Policy]
        if spec.random:
            info, make_policy = dict(RANDOM_TIER_INFO), RandomPolicy
        else:
            info, make_policy = _checkpoint_tier(spec, base_run, env_cfg, cfg, cfg.where(f"tiers.{i}", source))
        level = spec.level if spec.level is not None else i
        max_steps = spec.max_steps if spec.max_steps is not None else cfg.max_steps
        tiers.append(TierPlan(level, spec.episodes or cfg.episodes, max_steps, make_policy, info))
    return CollectionPlan(
        output=Path(cfg.output),
        env_cfg=env_cfg,
        seed=cfg.seed,
        rgb=cfg.rgb,
        workers=cfg.workers,
        validation_fraction=cfg.validation_fraction,
        tiers=sorted(tiers, key=lambda t: t.level),
        config_source=source,
    )


def _find_run(pattern: str, where: str) -> RunDirectory:
    """A run directory or the newest match of a glob, with ``where`` naming the config key."""
    try:
        return find_run(pattern)
    except NoMatchingRunError as exc:
        raise SimpleGameError(f"{where}: {exc}; {TRAIN_HINT}") from None
    except SimpleGameError as exc:
        raise SimpleGameError(f"{where}: {exc}") from None


def _checkpoint_tier(
    spec: TierSpec, base_run: Optional[RunDirectory], env_cfg: EnvConfig, cfg: CollectConfig, where: str
) -> tuple[dict[str, Any], Callable[[int], Policy]]:
    """What to record about a checkpoint tier, and how to make its policy."""
    run = _find_run(spec.run, f"{where}.run") if spec.run else base_run
    foreign = _foreign_agent(spec, env_cfg, where)
    path = foreign.path if foreign is not None else _checkpoint_path(spec, run, where)
    meta = read_checkpoint_metadata(path)
    algo = (spec.algo or "").lower() or meta.get("algo") or (foreign.algo if foreign else None)
    algo = algo or (load_config(run.config_path).algo if run else None)
    if not algo:
        raise SimpleGameError(
            f"{where}: {path} has no simple-game metadata; say which algorithm it is with algo: "
            f"(one of {', '.join(ALGORITHMS)})"
        )
    if "frame_skip" not in meta and run is not None and foreign is None:  # checkpoints saved before it was recorded
        meta = {**meta, "frame_skip": load_config(run.config_path).env.frame_skip}
    for key, want in (  # not frame_stack: the agent stacks its own frames
        ("game", env_cfg.game),
        ("screen_size", env_cfg.screen_size),
        ("frame_skip", env_cfg.frame_skip),  # an agent acts at the action repeat it was trained with
        ("full_action_space", env_cfg.full_action_space),
    ):
        if key in meta and meta[key] != want:
            raise SimpleGameError(
                f"{where}: {path} was trained with {key} {meta[key]!r}, but this dataset's env has {key} {want!r}"
            )
    milestone = (
        {k: meta[k] for k in ("threshold", "rolling_mean_score", "window", "step") if k in meta}
        if "skill_level" in meta
        else None
    )
    info = {
        "source": "checkpoint",
        "run": str(run.path) if run and foreign is None else None,
        "checkpoint": str(path),
        "checkpoint_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "algo": algo,
        "sampling": cfg.sampling,
        "epsilon": cfg.epsilon if cfg.sampling == "epsilon" else None,
        "trained_steps": meta.get("step") if meta else (foreign.saved.trained_steps if foreign else None),
        "milestone": milestone,
        "agent": _agent_record(path, spec, foreign, env_cfg, where),
    }

    def make_policy(n_actions: int) -> Policy:
        return AgentPolicy(path, algo, env_cfg, cfg.sampling, cfg.epsilon, n_actions)

    return info, make_policy


def _foreign_agent(spec: TierSpec, env_cfg: EnvConfig, where: str) -> Optional[ForeignAgent]:
    """A tier's agent trained elsewhere (hf://, an RL Zoo or Hub-style folder, a zip without our metadata).

    Checked before anything is recorded: the same game (when the agent says), an Atari layout.
    """
    assert spec.checkpoint is not None
    text, path = spec.checkpoint, Path(spec.checkpoint)
    if CHECKPOINT_NAMES.fullmatch(text) or not (is_hub_ref(text) or path.is_dir() or path.is_file()):
        return None
    try:
        if path.is_file() and read_checkpoint_metadata(path):
            return None  # one of ours
        agent = open_agent(text)
    except SimpleGameError as exc:
        raise SimpleGameError(f"{where}.checkpoint: {exc}") from None
    game = agent.game()
    if game is not None and game != env_cfg.game:
        raise SimpleGameError(
            f"{where}: {agent.path} was trained on {game} ({agent.env_id}), this dataset plays {env_cfg.game}"
        )
    return agent


def _agent_record(
    path: Path, spec: TierSpec, foreign: Optional[ForeignAgent], env_cfg: EnvConfig, where: str
) -> dict[str, Any]:
    """Where the tier's agent comes from and the frame stack it sees (checked: screen size, action count)."""
    saved = foreign.saved if foreign is not None else read_saved_agent(path)
    try:
        stack = agent_frame_stack(path, saved.observation_shape[0], env_cfg.screen_size)
    except SimpleGameError as exc:
        raise SimpleGameError(f"{where}: {exc}") from None
    n_actions, game_actions = saved.n_actions, len(action_meanings(env_cfg))
    if n_actions != game_actions:
        raise SimpleGameError(
            f"{where}: {path}: the agent has {n_actions} actions, {env_cfg.game} has {game_actions} "
            "(another game, or env.full_action_space?)"
        )
    kind = foreign.kind if foreign is not None else ("simple-game" if read_checkpoint_metadata(path) else "sb3")
    env_id = foreign.env_id if foreign is not None else None
    return {
        "format": kind,
        "from": spec.checkpoint,
        "env_id": env_id,
        "frame_stack": stack,
        "sb3_version": saved.sb3_version,
    }


def _checkpoint_path(spec: TierSpec, run: Optional[RunDirectory], where: str) -> Path:
    """The checkpoint file a tier names: a checkpoint of its run, or a .zip path."""
    assert spec.checkpoint is not None
    if not CHECKPOINT_NAMES.fullmatch(spec.checkpoint):
        path = Path(spec.checkpoint)
        if not path.is_file():
            raise SimpleGameError(
                f"{where}.checkpoint: {path}: checkpoint not found "
                "(use latest, best, step_N, skill_level_K or a .zip path)"
            )
        return path
    if run is None:
        raise SimpleGameError(
            f"{where}.checkpoint: {spec.checkpoint!r} names a checkpoint of a run, but no run is given "
            "(set run:, or give a .zip path)"
        )
    try:
        return run.resolve_checkpoint(spec.checkpoint)
    except SimpleGameError as exc:
        raise SimpleGameError(f"{where}.checkpoint: {exc}") from None
