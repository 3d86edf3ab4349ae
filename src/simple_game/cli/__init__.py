"""``simple-game <command> ...``: one console script, each command a module's ``main``.

Commands are imported only when run, so ``simple-game --help`` stays instant and imports no
torch, gymnasium or ale-py.
"""

from __future__ import annotations

import importlib
import sys
from typing import Optional

COMMANDS = {
    "train": ("simple_game.cli.train", "train an agent from a YAML experiment file"),
    "evaluate": ("simple_game.cli.evaluate", "measure a trained agent over full games"),
    "record": ("simple_game.cli.record", "record an MP4 of an agent playing"),
    "collect": ("simple_game.cli.collect", "record a skill-tiered gameplay dataset (PNG + JSON)"),
    "report": ("simple_game.cli.report", "regenerate experiments.md and learning-curve plots"),
    "study": ("simple_game.cli.study", "train every config of an ablation series for several seeds"),
    "sweep": ("simple_game.cli.sweep", "tune hyperparameters with Optuna (one machine or many)"),
    "dashboard": ("simple_game.cli.dashboard", "browse runs, videos, studies and datasets in the browser"),
    "agents": ("simple_game.cli.agents", "ship a run's agents as small policy-only checkpoints; verify them"),
    "hub": ("simple_game.cli.hub", "fetch trained agents from the Hugging Face Hub"),
    "roms": ("simple_game.cli.roms", "check the Atari ROMs and list the games"),
}


def _usage() -> str:
    lines = ["usage: simple-game <command> [options]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run `simple-game <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if args[0] == "--version":
        from simple_game import __version__

        print(f"simple-game {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r} (commands: {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
