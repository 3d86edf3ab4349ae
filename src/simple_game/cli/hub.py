"""Fetch agents from the Hugging Face Hub into its cache, and list the ones already there.

    simple-game hub pull sb3/ppo-BreakoutNoFrameskip-v4          # download once (needs network)
    simple-game hub pull sb3/ppo-BreakoutNoFrameskip-v4 --revision <commit>
    simple-game hub list                                         # agents in the cache (works offline)
    simple-game evaluate hf://sb3/ppo-BreakoutNoFrameskip-v4     # then play it, offline too

Files go to the Hub's normal cache (``HF_HUB_CACHE``, default ``~/.cache/huggingface/hub``); with
``HF_HUB_OFFLINE=1`` or without network a cached copy is used. Only the zips and the RL Zoo's
YAML files are fetched. The work is :mod:`simple_game.agents.sources`' (docs/agents_from_elsewhere.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from simple_game.cli.common import cli_main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game hub",
        description="Fetch trained agents (SB3 zips, e.g. the RL Zoo's sb3/<algo>-<Env>) from the Hugging Face Hub.",
        epilog="Play one with: simple-game evaluate hf://<org>/<repo> (docs/agents_from_elsewhere.md)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="pull|list")
    pull = sub.add_parser("pull", help="download a repository into the Hub cache (or find it there offline)")
    pull.add_argument("repo", help="<org>/<name> or hf://<org>/<name>, e.g. sb3/ppo-BreakoutNoFrameskip-v4")
    pull.add_argument("--revision", help="a branch, tag or commit (default: main)")
    pull.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    listing = sub.add_parser("list", help="agents already in the Hub cache")
    listing.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return list_main()
    from simple_game.agents.sources import HubRef, open_agent, parse_hub_ref

    ref = parse_hub_ref(args.repo)
    ref = HubRef(ref.repo_id, args.revision or ref.revision)
    agent = open_agent(str(ref))
    record = agent.record()
    print(f"{ref}: {agent.path.parent}")
    game = agent.game() or "an unnamed game"
    print(
        f"  {record['algo']} agent for {game} ({record['env_id'] or 'env id unknown'}): "
        f"{record['frame_stack']} frames of {record['screen_size']}x{record['screen_size']}, "
        f"{record['n_actions']} actions, SB3 {record['sb3_version'] or '?'}, "
        f"{record['trained_steps'] or 0:,} training steps"
    )
    print(f"play it: simple-game evaluate {ref}")
    return 0


def list_main() -> int:
    """Every agent zip under the cache's ``models--<org>--<name>/snapshots/<commit>/``."""
    from pathlib import Path

    from huggingface_hub import constants  # only the cache's place: no torch, so listing is instant

    cache = Path(constants.HF_HUB_CACHE)
    found = sorted(p for p in cache.glob("models--*--*/snapshots/*/*.zip") if p.name != "train_eval_metrics.zip")
    if not found:
        print(
            f"no agents in the Hub cache ({cache}); fetch one with: simple-game hub pull sb3/ppo-BreakoutNoFrameskip-v4"
        )
        return 0
    for zip_path in found:
        repo = zip_path.parents[2].name.removeprefix("models--").replace("--", "/", 1)
        print(f"hf://{repo}@{zip_path.parent.name[:12]}  {zip_path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
