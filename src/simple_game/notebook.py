"""What the teaching notebooks (``notebooks/0N_*.py``) share, so that it is written once.

A notebook finds the repository root itself (it must, before ``simple_game`` can be imported
from a source tree) and then uses this module for the rest:

- :func:`quick_mode`: the ``SIMPLE_GAME_QUICK`` switch that shrinks every training budget, so a
  whole notebook runs in well under a minute (``tests/test_notebooks.py`` sets it);
- :func:`runs_dir`: where the notebooks write their runs;
- :func:`train`: run the ``train`` command in the notebook's own kernel and return the new run;
- :func:`read_csv` and :func:`curve`: read a run's ``progress.csv`` / ``eval.csv`` with nothing
  but the ``csv`` module, the way a learner could in their own code.

Like the notebooks it sits above the command layer: :func:`train` calls the very ``main()``
behind ``simple-game train``, so a notebook shows the command a learner would type.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional

from simple_game.cli.train import main as train_main

QUICK_ENV = "SIMPLE_GAME_QUICK"

# The baseline the notebooks draw: a uniformly random policy on Breakout under this project's
# evaluation protocol (whole games, raw scores) scores 1.1 ± 1.2, measured with
# `simple-game evaluate RUN --random --episodes 30` (docs/performance.md; experiments.md says 1.1).
# The DQN paper's 1.7 came from that paper's own protocol; it is not what this project measures.
RANDOM_BREAKOUT_SCORE = 1.1
RANDOM_BREAKOUT_LABEL = "random agent (1.1, measured: evaluate --random, 30 games)"
RUNS_DIR_ENV = "SIMPLE_GAME_RUNS_DIR"


def quick_mode(environ: Optional[Mapping[str, str]] = None) -> bool:
    """True when ``SIMPLE_GAME_QUICK`` is set to anything but empty, 0, false or no."""
    value = (os.environ if environ is None else environ).get(QUICK_ENV, "0")
    return value.strip().lower() not in ("", "0", "false", "no")


def runs_dir(root: Path, environ: Optional[Mapping[str, str]] = None) -> Path:
    """``$SIMPLE_GAME_RUNS_DIR`` if set, else ``<root>/runs/notebooks`` (git ignores runs/); created."""
    env = os.environ if environ is None else environ
    runs = Path(env.get(RUNS_DIR_ENV) or root / "runs" / "notebooks").resolve()
    runs.mkdir(parents=True, exist_ok=True)
    return runs


def train(config: str, name: str, overrides: Sequence[str], *, root: Path, runs: Path) -> Path:
    """Run ``python -m simple_game.train`` in this kernel and return the new run directory.

    ``config`` is relative to the repository ``root``, as on the command line; training gets its
    own ``experiments.md`` inside ``runs``, so the repository's experiment log stays clean.
    """
    argv = ["--config", str(root / config), "--name", name, "--runs-dir", str(runs), "--no-progress"]
    argv += ["--experiments-md", str(runs / "experiments.md")]  # keep the repository's log clean
    for item in overrides:
        argv += ["--set", item]
    shown = [config, "--name", name] + [f"--set {item}" for item in overrides]
    print("python -m simple_game.train --config " + " ".join(shown))
    before = set(runs.glob(name + "_*"))
    exit_code = train_main(argv)
    if exit_code != 0:
        raise RuntimeError(f"training failed with exit code {exit_code} (see the message above)")
    (run_dir,) = set(runs.glob(name + "_*")) - before
    return run_dir


def read_csv(path: Path) -> dict[str, list[float]]:
    """A CSV of numbers as {column: [floats]}; empty cells (keys not logged in that row) become NaN."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns: dict[str, list[float]] = {key: [] for key in (rows[0].keys() if rows else [])}
    for row in rows:
        for key, values in columns.items():
            try:
                values.append(float(row[key]))
            except (TypeError, ValueError):
                values.append(math.nan)
    return columns


def curve(columns: Mapping[str, Sequence[float]], x: str, y: str) -> tuple[list[float], list[float]]:
    """The (x, y) points of one metric, skipping rows where it was not logged."""
    if x not in columns or y not in columns:
        return [], []
    points = [(a, b) for a, b in zip(columns[x], columns[y], strict=True) if not (math.isnan(a) or math.isnan(b))]
    return [a for a, _ in points], [b for _, b in points]
