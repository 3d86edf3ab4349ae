"""`simple_game.record` and training-time videos: MP4s that decode, with the expected frames and size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tiny_runs import FRAME_CAP_STEPS, run_quiet, tiny_ppo_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_ppo_run(tmp_path_factory)


def _decode(path: Path) -> tuple[int, tuple[int, int], float]:
    """Frame count, (width, height) and fps, read back with imageio's ffmpeg."""
    import imageio.v2 as imageio

    reader = imageio.get_reader(str(path), format="FFMPEG")
    try:
        frames = sum(1 for _ in reader)
        meta = reader.get_meta_data()
        first = reader.get_data(0)
    finally:
        reader.close()
    assert first.shape == (meta["size"][1], meta["size"][0], 3)
    return frames, tuple(meta["size"]), meta["fps"]


def test_record_checkpoint(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "watch.mp4"
    proc = run_quiet("simple_game.record", str(run), "--max-steps", "40", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "40 frames" in proc.stdout
    frames, size, fps = _decode(out)
    # 210x160 screen x3 = 630x480, plus a 42-pixel strip: 672 = 42 x 16.
    assert frames == 40 and size == (480, 672) and fps == pytest.approx(15.0)
    assert [p.name for p in tmp_path.iterdir()] == ["watch.mp4"]  # no temporary file left


def test_record_gif_for_a_readme(run: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "watch.gif"
    proc = run_quiet("simple_game.record", str(run), "--max-steps", "30", "--scale", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    with Image.open(out) as gif:
        # one frame per agent step (the strip's step counter makes every frame differ), looping,
        # 70 ms a frame (15 fps in whole hundredths); 210 + a 46-pixel strip = 256 = 16 x 16
        assert gif.format == "GIF" and gif.n_frames == 30 and gif.size == (160, 256)
        assert gif.info["duration"] == 70 and gif.info["loop"] == 0
        gif.seek(29)
        colours = gif.convert("RGB").getcolors(maxcolors=4096)
        assert colours is not None and len(colours) > 5  # a real screen, not a blank frame
    assert [p.name for p in tmp_path.iterdir()] == ["watch.gif"]  # no temporary file left

    # a GIF is held in memory until written: one too long for that is refused before playing
    too_long = tmp_path / "long.gif"
    proc = run_quiet("simple_game.record", str(run), "--max-steps", "27000", "--out", str(too_long))
    assert proc.returncode == 2 and "would hold 8.1 GB in memory" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not too_long.exists()


def test_record_random_whole_game_default_path(run: Path) -> None:
    proc = run_quiet(
        "simple_game.record",
        str(run),
        "--random",
        "--episodes",
        "1",
        "--scale",
        "2",
        "--seed",
        "1",
        "--max-steps",
        "5000",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    match = re.search(r"wrote (\S+\.mp4): (\d+) frames .*game scores: ([\d.]+)", proc.stdout)
    assert match, proc.stdout
    path = Path(match.group(1))
    assert path.parent == run / "videos" and path.name.startswith("random_")
    frames, size, _ = _decode(path)
    # One frame per agent step of one whole game (capped at 2,000 emulator frames in this run).
    assert frames == int(match.group(2)) and 0 < frames <= FRAME_CAP_STEPS
    assert size == (320, 464)  # 420 + a 44-pixel strip = 464 = 29 x 16


def test_training_videos(run: Path) -> None:
    """video.freq=128, video.max_steps=20 in the tiny run: one 20-frame video per 128 steps."""
    videos = sorted(p.name for p in (run / "videos").glob("step_*.mp4"))
    assert videos == ["step_128.mp4", "step_256.mp4"]
    frames, size, _ = _decode(run / "videos" / "step_256.mp4")
    assert frames == 20 and size == (480, 672)


def test_record_errors(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from simple_game.cli.record import main

    assert main([str(run), "--out", str(tmp_path / "x.avi")]) == 2
    assert "must end in .mp4 or .gif" in capsys.readouterr().err
    assert main([str(tmp_path / "missing_run")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert main([str(run), "--checkpoint", "skill_level_1"]) == 2
    assert "no 'skill_level_1' checkpoint" in capsys.readouterr().err
