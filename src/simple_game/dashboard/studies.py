"""Studies for the dashboard: which runs belong to which study, and a series' final scores.

``simple-game study`` trains every variant of an ablation series (``01_vanilla``,
``02_double``, ...) for several seeds and marks each run with ``<run>/study.json``
(``study``, ``kind``, ``variant``, ``index``, ``seed``; :mod:`simple_game.studies.membership`).
An ablation changes one thing per variant, so its result is read in series order: how far
each addition moved the final score, and whether that move is larger than the spread between
seeds (the IQM's bootstrap interval, :func:`simple_game.stats.summarize_final_scores`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from simple_game.dashboard.files import read_json_object
from simple_game.pooling import furthest
from simple_game.runs import RunRecord
from simple_game.stats import summarize_final_scores

STUDY_FILE = "study.json"


@dataclass(frozen=True)
class Membership:
    """What a run's ``study.json`` says about where it fits."""

    study: str
    kind: str  # "series" or "seeds"
    variant: str
    index: int  # the variant's place in its series
    seed: Any
    description: str = ""


def read_membership(run_path: Path) -> tuple[Optional[Membership], Optional[str]]:
    """A run's study record and ``None``; ``(None, None)`` without one; ``(None, why)`` when unusable."""
    path = Path(run_path) / STUDY_FILE
    if not path.is_file():
        return None, None
    data, problem = read_json_object(path)
    if data is None:
        return None, problem
    try:
        return (
            Membership(
                study=str(data["study"]),
                kind=str(data.get("kind", "series")),
                variant=str(data.get("variant") or data["study"]),
                index=int(data.get("index", 1)),
                seed=data.get("seed"),
                description=str(data.get("description") or ""),
            ),
            None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"{STUDY_FILE}: unusable ({exc!r})"


@dataclass(frozen=True)
class Study:
    """The runs of one study found under the runs folder."""

    name: str
    kind: str
    description: str
    members: tuple[tuple[Membership, RunRecord], ...]

    def variants(self) -> list[tuple[int, str]]:
        """``(index, variant)`` in series order."""
        return sorted({(m.index, m.variant) for m, _ in self.members})

    def runs_of(self, variant: str) -> list[tuple[Membership, RunRecord]]:
        return [(m, r) for m, r in self.members if m.variant == variant]


def group_studies(members: Sequence[tuple[Membership, RunRecord]]) -> list[Study]:
    """Runs with a study record, by study name (sorted), each study's runs by variant then seed."""
    found: dict[str, list[tuple[Membership, RunRecord]]] = {}
    for member, run in members:
        found.setdefault(member.study, []).append((member, run))
    studies = []
    for name in sorted(found):
        runs = sorted(_one_per_seed(found[name]), key=lambda p: (p[0].index, str(p[0].seed), p[1].path.name))
        description = next((m.description for m, _ in runs if m.description), "")
        kinds = sorted({m.kind for m, _ in runs})
        studies.append(Study(name, "/".join(kinds), description, tuple(runs)))
    return studies


def _one_per_seed(members: Sequence[tuple[Membership, RunRecord]]) -> list[tuple[Membership, RunRecord]]:
    """A seed counts once, as in ``report``: of a variant's runs with one seed, the one that got furthest.

    A run killed before its first checkpoint is started anew in a new folder by the study; the
    stub stays on disk and would otherwise be drawn as one more seed.
    """
    by_seed: dict[tuple[str, str], list[tuple[Membership, RunRecord]]] = {}
    for member, run in members:  # find_runs' order, oldest first, as furthest() and report take them
        by_seed.setdefault((member.variant, str(member.seed)), []).append((member, run))
    kept = []
    for same in by_seed.values():
        best = furthest([run for _, run in same]) if len(same) > 1 else same[0][1]
        kept += [(m, r) for m, r in same if r is best]
    return kept


def variant_rows(study: Study, finals: Mapping[str, Optional[float]]) -> list[dict[str, Any]]:
    """One row per variant, in series order: its seeds' final scores, IQM with 95% CI, median and IQR.

    ``finals`` maps a run folder name to its final score (``None`` before its first evaluation).
    A variant with one evaluated seed has a score but no interval.
    """
    rows = []
    for index, variant in study.variants():
        members = study.runs_of(variant)
        scores = [(m.seed, finals.get(r.path.name)) for m, r in members]
        evaluated = [s for _, s in scores if s is not None]
        summary = summarize_final_scores(evaluated)
        row: dict[str, Any] = {
            "index": index,
            "variant": variant,
            "seeds": len(members),
            "evaluated": len(evaluated),
            "IQM": summary.iqm if summary else (evaluated[0] if evaluated else None),
            "CI low": summary.ci_low if summary else None,
            "CI high": summary.ci_high if summary else None,
            "median (IQR)": summary.median_text if summary else "",
            "per seed": ", ".join(f"{seed}: {'-' if s is None else f'{s:.1f}'}" for seed, s in scores),
        }
        rows.append(row)
    return rows


def seed_points(study: Study, finals: Mapping[str, Optional[float]]) -> list[dict[str, Any]]:
    """Every evaluated run of the study as ``variant, seed, score`` (for a dot per seed)."""
    return [
        {"variant": m.variant, "index": m.index, "seed": str(m.seed), "score": finals[r.path.name]}
        for m, r in study.members
        if finals.get(r.path.name) is not None
    ]
