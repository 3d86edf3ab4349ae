"""evaluate and record check every output path before the work starts (issue 21, items 3 and 10).

A file where a folder is expected, a parent that is a file, a folder where the file should be,
a run folder that cannot be written: one ``error:`` line, exit 2, no traceback, nothing
written, and no game played first (so ``evaluate --json`` never plays 30 games and then loses
them). And ``record`` says how it is getting on, a line per finished game, on stderr.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tiny_runs import run_quiet, tiny_ppo_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_ppo_run(tmp_path_factory)


def _tree(root: Path) -> list[str]:
    """Every path under ``root`` (to show that a refused command wrote nothing)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _one_error_line(proc, *needles: str) -> str:
    """Exit 2 and one ``error:`` line on stderr holding ``needles``; no traceback, no game played."""
    assert proc.returncode == 2, proc.stderr[-3000:] + proc.stdout[-3000:]
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("A.L.E:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr and "game 1/" not in proc.stderr, proc.stderr
    assert "evaluating" not in proc.stderr and "recording" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """``tmp_path/blocker``: a plain file where the commands are told a folder is."""
    path = tmp_path / "blocker"
    path.write_text("not a folder\n")
    return path


@pytest.mark.parametrize(
    "where,needles",
    [
        ("blocker/eval.json", ["--json", "blocker is a file, not a folder"]),
        ("blocker/deeper/eval.json", ["--json", "cannot be created", "blocker is a file"]),
        ("a_folder", ["--json", "is a folder, not a file"]),
    ],
)
def test_evaluate_json_checked_before_any_game(
    run: Path, tmp_path: Path, blocker: Path, where: str, needles: list[str]
) -> None:
    (tmp_path / "a_folder").mkdir()
    before = _tree(tmp_path)
    proc = run_quiet("simple_game.evaluate", str(run), "--episodes", "30", "--json", str(tmp_path / where))
    _one_error_line(proc, *needles)
    assert _tree(tmp_path) == before and blocker.read_text() == "not a folder\n"


@pytest.mark.parametrize(
    "where,needles",
    [
        ("blocker/watch.mp4", ["--out", "blocker is a file, not a folder"]),
        ("blocker/deeper/watch.mp4", ["--out", "cannot be created", "blocker is a file"]),
        ("a_folder.mp4", ["--out", "is a folder, not a file"]),
    ],
)
def test_record_out_checked_before_playing(
    run: Path, tmp_path: Path, blocker: Path, where: str, needles: list[str]
) -> None:
    (tmp_path / "a_folder.mp4").mkdir()
    before = _tree(tmp_path)
    proc = run_quiet("simple_game.record", str(run), "--max-steps", "40", "--out", str(tmp_path / where))
    _one_error_line(proc, *needles)
    assert _tree(tmp_path) == before


def _copy_run(run: Path, tmp_path: Path) -> Path:
    """The tiny run without its videos/ folder (config, checkpoints, summary)."""
    copy = tmp_path / "runs" / run.name
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("videos", "tensorboard"))
    return copy


def test_record_default_folder_is_a_file(run: Path, tmp_path: Path) -> None:
    """The default ``<run>/videos/`` is a file: the error names it and suggests ``--out``."""
    copy = _copy_run(run, tmp_path)
    (copy / "videos").write_text("in the way\n")
    before = _tree(tmp_path)
    proc = run_quiet("simple_game.record", str(copy), "--max-steps", "40")
    line = _one_error_line(proc, "video", "videos is a file, not a folder", "--out")
    assert str(copy / "videos") in line
    assert _tree(tmp_path) == before


def test_record_default_folder_in_read_only_run(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A read-only run folder (no videos/ yet): refused before the env is made, nothing created.

    Permissions are simulated (``os.access`` says no for the run folder) so the test also holds
    when it runs as root, who may write anywhere.
    """
    import simple_game.outputs
    import simple_game.video
    from simple_game.cli.record import main

    copy = _copy_run(run, tmp_path)
    real_access = os.access
    monkeypatch.setattr(
        simple_game.outputs.os, "access", lambda p, mode: False if Path(p) == copy else real_access(p, mode)
    )

    def must_not_play(*args, **kwargs):
        raise AssertionError("open_session called although the output cannot be written")

    monkeypatch.setattr(simple_game.video, "open_session", must_not_play)
    before = _tree(tmp_path)
    assert main([str(copy), "--max-steps", "40"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: video "), err
    assert f"cannot be created: {copy} is not writable (permission denied)" in err[0] and "--out" in err[0]
    assert _tree(tmp_path) == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write into read-only folders")
def test_record_and_evaluate_refuse_a_read_only_folder(run: Path, tmp_path: Path) -> None:
    """The real permission check (without root): ``--json`` and ``--out`` into a read-only folder."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        proc = run_quiet("simple_game.evaluate", str(run), "--json", str(locked / "eval.json"))
        _one_error_line(proc, "--json", "not writable (permission denied)")
        proc = run_quiet("simple_game.record", str(run), "--out", str(locked / "sub" / "watch.mp4"))
        _one_error_line(proc, "--out", "not writable (permission denied)")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_record_prints_progress(run: Path, tmp_path: Path) -> None:
    """A headline, then ``game i/N: score ...`` per finished game and ``step i/N`` at the step limit."""
    out = tmp_path / "random.mp4"
    proc = run_quiet(
        "simple_game.record",
        str(run),
        "--random",
        "--episodes",
        "3",
        "--max-steps",
        "300",
        "--scale",
        "1",
        "--seed",
        "1",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "recording random policy on breakout: 3 games, at most 300 steps" in proc.stderr
    finished = re.findall(r"game (\d)/3: score ([\d.]+) \(([\d,]+) steps\)", proc.stderr)
    scores = re.search(r"game scores: (.*)$", proc.stdout.strip()).group(1)
    assert [score for _, score, _ in finished] == ([] if scores == "none finished" else scores.split(", "))
    assert [int(i) for i, _, _ in finished] == list(range(1, len(finished) + 1))
    assert sum(int(n.replace(",", "")) for _, _, n in finished) <= 300
    if len(finished) < 3:  # stopped by --max-steps: the last line says where
        assert re.search(rf"step 300/300: game {len(finished) + 1}, score", proc.stderr), proc.stderr
    assert out.exists() and "Traceback" not in proc.stderr


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no folder can be made")
@pytest.mark.parametrize("name", ["watch.mp4", "watch.gif"])
def test_record_into_a_folder_the_system_refuses(run: Path, name: str) -> None:
    """``/proc`` passes the permission check for root yet refuses ``mkdir``: still one line, exit 2.

    Whatever the machine refuses late (a folder that cannot be made, a full disk) reaches the
    user as ``error: <path>: <reason>``, not a Python traceback.
    """
    proc = run_quiet("simple_game.record", str(run), "--max-steps", "20", "--out", f"/proc/simple-game-test/{name}")
    assert proc.returncode == 2, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert "Traceback" not in proc.stderr and len(errors) == 1, proc.stderr
    assert "/proc/simple-game-test" in errors[0], errors[0]
