"""The DQN family on top of SB3: Double DQN, prioritized replay, n-step returns, dueling heads,
DeepMind's RMSProp, and a memory guard for every replay buffer. See docs/dqn.md.

- :mod:`.algorithm`: :class:`DQN`, SB3's DQN plus ``double`` and the prioritized update;
- :mod:`.qrdqn`: :class:`QRDQN`, sb3-contrib's QR-DQN plus ``double``;
- :mod:`.prioritized`: :class:`PrioritizedReplayBuffer` (proportional, with n-step returns);
- :mod:`.frame_replay`: :class:`FrameReplayBuffer` and :class:`PrioritizedFrameReplayBuffer`, each
  frame stored once (:mod:`.frame_store`), stacks rebuilt when sampling;
- :mod:`.nstep`: minibatches and n-step returns shared by our buffers;
- :mod:`.sum_tree`: the sum tree it samples from;
- :mod:`.dueling`: :class:`DuelingCnnPolicy`, value and advantage streams;
- :mod:`.rmsprop`: :class:`DeepMindRMSprop`, the optimizer of the DQN paper;
- :mod:`.memory`: :func:`replay_memory_bytes` and :func:`check_replay_memory`;
- :mod:`.options`: :func:`check_dqn_options`, config checks that need the algorithm class.
"""

from __future__ import annotations

from simple_game.agents.dqn.algorithm import DQN
from simple_game.agents.dqn.dueling import DuelingCnnPolicy, DuelingQNetwork, dueling_aggregate
from simple_game.agents.dqn.frame_replay import FrameReplayBuffer, PrioritizedFrameReplayBuffer
from simple_game.agents.dqn.memory import available_memory_bytes, check_replay_memory, format_bytes, replay_memory_bytes
from simple_game.agents.dqn.options import check_dqn_options
from simple_game.agents.dqn.prioritized import PrioritizedBatch, PrioritizedReplayBuffer, PrioritizedSampling
from simple_game.agents.dqn.qrdqn import QRDQN
from simple_game.agents.dqn.rmsprop import DeepMindRMSprop
from simple_game.agents.dqn.sum_tree import SumTree

__all__ = [
    "DQN",
    "DeepMindRMSprop",
    "DuelingCnnPolicy",
    "DuelingQNetwork",
    "FrameReplayBuffer",
    "PrioritizedBatch",
    "PrioritizedFrameReplayBuffer",
    "PrioritizedReplayBuffer",
    "PrioritizedSampling",
    "QRDQN",
    "SumTree",
    "available_memory_bytes",
    "check_dqn_options",
    "check_replay_memory",
    "dueling_aggregate",
    "format_bytes",
    "replay_memory_bytes",
]
