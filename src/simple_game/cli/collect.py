"""Record a skill-tiered gameplay dataset (PNG frames + JSON action logs), and verify one.

    python -m simple_game.collect --config configs/collect_breakout.yaml [--set key=value ...]
    python -m simple_game.collect verify data/

Each tier is an agent of a known skill: tier 0 plays uniformly at random, tier k >= 1 is the
``skill_level_k`` checkpoint that training saved when the agent's rolling mean score first
reached the k-th milestone. Every tier plays whole games under the evaluation protocol, each
from its own seed, and ``verify`` replays those seeds and actions to prove the frames are
exactly what the emulator produces. The format is described in docs/dataset.md; the work is
done by :mod:`simple_game.dataset`, this module reads the config and prints.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simple_game.cli.common import cli_main
from simple_game.config import (
    ALGORITHMS,
    ConfigError,
    EnvConfig,
    _apply_override,
    _did_you_mean,
    _load_with_bases,
    _origin,
)
from simple_game.dataset import Policy
from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    import numpy as np

    from simple_game.dataset import CollectionPlan
    from simple_game.runs import RunDirectory
    from simple_game.checkpoints import 

EXIT_VERIFY_FAILED = 1
CHECKPOINT_NAMES = re.compile(r"latest|best|step_\d+|skill_level_\d+")


# --------------------------------------------------------------------------------------------
# The collect config
# --------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TierSpec(_Strict):
    """One skill tier: ``random: true``, or a checkpoint (a name in a run, or a .zip path)."""

    level: Optional[int] = Field(None, ge=0, description="skill level k (default: position in the list)")
    random: bool = False
    run: Optional[str] = Field(None, description="run directory holding the checkpoint (default: the top-level run)")
    checkpoint: Optional[str] = Field(None, description="latest, best, step_N, skill_level_K, or a path to a .zip")
    algo: Optional[str] = Field(None, description="only for checkpoints without simple-game metadata")
    episodes: Optional[int] = Field(None, gt=0)
    max_steps: Optional[int] = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> TierSpec:
        if self.random == (self.checkpoint is not None):
            raise ValueError(
                "give either random: true or checkpoint: (latest, best, step_N, skill_level_K or a .zip path)"
            )
        if self.random and (self.run or self.algo):
            raise ValueError("a random tier takes no run or algo")
        if self.algo is not None and self.algo.lower() not in ALGORITHMS:
            raise ValueError(
                f"unknown algorithm {self.algo!r}{_did_you_mean(self.algo.lower(), ALGORITHMS)} (allowed: {', '.join(ALGORITHMS)})"
            )
        return self


class CollectConfig(_Strict):
    """A gameplay dataset: where the agents come from, how many games each plays, where it goes."""

    run: Optional[str] = Field(
        None, description="training run whose config gives game, protocol and frame stack; globs pick the newest match"
    )
    env: Optional[EnvConfig] = Field(
        None, description="the env settings, when no run is given (random tiers, .zip checkpoints)"
    )
    tiers: list[TierSpec] = Field(..., min_length=1)
    episodes: int = Field(50, gt=0, description="whole games per tier")
    max_steps: Optional[int] = Field(None, gt=0, description="cap on agent steps per episode (default: whole games)")
    output: str = "data"
    validation_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    sampling: Literal["epsilon", "deterministic", "stochastic"] = "epsilon"
    epsilon: float = Field(0.05, ge=0.0, le=1.0)
    seed: int = Field(0, ge=0)
    rgb: bool = Field(
        False, description="store the native 210x160 RGB screen instead of the 84x84 grayscale observation"
    )
    workers: int = Field(2, ge=0, le=64, description="PNG-encoding threads (0: encode in the main thread)")

    @model_validator(mode="after")
    def _env_source(self) -> CollectConfig:
        if (self.run is None) == (self.env is None):
            raise ValueError("give either run: (a training run directory) or env: (game, protocol, frame_stack ...)")
        levels = [t.level if t.level is not None else i for i, t in enumerate(self.tiers)]
        if len(set(levels)) != len(levels):
            raise ValueError(f"tiers: skill levels must be distinct (got {levels})")
        return self


def load_collect_config(path: str | Path, overrides: Optional[list[str]] = None) -> CollectConfig:
    """Load a collect YAML (``extends:`` and ``--set`` work as for experiment configs)."""
    path = Path(path)
    data, origins = _load_with_bases(path, chain=())
    for item in overrides or []:
        _apply_override(data, origins, item)
    try:
        return CollectConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(path), origins)) from None


def _describe(exc: ValidationError, source: str, origins: dict[str, str]) -> str:
    """One line naming the file and key, like experiment-config errors."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    where = _origin(loc, source, origins) if loc else source
    prefix = f"{where}: {loc}: " if loc else f"{where}: "
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(err["loc"][:-1])
        return f"{prefix}unknown key{_did_you_mean(str(err['loc'][-1]), allowed)} (allowed: {', '.join(allowed)})"
    if err["type"] == "missing":
        return f"{prefix}required key is missing"
    msg = re.sub(r"^(Value error|Assertion failed), ", "", err["msg"])
    value = err.get("input")
    shown = "" if err["type"].startswith("value_error") or isinstance(value, (dict, list)) else f" (got {value!r})"
    return f"{prefix}{msg}{shown}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = CollectConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        models = [
            a
            for a in (field.annotation, *get_args(field.annotation))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not models:
            return []
        model = models[0]
    return list(model.model_fields)


