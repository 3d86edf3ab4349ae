"""Gameplay videos: full-colour Atari frames with an information strip, written as MP4 or GIF.

The agent sees 84x84 grayscale stacks; people want the real 210x160 colour screen. The env is
made with ``render_mode="rgb_array"`` and each agent step contributes one video frame: the
screen the agent is looking at when it acts, enlarged ``scale`` times (nearest neighbour, so
pixels stay sharp), above a strip showing the step, emulator frame, action, reward, score and
lives. With frame skip 4, one agent step is 4 emulator frames, so the video plays at
60 / 4 = 15 frames per second to run at the game's real speed.

The MP4 is encoded with imageio's bundled ffmpeg (``imageio-ffmpeg``: no system ffmpeg
needed) into a temporary file that is renamed when complete. Frame width and height are kept
multiples of 16, which H.264 encoders want (no silent resizing). An ``--out`` ending in ``.gif``
is written as an animated GIF instead (:class:`AtomicGifWriter`), for a README.

:func:`record_video` plays and writes with any env and actor (the training-time video callback
uses it); :func:`record_target` is the ``record`` command's library side: it checks where the
video will go, opens the target's agent in a rendering env, records it and reports progress
on stderr (a line per finished game, and one every :data:`PROGRESS_EVERY` agent steps).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, cast

import imageio.v2 as imageio
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from rich.console import Console

from simple_game.envs import action_meanings
from simple_game.errors import SimpleGameError
from simple_game.evaluation import Target, open_session
from simple_game.fsio import TEMP_SUFFIX
from simple_game.gif import AtomicGifWriter
from simple_game.outputs import check_writable_file

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env import VecEnv

MACRO_BLOCK = 16
ATARI_FPS = 60
PROGRESS_EVERY = 1_000  # agent steps between record's "step i/N" lines (a whole game can last 27,000)

OnEpisode = Callable[[int, float, int], None]  # (game number from 1, its score, its length in agent steps)
OnStep = Callable[[int, int, float], None]  # (agent steps played, current game number, its score so far)


@dataclass
class VideoResult:
    path: Path
    frames: int
    width: int
    height: int
    fps: float
    scores: list[float] = field(default_factory=list)  # finished games only
    steps: int = 0


def strip_height(scale: int, screen_height: int = 210, minimum: int = 40) -> int:
    """Height of the text strip so that the whole frame is a multiple of 16 pixels high."""
    height = max(minimum, 14 * scale)
    while (screen_height * scale + height) % MACRO_BLOCK:
        height += 1
    return height


class Overlay:
    """Draws the enlarged screen and the information strip below it."""

    def __init__(self, scale: int = 3, label: str = ""):
        if scale < 1:
            raise SimpleGameError(f"--scale: must be at least 1, got {scale}")
        self.scale = int(scale)
        self.label = label
        self.font_size = {1: 8, 2: 12}.get(self.scale, 15)  # scale 1: the 160-pixel-wide strip
        self.font = ImageFont.load_default(size=self.font_size)

    def frame_shape(self, screen_shape: tuple[int, ...] = (210, 160)) -> tuple[int, int]:
        """(height, width) of a composed frame: the enlarged screen, padded to 16, above the strip."""
        height, width = screen_shape[0] * self.scale, screen_shape[1] * self.scale
        return height + strip_height(self.scale, screen_shape[0]), width + (-width) % MACRO_BLOCK

    def compose(self, screen: np.ndarray, lines: tuple[str, str]) -> np.ndarray:
        big = np.repeat(np.repeat(screen, self.scale, axis=0), self.scale, axis=1)
        height = big.shape[0]
        frame_h, frame_w = self.frame_shape(screen.shape)
        canvas = Image.new("RGB", (frame_w, frame_h), (16, 16, 16))
        canvas.paste(Image.fromarray(big), (0, 0))
        draw = ImageDraw.Draw(canvas)
        rows = (height + 3, height + 3 + self.font_size + 4)
        draw.text((6, rows[0]), lines[0], fill=(235, 235, 235), font=self.font)
        draw.text((6, rows[1]), lines[1], fill=(255, 214, 102), font=self.font)
        if self.label:  # right-aligned on the first line it does not overlap; left out where none has room
            left = canvas.width - 6 - draw.textlength(self.label, font=self.font)
            for y, line in zip(rows, lines, strict=True):
                if left >= 6 + draw.textlength(line, font=self.font) + 12:
                    draw.text((left, y), self.label, fill=(140, 180, 255), font=self.font)
                    break
        return np.asarray(canvas)


class AtomicVideoWriter:
    """An MP4 writer that produces ``path`` only once the video is complete."""

    def __init__(self, path: Path, fps: float):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f"{TEMP_SUFFIX}.mp4", dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self.frames = 0
        self.size: Optional[tuple[int, int]] = None
        self.fps = fps
        self._writer = imageio.get_writer(
            str(self.tmp),
            format="FFMPEG",
            mode="I",
            fps=fps,
            codec="libx264",
            pixelformat="yuv420p",
            macro_block_size=MACRO_BLOCK,
            ffmpeg_log_level="error",
            quality=7,
        )

    def append(self, frame: np.ndarray) -> None:
        self._writer.append_data(frame)
        self.size = (frame.shape[1], frame.shape[0])
        self.frames += 1

    def commit(self) -> None:
        self._writer.close()
        if self.frames == 0:
            self.abort()
            raise SimpleGameError(f"{self.path}: no frames to write")
        with open(self.tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(self.tmp, 0o644)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()


GIF_MAX_BYTES = 2 * 1024**3  # a GIF is held in memory (1 byte per pixel) until it is written


def open_video_writer(
    path: Path, fps: float, max_frames: int, frame_shape: tuple[int, int]
) -> AtomicVideoWriter | AtomicGifWriter:
    """An MP4 or GIF writer for ``path``, by its suffix; a GIF too long to hold in memory is refused."""
    if Path(path).suffix.lower() != ".gif":
        return AtomicVideoWriter(path, fps)
    need = max_frames * frame_shape[0] * frame_shape[1]
    if need > GIF_MAX_BYTES:
        raise SimpleGameError(
            f"{path}: a GIF of up to {max_frames:,} frames of {frame_shape[1]}x{frame_shape[0]} would hold "
            f"{need / 1024**3:.1f} GB in memory (limit {GIF_MAX_BYTES / 1024**3:.0f}); "
            "lower --max-steps or --scale, or write an .mp4"
        )
    return AtomicGifWriter(path, fps)


RENDER_HINT = "recording needs an SB3 vector env made with render_mode='rgb_array' (not the ale_vector backend)"


def _ale(env: VecEnv) -> Any:
    """The emulator of the first env of an SB3 ``DummyVecEnv`` stack (for lives and frame number)."""
    inner = getattr(env, "unwrapped", env)
    envs = getattr(inner, "envs", None)
    if not envs:
        raise SimpleGameError(RENDER_HINT)
    return envs[0].unwrapped.ale


def _screen(env: VecEnv) -> np.ndarray:
    """The full-colour screen of the first env, as the agent is about to act on it."""
    screen = env.get_images()[0]
    if screen is None:
        raise SimpleGameError(RENDER_HINT)
    return screen


def _play(
    env: VecEnv,
    ale: Any,
    act: Callable[[np.ndarray], np.ndarray],
    overlay: Overlay,
    writer: AtomicVideoWriter | AtomicGifWriter,
    action_names: list[str],
    episodes: int,
    max_steps: int,
    on_episode: Optional[OnEpisode] = None,
    on_step: Optional[OnStep] = None,
) -> tuple[list[float], int]:
    """Play, writing one frame per agent step: (scores of the finished games, steps played)."""
    scores: list[float] = []
    score, episode, steps, game_start = 0.0, 1, 0, 0
    obs = cast(np.ndarray, env.reset())
    while steps < max_steps:
        screen = _screen(env)
        lives, frame_no = ale.lives(), ale.getEpisodeFrameNumber()
        action = act(obs)
        step_obs, rewards, dones, infos = env.step(action)
        obs = cast(np.ndarray, step_obs)
        reward = float(rewards[0])
        score += reward
        steps += 1
        name = action_names[int(action[0])] if int(action[0]) < len(action_names) else str(int(action[0]))
        lines = (
            f"game {episode}/{episodes}  step {steps:,}  frame {frame_no:,}  lives {lives}",
            f"action {name:<10} reward {reward:+g}  score {score:g}",
        )
        writer.append(overlay.compose(screen, lines))
        if on_step is not None:
            on_step(steps, episode, score)
        if dones[0]:
            episode_info = infos[0].get("episode")
            scores.append(float(episode_info["r"]) if episode_info else score)
            if on_episode is not None:
                on_episode(episode, scores[-1], steps - game_start)
            if episode >= episodes:
                break
            episode, score, game_start = episode + 1, 0.0, steps
    return scores, steps


def record_video(
    env: VecEnv,
    act: Callable[[np.ndarray], np.ndarray],
    out: Path,
    *,
    action_names: list[str],
    episodes: int = 1,
    max_steps: int = 4_500,
    scale: int = 3,
    frame_skip: int = 4,
    label: str = "",
    on_episode: Optional[OnEpisode] = None,
    on_step: Optional[OnStep] = None,
) -> VideoResult:
    """Play up to ``episodes`` whole games (at most ``max_steps`` agent steps) and write an MP4 (or a GIF).

    ``env`` must be a one-env evaluation vector env made with ``render_mode="rgb_array"``
    (``make_vec_env(cfg.env, training=False, n_envs=1, render_mode="rgb_array")``); ``act`` maps
    a batch of observations to actions (e.g. :class:`~simple_game.evaluation.EpsilonGreedy`).
    The video has exactly one frame per agent step played. ``on_episode(i, score, length)`` is
    called as game ``i`` ends, ``on_step(steps, game, score)`` after every agent step.
    """
    if env.num_envs != 1:
        raise SimpleGameError("record_video plays one game at a time (n_envs=1)")
    if episodes < 1 or max_steps < 1:
        raise SimpleGameError("--episodes and --max-steps must be at least 1")
    ale = _ale(env)
    overlay = Overlay(scale, label)
    fps = ATARI_FPS / frame_skip
    writer = open_video_writer(out, fps, max_steps, overlay.frame_shape())  # every ALE screen is 210x160
    try:
        scores, steps = _play(env, ale, act, overlay, writer, action_names, episodes, max_steps, on_episode, on_step)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    width, height = writer.size or (0, 0)
    return VideoResult(Path(out), writer.frames, width, height, fps, scores, steps)


def default_video_path(target: Target) -> Path:
    """``<run>/videos/<checkpoint>_<timestamp>.mp4`` (``videos/`` here without a run)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = target.run.videos_dir if target.run is not None else Path("videos")
    return folder / f"{target.label}_{stamp}.mp4"


