"""A Stable-Baselines3 ``VecEnv`` backed by ale-py's C++ vector environment.

What is a vectorised environment?
    PPO/A2C/DQN collect experience from ``n_envs`` copies of a game at once: the policy
    sees a *batch* of observations ``(n_envs, frame_stack, 84, 84)``, answers with a batch
    of actions, and every copy advances one agent step. One forward pass of the network
    serves all copies, and the rollout buffer fills ``n_envs`` times faster.

Why C++ threads beat Python wrappers
    SB3's usual Atari pipeline is a chain of Python ``gymnasium`` wrappers per game
    (no-op reset, max-and-skip, episodic life, fire reset, resize to 84x84, reward clip)
    plus ``VecFrameStack``/``VecTransposeImage``. Per agent step that is ~4 emulator calls,
    two screen grabs, an OpenCV resize and several numpy copies *per env*, all executed by
    one Python thread holding the GIL (``DummyVecEnv``), or spread over processes that must
    pickle every observation across a pipe (``SubprocVecEnv``). ale-py's
    ``AtariVectorEnv`` does the whole pipeline (frame skip, max-pool, grayscale, resize,
    frame stack, no-op/fire reset, autoreset) inside C++ worker threads that release the
    GIL and write straight into one shared numpy batch. Python pays one call per *batch*.

What this module adds
    ``AtariVectorEnv`` speaks the gymnasium vector API (``obs, rew, terminated, truncated,
    info``) and its built-in ``episodic_life`` *resets the whole game* on a life loss
    (and clips rewards so the true score is lost). :class:`AleVectorEnv` runs the C++ env
    on whole games with raw rewards and re-creates SB3's ``AtariWrapper`` semantics on top,
    in vectorised numpy:

    * SB3 same-step autoreset: a finished env returns the first observation of its next
      episode, with ``infos[i]["terminal_observation"]`` (and ``"TimeLimit.truncated"``).
    * ``terminal_on_life_loss``: a life loss ends the *agent's* episode (``done``) while the
      game goes on, the frame stack restarts from zeros (as ``VecFrameStack`` does after a
      ``done``) and FIRE is pressed on the next step in games that need it (``FireResetEnv``
      acts at every reset, and with ``EpisodicLifeEnv`` a life loss is a reset).
    * ``clip_reward``: rewards are clipped to their sign (``ClipRewardEnv``).
    * Both are on in a training env and off in an evaluation env (``training``), and each can
      be set on its own, exactly as ``env.terminal_on_life_loss`` and ``env.clip_reward`` act
      on the SB3 wrapper path.
    * ``infos[i]["episode"] = {"r", "l", "t"}`` is emitted only at the true game over, with
      the *raw* score of the whole game (all lives), as SB3's ``Monitor`` would, so
      ``rollout/ep_rew_mean`` and ``evaluate_policy`` report real game scores.

Known differences from the SB3 wrapper path (none changes what is learned in practice)
    * After a life loss that ends an episode SB3's ``EpisodicLifeEnv``/``FireResetEnv`` play hidden
      NOOP, FIRE and UP steps before the agent sees the new life. The C++ env cannot step a
      single game on its own, so here the agent sees the new life at once and its first
      action is replaced by FIRE (only in games with FIRE, only with terminal_on_life_loss).
    * Game resets are done in C++: one FIRE frame plus random no-ops, 1..noop_max-1 frames
      in all, versus SB3's uniform(1, noop_max) no-ops then a FIRE and an UP agent step.
      Same seed therefore does not mean same trajectory as the SB3 path.
    * ``episode["l"]`` counts agent steps, like simple-game's SB3 path (whose ``Monitor``
      sits above ``MaxAndSkipEnv``), but without the FIRE steps SB3 plays at each reset.
    * Grayscale comes from ALE's palette rather than OpenCV's RGB->gray: pixel values can
      differ by a grey level or so.
    * ``infos[i]["lives"]`` on a game-over step is the lives count of the *new* game.

Like every module of :mod:`simple_game.envs`, it imports gymnasium and ale-py at the top; the
package's ``__init__`` runs first and keeps the import order (torch before ale-py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import ale_py
import gymnasium as gym
import numpy as np
from ale_py.vector_env import AtariVectorEnv
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from stable_baselines3.common import atari_wrappers as sb3_atari
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

__all__ = ["AleVectorEnv"]

_SEED_MOD = 2**31 - 1  # the C++ side takes signed 32-bit seeds; -1 means "keep the RNG going"


class _SubEnv:
    """What ``get_attr``/``set_attr``/``env_method`` see for one sub-environment.

    There is no per-env Python object in the C++ backend; this stands in for one so
    that code written for ``DummyVecEnv`` (``env_method("get_action_meanings")``,
    ``get_attr("render_mode")``) keeps working.
    """

    def __init__(self, owner: AleVectorEnv, index: int) -> None:
        self._owner = owner
        self._index = index
        self.render_mode: str | None = None
        self.spec = None
        self.metadata: dict[str, Any] = {"render_modes": []}
        self.observation_space = owner.observation_space
        self.action_space = owner.action_space
        self.game = owner.game

    @property
    def unwrapped(self) -> _SubEnv:
        return self

    @property
    def lives(self) -> int:
        return int(self._owner._lives[self._index])

    def get_action_meanings(self) -> list[str]:
        return list(self._owner.action_meanings)


class AleVectorEnv(VecEnv):
    """``n_envs`` Atari games emulated by C++ threads, with SB3 ``AtariWrapper`` semantics.

    :param game: ALE ROM id in snake_case, e.g. ``"breakout"``, ``"space_invaders"``.
    :param n_envs: number of games run in parallel.
    :param seed: env ``i`` is seeded with ``seed + i`` at the first ``reset()``.
    :param frame_stack: number of stacked 84x84 grayscale frames (channel-first).
    :param repeat_action_probability: sticky actions; 0.0 classic protocol, 0.25 modern (v5).
    :param training: the default of the next two switches: True for a training env (both on),
        False for an evaluation env (whole games, raw rewards).
    :param clip_reward: rewards clipped to their sign (None: ``training``).
    :param terminal_on_life_loss: a life loss ends the agent's episode, the game goes on, and
        FIRE starts the next life in games that need it (None: ``training``).
    :param full_action_space: all 18 joystick actions instead of the game's minimal set.
    :param noop_max: up to this many no-op frames after each game reset.
    :param frame_skip: emulator frames per agent step (max-pooled over the last two).
    :param screen_size: observation height and width.
    :param max_frames_per_episode: emulator frames before a game is truncated.
    :param num_threads: C++ worker threads; 0 = min(n_envs, CPU count).
    """

    def __init__(
        self,
        game: str,
        n_envs: int,
        *,
        seed: int = 0,
        frame_stack: int = 4,
        repeat_action_probability: float = 0.0,
        training: bool = True,
        full_action_space: bool = False,
        clip_reward: bool | None = None,
        noop_max: int = 30,
        frame_skip: int = 4,
        screen_size: int = 84,
        terminal_on_life_loss: bool | None = None,
        max_frames_per_episode: int = 108_000,
        num_threads: int = 0,
    ) -> None:
        if n_envs < 1 or frame_stack < 1:
            raise ValueError(f"n_envs and frame_stack must be >= 1, got {n_envs} and {frame_stack}")
        self.game = game
        self.clip_reward = bool(training if clip_reward is None else clip_reward)
        self.terminal_on_life_loss = bool(training if terminal_on_life_loss is None else terminal_on_life_loss)
        self.frame_stack = int(frame_stack)
        self.frame_skip = int(frame_skip)
        self._venv: AtariVectorEnv | None = AtariVectorEnv(
            game,
            n_envs,
            num_threads=num_threads,
            max_num_frames_per_episode=max_frames_per_episode,
            repeat_action_probability=repeat_action_probability,
            full_action_space=full_action_space,
            autoreset_mode=AutoresetMode.SAME_STEP,
            img_height=screen_size,
            img_width=screen_size,
            grayscale=True,
            stack_num=frame_stack,
            frameskip=frame_skip,
            maxpool=True,
            noop_max=noop_max,
            # Life loss and clipping are done here: the C++ episodic_life resets the
            # whole game on a life loss and reward_clipping would hide the true score.
            episodic_life=False,
            life_loss_info=False,
            reward_clipping=False,
            use_fire_reset=True,
        )
        self._ale = self._venv.ale
        action_set = list(self._ale.get_action_set())
        self.action_meanings: list[str] = [a.name for a in action_set]
        # FireResetEnv semantics: FIRE after every (soft) reset in games that have it.
        self._fire_action = action_set.index(ale_py.Action.FIRE) if ale_py.Action.FIRE in action_set else -1
        self._init_bookkeeping(n_envs)
        self.num_envs = n_envs
        # Set before VecEnv.__init__ because the stand-in sub-envs below read them.
        self.observation_space = spaces.Box(0, 255, (frame_stack, screen_size, screen_size), np.uint8)
        self.action_space = spaces.Discrete(len(action_set))
        self._sub_envs: list[_SubEnv] = [_SubEnv(self, i) for i in range(n_envs)]
        super().__init__(n_envs, self.observation_space, self.action_space)
        self.seed(seed)

    def _init_bookkeeping(self, n_envs: int) -> None:
        """Per-env state kept in numpy: what SB3's per-env wrappers would remember."""
        self._paddle = np.ones(n_envs, dtype=np.float32)
        self._lives = np.zeros(n_envs, dtype=np.int64)
        self._ep_return = np.zeros(n_envs, dtype=np.float64)  # raw score of the current game
        self._ep_len = np.zeros(n_envs, dtype=np.int64)  # agent steps of the current game
        self._fire_pending = np.zeros(n_envs, dtype=bool)
        self._n_fire_pending = 0
        # Frames of the stack that belong to the current agent episode (see _mask_stale_frames).
        self._stack_fill = np.full(n_envs, self.frame_stack, dtype=np.int64)
        self._n_partial = 0
        self._actions: np.ndarray | None = None
        self._t_start = time.time()

    # ------------------------------------------------------------------ core API
    def reset(self) -> VecEnvObs:
        venv = self._require_open()
        if all(s is None for s in self._seeds):
            obs, info = venv.reset()
        else:
            seeds = np.array([-1 if s is None else int(s) % _SEED_MOD for s in self._seeds], dtype=np.int64)
            obs, info = venv.reset(seed=seeds)
        self._reset_seeds()
        self._reset_options()
        self._lives[:] = info["lives"]
        self._ep_return[:] = 0.0
        self._ep_len[:] = 0
        self._fire_pending[:] = False
        self._n_fire_pending = 0
        self._stack_fill[:] = self.frame_stack
        self._n_partial = 0
        self._actions = None
        self.reset_infos = [{"lives": int(n)} for n in info["lives"]]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._require_open()
        actions = np.asarray(actions).reshape(self.num_envs)
        if actions.dtype != np.int32:
            actions = actions.astype(np.int32)
        elif self._n_fire_pending:
            actions = actions.copy()
        if self._n_fire_pending:
            actions[self._fire_pending] = self._fire_action
            self._fire_pending[:] = False
            self._n_fire_pending = 0
        self._actions = actions
        self._ale.send(actions, self._paddle)  # the C++ threads start stepping now

    def step_wait(self) -> VecEnvStepReturn:
        self._require_open()
        if self._actions is None:
            raise RuntimeError("step_wait() called without a pending step_async()")
        self._actions = None
        obs, raw_rewards, terminated, truncated, info = self._ale.recv()

        game_over = terminated | truncated
        raw = raw_rewards.astype(np.float32)
        self._ep_return += raw
        self._ep_len += 1
        lives = info["lives"]  # after an autoreset: the new game's lives
        dones = game_over
        if self.terminal_on_life_loss:  # EpisodicLifeEnv: 0 < lives < previous lives ends the agent's episode
            dones = game_over | ((lives < self._lives) & (lives > 0) & ~game_over)
        rewards = np.sign(raw) if self.clip_reward else raw
        self._lives[:] = lives

        final_obs = info.get("final_obs")
        if self._n_partial:
            self._mask_stale_frames(obs, final_obs, game_over)

        infos: list[dict[str, Any]] = [{"lives": n} for n in lives.tolist()]
        if dones.any():
            now = round(time.time() - self._t_start, 6)
            for i in np.flatnonzero(dones).tolist():
                if game_over[i]:
                    assert final_obs is not None, "the C++ env reports final_obs for every finished game"
                    self._end_game(i, infos[i], final_obs[i], bool(truncated[i] and not terminated[i]), now)
                else:
                    self._end_life(i, infos[i], obs)
        return obs, rewards, dones, infos

    def _end_game(self, i: int, info: dict[str, Any], final_obs: np.ndarray, truncated: bool, now: float) -> None:
        """Game over in env ``i``: the C++ side has already started the next game."""
        info["terminal_observation"] = final_obs.copy()
        info["TimeLimit.truncated"] = truncated
        info["episode"] = {"r": float(self._ep_return[i]), "l": int(self._ep_len[i]), "t": now}
        self._ep_return[i] = 0.0
        self._ep_len[i] = 0
        if self._stack_fill[i] < self.frame_stack:  # C++ reset already zeroed its stack
            self._stack_fill[i] = self.frame_stack
            self._n_partial -= 1
        if self._fire_pending[i]:
            self._fire_pending[i] = False
            self._n_fire_pending -= 1

    def _end_life(self, i: int, info: dict[str, Any], obs: np.ndarray) -> None:
        """Life lost (terminal_on_life_loss), the game goes on: a new agent episode starts from this frame."""
        info["terminal_observation"] = obs[i].copy()
        info["TimeLimit.truncated"] = False
        if self.frame_stack > 1:  # VecFrameStack zeroes the stack of a done env ...
            obs[i, :-1] = 0
            if self._stack_fill[i] == self.frame_stack:
                self._n_partial += 1
            self._stack_fill[i] = 1
        # ... and FIRE is pressed on its first step (FireResetEnv).
        if self._fire_action >= 0 and not self._fire_pending[i]:
            self._fire_pending[i] = True
            self._n_fire_pending += 1

    def _mask_stale_frames(self, obs: np.ndarray, final_obs: np.ndarray | None, game_over: np.ndarray) -> None:
        """Zero the frames from before a life loss that the C++ stack still holds.

        After a life loss (terminal_on_life_loss) the agent's episode restarts, and SB3's
        ``VecFrameStack`` would show ``[0, 0, 0, f]``, then ``[0, 0, f, f']`` ... The C++
        stack is never told about the soft reset, so this blanks its older frames for the
        next ``frame_stack - 1`` steps. Only envs that recently lost a life are touched.
        """
        k = self.frame_stack
        for i in np.flatnonzero(self._stack_fill < k).tolist():
            fill = int(self._stack_fill[i]) + 1
            stale = k - fill
            if stale > 0:
                if game_over[i]:  # obs[i] is a fresh game, its final frames are in final_obs
                    assert final_obs is not None
                    final_obs[i, :stale] = 0
                else:
                    obs[i, :stale] = 0
            self._stack_fill[i] = fill
            if fill >= k:
                self._n_partial -= 1

    def close(self) -> None:
        if self._venv is not None:
            self._venv.close()
            # Dropping the last reference to ALEVectorInterface joins the C++ threads.
            self._venv.ale = None  # type: ignore[assignment]
            self._ale = None  # type: ignore[assignment]
            self._venv = None

    def _require_open(self) -> AtariVectorEnv:
        if self._venv is None:
            raise RuntimeError("AleVectorEnv is closed")
        return self._venv

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ SB3 plumbing
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self._sub_envs[i], attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for i in self._get_indices(indices):
            setattr(self._sub_envs[i], attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        return [
            getattr(self._sub_envs[i], method_name)(*method_args, **method_kwargs) for i in self._get_indices(indices)
        ]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """True for the SB3 wrappers whose behaviour this env reproduces.

        ``Monitor`` matters most: ``evaluate_policy`` then scores episodes from
        ``info["episode"]`` (whole games, raw score) instead of counting ``done`` flags.
        """
        equivalent: list[type] = [Monitor, sb3_atari.NoopResetEnv, sb3_atari.MaxAndSkipEnv, sb3_atari.WarpFrame]
        if self._fire_action >= 0:
            equivalent.append(sb3_atari.FireResetEnv)
        if self.terminal_on_life_loss:
            equivalent.append(sb3_atari.EpisodicLifeEnv)
        if self.clip_reward:
            equivalent.append(sb3_atari.ClipRewardEnv)
        wrapped = any(issubclass(cls, wrapper_class) for cls in equivalent)
        return [wrapped for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]
