"""Page: an ablation series as per-variant final scores with intervals, in the series' order."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from simple_game.dashboard import cache, studies
from simple_game.dashboard.views import Context, choose, warn


def render(ctx: Context) -> None:
    st.header("Ablations")
    found, problems = cache.study_list(ctx.runs)
    warn(problems)
    if not found:
        st.info(
            f"No studies found in {ctx.runs_dir}. `simple-game study SERIES_FOLDER --seeds 3` trains an ablation "
            "series (one config per variant) and marks each run with study.json."
        )
        return
    names = [s.name for s in found]
    study = found[names.index(choose("Study", names, key="ablation_study"))]
    if study.description:
        st.write(study.description)
    finals = cache.final_scores([r for _, r in study.members])
    rows = studies.variant_rows(study, finals)
    points = studies.seed_points(study, finals)
    if points:
        st.altair_chart(_chart(rows, points), width="stretch")
        st.caption(
            "Dots: each seed's final score (its last evaluation). Bar: interquartile mean (IQM) of the seeds with "
            "its 95% bootstrap interval; an addition helps when its interval clears the one before it."
        )
    else:
        st.info("No run of this study has been evaluated yet.")
    st.dataframe(rows, hide_index=True)


def _chart(rows: list[dict], points: list[dict]) -> alt.LayerChart:
    order = [r["variant"] for r in rows]
    x = alt.X("variant:N", sort=order, title="variant (series order)", axis=alt.Axis(labelAngle=0))
    frame = pd.DataFrame([r for r in rows if r["IQM"] is not None])
    iqm = (
        alt.Chart(frame)
        .mark_tick(thickness=3, size=30, color="black")
        .encode(x=x, y=alt.Y("IQM:Q", title="final score"))
    )
    ci = alt.Chart(frame.dropna(subset=["CI low"])).mark_rule(strokeWidth=2).encode(x=x, y="CI low:Q", y2="CI high:Q")
    dots = (
        alt.Chart(pd.DataFrame(points))
        .mark_circle(size=60, opacity=0.7)
        .encode(
            x=x,
            y="score:Q",
            color=alt.Color("seed:N", scale=alt.Scale(scheme="tableau10")),
            tooltip=["variant", "seed", "score"],
        )
    )
    return ci + iqm + dots