# --------------------------------------------------------------------------------------------
# From config to plan: runs, checkpoints, policies
# --------------------------------------------------------------------------------------------


def find_run(pattern: str, where: str) -> RunDirectory:
    """A run directory; a glob (``runs/ppo_breakout_data_*``) picks the last match by name,
    which for one experiment is the newest (names end in a timestamp)."""
    from simple_game.runs import open_run_dir
    from simple_game.checkpoints import 

    if any(c in pattern for c in "*?["):
        matches = sorted(p for p in glob.glob(pattern) if (Path(p) / "config.yaml").is_file())
        if not matches:
            raise SimpleGameError(
                f"{where}: no run directory matches {pattern!r}; train one first "
                "(python -m simple_game.train --config configs/ppo_breakout_data.yaml) or --set run=runs/<your run>"
            )
        pattern = matches[-1]
    try:
        return open_run_dir(Path(pattern))
    except SimpleGameError as exc:
        raise SimpleGameError(f"{where}: {exc}") from None


def build_plan(cfg: CollectConfig, source: str) -> CollectionPlan:
    """Resolve runs and checkpoints and check they fit the env; nothing is loaded yet."""
    from simple_game.config import load_config
    from simple_game.dataset import CollectionPlan, TierPlan

    base_run = find_run(cfg.run, f"{source}: run") if cfg.run else None
    if base_run is not None:
        env_cfg = load_config(base_run.config_path).env
    else:
        assert cfg.env is not None
        env_cfg = cfg.env
    tiers = []
    for i, spec in enumerate(cfg.tiers):
        level = spec.level if spec.level is not None else i
        where = f"{source}: tiers.{i}"
        if spec.random:
            info: dict[str, Any] = {
                "source": "random",
                "run": None,
                "checkpoint": None,
                "checkpoint_sha256": None,
                "algo": None,
                "sampling": "random",
                "epsilon": None,
                "milestone": None,
            }
            make_policy: Any = RandomPolicy
        else:
            info, make_policy = _checkpoint_tier(spec, base_run, env_cfg, cfg, where)
        tiers.append(
            TierPlan(
                level,
                spec.episodes or cfg.episodes,
                spec.max_steps if spec.max_steps is not None else cfg.max_steps,
                make_policy,
                info,
            )
        )
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


def _checkpoint_tier(
    spec: TierSpec, base_run: Optional[RunDirectory], env_cfg: EnvConfig, cfg: CollectConfig, where: str
) -> tuple[dict[str, Any], Any]:
    from simple_game.config import load_config
    from simple_game.checkpoints import read_checkpoint_metadata

    assert spec.checkpoint is not None
    run = find_run(spec.run, f"{where}.run") if spec.run else base_run
    if CHECKPOINT_NAMES.fullmatch(spec.checkpoint):
        if run is None:
            raise SimpleGameError(
                f"{where}.checkpoint: {spec.checkpoint!r} names a checkpoint of a run, but no run is given (set run:, or give a .zip path)"
            )
        try:
            path = run.resolve_checkpoint(spec.checkpoint)
        except SimpleGameError as exc:
            raise SimpleGameError(f"{where}.checkpoint: {exc}") from None
    else:
        path = Path(spec.checkpoint)
        if not path.is_file():
            raise SimpleGameError(
                f"{where}.checkpoint: {path}: checkpoint not found (use latest, best, step_N, skill_level_K or a .zip path)"
            )
    meta = read_checkpoint_metadata(path)
    algo = (spec.algo or "").lower() or meta.get("algo") or (load_config(run.config_path).algo if run else None)
    if not algo:
        raise SimpleGameError(
            f"{where}: {path} has no simple-game metadata; say which algorithm it is with algo: (one of {', '.join(ALGORITHMS)})"
        )
    for key, want in (
        ("game", env_cfg.game),
        ("frame_stack", env_cfg.frame_stack),
        ("screen_size", env_cfg.screen_size),
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
        "run": str(run.path) if run else None,
        "checkpoint": str(path),
        "checkpoint_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "algo": algo,
        "sampling": cfg.sampling,
        "epsilon": cfg.epsilon if cfg.sampling == "epsilon" else None,
        "trained_steps": meta.get("step"),
        "milestone": milestone,
    }

    def make_policy(n_actions: int) -> Policy:
        return AgentPolicy(path, algo, env_cfg, cfg.sampling, cfg.epsilon, n_actions)

    return info, make_policy


