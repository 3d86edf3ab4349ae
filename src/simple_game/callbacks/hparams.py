"""TensorBoard's HParams tab: every run's settings beside its final and best evaluation.

Comparing runs is comparing settings against results. TensorBoard's HParams plugin shows one
row per run: the hyperparameters recorded once at the start (SB3's :class:`HParam`), and for
each metric the *last* value of the scalar of that name in the same run. Our evaluation
callback writes ``eval/mean_score`` (so its last value is the final evaluation) and
``eval/best_mean_score`` (a running maximum, so its last value is the best), which is why the
metric values given to :class:`HParam` are only placeholders: the plugin never shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Union

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HParam, TensorBoardOutputFormat

from simple_game.config import ExperimentConfig

# Scalars the evaluation callback writes: the final evaluation and the best so far.
EVAL_METRICS = ("eval/mean_score", "eval/best_mean_score")
# Without evaluations: SB3's mean return of the recent training episodes.
ROLLOUT_METRICS = ("rollout/ep_rew_mean",)
# The config sections that change what is learned (logging, checkpoints and videos do not).
_SECTIONS = ("env", "hyperparams", "eval")
_TOP_LEVEL = ("name", "algo", "policy", "seed", "total_timesteps")

HParamValue = Union[bool, str, float, None]


def hparam_values(cfg: ExperimentConfig) -> dict[str, HParamValue]:
    """The run's settings as flat ``section.key`` entries: numbers and text as they are, the rest as text.

    A nested value (``hyperparams.policy_kwargs.net_arch``) gets its full dotted name; a list
    becomes its text (``[64, 64]``), since the plugin only knows numbers, strings and booleans.
    """
    data = cfg.to_yaml_dict()
    values: dict[str, HParamValue] = {key: _plain(data[key]) for key in _TOP_LEVEL}
    for section in _SECTIONS:
        values.update(_flatten(data.get(section) or {}, section))
    return values


def hparam_metrics(cfg: ExperimentConfig) -> tuple[str, ...]:
    """The scalars the HParams tab shows beside the settings."""
    return EVAL_METRICS if cfg.eval.freq > 0 else ROLLOUT_METRICS


def _flatten(data: Mapping[str, Any], prefix: str) -> dict[str, HParamValue]:
    flat: dict[str, HParamValue] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name))
        else:
            flat[name] = _plain(value)
    return flat


def _plain(value: Any) -> HParamValue:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class HParamsCallback(BaseCallback):
    """Writes the run's settings once, at the start of a new run, into its TensorBoard events.

    Written straight to the TensorBoard output, not through ``logger.dump``: a dump would also
    add a row to ``progress.csv``. A resumed run keeps the record of its first session
    (TensorBoard reads one per run, from its first event file).
    """

    def __init__(self, cfg: ExperimentConfig, resuming: bool):
        super().__init__()
        self.cfg = cfg
        self.resuming = resuming
        self.written = False

    def _on_training_start(self) -> None:
        board = _tensorboard_output(self.logger.output_formats) if not self.resuming else None
        if board is None:
            return
        placeholders = dict.fromkeys(hparam_metrics(self.cfg), 0.0)  # the plugin reads the scalars themselves
        record = HParam(hparam_values(self.cfg), placeholders)
        board.write({"hparams": record}, {"hparams": ()}, int(self.num_timesteps))
        self.written = True

    def _on_step(self) -> bool:
        return True


def _tensorboard_output(formats: list[Any]) -> Optional[TensorBoardOutputFormat]:
    return next((f for f in formats if isinstance(f, TensorBoardOutputFormat)), None)
