"""The dashboard's plain modules over real runs and a real dataset: reading, curves, timeline, diff, frames.

The sample (``dashboard_sample``) is shared by the three dashboard test files and
scripts/dashboard_screenshots.py: three tiny PPO trainings on Breakout, trained at once (two
seeds of one variant and one other variant of a two-variant study), a ``record`` video, and
a random-tier dataset of two short games. About 20 s on two idle cores, once per process.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, SMOKE, cli_env

pytestmark = pytest.mark.slow  # real trainings, a sweep and a collection (once per session)
STUDY = "dash"
SAMPLE_SETS = [
    "total_timesteps=256",
    "checkpoint.freq=128",
    "checkpoint.keep=5",
    "eval.freq=128",
    "env.max_frames_per_episode=2000",
    "video.freq=128",
    "video.max_steps=20",
]
VARIANTS = {  # run name -> (variant, index, seed, extra --set)
    f"{STUDY}_base_seed0": ("base", 1, 0, []),
    f"{STUDY}_base_seed1": ("base", 1, 1, ["seed=1"]),
    f"{STUDY}_epochs2_seed0": ("epochs2", 2, 0, ["hyperparams.n_epochs=2"]),
}
DATA_EPISODES, DATA_STEPS = 2, 30
SWEEP = "tiny"  # two trials: the space tunes total_timesteps itself, and any score from step 160 on is pruned
SWEEP_SPACE = f"""
config: {SMOKE}
sampler: {{type: random, seed: 2}}
pruner: {{type: threshold, lower: 1000000, n_warmup_steps: 160}}
params:
  total_timesteps: {{type: choice, choices: [128, 256]}}
  hyperparams.ent_coef: {{type: uniform, low: 0.0, high: 0.05}}
"""
SWEEP_SETS = ["eval.freq=64", "env.max_frames_per_episode=2000", "checkpoint.freq=64", "logging.tensorboard=false"]


@dataclass(frozen=True)
class Sample:
    """Where the sample lives: ``runs`` (three runs, one with a recorded video; a sweep in ``runs/sweeps``) and ``data``."""

    root: Path
    runs: Path
    data: Path

    def run(self, name: str) -> Path:
        return next(p for p in self.runs.iterdir() if p.is_dir() and p.name.startswith(name + "_2"))


_SAMPLES: dict[str, Sample] = {}


def _env() -> dict[str, str]:
    env = cli_env()
    env["OMP_NUM_THREADS"] = "1"
    return env


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *args], cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _finish(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out[-3000:]


def sample_sets(steps: int) -> list[str]:
    """The runs' ``--set``: 256 steps for the tests; more (the screenshots) gives 4 evaluations and 2 videos a run."""
    if steps == 256:
        return SAMPLE_SETS
    every = steps // 4
    return [f"total_timesteps={steps}", f"checkpoint.freq={every}", "checkpoint.keep=5", f"eval.freq={every}"] + [
        "env.max_frames_per_episode=2000",
        f"video.freq={steps // 2}",
        "video.max_steps=60",
        "eval.episodes=2",
    ]


def build_sample(root: Path, steps: int = 256) -> Sample:
    """Train, record and collect the sample under ``root`` (real CLIs, in parallel where they can be)."""
    runs, data = root / "runs", root / "data"
    collect = root / "collect.yaml"
    collect.write_text(
        "env: {game: Breakout, protocol: classic, frame_stack: 4}\n"
        f"output: {data}\nepisodes: {DATA_EPISODES}\nmax_steps: {DATA_STEPS}\nseed: 0\nworkers: 0\n"
        "tiers:\n  - random: true\n"
    )
    space = root / "space.yaml"
    space.write_text(SWEEP_SPACE)
    sweep = ["--space", str(space), "--runs-dir", str(runs), "--trials", "2", "--study", SWEEP]
    procs = [
        _start("simple_game.collect", "--config", str(collect)),
        _start("simple_game", "sweep", *sweep, *[x for item in SWEEP_SETS for x in ("--set", item)]),
    ]
    for name, (_, _, _, extra) in VARIANTS.items():
        sets = [x for item in sample_sets(steps) + extra for x in ("--set", item)]
        procs.append(
            _start(
                "simple_game.train",
                "--config",
                str(SMOKE),
                "--runs-dir",
                str(runs),
                "--name",
                name,
                "--no-progress",
                *sets,
            )
        )
    _finish(procs)
    sample = Sample(root, runs, data)
    first = sample.run(f"{STUDY}_base_seed0")
    _finish([_start("simple_game.record", str(first), "--episodes", "1", "--max-steps", "10")])
    return sample


