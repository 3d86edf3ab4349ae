"""simple_game.report through its real CLI, on fake-but-realistic run folders.

The run folders are written by hand in the exact formats training produces (SB3's
progress.csv with empty cells, our eval.csv and summary.json), so these tests exercise
the report and nothing else: no training happens here.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

NOTES = (
    "# Experiments\n"
    "\n"
    "Intro written by a human. Ünïcödé, trailing spaces   \n"
    "\n"
    "## Notes\n"
    "\n"
    "- 2024-05-01: PPO on Pong looked *great* | even with a pipe\n"
    "- tabs\tstay\ttabs\n"
    "\n"
    "## Results\n"
    "\n"
    "<!-- results:start -->\n"
    "| date | experiment | algo | game | steps | eval score (mean ± std) | wall time | run dir |\n"
    "|---|---|---|---|---|---|---|---|\n"
    "| 1999-01-01 | stale_row | ppo | pong | 1 | 0 | 1s | runs/gone |\n"
    "<!-- results:end -->\n"
    "\n"
    "Text after the table is also kept.\n"
)

PROGRESS_COLUMNS = [
    "time/fps",
    "time/iterations",
    "time/time_elapsed",
    "time/total_timesteps",
    "rollout/ep_len_mean",
    "rollout/ep_rew_mean",
    "train/approx_kl",
    "train/clip_fraction",
    "train/entropy_loss",
    "train/learning_rate",
    "train/loss",
    "train/n_updates",
]
EVAL_COLUMNS = [
    "timesteps",
    "mean_score",
    "std_score",
    "median_score",
    "min_score",
    "max_score",
    "mean_length",
    "n_episodes",
    "wall_time_s",
]


def make_run(
    runs_dir: Path,
    config_name: str,
    stamp: str,
    seed: int,
    *,
    algo: str = "ppo",
    game: str = "pong",
    steps: int = 100_000,
    slope: float = 1.0,
    status: str = "finished",
    extra_config: str = "",
    budget: int | None = None,
) -> Path:
    """Write one run folder the way training does; scores rise with steps (times ``slope``).

    ``steps`` is how far it logged, ``budget`` its ``total_timesteps`` (default: ``steps``).
    """
    budget = budget or steps
    experiment = f"{config_name}_{stamp}"
    run = runs_dir / experiment
    (run / "tensorboard").mkdir(parents=True)
    (run / "checkpoints").mkdir()
    (run / "config.yaml").write_text(
        f"name: {config_name}\nalgo: {algo}\nseed: {seed}\ntotal_timesteps: {budget}\n"
        f"env:\n  game: {game}\n  protocol: classic\n  frame_stack: 4\n  n_envs: 8\n" + extra_config
    )

    _write_progress(run / "progress.csv", steps, seed, slope)
    _write_evals(run / "eval.csv", steps, seed, slope)
    started = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}"
    final = -21 + 32 * slope + seed * 0.5
    summary = {
        "experiment": experiment,
        "algo": algo,
        "game": game,
        "seed": seed,
        "total_timesteps": budget,
        "steps_done": steps,
        "wall_time_s": 3725.4,
        "fps": 900.0,
        "final_eval_mean": final,
        "final_eval_std": 1.5,
        "best_eval_mean": final,
        "best_eval_std": 1.5,
        "status": status,
        "run_dir": str(run),
        "config_name": config_name,
        "started_at": started,
        "finished_at": started,
        "simple_game_version": "0.1.0",
    }
    (run / "summary.json").write_text(json.dumps(summary, indent=2))
    return run


def _write_progress(path: Path, steps: int, seed: int, slope: float) -> None:
    """SB3 logs every 1024 steps; ep_rew_mean is missing until the first episode ends,
    and train/* keys are missing in the first row (logged after the first update)."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PROGRESS_COLUMNS)
        for i, t in enumerate(range(1024, steps + 1, 1024)):
            score = -21 + 30 * slope * t / steps + math.sin(t / 5000.0 + seed)
            blank = i == 0
            later = [800 + i, round(score, 3), 0.01, 0.1, -1.2, 2.5e-4, 0.05, 4 * i]
            writer.writerow([900 + seed, i + 1, round(t / 900), t, *("" if blank else v for v in later)])


def _write_evals(path: Path, steps: int, seed: int, slope: float) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(EVAL_COLUMNS)
        for t in range(steps // 5, steps + 1, steps // 5):
            m = -21 + 32 * slope * t / steps + seed * 0.5
            writer.writerow([t, m, 1.5, m, m - 3, m + 3, 3000, 10, 12.5])


def run_report(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [sys.executable, "-m", "simple_game.report", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_png(path: Path, min_size: tuple[int, int] = (400, 300)) -> None:
    from PIL import Image

    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000, "suspiciously small PNG"
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size[0] >= min_size[0] and img.size[1] >= min_size[1]
        # not a blank canvas: a plot has many distinct colours
        assert len(img.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 20


def split_studies(md_text: str, newline: str = "\n") -> tuple[str, str]:
    """``(the log as before, the studies section)``: report appends ``## Studies`` at the end of a log without it."""
    start = f"{newline}## Studies{newline}{newline}<!-- studies:start -->{newline}"
    assert md_text.count(start) == 1 and md_text.endswith(f"<!-- studies:end -->{newline}"), md_text
    cut = md_text.index(start)
    return md_text[:cut], md_text[cut:]


def results_rows(md_text: str) -> list[str]:
    body = md_text.split("<!-- results:start -->\n", 1)[1].split("<!-- results:end -->", 1)[0]
    return [line for line in body.splitlines() if line.startswith("| ") and "---" not in line][1:]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A project folder with experiments.md and five runs: ppo_pong x3 seeds, dqn_breakout, a crashed run."""
    runs = tmp_path / "runs"
    make_run(runs, "ppo_pong", "20240502-100000", seed=1)
    make_run(runs, "ppo_pong", "20240501-090000", seed=0)
    # a shorter run of the same budget (stopped early): still a seed; the grid stops at 90k
    make_run(runs, "ppo_pong", "20240503-110000", seed=2, steps=90_000, budget=100_000)
    make_run(
        runs,
        "dqn_breakout",
        "20240504-120000",
        seed=0,
        algo="dqn",
        game="breakout",
        steps=50_000,
        slope=0.5,
        status="interrupted",
    )
    make_run(runs, "a2c_qbert", "20240505-130000", seed=0, algo="a2c", game="qbert", status="failed")
    (tmp_path / "experiments.md").write_text(NOTES, encoding="utf-8", newline="")
    return tmp_path


def test_report_writes_table_curves_and_comparison(project: Path) -> None:
    result = run_report(project)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" or "Traceback" not in result.stderr

    # -- experiments.md: rows rebuilt, everything outside the markers byte-identical
    text, studies = split_studies((project / "experiments.md").read_bytes().decode("utf-8"))
    assert "\n| ppo_pong | ppo | pong | 100,000 | 3 | 11.5 [95% CI 11.0, 12.0] |" in studies
    before, _, rest = NOTES.partition("<!-- results:start -->\n")
    after = NOTES.split("<!-- results:end -->", 1)[1]
    assert text.startswith(before + "<!-- results:start -->\n")
    assert text.endswith("<!-- results:end -->" + after)
    rows = results_rows(text)
    # the row of a run that is not under runs/ (deleted, or from another machine) is kept;
    # finished + interrupted runs, oldest first; the failed run is not listed
    assert [r.split(" | ")[1] for r in rows] == [
        "stale_row",
        "ppo_pong_20240501-090000",
        "ppo_pong_20240502-100000",
        "ppo_pong_20240503-110000",
        "dqn_breakout_20240504-120000 (interrupted)",
    ]
    first = rows[1]
    # same row format as `simple-game train` appends (runs.format_results_row)
    assert (
        first == "| 2024-05-01 09:00 | ppo_pong_20240501-090000 | ppo | pong | 100,000 | 11.0 ± 1.5 | 1h02m "
        "| runs/ppo_pong_20240501-090000 |"
    )
    assert "| dqn | breakout | 50,000 |" in rows[4]

    # -- one learning curve per run, in the run folder
    for run in (project / "runs").iterdir():
        if run.name != "report":
            assert_png(run / "learning_curve.png")

    # -- comparison plot with the 3 ppo_pong seeds aggregated
    assert_png(project / "runs" / "report" / "comparison.png", min_size=(1000, 400))
    assert "ppo_pong x3" in result.stdout


def test_rows_of_existing_runs_are_rebuilt_and_others_kept(project: Path) -> None:
    """A hand-edited row of a run under runs/ is rebuilt (not duplicated); a deleted run's row stays."""
    md = project / "experiments.md"
    edited = NOTES.replace(
        "<!-- results:end -->",
        "| 2024-05-01 09:00 | ppo_pong_20240501-090000 | ppo | pong | 5 | 99.0 ± 0.0 | 1s "
        "| runs/ppo_pong_20240501-090000 |\n"
        "| 2024-05-06 08:00 | deleted_run | a2c | qbert | 1,000 | 3.0 ± 1.0 | 1m00s "
        "| runs/deleted_run_20240506-080000 |\n"
        "<!-- results:end -->",
    )
    md.write_text(edited, encoding="utf-8", newline="")
    assert run_report(project).returncode == 0
    rows = results_rows(md.read_text(encoding="utf-8"))
    names = [r.split(" | ")[1] for r in rows]
    assert names.count("ppo_pong_20240501-090000") == 1 and "99.0" not in "".join(rows)
    assert names[0] == "stale_row" and names[-1] == "deleted_run", names
    assert rows[-1].endswith("| runs/deleted_run_20240506-080000 |")


def test_report_is_idempotent_and_respects_no_table(project: Path) -> None:
    assert run_report(project).returncode == 0
    first = (project / "experiments.md").read_bytes()
    assert run_report(project).returncode == 0
    assert (project / "experiments.md").read_bytes() == first

    (project / "experiments.md").write_text(NOTES, encoding="utf-8", newline="")
    result = run_report(project, "--no-table", "--runs", "dqn_*", "--out", "plots")
    assert result.returncode == 0, result.stderr
    assert (project / "experiments.md").read_bytes() == NOTES.encode("utf-8")
    assert_png(project / "plots" / "dqn_breakout_20240504-120000_learning_curve.png")
    assert_png(project / "plots" / "comparison.png", min_size=(1000, 400))


def test_report_keeps_crlf_notes(project: Path) -> None:
    crlf = NOTES.replace("\n", "\r\n")
    (project / "experiments.md").write_bytes(crlf.encode("utf-8"))
    assert run_report(project).returncode == 0
    whole = (project / "experiments.md").read_bytes()
    notes, studies = split_studies(whole.decode("utf-8"), newline="\r\n")
    data = notes.encode("utf-8")
    head = crlf.split("<!-- results:start -->", 1)[0].encode("utf-8")
    tail = crlf.split("<!-- results:end -->", 1)[1].encode("utf-8")
    assert data.startswith(head) and data.endswith(tail)
    assert b"\n" not in whole.replace(b"\r\n", b"")  # no bare LF sneaked in, the studies table included


def test_aggregation_median_and_iqr() -> None:
    """Three seeds logged at different steps are put on one grid; median and IQR are right."""
    sys.path.insert(0, str(REPO / "src"))
    from simple_game.stats import aggregate_seeds

    curves = [
        ([0, 100], [0.0, 10.0]),
        ([0, 50, 100], [0.0, 10.0, 20.0]),
        ([0, 100, 200], [0.0, 30.0, 60.0]),  # longer run: grid stops at 100 (no extrapolation)
    ]
    aggregated = aggregate_seeds(curves, points=3)
    assert aggregated is not None
    grid, median, q25, q75 = aggregated
    assert list(grid) == [0, 50, 100]
    assert list(median) == [0.0, 10.0, 20.0]
    assert list(q25) == [0.0, 7.5, 15.0]
    assert list(q75) == [0.0, 12.5, 25.0]
    assert aggregate_seeds([([0, 10], [1, 1]), ([20, 30], [1, 1])]) is None


def _assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_error_no_runs_matched(project: Path) -> None:
    _assert_one_line_error(run_report(project, "--runs", "nothing_like_this*"), "no runs matched")
    _assert_one_line_error(run_report(project, "--runs-dir", "missing"), "does not exist")
    _assert_one_line_error(run_report(project, "--runs-dir", "experiments.md"), "is a file, not a folder")


def test_error_missing_markers(project: Path) -> None:
    broken = "# Experiments\n\n## Notes\n\nmine\n\n## Results\n\n(no markers here)\n"
    (project / "experiments.md").write_text(broken)
    _assert_one_line_error(run_report(project), "<!-- results:start -->", "--no-table")
    assert (project / "experiments.md").read_text() == broken  # untouched on error


def test_error_unreadable_csv(project: Path) -> None:
    run = next((project / "runs").glob("dqn_breakout_*"))
    (run / "progress.csv").write_bytes(b"\xff\xfe\x00garbage\x00\x81\n")
    _assert_one_line_error(run_report(project, "--no-table"), "cannot read", "progress.csv")
    (run / "progress.csv").write_text("a,b\n1,2\n")
    _assert_one_line_error(run_report(project, "--no-table"), "time/total_timesteps")


def test_debug_shows_traceback(project: Path) -> None:
    result = run_report(project, "--runs", "nope*", "--debug")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_import_is_light() -> None:
    """``--help`` must not import matplotlib, numpy-heavy stacks, torch or gymnasium."""
    code = (
        "import sys, simple_game.report as r\n"
        "try:\n    r.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('matplotlib', 'torch', 'gymnasium', 'ale_py', 'stable_baselines3') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--runs-dir" in result.stdout


def test_missing_experiments_md_is_created_and_young_runs_are_skipped(tmp_path: Path) -> None:
    """A fresh project: no experiments.md yet, and a run that has not finished an episode."""
    make_run(tmp_path / "runs", "ppo_pong", "20240501-090000", seed=0)
    young = tmp_path / "runs" / "ppo_breakout_20240601-080000"
    young.mkdir()
    (young / "progress.csv").write_text("time/fps,time/total_timesteps\n900,1024\n")
    result = run_report(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "skipped ppo_breakout_20240601-080000" in result.stdout
    text = (tmp_path / "experiments.md").read_text(encoding="utf-8")
    assert "## Notes" in text and len(results_rows(text)) == 1
    assert_png(tmp_path / "runs" / "report" / "comparison.png", min_size=(1000, 400))


def test_same_name_different_config_is_not_averaged(project: Path) -> None:
    """A learning-rate variant run under the same name is a separate line, not a fourth seed."""
    make_run(
        project / "runs", "ppo_pong", "20240506-140000", seed=0, extra_config="hyperparams:\n  learning_rate: 0.001\n"
    )
    result = run_report(project, "--no-table", "--runs", "ppo_pong_*")
    assert result.returncode == 0, result.stderr
    assert "ppo_pong x3" in result.stdout
    assert "ppo_pong (config 2)" in result.stdout


def test_broken_summary_is_a_warning_in_a_listing(project: Path) -> None:
    """One broken summary.json: the report goes on, says so in one line, and keeps that run's row."""
    assert run_report(project).returncode == 0
    before = results_rows((project / "experiments.md").read_text(encoding="utf-8"))
    broken = project / "runs" / "ppo_pong_20240502-100000" / "summary.json"
    broken.write_text('{"experiment": "ppo_pong_20240502-100000", "status": ')  # cut off by hand
    result = run_report(project)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert (
        len(warnings) == 1 and "cannot read" in warnings[0] and "ppo_pong_20240502-100000/summary.json" in warnings[0]
    )
    assert results_rows((project / "experiments.md").read_text(encoding="utf-8")) == before
    assert_png(broken.parent / "learning_curve.png")
    assert "ppo_pong x3" in result.stdout


def test_summary_of_a_named_run_has_one_policy(tmp_path: Path) -> None:
    """A run the user names: no summary yet is {}, a broken one is a one-line error naming the file."""
    sys.path.insert(0, str(REPO / "src"))
    from simple_game.errors import SimpleGameError
    from simple_game.runs import RunDirectory

    run = RunDirectory(make_run(tmp_path / "runs", "ppo_pong", "20240501-090000", seed=0))
    assert run.read_summary()["status"] == "finished"
    run.summary_path.write_text("[1, 2]")
    with pytest.raises(SimpleGameError, match="expected a JSON object"):
        run.read_summary()
    run.summary_path.write_text("{not json")
    with pytest.raises(SimpleGameError) as info:
        run.read_summary()
    assert str(run.summary_path) in str(info.value) and "\n" not in str(info.value)
    run.summary_path.unlink()
    assert run.read_summary() == {}


def test_find_run_takes_the_newest_match(tmp_path: Path) -> None:
    """A glob names the newest run (names end in a timestamp); folders without config.yaml do not count."""
    sys.path.insert(0, str(REPO / "src"))
    from simple_game.errors import SimpleGameError
    from simple_game.runs import NoMatchingRunError, find_run

    runs = tmp_path / "runs"
    make_run(runs, "ppo_pong", "20240501-090000", seed=0)
    newest = make_run(runs, "ppo_pong", "20240502-100000", seed=1)
    (runs / "ppo_pong_20240503-110000").mkdir()  # not a run: no config.yaml
    assert find_run(f"{runs}/ppo_pong_*").path == newest
    assert find_run(newest).path == newest
    with pytest.raises(NoMatchingRunError, match="no run directory matches"):
        find_run(f"{runs}/dqn_*")
    with pytest.raises(SimpleGameError, match="no config.yaml"):
        find_run(runs / "ppo_pong_20240503-110000")
