"""The experiment schema: what a YAML experiment may say, as pydantic models.

Every model forbids unknown keys, so a typo (``gmae:``) is an error that lists the allowed keys
rather than a setting silently ignored. Loading and checking live in :mod:`simple_game.config.loading`
and :mod:`simple_game.config.experiment`.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator

from simple_game.config.games import normalize_game
from simple_game.config.hyperparams import algorithm_key
from simple_game.config.loading import origin_of
from simple_game.config.numbers import Float, Int
from simple_game.config.schedules import SCHEDULABLE, schedule_to_yaml
from simple_game.heap import heap_reuse_supported


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RewardShapingConfig(_Strict):
    """Penalties added to the training reward (never to evaluation or to logged game scores).

    Off by default. Both act after reward clipping (docs/decisions.md, section 14).
    """

    living_penalty: Float = Field(
        default=0.0, ge=0.0, allow_inf_nan=False, description="subtracted from the training reward at every agent step"
    )
    life_loss_penalty: Float = Field(
        default=0.0, ge=0.0, allow_inf_nan=False, description="subtracted from the training reward when a life is lost"
    )

    @property
    def active(self) -> bool:
        return self.living_penalty > 0 or self.life_loss_penalty > 0


class EnvConfig(_Strict):
    """How the Atari game is emulated and preprocessed (see docs/rl_primer.md)."""

    game: str
    protocol: Literal["classic", "modern"] = "classic"
    n_envs: Int = Field(default=8, gt=0, le=256)
    frame_stack: Int = Field(default=4, gt=0, le=16)
    backend: Literal["auto", "dummy", "subproc", "ale_vector"] = "auto"
    noop_max: Int = Field(
        default=30, ge=0, description="up to this many no-op frames (a random number) at each game reset"
    )
    frame_skip: Int = Field(default=4, gt=0, description="emulator frames per agent step (the action is repeated)")
    screen_size: Int = Field(default=84, ge=36, le=256)
    terminal_on_life_loss: bool = Field(
        default=True, description="training only: a lost life ends the agent's episode (the game goes on)"
    )
    clip_reward: bool = True
    max_frames_per_episode: Int = Field(
        default=108_000,
        gt=0,
        description="emulator frames before a game is cut off: 108,000 is 30 minutes at 60 fps, "
        "27,000 agent steps with frame_skip 4",
    )
    repeat_action_probability: Optional[Float] = Field(default=None, ge=0.0, le=1.0)
    full_action_space: bool = Field(
        default=False, description="all 18 joystick actions instead of the game's minimal set (Breakout: 4)"
    )
    reward_shaping: RewardShapingConfig = Field(
        default_factory=RewardShapingConfig, description="training only: penalties added to the reward"
    )

    @field_validator("game")
    @classmethod
    def _known_game(cls, value: str) -> str:
        return normalize_game(value)

    @property
    def sticky_probability(self) -> float:
        """Sticky actions: classic protocol 0.0, modern (v5, Machado et al. 2018) 0.25."""
        if self.repeat_action_probability is not None:
            return self.repeat_action_probability
        return 0.25 if self.protocol == "modern" else 0.0


class EvalConfig(_Strict):
    """Periodic evaluation on a separate env: whole games, raw scores, ``simple-game evaluate``'s protocol.

    By default every algorithm plays the policy's greedy action, replaced by a uniformly random
    one with probability 0.05 (the DQN papers' rule); DQN's own exploration rate is not used.
    So ``best.zip``, the eval curve and ``simple-game evaluate`` measure the same thing
    (docs/rl_primer.md section 12). A run's old config.yaml without ``epsilon`` gets 0.05.
    """

    freq: Int = Field(default=250_000, ge=0, description="agent steps between evaluations; 0 disables")
    episodes: Int = Field(default=10, gt=0, description="whole games (all lives) per evaluation")
    n_envs: Int = Field(default=1, gt=0, le=64)
    deterministic: bool = Field(
        default=True,
        description="true: the policy's greedy (most likely) action; false: PPO/A2C sample their actions "
        "from the policy's distribution (DQN and QR-DQN stay greedy)",
    )
    epsilon: Float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="probability that a uniformly random action replaces the policy's, for every algorithm "
        "(as simple-game evaluate --epsilon); 0 plays the policy's actions only",
    )


class CheckpointConfig(_Strict):
    freq: Int = Field(default=100_000, gt=0, description="agent steps between checkpoints")
    keep: Int = Field(default=3, gt=0, description="periodic checkpoints kept on disk")
    save_replay_buffer: bool = False


class WandbConfig(_Strict):
    """Weights & Biases: the run's metrics and config mirrored into a W&B run (the optional extra ``wandb``)."""

    project: str = Field(..., min_length=1)
    mode: Literal["offline", "online"] = Field(
        default="offline", description="offline: files in <run>/wandb only (wandb sync uploads them later)"
    )
    entity: Optional[str] = None
    tags: list[str] = Field(default_factory=list)


class LoggingConfig(_Strict):
    console_interval_s: Float = Field(default=10.0, gt=0)
    progress_bar: bool = True
    tensorboard: bool = True
    log_interval: Int = Field(
        default=1,
        gt=0,
        description="SB3 log_interval: iterations (on-policy) or episodes (off-policy; a lost life ends one)",
    )
    # Whether wandb is installed is checked when training starts (training.run), not here:
    # evaluating or recording a run trained with W&B must not need wandb.
    wandb: Optional[WandbConfig] = Field(default=None, description="mirror metrics and config to Weights & Biases")


class MilestoneConfig(_Strict):
    """Skill-tier checkpoints: saved the first time the rolling mean score reaches a threshold."""

    thresholds: list[Float] = Field(default_factory=list)
    window: Int = Field(default=20, gt=0)

    @field_validator("thresholds")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if any(not math.isfinite(v) for v in value) or sorted(value) != value or len(set(value)) != len(value):
            raise ValueError("thresholds must be finite and strictly increasing, e.g. [50, 150, 250]")
        return value


class VideoConfig(_Strict):
    freq: Int = Field(default=0, ge=0, description="agent steps between evaluation videos; 0 disables")
    max_steps: Int = Field(default=4_500, gt=0, description="agent steps per video at most")


def _yaml_switch(value: Any) -> Any:
    """YAML 1.1 reads an unquoted ``on``/``off`` (and yes/no, true/false) as a boolean."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return value


# A three-way switch; ``channels_last: off`` means "off", not the boolean PyYAML makes of it.
Switch = Annotated[Literal["auto", "on", "off"], BeforeValidator(_yaml_switch)]


class ComputeConfig(_Strict):
    """Speed switches for the network; each has a safe default (see docs/performance.md)."""

    channels_last: Switch = "auto"
    compile: Switch = "auto"
    bf16: bool = False
    threads: Int = Field(default=0, ge=0, description="torch CPU threads; 0 = torch's default")
    heap_reuse: Switch = Field(
        default="auto",
        description="keep freed memory for the next big allocation (glibc's malloc; auto = on where it is); "
        "see simple_game/heap.py",
    )

    @field_validator("heap_reuse")
    @classmethod
    def _heap_reuse_possible(cls, value: str) -> str:
        if value == "on" and not heap_reuse_supported():
            raise ValueError(
                f"'on' needs glibc's malloc (Linux), and this is {sys.platform}: use auto (on where possible) or off"
            )
        return value


class InitFromConfig(_Strict):
    """A new run whose network starts as a trained agent's (:mod:`simple_game.training.warm_start`)."""

    agent: str = Field(
        ...,
        min_length=1,
        description="what evaluate accepts: a run directory, a .zip, an RL Zoo run folder, hf://org/repo",
    )
    checkpoint: Optional[str] = Field(
        default=None, description="in a run or Zoo folder: latest, best (default), step_N, skill_level_K"
    )


class ExperimentConfig(_Strict):
    """A whole experiment: data flows config -> envs -> agent -> callbacks -> run directory."""

    name: str = Field(..., min_length=1)
    algo: str
    seed: Int = Field(default=0, ge=0)
    device: str = "auto"
    total_timesteps: Int = Field(..., gt=0)
    policy: str = "CnnPolicy"
    env: EnvConfig
    hyperparams: dict[str, Any] = Field(default_factory=dict)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    milestones: MilestoneConfig = Field(default_factory=MilestoneConfig)
    video: VideoConfig = Field(default_factory=VideoConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)
    init_from: Optional[InitFromConfig] = Field(
        default=None, description="start from a trained agent's weights instead of random ones (fine-tuning)"
    )
    track: Optional[str] = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the protocol family the run belongs to (docs/dqn.md: A paper-faithful, B modern); "
        "recorded in summary.json; results of different tracks are not compared in one claim",
    )
    # Where the config came from; not part of the schema users write.
    source: Optional[str] = Field(default=None, exclude=True)
    # What loading learned, never dumped to config.yaml: which file (or --set) set each dotted key,
    # warnings for the command to print, and the name of the config (see config_name).
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)
    _warnings: list[str] = PrivateAttr(default_factory=list)
    _config_name: Optional[str] = PrivateAttr(default=None)

    @field_validator("algo")
    @classmethod
    def _known_algo(cls, value: str) -> str:
        return algorithm_key(value)

    @field_validator("init_from", mode="before")
    @classmethod
    def _agent_alone(cls, value: Any) -> Any:
        return {"agent": value} if isinstance(value, str) else value  # init_from: runs/x (its best checkpoint)

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value):
            raise ValueError(f"unknown device {value!r} (allowed: auto, cpu, cuda, cuda:N, mps)")
        return value

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return safe_name(value)

    def origin(self, key: str) -> str:
        """Where ``key`` (dotted: ``hyperparams.learning_rate``) was set: a YAML path, ``--set`` or ``--name``.

        The closest parent key counts too (``--set env={game: Pong}`` sets ``env.game``); a key no
        file set (a default) answers the config's own source. A config reloaded from a run's
        ``config.yaml`` answers that file.
        """
        return origin_of(key, self.source or "<config>", self._origins)

    def where(self, key: str) -> str:
        """``"<origin>: <key>"``, the start of an error about that value: ``--set: hyperparams.batch_size``."""
        return f"{self.origin(key)}: {key}"

    @property
    def warnings(self) -> list[str]:
        """One-line warnings from loading, for the command to print (they never stop a run)."""
        return self._warnings

    @property
    def config_name(self) -> str:
        """The config's name: the file stem, plus ``-<game>`` when ``--set env.game`` changed the game."""
        return self._config_name or (Path(self.source).stem if self.source else self.name)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The resolved config as plain YAML data (what ``runs/<exp>/config.yaml`` holds)."""
        data = self.model_dump(mode="python")
        data["hyperparams"] = {k: schedule_to_yaml(v) if k in SCHEDULABLE else v for k, v in self.hyperparams.items()}
        for key in ("track", "init_from"):  # written only by configs that set them
            if data.get(key) is None:
                data.pop(key, None)
        return data


def safe_name(value: str) -> str:
    """Experiment names become directory names: keep letters, digits, ``-``, ``_`` and ``.``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", value.strip()).strip("-.")
    if not cleaned:
        raise ValueError(f"name {value!r} has no usable characters (use letters, digits, '-', '_')")
    return cleaned[:80]
