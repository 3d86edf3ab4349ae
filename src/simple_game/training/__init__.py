"""Training: one run of ``model.learn`` with everything around it, recorded in its run directory.

- :mod:`.run`: :func:`run_training` (top to bottom: run, model, callbacks, learn, finish) and
  :func:`train_new` (``train --config``);
- :mod:`.resume`: :func:`resume_run` (``train --resume``) and the keys ``--set`` may change then;
- :mod:`.setup`: the envs, the model (built or resumed) and the callbacks of a run;
- :mod:`.outcome`: the one map from what ended training to a status and an exit code;
- :mod:`.summary`: :class:`RunSummary`, the record written to ``summary.json``.
"""

from __future__ import annotations

from simple_game.training.outcome import FINISHED, Outcome, outcome_of
from simple_game.training.resume import RESUME_SAFE_KEYS, check_resume_overrides, resume_run
from simple_game.training.run import default_experiments_md, run_training, train_new
from simple_game.training.summary import RunSummary

__all__ = [
    "FINISHED",
    "RESUME_SAFE_KEYS",
    "Outcome",
    "RunSummary",
    "check_resume_overrides",
    "default_experiments_md",
    "outcome_of",
    "resume_run",
    "run_training",
    "train_new",
]
