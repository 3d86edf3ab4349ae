"""Recording several episodes at once: one emulator process per game, one batched forward per step.

Each emulator process owns one env exactly like the one-at-a-time path's (:func:`make_env`) and
plays an episode with the same :class:`~simple_game.dataset.episode.EpisodeRun`, writing the PNG
frames itself; the main process only chooses actions. An episode's frames depend on its env
seed and its actions alone, and its actions on its own frames and its own random numbers
(:meth:`~simple_game.evaluation.EpsilonGreedy.act_each`, batch-invariant greedy actions), so
every byte written is the byte the one-at-a-time path writes, in whatever order the games end.

The processes run side by side on the machine's cores: the emulator, the ~0.25 s ROM reload
that seeding an episode costs, and the PNG encoding no longer wait for the network, and the
network answers all waiting games in one call. Games that wait for an action are served as
soon as they are ready (a game reloading its ROM holds up no other).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from simple_game.config import EnvConfig
from simple_game.dataset.episode import EpisodeResult, EpisodeRun, make_env
from simple_game.dataset.format import frame_name, write_png
from simple_game.dataset.plan import AgentPolicy, Policy, RandomPolicy
from simple_game.errors import SimpleGameError
from simple_game.evaluation import EpsilonGreedy
from simple_game.evaluation.batched import EpisodeRandom

if TYPE_CHECKING:
    import gymnasium as gym

    from simple_game.dataset.writer import FrameWriter

# Frames/s measured end to end on 2 cores: 317 for 8, 353 for 16, 335 for 32 (docs/performance.md).
# Where emulator processes are spawned, not forked (macOS, Windows), each loads its own Python and
# torch (~340 MB resident, measured on Linux), so there the default stays at 8.
DEFAULT_GAMES_AT_ONCE = 16 if sys.platform.startswith("linux") else 8


class _FrameFiles:
    """An episode's frames as PNG files in ``folder``; ``bytes`` written so far."""

    def __init__(self, folder: Path):
        self.folder, self.bytes = folder, 0

    def write(self, t: int, frame: np.ndarray) -> None:
        self.bytes += write_png(self.folder / frame_name(t), frame)


def _emulator(conn: Connection, env_data: dict[str, Any], rgb: bool, inherited: list[int]) -> None:
    """An emulator process: ``("start", seed, folder, max_steps)``, then ``("act", a)`` until ``done``.

    ``inherited``: descriptors a fork copied that are not its own (the main process's pipe ends,
    the dataset lock), closed first, so that a killed main process ends every pipe and its lock.
    """
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    env = make_env(EnvConfig.model_validate(env_data), rgb)
    run: Optional[EpisodeRun] = None
    frames = _FrameFiles(Path())
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "close":
                return
            try:
                if msg[0] == "start":
                    frames = _FrameFiles(Path(msg[2]))
                    run = EpisodeRun(env, msg[1], frames.write, rgb=rgb, max_steps=msg[3])
                else:
                    assert run is not None
                    run.step(msg[1])
                conn.send(("obs", run.obs) if run.wants_action else ("done", run.result, frames.bytes))
            except Exception as exc:  # the main process raises it, in one line where it is ours
                text = str(exc) if isinstance(exc, SimpleGameError) else traceback.format_exc()
                conn.send(("error", text, isinstance(exc, SimpleGameError)))
    except (EOFError, OSError):  # the main process is gone (killed): nothing left to play for
        return
    finally:
        env.close()


