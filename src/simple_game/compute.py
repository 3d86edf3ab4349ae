"""Speed switches: channels-last, ``torch.compile``, bf16 autocast, threads, heap reuse.

    from simple_game.compute import apply_compute, describe_compute
    applied = apply_compute(model, cfg.compute, device)   # after build_model / load_model
    print(describe_compute(applied))                       # "compute: channels_last on | ..."

:func:`apply_compute` changes *how* the network computes, never *what* it stores:

* the ``state_dict`` keys and values are untouched, so a checkpoint saved with any option
  loads in a plain process (no compile, no bf16) and the other way round;
* the options live in plain attributes of the feature extractor (``channels_last``,
  ``autocast_dtype``) or in the module's in-place compiled call (``nn.Module.compile``), which
  pickling and ``copy.deepcopy`` drop; ``model.save`` and ``model.load`` work as before.

What each option does (measured effects: docs/performance.md, "Training throughput"):

``channels_last`` (``auto`` = on for cuda, off for mps; on cpu measured, see below)
    Convolution weights (and their optimizer state) are stored NHWC and
    :class:`~simple_game.policies.SimpleNatureCNN` hands its input to the first convolution
    NHWC, which is the layout oneDNN (CPU) and cuDNN (tensor cores) are usually fastest with.
    Any other feature extractor gets the weights converted only; PyTorch then runs its
    convolutions channels-last as well. Results equal float32 NCHW up to rounding (1e-5).
    On CPU which layout is faster depends on the chip and the precision (with native bf16 one
    AVX512-BF16 CPU measured NCHW faster, another NHWC), so training (``probe_layout=True``)
    times both on a copy of the run's network, once per machine, and keeps the faster
    (:mod:`simple_game.layout_probe`); evaluation and collection, which only run small forward
    passes, take NHWC, the faster layout in float32 on every CPU measured.
``compile`` (``auto`` = on for cuda when Triton is installed; off for cpu and mps)
    ``nn.Module.compile()`` in place on every feature extractor: the parameters and their
    names stay where they are. On CPU it is off by default because it was measured *not*
    faster here (see docs/performance.md) and costs 10-20 s of compilation per process;
    ``compile: on`` forces it. A compilation failure falls back to eager execution.
``bf16`` (opt-in)
    The feature extractor (the convolutions and the 3136x512 layer, ~95 % of the work)
    runs under ``torch.autocast(<device>, dtype=torch.bfloat16)`` in rollouts, evaluation
    and the ``train()`` update alike; its output is cast back to float32, so the policy
    and value heads, the losses, the optimizer and the stored weights stay float32 (bf16
    has float32's range: no GradScaler). On a CPU without native bf16 instructions
    (AVX512-BF16 or AMX) oneDNN emulates bf16 about ten times *slower* than float32, so
    there the option is reported and skipped. On MPS it is skipped (float32 only).
    Only :class:`~simple_game.policies.SimpleNatureCNN` implements it.
``threads``
    ``torch.set_num_threads(n)`` when ``n > 0``.
``heap_reuse`` (``auto`` = on where the C allocator is glibc's, i.e. Linux)
    Freed blocks over 32 MB stay in the process for the next allocation instead of going
    back to the kernel (:mod:`simple_game.heap`): PPO with frame stack 8 allocates several
    58 MB arrays per minibatch, and re-faulting them made its update 1.4x slower.

Always, on cpu and cuda: an ``Adam``/``AdamW`` optimizer (PPO, DQN, QR-DQN) is switched to
PyTorch's fused kernel (``fused=True``): the same update rule in one kernel instead of ~14
small ops per parameter tensor; 8 ms -> 0.8 ms per step for the Nature CNN on CPU, which is
10 % of a DQN update. Checkpoints are saved with ``fused: None`` (a state-dict hook), exactly
as a plain run saves them. Other optimizers (A2C's ``RMSpropTFLike``) are left alone.

CUDA also gets ``torch.backends.cudnn.benchmark = True`` (fixed input shapes). Pinned memory
is *not* used: SB3 gathers every minibatch with numpy fancy indexing into a fresh pageable
array, so pinning would add one more host copy per minibatch and save about as much as it
costs; the real fix (a rollout buffer that lives on the GPU) is out of scope.

MPS gets nothing device-specific: plain contiguous float32 (see :mod:`simple_game.device`).
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any, Optional

import torch
import torch._dynamo
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch.optim import optimizer as torch_optimizer

from simple_game.heap import set_heap_reuse
from simple_game.layout_probe import faster_layout
from simple_game.policies import SimpleNatureCNN

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

    from simple_game.config import ComputeConfig

__all__ = ["apply_compute", "describe_compute", "feature_extractors", "native_bf16"]


def _device_type(device: Any) -> str:
    """``'cuda:1'`` -> ``'cuda'``; also accepts a ``torch.device``."""
    return str(getattr(device, "type", device)).split(":", 1)[0]


def native_bf16(device_type: str) -> bool:
    """True when bf16 matrix multiplies and convolutions run natively (not emulated)."""
    if device_type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device_type != "cpu":
        return False
    try:  # what PyTorch itself checks before choosing oneDNN's bf16 kernels
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        cpu = getattr(torch, "cpu", None)
        return bool(
            cpu is not None
            and (
                getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
                or getattr(cpu, "_is_amx_tile_supported", lambda: False)()
            )
        )


def feature_extractors(model: BaseAlgorithm) -> list[torch.nn.Module]:
    """Every feature extractor of the policy (PPO/A2C: one or two; DQN/QR-DQN: online and target)."""
    return [m for m in model.policy.modules() if isinstance(m, BaseFeaturesExtractor)]


def _compile_available(device_type: str) -> tuple[bool, str]:
    if not hasattr(torch.nn.Module, "compile"):
        return False, "this PyTorch has no nn.Module.compile"
    if device_type == "cuda" and importlib.util.find_spec("triton") is None:
        return False, "Triton is not installed"
    return True, ""


def _channels_last_optimizer_state(optimizer: Optional[torch.optim.Optimizer]) -> None:
    """Give 4-D optimizer state (Adam moments of conv weights) the weights' memory format."""
    if optimizer is None:
        return
    for state in optimizer.state.values():
        for key, value in list(state.items()):
            if isinstance(value, torch.Tensor) and value.dim() == 4:
                state[key] = value.contiguous(memory_format=torch.channels_last)


