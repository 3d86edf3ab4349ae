"""One training run, top to bottom: check the outputs, build or load the model, open the run,
make the callbacks, learn, finish.

Data flows one way: config -> envs -> agent -> callbacks -> run directory. Everything that can
be refused before training is checked before the run directory exists (the output paths, then
the envs and the model: SB3 and torch check hyperparameters when the model is built), so a
refused start leaves no run folder and no experiments.md row. What ended the run (finished,
interrupted, diverged, a user error, a crash) is decided in one place,
:mod:`simple_game.training.outcome`.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from rich.console import Console
from stable_baselines3.common.callbacks import BaseCallback, ProgressBarCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from simple_game.agents import build_model
from simple_game.agents.schedules import CONTINUE
from simple_game.callbacks import CheckpointCallback, make_logger
from simple_game.callbacks.console import is_interactive, timed_apart, training_console
from simple_game.compute import apply_compute, describe_compute
from simple_game.config import ExperimentConfig, dump_config
from simple_game.device import resolve_device
from simple_game.envs import resolve_backend
from simple_game.errors import ConfigError, SimpleGameError
from simple_game.experiment_log import append_experiment_row, default_log_path
from simple_game.fsio import atomic_write_text
from simple_game.interrupts import Terminated, ignoring_interrupts, interrupt_handlers
from simple_game.outputs import check_writable_dir, check_writable_file
from simple_game.runlock import held_for_training
from simple_game.runs import RunDirectory, new_run_dir
from simple_game.training.outcome import FINISHED, Outcome, attempt
from simple_game.training.refusal import refusal_message
from simple_game.training.setup import (
    TrainingCallbacks,
    TrainingEnvs,
    build_or_resume_model,
    check_replay_fits,
    make_callbacks,
)
from simple_game.training.summary import RunSummary, Stopwatch, describe_speed, record_end, start_summary
from simple_game.training.warm_start import WarmStart, warm_start

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


def run_training(
    cfg: ExperimentConfig,
    runs_root: Path,
    experiments_md: Path,
    *,
    progress_bar: bool,
    config_text: Optional[str],
    run: Optional[RunDirectory] = None,
    resume_from: Optional[Path] = None,
    exiting: bool = False,
    schedules: str = CONTINUE,
    extras: Optional[Callable[[TrainingCallbacks], list[BaseCallback]]] = None,
) -> int:
    """Build envs, agent and callbacks for ``cfg``, train, and record the run; returns the exit code.

    With ``run`` and ``resume_from`` it continues that run from that checkpoint: same run
    directory, step counter, schedules, optimizer, replay buffer (if saved), random generators;
    logs are appended. Exit codes: see :mod:`simple_game.training.outcome`. ``exiting``: the
    caller exits right after (the CLI), see :func:`simple_game.interrupts.interrupt_handlers`.
    ``schedules``: how a resumed run's schedules go on (:mod:`simple_game.agents.schedules`).
    ``extras``: callbacks made from the run's own (a sweep's pruner); their ``stop_status`` names the status.
    """
    console, device, resuming = training_console(), resolve_device(cfg.device), resume_from is not None
    _check_outputs(cfg, runs_root, experiments_md, run)
    _print_header(console, cfg, device)
    envs, model, compute, started = _prepare(console, cfg, device, run, resume_from, schedules)
    run = _open_run(cfg, runs_root, config_text, run, envs)  # only now: a refused start leaves no folder
    # train --resume holds the lock already, taken before it read the config and the checkpoint.
    with held_for_training(run.path, already_held=resuming, on_refused=envs.close):
        console.print(f"run directory: {run.path}   (tensorboard --logdir {runs_root})")
        start_step = int(model.num_timesteps)
        summary, clock = start_summary(cfg, run, device, start_step, compute, resuming, started)
        callbacks, learn_callbacks, bar = _connect(
            cfg, run, envs, console, model, clock, progress_bar, resuming, extras
        )

        def learn() -> None:
            run.write_summary(summary.as_dict())
            model.learn(
                total_timesteps=cfg.total_timesteps - start_step,  # SB3 adds num_timesteps when not resetting
                callback=learn_callbacks,
                log_interval=cfg.logging.log_interval,
                reset_num_timesteps=not resuming,
            )

        def crashed(exc: BaseException) -> None:
            _close_bar(bar)
            record_end(
                run, summary, "crashed", f"{type(exc).__name__}: {exc}", model.num_timesteps, clock(), None, None
            )

        with interrupt_handlers(exiting=exiting):
            outcome = attempt(learn, model, crashed) or _stopped_by(callbacks.all) or FINISHED
            _close_bar(bar)  # before any message: a live bar would be drawn again below it
            if outcome.status == "interrupted":
                _stop_at_interrupt(console, callbacks.checkpoint, model, outcome)
            wall = clock()
            outcome = _finish(run, summary, outcome, model, wall, callbacks, envs, experiments_md, crashed)
        return _report(console, run, model, summary, outcome, wall, cfg.total_timesteps)


def _finish(
    run: RunDirectory,
    summary: RunSummary,
    outcome: Outcome,
    model: BaseAlgorithm,
    wall: float,
    callbacks: TrainingCallbacks,
    envs: TrainingEnvs,
    experiments_md: Path,
    crashed: Callable[[BaseException], None],
) -> Outcome:
    """Save the final checkpoint, close the envs and record how the run ended (Ctrl-C is ignored meanwhile)."""
    with ignoring_interrupts():
        if outcome.status in ("finished", "interrupted", "pruned"):
            # The final checkpoint is what `--resume` and `evaluate` use: save it (unless diverged).
            outcome = attempt(callbacks.checkpoint.save, model, crashed) or outcome
        envs.close()
        record_end(run, summary, outcome.status, outcome.failure, model.num_timesteps, wall, *callbacks.results())
        if outcome.status == "finished":
            append_experiment_row(experiments_md, summary.as_dict())
    return outcome


def _connect(
    cfg: ExperimentConfig,
    run: RunDirectory,
    envs: TrainingEnvs,
    console: Console,
    model: BaseAlgorithm,
    clock: Stopwatch,
    progress_bar: bool,
    resuming: bool,
    extra: Optional[Callable[[TrainingCallbacks], list[BaseCallback]]] = None,
) -> tuple[TrainingCallbacks, list[BaseCallback], Optional[ProgressBarCallback]]:
    """The model's logger, the callbacks, the list ``learn`` gets, and SB3's progress bar if shown.

    The console runs on the run's clock and leaves the callbacks' pauses out of its fps; the
    progress bar only on a terminal or in a notebook (piped into a file it prints "? it/s").
    """
    logger = make_logger(
        run,
        cfg.logging.tensorboard,
        resuming,
        elapsed_before_s=clock.previous_s,
        iterations_before=_iterations_done(model),
    )
    model.set_logger(logger)
    callbacks = make_callbacks(cfg, run, envs, console, int(model.num_timesteps), resuming, clock=clock)
    if extra is not None:  # after the run's own: a pruner sees each evaluation on the step it is made
        callbacks.all.extend(extra(callbacks))
    bar = ProgressBarCallback() if progress_bar and is_interactive(console) else None
    return callbacks, timed_apart(callbacks.all, clock) + ([bar] if bar else []), bar


def _stopped_by(callbacks: list[BaseCallback]) -> Optional[Outcome]:
    """The outcome of a callback that ended training on purpose (``stop_status``, e.g. a sweep's ``pruned``)."""
    status = next((s for s in (getattr(cb, "stop_status", None) for cb in callbacks) if s), None)
    return Outcome(str(status), 0) if status else None


def _check_outputs(cfg: ExperimentConfig, runs_root: Path, experiments_md: Path, run: Optional[RunDirectory]) -> None:
    """Every place the run writes, checked before any work: a problem is one line, and nothing is created."""
    if cfg.logging.wandb is not None and importlib.util.find_spec("wandb") is None:
        where = cfg.where("logging.wandb")
        raise ConfigError(f'{where}: wandb is not installed: pip install -e ".[wandb]" (or remove logging.wandb)')
    if run is None:
        check_writable_dir(runs_root, "--runs-dir")
    else:
        check_writable_dir(run.path, "run folder")
    check_writable_file(experiments_md, "experiment log")


def _prepare(
    console: Console,
    cfg: ExperimentConfig,
    device: str,
    run: Optional[RunDirectory],
    resume_from: Optional[Path],
    schedules: str,
) -> tuple[TrainingEnvs, BaseAlgorithm, dict[str, str], Optional[WarmStart]]:
    """The envs, the model (built, warm-started or loaded to resume), its compute settings and where a warm
    start came from, for a run whose folder may not exist yet: what SB3 or torch refuses (or an ``init_from``
    that does not fit) stops the start here, before anything is written."""
    for warning in cfg.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    envs = TrainingEnvs.open(cfg)
    try:
        check_replay_fits(cfg, envs.train, console)  # SB3's load allocates a fresh buffer too
        started = None
        if run is None or resume_from is None:
            model = _build(cfg, envs.train, device)
            started = warm_start(cfg, model, envs.train, device)
            if started is not None:
                console.print(started.describe(), highlight=False)
        else:
            model = build_or_resume_model(cfg, envs.train, device, run, resume_from, console, schedules=schedules)
        return envs, model, _apply_compute(console, model, cfg, device), started
    except BaseException:
        envs.close()
        raise


def _build(cfg: ExperimentConfig, env: VecEnv, device: str) -> BaseAlgorithm:
    """A fresh model; a value SB3 or torch refuses is one line naming where it was set."""
    try:
        return build_model(cfg, env, device)
    except SimpleGameError as exc:
        refused = exc.__context__  # build_model raises `from None`: SB3's or torch's own error stays the context
        if isinstance(refused, (ValueError, TypeError, AssertionError)):
            raise SimpleGameError(refusal_message(cfg, refused)) from None
        raise


def _open_run(
    cfg: ExperimentConfig, runs_root: Path, config_text: Optional[str], run: Optional[RunDirectory], envs: TrainingEnvs
) -> RunDirectory:
    """A new run directory with its ``config.yaml``, or the existing ``run`` made ready to continue."""
    try:
        if run is None:
            run = new_run_dir(runs_root, cfg.name)
            atomic_write_text(run.config_path, config_text or "")
        else:
            run.make_dirs()
            run.remove_temp_files()  # left by a process killed mid-write; never a finished file
    except BaseException:
        envs.close()
        raise
    return run


def _print_header(console: Console, cfg: ExperimentConfig, device: str) -> None:
    console.print(
        f"[bold]simple-game[/bold] {cfg.algo.upper()} on [bold]{cfg.env.game}[/bold] ({cfg.env.protocol} protocol, "
        f"{cfg.env.n_envs} envs, backend {resolve_backend(cfg.env)}, frame stack {cfg.env.frame_stack}) "
        f"| device [bold]{device}[/bold] | seed {cfg.seed} | {cfg.total_timesteps:,} steps"
    )


def _apply_compute(console: Console, model: BaseAlgorithm, cfg: ExperimentConfig, device: str) -> dict[str, str]:
    """How the network computes (memory format, fused optimizer, compile, bf16), never what it
    stores: applied to built and resumed models alike, so checkpoints stay plain."""
    compute = apply_compute(model, cfg.compute, device, probe_layout=True)
    console.print(describe_compute(compute))
    return compute


def _rollout_steps(model: BaseAlgorithm) -> Optional[int]:
    """PPO and A2C: the agent steps of one rollout (``n_steps x n_envs``), SB3's unit of progress."""
    return model.n_steps * model.n_envs if isinstance(model, OnPolicyAlgorithm) else None


def _iterations_done(model: BaseAlgorithm) -> int:
    """PPO/A2C: the rollouts already done when a run resumes, so ``time/iterations`` continues.

    Rollouts always complete (an interrupted one is discarded), so the step count says how many ran.
    """
    rollout = _rollout_steps(model)
    return int(model.num_timesteps) // rollout if rollout else 0


def _close_bar(bar: Optional[ProgressBarCallback]) -> None:
    """Stop SB3's progress bar (its own ``_on_training_end`` does not run when training is interrupted)."""
    pbar = getattr(bar, "pbar", None)
    if pbar is not None:
        pbar.close()  # closing twice is harmless


def _stop_at_interrupt(
    console: Console, checkpoint_cb: CheckpointCallback, model: BaseAlgorithm, outcome: Outcome
) -> None:
    """Ctrl-C or SIGTERM: count only the steps learned from, and say a checkpoint is coming."""
    if checkpoint_cb.model is None:  # interrupted before training began
        checkpoint_cb.init_callback(model)
    what = "SIGTERM" if isinstance(outcome.cause, Terminated) else "interrupted"
    console.print(f"[yellow]{what} at {checkpoint_cb.discard_partial_rollout():,} steps: saving a checkpoint[/yellow]")


def _report(
    console: Console,
    run: RunDirectory,
    model: BaseAlgorithm,
    summary: RunSummary,
    outcome: Outcome,
    wall: float,
    budget: int,
) -> int:
    """The last line: the error on stderr, or how far training got; returns the exit code.

    Its times are the run's clock, the one of ``summary.json`` and of the console's ``elapsed``
    column (:func:`~simple_game.training.summary.describe_speed`: this session, and on a resumed
    run the whole run too); its speeds include the evaluations, unlike the console's fps.
    """
    if outcome.failure:
        kept = run.latest_checkpoint()
        print(f"error: {outcome.failure}; kept the last good checkpoint: {kept if kept else 'none'}", file=sys.stderr)
        return outcome.exit_code
    score = (
        f"{summary.final_eval_mean:.1f} ± {summary.final_eval_std:.1f}"
        if summary.final_eval_mean is not None
        else "n/a"
    )
    console.print(
        f"[bold]{outcome.status}[/bold]: {model.num_timesteps:,} steps; wall-clock speed {describe_speed(summary)}; "
        f"final eval score {score}; run: {run.path}"
    )
    if model.num_timesteps > budget:
        console.print(_overshoot_note(model, budget))
    return outcome.exit_code


def _overshoot_note(model: BaseAlgorithm, budget: int) -> str:
    """Why SB3 took more steps than the budget: it checks the budget only between rollouts."""
    if isinstance(model, OnPolicyAlgorithm):
        unit = f"a rollout is n_steps {model.n_steps} x {model.n_envs} envs = {model.n_steps * model.n_envs:,} steps"
    else:
        freq = getattr(model, "train_freq", None)
        unit = f"it collects train_freq {freq.frequency} {freq.unit.value}s x {model.n_envs} envs" if freq else ""
    return f"note: {model.num_timesteps:,} steps for a budget of {budget:,}: SB3 stops only between rollouts ({unit})"


def train_new(
    cfg: ExperimentConfig,
    *,
    runs_dir: str | Path = "runs",
    experiments_md: Optional[str | Path] = None,
    progress: bool = True,
    exiting: bool = False,
) -> int:
    """``train --config``: a new run of the loaded experiment ``cfg`` in ``runs_dir``.

    The experiment log defaults to :func:`simple_game.experiment_log.default_log_path`: the
    repository's ``experiments.md`` for ``./runs``, else ``<runs_dir>/experiments.md``.
    """
    runs_root = Path(runs_dir)
    return run_training(
        cfg,
        runs_root,
        Path(experiments_md) if experiments_md else default_log_path(runs_root),
        progress_bar=cfg.logging.progress_bar and progress,
        config_text=dump_config(cfg),
        exiting=exiting,
    )


def default_experiments_md(runs_root: Path) -> Path:
    """The experiment log of the runs under ``runs_root``: :func:`simple_game.experiment_log.default_log_path`
    (kept under this name for callers of the old one)."""
    return default_log_path(runs_root)
