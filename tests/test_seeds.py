"""Issue 13.1: ``train --config X --seeds S [--parallel N]``, the seeds of one config as one study.

The parsing and the bad-input rules run in this process (no training); the seeds themselves
are the real ``train`` command, two seeds at once in child processes, each a normal run folder,
then the real ``report`` over them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from conftest import SMOKE
from simple_game.cli.report import main as report_main
from simple_game.cli.train import main as train_main
from simple_game.cores import cpu_cores
from simple_game.errors import SimpleGameError
from simple_game.runs import RunDirectory
from simple_game.stats import interquartile_mean
from simple_game.studies import parse_parallel, parse_seeds, read_member
from simple_game.studies.launcher import threads_per_run
from tiny_runs import run_quiet

TINY = [
    "total_timesteps=128",
    "eval.freq=128",
    "eval.episodes=1",
    "checkpoint.freq=128",
    "env.max_frames_per_episode=400",
]


# ------------------------------------------------------------------------------ --seeds, --parallel


@pytest.mark.parametrize(
    ("text", "seeds"),
    [("3", [0, 1, 2]), ("1", [0]), ("0,1,2", [0, 1, 2]), ("4, 7", [4, 7]), ("5,", None), ("7", list(range(7)))],
)
def test_seeds_are_a_count_or_a_list(text: str, seeds: list[int] | None) -> None:
    if seeds is None:
        with pytest.raises(SimpleGameError, match="--seeds: '5,' is not a count"):
            parse_seeds(text)
    else:
        assert parse_seeds(text) == seeds


@pytest.mark.parametrize(
    ("text", "why"),
    [("", "is not"), ("  ", "is not"), ("-1", "is not"), ("0", "trains no seed"), ("1,-2", "is not")]
    + [("a,b", "is not"), ("1.5", "is not"), ("1,1", "repeats a seed")],
)
def test_bad_seeds_are_refused(text: str, why: str) -> None:
    with pytest.raises(SimpleGameError, match=f"--seeds: .*{why}"):
        parse_seeds(text)


def test_parallel_is_between_one_and_the_number_of_runs() -> None:
    assert parse_parallel(None, 3) == 1 and parse_parallel("3", 3) == 3
    for text in ("0", "4", "-1", "two", ""):
        with pytest.raises(SimpleGameError, match=r"--parallel: .* from 1 to 3, the number of runs"):
            parse_parallel(text, 3)


def test_threads_divide_the_cores() -> None:
    assert [threads_per_run(n, 16) for n in (1, 2, 3, 16, 32)] == [16, 8, 5, 1, 1]
    assert 1 <= cpu_cores() <= (os.cpu_count() or 1)


def test_a_resumed_run_gets_this_studys_share_of_the_cores(tmp_path: Path) -> None:
    """Started 2 at a time (1 thread of 2 cores) and resumed alone, a run gets the machine back."""
    from simple_game.studies.launcher import Launcher
    from simple_game.studies.membership import Member
    from simple_game.studies.seeds import RESUME, Job

    member = Member("abl", "series", "ok", 1, 0, "abl/01_ok.yaml", "abl", "")
    job = Job(member, RESUME, tmp_path / "abl_ok_seed0_20240101-000000")

    def threads(parallel: int, overrides: tuple[str, ...] = ()) -> list[str]:
        cmd = Launcher(tmp_path, overrides, parallel=parallel, cores=16).command(job)
        return [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--set"]

    assert threads(1) == ["compute.threads=0"]  # torch's default: the whole machine
    assert threads(4) == ["compute.threads=4"]
    assert threads(4, ("hyperparams.n_steps=64", "compute.threads=3")) == ["compute.threads=3"]  # the user's wins


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "-1"], "--seeds: '-1' is not a count"),
        (["--seeds", ""], "--seeds: '' is not a count"),
        (["--seeds", "2", "--parallel", "3"], "--parallel: '3' is not allowed (a whole number from 1 to 2"),
        (["--seeds", "2", "--parallel", "0"], "--parallel: '0' is not allowed"),
        (["--parallel", "2"], "--seeds/--parallel: need --config and --seeds"),
        (["--seeds", "2", "--set", "seed=4"], "--set seed=4: a study sets each run's seed and name itself"),
    ],
)
def test_bad_seed_flags_are_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = train_main(["--config", str(SMOKE), "--runs-dir", str(tmp_path / "runs"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith(f"error: {message}"), err
    assert not (tmp_path / "runs").exists()


def test_seeds_with_resume_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_main(["--resume", str(tmp_path), "--seeds", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: --seeds/--parallel: need --config X --seeds S (resume one seed's run with --resume RUN_DIR alone)"
    ]


# ------------------------------------------------------------------------------ two seeds at once, for real


def test_two_seeds_in_parallel_are_one_study_of_normal_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    sets = [x for item in TINY for x in ("--set", item)]
    proc = run_quiet(
        "simple_game",
        "train",
        "--config",
        str(SMOKE),
        "--seeds",
        "2",
        "--parallel",
        "2",
        "--runs-dir",
        str(runs),
        *sets,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    threads = threads_per_run(2, cpu_cores())
    assert f"2 runs at a time, {threads} threads each" in proc.stdout
    folders = sorted(p for p in runs.iterdir() if p.is_dir())
    assert [p.name.rsplit("_", 1)[0] for p in folders] == ["smoke_seed0", "smoke_seed1"], folders
    finals = []
    for seed, folder in enumerate(folders):
        config = yaml.safe_load((folder / "config.yaml").read_text())
        assert (config["seed"], config["compute"]["threads"], config["total_timesteps"]) == (seed, threads, 128)
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["status"] == "finished" and summary["steps_done"] >= 128
        member = read_member(folder)
        assert member is not None and (member.study, member.kind, member.seed) == ("smoke", "seeds", seed)
        assert RunDirectory(folder).latest_checkpoint() is not None  # evaluate/record/resume find it as usual
        finals.append(RunDirectory(folder).eval_rows()[-1]["mean_score"])
    assert "study smoke: 2 finished" in proc.stdout
    rows = (runs / "experiments.md").read_text().split("<!-- results:end -->")[0]
    assert rows.count("| smoke_seed0 |") == 1 and rows.count("| smoke_seed1 |") == 1

    assert report_main(["--runs-dir", str(runs)]) == 0  # the real command, in this process (no second start-up)
    report = capsys.readouterr()
    iqm = interquartile_mean(finals)  # two seeds: nothing is trimmed, the IQM is their mean
    assert (runs / "report" / "study_smoke.png").stat().st_size > 0
    assert f"wrote {runs / 'report' / 'study_smoke.png'} (study smoke: smoke x2 IQM {iqm:.1f} [95% CI" in report.out
    studies = (runs / "experiments.md").read_text().split("<!-- studies:start -->")[1]
    per_seed = f"0: {finals[0]:.1f}, 1: {finals[1]:.1f}"
    assert f"| smoke | ppo | breakout | 128 | 2 | {iqm:.1f} [95% CI " in studies and f"| {per_seed} |" in studies
