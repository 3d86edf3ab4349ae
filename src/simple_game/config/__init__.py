"""Experiment configuration: YAML files -> one validated :class:`ExperimentConfig`.

Loading happens in four steps, each with a clear error when it fails:

1. ``yaml.safe_load`` every file (never ``yaml.load``: a config must not run code);
2. follow ``extends: other.yaml`` chains and deep-merge, child keys winning;
3. apply ``--set a.b=c`` overrides (values parsed as YAML, so ``8``, ``true``, ``lin_1e-4`` work);
4. validate with pydantic and check the algorithm's hyperparameters against its constructor.

Every error is a :class:`~simple_game.errors.ConfigError` whose message names the file and the
key, e.g. ``configs/ppo_breakout.yaml: env.game: unknown game 'breakot' (did you mean 'breakout'?)``.

This module imports no torch, gymnasium or ale-py at import time.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import inspect
import math
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simple_game.config.schedules import SCHEDULABLE, parse_schedule, schedule_to_yaml
from simple_game.errors import ConfigError, SimpleGameError

ALLOWED_CLASS_PREFIXES = ("simple_game.", "stable_baselines3.", "sb3_contrib.", "torch.nn.", "torch.optim.")
# The algorithm registry: adding an algorithm is one line here. Values are import paths, so
# listing them costs nothing until an algorithm is actually used.
ALGORITHMS: dict[str, str] = {
    "ppo": "stable_baselines3.PPO",
    "a2c": "stable_baselines3.A2C",
    "dqn": "stable_baselines3.DQN",
    "qrdqn": "sb3_contrib.QRDQN",
}
# Constructor arguments simple-game fills in itself; a config may not set them.
MANAGED_ARGS = {"self", "policy", "env", "tensorboard_log", "verbose", "seed", "device", "_init_setup_model", "kwargs"}
# Hyperparameters that must be strictly positive integers when given.
POSITIVE_INTS = {
    "n_steps",
    "batch_size",
    "n_epochs",
    "buffer_size",
    "target_update_interval",
    "n_quantiles",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EnvConfig(_Strict):
    """How the Atari game is emulated and preprocessed (see docs/rl_primer.md)."""

    game: str
    protocol: Literal["classic", "modern"] = "classic"
    n_envs: int = Field(8, gt=0, le=256)
    frame_stack: int = Field(4, gt=0, le=16)
    backend: Literal["auto", "dummy", "subproc", "ale_vector"] = "auto"
    noop_max: int = Field(30, ge=0)
    frame_skip: int = Field(4, gt=0)
    screen_size: int = Field(84, ge=36, le=256)
    terminal_on_life_loss: bool = True
    clip_reward: bool = True
    max_frames_per_episode: int = Field(108_000, gt=0)
    repeat_action_probability: Optional[float] = Field(None, ge=0.0, le=1.0)

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
    """Periodic evaluation on a separate env: full games, raw scores."""

    freq: int = Field(250_000, ge=0, description="agent steps between evaluations; 0 disables")
    episodes: int = Field(10, gt=0)
    n_envs: int = Field(1, gt=0, le=64)
    deterministic: bool = False


class CheckpointConfig(_Strict):
    freq: int = Field(100_000, gt=0, description="agent steps between checkpoints")
    keep: int = Field(3, gt=0, description="periodic checkpoints kept on disk")
    save_replay_buffer: bool = False


class LoggingConfig(_Strict):
    console_interval_s: float = Field(10.0, gt=0)
    progress_bar: bool = True
    tensorboard: bool = True
    log_interval: int = Field(1, gt=0, description="SB3 log_interval: iterations (on-policy) or episodes (off-policy)")


class MilestoneConfig(_Strict):
    """Skill-tier checkpoints: saved the first time the rolling mean score reaches a threshold."""

    thresholds: list[float] = Field(default_factory=list)
    window: int = Field(20, gt=0)

    @field_validator("thresholds")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if any(not math.isfinite(v) for v in value) or sorted(value) != value or len(set(value)) != len(value):
            raise ValueError("thresholds must be finite and strictly increasing, e.g. [50, 150, 250]")
        return value


class VideoConfig(_Strict):
    freq: int = Field(0, ge=0, description="agent steps between evaluation videos; 0 disables")
    max_steps: int = Field(4_500, gt=0, description="agent steps per video at most")


class ComputeConfig(_Strict):
    """Speed switches for the network; each has a safe default (see docs/performance.md)."""

    channels_last: Literal["auto", "on", "off"] = "auto"
    compile: Literal["auto", "on", "off"] = "auto"
    bf16: bool = False
    threads: int = Field(0, ge=0, description="torch CPU threads; 0 = torch's default")


class ExperimentConfig(_Strict):
    """A whole experiment: data flows config -> envs -> agent -> callbacks -> run directory."""

    name: str = Field(..., min_length=1)
    algo: str
    seed: int = Field(0, ge=0)
    device: str = "auto"
    total_timesteps: int = Field(..., gt=0)
    policy: str = "CnnPolicy"
    env: EnvConfig
    hyperparams: dict[str, Any] = Field(default_factory=dict)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    milestones: MilestoneConfig = Field(default_factory=MilestoneConfig)
    video: VideoConfig = Field(default_factory=VideoConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)
    # Where the config came from; not part of the schema users write.
    source: Optional[str] = Field(None, exclude=True)

    @field_validator("algo")
    @classmethod
    def _known_algo(cls, value: str) -> str:
        key = value.lower()
        if key not in ALGORITHMS:
            raise ValueError(
                f"unknown algorithm {value!r}{_did_you_mean(key, ALGORITHMS)} (allowed: {', '.join(ALGORITHMS)})"
            )
        return key

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

    def to_yaml_dict(self) -> dict[str, Any]:
        """The resolved config as plain YAML data (what ``runs/<exp>/config.yaml`` holds)."""
        data = self.model_dump(mode="python")
        data["hyperparams"] = {k: schedule_to_yaml(v) if k in SCHEDULABLE else v for k, v in self.hyperparams.items()}
        return data


def safe_name(value: str) -> str:
    """Experiment names become directory names: keep letters, digits, ``-``, ``_`` and ``.``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", value.strip()).strip("-.")
    if not cleaned:
        raise ValueError(f"name {value!r} has no usable characters (use letters, digits, '-', '_')")
    return cleaned[:80]


