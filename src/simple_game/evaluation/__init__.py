"""Playing whole games with a trained (or random) agent: shared by evaluate, record, collect and training.

One of each, each usable alone:

- :mod:`~simple_game.evaluation.target`: :func:`resolve_target` turns what the user typed (a run
  directory, a checkpoint file, a config) into a :class:`Target`: the saved config, the run and
  the checkpoint with its metadata.
- :mod:`~simple_game.evaluation.acting`: :class:`EpsilonGreedy` picks actions: with probability
  epsilon a uniformly random action, otherwise the policy's (:func:`make_policy` loads it).
- :mod:`~simple_game.evaluation.episodes`: :func:`run_episodes` plays N whole games on a vector
  env and returns raw game scores (:class:`EpisodeResults`).
- :mod:`~simple_game.evaluation.session`: :func:`open_session` readies a target's agent in its
  evaluation env; :mod:`~simple_game.evaluation.report`: :func:`evaluate_target` plays the games
  and builds ``evaluate``'s JSON report.

Nothing here writes files: the report goes back to the caller, videos are :mod:`simple_game.video`'s.
"""

from simple_game.evaluation.acting import DEFAULT_EPSILON, EpsilonGreedy, action_mode, make_policy, setup_inference
from simple_game.evaluation.episodes import EpisodeResults, protocol_info, run_episodes
from simple_game.evaluation.report import build_report, evaluate_target
from simple_game.evaluation.session import Session, open_session
from simple_game.evaluation.target import CONFIG_SUFFIXES, Target, load_run_config, resolve_target

__all__ = [
    "CONFIG_SUFFIXES",
    "DEFAULT_EPSILON",
    "EpisodeResults",
    "EpsilonGreedy",
    "Session",
    "Target",
    "action_mode",
    "build_report",
    "evaluate_target",
    "load_run_config",
    "make_policy",
    "open_session",
    "protocol_info",
    "resolve_target",
    "run_episodes",
    "setup_inference",
]
