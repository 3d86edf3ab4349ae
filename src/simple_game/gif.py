"""Animated GIFs of gameplay: what a README can show inline (GitHub plays GIFs, not MP4 files)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from simple_game.errors import SimpleGameError
from simple_game.fsio import TEMP_SUFFIX


class AtomicGifWriter:
    """An animated GIF, for a README (GitHub plays GIFs inline, not MP4s), written whole at the end.

    GIF frames are palette images: each frame is reduced to its own 256-colour palette as it
    arrives and kept at one byte per pixel until :meth:`commit` writes the file to a
    temporary name and renames it. GIF delays are whole hundredths of a second, so 15 fps
    becomes 70 ms a frame (14.3 fps, 5 % slower than the game). An Atari screen has at most 128
    colours, but with the strip's anti-aliased text a frame has ~450: measured on Breakout,
    Ms. Pac-Man and Seaquest frames, the screen comes out within 1 of 255 per channel, the text
    within 15.
    """

    def __init__(self, path: Path, fps: float):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self.frames = 0
        self.size: Optional[tuple[int, int]] = None
        self._images: list[Image.Image] = []
        self.tmp: Optional[Path] = None

    def append(self, frame: np.ndarray) -> None:
        image = Image.fromarray(frame).quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        self._images.append(image)
        self.size = (frame.shape[1], frame.shape[0])
        self.frames += 1

    def commit(self) -> None:
        if self.frames == 0:
            raise SimpleGameError(f"{self.path}: no frames to write")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f"{TEMP_SUFFIX}.gif", dir=self.path.parent)
        self.tmp = Path(tmp)
        with os.fdopen(fd, "wb") as fh:
            first, *rest = self._images
            first.save(fh, format="GIF", save_all=True, append_images=rest, duration=gif_delay_ms(self.fps), loop=0)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(self.tmp, 0o644)
        os.replace(self.tmp, self.path)
        self._images.clear()

    def abort(self) -> None:
        self._images.clear()
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                self.tmp.unlink()


def gif_delay_ms(fps: float) -> int:
    """The frame delay a GIF can store for ``fps``: a whole number of hundredths of a second (at least 2)."""
    return max(20, int(round(100 / fps)) * 10)
