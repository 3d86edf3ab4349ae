"""One sweep worker: trains trials of a shared study until the study has its ``--trials`` results.

Any number of workers (processes, machines) run this same loop on one study. ``--trials`` is a
total for the study: a worker asks for a new trial only while finished (complete or pruned)
plus running trials are fewer than it; it leaves once the finished ones reach it. While the
remaining trials run elsewhere it waits, because one of them may go stale (its worker killed)
and be queued again for a living worker to retry. Two workers asking at the same moment can
get one trial too many: the one with the higher number sees that and gives its trial up
(failed, marked ``surplus``) before training anything.

Each trial is a normal run directory under ``<runs>/sweeps/<study>/runs/``: ``evaluate``,
``record`` and ``train --resume`` work on it. Its path (and host) is stored in the study.
"""

from __future__ import annotations

import shutil
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import optuna
from optuna.trial import Trial, TrialState

from simple_game.callbacks.pruning import PruningCallback
from simple_game.config import dump_config
from simple_game.errors import EXIT_INTERRUPTED, SimpleGameError
from simple_game.fsio import atomic_write_text
from simple_game.runs import new_run_dir
from simple_game.sweep.sampling import suggest
from simple_game.sweep.space import SearchSpace
from simple_game.sweep.storage import GRACE_HEARTBEATS, RETRY
from simple_game.training import run_training
from simple_game.training.setup import TrainingCallbacks

FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
MAX_FAILURES_IN_A_ROW = 3  # a space whose every trial fails (a refused combination) stops, not loops


class Surplus(Exception):
    """This trial was asked for when the study already had its trials (another worker was quicker)."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM during the trial's training: the trial is queued again, the worker leaves."""


