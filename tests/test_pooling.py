"""Pooling seeds, one row of panels per game, output paths checked first, where the log lives.

Issues 21 (items 3, 4, 5, 10) and 22 (item 3). The command-level checks run the real
``python -m simple_game.report`` on run folders written by hand (see test_report.py).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from simple_game.errors import SimpleGameError
from simple_game.runs import find_runs
from test_report import NOTES, assert_png, make_run, results_rows, run_report


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# -------------------------------------------------------------------------------- pooling


def test_budgets_that_differ_are_two_groups(tmp_path: Path) -> None:
    """Issue 22.3: 5,120 and 7,680 steps are two experiments (schedules follow the budget)."""
    runs = tmp_path / "runs"
    for seed, stamp in enumerate(("20240501-090000", "20240502-090000", "20240503-090000")):
        make_run(runs, "ppo_pong", stamp, seed=seed, steps=5120)
    make_run(runs, "ppo_pong", "20240504-090000", seed=0, steps=7680)
    result = run_report(tmp_path, "--no-table")
    assert result.returncode == 0, result.stderr
    assert (
        "pooled ppo_pong x3 (seeds 0, 1, 2); kept apart: ppo_pong_20240504-090000 differs in "
        "total_timesteps (7680 vs 5120), drawn as 'ppo_pong (config 2)'"
    ) in result.stdout
    assert "(ppo_pong x3, ppo_pong (config 2))" in result.stdout


def test_run_only_settings_pool_and_eval_protocol_does_not(tmp_path: Path) -> None:
    """Device, logging, checkpoints, milestones, videos, eval cadence, threads may differ; eval.episodes may not."""
    runs = tmp_path / "runs"
    make_run(runs, "ppo_pong", "20240501-090000", seed=0, extra_config="eval:\n  episodes: 10\n  freq: 1000\n")
    run_only = (
        "device: cuda\nlogging:\n  progress_bar: false\ncheckpoint:\n  freq: 5\n  keep: 1\n"
        "milestones:\n  thresholds: [1, 2]\nvideo:\n  freq: 100\neval:\n  episodes: 10\n  freq: 7\n  n_envs: 4\n"
        "compute:\n  threads: 2\n  compile: 'off'\n  channels_last: 'on'\n"
    )
    make_run(runs, "ppo_pong", "20240502-090000", seed=1, extra_config=run_only)
    make_run(runs, "ppo_pong", "20240503-090000", seed=2, extra_config="eval:\n  episodes: 5\n  freq: 1000\n")
    result = run_report(tmp_path, "--no-table")
    assert result.returncode == 0, result.stderr
    assert (
        "pooled ppo_pong x2 (seeds 0, 1); kept apart: ppo_pong_20240503-090000 differs in eval.episodes (5 vs 10)"
    ) in result.stdout


def test_groups_name_the_first_differences_in_config_order(tmp_path: Path) -> None:
    from simple_game.pooling import Difference, describe_pooling, group_seeds

    runs = tmp_path / "runs"
    make_run(runs, "dqn_breakout", "20240501-090000", seed=0, algo="dqn", game="Breakout")
    make_run(runs, "dqn_breakout", "20240502-090000", seed=1, algo="dqn", game="Breakout")
    make_run(
        runs,
        "dqn_breakout",
        "20240503-090000",
        seed=0,
        algo="dqn",
        game="Breakout",
        steps=50_176,
        extra_config="hyperparams:\n  gamma: 0.98\n  buffer_size: 1000\n  exploration_fraction: 0.2\n"
        "compute:\n  bf16: true\n",
    )
    make_run(runs, "ppo_pong", "20240504-090000", seed=0)  # alone under its name: nothing to explain
    (runs / "dqn_breakout_20240505-090000").mkdir()
    (runs / "dqn_breakout_20240505-090000" / "progress.csv").write_text("time/total_timesteps\n1024\n")
    groups = group_seeds(find_runs(runs))
    assert [(g.label, len(g.runs)) for g in groups] == [
        ("dqn_breakout", 2),
        ("dqn_breakout (config 2)", 1),
        ("ppo_pong", 1),
        ("dqn_breakout (config 3)", 1),  # no config.yaml: never pooled with anything
    ]
    first, second, pong, unreadable = groups
    assert (first.game, first.algo, first.seeds, first.differences) == ("Breakout", "dqn", [0, 1], ())
    assert second.compared_with == "dqn_breakout"
    assert second.differences[0] == Difference("total_timesteps", 50_176, 100_000)
    assert [str(d) for d in second.differences[1:]] == [
        "hyperparams.gamma (0.98 vs not set)",
        "hyperparams.buffer_size (1000 vs not set)",
    ]
    assert second.more_differences == 2  # exploration_fraction and compute.bf16
    assert [str(d) for d in unreadable.differences] == ["config.yaml (unreadable vs read)"]
    lines = describe_pooling(groups)
    assert len(lines) == 1 and lines[0].startswith("pooled dqn_breakout x2 (seeds 0, 1); kept apart: ")
    assert "and 2 more, drawn as 'dqn_breakout (config 2)'" in lines[0]
    assert "ppo_pong" not in lines[0]


def test_a_seed_counts_once(tmp_path: Path) -> None:
    """A run killed before its first checkpoint and started anew is not a second sample of its seed.

    A study restarts such a run from scratch in a new folder; pooling both would draw seed 2
    twice (one of them a stub of 30k steps) and shift the median. The furthest run is pooled,
    the other is named as left out.
    """
    from simple_game.pooling import group_seeds

    runs = tmp_path / "runs"
    make_run(runs, "ppo_pong", "20240501-090000", seed=0)
    make_run(runs, "ppo_pong", "20240501-090001", seed=1)
    stub = make_run(runs, "ppo_pong", "20240501-090002", seed=2, steps=30_000, budget=100_000, status="running")
    (stub / "eval.csv").unlink()  # killed before its first evaluation
    make_run(runs, "ppo_pong", "20240501-100000", seed=2)
    again = make_run(runs, "ppo_pong", "20240501-110000", seed=1, steps=50_000, budget=100_000, status="killed")
    (group,) = group_seeds(find_runs(runs))
    assert sorted(group.seeds) == [0, 1, 2]
    assert {run.path for run in group.repeats} == {stub, again}
    result = run_report(tmp_path, "--no-table")
    assert result.returncode == 0, result.stderr
    assert "pooled ppo_pong x3 (seeds 0, 1, 2); left out, a seed already pooled from a run that got further: " in (
        result.stdout
    )
    assert "ppo_pong_20240501-090002 (seed 2)" in result.stdout and "ppo_pong_20240501-110000 (seed 1)" in result.stdout


def test_run_only_list_is_precise() -> None:
    from simple_game.runs import RUN_ONLY_SETTINGS, is_run_only

    assert "total_timesteps" not in RUN_ONLY_SETTINGS
    for key in ("seed", "device", "logging.tensorboard", "checkpoint.save_replay_buffer", "eval.freq", "eval.n_envs"):
        assert is_run_only(key), key
    for key in ("total_timesteps", "eval.episodes", "eval.deterministic", "compute.bf16", "env.game", "evaluation"):
        assert not is_run_only(key), key


# -------------------------------------------------------------------------------- per game


def _three_games(runs: Path) -> None:
    make_run(runs, "dqn_breakout", "20240501-090000", seed=0, algo="dqn", game="Breakout", slope=0.01)
    make_run(runs, "dqn_breakout", "20240502-090000", seed=1, algo="dqn", game="Breakout", slope=0.01)
    make_run(runs, "ppo_breakout", "20240503-090000", seed=0, algo="ppo", game="Breakout", slope=0.02)
    make_run(runs, "ppo_mspacman", "20240504-090000", seed=0, algo="ppo", game="MsPacman", slope=10)


def test_comparison_has_one_row_of_panels_per_game(tmp_path: Path) -> None:
    """Issue 21.4 and 21.10: MsPacman's ~250 does not flatten Breakout; titles name the game; agent steps."""
    from simple_game.plots import comparison_figure, load_curves
    from simple_game.pooling import group_seeds

    _three_games(tmp_path / "runs")
    runs = find_runs(tmp_path / "runs")
    fig = comparison_figure(group_seeds(runs), {r.path: load_curves(r) for r in runs})
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [
        "Breakout: training score (rollout/ep_rew_mean)",
        "Breakout: evaluation score (mean over eval episodes)",
        "MsPacman: training score (rollout/ep_rew_mean)",
        "MsPacman: evaluation score (mean over eval episodes)",
    ]
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in axes]  # type: ignore[union-attr]
    assert legends[0] == ["dqn_breakout (dqn, median of 2 runs, IQR band)", "ppo_breakout (ppo, 1 run)"]
    assert legends[2] == ["ppo_mspacman (ppo, 1 run)"]
    assert all(ax.get_xlabel() == "agent steps" for ax in axes)
    assert axes[1].get_ylim()[1] < 50 < axes[3].get_ylim()[1]  # Breakout keeps its own scale

    result = run_report(tmp_path, "--no-table")
    assert result.returncode == 0, result.stderr
    from PIL import Image

    png = tmp_path / "runs" / "report" / "comparison.png"
    assert_png(png, min_size=(1000, 900))
    with Image.open(png) as img:
        assert img.size[1] >= 2 * 4.6 * 100  # two rows
    assert "pooled dqn_breakout x2 (seeds 0, 1)" in result.stdout


