"""What ``report`` draws per study: ``<out>/study_<name>.png``, and the line it prints.

The runs of a study (:func:`~simple_game.studies.membership.group_by_study`) are pooled per
variant as :mod:`simple_game.pooling` pools any seeds (same name and settings), so a variant
whose config changed between runs is drawn twice, ``(config 2)``, never mixed. Each variant's
final score is its runs' last evaluations summarised as the experiment log's studies table does
(:func:`simple_game.experiment_log.study_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from simple_game.experiment_log import study_of
from simple_game.outputs import check_writable_file
from simple_game.plots import Curves, StudyVariant, plot_study
from simple_game.pooling import SeedGroup, group_seeds
from simple_game.runs import RunRecord
from simple_game.studies.membership import StudyRuns, group_by_study, read_member


@dataclass(frozen=True)
class StudyFigure:
    """One study's figure: where it goes and the seed groups it draws, labelled by variant."""

    study: StudyRuns
    groups: tuple[tuple[str, SeedGroup], ...]
    path: Path

    @property
    def title(self) -> str:
        return f"study {self.study.name}" + (f" ({self.study.description})" if self.study.description else "")


def plan_study_figures(runs: Sequence[RunRecord], out_dir: Path) -> list[StudyFigure]:
    """A figure per study among ``runs``, each place checked writable (a one-line error before anything is written)."""
    figures = []
    for study in group_by_study(runs):
        groups = group_seeds([run for _, run in study.runs])
        labelled = sorted(((_variant_label(group), group) for group in groups), key=lambda pair: _order(pair[1]))
        path = check_writable_file(Path(out_dir) / f"study_{study.name}.png", "study figure")
        figures.append(StudyFigure(study, tuple(labelled), path))
    return figures


def _order(group: SeedGroup) -> int:
    member = read_member(group.runs[0].path)
    return member.index if member else 0


def _variant_label(group: SeedGroup) -> str:
    """``02 double`` for a series variant (``(config 2)`` kept), the experiment's name for seeds of one config."""
    member = read_member(group.runs[0].path)
    if member is None or member.kind == "seeds":
        return group.label
    return f"{member.index:02d} {member.variant}{group.label[len(group.base_name) :]}"


def draw_study_figures(
    figures: Sequence[StudyFigure], curves: Mapping[Path, Curves], echo: Optional[Callable[[str], None]] = None
) -> list[str]:
    """Draw each figure; returns (and ``echo``es as each is written) one line per study."""
    lines = []
    for figure in figures:
        variants = []
        for label, group in figure.groups:
            study = study_of(group)
            scores = [score for _, score, _ in study.per_seed if score is not None]
            variants.append(StudyVariant(label, [curves[run.path] for run in group.runs], study.summary, scores))
        plot_study(figure.title, variants, figure.path)
        summary = "; ".join(_variant_text(v) for v in variants)
        lines.append(f"wrote {figure.path} ({figure.title}: {summary})")
        if echo is not None:
            echo(lines[-1])
    return lines


def _variant_text(variant: StudyVariant) -> str:
    seeds = f"{len(variant.curves)} run{'s' * (len(variant.curves) != 1)}"
    return (
        f"{variant.label} x{len(variant.curves)} IQM {variant.final.iqm_text}"
        if variant.final
        else f"{variant.label} ({seeds}, no IQM yet)"
    )
