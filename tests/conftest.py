"""Shared helpers: run the real CLIs in subprocesses, exactly as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import simple_game.envs  # noqa: F401  first in every test process: torch before ale-py, and no ale-py banner

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
SMOKE = CONFIGS / "smoke.yaml"

# Training's layout probe caches its verdicts per machine; tests keep theirs apart from the user's.
os.environ.setdefault("SIMPLE_GAME_CACHE_DIR", tempfile.mkdtemp(prefix="simple-game-test-cache-"))


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["COLUMNS"] = "160"
    return env


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 600, check: bool = False
) -> subprocess.CompletedProcess:
    """``python -m simple_game.<args>``; returns the completed process (stdout/stderr as text)."""
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=str(cwd or REPO),
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{args} exited {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
    return proc


def only_run_dir(runs: Path) -> Path:
    dirs = [p for p in runs.iterdir() if p.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write a YAML config into tmp_path (extending the shipped configs by absolute path)."""

    def _write(text: str, name: str = "exp.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text.replace("@CONFIGS@", str(CONFIGS)))
        return path

    return _write
