"""The replay buffer's memory, computed before it is allocated, and checked against what is free.

SB3's ``ReplayBuffer`` allocates its arrays with ``np.zeros``, which the operating system
backs with memory only as it is written: a buffer larger than the machine starts fine and is
killed hours later, when it fills. So the size is computed from the spaces first and a run
that cannot fit stops at once, with the options that would make it fit.

Each stored transition holds the observation, the next observation (unless
``optimize_memory_usage``: then the next one is the following slot's observation), the
action, and float32 reward, done and time-limit flags. A 4x84x84 uint8 Atari observation is
28,224 bytes, so 100k transitions take about 5.6 GB (2.8 GB with ``optimize_memory_usage``).
:class:`~.frame_replay.FrameReplayBuffer` stores each 84x84 frame once (7,056 bytes, plus 1/16
spare frames for episode ends): 1M transitions take about 7.5 GB.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from simple_game.agents.dqn.frame_replay import FrameReplayBuffer, PrioritizedFrameReplayBuffer
from simple_game.agents.dqn.prioritized import PrioritizedSampling
from simple_game.agents.dqn.sum_tree import SumTree
from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    from gymnasium import spaces

try:  # SB3 uses psutil when it is installed; it is not one of our dependencies
    import psutil
except ImportError:  # pragma: no cover - psutil ships with most SB3 installs
    psutil = None

__all__ = ["available_memory_bytes", "check_replay_memory", "format_bytes", "replay_memory_bytes"]

# Leave this share of the free memory to everything else (the envs, torch, the evaluation env).
FREE_FRACTION = 0.9


def replay_memory_bytes(
    observation_space: spaces.Space,
    action_space: spaces.Space,
    buffer_size: int,
    n_envs: int = 1,
    optimize_memory_usage: bool = False,
    replay_buffer_class: Optional[type] = None,
) -> int:
    """Bytes SB3's ``ReplayBuffer`` (or one of ours: frame-sharing, prioritized with its sum tree) will allocate."""
    slots = max(int(buffer_size) // n_envs, 1) * n_envs  # SB3 keeps buffer_size // n_envs steps per env
    if replay_buffer_class is not None and issubclass(replay_buffer_class, FrameReplayBuffer):
        total = replay_buffer_class.memory_bytes(observation_space, action_space, buffer_size, n_envs)
    else:
        obs = int(np.prod(observation_space.shape or (1,))) * np.dtype(observation_space.dtype).itemsize
        action_dtype = np.dtype(action_space.dtype)
        action_dtype = np.dtype(np.float32) if action_dtype == np.float64 else action_dtype  # as SB3 casts it
        action_dim = int(np.prod(action_space.shape or (1,)))
        total = slots * (obs * (1 if optimize_memory_usage else 2) + action_dim * action_dtype.itemsize + 3 * 4)
    if replay_buffer_class is not None and issubclass(replay_buffer_class, PrioritizedSampling):
        total += 2 * SumTree(1).nodes.itemsize * (1 << (slots - 1).bit_length())
    return total


def _frame_sharing_bytes(
    observation_space: spaces.Space, action_space: spaces.Space, buffer_size: int, n_envs: int, frames: type
) -> Optional[int]:
    """What a frame-sharing buffer would take, or ``None`` where it does not apply (no image stacks)."""
    try:
        return replay_memory_bytes(observation_space, action_space, buffer_size, n_envs, False, frames)
    except ValueError:
        return None


def available_memory_bytes() -> int:
    """Memory this process can still use: the system's available memory, or a container's limit if lower."""
    if psutil is not None:
        free = int(psutil.virtual_memory().available)
    else:
        free = _meminfo_available()
    limit = _cgroup_room()
    return free if limit is None else min(free, limit)


def _meminfo_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise OSError("MemAvailable not in /proc/meminfo")


def _cgroup_room() -> Optional[int]:
    """``memory.max - memory.current`` of a cgroup v2 container; ``None`` without a limit."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(int(limit) - used, 0)


def format_bytes(n: float) -> str:
    """``5.65 GB`` (decimal units, as ``free -h --si``)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def check_replay_memory(
    observation_space: spaces.Space,
    action_space: spaces.Space,
    hyperparams: dict[str, Any],
    n_envs: int,
    buffer_size_default: int = 1_000_000,
    available: Optional[int] = None,
) -> int:
    """The replay buffer's size in bytes; ``SimpleGameError`` (one line, with the options) if it cannot fit.

    ``hyperparams`` are the algorithm's constructor arguments (``buffer_size``,
    ``optimize_memory_usage``, ``replay_buffer_class``); ``available`` defaults to
    :func:`available_memory_bytes`.
    """
    buffer_size = int(hyperparams.get("buffer_size", buffer_size_default))
    optimize = bool(hyperparams.get("optimize_memory_usage", False))
    buffer_class = hyperparams.get("replay_buffer_class")
    buffer_class = buffer_class if isinstance(buffer_class, type) else None
    need = replay_memory_bytes(observation_space, action_space, buffer_size, n_envs, optimize, buffer_class)
    free = available_memory_bytes() if available is None else available
    room = int(free * FREE_FRACTION)
    if need <= room:
        return need
    fits = max(int(buffer_size * room / need) // 1000 * 1000, 0)
    options = [
        f"a smaller hyperparams.buffer_size (about {fits:,} fits)" if fits else "a smaller hyperparams.buffer_size"
    ]
    if buffer_class is None or not issubclass(buffer_class, FrameReplayBuffer):
        prioritized = buffer_class is not None and issubclass(buffer_class, PrioritizedSampling)
        frames = PrioritizedFrameReplayBuffer if prioritized else FrameReplayBuffer
        shared = _frame_sharing_bytes(observation_space, action_space, buffer_size, n_envs, frames)
        if shared is not None:
            path = f"simple_game.agents.dqn.{frames.__name__}"
            options.append(f"hyperparams.replay_buffer_class: {path} ({format_bytes(shared)})")
    if not optimize and buffer_class is None:
        half = replay_memory_bytes(observation_space, action_space, buffer_size, n_envs, True)
        options.append(f"hyperparams.optimize_memory_usage: true ({format_bytes(half)})")
    raise SimpleGameError(
        f"hyperparams.buffer_size: a replay buffer of {buffer_size:,} transitions needs {format_bytes(need)}, "
        f"but only {format_bytes(free)} of memory is available; use {' or '.join(options)}"
    )
