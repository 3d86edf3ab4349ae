"""A sweep's pruning: each periodic evaluation reported to an Optuna trial, training stopped when it is hopeless.

Pruning saves a sweep most of its time: a trial whose evaluation score at 500k steps is below
the median of the other trials at 500k steps rarely ends up the best, so its remaining budget
goes to a new trial instead. The pruner decides (:mod:`simple_game.sweep.sampling`); this
callback feeds it and stops ``learn`` cleanly: the run keeps its checkpoints and ``eval.csv``
and ends with status ``pruned``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from stable_baselines3.common.callbacks import BaseCallback

from simple_game.callbacks.evaluation import EvaluationCallback

if TYPE_CHECKING:
    from optuna.trial import Trial


class PruningCallback(BaseCallback):
    """After each evaluation, ``trial.report(score, step)``; stop training when ``trial.should_prune()``.

    Put it after the :class:`EvaluationCallback` it reads, so it sees an evaluation on the
    step it is made. A periodic evaluation is reported at its nominal step (a multiple of
    ``eval.freq``: with 3 envs SB3 lands on 258, not 256), the final one at the budget, so the
    pruner compares trials at the same steps whatever their ``n_envs``. ``stop_status`` is
    ``pruned`` once it has stopped training (``run_training`` records that as the run's status).
    """

    def __init__(self, trial: Trial, evaluation: EvaluationCallback, budget: int) -> None:
        super().__init__()
        self.trial = trial
        self.evaluation = evaluation
        self.budget = budget
        self.stop_status: Optional[str] = None
        self.reported: dict[int, float] = {}
        self._seen: Optional[dict[str, float]] = None

    def _on_training_start(self) -> None:
        self._seen = self.evaluation.last_result  # a resumed run's earlier evaluation is not new

    def _on_step(self) -> bool:
        result = self._new_result()
        if result is None:
            return True
        freq = max(int(self.evaluation.freq), 1)
        self._report(int(result["timesteps"]) // freq * freq, result["mean_score"])
        if self.trial.should_prune():
            self.stop_status = "pruned"
            return False
        return True

    def _on_training_end(self) -> None:
        result = self._new_result()  # the final evaluation, made in EvaluationCallback._on_training_end
        if result is not None and self.stop_status is None:
            steps = int(result["timesteps"])
            self._report(self.budget if steps >= self.budget else steps, result["mean_score"])

    def _new_result(self) -> Optional[dict[str, float]]:
        result = self.evaluation.last_result
        if result is None or result is self._seen:
            return None
        self._seen = result
        return result

    def _report(self, step: int, score: float) -> None:
        if step not in self.reported:  # Optuna keeps the first value of a step and warns about the others
            self.trial.report(float(score), step)
            self.reported[step] = float(score)
