"""Atari environments for training and evaluation.

An Atari observation here is the standard DeepMind preprocessing (Mnih et al. 2015):

- up to 30 random no-op actions at reset, so episodes do not all start identically;
- FIRE pressed at reset in games that need it to start;
- the agent acts every 4th emulator frame (frame skip), seeing the max of the last two frames
  (Atari sprites flicker between frames);
- frames shrunk to 84x84 grayscale, and the last 4 (or 8) stacked so motion is visible;
- for training only: an episode ends when a life is lost and rewards are clipped to -1/0/+1,
  which makes one set of hyperparameters work across games (``env.terminal_on_life_loss`` and
  ``env.clip_reward``, on every backend); optionally shaped (``env.reward_shaping``, :mod:`.shaping`).

Evaluation plays whole games with raw scores: that is the number people report. Training
statistics (``rollout/ep_rew_mean``) are also whole-game raw scores, because SB3's ``Monitor``
sits *inside* the life-loss and clipping wrappers and sees the unmodified game.

Two protocols: ``classic`` (no sticky actions, the RL Zoo / DQN-paper protocol, equal to
``<Game>NoFrameskip-v4``) and ``modern`` (sticky actions with probability 0.25, the
``ALE/<Game>-v5`` protocol of Machado et al. 2018, which punishes memorised action sequences).

Backends: ``dummy`` (all envs in this process), ``subproc`` (one process per env), and
``ale_vector`` (ale-py's C++ ``AtariVectorEnv``: threads, preprocessing and stacking in C++).

Modules: :mod:`.atari` (one preprocessed env, gymnasium ids, emulator settings), :mod:`.vector`
(vector envs and backends), :mod:`.ale_vector` (the C++ backend as an SB3 ``VecEnv``),
:mod:`.shaping` (training-only reward penalties) and :mod:`.roms` (are the ROMs installed?).
"""

from __future__ import annotations

# The import-order rule, kept here and nowhere else (docs/decisions.md, section 4): torch and
# stable-baselines3 are imported before gymnasium and ale-py. Libraries with bundled native code
# (torch's OpenMP, ale-py's SDL, OpenCV) have segfaulted on macOS when loaded in another order.
# Every module that imports gymnasium or ale_py lives in this package, so whichever of them is
# imported first, Python runs these lines first. The `isort: split` comments keep ruff from sorting
# them alphabetically.
import torch  # noqa: F401

# isort: split
import stable_baselines3  # noqa: F401

# isort: split
import ale_py
import gymnasium  # noqa: F401

from simple_game.envs.atari import action_meanings, ale_kwargs, gym_id, make_atari_env, register_ale
from simple_game.envs.shaping import SHAPED_RETURN_KEY, RewardShaping
from simple_game.envs.vector import (
    EVAL_SEED_OFFSET,
    ale_vector_available,
    make_eval_env,
    make_train_env,
    make_vec_env,
    resolve_backend,
)

# ale-py prints "A.L.E: Arcade Learning Environment ... [Powered by Stella]" on stderr each time a
# process starts an emulator; errors still get through. Subprocess workers import this package too.
ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)

__all__ = [
    "EVAL_SEED_OFFSET",
    "register_ale",
    "gym_id",
    "ale_kwargs",
    "make_atari_env",
    "action_meanings",
    "make_vec_env",
    "make_train_env",
    "make_eval_env",
    "resolve_backend",
    "ale_vector_available",
    "RewardShaping",
    "SHAPED_RETURN_KEY",
]
