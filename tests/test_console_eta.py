"""The console's ETA for DQN: the replay warm-up (``learning_starts`` steps of random play, no
gradient update) runs many times faster than training after it, so an ETA paced from the start
of the session promised a fraction of the time left (8 minutes for 50 in the Breakout learning
check). It reads ``-`` during the warm-up and is paced from the first update.

Real SB3 DQN on CartPole with the real console; only the clock the console reads is driven by
the test, 2 ms per warm-up step and 20 ms per step after it, so the expected ETA is exact on any
machine.
"""

from __future__ import annotations

import io
import re
import types

import gymnasium as gym
import pytest
from rich.console import Console
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.callbacks import BaseCallback

from simple_game.callbacks import console as console_module
from simple_game.callbacks.console import ConsoleCallback, timed_apart

ROW = re.compile(r"^\s*(?P<steps>[\d,]+)\s+\d+%\s+.*\s(?P<eta>\d+:\d\d:\d\d|-)\s*$")
WARM_UP, TOTAL = 1_000, 2_000


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t


class Tick(BaseCallback):
    """Advances the console's clock by a step's cost: cheap before the first update, dear after."""

    def __init__(self, clock: Clock, learning_starts: int):
        super().__init__()
        self.clock, self.learning_starts = clock, learning_starts

    def _on_step(self) -> bool:
        self.clock.t += 0.002 if self.num_timesteps <= self.learning_starts else 0.020
        return True


def console_rows(model, learning_starts: int, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    clock = Clock()
    monkeypatch.setattr(console_module, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    out = io.StringIO()
    console = ConsoleCallback(TOTAL, interval_s=1.0, console=Console(file=out, width=150))
    model.learn(TOTAL, callback=timed_apart([console, Tick(clock, learning_starts)]))
    rows = [ROW.match(line) for line in out.getvalue().splitlines()]
    return [(int(m["steps"].replace(",", "")), m["eta"]) for m in rows if m]


def seconds(hms: str) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return 3600 * h + 60 * m + s


def test_dqn_eta_is_paced_from_the_first_update(monkeypatch: pytest.MonkeyPatch) -> None:
    env = gym.make("CartPole-v1")
    model = DQN("MlpPolicy", env, learning_starts=WARM_UP, buffer_size=5_000, seed=0, device="cpu")
    rows = console_rows(model, WARM_UP, monkeypatch)
    warm = [eta for steps, eta in rows if steps <= WARM_UP]
    after = [(steps, eta) for steps, eta in rows if WARM_UP + 50 <= steps < TOTAL]
    assert warm and all(eta == "-" for eta in warm), rows
    assert len(after) >= 10, rows
    for steps, eta in after:
        # 20 ms a step for every step left; paced from the start it would read ~1/3 of this at first.
        assert abs(seconds(eta) - 0.020 * (TOTAL - steps)) <= 1.5, (steps, eta, rows)


def test_ppo_eta_is_paced_from_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """No warm-up on-policy: every step costs the same here, and the ETA shows from the first row."""
    model = PPO("MlpPolicy", gym.make("CartPole-v1"), n_steps=256, batch_size=64, n_epochs=1, seed=0, device="cpu")
    rows = console_rows(model, -1, monkeypatch)
    assert len(rows) >= 10, rows
    for steps, eta in rows:
        if steps < TOTAL:
            assert eta != "-" and abs(seconds(eta) - 0.020 * (TOTAL - steps)) <= 1.5, (steps, eta, rows)
