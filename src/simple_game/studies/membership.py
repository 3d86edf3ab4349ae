"""Which study a run belongs to: ``<run>/study.json``, written by the study launcher.

A run of a study is an ordinary run directory (evaluate, record, ``train --resume`` and
``report`` treat it like any other); one small file says where it fits::

    {"format": 1, "study": "dqn_breakout", "kind": "series", "series": "configs/ablations/dqn_breakout",
     "description": "...", "variant": "double", "index": 2, "seed": 1,
     "config": "configs/ablations/dqn_breakout/02_double.yaml"}

``kind`` is ``seeds`` (``train --seeds``: one config, ``variant`` is the experiment's name,
``index`` 1) or ``series`` (``simple-game study``). The run folder is named
``<experiment>_seed<N>_<stamp>`` with ``experiment`` = ``<study>`` or ``<study>_<variant>``, so
:mod:`simple_game.pooling` pools the seeds of one variant by name, as for any runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from simple_game.fsio import atomic_write_json
from simple_game.runs import RunRecord

STUDY_FILE = "study.json"
FORMAT = 1


@dataclass(frozen=True)
class Member:
    """One (variant, seed) of a study: what its ``study.json`` says."""

    study: str
    kind: str  # "seeds" or "series"
    variant: str
    index: int  # the variant's place in its series (NN of NN_<variant>.yaml); 1 for seeds
    seed: int
    config: str  # the experiment config it was trained from
    series: Optional[str] = None  # the series folder (kind "series")
    description: str = ""

    @property
    def experiment(self) -> str:
        """The runs' experiment name without the seed: ``<study>`` or ``<study>_<variant>``."""
        return self.study if self.kind == "seeds" else f"{self.study}_{self.variant}"

    @property
    def run_name(self) -> str:
        """``--name`` of the run: ``<experiment>_seed<N>`` (its folder adds ``_<stamp>``)."""
        return f"{self.experiment}_seed{self.seed}"

    @property
    def label(self) -> str:
        return f"{self.variant} seed {self.seed}"

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}


def write_member(run_path: Path, member: Member) -> None:
    """Mark ``run_path`` as ``member``'s run (atomic; rewriting the same record is harmless)."""
    path = Path(run_path) / STUDY_FILE
    if read_member(run_path) != member:
        atomic_write_json(path, member.as_dict())


def read_member(run_path: Path) -> Optional[Member]:
    """The study record of a run, or ``None`` when it has none (or an unreadable one)."""
    try:
        data = json.loads((Path(run_path) / STUDY_FILE).read_text(encoding="utf-8"))
        data.pop("format", None)
        return Member(**data)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError):
        return None


@dataclass(frozen=True)
class StudyRuns:
    """The runs of one study found under a runs folder, each with its record."""

    name: str
    description: str
    runs: tuple[tuple[Member, RunRecord], ...]

    def variants(self) -> list[tuple[int, str]]:
        """``(index, variant)`` pairs in series order."""
        return sorted({(m.index, m.variant) for m, _ in self.runs})


def group_by_study(runs: Sequence[RunRecord]) -> list[StudyRuns]:
    """The runs that carry a ``study.json``, by study name (sorted); runs without one are left out."""
    found: dict[str, list[tuple[Member, RunRecord]]] = {}
    for run in runs:
        member = read_member(run.path)
        if member is not None:
            found.setdefault(member.study, []).append((member, run))
    studies = []
    for name in sorted(found):
        members = sorted(found[name], key=lambda pair: (pair[0].index, pair[0].seed, pair[1].sort_key))
        description = next((m.description for m, _ in members if m.description), "")
        studies.append(StudyRuns(name, description, tuple(members)))
    return studies