class RandomPolicy(Policy):
    """Tier 0: uniformly random actions from the episode's own generator."""

    def __init__(self, n_actions: int):
        self.n_actions = n_actions

    def start(self, seed: int) -> None:
        import numpy as np

        self.rng = np.random.default_rng(seed)

    def act(self, t: int, obs: np.ndarray) -> int:
        return int(self.rng.integers(self.n_actions))


class FrameStacker:
    """The last ``n`` frames, oldest first, shape ``(n, H, W)``: the observation SB3's
    ``VecFrameStack`` + ``VecTransposeImage`` give an agent in training (zeros after a reset)."""

    def __init__(self, n: int, size: int):
        import numpy as np

        self.frames = np.zeros((n, size, size), dtype=np.uint8)

    def reset(self) -> None:
        self.frames[:] = 0

    def push(self, frame: np.ndarray) -> np.ndarray:
        self.frames[:-1] = self.frames[1:]
        self.frames[-1] = frame
        return self.frames


class AgentPolicy(Policy):
    """A trained agent seeing what it saw in training: the last ``frame_stack`` frames, channel first.

    ``epsilon``: the greedy action, or with probability epsilon a random one (the DQN-paper
    evaluation rule, which also stops an agent from waiting forever to press FIRE);
    ``deterministic``: always the greedy action; ``stochastic``: sample from the policy's
    action distribution (value-based agents have none and act greedily). The torch and numpy
    generators are seeded per episode, so an episode does not depend on what ran before it.
    """

    def __init__(self, path: Path, algo: str, env_cfg: EnvConfig, sampling: str, epsilon: float, n_actions: int):
        import torch

        from simple_game.agents import load_model

        torch.set_num_threads(1)  # batch-1 inference: one thread is fastest and leaves cores to PNG encoding
        self.model = load_model(path, algo, device="cpu")
        shape = (env_cfg.frame_stack, env_cfg.screen_size, env_cfg.screen_size)
        got = tuple(self.model.observation_space.shape or ())
        if got != shape:
            raise SimpleGameError(
                f"{path}: the agent expects observations of shape {got}, this env gives {shape} (frame_stack {env_cfg.frame_stack})"
            )
        if getattr(self.model.action_space, "n", n_actions) != n_actions:
            raise SimpleGameError(
                f"{path}: the agent has {self.model.action_space.n} actions, the game has {n_actions}"
            )
        self.sampling, self.epsilon, self.n_actions = sampling, epsilon, n_actions
        self.stack = FrameStacker(env_cfg.frame_stack, env_cfg.screen_size)

    def start(self, seed: int) -> None:
        import numpy as np
        import torch

        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.stack.reset()

    def act(self, t: int, obs: np.ndarray) -> int:
        stacked = self.stack.push(obs)
        if self.sampling == "epsilon" and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_actions))
        action, _ = self.model.policy.predict(stacked, deterministic=self.sampling != "stochastic")
        return int(action)


# --------------------------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game collect",
        description="Record a skill-tiered gameplay dataset (PNG frames + JSON action logs). "
        "`simple-game collect verify DIR` replays a dataset and checks every frame.",
        epilog="Format, pairing and workflow: docs/dataset.md",
    )
    parser.add_argument("--config", "-c", help="collect YAML, e.g. configs/collect_breakout.yaml")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a config value (repeatable), e.g. --set run=runs/my_run --set episodes=10",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


def build_verify_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game collect verify",
        description="Replay every episode of a dataset from its seed and recorded actions; check every frame bit for bit "
        "and every reward, life count and length. Exit 0: all reproduce; 1: mismatches; 2: not a dataset.",
    )
    parser.add_argument("dataset", help="dataset directory (the one holding manifest.json)")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "verify":
        return verify_main(argv[1:])
    args = build_parser().parse_args(argv)
    if not args.config:
        raise SimpleGameError(
            "--config is required, e.g. --config configs/collect_breakout.yaml (or: collect verify DIR)"
        )
    cfg = load_collect_config(args.config, args.overrides)
    return run_collect(cfg, str(args.config))


