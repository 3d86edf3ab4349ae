"""The search space of a sweep: a YAML file -> checked parameters, and each trial's experiment config.

A sweep tunes an experiment config (``configs/ppo_breakout.yaml``) by changing some of its keys
from trial to trial. The keys and their ranges live in a separate file, so the experiment config
stays a plain, trainable file and one config can have several spaces::

    # configs/sweeps/ppo_breakout.yaml
    config: ../ppo_breakout.yaml          # the experiment to tune (or: sweep --config)
    metric: final                         # final (default) or best evaluation score
    direction: maximize
    budget: 2000000                       # total_timesteps of each trial (default: the config's)
    sampler: {type: tpe, seed: 0}         # tpe (default) or random
    pruner: {type: median, n_startup_trials: 3, n_warmup_steps: 500000}
    params:
      hyperparams.learning_rate: {type: loguniform, low: 1.0e-5, high: 1.0e-3, schedule: linear}
      hyperparams.ent_coef: {type: uniform, low: 0.0, high: 0.05}
      hyperparams.n_epochs: {type: int, low: 2, high: 8}
      env.n_envs: {type: choice, choices: [4, 8]}

Every key is a dotted experiment key (any one ``--set`` accepts); each end of each range is
checked against the experiment schema before the first trial, so a typo or a value the schema
refuses is one line naming the file and the key.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import Field

from simple_game.config import validate_config
from simple_game.config.loading import load_yaml_data, validate_model
from simple_game.config.numbers import Float, Int
from simple_game.config.schema import ExperimentConfig, _Strict
from simple_game.errors import ConfigError

SCALARS = (str, int, float, bool, type(None))  # what Optuna can store as a categorical choice


class ParamSpec(_Strict):
    """One tuned key: a log-uniform, uniform or integer range, or a list of choices."""

    type: Literal["loguniform", "uniform", "int", "choice"]
    low: Optional[Float] = None
    high: Optional[Float] = None
    step: Optional[Float] = Field(default=None, gt=0)
    log: bool = False
    choices: Optional[list[Any]] = None
    schedule: Optional[Literal["linear"]] = Field(
        default=None, description="linear: the sampled number is the start of a linear schedule down to 0 (lin_X)"
    )


class SamplerSpec(_Strict):
    type: Literal["tpe", "random"] = "tpe"
    seed: Optional[Int] = Field(default=None, ge=0, description="default: the experiment's seed")
    n_startup_trials: Int = Field(default=5, ge=0, description="TPE: random trials before it models the results")


class PrunerSpec(_Strict):
    """When a trial is stopped early, judged on its periodic evaluations."""

    type: Literal["median", "successive_halving", "threshold", "none"] = "median"
    n_startup_trials: Int = Field(default=3, ge=0, description="median: trials that are never pruned")
    n_warmup_steps: Int = Field(default=0, ge=0, description="median, threshold: agent steps before any pruning")
    min_resource: Optional[Int] = Field(default=None, gt=0, description="successive halving: agent steps of rung 0")
    reduction_factor: Int = Field(default=3, ge=2, description="successive halving: 1 in this many goes on")
    lower: Optional[Float] = Field(default=None, description="threshold: prune below this score")
    upper: Optional[Float] = Field(default=None, description="threshold: prune above this score")


class SpaceFile(_Strict):
    config: Optional[str] = None
    study: Optional[str] = None
    metric: Literal["final", "best"] = "final"
    direction: Literal["maximize", "minimize"] = "maximize"
    budget: Optional[Int] = Field(default=None, gt=0)
    sampler: SamplerSpec = Field(default_factory=SamplerSpec)
    pruner: PrunerSpec = Field(default_factory=PrunerSpec)
    params: dict[str, dict[str, Any]] = Field(..., min_length=1)


class SearchSpace:
    """A checked search space over one base experiment: what to sample, and each trial's config."""

    def __init__(self, path: Path, spec: SpaceFile, params: dict[str, ParamSpec], base: Path, overrides: list[str]):
        self.path, self.spec, self.params, self.base, self.overrides = path, spec, params, base, overrides
        self._data, self._origins = load_yaml_data(base, overrides)
        self._data.setdefault("name", base.stem)

    def config(self, values: dict[str, Any], *, name: Optional[str] = None, budget: bool = True) -> ExperimentConfig:
        """The base experiment with ``values`` (dotted key -> sampled value) set, checked like any config.

        ``budget``: the space's ``budget`` replaces ``total_timesteps`` (each trial); ``best.yaml``
        keeps the config's own budget.
        """
        data, origins = copy.deepcopy(self._data), dict(self._origins)
        if budget and self.spec.budget is not None:
            data["total_timesteps"] = self.spec.budget
            origins["total_timesteps"] = str(self.path)
        for key, value in values.items():
            _set_key(data, key, self.value_of(key, value), self.path)
            origins[key] = str(self.path)
        if name is not None:
            data["name"] = name
            origins["name"] = str(self.path)
        return validate_config(data, str(self.base), origins)

    def value_of(self, key: str, sampled: Any) -> Any:
        """What the config gets for a sampled value: the number itself, or ``lin_<number>``."""
        return f"lin_{sampled!r}" if self.params[key].schedule == "linear" else sampled

    def fingerprint(self) -> str:
        """What must match for a worker to join an existing study: the keys, their ranges, the objective."""
        params = {key: spec.model_dump(exclude_none=True, exclude_defaults=True) for key, spec in self.params.items()}
        return json.dumps(
            {"params": params, "metric": self.spec.metric, "direction": self.spec.direction}, sort_keys=True
        )

    def check(self) -> None:
        """Each end of each range (each choice) set alone on the base config must be a valid experiment."""
        cfg = self.config({})
        if cfg.eval.freq <= 0:
            raise ConfigError(f"{cfg.where('eval.freq')}: a sweep needs evaluations to score trials (eval.freq > 0)")
        for key, spec in self.params.items():
            for value in _probes(spec):
                self.config({key: value})