class Emulators:
    """``n`` emulator processes for ``env_cfg`` (forked on Linux, spawned elsewhere)."""

    def __init__(self, env_cfg: EnvConfig, rgb: bool, n: int, keep_out: Optional[list[int]] = None):
        self.env_data, self.rgb, self.keep_out = env_cfg.model_dump(), rgb, list(keep_out or [])
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        self.grow(n)

    def grow(self, n: int) -> None:
        """At least ``n`` emulator processes."""
        fork = sys.platform.startswith("linux")
        ctx: Any = mp.get_context("fork" if fork else "spawn")
        while len(self.conns) < n:
            ours, theirs = ctx.Pipe()
            inherited = [c.fileno() for c in [*self.conns, ours]] + self.keep_out if fork else []
            proc = ctx.Process(target=_emulator, args=(theirs, self.env_data, self.rgb, inherited), daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(ours)
            self.procs.append(proc)

    def receive(self, k: int) -> tuple[Any, ...]:
        try:
            reply = self.conns[k].recv()
        except EOFError:
            raise SimpleGameError(f"collect: emulator process {k} died (exit code {self.procs[k].exitcode})") from None
        if reply[0] == "error":
            raise SimpleGameError(reply[1]) if reply[2] else RuntimeError(f"emulator process {k} failed:\n{reply[1]}")
        return reply

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(("close",))
            except OSError:
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join()


@contextmanager
def emulators(env_cfg: EnvConfig, rgb: bool, n: int) -> Iterator[Emulators]:
    pool = Emulators(env_cfg, rgb, n)
    try:
        yield pool
    finally:
        pool.close()


@dataclass
class Game:
    """An episode in progress on one emulator: its index, random numbers and the agent's frame stack."""

    index: int
    random: EpisodeRandom
    stack: Optional[np.ndarray]
    obs: Optional[np.ndarray] = None


@dataclass
class EpisodeJob:
    """One episode to record: index, seeds, the temporary folder its frames go to."""

    index: int
    env_seed: int
    policy_seed: int
    folder: Path
    max_steps: Optional[int]


def _push(stack: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """:class:`~simple_game.dataset.plan.FrameStacker`'s rule: oldest first, newest last."""
    stack[:-1] = stack[1:]
    stack[-1] = frame
    return stack


def record_episodes(
    pool: Emulators,
    jobs: list[EpisodeJob],
    actor: EpsilonGreedy,
    stack_shape: Optional[tuple[int, ...]],
    finished: Callable[[EpisodeJob, EpisodeResult, int], None],
) -> None:
    """Play ``jobs`` on ``pool``'s emulators; ``finished(job, result, png_bytes)`` as each ends.

    ``stack_shape`` is the agent's frame stack (``None`` for the random tier, which needs none).
    Each round waits for every game that is stepping (they step side by side), takes any game
    whose reset has finished (a reset, ~0.25 s, holds up no other game) and answers all of them
    with one :meth:`EpsilonGreedy.act_each` call.
    """
    queue = list(reversed(jobs))
    games: dict[int, tuple[EpisodeJob, Game]] = {}
    stepping: set[int] = set()
    resetting: set[int] = set()

    def start(k: int) -> None:
        job = queue.pop()
        stack = np.zeros(stack_shape, dtype=np.uint8) if stack_shape is not None else None
        games[k] = (job, Game(job.index, actor.random_state(job.policy_seed), stack))
        pool.conns[k].send(("start", job.env_seed, str(job.folder), job.max_steps))
        resetting.add(k)

    def take(k: int, waiting: list[int]) -> None:
        reply = pool.receive(k)
        job, game = games[k]
        if reply[0] == "obs":
            game.obs = _push(game.stack, reply[1]) if game.stack is not None else reply[1]
            waiting.append(k)
            return
        del games[k]
        finished(job, reply[1], reply[2])
        if queue:
            start(k)

    for k in range(min(len(pool.conns), len(queue))):  # a pool grown for a larger tier: use what is needed
        start(k)
    while games:
        waiting: list[int] = []
        for k in sorted(stepping):
            take(k, waiting)
        stepping.clear()
        if not waiting and resetting:  # nothing to answer yet: wait for a reset to finish
            wait([pool.conns[k] for k in resetting])
        for k in sorted(resetting):
            if pool.conns[k].poll():
                resetting.discard(k)
                take(k, waiting)
        if waiting:
            obs = np.stack([games[k][1].obs for k in waiting])  # type: ignore[misc]
            actions = actor.act_each(obs, [games[k][1].random for k in waiting])
            for k, action in zip(waiting, actions, strict=True):
                pool.conns[k].send(("act", int(action)))
            stepping.update(waiting)


class Players:
    """What plays a collection's episodes, each made when first needed: one env (and the PNG
    threads, ``writer``) for one game at a time, or ``games_at_once`` emulator processes."""

    def __init__(self, env_cfg: EnvConfig, rgb: bool, games_at_once: int, writer: FrameWriter):
        self.env_cfg, self.rgb, self.games_at_once, self.writer = env_cfg, rgb, games_at_once, writer
        self._env: Optional[gym.Env] = None
        self._pool: Optional[Emulators] = None
        self.png_bytes = 0
        self.keep_out: list[int] = []  # descriptors emulator processes must not keep (the dataset lock)

    def env(self) -> gym.Env:
        if self._env is None:
            self._env = make_env(self.env_cfg, self.rgb)
        return self._env

    def pool(self, games: int) -> Emulators:
        """Emulators for ``games`` episodes at once (at most ``games_at_once``; started once, on first use)."""
        n = min(games, self.games_at_once)
        if self._pool is None:
            self._pool = Emulators(self.env_cfg, self.rgb, n, self.keep_out)
        self._pool.grow(n)
        return self._pool

    def close(self) -> None:
        self.writer.close()
        if self._env is not None:
            self._env.close()
        if self._pool is not None:
            self._pool.close()


def batched_actor(policy: Policy) -> Optional[tuple[EpsilonGreedy, Optional[tuple[int, ...]]]]:
    """The actor and frame-stack shape that play ``policy``'s games in batches (``None``: play alone).

    Mirrors :class:`~simple_game.dataset.plan.RandomPolicy` and ``AgentPolicy`` (their ``act``
    per game: push the frame on the stack, one actor call); any other policy plays one game at a
    time. ``tests/test_batched_play.py`` checks the two paths write the same bytes.
    """
    if type(policy) is RandomPolicy:
        return policy.actor, None
    if type(policy) is AgentPolicy:
        return policy.actor, tuple(policy.stack.frames.shape)
    return None