def test_report_help_says_one_row_per_game() -> None:
    from simple_game.cli import report

    assert "one row of panels per game" in " ".join(report.build_parser().format_help().split())
    assert "per game" in (report.__doc__ or "")


# -------------------------------------------------------------------------------- output paths


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    make_run(tmp_path / "runs", "ppo_pong", "20240501-090000", seed=0)
    make_run(tmp_path / "runs", "ppo_pong", "20240502-090000", seed=1)
    (tmp_path / "experiments.md").write_text(NOTES, encoding="utf-8", newline="")
    (tmp_path / "a_file").write_text("not a folder\n")
    return tmp_path


def _one_line_error_and_nothing_written(project: Path, result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""
    assert (project / "experiments.md").read_bytes() == NOTES.encode("utf-8")
    assert not list(project.rglob("*.png")), "a PNG was written"
    assert not (project / "runs" / "report").exists()


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--out", "a_file"), ("--out a_file: is a file, not a folder",)),
        (("--out", "a_file/plots"), ("--out a_file/plots: cannot be created: a_file is a file",)),
        (
            ("--experiments-md", "a_file/experiments.md"),
            ("--experiments-md a_file/experiments.md: its folder a_file is a file",),
        ),
        (("--experiments-md", "runs"), ("--experiments-md runs: is a folder, not a file",)),
        (("--runs-dir", "runs", "--out", "a_file/x/y"), ("cannot be created: a_file is a file",)),
    ],
)
def test_bad_output_paths_fail_before_any_work(project: Path, args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    """Issue 21.3: a file where a folder goes, a parent that is a file: one line, exit 2, nothing written."""
    before = _tree(project)
    _one_line_error_and_nothing_written(project, run_report(project, *args), *needles)
    assert _tree(project) == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_out_fails_before_any_work(project: Path) -> None:
    locked_dir = project / "readonly"
    locked_dir.mkdir()
    locked_dir.chmod(0o555)
    try:
        result = run_report(project, "--out", "readonly/plots")
        _one_line_error_and_nothing_written(project, result, "--out readonly/plots: cannot be created", "not writable")
        result = run_report(project, "--out", "readonly")
        _one_line_error_and_nothing_written(project, result, "--out readonly: is not writable")
    finally:
        locked_dir.chmod(0o755)


def test_output_checks_name_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reusable checks (simple_game.outputs), including a place without write permission."""
    from simple_game import outputs
    from simple_game.outputs import check_writable_dir, check_writable_file

    assert check_writable_dir(tmp_path / "new" / "deeper", "--out") == tmp_path / "new" / "deeper"
    assert check_writable_file(tmp_path / "new" / "x.json", "--json") == tmp_path / "new" / "x.json"
    assert _tree(tmp_path) == []  # checking creates nothing
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(SimpleGameError, match="broken symbolic link"):
        check_writable_dir(tmp_path / "dangling" / "x", "--out")
    monkeypatch.setattr(outputs.os, "access", lambda *_args: False)
    with pytest.raises(SimpleGameError) as info:
        check_writable_dir(tmp_path, "--out")
    assert str(info.value) == f"--out {tmp_path}: is not writable (permission denied)"
    with pytest.raises(SimpleGameError) as info:
        check_writable_file(tmp_path / "sub" / "r.json", "--json")
    assert str(info.value) == (
        f"--json {tmp_path}/sub/r.json: its folder {tmp_path}/sub cannot be created: {tmp_path} is not writable "
        "(permission denied)"
    )


# -------------------------------------------------------------------------------- the log


def test_default_log_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21.5: ./runs -> the repository's experiments.md; any other runs folder -> inside it."""
    from simple_game.experiment_log import default_log_path

    monkeypatch.chdir(tmp_path)
    assert default_log_path(Path("runs")) == Path("experiments.md")
    assert default_log_path(Path("./runs")) == Path("experiments.md")
    assert default_log_path(tmp_path / "runs") == Path("experiments.md")
    assert default_log_path(Path("../scratch/runs")) == Path("../scratch/runs/experiments.md")
    assert default_log_path(Path("other")) == Path("other/experiments.md")


def test_report_writes_the_log_inside_an_outside_runs_dir(tmp_path: Path) -> None:
    repo, scratch = tmp_path / "repo", tmp_path / "scratch"
    repo.mkdir()
    (repo / "experiments.md").write_text(NOTES, encoding="utf-8", newline="")
    make_run(scratch / "runs", "ppo_pong", "20240501-090000", seed=0)
    result = run_report(repo, "--runs-dir", "../scratch/runs")
    assert result.returncode == 0, result.stderr
    log = scratch / "runs" / "experiments.md"
    assert f"updated {Path('../scratch/runs/experiments.md')} (1 run in the results table)" in result.stdout
    assert results_rows(log.read_text(encoding="utf-8"))[0].endswith("| ppo_pong_20240501-090000 |")
    assert not (scratch / "experiments.md").exists()
    assert (repo / "experiments.md").read_bytes() == NOTES.encode("utf-8")


def test_table_rebuild_holds_the_lock(tmp_path: Path) -> None:
    """Issue 21 / H3: while another process holds the log's lock, the rebuild waits for it."""
    from simple_game.experiment_log import update_experiments_md
    from simple_game.fsio import locked

    make_run(tmp_path / "runs", "ppo_pong", "20240501-090000", seed=0)
    md = tmp_path / "experiments.md"
    md.write_text(NOTES, encoding="utf-8")
    runs = find_runs(tmp_path / "runs")
    with locked(md):
        worker = threading.Thread(target=update_experiments_md, args=(md, runs))
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive() and md.read_text(encoding="utf-8") == NOTES
    worker.join(10)
    assert not worker.is_alive() and len(results_rows(md.read_text(encoding="utf-8"))) == 2


def test_a_run_finishing_during_a_rebuild_keeps_its_row(tmp_path: Path) -> None:
    """The run was scanned while running, then appended its row: the rebuild keeps it, once."""
    import json

    from simple_game.experiment_log import append_experiment_row, update_experiments_md

    run = make_run(tmp_path / "runs", "ppo_pong", "20240501-090000", seed=0, status="running")
    md = tmp_path / "logs" / "experiments.md"  # its folder does not exist yet: nothing to lock
    scanned = find_runs(tmp_path / "runs")
    assert update_experiments_md(md, scanned) == 0
    summary = json.loads((run / "summary.json").read_text())
    summary["status"] = "finished"
    (run / "summary.json").write_text(json.dumps(summary))
    append_experiment_row(md, summary)
    append_experiment_row(md, summary)  # again (a report saw it first): replaced, not doubled
    assert update_experiments_md(md, scanned) == 1  # stale scan: the run still looks "running"
    rows = results_rows(md.read_text(encoding="utf-8"))
    assert len(rows) == 1 and "ppo_pong_20240501-090000" in rows[0]
    assert update_experiments_md(md, find_runs(tmp_path / "runs")) == 1
