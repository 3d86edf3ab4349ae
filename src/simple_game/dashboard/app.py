"""The Streamlit script behind ``simple-game dashboard``.

    streamlit run src/simple_game/dashboard/app.py -- --runs runs --data data

Streamlit runs this file again on every interaction; it only reads the two folders (cached,
:mod:`simple_game.dashboard.cache`) and hands them to the picked page (:mod:`.views`). The
page is part of the address (``?page=Videos``), so a link opens the same view.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Optional

import streamlit as st

from simple_game.dashboard import cache
from simple_game.dashboard.views import Context

PAGES = {  # sidebar label -> module in simple_game.dashboard.views
    "Training curves": "curves",
    "Videos": "videos",
    "Compare runs": "compare",
    "Ablations": "ablations",
    "Config diff": "config_diff",
    "Datasets": "datasets",
    "Sweeps": "sweeps",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dashboard app")
    parser.add_argument("--runs", default="runs", type=Path)
    parser.add_argument("--data", default="data", type=Path)
    return parser.parse_args(argv)


def main(runs_dir: str | Path = "runs", data_dir: str | Path = "data", page: Optional[str] = None) -> None:
    """Lay out the sidebar and render one page; ``page`` (a label of :data:`PAGES`) picks the first one shown."""
    st.set_page_config(page_title="simple-game dashboard", layout="wide")
    runs_dir, data_dir = Path(runs_dir), Path(data_dir)
    labels = list(PAGES)
    wanted = st.query_params.get("page", page)  # the address names the page: ?page=Config+diff
    with st.sidebar:
        st.title("simple-game")
        label = st.radio("Page", labels, index=labels.index(wanted) if wanted in labels else 0, key="page")
        st.caption(f"runs: `{runs_dir}`  \ndata: `{data_dir}`  \nread-only: nothing here writes to these folders.")
    st.query_params["page"] = label or labels[0]
    runs = cache.runs(runs_dir)
    st.sidebar.caption(f"{len(runs)} run{'s' if len(runs) != 1 else ''} found")
    view = importlib.import_module(f"simple_game.dashboard.views.{PAGES[label or labels[0]]}")
    view.render(Context(runs_dir, data_dir, runs))


if __name__ == "__main__":
    _args = parse_args(sys.argv[1:])
    main(_args.runs, _args.data)
