"""Page: a run's videos, with a slider over its checkpoints and the evaluation score at each."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from simple_game.dashboard import cache, timeline
from simple_game.dashboard.views import Context, choose, no_runs, pick_run, run_warnings, warn
from simple_game.runs import RunRecord


def render(ctx: Context) -> None:
    st.header("Videos")
    if no_runs(ctx):
        return
    run = pick_run(ctx, key="videos_run")
    if run is None:
        return
    table = cache.csv_table(run.directory.eval_csv)
    notes = run_warnings([run]) + [f"{run.path.name}: {w}" for w in (table.warnings if table else [])]
    evals = timeline.evaluations(table)
    moments, problems = timeline.run_timeline(run.directory, evals)
    warn(notes + [f"{run.path.name}: {p}" for p in problems])
    _training_videos(run, moments)
    _recorded_videos(run, evals)


def _training_videos(run: RunRecord, moments: list[timeline.Moment]) -> None:
    st.subheader("Over training")
    if not moments:
        st.info("No checkpoints, videos or evaluations yet.")
        return
    by_step = {m.step: m for m in moments}
    steps = list(by_step)
    step = (
        steps[0]
        if len(steps) == 1
        else st.select_slider(
            "Step", steps, value=steps[-1], key=f"videos_step_{run.path.name}", format_func=lambda s: f"{s:,}"
        )
    )
    moment = by_step[step]
    left, right = st.columns([3, 2])
    with right:
        st.metric("Evaluation score at this step", timeline.score_text(moment.evaluation))
        st.write(f"Checkpoint: `{moment.checkpoint.name}`" if moment.checkpoint else "No checkpoint kept at this step.")
    with left:
        if moment.video is None:
            st.info("No training video at this step (videos are recorded every `video.freq` steps).")
        else:
            _video(moment.video)
    scored = [m for m in moments if m.evaluation]
    if scored:
        st.dataframe(
            [
                {
                    "step": m.step,
                    "score": timeline.score_text(m.evaluation),
                    "checkpoint": m.checkpoint.name if m.checkpoint else "",
                    "video": m.video.name if m.video else "",
                }
                for m in moments
            ],
            hide_index=True,
        )


def _recorded_videos(run: RunRecord, evals: dict[int, timeline.Evaluation]) -> None:
    recorded = timeline.recorded_videos(run.directory)
    if not recorded:
        return
    st.subheader("Made by `simple-game record`")
    names = [v.path.name for v in recorded]
    name = choose("Video", names, index=len(names) - 1, key=f"videos_record_{run.path.name}")
    video = recorded[names.index(name)]
    step = cache.checkpoint_step(run, video.checkpoint)
    where = f"checkpoint `{video.checkpoint}`" + (f" (step {step:,})" if step is not None else "")
    st.write(f"From {where}: evaluation score there {timeline.score_text(evals.get(step) if step else None)}.")
    _video(video.path)


def _video(path: Path) -> None:
    data, problem = cache.file_bytes(path)
    if data is None:
        st.warning(f"Video {problem}")
    else:
        st.video(data, format="video/mp4")