def mark_study(sample: Sample) -> None:
    """Mark the sample's runs as one study, with the study launcher's own writer of study.json."""
    from simple_game.studies.membership import Member, write_member

    for name, (variant, index, seed, _) in VARIANTS.items():
        config = f"configs/ablations/{STUDY}/{index:02d}_{variant}.yaml"
        member = Member(study=STUDY, kind="series", variant=variant, index=index, seed=seed, config=config)
        write_member(sample.run(name), member)


def shared_sample(factory: pytest.TempPathFactory) -> Sample:
    """The sample, built once per test session: xdist workers share one, the first builds it under a lock."""
    if "sample" not in _SAMPLES:
        from simple_game.fsio import locked

        base = factory.getbasetemp()
        root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "dashboard_sample"
        root.mkdir(exist_ok=True)
        with locked(root):
            if not (root / "ready").exists():
                for old in (root / "runs", root / "data"):
                    shutil.rmtree(old, ignore_errors=True)
                mark_study(build_sample(root))
                (root / "ready").write_text("")
        _SAMPLES["sample"] = Sample(root, root / "runs", root / "data")
    return _SAMPLES["sample"]


def tree_state(*roots: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``roots``: size, modification time and sha256 (to show nothing was written)."""
    state = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            st = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            state[str(path)] = (st.st_size if path.is_file() else 0, st.st_mtime_ns, digest)
    return state


def copy_run(sample: Sample, name: str, dest: Path) -> Path:
    """A copy of one sample run under ``dest`` (to damage it without touching the shared sample)."""
    target = dest / sample.run(name).name
    shutil.copytree(sample.run(name), target)
    return target


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return shared_sample(tmp_path_factory)


# --------------------------------------------------------------------------- files and runs


def test_a_half_written_last_line_is_left_out_with_a_warning(sample: Sample, tmp_path: Path) -> None:
    from simple_game.dashboard.files import read_csv

    run = copy_run(sample, f"{STUDY}_base_seed0", tmp_path)
    whole = read_csv(run / "progress.csv")
    assert whole.warnings == [] and whole.rows >= 2
    with open(run / "progress.csv", "a") as fh:
        fh.write("99,3")  # a row cut off mid-write: no newline yet
    torn = read_csv(run / "progress.csv")
    assert torn.rows == whole.rows and torn.columns.keys() == whole.columns.keys()
    assert torn.warnings == ["progress.csv: the last line is still being written; it is left out"]


def test_runs_are_listed_with_warnings_for_a_broken_summary_and_no_evaluations(sample: Sample, tmp_path: Path) -> None:
    from simple_game.dashboard.runlist import list_runs, run_row, run_warnings

    broken = copy_run(sample, f"{STUDY}_base_seed0", tmp_path)
    (broken / "summary.json").write_text('{"experiment": "dash", ')
    young = copy_run(sample, f"{STUDY}_base_seed1", tmp_path)
    (young / "eval.csv").unlink()
    runs = {r.path.name: r for r in list_runs(tmp_path)}
    assert set(runs) == {broken.name, young.name}
    assert [w.split(" (")[0] for w in run_warnings(runs[broken.name])] == ["summary.json is broken"]
    assert run_warnings(runs[young.name]) == ["no evaluations yet (no eval.csv)"]
    assert run_row(runs[broken.name])["status"] == "broken summary"
    assert run_row(runs[young.name])["status"] == "finished" and run_row(runs[young.name])["seed"] == 1


def test_a_run_that_says_running_but_is_not_trained_is_called_killed(sample: Sample, tmp_path: Path) -> None:
    """kill -9 leaves summary.json at "running"; the training lock tells a live run from a dead one."""
    from simple_game.dashboard.runlist import list_runs, run_warnings
    from simple_game.runlock import training_lock

    run = copy_run(sample, f"{STUDY}_base_seed0", tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps(summary | {"status": "running"}))
    (listed,) = list_runs(tmp_path)
    killed = "summary.json says running but no process trains it: it was killed; train --resume continues it"
    assert killed in run_warnings(listed)
    with training_lock(run):  # this process trains it now: no warning
        assert not any("killed" in w for w in run_warnings(listed))
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").mkdir()
    assert any(w.endswith("it was killed; before its first checkpoint") for w in run_warnings(list_runs(tmp_path)[0]))


# --------------------------------------------------------------------------- curves


def test_any_column_against_steps_or_wall_time_and_smoothing(sample: Sample) -> None:
    from simple_game.dashboard.curves import EVAL, PROGRESS, STEPS, WALL, Metric, metrics_of, series, smooth
    from simple_game.dashboard.files import read_csv

    run = sample.run(f"{STUDY}_base_seed0")
    progress, evals = read_csv(run / "progress.csv"), read_csv(run / "eval.csv")
    metrics = metrics_of([(PROGRESS, progress), (EVAL, evals)])
    assert metrics[:2] == [Metric(PROGRESS, "rollout/ep_rew_mean"), Metric(EVAL, "mean_score")]
    assert Metric(PROGRESS, "train/value_loss") in metrics and Metric(EVAL, "std_score") in metrics
    assert not any(m.column in ("timesteps", "time/total_timesteps") for m in metrics)
    steps, scores = series(evals, Metric(EVAL, "mean_score"), STEPS)
    assert steps == [128.0, 256.0] and len(scores) == 2
    wall, _ = series(evals, Metric(EVAL, "mean_score"), WALL)
    assert 0 < wall[0] < wall[1]
    assert smooth([1, 2, 3, 4], 2) == [1.0, 1.5, 2.5, 3.5] and smooth([1, 5], 1) == [1, 5]


# --------------------------------------------------------------------------- the video timeline


def test_timeline_lines_up_checkpoints_videos_and_scores(sample: Sample, tmp_path: Path) -> None:
    from simple_game.dashboard.files import read_csv
    from simple_game.dashboard.timeline import checkpoint_step, evaluations, recorded_videos, run_timeline
    from simple_game.runs import RunDirectory

    run = RunDirectory(sample.run(f"{STUDY}_base_seed0"))
    evals = evaluations(read_csv(run.eval_csv))
    moments, warnings = run_timeline(run, evals)
    assert warnings == [] and [m.step for m in moments] == [128, 256]
    assert all(m.checkpoint and m.video and m.evaluation for m in moments)
    assert moments[1].evaluation.step == 256 and moments[1].evaluation.episodes == 1
    (recorded,) = recorded_videos(run)
    assert recorded.checkpoint == "best" and recorded.stamp
    assert checkpoint_step(run, "best") in (128, 256) and checkpoint_step(run, "step_128") == 128

    damaged = RunDirectory(copy_run(sample, f"{STUDY}_base_seed0", tmp_path))
    (damaged.videos_dir / "step_256.mp4").unlink()
    moments, _ = run_timeline(damaged, evals)
    assert moments[1].video is None and moments[1].evaluation is not None
    shutil.rmtree(damaged.videos_dir)
    moments, warnings = run_timeline(damaged, evals)
    assert warnings == ["no videos folder"] and [m.step for m in moments] == [128, 256]


# --------------------------------------------------------------------------- comparison and diff


def test_seeds_are_pooled_into_a_median_with_band(sample: Sample) -> None:
    from simple_game.dashboard.comparison import final_score, group_curves, group_scores, run_scores
    from simple_game.dashboard.files import read_csv
    from simple_game.pooling import group_seeds
    from simple_game.runs import find_runs

    runs = find_runs(sample.runs)
    tables = {r.path.name: read_csv(r.directory.eval_csv) for r in runs}
    groups = group_seeds(runs)
    assert sorted(len(g.runs) for g in groups) == [1, 2]
    curves = {c.label: c for c in group_curves(groups, tables)}
    pooled = next(c for c in curves.values() if len(c.runs) == 2)
    assert pooled.label.endswith("(median of 2 seeds, IQR band)") and pooled.pooled
    assert (pooled.frame["low"] <= pooled.frame["value"] + 1e-9).all()
    assert (pooled.frame["value"] <= pooled.frame["high"] + 1e-9).all()
    (row,) = group_scores(groups, tables)
    assert row["runs"] == 2 and row["evaluated"] == 2 and "CI" in row["final IQM"]
    scores = {r["run"]: r for r in run_scores(groups, tables)}
    for run in runs:
        assert scores[run.path.name]["final score"] == final_score(tables[run.path.name])
        assert scores[run.path.name]["evaluations"] == 2


def test_config_diff_shows_only_what_differs(sample: Sample) -> None:
    import yaml

    from simple_game.dashboard.configdiff import NOT_SET, config_diff, diff_rows

    def config(name: str) -> dict:
        return yaml.safe_load((sample.run(name) / "config.yaml").read_text())

    diffs = {d.key: d for d in config_diff(config(f"{STUDY}_base_seed0"), config(f"{STUDY}_epochs2_seed0"))}
    assert set(diffs) == {"name", "hyperparams.n_epochs"}
    assert (diffs["hyperparams.n_epochs"].left, diffs["hyperparams.n_epochs"].right) == ("1", "2")
    assert diffs["name"].run_only and not diffs["hyperparams.n_epochs"].run_only
    seeds = {d.key: d for d in config_diff(config(f"{STUDY}_base_seed0"), config(f"{STUDY}_base_seed1"))}
    assert set(seeds) == {"name", "seed"} and all(d.run_only for d in seeds.values())
    extra = config_diff({"a": {"b": 1}}, {"a": {"b": 1, "c": [1, 2]}})
    assert [(d.key, d.left, d.right) for d in extra] == [("a.c", NOT_SET, "[1, 2]")]
    assert diff_rows(extra, "x", "x")[0] == {"setting": "a.c", "x": NOT_SET, "x (2)": "[1, 2]", "run-only": ""}


# --------------------------------------------------------------------------- studies


def test_a_series_reads_in_order_with_intervals(sample: Sample, tmp_path: Path) -> None:
    from simple_game.dashboard.comparison import final_score
    from simple_game.dashboard.files import read_csv
    from simple_game.dashboard.studies import group_studies, read_membership, seed_points, variant_rows
    from simple_game.runs import find_runs

    runs = find_runs(sample.runs)
    members = [(read_membership(r.path)[0], r) for r in runs]
    (study,) = group_studies([(m, r) for m, r in members if m is not None])
    assert study.name == STUDY and study.variants() == [(1, "base"), (2, "epochs2")]
    finals = {r.path.name: final_score(read_csv(r.directory.eval_csv)) for r in runs}
    rows = variant_rows(study, finals)
    assert [r["variant"] for r in rows] == ["base", "epochs2"]
    assert rows[0]["seeds"] == 2 and rows[0]["CI low"] <= rows[0]["IQM"] <= rows[0]["CI high"]
    assert rows[1]["seeds"] == 1 and rows[1]["CI low"] is None and not math.isnan(rows[1]["IQM"])
    assert len(seed_points(study, finals)) == 3

    # seed 1 of base killed before its first checkpoint, then trained anew: the stub is no seed of its own
    copy = tmp_path / "runs"
    shutil.copytree(sample.runs, copy)
    real = copy / sample.run(f"{STUDY}_base_seed1").name
    stub = copy / f"{STUDY}_base_seed1_20991231-000000"
    stub.mkdir()
    for name in ("config.yaml", "study.json"):
        shutil.copy(real / name, stub / name)
    (stub / "summary.json").write_text(json.dumps({"status": "running", "steps_done": 0}))
    (stub / "progress.csv").write_text("time/total_timesteps\n64\n")
    runs = find_runs(copy)
    members = [(read_membership(r.path)[0], r) for r in runs]
    (study,) = group_studies([(m, r) for m, r in members if m is not None])
    assert [r.path.name for _, r in study.runs_of("base")] == [sample.run(f"{STUDY}_base_seed0").name, real.name]
    assert variant_rows(study, finals)[0]["seeds"] == 2


def test_an_unusable_study_record_is_a_reason_not_an_error(tmp_path: Path) -> None:
    from simple_game.dashboard.studies import read_membership

    assert read_membership(tmp_path) == (None, None)
    (tmp_path / "study.json").write_text("[1, 2]")
    assert read_membership(tmp_path)[1] == "study.json: not a JSON object"
    (tmp_path / "study.json").write_text(json.dumps({"kind": "series"}))
    assert read_membership(tmp_path)[1].startswith("study.json: unusable")


# --------------------------------------------------------------------------- datasets


def test_dataset_tiers_episodes_and_one_step_beside_its_frame(sample: Sample) -> None:
    from simple_game.dashboard.gameplay import enlarge, episode_rows, find_datasets, step_view, tier_rows
    from simple_game.dataset import open_dataset

    assert find_datasets(sample.data) == [sample.data] and find_datasets(sample.root) == [sample.data]
    reader = open_dataset(sample.data)
    (tier,) = tier_rows(reader)
    assert tier["tier"] == "skill_level_0" and tier["episodes"] == DATA_EPISODES
    assert tier["train"] + tier["validation"] == DATA_EPISODES and tier["frames"] == DATA_EPISODES * (DATA_STEPS + 1)
    rows = episode_rows(reader, "skill_level_0")
    assert [r["actions"] for r in rows] == [DATA_STEPS] * DATA_EPISODES
    steps = reader.load_steps(rows[0]["episode"])
    first = step_view(steps, 0, reader.action_meanings)
    assert first.action == int(steps.actions[0]) and first.action_name == reader.action_meanings[first.action]
    assert first.lives == int(steps.lives[0]) and first.lives_after == int(steps.lives[1])
    last = step_view(steps, DATA_STEPS, reader.action_meanings)
    assert last.action is None and last.rows()[0] == ("frame", f"{DATA_STEPS} of {DATA_STEPS} (after the last action)")
    assert last.return_so_far == float(steps.rewards.sum())
    frame = reader.load_frames(rows[0]["episode"], 3, 4)[0]
    assert enlarge(frame, 3).shape == (frame.shape[0] * 3, frame.shape[1] * 3)
    assert (enlarge(frame, 3)[::3, ::3] == frame).all()


def test_the_command_without_streamlit_says_how_to_install_it() -> None:
    probe = (
        "import sys; sys.modules['streamlit'] = None\nfrom simple_game.cli.dashboard import main\nsys.exit(main([]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], env=_env(), cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr == 'error: the dashboard needs Streamlit: pip install -e ".[dashboard]"\n'


# --------------------------------------------------------------------------- sweeps


def test_a_sweep_reads_its_trials_and_best_values(sample: Sample, tmp_path: Path) -> None:
    from simple_game.dashboard.sweeps import best_rows, find_sweeps, headline, read_sweep, trials_frame

    (folder,) = find_sweeps(sample.runs)
    assert folder == sample.runs / "sweeps" / SWEEP and find_sweeps(folder) == [folder]
    sweep = read_sweep(folder)
    assert sweep.problems == [] and sweep.name == SWEEP
    assert [t["state"] for t in sweep.trials] == ["complete", "pruned"]
    assert [t["total_timesteps"] for t in sweep.trials] == [128, 256]
    best = {r["parameter"]: r["value"] for r in best_rows(sweep)}
    assert set(best) == {"total_timesteps", "hyperparams.ent_coef"} and best["total_timesteps"] == "128"
    assert headline(sweep).startswith("2 of 2 trials finished (1 complete, 1 pruned)")
    assert trials_frame(sweep)["score"].tolist()[1].startswith("(")  # pruned: its last evaluation, as text
    broken = tmp_path / "sweeps" / "x"
    broken.mkdir(parents=True)
    (broken / "sweep.json").write_text("{")
    assert [p.split(":")[0] for p in read_sweep(broken).problems] == ["sweep.json", "sweep.md"]
