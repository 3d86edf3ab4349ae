"""The random generators' states as JSON data: saved in step checkpoints, restored on ``--resume``.

A resumed run continues the same random streams it would have used had it never stopped:
Python's ``random``, NumPy's global generator (PPO's minibatch shuffling), PyTorch's CPU
generator (sampling actions) and the action space's generator (DQN's random actions).
"""

from __future__ import annotations

import base64
import random
from typing import TYPE_CHECKING, Any, Optional, cast

import numpy as np
import torch

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm


def rng_state(model: Optional[BaseAlgorithm] = None) -> dict[str, Any]:
    """The states of Python's, NumPy's, PyTorch's and ``model``'s action-space generators."""
    version, internal, gauss = random.getstate()
    legacy = cast(tuple[str, np.ndarray, int, int, float], np.random.get_state())
    kind, keys, pos, has_gauss, cached = legacy
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        "torch": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode("ascii"),
    }
    space_rng = getattr(getattr(model, "action_space", None), "_np_random", None)
    if space_rng is not None:
        state["action_space"] = space_rng.bit_generator.state
    return state


def restore_rng_state(state: dict[str, Any], model: Optional[BaseAlgorithm] = None) -> list[str]:
    """Put back what :func:`rng_state` saved; returns the names restored."""
    restored = []
    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
        restored.append("python")
    if "numpy" in state:
        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        restored.append("numpy")
    if "torch" in state:
        raw = np.frombuffer(base64.b64decode(state["torch"]), dtype=np.uint8).copy()
        torch.set_rng_state(torch.from_numpy(raw))
        restored.append("torch")
    space = getattr(model, "action_space", None)
    if "action_space" in state and space is not None:
        space.seed(0)  # creates the generator; the saved state replaces it
        space.np_random.bit_generator.state = state["action_space"]
        restored.append("action_space")
    return restored
