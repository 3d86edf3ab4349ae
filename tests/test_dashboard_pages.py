"""Every dashboard page through Streamlit's AppTest, on real runs and a real dataset (test_dashboard_data's sample).

Each page is run as the browser would run it (the real script, widgets set by the test), and
the malformed folders a real runs/ holds (a run being written, no evaluations, a broken
summary.json, a missing video) each get a short warning while the page carries on. Nothing
is ever written into the runs or data folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from test_dashboard_data import STUDY, VARIANTS, Sample, copy_run, shared_sample, tree_state

pytestmark = pytest.mark.slow  # real trainings, a sweep and a collection (once per session)
PAGES = ["Training curves", "Videos", "Compare runs", "Ablations", "Config diff", "Datasets", "Sweeps"]


def _app(runs: str, data: str, page: str) -> None:
    from simple_game.dashboard.app import main

    main(runs, data, page)


def open_page(runs: Path, data: Path, page: str) -> AppTest:
    at = AppTest.from_function(_app, args=(str(runs), str(data), page), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list[dict]:
    """The Vega-Lite specs of the page's charts, with their data sets as lists of rows."""
    import pyarrow as pa

    found = []
    for element in at.main:
        if getattr(element, "type", None) == "vega_lite_chart":
            spec = json.loads(element.proto.spec)
            rows = []
            for dataset in element.proto.datasets:
                rows += pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
            found.append({"spec": spec, "rows": rows})
    return found


