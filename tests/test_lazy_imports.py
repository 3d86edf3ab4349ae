"""`import simple_game` and every --help must not import torch, gymnasium or ale-py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO, cli_env

HEAVY = ("torch", "gymnasium", "ale_py", "stable_baselines3")
PROBE = "import sys, runpy\n{body}\nprint('HEAVY:' + ' '.join(m for m in {heavy!r} if m in sys.modules))"


def _heavy_after(body: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body, heavy=HEAVY)],
        env=cli_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    marker = [line for line in proc.stdout.splitlines() if line.startswith("HEAVY:")]
    assert marker, proc.stdout
    return marker[-1][len("HEAVY:") :].strip()


def test_import_package_is_light() -> None:
    assert (
        _heavy_after("import simple_game, simple_game.config, simple_game.runs, simple_game.errors, simple_game.cli")
        == ""
    )


@pytest.mark.parametrize("command", ["train", "evaluate", "record", "collect", "report", "roms"])
def test_help_is_light(command: str) -> None:
    body = (
        "import importlib\n"
        f"try:\n    m = importlib.import_module('simple_game.{command}')\nexcept ModuleNotFoundError:\n    m = None\n"
        "if m is not None:\n"
        "    try:\n        m.main(['--help'])\n    except SystemExit:\n        pass\n"
    )
    assert _heavy_after(body) == ""


def test_console_script_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simple_game", "--help"],
        env=cli_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "train" in proc.stdout
