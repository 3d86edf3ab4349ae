"""compute.heap_reuse: big freed blocks are reused, not page-faulted in again (simple_game/heap.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import simple_game.config.schema as schema
from conftest import CONFIGS, REPO, cli_env
from simple_game.config import ConfigError, load_config
from simple_game.heap import heap_reuse_supported

# In a fresh process (the setting is process-wide): apply compute.heap_reuse as training does,
# then divide a PPO minibatch of frame-stack-8 observations (256x8x84x84 float32, 58 MB) by 255
# ten times, as SB3's preprocess_obs does, and count the minor page faults that took.
PROBE = """
import json, resource, sys
import gymnasium as gym, numpy as np, torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv
from simple_game.compute import apply_compute
from simple_game.config import ComputeConfig

class Env(gym.Env):
    observation_space = gym.spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
    action_space = gym.spaces.Discrete(4)
    def reset(self, *, seed=None, options=None):
        return self.observation_space.sample(), {}
    def step(self, action):
        return self.observation_space.sample(), 0.0, False, False, {}

model = PPO("CnnPolicy", DummyVecEnv([Env]), n_steps=8, batch_size=8, device="cpu")
applied = apply_compute(model, ComputeConfig(heap_reuse=sys.argv[1], channels_last="off"), "cpu")
x = torch.rand(256, 8, 84, 84)
y = x / 255.0
del y
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    y = x / 255.0
    del y
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"applied": applied["heap_reuse"], "faults": faults}))
"""


def _probe(mode: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=cli_env(), cwd=REPO, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not heap_reuse_supported(), reason="heap reuse tunes glibc's malloc (Linux)")
def test_heap_reuse_stops_big_tensors_from_page_faulting_again() -> None:
    off, auto = _probe("off"), _probe("auto")
    assert off["applied"] == "off" and auto["applied"] == "on"
    # 58 MB in 4 KB pages is ~14,000 faults per fresh block: glibc's default maps each result anew.
    assert off["faults"] > 10 * 10_000, off
    # Reused: a block that fits is taken from the heap. Not every one fits (torch asks for
    # 64-byte-aligned blocks, which glibc pads), so some still come fresh: measured 3-5x fewer.
    assert auto["faults"] < off["faults"] / 2, (auto, off)


def test_heap_reuse_on_is_refused_where_malloc_is_not_glibcs(write_yaml, monkeypatch) -> None:
    monkeypatch.setattr(schema, "heap_reuse_supported", lambda: False)
    path = write_yaml(f"extends: {CONFIGS}/smoke.yaml\ncompute:\n  heap_reuse: 'on'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "compute.heap_reuse" in message and "glibc" in message, message
    assert "\n" not in message
    # auto and off stay valid there: auto reports what it could not do.
    assert load_config(path, overrides=["compute.heap_reuse=auto"]).compute.heap_reuse == "auto"