def videos(at: AppTest) -> list:
    return [e for e in at.main if getattr(e, "type", None) == "video"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return shared_sample(tmp_path_factory)


def test_every_page_renders_and_nothing_is_written(sample: Sample) -> None:
    before = tree_state(sample.runs, sample.data)
    for page in PAGES:
        at = open_page(sample.runs, sample.data, page)
        assert at.header[0].value == page
        assert not at.warning, (page, [w.value for w in at.warning])
    assert tree_state(sample.runs, sample.data) == before


def test_training_curves_any_metric_smoothed_by_steps_or_wall_time(sample: Sample) -> None:
    at = open_page(sample.runs, sample.data, "Training curves")
    (chart,) = charts(at)
    assert {r["run"] for r in chart["rows"]} == {sample.run(name).name for name in VARIANTS}
    assert chart["spec"]["encoding"]["x"]["title"] == "agent steps"
    at.selectbox(key="curves_metric").set_value(
        next(m for m in at.selectbox(key="curves_metric").options if m.startswith("mean_score"))
    )
    metric = next(o for o in at.selectbox(key="curves_metric").options if o.startswith("mean_score"))
    assert metric == "mean_score (eval.csv)"
    at.radio(key="curves_axis").set_value("wall time (s)").run()
    (chart,) = charts(at)
    assert chart["spec"]["encoding"]["x"]["title"] == "wall time (s)"
    assert len(chart["rows"]) == 3 * 2  # three runs, two evaluations each
    at.number_input(key="curves_window").set_value(2).run()
    (smoothed,) = charts(at)
    first = sorted((r for r in smoothed["rows"] if r["run"] == chart["rows"][0]["run"]), key=lambda r: r["x"])
    raw = sorted((r for r in chart["rows"] if r["run"] == chart["rows"][0]["run"]), key=lambda r: r["x"])
    assert first[1]["value"] == pytest.approx((raw[0]["value"] + raw[1]["value"]) / 2)


def test_videos_slider_over_checkpoints_with_scores(sample: Sample) -> None:
    at = open_page(sample.runs, sample.data, "Videos")
    run = sample.run(f"{STUDY}_base_seed0").name
    at.selectbox(key="videos_run").set_value(run).run()
    slider = at.select_slider(key=f"videos_step_{run}")
    assert slider.options == ["128", "256"] and slider.value == 256
    assert at.metric[0].value.endswith("over 1 game")
    assert len(videos(at)) == 2  # the training video at 256, and the one `record` made
    slider.set_value(128).run()
    score = at.metric[0].value
    rows = (sample.run(f"{STUDY}_base_seed0") / "eval.csv").read_text().splitlines()
    assert score.startswith(f"{float(rows[1].split(',')[1]):.1f} ±")
    assert any("checkpoint `best`" in m.value for m in at.markdown)


def test_compare_runs_pools_seeds_as_median_with_iqr(sample: Sample) -> None:
    at = open_page(sample.runs, sample.data, "Compare runs")
    (chart,) = charts(at)
    labels = {r["experiment"] for r in chart["rows"]}
    assert labels == {f"{STUDY}_base (median of 2 seeds, IQR band)", f"{STUDY}_epochs2"}
    assert all(r["low"] <= r["value"] + 1e-9 <= r["high"] + 2e-9 for r in chart["rows"])
    pooled, per_run = at.dataframe
    assert list(pooled.value["experiment"]) == [f"{STUDY}_base"] and list(pooled.value["runs"]) == [2]
    assert len(per_run.value) == 3 and per_run.value["evaluations"].tolist() == [2, 2, 2]


def test_ablations_in_series_order_and_none_without_a_study(sample: Sample, tmp_path: Path) -> None:
    at = open_page(sample.runs, sample.data, "Ablations")
    (table,) = at.dataframe
    assert list(table.value["variant"]) == ["base", "epochs2"] and list(table.value["seeds"]) == [2, 1]
    (chart,) = charts(at)
    assert len([r for r in chart["rows"] if "seed" in r]) == 3
    copy_run(sample, f"{STUDY}_base_seed0", tmp_path)
    (next(tmp_path.iterdir()) / "study.json").unlink()
    at = open_page(tmp_path, sample.data, "Ablations")
    assert at.info[0].value.startswith("No studies found")
    at = open_page(tmp_path, sample.data, "Sweeps")
    assert at.info[0].value.startswith("No sweeps found")


def test_config_diff_of_two_runs_shows_only_differing_keys(sample: Sample) -> None:
    at = open_page(sample.runs, sample.data, "Config diff")
    left, right = sample.run(f"{STUDY}_base_seed0").name, sample.run(f"{STUDY}_epochs2_seed0").name
    at.selectbox(key="diff_left").set_value(left)
    at.selectbox(key="diff_right").set_value(right).run()
    (table,) = at.table
    assert list(table.value["setting"]) == ["name", "hyperparams.n_epochs"]
    assert list(table.value[left]) == [f"{STUDY}_base_seed0", "1"] and list(table.value[right])[1] == "2"
    at.checkbox(key="diff_hide_run_only").check().run()
    (table,) = at.table
    assert list(table.value["setting"]) == ["hyperparams.n_epochs"]
    at.selectbox(key="diff_right").set_value(sample.run(f"{STUDY}_base_seed1").name).run()
    assert "seeds of one experiment" in at.success[0].value


def test_datasets_tiers_and_the_episode_viewer(sample: Sample) -> None:
    at = open_page(sample.runs, sample.data, "Datasets")
    tiers = at.dataframe[0].value
    assert list(tiers["tier"]) == ["skill_level_0"] and list(tiers["episodes"]) == [2]
    episode = at.selectbox(key="data_episode").value
    at.slider(key=f"data_frame_{episode}").set_value(5).run()
    facts = dict(zip(at.table[0].value["what"], at.table[0].value["value"]))
    steps = json.loads((sample.data / "raw_gameplay" / episode / "episode.json").read_text())
    assert facts["frame"] == f"5 of {steps['length']}"
    assert facts["action"] == f"{steps['actions'][5]} {steps['action_names'][5]}"
    assert facts["lives"].startswith(f"{steps['lives'][4]} -> {steps['lives'][5]}")
    assert len(at.image) == 1


# --------------------------------------------------------------------------- real folders are untidy


def _damaged(sample: Sample, tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in (f"{STUDY}_base_seed0", f"{STUDY}_base_seed1", f"{STUDY}_epochs2_seed0"):
        copy_run(sample, name, runs)
    return runs


def _warnings(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


def test_a_run_still_being_written(sample: Sample, tmp_path: Path) -> None:
    runs = _damaged(sample, tmp_path)
    run = next(p for p in runs.iterdir() if p.name.startswith(f"{STUDY}_base_seed1"))
    for log in ("progress.csv", "eval.csv"):
        with open(run / log, "a") as fh:
            fh.write("384,0.")
    for page in ("Training curves", "Compare runs", "Videos"):
        at = open_page(runs, sample.data, page)
        if page == "Videos":
            at.selectbox(key="videos_run").set_value(run.name).run()
        assert f"{run.name}: eval.csv: the last line is still being written" in _warnings(at), page
        assert charts(at) or videos(at), page


def test_a_run_with_no_evaluations_yet(sample: Sample, tmp_path: Path) -> None:
    runs = _damaged(sample, tmp_path)
    for run in runs.iterdir():
        (run / "eval.csv").unlink()
    at = open_page(runs, sample.data, "Compare runs")
    assert _warnings(at).count("no evaluations yet") == 3
    assert at.info[0].value == "None of the picked runs has been evaluated yet."
    assert at.dataframe[-1].value["final score"].isna().all()
    at = open_page(runs, sample.data, "Training curves")
    assert charts(at)  # progress.csv is still there


def test_a_broken_summary(sample: Sample, tmp_path: Path) -> None:
    runs = _damaged(sample, tmp_path)
    broken = next(p for p in runs.iterdir() if p.name.startswith(f"{STUDY}_epochs2"))
    (broken / "summary.json").write_text("{not json")
    for page in ("Training curves", "Compare runs", "Config diff", "Ablations"):
        at = open_page(runs, sample.data, page)
        if page == "Config diff":
            at.selectbox(key="diff_left").set_value(broken.name).run()
        if page != "Ablations":
            assert f"{broken.name}: summary.json is broken" in _warnings(at), page
    at = open_page(runs, sample.data, "Compare runs")
    assert len(at.dataframe[-1].value) == 3


def test_a_missing_video(sample: Sample, tmp_path: Path) -> None:
    runs = _damaged(sample, tmp_path)
    run = next(p for p in runs.iterdir() if p.name.startswith(f"{STUDY}_base_seed0"))
    (run / "videos" / "step_256.mp4").unlink()
    at = open_page(runs, sample.data, "Videos")
    at.selectbox(key="videos_run").set_value(run.name).run()
    assert any(i.value.startswith("No training video at this step") for i in at.info)
    assert at.metric[0].value.endswith("over 1 game")
    shutil.rmtree(run / "videos")
    at = open_page(runs, sample.data, "Videos")
    at.selectbox(key="videos_run").set_value(run.name).run()
    assert f"{run.name}: no videos folder" in _warnings(at)
    assert at.select_slider(key=f"videos_step_{run.name}").options == ["128", "256"]


def test_no_runs_and_no_data(tmp_path: Path) -> None:
    for page in PAGES:
        at = open_page(tmp_path / "runs", tmp_path / "data", page)
        assert at.info and at.info[0].value.startswith("No "), page


def test_sweeps_trials_and_best_parameters(sample: Sample) -> None:
    at = open_page(sample.runs, sample.data, "Sweeps")
    best = dict(zip(at.table[0].value["parameter"], at.table[0].value["value"]))
    assert set(best) == {"total_timesteps", "hyperparams.ent_coef"}
    trials = at.dataframe[0].value
    assert list(trials["trial"]) == [0, 1] and list(trials["state"]) == ["complete", "pruned"]
    assert "2 of 2 trials finished" in at.markdown[0].value
