"""The collect config: which agents record a gameplay dataset, how many games each, and where.

Each tier is an agent of a known skill: ``random: true`` plays uniformly at random, and a
checkpoint tier names a checkpoint in a training run (``skill_level_k``, saved when the agent's
rolling mean score first reached the k-th milestone), a ``.zip`` path, or an agent trained
elsewhere (``hf://org/repo``, an RL Zoo run folder; docs/agents_from_elsewhere.md), which stacks
its own number of frames whatever ``env.frame_stack`` says. The file is loaded like
an experiment config (``extends:``, ``--set``, one-line errors naming file and key).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from simple_game.config.hyperparams import algorithm_key
from simple_game.config.loading import load_yaml_model, origin_of
from simple_game.config.numbers import Float, Int
from simple_game.config.schema import EnvConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TierSpec(_Strict):
    """One skill tier: ``random: true``, or a checkpoint (a name in a run, or a .zip path)."""

    level: Optional[Int] = Field(default=None, ge=0, description="skill level k (default: position in the list)")
    random: bool = False
    run: Optional[str] = Field(
        default=None, description="run directory holding the checkpoint (default: the top-level run)"
    )
    checkpoint: Optional[str] = Field(
        default=None,
        description="latest, best, step_N, skill_level_K, a path to a .zip, an RL Zoo run folder, or hf://org/repo",
    )
    algo: Optional[str] = Field(
        default=None, description="the algorithm, when neither simple-game metadata nor the network class says"
    )
    episodes: Optional[Int] = Field(default=None, gt=0)
    max_steps: Optional[Int] = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> TierSpec:
        if self.random == (self.checkpoint is not None):
            raise ValueError(
                "give either random: true or checkpoint: (latest, best, step_N, skill_level_K or a .zip path)"
            )
        if self.random and (self.run or self.algo):
            raise ValueError("a random tier takes no run or algo")
        if self.algo is not None:
            algorithm_key(self.algo)  # the tier keeps the spelling it was given
        return self


class CollectConfig(_Strict):
    """A gameplay dataset: where the agents come from, how many games each plays, where it goes."""

    run: Optional[str] = Field(
        default=None,
        description="training run whose config gives game, protocol and frame stack; globs pick the newest match",
    )
    env: Optional[EnvConfig] = Field(
        default=None, description="the env settings, when no run is given (random tiers, .zip checkpoints)"
    )
    tiers: list[TierSpec] = Field(..., min_length=1)
    episodes: Int = Field(default=50, gt=0, description="whole games per tier")
    max_steps: Optional[Int] = Field(
        default=None, gt=0, description="cap on agent steps per episode (default: whole games)"
    )
    output: str = "data"
    validation_fraction: Float = Field(default=0.1, ge=0.0, lt=1.0)
    sampling: Literal["epsilon", "deterministic", "stochastic"] = "epsilon"
    epsilon: Float = Field(default=0.05, ge=0.0, le=1.0)
    seed: Int = Field(default=0, ge=0)
    rgb: bool = Field(
        default=False, description="store the native 210x160 RGB screen instead of the 84x84 grayscale observation"
    )
    workers: Int = Field(default=2, ge=0, le=64, description="PNG-encoding threads (0: encode in the main thread)")
    parallel_games: Optional[Int] = Field(
        default=None,
        ge=1,
        le=64,
        description="episodes of a tier played at once, shared among one emulator process per core "
        "(default 16); 1: one at a time in this process. "
        "The dataset is byte for byte the same either way",
    )

    # Which file (or --set) set each dotted key, so a run or checkpoint that is not found later
    # is blamed on the place that named it.
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)

    def where(self, key: str, source: str) -> str:
        """``"<file or --set>: <key>"``, the start of an error about that value (``source``: the config file)."""
        return f"{origin_of(key, source, self._origins)}: {key}"

    @model_validator(mode="after")
    def _env_source(self) -> CollectConfig:
        if (self.run is None) == (self.env is None):
            raise ValueError("give either run: (a training run directory) or env: (game, protocol, frame_stack ...)")
        levels = [t.level if t.level is not None else i for i, t in enumerate(self.tiers)]
        if len(set(levels)) != len(levels):
            raise ValueError(f"tiers: skill levels must be distinct (got {levels})")
        return self


def load_collect_config(path: str | Path, overrides: Optional[Sequence[str]] = None) -> CollectConfig:
    """Load a collect YAML (``extends:`` and ``--set`` work as for experiment configs)."""
    cfg, origins = load_yaml_model(path, CollectConfig, overrides)
    cfg._origins = dict(origins)
    return cfg
