"""Which convolution memory layout is faster for this network on this CPU: measured once, remembered.

A convolution reads its input either as NCHW (channels outermost, PyTorch's default) or NHWC
("channels-last", where the channels of one pixel sit side by side, the order vectorised
kernels like). Which one oneDNN runs faster depends on the chip and the precision, and the
measurements disagree between CPUs of the same cloud (one PPO minibatch update, frame stack 4,
``bench/train_throughput.py --update-step``):

=========================  ===========  ===========
CPU                        float32      native bf16
=========================  ===========  ===========
AMD EPYC, AVX2 only        NHWC 150 ms  (emulated)
                           NCHW 175 ms
AMD EPYC, AVX512-BF16      NHWC 91 ms   NHWC 64 ms
                           NCHW 120 ms  NCHW 54 ms
Intel Xeon, AVX512-BF16    NHWC 80 ms   NHWC 42 ms
                           NCHW 105 ms  NCHW 48 ms
=========================  ===========  ===========

So no fixed rule is right everywhere. On CPU, ``compute.channels_last: auto`` times one
forward and backward pass of a copy of the run's own feature extractor, on a minibatch of the
run's own size, in both layouts (a warm-up each, then three interleaved rounds, the median),
and keeps NHWC unless NCHW is more than 3 % faster. That takes a second or two, once: the
verdict is cached in ``~/.cache/simple-game/layout_probe.json`` (``$XDG_CACHE_HOME``, or
``$SIMPLE_GAME_CACHE_DIR`` when set), keyed by the CPU, torch's version and CPU capability, the
thread count, the precision, the network and the batch size. Delete the file to measure again.

The layout changes how the convolutions compute, not what: results are equal to rounding, and
checkpoints are the same either way (:mod:`simple_game.compute`).
"""

from __future__ import annotations

import copy
import json
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from simple_game.fsio import atomic_write_json, locked

__all__ = ["LayoutVerdict", "cache_path", "faster_layout", "probe_key"]

ROUNDS = 3
NCHW_MARGIN = 0.97  # NCHW must be >3 % faster to win: NHWC was the faster layout in most measurements
MAX_PROBE_BATCH = 256  # a larger minibatch only makes the probe slower, not its verdict clearer


@dataclass(frozen=True)
class LayoutVerdict:
    """The measured layouts (median ms of one forward + backward pass) and the one chosen."""

    channels_last: bool
    nhwc_ms: float
    nchw_ms: float
    cached: bool

    def describe(self) -> str:
        source = "cached" if self.cached else "measured now"
        return f"auto: NHWC {self.nhwc_ms:.0f} ms vs NCHW {self.nchw_ms:.0f} ms on this CPU, {source}"


def cache_path() -> Path:
    """Where verdicts are remembered, one JSON object for every machine and network seen."""
    root = os.environ.get("SIMPLE_GAME_CACHE_DIR")
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "simple-game")
    return Path(root) / "layout_probe.json"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def probe_key(extractor: torch.nn.Module, batch: int, bf16: bool) -> str:
    """Everything the verdict depends on. Cloud CPUs share model names across feature sets,
    so torch's view of the CPU (its vector capability, native bf16) is part of the key."""
    shape = "x".join(str(d) for d in _observation_shape(extractor))
    capability = torch.backends.cpu.get_cpu_capability()
    return " | ".join(
        [
            _cpu_name(),
            capability,
            f"torch {torch.__version__}",
            f"threads {torch.get_num_threads()}",
            "bf16" if bf16 else "float32",
            f"{type(extractor).__name__} {shape} -> {getattr(extractor, 'features_dim', '?')}",
            f"batch {min(batch, MAX_PROBE_BATCH)}",
        ]
    )


def _observation_shape(extractor: torch.nn.Module) -> tuple[int, ...]:
    space: Any = getattr(
        extractor, "_observation_space", None
    )  # BaseFeaturesExtractor keeps the space it was built for
    return tuple(int(d) for d in getattr(space, "shape", None) or ())


def _step(module: torch.nn.Module, x: torch.Tensor) -> float:
    """One forward and backward pass, as a minibatch update runs it; seconds."""
    module.zero_grad(set_to_none=True)
    start = time.perf_counter()
    module(x).square().mean().backward()
    return time.perf_counter() - start


def _measure(extractor: torch.nn.Module, batch: int, bf16: bool) -> tuple[float, float]:
    """Median ms of (NHWC, NCHW), timed on copies: the run's own network is not touched."""
    nchw = copy.deepcopy(extractor)
    nhwc = copy.deepcopy(extractor).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    for module, flag in ((nchw, False), (nhwc, True)):
        module.channels_last = flag
        module.autocast_dtype = torch.bfloat16 if bf16 else None
    shape = (min(batch, MAX_PROBE_BATCH), *_observation_shape(extractor))
    x = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    times: dict[bool, list[float]] = {True: [], False: []}
    with torch.enable_grad():
        _step(nchw, x)  # warm-up: oneDNN picks and caches its kernels
        _step(nhwc, x)
        for _ in range(ROUNDS):  # interleaved, so a drift in machine speed hits both layouts
            times[False].append(_step(nchw, x))
            times[True].append(_step(nhwc, x))
    return statistics.median(times[True]) * 1e3, statistics.median(times[False]) * 1e3


def _read(path: Path) -> dict[str, dict[str, float]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or unreadable: measure again, then rewrite it whole
    return data if isinstance(data, dict) else {}


def faster_layout(extractor: torch.nn.Module, batch: int, bf16: bool) -> LayoutVerdict:
    """Whether this CPU runs ``extractor`` (a :class:`~simple_game.policies.SimpleNatureCNN`)
    faster channels-last, from the cache or measured now and cached."""
    key, path = probe_key(extractor, batch, bf16), cache_path()
    entry = _read(path).get(key)
    if isinstance(entry, dict) and {"nhwc_ms", "nchw_ms"} <= entry.keys():
        nhwc_ms, nchw_ms, cached = float(entry["nhwc_ms"]), float(entry["nchw_ms"]), True
    else:
        nhwc_ms, nchw_ms = _measure(extractor, batch, bf16)
        cached = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with locked(path):  # two runs starting together keep each other's entries
                data = _read(path)
                data[key] = {"nhwc_ms": round(nhwc_ms, 2), "nchw_ms": round(nchw_ms, 2)}
                atomic_write_json(path, data)
        except Exception:  # noqa: BLE001 - a read-only home costs a re-measure next time, nothing more
            pass
    return LayoutVerdict(nchw_ms >= NCHW_MARGIN * nhwc_ms, nhwc_ms, nchw_ms, cached)
