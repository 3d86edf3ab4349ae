"""No ale-py banner ("A.L.E: Arcade Learning Environment ... [Powered by Stella]") on stderr.

simple_game.envs sets ale-py's logger to errors only before any emulator starts, in the main
process and in every worker (workers import the package too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SMOKE, run_cli

BANNER = ("Arcade Learning Environment", "Powered by Stella")


def _quiet(proc) -> None:
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for text in BANNER:
        assert text not in proc.stderr and text not in proc.stdout


@pytest.mark.slow
def test_record_collect_and_verify_print_no_banner(tmp_path: Path) -> None:
    config = tmp_path / "collect.yaml"
    config.write_text(
        f"env: {{game: Breakout}}\noutput: {tmp_path / 'data'}\nepisodes: 2\nmax_steps: 5\nworkers: 2\n"
        "tiers: [{random: true}]\n"
    )
    _quiet(run_cli("simple_game.collect", "--config", str(config)))  # two worker processes
    _quiet(run_cli("simple_game.collect", "verify", str(tmp_path / "data")))
    out = tmp_path / "random.mp4"
    _quiet(run_cli("simple_game.record", "--random", "--config", str(SMOKE), "--max-steps", "5", "--out", str(out)))
    assert out.is_file()
