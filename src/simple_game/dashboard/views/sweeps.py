"""Page: a sweep's trials table and its best parameters (when a study has sweep trials)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from simple_game.dashboard import sweeps
from simple_game.dashboard.views import Context, choose, warn


def render(ctx: Context) -> None:
    st.header("Sweeps")
    found = sweeps.find_sweeps(ctx.runs_dir)
    if not found:
        st.info(
            f"No sweeps found in {ctx.runs_dir} (looked in {ctx.runs_dir / 'sweeps'}). `simple-game sweep` "
            "tunes hyperparameters with Optuna and writes sweep.json and sweep.md there."
        )
        return
    labels = [str(p) for p in found]
    sweep = sweeps.read_sweep(found[labels.index(choose("Sweep", labels, key="sweep_path"))])
    warn([f"{sweep.path.name}: {p}" for p in sweep.problems])
    st.write(f"**{sweep.name}**: {sweeps.headline(sweep)}")
    best = sweeps.best_rows(sweep)
    if best:
        st.subheader("Best parameters")
        st.table(pd.DataFrame(best), hide_index=True)
        if (sweep.path / sweeps.BEST_YAML).is_file():
            st.caption(
                f"Train the winner at the config's full budget: `simple-game train --config {sweep.path}/best.yaml`"
            )
    st.subheader("Trials")
    if sweep.trials:
        st.dataframe(sweeps.trials_frame(sweep), hide_index=True)
        st.caption("A pruned trial's score in brackets is its last evaluation before it was stopped.")
    else:
        st.info("No trials yet.")
