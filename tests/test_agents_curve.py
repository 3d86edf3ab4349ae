"""`simple-game agents curve`: the runs behind a shipped folder joined into one learning curve.

Run on the real agents/breakout folder (four runs, each warm-started from the one before), so the
figures it prints are the ones its README and docs/performance.md state.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from test_report import assert_png
from tiny_runs import REPO, run_quiet

SHIPPED = REPO / "agents" / "breakout"


def _recipe_steps(level: int) -> int:
    """Recipe steps to ``skill_level_<level>`` as the shipped folder's agents.json records them."""
    agent = next(
        a for a in json.loads((SHIPPED / "agents.json").read_text())["agents"] if a["name"] == f"skill_level_{level}"
    )
    return int(agent["step"]) + int(agent.get("steps_before", 0))


def test_the_chain_of_the_shipped_breakout_agents_is_one_curve_with_every_tier(tmp_path: Path) -> None:
    out = tmp_path / "chain.png"
    proc = run_quiet("simple_game", "agents", "curve", str(SHIPPED), "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert_png(out)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("tier ")]
    assert [int(re.match(r"tier (\d+)", line).group(1)) for line in lines] == [1, 2, 3]  # type: ignore[union-attr]
    for level, line in enumerate(lines, start=1):
        assert f": {_recipe_steps(level):,} steps" in line, line
    hours = [float(re.search(r"([\d.]+) h of training", line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert hours == sorted(hours) and hours[0] > 5, "the chain's hours add up across runs: tier 3 comes last"
    # Tier 1 was reached in the first run, before any warm start: the run's own figures.
    assert _recipe_steps(1) == 1_791_384


def _copy_logs(tmp_path: Path) -> Path:
    """The shipped folder without its zips (the curve reads only logs and the index)."""
    folder = tmp_path / "breakout"
    shutil.copytree(SHIPPED, folder, ignore=shutil.ignore_patterns("*.zip"))
    return folder


def test_a_run_of_the_chain_whose_logs_are_gone_is_named(tmp_path: Path) -> None:
    folder = _copy_logs(tmp_path)
    gone = json.loads((folder / "agents.json").read_text())["runs"][1]
    shutil.rmtree(folder / "earlier" / gone)
    proc = run_quiet("simple_game", "agents", "curve", str(folder), "--out", str(tmp_path / "x.png"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert gone in proc.stderr and "missing" in proc.stderr
    assert not (tmp_path / "x.png").exists()


def test_a_folder_that_was_not_shipped_is_refused_in_one_line(tmp_path: Path) -> None:
    proc = run_quiet("simple_game", "agents", "curve", str(tmp_path), "--out", str(tmp_path / "x.png"))
    assert proc.returncode == 2
    assert "agents.json" in proc.stderr and "agents ship" in proc.stderr and "Traceback" not in proc.stderr
