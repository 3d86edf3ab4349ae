"""Page: evaluation curves of the picked runs overlaid, seeds as median and IQR, and a score table."""

from __future__ import annotations

import streamlit as st

from simple_game.dashboard import cache, comparison
from simple_game.dashboard.files import Table
from simple_game.dashboard.views import Context, line_chart, no_runs, pick_runs, run_warnings, warn


def render(ctx: Context) -> None:
    st.header("Compare runs")
    if no_runs(ctx):
        return
    chosen = pick_runs(ctx, key="compare_runs", default=6)
    if not chosen:
        st.info("Pick the runs to compare.")
        return
    tables: dict[str, Table] = {}
    notes = run_warnings(chosen)
    for run in chosen:
        table = cache.csv_table(run.directory.eval_csv)
        tables[run.path.name] = table if table is not None else Table()
        notes += [f"{run.path.name}: {w}" for w in tables[run.path.name].warnings]
    warn(notes)
    groups = cache.seed_groups(chosen)
    curves = comparison.group_curves(groups, tables)
    frame = comparison.curves_long(curves)
    if frame.empty:
        st.info("None of the picked runs has been evaluated yet.")
    else:
        chart = line_chart(frame, "agent steps", "evaluation score (mean over games)", "experiment", band=True)
        st.altair_chart(chart, width="stretch")
        st.caption(
            "Runs that differ only in seed and run-only settings are one experiment: drawn as the median "
            "over seeds with the interquartile range (25th-75th percentile) as a band, where the seeds overlap."
        )
    pooled = comparison.group_scores(groups, tables)
    if pooled:
        st.subheader("Experiments with several seeds")
        st.dataframe(pooled, hide_index=True)
        st.caption("Final score: each run's last evaluation. IQM: mean of the middle half, with a 95% bootstrap CI.")
    st.subheader("Runs")
    st.dataframe(comparison.run_scores(groups, tables), hide_index=True)
