"""`hf://` agents and `simple-game hub`: the real huggingface_hub cache code on a repository folder made here.

This machine cannot reach the Hub, so each test writes a repository into a Hub cache under tmp_path
(``models--<org>--<name>/snapshots/<sha>/`` and ``refs/main``, the layout huggingface_hub writes
and reads) and points ``HF_HUB_CACHE`` at it. "No network" is real too: ``HF_ENDPOINT`` is a local
port nobody listens on, so huggingface_hub's request fails and it falls back to the cache.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from test_foreign_agents import REPO_ID, hub_cache, plain_ppo
from tiny_runs import quiet_env

pytestmark = pytest.mark.slow


def closed_port_url() -> str:
    """``http://127.0.0.1:<port>`` of a port that was free a moment ago: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def hub_cli(*args: str, cache: Path, offline: bool) -> subprocess.CompletedProcess:
    env = quiet_env() | {"HF_HUB_CACHE": str(cache)}
    env |= {"HF_HUB_OFFLINE": "1"} if offline else {"HF_ENDPOINT": closed_port_url(), "HF_HUB_OFFLINE": "0"}
    return subprocess.run(
        [sys.executable, "-m", "simple_game", "hub", *args],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("hub")
    snapshot = hub_cache(root / "hf", REPO_ID, plain_ppo(root / "agent.zip"))
    return root / "hf", snapshot


def test_hub_refs() -> None:
    from simple_game.agents.sources import HubRef, is_hub_ref, parse_hub_ref
    from simple_game.errors import SimpleGameError

    assert parse_hub_ref("hf://sb3/ppo-BreakoutNoFrameskip-v4") == HubRef("sb3/ppo-BreakoutNoFrameskip-v4")
    ref = parse_hub_ref("hf://sb3/dqn-PongNoFrameskip-v4@v1.0")
    assert ref.revision == "v1.0" and ref.name == "dqn-PongNoFrameskip-v4" and str(ref).endswith("@v1.0")
    assert is_hub_ref("hf://a/b") and not is_hub_ref("runs/a") and not is_hub_ref(None)
    with pytest.raises(SimpleGameError, match="not a Hub repository"):
        parse_hub_ref("hf://just-a-name")


@pytest.mark.parametrize("offline", [True, False], ids=["HF_HUB_OFFLINE", "unreachable"])
def test_pull_answers_from_the_cache(cache: tuple[Path, Path], offline: bool) -> None:
    folder, snapshot = cache
    proc = hub_cli("pull", REPO_ID, cache=folder, offline=offline)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert str(snapshot) in proc.stdout and "ppo agent for breakout (BreakoutNoFrameskip-v4)" in proc.stdout
    assert "4 frames of 84x84, 4 actions" in proc.stdout


@pytest.mark.parametrize("offline", [True, False], ids=["HF_HUB_OFFLINE", "unreachable"])
def test_missing_repository_is_one_line(cache: tuple[Path, Path], offline: bool) -> None:
    proc = hub_cli("pull", "hf://sb3/qrdqn-PongNoFrameskip-v4", cache=cache[0], offline=offline)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert (
        "not in the Hub cache" in lines[0] and ("HF_HUB_OFFLINE is set" if offline else "cannot be reached") in lines[0]
    )


def test_list_and_help(cache: tuple[Path, Path], tmp_path: Path) -> None:
    proc = hub_cli("list", cache=cache[0], offline=True)
    assert proc.returncode == 0 and f"hf://{REPO_ID}@0123456789ab  ppo-BreakoutNoFrameskip-v4.zip" in proc.stdout
    empty = hub_cli("list", cache=tmp_path, offline=True)
    assert empty.returncode == 0 and "no agents in the Hub cache" in empty.stdout
    probe = (
        "import sys\nfrom simple_game.cli.hub import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY:' + ' '.join(m for m in ('torch', 'gymnasium', 'huggingface_hub') if m in sys.modules))"
    )
    light = subprocess.run(
        [sys.executable, "-c", probe], cwd=str(REPO), env=quiet_env(), capture_output=True, text=True
    )
    assert light.stdout.strip().endswith("HEAVY:"), light.stdout + light.stderr
