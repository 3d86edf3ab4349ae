"""What every command shares: the error wrapper, argument types and the flags of agent commands.

This module imports nothing heavy, so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional, Protocol

from simple_game.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, SimpleGameError

if TYPE_CHECKING:
    from simple_game.evaluation import Target


class Main(Protocol):
    """A command's entry point: ``main()`` reads ``sys.argv``, ``main([...])`` the given arguments."""

    def __call__(self, argv: Optional[list[str]] = None) -> int: ...


def _whole_number(text: str, minimum: int, rule: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {rule}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An ``argparse`` type for counts (episodes, steps, envs): a bad value is a usage error."""
    return _whole_number(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    """An ``argparse`` type for counts where 0 means none (games to score)."""
    return _whole_number(text, 0, "0 or more")


def cli_main(func: Callable[[list[str]], int]) -> Main:
    """Wrap a command's ``main(argv)``: user errors and refused paths become ``error: ...``, exit 2.

    ``--debug`` anywhere in argv re-raises so the full traceback is shown.
    """

    @functools.wraps(func)
    def wrapper(argv: Optional[list[str]] = None) -> int:
        args = sys.argv[1:] if argv is None else list(argv)
        debug = "--debug" in args
        try:
            return func(args)
        except SimpleGameError as exc:
            if debug:
                raise
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        except KeyboardInterrupt:
            if debug:
                raise
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except OSError as exc:
            # A path the machine refuses (a missing or read-only folder, a full disk): the user
            # can fix that, so one line naming the path; --debug shows where it was raised.
            if debug:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"error: {where}{exc.strerror or exc} (--debug shows the traceback)", file=sys.stderr)
            return EXIT_USER_ERROR

    return wrapper


# -- flags shared by the commands that play a trained agent (evaluate, record) ---------------


def add_overrides_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--set KEY.PATH=VALUE`` (repeatable) into ``args.overrides``: every command that reads a config."""
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help=help)


def add_target_arguments(parser: argparse.ArgumentParser, *, verb: str, episodes: int) -> None:
    """``RUN_OR_CHECKPOINT``, ``--checkpoint`` and ``--episodes`` (``whole games to <verb>``)."""
    parser.add_argument(
        "target",
        nargs="?",
        metavar="RUN_OR_CHECKPOINT",
        help="a run directory (runs/<experiment>) or a checkpoint .zip",
    )
    parser.add_argument("--checkpoint", help="which checkpoint of a run: best (default), latest, step_N, skill_level_K")
    parser.add_argument(
        "--episodes", "-n", type=positive_int, default=episodes, help=f"whole games to {verb} (default: {episodes})"
    )


def add_acting_arguments(parser: argparse.ArgumentParser, *, games: str) -> None:
    """How actions are chosen: ``--epsilon`` or ``--deterministic``, ``--sample``, and ``--seed`` of ``games``."""
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--epsilon", type=float, default=None, help="probability of a random action (default: 0.05)")
    how.add_argument("--deterministic", action="store_true", help="always the policy's action (epsilon 0)")
    parser.add_argument(
        "--sample", action="store_true", help="sample PPO/A2C actions instead of taking the most likely one"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help=f"seed of the {games} and of the random actions (default: 0)"
    )


def add_policy_arguments(parser: argparse.ArgumentParser, *, random_help: str) -> None:
    """``--random`` (no checkpoint loaded) and ``--config`` (the game of a loose checkpoint)."""
    parser.add_argument("--random", action="store_true", help=random_help)
    parser.add_argument(
        "--config", help="config YAML naming the game and protocol, for a checkpoint outside a run directory"
    )


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    """``--device`` for the network and ``--debug`` for full tracebacks."""
    parser.add_argument("--device", default="cpu", help="torch device for the network (default: cpu)")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")


def target_from_args(args: argparse.Namespace) -> Target:
    """The :class:`~simple_game.evaluation.Target` named by the target, ``--checkpoint``, ``--config``, ``--random``."""
    from simple_game.evaluation import resolve_target

    return resolve_target(args.target, checkpoint=args.checkpoint, config=args.config, random_policy=args.random)


def parse_agent_args(
    parser: argparse.ArgumentParser, argv: Optional[list[str]]
) -> tuple[argparse.Namespace, dict[str, Any]]:
    """Parse an agent command's flags: the arguments, and the keywords it hands the library.

    The keywords are ``epsilon``, ``deterministic``, ``seed`` and ``device``. ``--deterministic``
    means epsilon 0, ``--sample`` sampled actions; contradictions and an epsilon outside [0, 1]
    are user errors (:func:`simple_game.evaluation.action_mode`).
    """
    args = parser.parse_args(argv)
    from simple_game.evaluation import action_mode  # only now: --help and usage errors stay light

    epsilon, deterministic = action_mode(args.epsilon, args.deterministic, args.sample)
    return args, {"epsilon": epsilon, "deterministic": deterministic, "seed": args.seed, "device": args.device}
