"""Recording several episodes at once: games shared among a few emulator processes, one batched forward.

Each emulator process owns a few envs exactly like the one-at-a-time path's (:func:`make_env`),
one per game it hosts, and plays each episode with the same
:class:`~simple_game.dataset.episode.EpisodeRun`, writing the PNG frames itself; the main process
only chooses actions. An episode's frames depend on its env seed and its actions alone, and its
actions on its own frames and its own random numbers
(:meth:`~simple_game.evaluation.EpsilonGreedy.act_each`, batch-invariant actions), so every byte
written is the byte the one-at-a-time path writes, whichever process hosts a game and in
whatever order the games end.

Why a few processes, each stepping several games, rather than one per game: every message
between processes wakes one up, and the network answers more games per call when there are
more of them. A process's games step one after another and answer in one message. Measured on
2 cores (docs/performance.md): one process per game, 16 games, 822-919 frames/s; 48 games on
3 processes, 1,172. The processes run side by side on the cores, and while the network chooses
actions for one process's games, the others step theirs; a process reloading a ROM (~0.1 s, at
every seeded reset) has answered for its stepping games first.
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
from simple_game.cores import cpu_cores
from simple_game.dataset.episode import EpisodeResult, EpisodeRun, make_env
from simple_game.dataset.format import frame_name, write_png
from simple_game.dataset.plan import AgentPolicy, Policy, RandomPolicy
from simple_game.errors import SimpleGameError
from simple_game.evaluation import EpsilonGreedy
from simple_game.evaluation.batched import EpisodeRandom

if TYPE_CHECKING:
    import gymnasium as gym

    from simple_game.dataset.writer import FrameWriter

# 50 whole Breakout games per tier on 2 cores, frames/s end to end: 968 for 8 games at once,
# 952 for 16, 1,012 for 32, 1,104 for 48 (docs/performance.md). More games per round make larger
# batches for the network (0.48 ms per observation in a batch of 8, 0.30 in one of 32).
DEFAULT_GAMES_AT_ONCE = 48
# Where processes are spawned, not forked (macOS, Windows), each loads its own Python and torch
# (~340 MB resident), so there they are capped.
SPAWNED_PROCESSES_CAP = 8


def emulator_processes(games: int) -> int:
    """How many processes host ``games`` games: one more than the cores, at most one per game.

    The extra process keeps both cores busy while the network chooses actions (measured on 2
    cores, 48 games: 1,085 frames/s with 2 processes, 1,130 with 3, 1,064-1,091 with 4).
    ``SIMPLE_GAME_EMULATORS=N`` sets it (benchmarks, and the test that makes one process host
    several games on any machine).
    """
    wanted = os.environ.get("SIMPLE_GAME_EMULATORS", "")
    n = int(wanted) if wanted.isdigit() and int(wanted) > 0 else cpu_cores() + 1
    if not sys.platform.startswith("linux"):
        n = min(n, SPAWNED_PROCESSES_CAP)
    return max(1, min(games, n))


class _FrameFiles:
    """An episode's frames as PNG files in ``folder``; ``bytes`` written so far."""

    def __init__(self, folder: Path):
        self.folder, self.bytes = folder, 0

    def write(self, t: int, frame: np.ndarray) -> None:
        self.bytes += write_png(self.folder / frame_name(t), frame)


# A process's answer for one game: (slot, newest observation) while the game wants an action,
# (slot, None, result, png bytes) once it has ended.
Answer = tuple[Any, ...]


class _Host:
    """The games one emulator process hosts: an env per game slot (made on first use) and its episode."""

    def __init__(self, env_cfg: EnvConfig, rgb: bool):
        self.env_cfg, self.rgb = env_cfg, rgb
        self.envs: dict[int, gym.Env] = {}
        self.runs: dict[int, tuple[EpisodeRun, _FrameFiles]] = {}

    def start(self, slot: int, seed: int, folder: str, max_steps: Optional[int]) -> Answer:
        if slot not in self.envs:
            self.envs[slot] = make_env(self.env_cfg, self.rgb)
        frames = _FrameFiles(Path(folder))
        self.runs[slot] = (EpisodeRun(self.envs[slot], seed, frames.write, rgb=self.rgb, max_steps=max_steps), frames)
        return self.answer(slot)

    def act(self, slot: int, action: int) -> Answer:
        self.runs[slot][0].step(action)
        return self.answer(slot)

    def answer(self, slot: int) -> Answer:
        run, frames = self.runs[slot]
        if run.wants_action:
            return (slot, run.obs)
        del self.runs[slot]
        return (slot, None, run.result, frames.bytes)

    def close(self) -> None:
        for env in self.envs.values():
            env.close()