# --------------------------------------------------------------------------------------------
# Games
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def available_games() -> tuple[str, ...]:
    """ROM ids bundled with ale-py (e.g. ``breakout``, ``space_invaders``)."""
    try:
        from ale_py import roms
    except ImportError as exc:  # pragma: no cover - ale-py is a dependency
        raise SimpleGameError(f"ale-py is not installed ({exc}); run `make setup`") from None
    return tuple(sorted(roms.get_all_rom_ids()))


def normalize_game(value: str) -> str:
    """Accept ``Breakout``, ``breakout``, ``SpaceInvaders``, ``ALE/Pong-v5`` or
    ``BreakoutNoFrameskip-v4`` and return ale-py's ROM id (``space_invaders``)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("game must be a non-empty string such as 'Breakout'")
    text = value.strip()
    text = re.sub(r"^ALE/", "", text)
    text = re.sub(r"(NoFrameskip|Deterministic)?-v\d+$", "", text)
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower().replace("-", "_")
    games = available_games()
    if snake in games:
        return snake
    flat = {g.replace("_", ""): g for g in games}
    if snake.replace("_", "") in flat:
        return flat[snake.replace("_", "")]
    raise ValueError(
        f"unknown game {value!r}{_did_you_mean(snake, games)} ({len(games)} games available; `simple-game roms --list` lists them)"
    )


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_config(path: str | Path, overrides: list[str] | None = None, name: str | None = None) -> ExperimentConfig:
    """Load, merge, override and validate one experiment config."""
    path = Path(path)
    data, origins = _load_with_bases(path, chain=())
    for item in overrides or []:
        _apply_override(data, origins, item)
    data.setdefault("name", path.stem)
    if name is not None:
        data["name"] = name
        origins["name"] = "--name"
    return validate_config(data, source=str(path), origins=origins)


def validate_config(
    data: dict[str, Any], source: str = "<config>", origins: dict[str, str] | None = None
) -> ExperimentConfig:
    """Validate already-merged data (also used for a run directory's saved config.yaml)."""
    origins = origins or {}
    try:
        cfg = ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc, source, origins)) from None
    cfg.source = source
    cfg.hyperparams = _check_hyperparams(cfg, source, origins)
    return cfg


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        hint = ""
        if path.parent.is_dir():
            hint = _did_you_mean(path.name, [p.name for p in path.parent.glob("*.y*ml")])
        raise ConfigError(f"{path}: config file not found{hint}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: YAML syntax error{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys (got {type(data).__name__})")
    return data


