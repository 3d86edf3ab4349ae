"""Browse runs, videos, studies and datasets in the browser: a local, read-only Streamlit app.

    simple-game dashboard                              # runs/ and data/ here, http://127.0.0.1:8501
    simple-game dashboard --runs ~/runs --data data/breakout_v1 --port 8600

Pages: training curves, videos over checkpoints, compare runs (seeds as median and IQR),
ablations, config diff, datasets (an episode viewer) and sweeps. It only reads the two
folders; a run still being written, or with a broken file, gets a short warning and the page
carries on. Streamlit is an optional extra: ``pip install -e ".[dashboard]"``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import Optional

from simple_game.cli.common import cli_main
from simple_game.errors import SimpleGameError

INSTALL_HINT = 'the dashboard needs Streamlit: pip install -e ".[dashboard]"'


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game dashboard",
        description="Start a local web app over run directories and datasets (read-only): training curves, "
        "videos at each checkpoint with its score, run comparisons, ablations, config diffs, datasets "
        "frame by frame, sweeps. Stop it with Ctrl-C.",
    )
    parser.add_argument("--runs", default="runs", type=Path, help="folder of run folders (default: runs)")
    parser.add_argument(
        "--data", default="data", type=Path, help="a dataset folder, or a folder of datasets (default: data)"
    )
    parser.add_argument("--port", default=8501, type=_port, help="port to serve on (default: 8501)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 shares it on the network)",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, got {value}")
    return value


def streamlit_command(args: argparse.Namespace) -> list[str]:
    """``streamlit run <app.py> ...`` (libraries preloaded: :mod:`simple_game.dashboard.serve`): headless,
    no usage statistics, no file watching."""
    app = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    return [
        sys.executable,
        "-m",
        "simple_game.dashboard.serve",
        "run",
        str(app),
        *("--server.port", str(args.port), "--server.address", args.host),
        *("--server.headless", "true", "--browser.gatherUsageStats", "false"),
        *("--server.fileWatcherType", "none", "--server.runOnSave", "false"),
        *("--global.developmentMode", "false", "--client.toolbarMode", "minimal"),
        "--",
        *("--runs", str(args.runs.resolve()), "--data", str(args.data.resolve())),
    ]


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if importlib.util.find_spec("streamlit") is None:
        raise SimpleGameError(INSTALL_HINT)
    for flag, folder in (("--runs", args.runs), ("--data", args.data)):
        if folder.exists() and not folder.is_dir():
            raise SimpleGameError(f"{flag}: {folder}: is a file, not a folder")
    print(f"dashboard: http://{args.host}:{args.port}  (runs: {args.runs}, data: {args.data}; Ctrl-C stops it)")
    sys.stdout.flush()
    command = streamlit_command(args)
    # Streamlit takes this process's place: Ctrl-C and SIGTERM reach the server itself, none is left behind.
    os.execv(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(None))