def _emulator(conn: Connection, env_data: dict[str, Any], rgb: bool, inherited: list[int]) -> None:
    """An emulator process: ``("start", [(slot, seed, folder, max_steps), ...])`` or
    ``("act", [(slot, action), ...])``, each answered by one ``("ok", [answer, ...])``, until ``close``.

    ``inherited``: descriptors a fork copied that are not its own (the main process's pipe ends,
    the dataset lock), closed first, so that a killed main process ends every pipe and its lock.
    """
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    host = _Host(EnvConfig.model_validate(env_data), rgb)
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "close":
                return
            try:
                do = host.start if msg[0] == "start" else host.act
                conn.send(("ok", [do(*command) for command in msg[1]]))
            except Exception as exc:  # the main process raises it, in one line where it is ours
                text = str(exc) if isinstance(exc, SimpleGameError) else traceback.format_exc()
                conn.send(("error", text, isinstance(exc, SimpleGameError)))
    except (EOFError, OSError):  # the main process is gone (killed): nothing left to play for
        return
    finally:
        host.close()


class Emulators:
    """``n`` game slots for ``env_cfg``, hosted by :func:`emulator_processes` processes (forked on
    Linux, spawned elsewhere); slot ``k`` lives in process ``k % processes``."""

    def __init__(self, env_cfg: EnvConfig, rgb: bool, n: int, keep_out: Optional[list[int]] = None):
        self.env_data, self.rgb, self.keep_out = env_cfg.model_dump(), rgb, list(keep_out or [])
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        self.slots = 0
        self.grow(n)

    def grow(self, n: int) -> None:
        """At least ``n`` game slots (processes are added up to one per core)."""
        self.slots = max(self.slots, n)
        fork = sys.platform.startswith("linux")
        ctx: Any = mp.get_context("fork" if fork else "spawn")
        while len(self.conns) < emulator_processes(self.slots):
            ours, theirs = ctx.Pipe()
            inherited = [c.fileno() for c in [*self.conns, ours]] + self.keep_out if fork else []
            proc = ctx.Process(target=_emulator, args=(theirs, self.env_data, self.rgb, inherited), daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(ours)
            self.procs.append(proc)

    def host(self, slot: int) -> int:
        return slot % len(self.conns)

    def send(self, p: int, msg: tuple[Any, ...]) -> None:
        try:
            self.conns[p].send(msg)
        except OSError:
            raise SimpleGameError(f"collect: emulator process {p} died (exit code {self.procs[p].exitcode})") from None

    def receive(self, p: int) -> list[Answer]:
        try:
            reply = self.conns[p].recv()
        except EOFError:
            raise SimpleGameError(f"collect: emulator process {p} died (exit code {self.procs[p].exitcode})") from None
        if reply[0] == "error":
            raise SimpleGameError(reply[1]) if reply[2] else RuntimeError(f"emulator process {p} failed:\n{reply[1]}")
        return reply[1]

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
    """An episode in progress in one game slot: its index, random numbers and the agent's frame stack."""

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
    """Play ``jobs`` in ``pool``'s game slots; ``finished(job, result, png_bytes)`` as each ends.

    ``stack_shape`` is the agent's frame stack (``None`` for the random tier, which needs none).
    Each round takes the answers of every process that has answered, chooses the actions of all
    their waiting games in one :meth:`EpsilonGreedy.act_each` call and sends each process its
    games' actions, then its new episodes (a reset, a ROM reload, is done after the steps).
    """
    queue = list(reversed(jobs))
    games: dict[int, tuple[EpisodeJob, Game]] = {}
    pending = [0] * len(pool.conns)  # messages sent to each process and not answered yet

    def start(slot: int, starts: dict[int, list[tuple[Any, ...]]]) -> None:
        job = queue.pop()
        stack = np.zeros(stack_shape, dtype=np.uint8) if stack_shape is not None else None
        games[slot] = (job, Game(job.index, actor.random_state(job.policy_seed), stack))
        starts.setdefault(pool.host(slot), []).append((slot, job.env_seed, str(job.folder), job.max_steps))

    def send(kind: str, commands: dict[int, list[tuple[Any, ...]]]) -> None:
        for p, batch in sorted(commands.items()):
            pool.send(p, (kind, batch))
            pending[p] += 1

    starts: dict[int, list[tuple[Any, ...]]] = {}
    for slot in range(min(pool.slots, len(queue))):  # a pool grown for a larger tier: use what is needed
        start(slot, starts)
    send("start", starts)
    while games:
        waiting: list[int] = []
        starts = {}
        ready = wait([pool.conns[p] for p in range(len(pending)) if pending[p]])
        for conn in ready:
            p = pool.conns.index(conn)  # type: ignore[arg-type]
            pending[p] -= 1
            for answer in pool.receive(p):
                slot = answer[0]
                job, game = games[slot]
                if answer[1] is not None:
                    game.obs = _push(game.stack, answer[1]) if game.stack is not None else answer[1]
                    waiting.append(slot)
                    continue
                del games[slot]
                finished(job, answer[2], answer[3])
                if queue:
                    start(slot, starts)
        if waiting:
            obs = np.stack([games[k][1].obs for k in waiting])  # type: ignore[misc]
            actions = actor.act_each(obs, [games[k][1].random for k in waiting])
            acts: dict[int, list[tuple[Any, ...]]] = {}
            for slot, action in zip(waiting, actions, strict=True):
                acts.setdefault(pool.host(slot), []).append((slot, int(action)))
            send("act", acts)
        send("start", starts)


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
