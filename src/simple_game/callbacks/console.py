"""The training progress table on the console."""

from __future__ import annotations

import math
import time
from typing import Any, Optional

from rich.console import Console
from rich.table import Table
from stable_baselines3.common.callbacks import BaseCallback

from simple_game.stats import summarize


def _episode_scores(model: Any) -> list[float]:
    """True game scores of the last (up to 100) finished games, from SB3's Monitor info."""
    return [float(info["r"]) for info in (model.ep_info_buffer or [])]


class ConsoleCallback(BaseCallback):
    """A compact rich table row every ``interval_s`` seconds: steps, fps, score, ETA."""

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
        self, total_timesteps: int, interval_s: float = 10.0, console: Optional[Console] = None, start_step: int = 0
    ):
        super().__init__()
        self.total_timesteps = total_timesteps
        self.interval_s = interval_s
        self.console = console
        self.start_step = start_step
        self.best_eval: Optional[float] = None
        self._t0 = 0.0
        self._last_t = 0.0
        self._last_steps = 0
        self._games = 0
        self._rows = 0

    def _on_training_start(self) -> None:
        if self.console is None:
            self.console = Console()
        self._t0 = self._last_t = time.monotonic()
        self._last_steps = self.num_timesteps

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            if "episode" in info:
                self._games += 1
        now = time.monotonic()
        if now - self._last_t >= self.interval_s:
            self.print_row(now)
        return True

    def _on_training_end(self) -> None:
        self.print_row(time.monotonic())

    def print_row(self, now: float) -> None:
        fps = (self.num_timesteps - self._last_steps) / max(now - self._last_t, 1e-9)
        overall_fps = (self.num_timesteps - self.start_step) / max(now - self._t0, 1e-9)
        remaining = max(self.total_timesteps - self.num_timesteps, 0)
        scores = summarize(_episode_scores(self.model))
        table = Table(show_header=self._rows == 0, box=None, pad_edge=False)
        for title, width in self.COLUMNS:
            table.add_column(title, justify="right", width=width, no_wrap=True)
        table.add_row(
            f"{self.num_timesteps:,}",
            f"{100 * self.num_timesteps / self.total_timesteps:.0f}%",
            f"{fps:,.0f}",
            f"{self._games:,}",
            f"{scores.mean:.1f}" if scores else "-",
            f"{self.best_eval:.1f}" if self.best_eval is not None else "-",
            _hms(now - self._t0),
            _hms(remaining / overall_fps) if overall_fps > 0 and remaining else "-",
        )
        assert self.console is not None
        self.console.print(table)
        self._rows += 1
        self._last_t, self._last_steps = now, self.num_timesteps


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"
