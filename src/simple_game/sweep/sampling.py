"""How a sweep picks each trial's values (the sampler) and which trials it stops early (the pruner).

TPE (tree-structured Parzen estimator, Optuna's default) first tries ``n_startup_trials``
random points, then models which values scored well and which badly, and samples where the
ratio of the two densities is highest. With several workers its ``constant_liar`` option
counts the trials still running as bad results, so two workers do not both try the same spot.

A pruner compares a trial's evaluation curve with the others' at the same agent step: the
median pruner stops a trial whose score is below the median of earlier trials at that step;
successive halving lets one trial in ``reduction_factor`` go on at each rung of steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Optional

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, Trial, TrialState

from simple_game.sweep.space import PrunerSpec, SamplerSpec, SearchSpace


class PerTrialSeed(BaseSampler):
    """A sampler seeded afresh for each trial with ``seed + trial number``.

    One seed per worker would make two workers started together draw the same random startup
    trials; seeding by trial number (unique in a study) keeps them apart and still makes a
    one-worker sweep repeat exactly. The samplers hold no state of their own besides their
    random generator: they read the study's history each time.
    """

    def __init__(self, make: Callable[[int], BaseSampler], seed: int) -> None:
        self._make, self._seed = make, seed
        self._current = make(seed)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._current = self._make(self._seed + trial.number)
        self._current.before_trial(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._current.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._current.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._current.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Optional[Sequence[float]]
    ) -> None:
        self._current.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._current.reseed_rng()


def make_sampler(spec: SamplerSpec, default_seed: int) -> BaseSampler:
    """TPE (default) or random search, seeded per trial (:class:`PerTrialSeed`)."""
    seed = default_seed if spec.seed is None else spec.seed
    if spec.type == "random":
        return PerTrialSeed(lambda s: optuna.samplers.RandomSampler(seed=s), seed)
    startup = spec.n_startup_trials
    return PerTrialSeed(
        lambda s: optuna.samplers.TPESampler(seed=s, n_startup_trials=startup, constant_liar=True), seed
    )


def make_pruner(spec: PrunerSpec) -> optuna.pruners.BasePruner:
    if spec.type == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=spec.n_startup_trials, n_warmup_steps=spec.n_warmup_steps)
    if spec.type == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=spec.min_resource or "auto", reduction_factor=spec.reduction_factor
        )
    if spec.type == "threshold":
        return optuna.pruners.ThresholdPruner(lower=spec.lower, upper=spec.upper, n_warmup_steps=spec.n_warmup_steps)
    return optuna.pruners.NopPruner()


def suggest(trial: Trial, space: SearchSpace) -> dict[str, Any]:
    """One value per tuned key, drawn by the study's sampler (a retried trial gets its old values)."""
    values: dict[str, Any] = {}
    for key, spec in space.params.items():
        if spec.type == "choice":
            values[key] = trial.suggest_categorical(key, spec.choices or [])
        elif spec.type == "int":
            step = int(spec.step or 1)
            values[key] = trial.suggest_int(key, int(spec.low or 0), int(spec.high or 0), step=step, log=spec.log)
        else:
            low, high = float(spec.low or 0.0), float(spec.high or 0.0)
            values[key] = trial.suggest_float(key, low, high, log=spec.type == "loguniform", step=spec.step)
    return values
