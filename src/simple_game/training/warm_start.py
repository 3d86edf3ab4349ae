"""Warm start (``init_from:`` in a config): a new run whose network begins as a trained agent's.

Fine-tuning an agent, or carrying on from one whose run is gone, starts from its weights
instead of random ones. Only the network is taken over, as the RL Zoo's ``--trained-agent``
does with a policy-only file: the optimizer starts fresh (Adam's two running averages span
about 10 and 1,000 updates, beta1 0.9 and beta2 0.999, so it settles quickly), the step
counter, budget and schedules are the new config's, and an off-policy agent's replay buffer
starts empty. To carry on a schedule that decays over training, start it where the old run had
got to (configs/ppo_breakout_data_from_tier1.yaml). ``summary.json`` records where the weights came from.

The agent is anything ``evaluate`` plays (a run directory, a .zip, an RL Zoo folder,
``hf://org/repo``; relative paths from the working directory). It must fit the new config: the
same algorithm, game, frame stack, screen size and network; anything else is one line naming
the key, before the run folder exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from simple_game.agents import load_checked_model
from simple_game.agents.shipping import read_index
from simple_game.config import ExperimentConfig
from simple_game.errors import ConfigError, SimpleGameError
from simple_game.evaluation.target import resolve_target
from simple_game.fsio import sha256_file
from simple_game.runs import RunDirectory

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


@dataclass(frozen=True)
class WarmStart:
    """Where a warm-started network came from: the checkpoint, its training steps and sha256."""

    agent: str
    checkpoint: Path
    step: Optional[int]
    sha256: str
    steps_before: Optional[int] = None  # a shipped agent's: the steps of the runs before its own (agents.json)

    def record(self) -> dict[str, Any]:
        """The ``init_from`` entry of ``summary.json``; ``step`` counts the whole chain of runs behind the agent."""
        step = None if self.step is None else self.step + (self.steps_before or 0)
        return {"agent": self.agent, "checkpoint": str(self.checkpoint), "step": step, "sha256": self.sha256}

    def describe(self) -> str:
        chain = ""
        if self.step is not None and self.steps_before:
            chain = f", {self.step + self.steps_before:,} with the runs before it"
        trained = f", trained {self.step:,} steps{chain}" if self.step is not None else ""
        return f"network initialised from {self.checkpoint}{trained} (optimizer, step counter and schedules fresh)"


def warm_start(cfg: ExperimentConfig, model: BaseAlgorithm, env: VecEnv, device: str) -> Optional[WarmStart]:
    """Copy ``cfg.init_from``'s network weights into the freshly built ``model`` (``None`` without one)."""
    spec = cfg.init_from
    if spec is None:
        return None
    where = cfg.where("init_from")
    try:
        target = resolve_target(spec.agent, checkpoint=spec.checkpoint)
        if target.checkpoint is None:
            raise SimpleGameError(f"{spec.agent}: no checkpoint to start from")
        if target.cfg.algo != cfg.algo:
            trained = target.cfg.algo
            raise SimpleGameError(f"{target.checkpoint} is a {trained} agent, but this config trains {cfg.algo}")
        source = load_checked_model(target.checkpoint, cfg, env=env, device=device)
    except SimpleGameError as exc:
        # The agent's own messages speak of evaluate's flags; here they are this key's fields.
        raise ConfigError(f"{where}: {str(exc).replace('--checkpoint: ', 'checkpoint: ')}") from None
    try:
        # Strict: every tensor of the new network must come from the agent, shape for shape.
        model.policy.load_state_dict(source.policy.state_dict())
    except RuntimeError as exc:
        detail = " ".join(line.strip() for line in str(exc).splitlines()[1:3]) or str(exc)
        raise ConfigError(
            f"{where}: {target.checkpoint}: its network differs from this config's "
            f"(policy / policy_kwargs): {detail[:300]}"
        ) from None
    digest = sha256_file(target.checkpoint)
    return WarmStart(spec.agent, target.checkpoint, target.step, digest, _steps_before(target.run, digest))


def _steps_before(run: Optional[RunDirectory], digest: str) -> Optional[int]:
    """For an agent of a shipped folder made over several runs: the steps behind the run that saved it."""
    if run is None:
        return None
    agents = read_index(run.path).get("agents", [])
    return next((a.get("steps_before") for a in agents if a.get("sha256") == digest), None)