@dataclass
class Worker:
    """The loop of one worker over ``study``; ``say`` prints one line."""

    study: optuna.Study
    space: SearchSpace
    trials: int
    sweep_dir: Path
    heartbeat: int
    exiting: bool = False
    say: Callable[[str], None] = print
    trained: list[int] = field(default_factory=list)
    _current: Optional[int] = None
    _interrupted: bool = False

    @property
    def runs_dir(self) -> Path:
        return self.sweep_dir / "runs"

    def run(self, after_each: Callable[[], None]) -> int:
        """Train trials until the study has ``trials`` finished ones; the exit code (0, or 130 if interrupted)."""
        failures = 0
        waiting_said = False
        while True:
            done, running, queued = self.counts()
            if done >= self.trials:
                return 0
            if queued == 0 and done + running >= self.trials:
                if not waiting_said:
                    self.say(
                        f"waiting: {running} trial(s) running elsewhere; if a worker is gone for "
                        f"{GRACE_HEARTBEATS * self.heartbeat}s its trial is retried here (Ctrl-C to leave)"
                    )
                    waiting_said = True
                time.sleep(self.heartbeat)
                continue
            waiting_said = False
            trial = self.one_trial()
            after_each()
            if trial is None:
                continue
            if self._interrupted:
                _queue_again(self.study, trial)
                return EXIT_INTERRUPTED
            failed = trial.state == TrialState.FAIL and not trial.user_attrs.get("surplus")
            failures = failures + 1 if failed else 0
            if failures >= MAX_FAILURES_IN_A_ROW:
                raise SimpleGameError(
                    f"{self.space.path}: {failures} trials in a row failed, the last: {trial.user_attrs.get('failure')}"
                )

    def counts(self) -> tuple[int, int, int]:
        """Finished (complete or pruned), running and queued (waiting) trials, after failing stale ones."""
        optuna.storages.fail_stale_trials(self.study)  # a dead worker's trial: failed, and queued again
        states = [t.state for t in self.study.get_trials(deepcopy=False)]
        done = sum(state in FINISHED_STATES for state in states)
        return done, states.count(TrialState.RUNNING), states.count(TrialState.WAITING)

    def one_trial(self) -> Optional[optuna.trial.FrozenTrial]:
        """Ask for a trial, train it, tell the study; the trial as stored afterwards."""
        self._current = None
        try:
            self.study.optimize(self.objective, n_trials=1, catch=(SimpleGameError, Surplus, Interrupted))
        except optuna.exceptions.UpdateFinishedTrialError:  # another worker took it for dead (a long stall)
            self.say("warning: this trial was marked failed by another worker (heartbeats missed); going on")
        if self._current is None:
            return None
        return next(t for t in self.study.get_trials(deepcopy=False) if t.number == self._current)

    def objective(self, trial: Trial) -> float:
        self._current = trial.number
        for key in ("failure", "interrupted", "status", "steps"):  # a retried trial carries the old trial's
            if key in trial.user_attrs:
                trial.set_user_attr(key, None)
        ahead = [t for t in self.study.get_trials(deepcopy=False) if t.number < trial.number]
        if sum(t.state in (*FINISHED_STATES, TrialState.RUNNING) for t in ahead) >= self.trials:
            trial.set_user_attr("surplus", True)
            raise Surplus(f"trial {trial.number}: the study already has {self.trials} trials")
        values = suggest(trial, self.space)
        try:
            return self._train(trial, values)
        except SimpleGameError as exc:
            trial.set_user_attr("failure", str(exc))
            self.say(f"trial {trial.number} failed: {exc}")
            raise

    def _train(self, trial: Trial, values: dict[str, Any]) -> float:
        """Train the trial's run; its score, or ``TrialPruned`` when stopped early or diverged."""
        cfg = self.space.config(values, name=f"{self.study.study_name}-t{trial.number:03d}")
        run = new_run_dir(self.runs_dir, cfg.name)
        atomic_write_text(run.config_path, dump_config(cfg))
        trial.set_user_attr("run_dir", str(run.path.resolve()))
        trial.set_user_attr("host", socket.gethostname())
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        self.say(f"trial {trial.number}: {shown} -> {run.path}")

        def pruner(callbacks: TrainingCallbacks) -> list[Any]:
            assert callbacks.evaluation is not None  # SearchSpace.check: eval.freq > 0
            return [PruningCallback(trial, callbacks.evaluation, cfg.total_timesteps)]

        try:
            code = run_training(
                cfg,
                self.runs_dir,
                self.sweep_dir / "experiments.md",
                progress_bar=False,
                config_text=None,
                run=run,
                exiting=self.exiting,
                extras=pruner,
            )
        except SimpleGameError:
            if not run.summary_path.exists():  # refused before training: no half-made run left behind
                shutil.rmtree(run.path, ignore_errors=True)
            raise
        return self._score(trial, code, run.read_summary())

    def _score(self, trial: Trial, code: int, summary: dict[str, Any]) -> float:
        status, steps = summary.get("status"), int(summary.get("steps_done") or 0)
        trial.set_user_attr("status", status)
        trial.set_user_attr("steps", steps)
        self.trained.append(trial.number)
        if status == "pruned":
            self.say(f"trial {trial.number} pruned at {steps:,} steps")
            raise optuna.TrialPruned(f"pruned at {steps:,} steps")
        if code == EXIT_INTERRUPTED:
            trial.set_user_attr("interrupted", True)
            self._interrupted = True
            raise Interrupted(f"trial {trial.number} interrupted at {steps:,} steps")
        if summary.get("failure"):
            trial.set_user_attr("failure", summary["failure"])
        if status == "failed" and code != 2:  # diverged (NaN): a result of these values, a bad one
            self.say(f"trial {trial.number} diverged; counted as pruned")
            raise optuna.TrialPruned(str(summary.get("failure")))
        if status != "finished":
            raise SimpleGameError(str(summary.get("failure") or f"the run ended {status}"))
        key = "best_eval_mean" if self.space.spec.metric == "best" else "final_eval_mean"
        value = summary.get(key)
        if not isinstance(value, (int, float)):
            raise SimpleGameError(f"{summary.get('run_dir')}: no evaluation score ({key}) in summary.json")
        self.say(f"trial {trial.number} finished: {self.space.spec.metric} evaluation score {value:g}")
        return float(value)


def _queue_again(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """An interrupted trial is queued with its values, as a stale one is: the next worker retries it."""
    RETRY()(study, trial)
    print(f"trial {trial.number} interrupted: queued again with the same values", file=sys.stderr)
