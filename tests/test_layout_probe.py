"""channels_last: auto on CPU: both layouts timed on the run's own network, once, then cached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import simple_game.compute as compute
from simple_game.compute import apply_compute, feature_extractors
from simple_game.config import ComputeConfig
from simple_game.layout_probe import probe_key
from test_compute import _ppo


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIMPLE_GAME_CACHE_DIR", str(tmp_path))
    return tmp_path / "layout_probe.json"


def _conv_is_nhwc(model) -> bool:
    conv = next(m for m in model.policy.modules() if isinstance(m, torch.nn.Conv2d))
    return conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_training_times_both_layouts_once_then_reads_the_cache(cache: Path) -> None:
    model = _ppo()
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}
    applied = apply_compute(model, ComputeConfig(), "cpu", probe_layout=True)
    assert "measured now" in applied["channels_last"], applied
    assert all(torch.equal(before[k], v) for k, v in model.policy.state_dict().items())  # timed on copies
    ((key, entry),) = json.loads(cache.read_text()).items()
    assert entry["nhwc_ms"] > 0 and entry["nchw_ms"] > 0
    assert "float32" in key and "SimpleNatureCNN 4x84x84 -> 512" in key and "batch 16" in key
    again = apply_compute(_ppo(), ComputeConfig(), "cpu", probe_layout=True)
    assert "cached" in again["channels_last"]
    nhwc_wins = entry["nchw_ms"] >= 0.97 * entry["nhwc_ms"]
    assert again["channels_last"].startswith("on" if nhwc_wins else "off")


def test_a_measured_faster_nchw_keeps_the_weights_nchw(cache: Path) -> None:
    """As measured on an AVX512-BF16 EPYC (54 ms NCHW against 64 NHWC): the faster layout is kept."""
    model = _ppo()
    key = probe_key(feature_extractors(model)[0], 16, bf16=False)
    cache.write_text(json.dumps({key: {"nhwc_ms": 64.0, "nchw_ms": 54.0}}))
    applied = apply_compute(model, ComputeConfig(), "cpu", probe_layout=True)
    assert applied["channels_last"] == "off (auto: NHWC 64 ms vs NCHW 54 ms on this CPU, cached)"
    assert not feature_extractors(model)[0].channels_last and not _conv_is_nhwc(model)
    # Asked for explicitly, NHWC is used; evaluation (no probe) takes NHWC, float32's faster layout everywhere.
    assert apply_compute(_ppo(), ComputeConfig(channels_last="on"), "cpu", probe_layout=True)["channels_last"] == "on"
    plain = _ppo()
    assert apply_compute(plain, ComputeConfig(), "cpu")["channels_last"] == "on" and _conv_is_nhwc(plain)


def test_bf16_has_its_own_verdict(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compute, "native_bf16", lambda kind: kind == "cpu")  # as on an AVX512-BF16 CPU
    extractor = feature_extractors(_ppo())[0]
    entries = {
        probe_key(extractor, 16, bf16=True): {"nhwc_ms": 64.0, "nchw_ms": 54.0},
        probe_key(extractor, 16, bf16=False): {"nhwc_ms": 80.0, "nchw_ms": 105.0},
    }
    cache.write_text(json.dumps(entries))
    bf16 = apply_compute(_ppo(), ComputeConfig(bf16=True), "cpu", probe_layout=True)
    assert bf16["bf16"].startswith("on") and bf16["channels_last"].startswith("off (auto: NHWC 64 ms vs NCHW 54 ms")
    fp32 = apply_compute(_ppo(), ComputeConfig(), "cpu", probe_layout=True)
    assert fp32["channels_last"].startswith("on (auto: NHWC 80 ms vs NCHW 105 ms")


def test_an_unreadable_cache_is_measured_again_and_rewritten(cache: Path) -> None:
    cache.write_text("{half a file")
    applied = apply_compute(_ppo(), ComputeConfig(), "cpu", probe_layout=True)
    assert "measured now" in applied["channels_last"]
    assert len(json.loads(cache.read_text())) == 1
