"""Page: two runs' resolved configs side by side, only the settings that differ."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from simple_game.dashboard import cache, configdiff
from simple_game.dashboard.views import Context, no_runs, pick_run, run_warnings, warn


def render(ctx: Context) -> None:
    st.header("Config diff")
    if no_runs(ctx):
        return
    left_col, right_col = st.columns(2)
    with left_col:
        left = pick_run(ctx, key="diff_left", label="First run", index=1)
    with right_col:
        right = pick_run(ctx, key="diff_right", label="Second run", index=0)
    if left is None or right is None:
        return
    (a, a_problem), (b, b_problem) = cache.config(left), cache.config(right)
    picked = [left] if left.path == right.path else [left, right]
    warn(run_warnings(picked) + [f"{run.path.name}: {p}" for run, p in ((left, a_problem), (right, b_problem)) if p])
    if a is None or b is None:
        return
    diffs = configdiff.config_diff(a, b)
    hide = st.checkbox("Hide run-only settings (seed, device, logging, checkpoints, ...)", key="diff_hide_run_only")
    shown = [d for d in diffs if not (hide and d.run_only)]
    if left.path == right.path:
        st.info("The same run is picked twice.")
    elif not diffs:
        st.success("The two configs are identical.")
    elif not shown:
        st.success(f"The two runs differ only in run-only settings ({len(diffs)}): they are seeds of one experiment.")
    else:
        st.write(f"{len(shown)} setting{'s' if len(shown) != 1 else ''} differ:")
        st.table(pd.DataFrame(configdiff.diff_rows(shown, left.path.name, right.path.name)), hide_index=True)
