"""The agents shipped in agents/breakout: the files the README names, playing through `evaluate`.

The README's table and agents.json are what a user trusts before downloading 8 MB: every file
must hash to the sha256 both give, stay under the size a repository carries, and play. Their
30-game scores are a benchmark figure (agents/breakout/README.md), not re-measured here: a short
game capped at 1,200 emulator frames (300 agent steps) shows the agent loads and acts.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from tiny_runs import REPO, run_quiet

pytestmark = pytest.mark.slow

SHIPPED = REPO / "agents" / "breakout"
INDEX = json.loads((SHIPPED / "agents.json").read_text())
AGENTS = [agent["name"] for agent in INDEX["agents"]]


def test_every_agent_hashes_to_what_the_readme_and_index_say() -> None:
    readme = (SHIPPED / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(checkpoints/[^`]+\.zip)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M))
    assert AGENTS and sorted(rows) == sorted(a["file"] for a in INDEX["agents"])
    for agent in INDEX["agents"]:
        data = (SHIPPED / agent["file"]).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert digest == agent["sha256"] == rows[agent["file"]], agent["file"]
        assert len(data) == agent["bytes"] < 10 * 1024 * 1024
    assert run_quiet("simple_game", "agents", "verify", str(SHIPPED)).returncode == 0


@pytest.mark.parametrize("name", AGENTS)
def test_a_shipped_agent_plays_a_capped_game_through_evaluate(name: str, tmp_path: Path) -> None:
    config = tmp_path / "capped.yaml"
    config.write_text(f"extends: {SHIPPED / 'config.yaml'}\nenv:\n  max_frames_per_episode: 1200\n")
    report = tmp_path / "report.json"
    proc = run_quiet(
        "simple_game.evaluate",
        str(SHIPPED / "checkpoints" / f"{name}.zip"),
        "--config",
        str(config),
        "--episodes",
        "1",
        "--json",
        str(report),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(report.read_text())
    assert result["episode_lengths"] == [300]  # the cap, not a crash or an early end
    assert result["episode_scores"][0] > 0  # a trained agent breaks bricks in 300 steps; a frozen one does not
