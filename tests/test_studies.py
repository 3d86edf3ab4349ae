"""Issue 13.3: summaries of seeds that hold up (IQM, bootstrap interval, median and IQR).

The statistics are checked against values computed by hand; the report through its real CLI
(``python -m simple_game.report``) on fake run folders written as training writes them.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from simple_game.pooling import final_score
from simple_game.runs import RunDirectory, RunRecord, find_runs
from simple_game.stats import bootstrap_interval, interquartile_mean, summarize_final_scores
from test_report import EVAL_COLUMNS, NOTES, make_run, run_report, split_studies

# -------------------------------------------------------------------------------- the statistics


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([3, 5], 4.0),  # n = 2: floor(2/4) = 0 cut, the mean
        ([10, 0, 5], 5.0),  # n = 3: nothing cut, the plain mean (as scipy.stats.trim_mean(x, 0.25))
        ([4, 1, 3, 2], 2.5),  # n = 4: sorted 1 2 3 4, one cut each end: (2 + 3) / 2
        ([1, 2, 3, 4, 100], 3.0),  # n = 5: the outlier 100 and the lowest go: (2 + 3 + 4) / 3
        ([0, 1, 2, 3, 4, 50], 2.5),  # n = 6: one cut each end: (1 + 2 + 3 + 4) / 4
        ([1, 2, 3, 4, 5, 6, 1000], 4.0),  # n = 7: one cut each end: (2 + ... + 6) / 5
        ([8, 7, 6, 5, 4, 3, 2, 1], 4.5),  # n = 8: two cut each end: (3 + 4 + 5 + 6) / 4
        ([1, 2, 2, 2, 1, 1, 2, 1], 1.5),  # rliable's own test matrix x, flattened: aggregate_iqm(x) == 1.5
        ([1, 1, 2, 2, 3, 3], 2.0),  # rliable's y: aggregate_iqm(y) == 2
    ],
)
def test_interquartile_mean_by_hand(scores: list[float], expected: float) -> None:
    assert interquartile_mean(scores) == pytest.approx(expected)


def test_interquartile_mean_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        interquartile_mean([])


def test_bootstrap_is_deterministic_and_contains_the_iqm() -> None:
    scores = [11.0, 9.5, 14.0, 12.5, 30.0, 3.0, 17.5, 21.0]
    interval = bootstrap_interval(scores)
    assert interval == bootstrap_interval(scores)  # seeded: the same runs, the same interval
    assert bootstrap_interval(scores, seed=1) != interval  # the seed is really used
    low, high = interval
    assert min(scores) <= low <= interquartile_mean(scores) <= high <= max(scores)
    assert bootstrap_interval([7.0, 7.0, 7.0]) == (7.0, 7.0)  # no spread, no width


def test_bootstrap_of_two_runs_by_hand() -> None:
    """Resamples of [0, 10] have IQM 0, 5 or 10 with chances 1/4, 1/2, 1/4: the 2.5 and 97.5 percentiles are 0 and 10."""
    assert bootstrap_interval([0.0, 10.0]) == (0.0, 10.0)
    assert bootstrap_interval([0.0, 10.0], confidence=0.2) == (5.0, 5.0)  # the middle 20% is all 5s


def test_summary_of_final_scores_by_hand() -> None:
    summary = summarize_final_scores([12.0, 11.0, 11.5])
    assert summary is not None
    assert (summary.n, summary.iqm, summary.median, summary.q25, summary.q75) == (3, 11.5, 11.5, 11.25, 11.75)
    # a resample of all 11s (or all 12s) has chance 1/27 = 3.7% > 2.5%: the interval ends at 11 and 12
    assert (summary.ci_low, summary.ci_high) == (11.0, 12.0)
    assert summary.iqm_text == "11.5 [95% CI 11.0, 12.0]"
    assert summary.median_text == "11.5 (IQR 11.2-11.8)"
    negative = summarize_final_scores([-21.0, -20.0, -19.0])
    assert negative is not None and negative.median_text == "-20.0 (IQR -20.5 to -19.5)"


@pytest.mark.parametrize("scores", [[], [5.0]])
def test_one_run_has_no_summary(scores: list[float]) -> None:
    assert summarize_final_scores(scores) is None


def test_final_score_is_the_last_evaluation(tmp_path: Path) -> None:
    """The row at the most agent steps; of two at one step (a resume), the later; no rows: None."""
    run = tmp_path / "ppo_pong_20240501-090000"
    run.mkdir()
    record = RunRecord(RunDirectory(run))
    assert final_score(record) is None
    _write_eval_csv(run, [(100, 5.0), (200, 7.0), (200, 8.0), (150, 1.0)])
    assert final_score(record) == 8.0


def _write_eval_csv(run: Path, rows: list[tuple[int, float]]) -> None:
    with (run / "eval.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(EVAL_COLUMNS)
        for t, m in rows:
            writer.writerow([t, m, 1.5, m, m - 3, m + 3, 3000, 10, 12.5])


# -------------------------------------------------------------------------------- the report

STUDIES_START, STUDIES_END = "<!-- studies:start -->", "<!-- studies:end -->"
AFTER_RESULTS = NOTES.split("<!-- results:end -->", 1)[1]  # the notes after the results table


def studies_rows(md_text: str) -> list[str]:
    body = md_text.split(STUDIES_START + "\n", 1)[1].split(STUDIES_END, 1)[0]
    return body.splitlines()[2:]  # after the header and the |---| line


@pytest.fixture()
def five_seeds(tmp_path: Path) -> Path:
    """ppo_pong x5 with final evaluations 11.0, 11.5, 12.0, 12.5 and an outlier 77.0; one dqn_breakout run."""
    runs = tmp_path / "runs"
    for seed in range(5):
        # make_run's last evaluation is -21 + 32 * slope + 0.5 * seed
        make_run(runs, "ppo_pong", f"2024050{seed + 1}-090000", seed=seed, slope=3.0 if seed == 4 else 1.0)
    make_run(runs, "dqn_breakout", "20240507-090000", seed=0, algo="dqn", game="breakout")
    (tmp_path / "experiments.md").write_text(NOTES, encoding="utf-8", newline="")
    return tmp_path


def test_report_prints_the_study_line_and_writes_the_table(five_seeds: Path) -> None:
    result = run_report(five_seeds)
    assert result.returncode == 0, result.stderr
    low, high = bootstrap_interval([11.0, 11.5, 12.0, 12.5, 77.0])
    assert 11.0 <= low <= 12.0 <= high <= 77.0
    # IQM: the outlier and the lowest cut, (11.5 + 12.0 + 12.5) / 3 = 12.0; median 12.0, IQR 11.5-12.5
    numbers = f"12.0 [95% CI {low:.1f}, {high:.1f}]"
    per_seed = "0: 11.0, 1: 11.5, 2: 12.0, 3: 12.5, 4: 77.0"
    line = f"ppo_pong x5: final eval IQM {numbers}, median 12.0 (IQR 11.5-12.5); per seed: {per_seed}"
    assert line in result.stdout.splitlines(), result.stdout
    # a single run has no study line (and no row)
    assert not [s for s in result.stdout.splitlines() if "final eval" in s and "dqn_breakout" in s]

    text = (five_seeds / "experiments.md").read_text(encoding="utf-8")
    notes, section = split_studies(text)  # the section comes at the end, after everything that was there
    assert notes.endswith("<!-- results:end -->" + AFTER_RESULTS) and section.startswith(
        f"\n## Studies\n\n{STUDIES_START}\n"
    )
    assert studies_rows(text) == [
        f"| ppo_pong | ppo | pong | 100,000 | 5 | {numbers} | 12.0 (IQR 11.5-12.5) | {per_seed} |"
    ]
    header = text.split(STUDIES_START + "\n", 1)[1].splitlines()[0]
    assert header == (
        "| experiment | algo | game | budget | seeds | final eval IQM [95% CI] | median (IQR) | per-seed final eval |"
    )

    assert run_report(five_seeds).returncode == 0  # a second report: byte for byte the same file
    assert (five_seeds / "experiments.md").read_text(encoding="utf-8") == text


def test_no_table_still_prints_the_line(five_seeds: Path) -> None:
    result = run_report(five_seeds, "--no-table")
    assert result.returncode == 0, result.stderr
    assert any(s.startswith("ppo_pong x5: final eval IQM 12.0 [95% CI ") for s in result.stdout.splitlines())
    assert (five_seeds / "experiments.md").read_text(encoding="utf-8") == NOTES


def test_seeds_without_an_evaluation_and_unfinished_ones(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "ppo_pong", "20240501-090000", seed=0)
    young = make_run(runs, "ppo_pong", "20240502-090000", seed=1, status="running")
    _write_eval_csv(young, [])  # started, not evaluated yet
    result = run_report(tmp_path)
    assert result.returncode == 0, result.stderr
    line = "ppo_pong x2: final eval: no IQM yet (1 of 2 runs evaluated, 2 needed); per seed: 0: 11.0, 1: no evaluation yet (running)"
    assert line in result.stdout.splitlines(), result.stdout
    row = studies_rows((tmp_path / "experiments.md").read_text(encoding="utf-8"))
    assert row == ["| ppo_pong | ppo | pong | 100,000 | 2 | n/a | n/a | 0: 11.0, 1: no evaluation yet (running) |"]

    _write_eval_csv(young, [(50_000, 3.0)])  # interrupted halfway: it counts, marked
    (young / "summary.json").write_text((young / "summary.json").read_text().replace('"running"', '"interrupted"'))
    result = run_report(tmp_path)
    assert "per seed: 0: 11.0, 1: 3.0 (interrupted)" in result.stdout
    assert "| 7.0 [95% CI 3.0, 11.0] | 7.0 (IQR 5.0-9.0) |" in (tmp_path / "experiments.md").read_text()


def test_studies_go_under_an_existing_heading_and_rows_of_gone_runs_stay(five_seeds: Path) -> None:
    md = five_seeds / "experiments.md"
    mine = NOTES + "\n## Studies\n\nMy thoughts on seeds.\n"
    md.write_text(mine, encoding="utf-8")
    assert run_report(five_seeds).returncode == 0
    text = md.read_text(encoding="utf-8")
    assert text.split("<!-- results:end -->")[1].startswith(AFTER_RESULTS + "\n## Studies\n\n" + STUDIES_START + "\n")
    assert text.endswith(f"{STUDIES_END}\n\nMy thoughts on seeds.\n") and text.count("## Studies") == 1

    gone = (
        "| old_study | a2c | qbert | 1,000 | 3 | 1.0 [95% CI 0.0, 2.0] | 1.0 (IQR 0.5-1.5) | 0: 0.0, 1: 1.0, 2: 2.0 |"
    )
    md.write_text(text.replace(STUDIES_END, gone + "\n" + STUDIES_END), encoding="utf-8")
    assert run_report(five_seeds).returncode == 0
    rows = studies_rows(md.read_text(encoding="utf-8"))
    assert rows[0] == gone and rows[1].startswith("| ppo_pong | ppo | pong | 100,000 | 5 |") and len(rows) == 2


def test_broken_studies_markers_are_a_one_line_error(five_seeds: Path) -> None:
    md = five_seeds / "experiments.md"
    md.write_text(NOTES + f"\n## Studies\n\n{STUDIES_START}\n", encoding="utf-8")
    result: subprocess.CompletedProcess = run_report(five_seeds)
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"has no '{STUDIES_END}' marker" in lines[0] and "'## Studies'" in lines[0], lines
    assert md.read_text(encoding="utf-8") == NOTES + f"\n## Studies\n\n{STUDIES_START}\n"  # nothing written


def test_a_single_run_adds_no_studies_section(tmp_path: Path) -> None:
    make_run(tmp_path / "runs", "ppo_pong", "20240501-090000", seed=0)
    (tmp_path / "experiments.md").write_text(NOTES, encoding="utf-8", newline="")
    result = run_report(tmp_path)
    assert result.returncode == 0 and "final eval" not in result.stdout
    assert "## Studies" not in (tmp_path / "experiments.md").read_text(encoding="utf-8")
    assert len(find_runs(tmp_path / "runs")) == 1