def _unfused_state_dict(optimizer: Any, state_dict: dict[str, Any]) -> dict[str, Any]:
    """State-dict post-hook: save the optimizer as a plain (not fused) one would be saved."""
    for group in state_dict["param_groups"]:  # fresh dicts, safe to change
        group["fused"] = None
        group["foreach"] = None
    for key, value in list(state_dict["state"].items()):  # live dicts: copy before changing
        step = value.get("step")
        if isinstance(step, torch.Tensor) and step.device.type != "cpu":
            state_dict["state"][key] = {**value, "step": step.cpu()}
    return state_dict


def _fuse_adam(optimizer: Any, kind: str) -> str:
    """Switch an Adam/AdamW optimizer to the fused kernel; returns what was done."""
    if optimizer is None:
        return "none"
    name = type(optimizer).__name__
    if type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW) or kind not in ("cpu", "cuda"):
        return f"{name} (unchanged)"
    # A private PyTorch helper: which devices have fused optimizer kernels (absent in old versions).
    fused_devices = getattr(torch_optimizer, "_get_fused_kernels_supported_devices", list)
    supported = kind in fused_devices()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    if (
        not supported
        or not hasattr(optimizer, "register_state_dict_post_hook")
        or any(group.get("differentiable") for group in optimizer.param_groups)
        or any(not p.is_floating_point() or p.device.type != kind for p in params)
    ):
        return f"{name} (unchanged: fused kernel not available)"
    for group in optimizer.param_groups:
        group["foreach"] = None
        group["fused"] = True
    for param, state in optimizer.state.items():  # a loaded optimizer: fused wants float32 steps on the device
        step = state.get("step")
        if isinstance(step, torch.Tensor):
            state["step"] = step.to(device=param.device, dtype=torch.float32)
    if not getattr(optimizer, "_simple_game_unfused_hook", False):
        optimizer.register_state_dict_post_hook(_unfused_state_dict)
        optimizer._simple_game_unfused_hook = True
    return f"{name} fused"


def _set_threads(threads: int) -> str:
    if threads > 0:
        torch.set_num_threads(threads)
        return str(torch.get_num_threads())
    return f"{torch.get_num_threads()} (torch default)"


def _update_batch_size(model: BaseAlgorithm) -> int:
    """Observations per gradient step: PPO's/DQN's minibatch, A2C's whole rollout."""
    batch = getattr(model, "batch_size", None)
    return int(batch) if batch else int(model.n_steps * model.n_envs)  # type: ignore[attr-defined]


def _auto_layout_on_cpu(model: BaseAlgorithm, simple: list[SimpleNatureCNN], probe: bool) -> tuple[bool, str]:
    """``channels_last: auto`` on cpu: measured for training's network and precision, else NHWC."""
    bf16 = bool(simple) and simple[0].autocast_dtype is not None
    if not probe or not simple or (bf16 and not native_bf16("cpu")):  # emulated bf16: NHWC (1,560 ms vs 1,985)
        return True, ""
    verdict = faster_layout(simple[0], _update_batch_size(model), bf16=bf16)
    return verdict.channels_last, verdict.describe()


def _set_channels_last(
    model: BaseAlgorithm,
    mode: str,
    kind: str,
    extractors: list[torch.nn.Module],
    simple: list[SimpleNatureCNN],
    probe: bool = False,
) -> str:
    """NHWC conv weights (and optimizer state); SimpleNatureCNN also hands its input over NHWC."""
    if mode == "on" and kind == "mps":
        return "off (not used on mps: plain contiguous float32)"
    if not (mode == "on" or (mode == "auto" and kind in ("cpu", "cuda"))):
        return "off" + (" (auto: mps)" if mode == "auto" else "")
    why = ""
    if mode == "auto" and kind == "cpu":
        wanted, why = _auto_layout_on_cpu(model, simple, probe)
        if not wanted:
            return f"off ({why})"
    model.policy.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # 4-D tensors: conv weights
    _channels_last_optimizer_state(getattr(model.policy, "optimizer", None))
    for module in simple:
        module.channels_last = True
    weights_only = "" if len(simple) == len(extractors) else "weights only: not a SimpleNatureCNN"
    notes = ", ".join(note for note in (weights_only, why) if note)
    return "on" + (f" ({notes})" if notes else "")


