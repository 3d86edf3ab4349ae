"""The tables the collect commands print: the plan, the recorded dataset, a verification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from pathlib import Path

    from simple_game.dataset.plan import CollectionPlan, CollectionStats
    from simple_game.dataset.verify import VerifyReport


def plan_header(plan: CollectionPlan) -> str:
    """One line: game, protocol, output, frame format, threads and seed."""
    env, size = plan.env_cfg, plan.env_cfg.screen_size
    return (
        f"[bold]simple-game collect[/bold] {env.game} ({env.protocol} protocol, frame skip {env.frame_skip}, "
        f"frame stack {env.frame_stack}) "
        f"-> {plan.output}/ | {'RGB 210x160' if plan.rgb else f'grayscale {size}x{size}'} PNG, "
        f"{plan.workers} encoder threads | seed {plan.seed}"
    )


def plan_table(plan: CollectionPlan) -> Table:
    table = Table("tier", "source", "episodes", "max steps", "sampling", "milestone")
    for t in plan.tiers:
        steps = str(t.max_steps or "whole games")
        table.add_row(t.name, t.source_label, str(t.episodes), steps, t.sampling_label, t.milestone_label)
    return table


def dataset_table(manifest: dict[str, Any]) -> Table:
    """Per tier: episodes, split, frames and scores, as the manifest lists them."""
    summary = Table("tier", "episodes", "train/val", "frames", "score mean ± std", "min", "max", title="dataset")
    for t in manifest["tiers"]:
        s, split = t["score"], f"{t['train_episodes']}/{t['validation_episodes']}"
        score = f"{s['mean']:.1f} ± {s['std']:.1f}" if s["mean"] is not None else "n/a"
        summary.add_row(t["name"], str(t["episodes"]), split, f"{t['frames']:,}", score, str(s["min"]), str(s["max"]))
    return summary


def verify_table(report: VerifyReport) -> Table:
    per_tier = Table("tier", "episodes", "reproduced", "failed", "frames checked", title="verify")
    for name, n, failed, frames in report.tier_counts():
        per_tier.add_row(name, str(n), str(n - failed), f"[red]{failed}[/red]" if failed else "0", f"{frames:,}")
    return per_tier


def stats_line(stats: CollectionStats) -> str:
    """What a collection wrote, how fast, and how long it waited on PNG encoding."""
    return (
        f"wrote {stats.frames_written:,} frames ({stats.bytes_written / 1e6:.1f} MB) in {stats.episodes_written} "
        f"episodes ({stats.episodes_skipped} already there) in {stats.wall_s:.1f}s: [bold]{stats.frames_per_s:.0f} "
        f"frames/s[/bold] (waiting on PNG encoding {stats.encode_wait_percent:.0f}% of the time)"
    )


def verify_header(root: Path, manifest: dict[str, Any]) -> str:
    packed = " and its shards" if manifest.get("shards") else ""
    return (
        f"verifying {root}/ ({manifest['game']}, {manifest['protocol']} protocol, "
        f"{manifest['totals']['episodes']} episodes{packed}) by replay"
    )
