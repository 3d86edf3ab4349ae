"""`simple-game roms` against the real ale-py: bundled ROMs, ALE_ROMS_DIR, AutoROM fallback."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

# Through simple_game.envs, so torch comes before ale-py (the import-order rule); skips without ale-py.
pytest.importorskip("simple_game.envs.roms")

import ale_py.roms as ale_roms  # noqa: E402

from simple_game.envs.roms import normalize_game, resolve_game, suggest  # noqa: E402


def run_roms(
    *args: str, env_extra: dict[str, str] | None = None, drop: tuple[str, ...] = ("ALE_ROMS_DIR",), script: bool = False
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(REPO / "src")
    env.update(env_extra or {})
    cmd = (
        [sys.executable, str(REPO / "scripts" / "setup_roms.py")]
        if script
        else [sys.executable, "-m", "simple_game.roms"]
    )
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)


def assert_user_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, no traceback, and a last stderr line 'error: ...' containing the needles."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr
    for needle in needles:
        assert needle in last, last
    return last


def bundled(rom_id: str) -> Path:
    return Path(ale_roms.__file__).parent / f"{rom_id}.bin"


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "name, rom_id",
    [
        ("breakout", "breakout"),
        ("Breakout", "breakout"),
        ("ALE/Breakout-v5", "breakout"),
        ("BreakoutNoFrameskip-v4", "breakout"),
        ("SpaceInvaders", "space_invaders"),
        ("space-invaders", "space_invaders"),
        ("MontezumaRevengeDeterministic-v4", "montezuma_revenge"),
        ("TicTacToe3D", "tic_tac_toe_3d"),
        ("Pitfall2", "pitfall2"),
    ],
)
def test_resolve_game_spellings(name: str, rom_id: str) -> None:
    assert resolve_game(name, ale_roms.get_all_rom_ids()) == rom_id


def test_suggestions() -> None:
    ids = ale_roms.get_all_rom_ids()
    assert resolve_game("breakuot", ids) is None
    assert suggest("breakuot", ids)[0] == "breakout"
    assert "space_invaders" in suggest("SpaceInvader", ids)
    assert normalize_game("ALE/Pong-v5") == "pong"


# --------------------------------------------------------------------------- CLI, bundled ROMs


def test_default_check_passes_with_bundled_roms() -> None:
    result = run_roms()
    assert result.returncode == 0, result.stderr
    assert f"{len(ale_roms.get_all_rom_ids())} Atari games" in result.stdout
    assert "bundled" in result.stdout
    assert "ok: all" in result.stdout


def test_check_breakout_ok() -> None:
    result = run_roms("--check", "breakout", "ALE/SpaceInvaders-v5")
    assert result.returncode == 0, result.stderr
    assert "breakout" in result.stdout and "ALE/Breakout-v5" in result.stdout
    assert "space_invaders" in result.stdout


def test_check_unknown_game_suggests_close_name() -> None:
    result = run_roms("--check", "breakuot")
    last = assert_user_error(result, "unknown game", "breakuot", "did you mean breakout")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "--list" in last


def test_list() -> None:
    result = run_roms("--list")
    assert result.returncode == 0, result.stderr
    ids = ale_roms.get_all_rom_ids()
    for rom_id in ("pong", "breakout", "space_invaders", "montezuma_revenge"):
        assert rom_id in result.stdout
    assert f"{len(ids)} of {len(ids)} ROMs available" in result.stdout


def test_thin_script_wrapper() -> None:
    result = run_roms("--check", "pong", script=True)
    assert result.returncode == 0, result.stderr
    assert "pong" in result.stdout


def test_help_is_light() -> None:
    code = (
        "import sys, simple_game.roms as r\n"
        "try:\n    r.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('ale_py', 'gymnasium', 'torch', 'stable_baselines3', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--autorom" in result.stdout


# --------------------------------------------------------------------------- CLI, ALE_ROMS_DIR


def test_external_rom_dir(tmp_path: Path) -> None:
    """With ALE_ROMS_DIR set, ale-py looks only there: present ROMs pass, others fail with a fix."""
    shutil.copy(bundled("breakout"), tmp_path / "breakout.bin")
    env = {"ALE_ROMS_DIR": str(tmp_path)}

    ok = run_roms("--check", "breakout", env_extra=env)
    assert ok.returncode == 0, ok.stderr
    assert str(tmp_path) in ok.stdout
    assert "Loading roms from" not in ok.stdout  # ale-py's chatter is swallowed

    missing = run_roms("--check", "pong", env_extra=env)
    assert_user_error(missing, "pong")
    assert "unset ALE_ROMS_DIR" in missing.stderr
    assert "--autorom" in missing.stderr

    everything = run_roms(env_extra=env)
    assert_user_error(everything, "missing")


def test_damaged_rom_is_reported(tmp_path: Path) -> None:
    (tmp_path / "pong.bin").write_bytes(b"not really a cartridge")
    result = run_roms("--check", "pong", env_extra={"ALE_ROMS_DIR": str(tmp_path)})
    assert_user_error(result, "pong")
    assert "wrong ROM file" in result.stderr


def test_rom_dir_that_does_not_exist(tmp_path: Path) -> None:
    result = run_roms(env_extra={"ALE_ROMS_DIR": str(tmp_path / "nope")})
    assert_user_error(result)
    assert "doesn't exist" in result.stderr or "does not exist" in result.stderr


# --------------------------------------------------------------------------- CLI, AutoROM


def test_autorom_missing_is_a_clear_error(tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    result = run_roms("--autorom", str(tmp_path / "roms"), env_extra={"PATH": str(empty_bin)})
    last = assert_user_error(result, "pip install autorom", "internet")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "bundles" in last


def _fake_autorom(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir()
    exe = bin_dir / "AutoROM"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(0o755)


@pytest.mark.skipif(os.name == "nt", reason="fake AutoROM is a POSIX shell script")
def test_autorom_runs_and_explains_ale_roms_dir(tmp_path: Path) -> None:
    """A stand-in AutoROM (no network) that copies one ROM where it is told to."""
    _fake_autorom(
        tmp_path / "bin",
        'echo "$@" > "$FAKE_LOG"\n'
        'while [ $# -gt 0 ]; do case "$1" in --install-dir) dir="$2"; shift;; esac; shift; done\n'
        '[ -d "$dir" ] || { echo "install dir must exist" >&2; exit 2; }\n'
        'cp "$FAKE_ROM" "$dir/"\n',
    )
    target = tmp_path / "atari roms"
    env = {
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "FAKE_ROM": str(bundled("breakout")),
        "FAKE_LOG": str(tmp_path / "args.txt"),
    }
    result = run_roms("--autorom", str(target), env_extra=env)
    assert result.returncode == 0, result.stderr
    assert (target / "breakout.bin").is_file()
    args = (tmp_path / "args.txt").read_text()
    assert "--accept-license" in args and f"--install-dir {target}" in args
    assert f"export ALE_ROMS_DIR={shlex.quote(str(target))}" in result.stdout

    # and the folder it filled really works with ale-py
    check = run_roms("--check", "breakout", env_extra={"ALE_ROMS_DIR": str(target)})
    assert check.returncode == 0, check.stderr


@pytest.mark.skipif(os.name == "nt", reason="fake AutoROM is a POSIX shell script")
def test_autorom_that_downloads_nothing_is_an_error(tmp_path: Path) -> None:
    _fake_autorom(tmp_path / "bin", 'echo "Network connection error. Check your network settings?"\nexit 0\n')
    env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = run_roms("--autorom", str(tmp_path / "roms"), env_extra=env)
    assert_user_error(result, "no .bin files")