def _set_bf16(wanted: bool, kind: str, simple: list[SimpleNatureCNN], allow_emulated: bool) -> str:
    """bf16 autocast in the feature extractor, only where it is native (or explicitly allowed)."""
    if not wanted:
        return "off"
    if kind not in ("cpu", "cuda"):
        return f"off (requested, but not used on {kind}: float32 only)"
    if not native_bf16(kind) and not allow_emulated:
        what = (
            "this CPU has no native bf16 (AVX512-BF16 or AMX): emulated bf16 is ~10x slower"
            if kind == "cpu"
            else "this GPU has no bf16"
        )
        return f"off (requested, but {what})"
    if not simple:
        return "off (requested, but only SimpleNatureCNN supports bf16 autocast)"
    for module in simple:
        module.autocast_dtype = torch.bfloat16
    return f"on (autocast {kind} bfloat16 in the feature extractor; heads, losses and weights float32)" + (
        "" if native_bf16(kind) else " [emulated: slow]"
    )


def _compile_decision(mode: str, kind: str) -> tuple[bool, str]:
    """Whether to compile, and the reason shown next to on/off (empty when simply as asked)."""
    want, reason = mode == "on", ""
    if mode == "auto":
        if kind == "cuda":
            want, why = _compile_available(kind)
            reason = "auto: cuda" if want else f"auto: {why}"
        else:
            reason = "auto: not faster on cpu, see docs/performance.md" if kind == "cpu" else f"auto: {kind}"
    if want and kind == "mps":
        return False, "not used on mps"
    if want:
        ok, why = _compile_available(kind)
        if not ok:
            return False, why
    return want, reason


def _set_compile(mode: str, kind: str, extractors: list[torch.nn.Module]) -> str:
    """``nn.Module.compile()`` in place on every feature extractor, when decided so."""
    want, reason = _compile_decision(mode, kind)
    suffix = f" ({reason})" if reason else ""
    if not want:
        return "off" + suffix
    torch._dynamo.config.suppress_errors = True  # a compiler failure falls back to eager, not a crash
    for module in extractors:
        module.compile()  # in place: parameter names and state_dict keys do not change
    return "on (feature extractor, nn.Module.compile)" + suffix


def apply_compute(
    model: BaseAlgorithm,
    compute_cfg: ComputeConfig,
    device: Any,
    *,
    allow_emulated_bf16: bool = False,
    probe_layout: bool = False,
) -> dict[str, str]:
    """Apply ``compute_cfg`` to a freshly built or loaded SB3 model, in place.

    :param model: an SB3 / sb3-contrib model (its ``policy`` is changed in place).
    :param compute_cfg: ``cfg.compute`` (:class:`~simple_game.config.ComputeConfig`).
    :param device: the device the model is on (``'cpu'``, ``'cuda'``, ``'cuda:1'``, ``'mps'``).
    :param allow_emulated_bf16: apply ``bf16`` even without native bf16 (benchmarks, tests).
    :param probe_layout: training: with ``channels_last: auto`` on cpu, time both layouts for
        this network and minibatch (cached per machine, :mod:`simple_game.layout_probe`).
    :return: what was applied, as short strings (printed at start, stored in summary.json),
        e.g. ``{"device": "cpu", "channels_last": "on", "compile": "off (auto: ...)", ...}``.
    """
    kind = _device_type(device)
    extractors = feature_extractors(model)
    simple = [m for m in extractors if isinstance(m, SimpleNatureCNN)]
    applied: dict[str, str] = {"device": str(device), "threads": _set_threads(compute_cfg.threads)}
    bf16 = _set_bf16(compute_cfg.bf16, kind, simple, allow_emulated_bf16)  # autocast only: no layout change
    applied["channels_last"] = _set_channels_last(
        model, compute_cfg.channels_last, kind, extractors, simple, probe_layout
    )
    applied["bf16"] = bf16
    applied["compile"] = _set_compile(compute_cfg.compile, kind, extractors)
    applied["optimizer"] = _fuse_adam(getattr(model.policy, "optimizer", None), kind)
    applied["heap_reuse"] = set_heap_reuse(compute_cfg.heap_reuse)
    if kind == "cuda":
        torch.backends.cudnn.benchmark = True
        applied["cudnn_benchmark"] = "on"
    return applied


def describe_compute(applied: dict[str, str]) -> str:
    """One line for the console: ``compute: channels_last on | compile off (...) | bf16 off | threads 2``."""
    keys = ("channels_last", "compile", "bf16", "optimizer", "threads", "heap_reuse", "cudnn_benchmark")
    return "compute: " + " | ".join(f"{k} {applied[k]}" for k in keys if k in applied)