def run_collect(cfg: CollectConfig, source: str) -> int:
    import rich
    from rich.table import Table

    from simple_game.dataset import MANIFEST, collect_dataset, read_json

    console = rich.get_console()
    plan = build_plan(cfg, source)
    console.print(
        f"[bold]simple-game collect[/bold] {plan.env_cfg.game} ({plan.env_cfg.protocol} protocol, frame stack {plan.env_cfg.frame_stack}) "
        f"-> {plan.output}/ | {'RGB 210x160' if plan.rgb else f'grayscale {plan.env_cfg.screen_size}x{plan.env_cfg.screen_size}'} PNG, "
        f"{plan.workers} encoder threads | seed {plan.seed}"
    )
    table = Table("tier", "source", "episodes", "max steps", "sampling", "milestone")
    for tier in plan.tiers:
        ms = tier.info.get("milestone")
        table.add_row(
            tier.name,
            Path(tier.info["checkpoint"]).name if tier.info["checkpoint"] else "random",
            str(tier.episodes),
            str(tier.max_steps or "whole games"),
            f"{tier.info['sampling']}" + (f" {tier.info['epsilon']:g}" if tier.info.get("epsilon") is not None else ""),
            f"mean {ms['rolling_mean_score']:.1f} >= {ms['threshold']:g} at step {ms.get('step', '?')}" if ms else "",
        )
    console.print(table)
    for run in sorted({t.info["run"] for t in plan.tiers if t.info.get("run")}):
        console.print(f"agents from run {run}", highlight=False)
    stats = collect_dataset(plan, report=lambda line: console.print(line, highlight=False))
    manifest = read_json(plan.output / MANIFEST)
    summary = Table("tier", "episodes", "train/val", "frames", "score mean ± std", "min", "max", title="dataset")
    for t in manifest["tiers"]:
        s = t["score"]
        summary.add_row(
            t["name"],
            str(t["episodes"]),
            f"{t['train_episodes']}/{t['validation_episodes']}",
            f"{t['frames']:,}",
            f"{s['mean']:.1f} ± {s['std']:.1f}" if s["mean"] is not None else "n/a",
            str(s["min"]),
            str(s["max"]),
        )
    console.print(summary)
    busy = 100 * stats.encode_wait_s / stats.wall_s if stats.wall_s else 0.0
    console.print(
        f"wrote {stats.frames_written:,} frames ({stats.bytes_written / 1e6:.1f} MB) in {stats.episodes_written} episodes "
        f"({stats.episodes_skipped} already there) in {stats.wall_s:.1f}s: [bold]{stats.frames_per_s:.0f} frames/s[/bold] "
        f"(waiting on PNG encoding {busy:.0f}% of the time)"
    )
    console.print(f"check it: python -m simple_game.collect verify {plan.output}")
    return 0


def verify_main(argv: list[str]) -> int:
    import rich
    from rich.table import Table

    from simple_game.dataset import load_manifest, verify_dataset

    args = build_verify_parser().parse_args(argv)
    console = rich.get_console()
    root = Path(args.dataset)
    manifest = load_manifest(root)  # exit 2 before anything heavy when it is not a dataset
    console.print(
        f"verifying {root}/ ({manifest['game']}, {manifest['protocol']} protocol, {manifest['totals']['episodes']} episodes) by replay"
    )

    def progress(check: Any) -> None:
        if not check.ok:
            console.print(f"[red]MISMATCH[/red] {check.episode_id}: {'; '.join(check.problems)}", highlight=False)

    report = verify_dataset(root, progress=progress)
    per_tier = Table("tier", "episodes", "reproduced", "failed", "frames checked", title="verify")
    tiers: dict[str, list[Any]] = {}
    for check in report.episodes:
        tiers.setdefault(check.episode_id.split("/")[0], []).append(check)
    for name, checks in tiers.items():
        failed = sum(not c.ok for c in checks)
        per_tier.add_row(
            name,
            str(len(checks)),
            str(len(checks) - failed),
            f"[red]{failed}[/red]" if failed else "0",
            f"{sum(c.frames_checked for c in checks):,}",
        )
    console.print(per_tier)
    bad = [c for c in report.episodes if not c.ok]
    if bad:
        table = Table("episode", "split", "steps", "frames differing", "problems", title="mismatches")
        for c in bad:
            table.add_row(
                c.episode_id, c.split, str(c.steps), f"{c.frames_differing}/{c.frames_checked}", "; ".join(c.problems)
            )
        console.print(table)
    for problem in report.problems:
        console.print(f"[red]problem[/red]: {problem}", highlight=False)
    rate = report.frames_checked / report.wall_s if report.wall_s else 0.0
    if report.ok:
        console.print(
            f"[green]OK[/green]: all {len(report.episodes)} episodes reproduce bit-exactly ({report.frames_checked:,} frames, {report.wall_s:.1f}s, {rate:.0f} frames/s)"
        )
        return 0
    console.print(
        f"[red]FAILED[/red]: {len(bad)} of {len(report.episodes)} episodes do not reproduce, {len(report.problems)} dataset problems"
    )
    return EXIT_VERIFY_FAILED


if __name__ == "__main__":
    sys.exit(main())