def _load_with_bases(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    resolved = path.resolve()
    if resolved in chain:
        raise ConfigError(f"{path}: extends: cycle ({' -> '.join(p.name for p in chain + (resolved,))})")
    data = _load_yaml(path)
    base_ref = data.pop("extends", None)
    if base_ref is None:
        merged: dict[str, Any] = {}
        origins: dict[str, str] = {}
    else:
        if not isinstance(base_ref, str):
            raise ConfigError(f"{path}: extends: expected a relative file path, got {base_ref!r}")
        base_path = path.parent / base_ref
        if not base_path.is_file():
            raise ConfigError(f"{path}: extends: base file {base_ref!r} not found (looked in {path.parent})")
        merged, origins = _load_with_bases(base_path, chain + (resolved,))
    _deep_merge(merged, data, origins, str(path), prefix="")
    return merged, origins


def _deep_merge(base: dict[str, Any], over: dict[str, Any], origins: dict[str, str], source: str, prefix: str) -> None:
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value, origins, source, dotted + ".")
        else:
            base[key] = copy.deepcopy(value)
            origins[dotted] = source


def _apply_override(data: dict[str, Any], origins: dict[str, str], item: str) -> None:
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected key.path=value, e.g. --set env.n_envs=4")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key):
        raise ConfigError(f"--set {item!r}: bad key path {key!r} (use dotted names like hyperparams.n_steps)")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"--set {item!r}: {'.'.join(parts[: i + 1])} is not a mapping")
        node = child
    node[parts[-1]] = value
    origins[key] = "--set"


def _origin(loc: str, source: str, origins: dict[str, str]) -> str:
    """The file that set ``loc`` (or its closest parent key), so errors point at the right file."""
    parts = loc.split(".")
    for i in range(len(parts), 0, -1):
        hit = origins.get(".".join(parts[:i]))
        if hit:
            return hit
    return source


def _describe_validation_error(exc: ValidationError, source: str, origins: dict[str, str]) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    where = _origin(loc, source, origins)
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = err["loc"][:-1]
        allowed = _allowed_keys(parent)
        key = str(err["loc"][-1])
        hint = _did_you_mean(key, allowed)
        return f"{where}: {loc}: unknown key{hint} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return f"{where}: {loc}: required key is missing"
    msg = err["msg"]
    msg = re.sub(r"^Value error, ", "", msg)
    value = err.get("input")
    shown = "" if kind.startswith("value_error") or isinstance(value, dict) else f" (got {value!r})"
    return f"{where}: {loc}: {msg}{shown}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = ExperimentConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return []
        model = field.annotation
    return [k for k in model.model_fields if k != "source"]


# --------------------------------------------------------------------------------------------
# Hyperparameters and class paths
# --------------------------------------------------------------------------------------------


def algorithm_class(algo: str) -> type:
    """Import the SB3 / sb3-contrib class registered under ``algo``."""
    module_name, _, cls_name = ALGORITHMS[algo].rpartition(".")
    return getattr(importlib.import_module(module_name), cls_name)