def check_video_path(out: Optional[Path], target: Target) -> Path:
    """Where the video goes (``out``, else :func:`default_video_path`), checked before anything is played.

    A folder where the file should be, a parent that is a file, or a folder that cannot be
    written is one :class:`SimpleGameError` line; nothing is created.
    """
    if out is not None:
        return check_writable_file(Path(out), "--out")
    out = default_video_path(target)
    try:
        return check_writable_file(out, "video")
    except SimpleGameError as exc:
        raise SimpleGameError(f"{exc}; record elsewhere with --out FILE.mp4") from None


def _progress_lines(console: Console, episodes: int, max_steps: int) -> tuple[OnEpisode, OnStep]:
    """``record``'s progress: ``game i/N: score S (L steps)`` as each game ends, and ``step i/N`` lines."""

    def on_episode(i: int, score: float, length: int) -> None:
        console.print(f"  game {i}/{episodes}: score {score:g} ({length:,} steps)", highlight=False)

    def on_step(steps: int, episode: int, score: float) -> None:
        if steps % PROGRESS_EVERY == 0 or steps == max_steps:
            console.print(f"  step {steps:,}/{max_steps:,}: game {episode}, score {score:g}", highlight=False)

    return on_episode, on_step


def record_target(
    target: Target,
    out: Optional[Path] = None,
    *,
    episodes: int = 1,
    max_steps: Optional[int] = None,
    epsilon: float,
    deterministic: bool,
    seed: int = 0,
    scale: int = 3,
    device: str = "cpu",
    console: Optional[Console] = None,
) -> VideoResult:
    """Record ``target``'s agent (or the random policy) playing, as ``record`` does.

    ``out`` defaults to :func:`default_video_path`, ``max_steps`` to the config's
    ``video.max_steps``; the output is checked (:func:`check_video_path`) before the env is made.
    The strip's label names the game, the checkpoint and its training step. Progress goes to
    ``console`` (default: stderr): a line per finished game and one every :data:`PROGRESS_EVERY` steps.
    """
    cfg = target.cfg
    max_steps = max_steps if max_steps is not None else cfg.video.max_steps
    out = check_video_path(out, target)
    console = console or Console(stderr=True)
    label = f"{cfg.env.game} {target.label}" + (f" @ {target.step:,}" if target.step is not None else "")
    who = target.label if target.checkpoint is not None else "random policy"
    games = f"{episodes} game{'s' if episodes > 1 else ''}"
    console.print(f"recording [bold]{who}[/bold] on {cfg.env.game}: {games}, at most {max_steps:,} steps")

    on_episode, on_step = _progress_lines(console, episodes, max_steps)
    with open_session(
        target,
        n_envs=1,
        epsilon=epsilon,
        deterministic=deterministic,
        seed=seed,
        device=device,
        render_mode="rgb_array",
    ) as session:
        return record_video(
            session.env,
            session.act,
            out,
            action_names=action_meanings(cfg.env),
            episodes=episodes,
            max_steps=max_steps,
            scale=scale,
            frame_skip=cfg.env.frame_skip,
            label=label,
            on_episode=on_episode,
            on_step=on_step,
        )
