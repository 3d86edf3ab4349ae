"""Record a skill-tiered gameplay dataset (PNG frames + JSON action logs); verify, pack or export one.

    python -m simple_game.collect --config configs/collect_breakout.yaml [--set key=value ...]
    python -m simple_game.collect verify data/
    python -m simple_game.collect pack data/ [--compress]
    python -m simple_game.collect export data/ --minari breakout [--to DIR]

Tier k >= 1 is the ``skill_level_k`` checkpoint, tier 0 plays at random; ``verify`` replays every
episode bit for bit. The work is :mod:`simple_game.dataset`'s (format: docs/dataset.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from simple_game.cli.common import add_overrides_argument, cli_main
from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    from simple_game.config import CollectConfig

EXIT_VERIFY_FAILED = 1
SET_HELP = "override a config value (repeatable), e.g. --set run=runs/my_run --set episodes=10"
NO_CONFIG = "--config is required, e.g. --config configs/collect_breakout.yaml (or: collect verify|pack|export DIR)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game collect",
        description="Record a skill-tiered gameplay dataset (PNG frames + JSON action logs). "
        "Then `simple-game collect verify|pack|export DIR` (each has --help).",
        epilog="Format, pairing and workflow: docs/dataset.md",
    )
    parser.add_argument("--config", "-c", help="collect YAML, e.g. configs/collect_breakout.yaml")
    add_overrides_argument(parser, SET_HELP)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


SUB_HELP = {
    "verify": "Replay every episode of a dataset from its seed and recorded actions; check every frame (PNGs and "
    "shards) bit for bit and every reward, life count and length. Exit 0: all reproduce; 1: mismatches; 2: not a "
    "dataset.",
    "pack": "Write each episode's frames into one .npz shard next to its PNGs, listed with its sha256 in the "
    "manifest; the reader then reads shards. A failed pack changes nothing.",
    "export": "Write one Minari dataset per tier (simple-game/NAME-skillK-v0), readable with minari.load_dataset "
    "(needs the minari extra).",
}


def build_sub_parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"simple-game collect {command}", description=SUB_HELP[command])
    parser.add_argument("dataset", help="dataset directory (the one holding manifest.json)")
    if command == "pack":
        parser.add_argument("--compress", action="store_true", help="deflate the shards (smaller, slower to read)")
    if command == "export":
        parser.add_argument("--minari", required=True, metavar="NAME", help="dataset name, e.g. breakout")
        parser.add_argument("--to", metavar="DIR", help="Minari root to write into (default: MINARI_DATASETS_PATH)")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUB_HELP:
        return {"verify": verify_main, "pack": pack_main, "export": export_main}[argv[0]](argv[1:])
    args = build_parser().parse_args(argv)
    if not args.config:
        raise SimpleGameError(NO_CONFIG)
    from simple_game.config import load_collect_config

    return run_collect(load_collect_config(args.config, args.overrides), str(args.config))


def run_collect(cfg: CollectConfig, source: str) -> int:
    """Plan (every run and checkpoint checked before a file is written), print the plan, collect, summarize."""
    import rich

    from simple_game.dataset import MANIFEST, build_plan, collect_dataset, read_json, sticky_warning, tables

    console = rich.get_console()
    plan = build_plan(cfg, source)
    console.print(tables.plan_header(plan))
    console.print(tables.plan_table(plan))
    warning = sticky_warning(plan.env_cfg)
    if warning:
        console.print(f"[yellow]{warning}[/yellow]", highlight=False, soft_wrap=True)
    for run in sorted({t.info["run"] for t in plan.tiers if t.info.get("run")}):
        console.print(f"agents from run {run}", highlight=False)
    stats = collect_dataset(plan, lambda line: console.print(line, highlight=False), games_at_once=cfg.parallel_games)
    console.print(tables.dataset_table(read_json(plan.output / MANIFEST)))
    console.print(tables.stats_line(stats))
    console.print(f"check it: python -m simple_game.collect verify {plan.output}")
    return 0


def verify_main(argv: list[str]) -> int:
    """Replay a dataset; print mismatches as they are found, then a table per tier."""
    from rich.console import Console

    from simple_game.dataset import load_manifest, tables, verify_dataset

    args = build_sub_parser("verify").parse_args(argv)
    console = Console(soft_wrap=True)  # a long line is folded by the terminal, never cut
    root = Path(args.dataset)
    manifest = load_manifest(root)  # exit 2 before anything heavy when it is not a dataset
    console.print(tables.verify_header(root, manifest))

    def progress(check: Any) -> None:
        if not check.ok:
            console.print(f"[red]MISMATCH[/red] {check.line()}", highlight=False)

    report = verify_dataset(root, progress=progress)
    console.print(tables.verify_table(report), soft_wrap=False)
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


def pack_main(argv: list[str]) -> int:
    from simple_game.dataset import pack_dataset

    args = build_sub_parser("pack").parse_args(argv)
    print(pack_dataset(args.dataset, compress=args.compress).line())
    return 0


def export_main(argv: list[str]) -> int:
    from simple_game.dataset import export_minari

    args = build_sub_parser("export").parse_args(argv)
    ids = export_minari(args.dataset, args.minari, directory=args.to, progress=print)
    print(f"exported {len(ids)} Minari datasets; read one with minari.load_dataset({ids[0]!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