def load_space(path: Path, config: Optional[Path], overrides: list[str]) -> SearchSpace:
    """Read and check the space file; ``config`` (``--config``) wins over the file's ``config:``."""
    data, origins = load_yaml_data(path)
    spec = validate_model(data, SpaceFile, str(path), origins)
    if config is None:
        if spec.config is None:
            raise ConfigError(f"{path}: config: required key is missing (the experiment to tune), or pass --config")
        config = Path(os.path.normpath(path.parent / spec.config))  # configs/ppo.yaml, not configs/sweeps/../ppo.yaml
        if not config.is_file():
            raise ConfigError(f"{path}: config: file {spec.config!r} not found (looked in {path.parent})")
    if spec.pruner.type == "threshold" and spec.pruner.lower is None and spec.pruner.upper is None:
        raise ConfigError(f"{path}: pruner: a threshold pruner needs lower or upper (the score to stay above/below)")
    params = {key: _param(path, key, raw) for key, raw in spec.params.items()}
    space = SearchSpace(path, spec, params, config, list(overrides))
    space.check()
    return space


def _param(path: Path, key: str, raw: Any) -> ParamSpec:
    where = f"{path}: params.{key}"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key):
        raise ConfigError(f"{where}: not a dotted config key (such as hyperparams.learning_rate or env.n_envs)")
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping such as {{type: loguniform, low: 1.0e-5, high: 1.0e-3}}")
    spec = validate_model(raw, ParamSpec, where)
    if spec.type == "choice":
        if not spec.choices:
            raise ConfigError(f"{where}: choices: give at least one value, e.g. choices: [4, 8]")
        if not all(isinstance(c, SCALARS) for c in spec.choices):
            raise ConfigError(f"{where}: choices: each must be a number, a string, true/false or null")
        return spec
    if spec.low is None or spec.high is None:
        raise ConfigError(f"{where}: a {spec.type} range needs low and high")
    if spec.high < spec.low or (spec.type != "int" and spec.high == spec.low):
        raise ConfigError(f"{where}: empty range: low {spec.low:g} must be below high {spec.high:g}")
    if spec.type == "loguniform" and spec.low <= 0:
        raise ConfigError(f"{where}: low: a log-uniform range must be above 0 (got {spec.low:g})")
    if spec.type == "int" and not all(float(v).is_integer() for v in (spec.low, spec.high, spec.step or 1)):
        raise ConfigError(f"{where}: an int range needs whole numbers for low, high and step")
    if spec.type == "loguniform" and spec.step is not None:
        raise ConfigError(f"{where}: step: a log-uniform range has no step (use uniform or int)")
    if spec.schedule is not None and spec.type not in ("loguniform", "uniform"):
        raise ConfigError(f"{where}: schedule: only a loguniform or uniform number can start a schedule")
    if not all(math.isfinite(v) for v in (spec.low, spec.high)):
        raise ConfigError(f"{where}: low and high must be finite numbers")
    return spec


def _probes(spec: ParamSpec) -> list[Any]:
    """The values checked before a sweep starts: each choice; both ends and the middle of a range
    (the middle catches a float range over a whole-number key, whose ends pass as 1.0 and 8.0)."""
    if spec.type == "choice":
        return list(spec.choices or [])
    low, high = float(spec.low or 0.0), float(spec.high or 0.0)
    if spec.type == "int":
        return [int(low), int(high)]
    middle = math.sqrt(low * high) if spec.type == "loguniform" else (low + high) / 2
    return [low, middle, high]


def _set_key(data: dict[str, Any], key: str, value: Any, path: Path) -> None:
    """``data["hyperparams"]["learning_rate"] = value`` for ``hyperparams.learning_rate``."""
    node = data
    parts = key.split(".")
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"{path}: params.{key}: {'.'.join(parts[: i + 1])} is not a mapping in the config")
        node = child
    node[parts[-1]] = value
