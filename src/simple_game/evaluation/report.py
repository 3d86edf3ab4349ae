"""``evaluate``'s library side: play a target's games and build the JSON-ready report.

The report holds the raw score of every game, their summary, and the protocol they were played
under (enough to reproduce the numbers). Writing it to a file is the caller's business.
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Any, Optional

from rich.console import Console

from simple_game import __version__
from simple_game.evaluation.episodes import EpisodeResults, protocol_info, run_episodes
from simple_game.evaluation.session import Session, open_session
from simple_game.evaluation.target import Target


def evaluate_target(
    target: Target,
    *,
    episodes: int,
    epsilon: float,
    deterministic: bool,
    seed: int,
    n_envs: Optional[int] = None,
    device: str = "cpu",
    console: Optional[Console] = None,
) -> dict[str, Any]:
    """Play ``episodes`` whole games with ``target`` and return the JSON-ready report.

    ``n_envs`` games are played side by side (default: the config's ``eval.n_envs``, never more
    than ``episodes``). Progress, one line per game, goes to ``console`` (default: stderr).
    """
    cfg = target.cfg
    n_envs = max(1, min(n_envs or cfg.eval.n_envs, episodes))
    console = console or Console(stderr=True)
    with open_session(
        target, n_envs=n_envs, epsilon=epsilon, deterministic=deterministic, seed=seed, device=device
    ) as session:
        console.print(_headline(session, episodes, epsilon))

        def progress(i: int, score: float, length: int) -> None:
            console.print(f"  game {i}/{episodes}: score {score:g} ({length:,} steps)", highlight=False)

        t0 = time.monotonic()
        results = run_episodes(session.env, session.act, episodes, on_episode=progress)
        wall = time.monotonic() - t0
    protocol = protocol_info(
        cfg.env, epsilon=epsilon, deterministic=session.act.deterministic, seed=seed, n_envs=n_envs
    )
    if session.model is None:
        protocol.update(actions="random", epsilon=1.0)
    return build_report(target, results, protocol, wall)


def _headline(session: Session, episodes: int, epsilon: float) -> str:
    """``evaluating best on breakout: 30 games, classic protocol, greedy actions, epsilon 0.05``."""
    target, cfg = session.target, session.target.cfg
    if session.model is None:
        what, mode = "random policy", "uniformly random actions"
    else:
        what = target.label
        mode = f"{'greedy' if session.act.deterministic else 'sampled'} actions, epsilon {epsilon:g}"
    return f"evaluating [bold]{what}[/bold] on {cfg.env.game}: {episodes} games, {cfg.env.protocol} protocol, {mode}"


def build_report(target: Target, results: EpisodeResults, protocol: dict[str, Any], wall: float) -> dict[str, Any]:
    """The JSON report: what was played, every game's score and length, their summary, the protocol."""
    cfg = target.cfg
    return {
        "game": cfg.env.game,
        "algo": cfg.algo if target.checkpoint is not None else "random",
        "trained_algo": cfg.algo,
        "checkpoint": str(target.checkpoint) if target.checkpoint is not None else None,
        "checkpoint_step": target.step,
        "run_dir": str(target.run.path) if target.run is not None else None,
        **results.summary(),
        "episode_scores": results.scores,
        "episode_lengths": results.lengths,
        "episode_truncated": results.truncated,
        "length_unit": "agent steps (one step = frame_skip emulator frames)",
        "protocol": protocol,
        "wall_time_s": round(wall, 2),
        "evaluated_at": _dt.datetime.now().isoformat(timespec="seconds"),
        "simple_game_version": __version__,
    }
