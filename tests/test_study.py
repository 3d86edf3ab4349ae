"""Issue 13.2 and 13.3: ``simple-game study SERIES --seeds S``, and what ``report`` draws per study.

The series format and the bad-input rules run in this process; the study itself is the real
command in a child process: interrupted with Ctrl-C (SIGINT to the study only; it passes it on),
then run again, which resumes the interrupted run, trains what is missing and skips what
finished. The figures are checked on run folders written as training writes them, with final
scores whose IQM and interval are computed by hand.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SMOKE
from simple_game.cli.study import main as study_main
from simple_game.errors import SimpleGameError
from simple_game.plots import load_curves
from simple_game.runs import find_runs
from simple_game.studies import read_member, read_series
from simple_game.studies.figures import draw_study_figures, plan_study_figures
from simple_game.studies.membership import Member, write_member
from test_report import make_run
from tiny_runs import quiet_env, run_quiet

# ------------------------------------------------------------------------------ the series format


def _series(folder: Path, *names: str, description: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(f"extends: {SMOKE}\n")
    if description is not None:
        (folder / "series.yaml").write_text(f"description: {description}\n")
    return folder


def test_a_series_is_its_configs_in_file_name_order(tmp_path: Path) -> None:
    folder = _series(tmp_path / "dqn", "02_double.yaml", "10_all-in.yaml", "01_vanilla.yaml", description="one by one")
    (folder / "README.md").write_text("notes beside the configs are fine\n")
    series = read_series(folder)
    assert [(v.index, v.name, v.path.name) for v in series.variants] == [
        (1, "vanilla", "01_vanilla.yaml"),
        (2, "double", "02_double.yaml"),
        (10, "all-in", "10_all-in.yaml"),
    ]
    assert (series.name, series.description) == ("dqn", "one by one")
    assert read_series(_series(tmp_path / "plain", "01_a.yaml")).description == ""


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ((), "no configs in this series"),
        (("series.yaml",), "no configs in this series"),
        (("01_a.yaml", "1_b.yaml"), "1_b.yaml: badly named series config (allowed: NN_<variant>.yaml"),
        (("01-a.yaml",), "01-a.yaml: badly named series config"),
        (("01_a.yml",), "01_a.yml: badly named series config"),
        (("01_a.yaml", "01_b.yaml"), "01_a.yaml and 01_b.yaml have the same number"),
        (("01_a.yaml", "02_a.yaml"), "01_a.yaml and 02_a.yaml have the same variant name"),
    ],
)
def test_bad_series_folders_are_refused(tmp_path: Path, files: tuple[str, ...], message: str) -> None:
    folder = _series(tmp_path / "s", *files)
    with pytest.raises(SimpleGameError, match=message.replace("(", r"\(")):
        read_series(folder)


def test_series_yaml_holds_a_description_only(tmp_path: Path) -> None:
    folder = _series(tmp_path / "s", "01_a.yaml")
    (folder / "series.yaml").write_text("description: x\nseeds: 3\n")
    with pytest.raises(SimpleGameError, match="seeds: unknown key \\(allowed: description\\)"):
        read_series(folder)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["@empty", "--seeds", "2"], "@empty: no configs in this series"),
        (["@badly", "--seeds", "2"], "@badly/1_a.yaml: badly named series config"),
        (["@missing", "--seeds", "2"], "@missing: not a folder"),
        (["@good", "--seeds", "-2"], "--seeds: '-2' is not a count"),
        (["@good", "--seeds", ","], "--seeds: ',' is not a count"),
        (["@good"], "--seeds is required"),
        (["@good", "--seeds", "2", "--parallel", "5"], "--parallel: '5' is not allowed (a whole number from 1 to 4"),
        (["@good", "--seeds", "2", "--parallel", "0"], "--parallel: '0' is not allowed"),
    ],
)
def test_bad_study_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    _series(tmp_path / "empty")
    _series(tmp_path / "badly", "1_a.yaml")
    _series(tmp_path / "good", "01_a.yaml", "02_b.yaml")
    args = [a.replace("@", f"{tmp_path}/") for a in args]
    code = study_main([*args, "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: " + message.replace("@", f"{tmp_path}/")), err
    assert not (tmp_path / "runs").exists()


# ------------------------------------------------------------------------------ a study, interrupted and re-run

OK = """extends: {smoke}
total_timesteps: 512
eval: {{freq: 512, episodes: 1}}
checkpoint: {{freq: 128, keep: 5}}
env: {{max_frames_per_episode: 400}}
"""


def _wait_for(path_glob: str, root: Path, proc: subprocess.Popen[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not list(root.glob(path_glob)):
        assert proc.poll() is None, "the study ended before its first checkpoint"
        assert time.monotonic() < deadline, f"no {path_glob} under {root}"
        time.sleep(0.05)


def test_an_interrupted_study_resumes_and_trains_only_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = tmp_path / "abl"
    series.mkdir()
    (series / "01_ok.yaml").write_text(OK.format(smoke=SMOKE))
    # PPO refuses a batch of 1 when the model is built, in the child: that run fails, the other goes on
    (series / "02_bad.yaml").write_text("extends: 01_ok.yaml\nhyperparams: {batch_size: 1}\n")
    (series / "series.yaml").write_text("description: batch size ablation\n")
    runs = tmp_path / "runs"
    study = [sys.executable, "-m", "simple_game", "study", str(series), "--seeds", "1", "--parallel", "2"]
    study += ["--runs-dir", str(runs)]

    with (tmp_path / "first.log").open("w") as log:
        proc = subprocess.Popen(study, cwd=REPO, env=quiet_env(), stdout=log, stderr=subprocess.STDOUT, text=True)
        _wait_for("abl_ok_seed0_*/checkpoints/step_128.zip", runs, proc)
        proc.send_signal(signal.SIGINT)  # to the study only: its runs are in their own session
        assert proc.wait(timeout=300) == 130, (tmp_path / "first.log").read_text()[-4000:]
    [ok] = runs.glob("abl_ok_seed0_*")
    summary = json.loads((ok / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["steps_done"] < 512, summary
    assert read_member(ok) == Member(
        "abl", "series", "ok", 1, 0, str(series / "01_ok.yaml"), str(series), "batch size ablation"
    )
    assert not list(runs.glob("abl_bad_*"))  # refused before its folder was made

    again = run_quiet(*study[2:])
    assert again.returncode == 1, again.stdout[-4000:]  # not every run finished: the bad one failed again
    assert "study abl (series " in again.stdout and "2 runs: 1 to resume, 1 new" in again.stdout
    assert [p.name for p in runs.glob("abl_ok_seed0_*")] == [ok.name]  # resumed in place, not restarted
    summary = json.loads((ok / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps_done"] >= 512 and summary.get("resumed_at"), summary
    assert "[abl_bad_seed0] failed (exit code 2)" in again.stdout
    assert any(line.split()[:4] == ["bad", "seed", "0", "failed"] for line in again.stdout.splitlines())

    assert study_main([str(series), "--seeds", "2", "--runs-dir", str(runs), "--dry-run"]) == 0  # more seeds
    more = capsys.readouterr().out
    assert "4 runs: 1 finished, 3 new" in more
    assert f"  abl_ok_seed0: done {ok}" in more.splitlines()
    assert [line.strip() for line in more.splitlines() if line.endswith(": new")] == [
        "abl_ok_seed1: new",
        "abl_bad_seed0: new",
        "abl_bad_seed1: new",
    ]

    # seed 1 killed before its first checkpoint: nothing to resume, so it starts anew and says why
    stub = runs / "abl_ok_seed1_20240101-000000"
    stub.mkdir()
    config = (ok / "config.yaml").read_text().replace("abl_ok_seed0", "abl_ok_seed1")
    (stub / "config.yaml").write_text(config.replace("\nseed: 0\n", "\nseed: 1\n"))
    (stub / "summary.json").write_text(json.dumps({"status": "running", "steps_done": 0}))
    assert study_main([str(series), "--seeds", "2", "--runs-dir", str(runs), "--dry-run"]) == 0
    assert f"  abl_ok_seed1: new ({stub.name} was killed before its first checkpoint)" in capsys.readouterr().out


# ------------------------------------------------------------------------------ what report draws per study


def test_study_figures_pool_each_variant_in_series_order(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for index, variant, slope in ((2, "double", 2.0), (1, "vanilla", 1.0)):
        for seed in range(3):
            # make_run's final evaluation: -21 + 32 * slope + 0.5 * seed
            run = make_run(runs, f"abl_{variant}_seed{seed}", f"2024050{seed + 1}-0{index}0000", seed=seed, slope=slope)
            write_member(run, Member("abl", "series", variant, index, seed, f"{index:02d}_{variant}.yaml", "s"))
    make_run(runs, "loner", "20240509-090000", seed=0)  # no study.json: in no study figure
    [figure] = plan_study_figures(find_runs(runs), tmp_path / "out")
    assert [label for label, _ in figure.groups] == ["01 vanilla", "02 double"]
    assert [len(group.runs) for _, group in figure.groups] == [3, 3]
    [line] = draw_study_figures([figure], {run.path: load_curves(run) for run in find_runs(runs)})
    # three seeds: nothing trimmed, the IQM is the mean; resamples of all-lowest or all-highest (1/27 each,
    # more than 2.5%) put the 95% interval at the lowest and highest score
    assert line == (
        f"wrote {tmp_path / 'out' / 'study_abl.png'} (study abl: "
        "01 vanilla x3 IQM 11.5 [95% CI 11.0, 12.0]; 02 double x3 IQM 43.5 [95% CI 43.0, 44.0])"
    )
    assert (tmp_path / "out" / "study_abl.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
