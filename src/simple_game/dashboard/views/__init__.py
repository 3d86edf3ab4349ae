"""The dashboard's pages, one module each, with ``render(ctx)``; and what they share.

A page lays out widgets and charts and calls the plain modules of
:mod:`simple_game.dashboard` for everything else, so its logic is tested without Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, TypeVar

import altair as alt
import pandas as pd
import streamlit as st

from simple_game.dashboard import runlist
from simple_game.runs import RunRecord

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """What every page gets: the two folders it reads, and the runs found in the first."""

    runs_dir: Path
    data_dir: Path
    runs: list[RunRecord]

    @property
    def names(self) -> list[str]:
        """Run folder names, newest first (the ones a learner most likely wants at the top)."""
        return [run.path.name for run in reversed(self.runs)]

    def run(self, name: str) -> RunRecord:
        return runlist.by_name(self.runs)[name]


def no_runs(ctx: Context) -> bool:
    """Say so and return True when there is no run to show."""
    if ctx.runs:
        return False
    st.info(f"No runs found in {ctx.runs_dir}. A run is a folder made by `simple-game train` (pass --runs FOLDER).")
    return True


def pick_runs(ctx: Context, key: str, label: str = "Runs", default: int = 3) -> list[RunRecord]:
    """A multiselect of runs (newest first), the newest ``default`` picked to begin with."""
    names = ctx.names
    chosen = st.multiselect(label, names, default=names[:default], key=key)
    return [ctx.run(name) for name in chosen if name in names]


def pick_run(ctx: Context, key: str, label: str = "Run", index: int = 0) -> Optional[RunRecord]:
    names = ctx.names
    return ctx.run(choose(label, names, key=key, index=min(index, len(names) - 1))) if names else None


def choose(label: str, options: Sequence[T], *, key: str, index: int = 0, format_func: Callable[[T], str] = str) -> T:
    """A selectbox that always has a value (``options`` must not be empty)."""
    value = st.selectbox(label, options, index=index, key=key, format_func=format_func)
    return options[index] if value is None else value


def warn(lines: Sequence[str]) -> None:
    """One short warning box for everything a page could not read; the page carries on."""
    if lines:
        st.warning("\n".join(f"- {line}" for line in dict.fromkeys(lines)))


def run_warnings(runs: Sequence[RunRecord]) -> list[str]:
    return [f"{run.path.name}: {w}" for run in runs for w in runlist.run_warnings(run)]


def line_chart(frame: pd.DataFrame, x_title: str, y_title: str, color: str, band: bool = False) -> Any:
    """Lines of ``value`` against ``x``, one colour per ``color`` column value; a ``low``-``high`` band if asked."""
    base = alt.Chart(frame).encode(
        x=alt.X("x:Q", title=x_title, axis=alt.Axis(format="~s")),
        color=alt.Color(
            f"{color}:N",
            title=None,
            legend=alt.Legend(orient="bottom", labelLimit=600, direction="vertical"),
            scale=alt.Scale(scheme="tableau10"),
        ),
    )
    lines = base.mark_line(point=len(frame) < 60).encode(
        y=alt.Y("value:Q", title=y_title), tooltip=[color, "x", "value"]
    )
    if not band:
        return lines.interactive()
    area = base.mark_area(opacity=0.2).encode(y="low:Q", y2="high:Q")
    return (area + lines).interactive()
