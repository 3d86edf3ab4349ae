#!/usr/bin/env python
"""Take the dashboard screenshots of the README and docs/dashboard.md (docs/images/dashboard_*.png).

    python scripts/dashboard_screenshots.py                       # trains its own sample (~5 min on 2 cores)
    python scripts/dashboard_screenshots.py --runs runs --data data --pair RUN_A RUN_B

The same code path as tests/test_dashboard_browser.py: `simple-game dashboard` on a free
loopback port, Debian's Chromium (/usr/bin/chromium) driven headless by Playwright, every page
opened, two runs picked on the curves and config diff pages. Without --runs it builds the
browser test's sample with longer runs (--steps agent steps each, so the curves have points to
show): two seeds of one variant and one other variant of a study, a record video, a two-trial
sweep and a random-tier dataset.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(1, str(REPO / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images", help="where the PNGs go")
    parser.add_argument("--runs", type=Path, help="use this runs folder instead of training a sample")
    parser.add_argument("--data", type=Path, help="the dataset folder with --runs")
    parser.add_argument("--pair", nargs=2, metavar="RUN", help="the two run folders to pick (with --runs)")
    parser.add_argument("--steps", type=int, default=4096, help="agent steps of each sample run (default: 4096)")
    args = parser.parse_args()

    from test_dashboard_browser import capture_pages, serve_dashboard
    from test_dashboard_data import STUDY, build_sample, mark_study

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dashboard_shots_") as tmp:
        if args.runs is None:
            print(f"training the sample ({args.steps} steps a run) ...", flush=True)
            sample = build_sample(Path(tmp), steps=args.steps)
            mark_study(sample)
            runs, data = sample.runs, sample.data
            pair = (sample.run(f"{STUDY}_base_seed0").name, sample.run(f"{STUDY}_epochs2_seed0").name)
        else:
            if not args.pair:
                parser.error("--runs needs --pair RUN_A RUN_B")
            runs, data, pair = args.runs, args.data or Path("data"), tuple(args.pair)
        with serve_dashboard(runs, data) as url:
            shots = capture_pages(url, Path(tmp), pair)
        for path in shots.values():
            if path.suffix == ".png":
                target = args.out / path.name
                target.write_bytes(path.read_bytes())
                print(f"wrote {target}")


if __name__ == "__main__":
    main()
