"""Time to skill (`simple-game report --skill-curves`) on a real tiny run whose first tier is set low."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from conftest import SMOKE, only_run_dir
from test_report import assert_png
from tiny_runs import run_quiet

pytestmark = pytest.mark.slow


def test_the_tier_reached_is_placed_at_its_checkpoints_step_and_hours(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sets = ["total_timesteps=1024", "milestones.thresholds=[0.5, 1000]", "milestones.window=2", "eval.freq=512"]
    proc = run_quiet(
        "simple_game.train",
        "--config",
        str(SMOKE),
        "--runs-dir",
        str(runs),
        "--no-progress",
        *[x for s in sets for x in ("--set", s)],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = only_run_dir(runs)
    tier = run / "checkpoints" / "skill_level_1.zip"
    assert tier.is_file(), "a random-ish agent scores 0.5 over 2 whole games within 1,024 steps"
    with zipfile.ZipFile(tier) as archive:
        meta = json.loads(archive.read("simple_game.json"))

    proc = run_quiet("simple_game.report", "--runs-dir", str(runs), "--no-table", "--skill-curves")
    assert proc.returncode == 0, proc.stderr[-3000:]
    hours = meta["wall_time_s"] / 3600
    assert f"tier 1 (>= 0.5): {meta['step']:,} steps, {hours:.1f} h of training" in proc.stdout
    assert "tier 2 (>= 1000): not reached yet" in proc.stdout
    assert_png(run / "skill_curve.png", min_size=(1000, 400))

    # a run without tiers is skipped with the reason, not drawn
    (runs / "other").mkdir()
    (runs / "other" / "summary.json").write_text(json.dumps({"experiment": "other", "algo": "ppo"}))
    (runs / "other" / "config.yaml").write_text("name: other\n")
    proc = run_quiet("simple_game.report", "--runs-dir", str(runs), "--no-table", "--skill-curves")
    assert "skipped other: its config sets no milestones.thresholds" in proc.stdout, proc.stdout + proc.stderr
