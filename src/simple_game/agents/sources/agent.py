"""An agent trained elsewhere: its zip, where it came from, its algorithm, layout and game.

:func:`open_agent` takes what the user named (``hf://org/repo``, an RL Zoo run folder, a Hub-style
folder, or a zip) and returns a :class:`ForeignAgent`: the zip, the Zoo's config when there is
one, the algorithm (from ``args.yml`` or the network class), the observation layout (from the
saved observation space) and the game (from the Zoo's env id, or an env id in the file name).
:meth:`ForeignAgent.experiment_config` turns that into the config simple-game plays it under.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pydantic import ValidationError

from simple_game.agents.sources import hub
from simple_game.agents.sources.layout import ObservationLayout, observation_layout
from simple_game.agents.sources.sb3_zip import SavedAgent, read_saved_agent
from simple_game.agents.sources.zoo import (
    ZooConfig,
    env_id_in,
    game_and_protocol,
    read_zoo_config,
    zoo_config_near,
    zoo_run_zip,
)
from simple_game.config import ALGORITHMS, EnvConfig, ExperimentConfig
from simple_game.config.games import normalize_game
from simple_game.config.schema import safe_name
from simple_game.errors import SimpleGameError

FULL_ACTION_SET = 18  # every joystick direction with and without fire


@dataclass(frozen=True)
class ForeignAgent:
    """An SB3 zip from another tool, with what is known about how it was trained."""

    path: Path
    origin: str  # as the user named it: hf://..., a folder, or the zip
    saved: SavedAgent
    zoo: Optional[ZooConfig]
    algo: str
    layout: ObservationLayout
    n_actions: int

    @property
    def env_id(self) -> Optional[str]:
        """The gymnasium id it was trained on: the Zoo's ``args.yml``, else one in the file or folder name."""
        if self.zoo is not None and self.zoo.env_id:
            return self.zoo.env_id
        for name in (self.path.stem, self.path.parent.name, self.origin):
            found = env_id_in(name)
            if found:
                return found
        return None

    @property
    def kind(self) -> str:
        return "rl-zoo" if self.zoo is not None else "sb3"

    def record(self) -> dict[str, Any]:
        """What a report or a dataset manifest says about the agent."""
        return {
            "format": self.kind,
            "from": self.origin,
            "zip": str(self.path),
            "algo": self.algo,
            "env_id": self.env_id,
            "frame_stack": self.layout.frame_stack,
            "screen_size": self.layout.screen_size,
            "n_actions": self.n_actions,
            "sb3_version": self.saved.sb3_version,
            "trained_steps": self.saved.trained_steps,
        }

    def game(self) -> Optional[str]:
        """The ROM id of the game it was trained on (``None`` when nothing says)."""
        return normalize_game(game_and_protocol(self.env_id)[0]) if self.env_id else None

    def env_config(self) -> EnvConfig:
        """The env it is played in: its game and protocol, its own frame stack and screen size."""
        if self.env_id is None:
            raise SimpleGameError(
                f"{self.path}: an SB3 zip does not say which game it plays; pass --config FILE (its env: names "
                "the game), name the zip after its env id (BreakoutNoFrameskip-v4.zip), or keep the RL Zoo's "
                "config.yml and args.yml beside it"
            )
        game, protocol = game_and_protocol(self.env_id)
        settings = {"game": game, "protocol": protocol, "frame_stack": self.layout.frame_stack}
        settings |= {"screen_size": self.layout.screen_size, "full_action_space": self.n_actions == FULL_ACTION_SET}
        settings |= self.zoo.env_settings if self.zoo is not None else {}
        try:
            return EnvConfig.model_validate(settings)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise SimpleGameError(
                f"{self.path}: env.{where}: {first['msg']} (from the agent's RL Zoo config)"
            ) from None

    def experiment_config(self) -> ExperimentConfig:
        """A config to play it under: its env, its algorithm; nothing to train."""
        env = self.env_config()
        return ExperimentConfig(
            name=safe_name(self.path.stem if self.path.stem != "best_model" else self.path.parent.name),
            algo=self.algo,
            total_timesteps=max(1, self.saved.trained_steps or 1),
            env=env,
            source=str(self.zoo.source if self.zoo is not None else self.path),
        )


def _zip_in_folder(folder: Path, checkpoint: Optional[str]) -> Path:
    """A Zoo run folder's zip, or the agent zip of a folder laid out like a Hub repository."""
    found = zoo_run_zip(folder, checkpoint)
    if found is not None:
        return found
    if read_zoo_config(folder) is None and not list(folder.glob("*.zip")):
        raise SimpleGameError(
            f"{folder}: not a simple-game run (no config.yaml), an RL Zoo run (<Env>_<n>/ with <Env>/config.yml) "
            "or a folder holding an agent zip"
        )
    return hub.repo_zip(folder, hub.HubRef(f"local/{folder.name}"), checkpoint)


def open_agent(text: str, checkpoint: Optional[str] = None) -> ForeignAgent:
    """The agent ``text`` names: ``hf://org/repo[@rev]``, a Zoo run or Hub-style folder, or a zip."""
    if hub.is_hub_ref(text):
        ref = hub.parse_hub_ref(text)
        path = hub.repo_zip(hub.fetch(ref), ref, checkpoint)
    elif Path(text).is_dir():
        path = _zip_in_folder(Path(text), checkpoint)
    else:
        path = Path(text)
        if not path.is_file():
            raise SimpleGameError(f"{path}: checkpoint not found")
    return read_agent(path, origin=text)


def read_agent(path: Path, origin: Optional[str] = None) -> ForeignAgent:
    """Read a zip and the Zoo files near it; check it is an Atari agent simple-game can play."""
    saved = read_saved_agent(path)
    zoo = zoo_config_near(path)
    shape, dtype = saved.observation_shape
    layout = observation_layout(path, shape, dtype, zoo_frame_stack=zoo.frame_stack if zoo is not None else None)
    n_actions = saved.n_actions
    if n_actions is None:
        raise SimpleGameError(f"{path}: the agent's actions are not discrete; Atari agents choose among N actions")
    algo = zoo.algo if zoo is not None and zoo.algo else saved.algo()
    if algo not in ALGORITHMS:
        raise SimpleGameError(f"{path}: a {algo} agent; simple-game plays {', '.join(ALGORITHMS)} agents")
    return ForeignAgent(Path(path), origin or str(path), saved, zoo, algo, layout, n_actions)
