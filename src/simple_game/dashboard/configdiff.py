"""Which settings two runs differ in: their resolved ``config.yaml`` files, key by key.

Each run's ``config.yaml`` is the fully resolved config that ran (``extends:`` and ``--set``
applied), so two of them compared as dotted keys (``hyperparams.learning_rate.start``) say
exactly what was changed between two experiments. Run-only settings (seed, device, logging,
checkpoints: :data:`simple_game.runs.RUN_ONLY_SETTINGS`) are marked: runs that differ only in
those are seeds of one experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import yaml

from simple_game.pooling import flatten
from simple_game.runs import is_run_only

NOT_SET = "(not set)"


@dataclass(frozen=True)
class ConfigDifference:
    key: str  # dotted
    left: str  # the value in the first run, as YAML, or NOT_SET
    right: str
    run_only: bool  # a setting that does not change what is learned or measured


def show(value: Any) -> str:
    """A config value as one line of YAML (``0.00025``, ``[50.0, 150.0]``, ``null``)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix(" ...").strip()


def config_diff(left: Optional[dict[str, Any]], right: Optional[dict[str, Any]]) -> list[ConfigDifference]:
    """The keys whose values differ (or that only one run has), in the first config's key order."""
    a = flatten(left or {})
    b = flatten(right or {})
    keys = list(a) + [k for k in b if k not in a]
    diffs = []
    for key in keys:
        if key in a and key in b and a[key] == b[key]:
            continue
        diffs.append(
            ConfigDifference(
                key,
                show(a[key]) if key in a else NOT_SET,
                show(b[key]) if key in b else NOT_SET,
                is_run_only(key),
            )
        )
    return diffs


def diff_rows(diffs: list[ConfigDifference], left_name: str, right_name: str) -> list[dict[str, Any]]:
    """Rows for a table: ``setting``, one column per run, and whether it is run-only."""
    if left_name == right_name:
        right_name = f"{right_name} (2)"
    return [
        {"setting": d.key, left_name: d.left, right_name: d.right, "run-only": "yes" if d.run_only else ""}
        for d in diffs
    ]
