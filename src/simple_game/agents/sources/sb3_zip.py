"""An SB3 zip from any tool: what it holds, read without loading it, and loaded only to act.

``model.save`` writes a zip whose ``data`` entry is JSON: plain values as they are, other objects
(spaces, the network class, schedules) pickled with cloudpickle beside a readable copy of their
attributes. Unpickling imports whatever the pickle names, so a zip trained with the RL Zoo carries
``rl_zoo3.utils`` schedules that plain ``PPO.load`` cannot read where rl_zoo3 is not installed,
and one saved by SB3 1.x names ``gym.spaces.Box`` where only gymnasium is.

Acting needs the network's class, its keyword arguments, the spaces and the weights; learning
rate, clip range, exploration schedule and the buffers only matter to training. So
:func:`load_for_acting` hands SB3's loader neutral stand-ins for those (its ``custom_objects``)
and decodes the rest itself, reading ``gym.*`` classes as their gymnasium successors.
Unpickling runs code named by the file: load agents from people you trust.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from sb3_contrib.qrdqn.policies import QRDQNPolicy
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.utils import ConstantSchedule
from stable_baselines3.dqn.policies import DQNPolicy

from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

# Training-only objects, replaced without being unpickled (keys missing from a zip are ignored).
TRAINING_ONLY: dict[str, Any] = {
    "learning_rate": 0.0,
    "lr_schedule": ConstantSchedule(0.0),
    "clip_range": 0.0,
    "clip_range_vf": None,
    "exploration_schedule": ConstantSchedule(0.0),
    "replay_buffer_class": None,
    "replay_buffer_kwargs": {},
    "rollout_buffer_class": None,
    "rollout_buffer_kwargs": {},
    "buffer_size": 1,  # a DQN's replay buffer is rebuilt on load: one slot is enough to act
    "n_envs": 1,
    "_last_obs": None,
    "_last_original_obs": None,
    "_last_episode_starts": None,
    "ep_info_buffer": None,
    "ep_success_buffer": None,
    "action_noise": None,
}
NEEDED = ("policy_class", "policy_kwargs", "observation_space", "action_space")
# Classes that moved: gym -> gymnasium (SB3 < 2.0), and gym's seeding generator -> numpy's.
RENAMED = {("gym.utils.seeding", "RandomNumberGenerator"): ("numpy.random", "Generator")}
# SB3 warns that a pre-1.7 PPO or pre-2.4 DQN zip should be saved again; acting does not care.
OLD_FORMAT_WARNINGS = r"You are probably loading a"


class _RenamingUnpickler(pickle.Unpickler):
    """Reads pickles made with gym as if they had been made with gymnasium."""

    def find_class(self, module: str, name: str) -> Any:
        module, name = RENAMED.get((module, name), (module, name))
        if module == "gym" or module.startswith("gym."):
            module = "gymnasium" + module[3:]
        return super().find_class(module, name)


def _unpickle(item: dict[str, Any]) -> Any:
    return _RenamingUnpickler(io.BytesIO(base64.b64decode(item[":serialized:"].encode()))).load()


@dataclass(frozen=True)
class SavedAgent:
    """What an SB3 zip says about its agent, read without building the model."""

    path: Path
    data: dict[str, Any]  # the raw JSON of the zip's ``data`` entry
    sb3_version: Optional[str]

    def decode(self, key: str) -> Any:
        """One entry of ``data``: a plain value, or the object it pickles (one line if it cannot be read)."""
        item = self.data.get(key)
        if not (isinstance(item, dict) and ":serialized:" in item):
            return item
        try:
            return _unpickle(item)
        except Exception as exc:  # noqa: BLE001 - any failure of foreign pickled code is one line
            raise SimpleGameError(
                f"{self.path}: cannot read its {key} ({type(exc).__name__}: {exc}); "
                "it was saved with a package that is not installed here"
            ) from None

    @property
    def observation_shape(self) -> tuple[tuple[int, ...], str]:
        """The observation space's shape and dtype, from its readable copy when there is one."""
        item = self.data.get("observation_space")
        if isinstance(item, dict):
            shape = item.get("_shape", item.get("shape"))
            if isinstance(shape, list) and isinstance(item.get("dtype"), str):
                return tuple(int(n) for n in shape), item["dtype"]
        space = self.decode("observation_space")
        return tuple(getattr(space, "shape", None) or ()), str(getattr(space, "dtype", "?"))

    @property
    def n_actions(self) -> Optional[int]:
        """The number of discrete actions (``None`` for another kind of action space)."""
        item = self.data.get("action_space")
        if isinstance(item, dict) and str(item.get("n", "")).isdigit():
            return int(item["n"])
        return getattr(self.decode("action_space"), "n", None)

    @property
    def trained_steps(self) -> Optional[int]:
        steps = self.data.get("num_timesteps")
        return int(steps) if isinstance(steps, int) else None

    def algo(self) -> str:
        """Which registered algorithm the network belongs to: ``ppo``, ``a2c``, ``dqn`` or ``qrdqn``."""
        policy = self.decode("policy_class")
        name = f"{getattr(policy, '__module__', '?')}.{getattr(policy, '__name__', policy)}"
        if isinstance(policy, type) and issubclass(policy, QRDQNPolicy):
            return "qrdqn"
        if isinstance(policy, type) and issubclass(policy, DQNPolicy):
            return "dqn"
        if isinstance(policy, type) and issubclass(policy, ActorCriticPolicy) and "recurrent" not in name.lower():
            if "cg_max_steps" in self.data:  # TRPO shares the actor-critic network
                raise SimpleGameError(f"{self.path}: a TRPO agent; simple-game plays ppo, a2c, dqn and qrdqn agents")
            return "ppo" if "clip_range" in self.data else "a2c"
        raise SimpleGameError(f"{self.path}: its network {name} is not one of ppo, a2c, dqn or qrdqn")


def read_saved_agent(path: Path) -> SavedAgent:
    """The ``data`` of an SB3 zip as JSON (nothing unpickled yet), or one line saying it is not one."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "data" not in names:
                raise SimpleGameError(f"{path}: not a Stable-Baselines3 checkpoint (no 'data' entry)")
            data = json.loads(archive.read("data").decode("utf-8"))
            version = (
                archive.read("_stable_baselines3_version").decode().strip()
                if "_stable_baselines3_version" in names
                else None
            )
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as exc:
        raise SimpleGameError(f"{path}: not a readable checkpoint ({exc})") from None
    if not isinstance(data, dict):
        raise SimpleGameError(f"{path}: not a Stable-Baselines3 checkpoint ('data' is not a JSON object)")
    return SavedAgent(Path(path), data, version)


def acting_objects(saved: SavedAgent) -> dict[str, Any]:
    """SB3's ``custom_objects`` for acting: stand-ins for training-only entries, the rest decoded here."""
    objects = {key: value for key, value in TRAINING_ONLY.items() if key in saved.data}
    for key, item in saved.data.items():
        if key in objects or not (isinstance(item, dict) and ":serialized:" in item):
            continue
        if key in NEEDED:
            objects[key] = saved.decode(key)
        else:
            try:
                objects[key] = _unpickle(item)
            except Exception:  # noqa: BLE001 - bookkeeping of another tool; acting never reads it
                objects[key] = None
    return objects


def load_for_acting(cls: type[BaseAlgorithm], path: Path, device: str = "cpu", env: Optional[VecEnv] = None) -> Any:
    """``cls.load`` without the objects only training needs (see the module docstring)."""
    saved = read_saved_agent(path)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=OLD_FORMAT_WARNINGS)
        return cls.load(path, env=env, device=device, custom_objects=acting_objects(saved))
