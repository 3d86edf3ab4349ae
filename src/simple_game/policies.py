"""Feature extractors for image observations.

:class:`SimpleNatureCNN` is the convolutional torso of the Nature DQN paper (Mnih et al.
2015): three convolutions that turn a stack of 84x84 frames into 512 features, shared by
the policy and value heads (PPO, A2C) or feeding the Q-value head (DQN, QR-DQN).

It computes exactly what SB3's ``NatureCNN`` computes, with the same parameter count, but it
is safe on Apple's MPS backend: the flattened size is computed with arithmetic instead of a
sample forward pass in ``__init__`` (which can crash or allocate on the wrong device), and
inputs are made contiguous float32 before the convolutions (MPS has no float64).

Two speed switches, set by :func:`simple_game.compute.apply_compute` and off by default, are
plain attributes (not parameters or buffers), so they never change the ``state_dict``:

* ``channels_last``: hand the input to the first convolution in NHWC memory format (the
  conv weights are converted by ``apply_compute``); same numbers, faster on CPU and CUDA.
* ``autocast_dtype``: run the convolutions and the linear layer under ``torch.autocast``
  with this dtype (``torch.bfloat16``); the output is cast back to float32, so the heads,
  the losses and the weights stay float32.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

if TYPE_CHECKING:  # gymnasium is imported by simple_game.envs only (the import-order rule)
    import gymnasium as gym

__all__ = ["SimpleNatureCNN", "conv_output_size"]

# (out_channels, kernel, stride) of the three Nature convolutions.
NATURE_CONVS = ((32, 8, 4), (64, 4, 2), (64, 3, 1))


def conv_output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Spatial size after one convolution: floor((size + 2p - k) / s) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


class SimpleNatureCNN(BaseFeaturesExtractor):
    """Nature DQN CNN: 3 conv layers + a 512-unit linear layer, channel-first input.

    :param observation_space: a channel-first image Box, e.g. ``(4, 84, 84)`` for 4 stacked frames.
    :param features_dim: size of the output feature vector.
    :param normalized_image: set True if observations are already scaled to [0, 1].
    """

    # Speed switches (see the module docstring); class-level defaults, so instances unpickled
    # from older versions have them too.
    channels_last: bool = False
    autocast_dtype: Optional[torch.dtype] = None

    def __init__(
        self, observation_space: gym.spaces.Box, features_dim: int = 512, normalized_image: bool = False
    ) -> None:
        super().__init__(observation_space, features_dim)
        shape = observation_space.shape
        if shape is None or len(shape) != 3:
            raise ValueError(f"SimpleNatureCNN needs a (channels, height, width) image space, got shape {shape}")
        channels, height, width = shape
        layers: list[nn.Module] = []
        in_channels = channels
        for out_channels, kernel, stride in NATURE_CONVS:
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size=kernel, stride=stride), nn.ReLU()]
            in_channels = out_channels
            height, width = conv_output_size(height, kernel, stride), conv_output_size(width, kernel, stride)
        if height < 1 or width < 1:
            raise ValueError(f"image {shape[1]}x{shape[2]} is too small for the Nature CNN (needs at least 36x36)")
        layers.append(nn.Flatten())
        self.cnn = nn.Sequential(*layers)
        self.n_flatten = in_channels * height * width
        self.linear = nn.Sequential(nn.Linear(self.n_flatten, features_dim), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        x = observations.to(dtype=torch.float32)
        # MPS (and the default): plain contiguous float32.
        x = x.contiguous(memory_format=torch.channels_last) if self.channels_last else x.contiguous()
        if self.autocast_dtype is None:
            return self.linear(self.cnn(x))
        with torch.autocast(device_type=x.device.type, dtype=self.autocast_dtype):
            features = self.linear(self.cnn(x))
        return features.float()
