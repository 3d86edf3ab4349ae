"""Page: training curves of the picked runs, any logged column, smoothed, by steps or wall time."""

from __future__ import annotations

import streamlit as st

from simple_game.dashboard import cache
from simple_game.dashboard.curves import EVAL, PROGRESS, STEPS, WALL, curves_frame, metrics_of, series
from simple_game.dashboard.files import Table
from simple_game.dashboard.views import Context, choose, line_chart, no_runs, pick_runs, run_warnings, warn


def render(ctx: Context) -> None:
    st.header("Training curves")
    if no_runs(ctx):
        return
    chosen = pick_runs(ctx, key="curves_runs")
    if not chosen:
        st.info("Pick one or more runs.")
        return
    tables: dict[str, dict[str, Table]] = {}
    notes = run_warnings(chosen)
    for run in chosen:
        logs = {PROGRESS: cache.csv_table(run.directory.progress_csv), EVAL: cache.csv_table(run.directory.eval_csv)}
        tables[run.path.name] = {log: t for log, t in logs.items() if t is not None}
        notes += [f"{run.path.name}: {w}" for t in tables[run.path.name].values() for w in t.warnings]
    metrics = metrics_of((log, t) for logs in tables.values() for log, t in logs.items())
    warn(notes)
    if not metrics:
        st.info("The picked runs have logged nothing yet.")
        return
    left, middle, right = st.columns([3, 1, 1])
    with left:
        metric = choose("Metric", metrics, format_func=lambda m: m.label, key="curves_metric")
    window = middle.number_input("Smoothing (points)", min_value=1, max_value=500, value=1, key="curves_window")
    axis = right.radio("x axis", [STEPS, WALL], key="curves_axis", horizontal=True) or STEPS
    curves = {name: series(logs[metric.log], metric, axis) for name, logs in tables.items() if metric.log in logs}
    frame = curves_frame(curves, int(window))
    missing = [name for name, (xs, _) in curves.items() if not xs] + [n for n in tables if n not in curves]
    if missing:
        st.caption(f"No {metric.label} logged yet in: {', '.join(missing)}")
    if frame.empty:
        st.info(f"No run has logged {metric.label} yet.")
        return
    st.altair_chart(line_chart(frame, axis, metric.label, "run"), width="stretch")
    st.caption(
        "Agent steps count one action in one env (frame_skip emulator frames each). "
        "Smoothing is a trailing mean over the last points logged."
    )
