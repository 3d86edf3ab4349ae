"""Reads cached across page loads: each keyed on the file's path, modification time and size.

Streamlit runs the page script again on every click, so without a cache every click would
re-read every log. With it, a file is read again only when training has changed it (its
:class:`~simple_game.dashboard.files.Stamp` differs); a run being trained shows its new rows
on the next click, and 200 finished runs cost a few hundred ``stat`` calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
import streamlit as st

from simple_game.dashboard import comparison, files, runlist, studies, timeline
from simple_game.dashboard.files import Stamp, Table, stamp
from simple_game.dataset.format import MANIFEST
from simple_game.dataset.reader import DatasetReader, EpisodeSteps, open_dataset
from simple_game.errors import SimpleGameError
from simple_game.pooling import SeedGroup, group_seeds
from simple_game.runs import RunDirectory, RunRecord


@st.cache_data(show_spinner=False, max_entries=4096)
def _csv(path: str, mtime_ns: int, size: int) -> Table:
    return files.read_csv(Path(path))


def csv_table(path: Path) -> Optional[Table]:
    """The CSV at ``path`` (``None`` when there is no such file), re-read only when it changed."""
    s = stamp(path)
    return None if s is None else _csv(s.path, s.mtime_ns, s.size)


@st.cache_data(show_spinner=False, max_entries=16)
def _runs(runs_dir: str, signature: tuple[Any, ...]) -> list[RunRecord]:
    return runlist.list_runs(Path(runs_dir))


def runs(runs_dir: Path) -> list[RunRecord]:
    """Every run under ``runs_dir``, read again only when a run appears or a summary changes."""
    return _runs(str(runs_dir), runlist.runs_signature(Path(runs_dir)))


@st.cache_data(show_spinner=False, max_entries=4096)
def _yaml(path: str, mtime_ns: int, size: int) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    return files.read_yaml_mapping(Path(path))


def config(run: RunRecord) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """A run's config.yaml as a dict and ``None``, or ``None`` and why it could not be read."""
    s = stamp(run.directory.config_path)
    if s is None:
        return None, "config.yaml: missing"
    return _yaml(s.path, s.mtime_ns, s.size)


@st.cache_data(show_spinner=False, max_entries=64)
def _groups(key: tuple[Any, ...], _runs: tuple[RunRecord, ...]) -> list[SeedGroup]:
    return group_seeds(list(_runs))


def seed_groups(selected: list[RunRecord]) -> list[SeedGroup]:
    """:func:`simple_game.pooling.group_seeds` of ``selected``, again only when a config or summary changed."""
    key = tuple((r.path.name, stamp(r.directory.config_path), stamp(r.directory.summary_path)) for r in selected)
    return _groups(key, tuple(selected))


@st.cache_data(show_spinner=False, max_entries=256)
def _checkpoint_step(run_path: str, checkpoint: str, key: Optional[Stamp]) -> Optional[int]:
    return timeline.checkpoint_step(RunDirectory(Path(run_path)), checkpoint)


def checkpoint_step(run: RunRecord, checkpoint: str) -> Optional[int]:
    """The step behind a named checkpoint, read from its zip once per version of the file."""
    return _checkpoint_step(str(run.path), checkpoint, stamp(run.directory.checkpoints_dir / f"{checkpoint}.zip"))


@st.cache_data(show_spinner=False, max_entries=8)
def _bytes(path: str, mtime_ns: int, size: int) -> tuple[Optional[bytes], Optional[str]]:
    return files.read_bytes(Path(path))


def file_bytes(path: Path) -> tuple[Optional[bytes], Optional[str]]:
    """A (video) file's bytes and ``None``, or ``None`` and why not."""
    s = stamp(path)
    if s is None:
        return None, f"{Path(path).name}: missing"
    return _bytes(s.path, s.mtime_ns, s.size)


@st.cache_resource(show_spinner=False, max_entries=8)
def _dataset(path: str, key: Optional[Stamp]) -> tuple[Optional[DatasetReader], Optional[str]]:
    try:
        return open_dataset(path, allow_incomplete=True), None
    except SimpleGameError as exc:
        return None, str(exc)


def dataset(path: Path) -> tuple[Optional[DatasetReader], Optional[str]]:
    """A dataset opened for reading (incomplete ones too), again only when its manifest changed."""
    return _dataset(str(path), stamp(Path(path) / MANIFEST))


@st.cache_data(show_spinner=False, max_entries=64)
def _steps(path: str, key: Optional[Stamp], episode: str) -> tuple[Optional[EpisodeSteps], Optional[str]]:
    reader, error = dataset(Path(path))
    if reader is None:
        return None, error
    try:
        return reader.load_steps(episode), None
    except SimpleGameError as exc:
        return None, str(exc)


def episode_steps(path: Path, episode: str) -> tuple[Optional[EpisodeSteps], Optional[str]]:
    return _steps(str(path), stamp(Path(path) / MANIFEST), episode)


@st.cache_data(show_spinner=False, max_entries=512)
def _frame(path: str, key: Optional[Stamp], episode: str, t: int) -> tuple[Optional[np.ndarray], Optional[str]]:
    reader, error = dataset(Path(path))
    if reader is None:
        return None, error
    try:
        return reader.load_frames(episode, t, t + 1)[0], None
    except SimpleGameError as exc:
        return None, str(exc)


def frame(path: Path, episode: str, t: int) -> tuple[Optional[np.ndarray], Optional[str]]:
    """Frame ``t`` of an episode (decoded once), or ``None`` and why not."""
    return _frame(str(path), stamp(Path(path) / MANIFEST), episode, t)


@st.cache_data(show_spinner=False, max_entries=4096)
def _membership(run_path: str, key: Optional[Stamp]) -> tuple[Optional[studies.Membership], Optional[str]]:
    return studies.read_membership(Path(run_path))


def study_list(all_runs: list[RunRecord]) -> tuple[list[studies.Study], list[str]]:
    """The studies among ``all_runs`` (from each run's study.json), and warnings about unusable records."""
    members, problems = [], []
    for run in all_runs:
        member, problem = _membership(str(run.path), stamp(run.path / studies.STUDY_FILE))
        if member is not None:
            members.append((member, run))
        elif problem:
            problems.append(f"{run.path.name}: {problem}")
    return studies.group_studies(members), problems


def final_scores(selected: list[RunRecord]) -> dict[str, Optional[float]]:
    """Each run's final score (its last evaluation), from the cached eval.csv."""
    return {run.path.name: comparison.final_score(csv_table(run.directory.eval_csv)) for run in selected}
