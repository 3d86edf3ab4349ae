"""Record a skill-tiered gameplay dataset (PNG frames + JSON action logs), and verify one.

    python -m simple_game.collect --config configs/collect_breakout.yaml [--set key=value ...]
    python -m simple_game.collect verify data/

Tier k >= 1 is the ``skill_level_k`` checkpoint, tier 0 plays at random; ``verify`` replays every
episode bit for bit. The work is :mod:`simple_game.dataset`'s (format: docs/dataset.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from simple_game.cli.common import cli_main
from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    from simple_game.config import CollectConfig

EXIT_VERIFY_FAILED = 1
SET_HELP = "override a config value (repeatable), e.g. --set run=runs/my_run --set episodes=10"
NO_CONFIG = "--config is required, e.g. --config configs/collect_breakout.yaml (or: collect verify DIR)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game collect",
        description="Record a skill-tiered gameplay dataset (PNG frames + JSON action logs). "
        "`simple-game collect verify DIR` replays a dataset and checks every frame.",
        epilog="Format, pairing and workflow: docs/dataset.md",
    )
    parser.add_argument("--config", "-c", help="collect YAML, e.g. configs/collect_breakout.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help=SET_HELP)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


def build_verify_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game collect verify",
        description="Replay every episode of a dataset from its seed and recorded actions; check every frame bit for "
        "bit and every reward, life count and length. Exit 0: all reproduce; 1: mismatches; 2: not a dataset.",
    )
    parser.add_argument("dataset", help="dataset directory (the one holding manifest.json)")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "verify":
        return verify_main(argv[1:])
    args = build_parser().parse_args(argv)
    if not args.config:
        raise SimpleGameError(NO_CONFIG)
    from simple_game.config import load_collect_config

    return run_collect(load_collect_config(args.config, args.overrides), str(args.config))


def run_collect(cfg: CollectConfig, source: str) -> int:
    """Plan (every run and checkpoint checked before a file is written), print the plan, collect, summarize."""
    import rich
    from rich.table import Table

    from simple_game.dataset import MANIFEST, build_plan, collect_dataset, read_json, sticky_warning

    console = rich.get_console()
    plan = build_plan(cfg, source)
    env, size = plan.env_cfg, plan.env_cfg.screen_size
    console.print(
        f"[bold]simple-game collect[/bold] {env.game} ({env.protocol} protocol, frame stack {env.frame_stack}) "
        f"-> {plan.output}/ | {'RGB 210x160' if plan.rgb else f'grayscale {size}x{size}'} PNG, "
        f"{plan.workers} encoder threads | seed {plan.seed}"
    )
    table = Table("tier", "source", "episodes", "max steps", "sampling", "milestone")
    for t in plan.tiers:
        steps = str(t.max_steps or "whole games")
        table.add_row(t.name, t.source_label, str(t.episodes), steps, t.sampling_label, t.milestone_label)
    console.print(table)
    warning = sticky_warning(env)
    if warning:
        console.print(f"[yellow]{warning}[/yellow]", highlight=False, soft_wrap=True)
    for run in sorted({t.info["run"] for t in plan.tiers if t.info.get("run")}):
        console.print(f"agents from run {run}", highlight=False)
    stats = collect_dataset(plan, report=lambda line: console.print(line, highlight=False))
    summary = Table("tier", "episodes", "train/val", "frames", "score mean ± std", "min", "max", title="dataset")
    for t in read_json(plan.output / MANIFEST)["tiers"]:
        s, split = t["score"], f"{t['train_episodes']}/{t['validation_episodes']}"
        score = f"{s['mean']:.1f} ± {s['std']:.1f}" if s["mean"] is not None else "n/a"
        summary.add_row(t["name"], str(t["episodes"]), split, f"{t['frames']:,}", score, str(s["min"]), str(s["max"]))
    console.print(summary)
    console.print(
        f"wrote {stats.frames_written:,} frames ({stats.bytes_written / 1e6:.1f} MB) in {stats.episodes_written} "
        f"episodes ({stats.episodes_skipped} already there) in {stats.wall_s:.1f}s: [bold]{stats.frames_per_s:.0f} "
        f"frames/s[/bold] (waiting on PNG encoding {stats.encode_wait_percent:.0f}% of the time)"
    )
    console.print(f"check it: python -m simple_game.collect verify {plan.output}")
    return 0


def verify_main(argv: list[str]) -> int:
    """Replay a dataset; print mismatches as they are found, then a table per tier."""
    from rich.console import Console
    from rich.table import Table

    from simple_game.dataset import load_manifest, verify_dataset

    args = build_verify_parser().parse_args(argv)
    console = Console(soft_wrap=True)  # a long line is folded by the terminal, never cut
    root = Path(args.dataset)
    manifest = load_manifest(root)  # exit 2 before anything heavy when it is not a dataset
    console.print(
        f"verifying {root}/ ({manifest['game']}, {manifest['protocol']} protocol, "
        f"{manifest['totals']['episodes']} episodes) by replay"
    )

    def progress(check: Any) -> None:
        if not check.ok:
            console.print(f"[red]MISMATCH[/red] {check.line()}", highlight=False)

    report = verify_dataset(root, progress=progress)
    per_tier = Table("tier", "episodes", "reproduced", "failed", "frames checked", title="verify")
    for name, n, failed, frames in report.tier_counts():
        per_tier.add_row(name, str(n), str(n - failed), f"[red]{failed}[/red]" if failed else "0", f"{frames:,}")
    console.print(per_tier, soft_wrap=False)
    for problem in report.problems:
        console.print(f"[red]problem[/red]: {problem}", highlight=False)
    if report.ok:
        console.print(
            f"[green]OK[/green]: all {len(report.episodes)} episodes reproduce bit-exactly "
            f"({report.frames_checked:,} frames, {report.wall_s:.1f}s, {report.frames_per_s:.0f} frames/s)"
        )
        return 0
    console.print(f"[red]FAILED[/red]: {report.failure_summary()}", highlight=False)
    return EXIT_VERIFY_FAILED


if __name__ == "__main__":
    sys.exit(main())
