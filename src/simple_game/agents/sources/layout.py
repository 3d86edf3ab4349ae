"""What an agent sees: frame stack, screen size and channel order, read from its observation shape.

An Atari agent's network takes the last few screens, shrunk to a square grayscale image and
stacked into channels: ``(4, 84, 84)`` for the usual DeepMind preprocessing with four frames.
SB3 always stores image spaces channel-first: whatever the training script stacked (``VecFrameStack``
gives channel-last ``(84, 84, 4)``), ``BaseAlgorithm`` wrapped it in ``VecTransposeImage``
before building the network. So the saved shape says the frame stack and the screen size,
and simple-game builds its env to give exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from simple_game.errors import SimpleGameError

# simple-game's env accepts these (config/schema.py: EnvConfig.frame_stack and screen_size).
MAX_FRAME_STACK = 16
SCREEN_SIZES = range(36, 257)


@dataclass(frozen=True)
class ObservationLayout:
    """``frame_stack`` grayscale frames of ``screen_size`` x ``screen_size`` pixels, channel first."""

    frame_stack: int
    screen_size: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.frame_stack, self.screen_size, self.screen_size)


def observation_layout(
    path: Path, shape: tuple[int, ...], dtype: str = "uint8", *, zoo_frame_stack: Optional[int] = None
) -> ObservationLayout:
    """The layout behind a saved observation shape, or one line saying why no Atari env gives it.

    ``zoo_frame_stack`` (the RL Zoo's ``frame_stack``) tells grayscale stacks from colour ones:
    4 stacked RGB frames are 12 channels.
    """
    shape = tuple(int(n) for n in shape)
    if len(shape) != 3 or dtype != "uint8":
        raise SimpleGameError(
            f"{path}: the agent sees observations of shape {shape} ({dtype}), not stacked Atari frames "
            "(simple-game's agents see uint8 (frames, 84, 84))"
        )
    channels, height, width = shape
    if height != width and shape[0] == shape[1]:
        raise SimpleGameError(
            f"{path}: the agent's observations {shape} are channel-last; SB3 stores image spaces "
            "channel-first, so this network was not built by SB3's CnnPolicy and cannot be matched"
        )
    if height != width:
        raise SimpleGameError(
            f"{path}: the agent sees {height}x{width} frames; simple-game's envs make square frames "
            "(env.screen_size), so this screen size cannot be matched"
        )
    if zoo_frame_stack and channels == 3 * zoo_frame_stack:
        raise SimpleGameError(
            f"{path}: the agent sees {zoo_frame_stack} colour frames ({channels} channels); "
            "simple-game's envs give grayscale frames"
        )
    if zoo_frame_stack and channels != zoo_frame_stack:
        raise SimpleGameError(
            f"{path}: the agent's observations have {channels} channels, but its config.yml says frame_stack "
            f"{zoo_frame_stack}"
        )
    if not 1 <= channels <= MAX_FRAME_STACK or height not in SCREEN_SIZES:
        raise SimpleGameError(
            f"{path}: the agent sees {channels} frames of {height}x{width}; simple-game's envs stack 1 to "
            f"{MAX_FRAME_STACK} frames of {SCREEN_SIZES.start} to {SCREEN_SIZES.stop - 1} pixels"
        )
    return ObservationLayout(frame_stack=channels, screen_size=height)
