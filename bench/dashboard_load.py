#!/usr/bin/env python
"""How fast the dashboard's first page comes up over many runs (the issue asks for about 2 s with 200).

    python bench/dashboard_load.py                    # 200 runs, AppTest and Chromium
    python bench/dashboard_load.py --runs 500 --no-browser

Writes ``--runs`` run folders into a temporary directory, each as a long PPO run leaves it:
the resolved config.yaml of configs/ppo_breakout.yaml (seed and name varied), a summary.json,
a progress.csv of ``--rows`` dumps with SB3's PPO columns, and an eval.csv of 40 evaluations.
Then it times, in a fresh process each (nothing cached yet):

- the first script run of the "Training curves" page through Streamlit's AppTest: listing
  every run, reading the newest three runs' logs, building the chart;
- the same page in headless Chromium through ``simple-game dashboard`` (the helpers of
  tests/test_dashboard_browser.py): from ``page.goto`` to the chart drawn, with nothing cached,
  with a fresh browser on a warm server, and reloaded. ``--runs 3`` shows what 200 runs add.

Wall-clock figures depend on other load on the machine, so the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
try:  # runnable from a clean clone without `pip install -e .`
    import simple_game  # noqa: F401
except ImportError:
    sys.path.insert(0, str(REPO / "src"))

PROGRESS_COLUMNS = (
    "time/time_elapsed,time/total_timesteps,rollout/ep_len_mean,rollout/ep_rew_mean,time/iterations,time/fps,"
    "train/value_loss,train/entropy_loss,train/clip_fraction,train/loss,train/approx_kl,train/n_updates,"
    "train/clip_range,train/policy_gradient_loss,train/explained_variance,train/learning_rate"
).split(",")
EVAL_HEADER = "timesteps,mean_score,std_score,median_score,min_score,max_score,mean_length,n_episodes,wall_time_s"


def make_runs(root: Path, n: int, rows: int) -> None:
    """``n`` run folders under ``root`` with realistic logs (deterministic: seeded by the run index)."""
    from simple_game.config import dump_config, load_config

    for i in range(n):
        rng = random.Random(i)
        name = f"ppo_breakout_{i // 5:03d}_seed{i % 5}"
        run = root / f"{name}_20261201-{i // 60:02d}{i % 60:02d}00"
        run.mkdir(parents=True)
        cfg = load_config(REPO / "configs" / "ppo_breakout.yaml", [f"seed={i % 5}"], name=name)
        (run / "config.yaml").write_text(dump_config(cfg))
        lines = [",".join(PROGRESS_COLUMNS)]
        for r in range(1, rows + 1):
            score = 30 * r / rows + rng.gauss(0, 2)
            values = [r * 7.3, r * 1024, 500 + r / 10, score, r, 140] + [rng.random() for _ in PROGRESS_COLUMNS[6:]]
            lines.append(",".join(f"{v:.6g}" for v in values))
        (run / "progress.csv").write_text("\n".join(lines) + "\n")
        evals = [EVAL_HEADER]
        for e in range(1, 41):
            mean = 35 * e / 40 + rng.gauss(0, 3)
            evals.append(f"{e * 250_000},{mean:.1f},4.2,{mean:.1f},{mean - 8:.0f},{mean + 8:.0f},800,10,{e * 1800}")
        (run / "eval.csv").write_text("\n".join(evals) + "\n")
        summary = {"experiment": name, "algo": "ppo", "game": "breakout", "seed": i % 5, "status": "finished"}
        summary |= {"total_timesteps": 10_000_000, "steps_done": rows * 1024, "started_at": "2026-12-01T09:00:00"}
        (run / "summary.json").write_text(json.dumps(summary, indent=2))


APPTEST_PROBE = """
import sys, time
from streamlit.testing.v1 import AppTest
def app(runs):
    from simple_game.dashboard.app import main
    main(runs, runs)
at = AppTest.from_function(app, args=(sys.argv[1],), default_timeout=120)
t = time.perf_counter(); at.run(); first = time.perf_counter() - t
assert not at.exception, at.exception
t = time.perf_counter(); at.run(); again = time.perf_counter() - t
print(f"{first:.3f} {again:.3f} {len(at.get('vega_lite_chart'))}")
"""


def time_apptest(runs: Path) -> tuple[float, float]:
    """Seconds of the first and of a second script run of the first page, in a fresh process."""
    probe = runs.parent / "apptest_probe.py"  # AppTest.from_function reads the function's source from a file
    probe.write_text(APPTEST_PROBE)
    proc = subprocess.run([sys.executable, str(probe), str(runs)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout.split()
    assert out[2] == "1", "the first page drew no chart"
    return float(out[0]), float(out[1])


BROWSER_CASES = (
    "a fresh server, a fresh browser (nothing cached anywhere)",
    "the server warm, a fresh browser (no cached JavaScript)",
    "the server warm, the page reloaded (the browser's cache)",
)


def time_browser(runs: Path) -> list[float]:
    """Seconds from ``goto`` to the chart drawn in Chromium, for each of :data:`BROWSER_CASES`.

    The second case tells the browser's share from the server's: Streamlit's own JavaScript
    (several MB, compiled on every first visit) costs the same whatever the runs folder holds.
    """
    sys.path.insert(0, str(REPO / "tests"))
    from playwright.sync_api import sync_playwright

    from test_dashboard_browser import launch, serve_dashboard

    chart = '[data-testid="stVegaLiteChart"] svg.marks'
    times = []
    with serve_dashboard(runs, runs) as url, sync_playwright() as playwright:
        browser = launch(playwright)
        for case in BROWSER_CASES:
            if "reloaded" not in case:
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            t = time.perf_counter()
            page.goto(url)
            page.locator(chart).first.wait_for(timeout=120_000)
            times.append(time.perf_counter() - t)
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="run folders to make (default: 200)")
    parser.add_argument("--rows", type=int, default=2000, help="progress.csv rows per run (default: 2000)")
    parser.add_argument("--no-browser", action="store_true", help="AppTest only (no Chromium)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="dashboard_load_") as tmp:
        runs = Path(tmp) / "runs"
        t = time.perf_counter()
        make_runs(runs, args.runs, args.rows)
        size = sum(p.stat().st_size for p in runs.rglob("*") if p.is_file())
        print(f"made {args.runs} runs ({size / 1e6:.0f} MB of logs) in {time.perf_counter() - t:.1f}s")
        first, again = time_apptest(runs)
        print(f"AppTest, first page: first run {first:.2f}s (nothing cached), rerun {again:.2f}s (cached)")
        if not args.no_browser:
            for case, seconds in zip(BROWSER_CASES, time_browser(runs)):
                print(f"Chromium, first page drawn: {seconds:.2f}s with {case}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
