"""Page: datasets per tier, and an episode viewer stepping through frames with action, reward, lives."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from simple_game.dashboard import cache, gameplay
from simple_game.dashboard.views import Context, choose
from simple_game.dataset.reader import DatasetReader


def render(ctx: Context) -> None:
    st.header("Datasets")
    found = gameplay.find_datasets(ctx.data_dir)
    if not found:
        st.info(
            f"No datasets found in {ctx.data_dir} (a dataset is a folder with manifest.json, "
            "made by `simple-game collect`; pass --data FOLDER)."
        )
        return
    labels = [str(p) for p in found]
    path = Path(choose("Dataset", labels, key="data_path"))
    reader, problem = cache.dataset(path)
    if reader is None:
        st.warning(f"{path}: {problem}")
        return
    if not reader.manifest.get("complete"):
        st.warning(f"{path}: the collection is incomplete (interrupted, or still running); showing what is there.")
    totals = reader.manifest.get("totals") or {}
    st.write(
        f"**{reader.game}** ({reader.protocol} protocol), frames {list(reader.frame_shape)} "
        f"{'RGB' if reader.rgb else 'grayscale'}"
        + (f", {totals.get('episodes')} episodes, {totals.get('frames')} frames" if totals else "")
    )
    st.dataframe(gameplay.tier_rows(reader), hide_index=True)
    if not reader.tiers:
        return
    _viewer(path, reader)


def _viewer(path: Path, reader: DatasetReader) -> None:
    st.subheader("Episode viewer")
    left, right = st.columns(2)
    with left:
        tier = choose("Tier", reader.tiers, key="data_tier")
    rows = gameplay.episode_rows(reader, tier)
    if not rows:
        st.info(f"{tier} has no episodes yet.")
        return
    described = {r["episode"]: f"{r['episode']} ({r['split']}, score {r['score']:g})" for r in rows}
    with right:
        episode = choose("Episode", list(described), format_func=described.__getitem__, key="data_episode")
    steps, problem = cache.episode_steps(path, episode)
    if steps is None:
        st.warning(f"{episode}: {problem}")
        return
    last = len(steps.actions)
    t = st.slider("Frame", 0, last, 0, key=f"data_frame_{episode}") if last > 0 else 0
    view = gameplay.step_view(steps, t, reader.action_meanings)
    picture, facts = st.columns([2, 1])
    frame, problem = cache.frame(path, episode, view.t)
    if frame is None:
        picture.warning(f"{episode}: {problem}")
    else:
        picture.image(gameplay.enlarge(frame, 4 if not reader.rgb else 2), caption=f"{episode}, frame {view.t}")
    facts.table(_facts(view), hide_index=True)
    facts.caption("Frame t is what the agent saw when it chose action t; reward and lives are what that action led to.")


def _facts(view: gameplay.StepView) -> dict[str, list[str]]:
    rows = view.rows()
    return {"what": [k for k, _ in rows], "value": [v for _, v in rows]}
