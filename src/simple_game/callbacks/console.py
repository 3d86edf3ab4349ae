"""The training progress table on the console.

One row every few seconds: steps, share of the budget done, training speed, games, the mean
score of recent games, the best evaluation, elapsed time and ETA. What each number counts:

- ``fps`` is the speed of training itself (stepping the envs and learning): the seconds spent in
  evaluations, videos and checkpoint saves are left out (:class:`TimedApart` measures them), so
  a row with an evaluation in it does not drop from 278 to 2. The ETA uses the overall pace of
  this session, pauses included, because the pauses will recur. DQN and QR-DQN first play
  ``learning_starts`` steps at random to fill the replay buffer, with no gradient update, many
  times faster than what follows (1,400 fps, then 75, in docs/dqn.md's learning check): their
  ETA reads ``-`` until the first update and is paced from there, or it would promise a
  fraction of the time left.
- ``steps`` is SB3's real step counter. SB3 checks the budget only between rollouts (PPO and
  A2C collect ``n_steps x n_envs`` steps at a time), so it may end past ``total_timesteps``;
  ``done`` stops at 100%.
- ``games`` and ``mean score`` count the same games: those finished since this session
  started (on ``--resume``, the games before it are not counted in either).
- ``elapsed`` is the run's clock (``summary.json``'s ``wall_time_s``, earlier sessions
  included) when ``train`` passes it, as it does.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Optional

import rich
from rich.console import Console
from rich.table import Table
from stable_baselines3.common.callbacks import BaseCallback, CallbackList

# Piped into a file or a pager there is no terminal width: rows must not wrap at rich's 80.
PIPED_WIDTH = 200


def training_console() -> Console:
    """Where training prints: rich's shared console on a terminal or in a notebook (SB3's progress
    bar draws there too), or a wide console that never wraps when stdout is piped."""
    console = rich.get_console()
    return console if is_interactive(console) else Console(width=PIPED_WIDTH, soft_wrap=True)


def is_interactive(console: Console) -> bool:
    """A terminal or a notebook: somewhere a live progress bar makes sense."""
    return console.is_terminal or console.is_jupyter


class ConsoleCallback(BaseCallback):
    """A compact rich table row every ``interval_s`` seconds: steps, fps, score, ETA.

    ``clock``: seconds since the run began (all sessions); without it, since this session began.
    """

    COLUMNS = (
        ("steps", 12),
        ("done", 6),
        ("fps", 7),
        ("games", 7),
        ("mean score", 11),
        ("best eval", 10),
        ("elapsed", 9),
        ("ETA", 9),
    )

    def __init__(
        self,
        total_timesteps: int,
        interval_s: float = 10.0,
        console: Optional[Console] = None,
        start_step: int = 0,
        clock: Optional[Callable[[], float]] = None,
    ):
        super().__init__()
        self.total_timesteps = total_timesteps
        self.interval_s = interval_s
        self.console = console
        self.start_step = start_step
        self.clock = clock
        self.best_eval: Optional[float] = None
        self.paused_s = 0.0  # seconds of evaluations, videos and saves since the last row
        self._t0 = 0.0
        self._last_t = 0.0
        self._last_steps = 0
        self._games = 0
        self._scores: deque[float] = deque(maxlen=100)
        self._rows = 0
        self._learning_starts = 0
        self._pace_from: Optional[tuple[float, int]] = None  # (time, steps) the ETA's pace counts from

    def _on_training_start(self) -> None:
        if self.console is None:
            self.console = training_console()
        self._t0 = self._last_t = time.monotonic()
        self._last_steps = self.num_timesteps
        self._learning_starts = int(getattr(self.model, "learning_starts", 0))  # off-policy only
        self._pace_from = None
        self._start_pace(self._t0)
        # The same window as SB3's rollout/ep_rew_mean (stats_window_size, 100 by default).
        self._scores = deque(maxlen=int(getattr(self.model, "_stats_window_size", 100)))
        if self.start_step > 0:
            self.console.print(f"games and mean score: the games played since this resume at {self.start_step:,} steps")

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            episode = info.get("episode")  # SB3's Monitor: set when a whole game ends, with its true score
            if episode is not None:
                self._games += 1
                self._scores.append(float(episode["r"]))
        now = time.monotonic()
        if self._pace_from is None:
            self._start_pace(now)
        if now - self._last_t >= self.interval_s:
            self.print_row(now)
        return True

    def _start_pace(self, now: float) -> None:
        # SB3's off-policy algorithms update once num_timesteps > learning_starts.
        if self.num_timesteps >= self._learning_starts:
            self._pace_from = (now, self.num_timesteps)

    def eta_s(self, now: float) -> Optional[float]:
        """Seconds left at the pace since the first gradient update (or the session's start), or
        None while the replay warm-up runs or no step has been timed yet."""
        if self._pace_from is None:
            return None
        t0, steps0 = self._pace_from
        remaining = max(self.total_timesteps - self.num_timesteps, 0)
        if self.num_timesteps <= steps0 or now <= t0 or not remaining:
            return None
        return remaining * (now - t0) / (self.num_timesteps - steps0)

    def _on_training_end(self) -> None:
        self.print_row(time.monotonic())

    def print_row(self, now: float) -> None:
        steps = self.num_timesteps
        fps = (steps - self._last_steps) / max(now - self._last_t - self.paused_s, 1e-9)
        eta = self.eta_s(now)
        mean = sum(self._scores) / len(self._scores) if self._scores else None
        table = Table(show_header=self._rows == 0, box=None, pad_edge=False)
        for title, width in self.COLUMNS:
            table.add_column(title, justify="right", width=width, no_wrap=True)
        table.add_row(
            f"{steps:,}",
            f"{min(100.0, 100 * steps / self.total_timesteps):.0f}%",
            f"{fps:,.0f}",
            f"{self._games:,}",
            f"{mean:.1f}" if mean is not None else "-",
            f"{self.best_eval:.1f}" if self.best_eval is not None else "-",
            _hms(self.clock() if self.clock is not None else now - self._t0),
            _hms(eta) if eta is not None else "-",
        )
        assert self.console is not None
        self.console.print(table)
        self._rows += 1
        self._last_t, self._last_steps, self.paused_s = now, steps, 0.0


class TimedApart(CallbackList):
    """Callbacks that pause training (evaluations, videos, checkpoint saves): the seconds they
    take are added to the console's ``paused_s`` and left out of its ``fps``."""

    def __init__(self, callbacks: list[BaseCallback], console: ConsoleCallback):
        super().__init__(callbacks)
        self.console = console

    @contextlib.contextmanager
    def _timed(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.console.paused_s += time.monotonic() - start

    def _on_step(self) -> bool:
        with self._timed():
            return super()._on_step()

    def _on_rollout_start(self) -> None:  # checkpoints are saved here
        with self._timed():
            super()._on_rollout_start()

    def _on_rollout_end(self) -> None:
        with self._timed():
            super()._on_rollout_end()


def timed_apart(callbacks: list[BaseCallback], clock: Optional[Callable[[], float]] = None) -> list[BaseCallback]:
    """``callbacks`` for ``learn``: those after the console grouped in :class:`TimedApart`, so the
    console's fps leaves their time out, and the console put on the run's ``clock``."""
    console = next((cb for cb in callbacks if isinstance(cb, ConsoleCallback)), None)
    if console is None:
        return list(callbacks)
    if clock is not None:
        console.clock = clock
    i = callbacks.index(console) + 1
    return [*callbacks[:i], TimedApart(callbacks[i:], console)] if callbacks[i:] else list(callbacks)


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"