def resolve_class_path(path: str, where: str = "") -> type:
    """Import a dotted class path, but only from the allowlisted packages.

    A YAML file must not be able to name arbitrary callables (``os.system``), so only classes
    under ``simple_game.``, ``stable_baselines3.``, ``sb3_contrib.``, ``torch.nn.`` and
    ``torch.optim.`` resolve. ``src.simple_game.X`` is accepted for older configs.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(path, str):
        raise ConfigError(f"{prefix}expected a dotted class path string, got {path!r}")
    dotted = path[4:] if path.startswith("src.simple_game.") else path
    if not dotted.startswith(ALLOWED_CLASS_PREFIXES):
        raise ConfigError(
            f"{prefix}class path {path!r} is not allowed (allowed prefixes: {', '.join(ALLOWED_CLASS_PREFIXES)})"
        )
    module_name, _, attr = dotted.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise ConfigError(f"{prefix}cannot import {path!r}") from None
    if not isinstance(obj, type):
        raise ConfigError(f"{prefix}{path!r} is not a class")
    return obj


def _is_class_key(key: str) -> bool:
    return key.endswith("_class") or key == "activation_fn"


def _check_hyperparams(cfg: ExperimentConfig, source: str, origins: dict[str, str]) -> dict[str, Any]:
    """Check ``hyperparams`` against the algorithm's constructor; parse schedules.

    Class paths stay strings here (so the config dumps back to YAML); they are checked against
    the allowlist and test-imported now, and imported for use by :func:`model_kwargs`.
    """
    params = dict(cfg.hyperparams)
    signature = _constructor_defaults(cfg.algo)
    allowed = sorted(k for k in signature if k not in MANAGED_ARGS)
    for key, value in params.items():
        loc = f"hyperparams.{key}"
        where = f"{_origin(loc, source, origins)}: {loc}"
        if key not in signature or key in MANAGED_ARGS:
            hint = _did_you_mean(key, allowed)
            raise ConfigError(f"{where}: unknown hyperparameter for {cfg.algo}{hint} (allowed: {', '.join(allowed)})")
        if key in SCHEDULABLE:
            try:
                params[key] = parse_schedule(value)
            except ValueError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            continue
        default = signature[key]
        _check_type(where, key, value, default)
        if key.endswith("_class") and value is not None:
            _check_class_path(value, where)
        if key == "policy_kwargs" and value is not None:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a mapping, got {value!r}")
            for sub, sub_value in value.items():
                if _is_class_key(sub):
                    sub_loc = f"{loc}.{sub}"
                    _check_class_path(sub_value, f"{_origin(sub_loc, source, origins)}: {sub_loc}")
    return params


def _check_class_path(value: Any, where: str) -> None:
    # Importing now (SB3, hence torch, is already loaded for the constructor check above) turns
    # a typo into a config error that names the file, before a run directory is created.
    resolve_class_path(value, where)


def _check_type(where: str, key: str, value: Any, default: Any) -> None:
    if key == "train_freq":
        ok = (isinstance(value, int) and not isinstance(value, bool) and value > 0) or (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and isinstance(value[0], int)
            and value[0] > 0
            and value[1] in ("step", "episode")
        )
        if not ok:
            raise ConfigError(f"{where}: expected a positive integer or [N, 'step'|'episode'], got {value!r}")
        return
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
    elif isinstance(default, int) and default is not None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if key in POSITIVE_INTS and value <= 0:
            raise ConfigError(f"{where}: must be a positive integer, got {value}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{where}: must not be negative, got {value}")


@cache
def _constructor_defaults(algo: str) -> dict[str, Any]:
    cls = algorithm_class(algo)
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}


def model_kwargs(cfg: ExperimentConfig) -> dict[str, Any]:
    """Hyperparameters ready for the SB3 constructor: class paths imported (allowlist only)."""
    kwargs = copy.deepcopy(cfg.hyperparams)
    for key, value in list(kwargs.items()):
        if key.endswith("_class") and isinstance(value, str):
            kwargs[key] = resolve_class_path(value, f"hyperparams.{key}")
    policy_kwargs = dict(kwargs.get("policy_kwargs") or {})
    for key, value in list(policy_kwargs.items()):
        if _is_class_key(key) and isinstance(value, str):
            policy_kwargs[key] = resolve_class_path(value, f"hyperparams.policy_kwargs.{key}")
    if policy_kwargs:
        kwargs["policy_kwargs"] = policy_kwargs
    if isinstance(kwargs.get("train_freq"), list):
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    return kwargs


def dump_config(cfg: ExperimentConfig) -> str:
    """YAML text of the resolved config."""
    return yaml.safe_dump(cfg.to_yaml_dict(), sort_keys=False)
