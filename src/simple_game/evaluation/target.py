"""What to play with: the config that defines the game, and the agent's checkpoint.

:func:`resolve_target` turns what the user typed (a run directory, a checkpoint file, a config)
into a :class:`Target`. The config comes from the run's own ``config.yaml``, so game, protocol
and frame stack are never repeated by hand. The checkpoint's metadata is read once, here, and
travels on with the target.

Agents trained elsewhere (``hf://org/repo``, an RL Zoo run folder, an SB3 zip; see
docs/agents_from_elsewhere.md) bring their own config: the game from the Zoo's env id, the frame
stack and screen size from the saved observation space. ``--config`` overrides it, and is then
checked against the agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from simple_game.agents.sources import ForeignAgent, is_hub_ref, open_agent, read_agent
from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.config import ExperimentConfig, load_config
from simple_game.errors import SimpleGameError
from simple_game.runs import RunDirectory, find_run_dir

CONFIG_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Target:
    """What to evaluate: the config that defines the game, and the agent's checkpoint.

    ``checkpoint`` is ``None`` for the random-policy baseline. ``metadata`` is the checkpoint's
    simple-game metadata (empty for a plain SB3 zip or the random policy), read once. ``agent``
    describes an agent trained elsewhere (:meth:`ForeignAgent.record`; empty for our own).
    """

    cfg: ExperimentConfig
    run: Optional[RunDirectory]
    checkpoint: Optional[Path]
    metadata: dict[str, Any] = field(default_factory=dict)
    agent: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A short name for files and tables: ``best``, ``step_512``, ``random``."""
        return self.checkpoint.stem if self.checkpoint is not None else "random"

    @property
    def step(self) -> Optional[int]:
        """Training steps behind the checkpoint, from its metadata (``None`` when unknown)."""
        if self.checkpoint is None:
            return None
        steps = self.metadata.get("step", self.agent.get("trained_steps"))
        return int(steps) if steps is not None else None


def load_run_config(run: RunDirectory) -> ExperimentConfig:
    """The fully resolved config a run was trained with (its ``config.yaml``)."""
    if not run.config_path.is_file():
        raise SimpleGameError(f"{run.path}: not a simple-game run directory (no config.yaml)")
    return load_config(run.config_path)


def _checkpoint_target(cfg: ExperimentConfig, run: Optional[RunDirectory], checkpoint: Path) -> Target:
    """A target with its checkpoint's metadata (a clear error for a file that is not a checkpoint)."""
    return Target(cfg, run, checkpoint, read_checkpoint_metadata(checkpoint))


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
    - an agent trained elsewhere: ``hf://org/repo`` (as ``target`` or ``checkpoint``), an RL Zoo
      run folder (``checkpoint``: latest, best, step_N) or an SB3 zip outside any run;
    - with ``random_policy``, no checkpoint is loaded: the run, checkpoint or config (which may
      also be given as ``target``) only defines the game and protocol.
    """
    explicit_cfg = load_config(config) if config else None
    if is_hub_ref(checkpoint):
        if target is not None:
            raise SimpleGameError(f"--checkpoint {checkpoint}: a Hub agent is the whole target; drop {target}")
        target, checkpoint = checkpoint, None
    if target is not None and is_hub_ref(target):
        return _foreign_target(open_agent(target, checkpoint), explicit_cfg, random_policy)
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
        if not _is_our_run(path):
            return _foreign_target(open_agent(target, checkpoint), explicit_cfg, random_policy)
        return _run_dir_target(path, explicit_cfg, checkpoint, random_policy)
    if path.suffix.lower() in CONFIG_SUFFIXES:
        if not random_policy:
            raise SimpleGameError(
                f"{path}: is a config file; give a run directory or a checkpoint "
                "(or add --random for a random-policy baseline)"
            )
        return Target(explicit_cfg or load_config(path), None, None)
    return _checkpoint_file_target(path, explicit_cfg, checkpoint, random_policy)


def _run_dir_target(
    path: Path, explicit_cfg: Optional[ExperimentConfig], checkpoint: Optional[str], random_policy: bool
) -> Target:
    """A run directory: its config (or ``--config``) and the named checkpoint (``best`` by default)."""
    run = RunDirectory(path)
    if explicit_cfg is None and not run.config_path.is_file():
        raise SimpleGameError(
            f"{path}: not a simple-game run directory (no config.yaml); pass --config FILE to name the game"
        )
    cfg = explicit_cfg or load_run_config(run)
    if random_policy:
        return Target(cfg, run, None)
    return _checkpoint_target(cfg, run, run.resolve_checkpoint(checkpoint or "best"))


def _checkpoint_file_target(
    path: Path, explicit_cfg: Optional[ExperimentConfig], checkpoint: Optional[str], random_policy: bool
) -> Target:
    """A checkpoint file: the config of the run it lies in, or ``--config`` for a loose one."""
    if checkpoint is not None:
        raise SimpleGameError(
            f"--checkpoint picks a checkpoint inside a run directory, but {path} is already a checkpoint file"
        )
    run = find_run_dir(path)
    metadata = read_checkpoint_metadata(path)
    if run is None and not metadata:  # no simple-game metadata, outside any run: trained elsewhere
        return _foreign_target(read_agent(path), explicit_cfg, random_policy)
    if explicit_cfg is None:
        if run is None:
            raise SimpleGameError(
                f"{path}: checkpoint is not inside a run directory (no config.yaml found next to it); "
                "pass --config FILE to say which game and protocol"
            )
        explicit_cfg = load_run_config(run)
    found = Target(explicit_cfg, run, path, metadata)
    return Target(explicit_cfg, run, None) if random_policy else found


def _is_our_run(path: Path) -> bool:
    """A simple-game run directory (its config.yaml or checkpoints/), rather than another tool's folder."""
    run = RunDirectory(path)
    return run.config_path.is_file() or (path / "checkpoints").is_dir()


def _foreign_target(agent: ForeignAgent, explicit_cfg: Optional[ExperimentConfig], random_policy: bool) -> Target:
    """An agent trained elsewhere, under its own config or ``--config`` (checked: the same game)."""
    cfg = explicit_cfg or agent.experiment_config()
    trained_on = agent.game()
    if explicit_cfg is not None and trained_on is not None and trained_on != explicit_cfg.env.game:
        raise SimpleGameError(
            f"{agent.path}: the agent was trained on {trained_on} ({agent.env_id}), "
            f"but the config plays {explicit_cfg.env.game}"
        )
    if random_policy:
        return Target(cfg, None, None)
    return Target(cfg, None, agent.path, {}, agent.record())
