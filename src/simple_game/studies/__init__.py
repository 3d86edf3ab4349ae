"""Studies: one experiment over several seeds, or an ablation series, trained and summarised as one.

One run of RL proves little: two seeds of one config can end far apart. A study trains every
(variant, seed) as an ordinary run (the real ``train`` command in a child process, N at a
time), marks each run with a ``study.json`` (:mod:`~simple_game.studies.membership`), and can
be re-run to train only what is missing. ``report`` then draws each study's learning curves as
median and interquartile band and its final scores as IQM with a 95% bootstrap interval.

- :mod:`~simple_game.studies.series`: the series folder format (``NN_<variant>.yaml``)
- :mod:`~simple_game.studies.seeds`: ``--seeds``, ``--parallel``, what each (variant, seed) needs
- :mod:`~simple_game.studies.launcher`: the child processes, the CPU divided, Ctrl-C passed on
- :mod:`~simple_game.studies.run`: a study from the configs to the exit code
- :mod:`~simple_game.studies.figures`: what ``report`` draws per study

See docs/studies.md.
"""

from simple_game.studies.membership import Member, StudyRuns, group_by_study, read_member
from simple_game.studies.run import run_study, seed_study, series_study
from simple_game.studies.seeds import parse_parallel, parse_seeds
from simple_game.studies.series import Series, Variant, read_series

__all__ = [
    "Member",
    "Series",
    "StudyRuns",
    "Variant",
    "group_by_study",
    "parse_parallel",
    "parse_seeds",
    "read_member",
    "read_series",
    "run_study",
    "seed_study",
    "series_study",
]
