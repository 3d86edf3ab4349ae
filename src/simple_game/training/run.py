"""One training run, top to bottom: open or resume the run, build or load the model, make the
callbacks, learn, finish.

Data flows one way: config -> envs -> agent -> callbacks -> run directory. What ended the run
(finished, interrupted, diverged, a user error, a crash) is decided in one place,
:mod:`simple_game.training.outcome`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import rich
from rich.console import Console

from simple_game.callbacks import CheckpointCallback, make_logger
from simple_game.compute import apply_compute, describe_compute
from simple_game.config import ExperimentConfig, dump_config
from simple_game.device import resolve_device
from simple_game.envs import resolve_backend
from simple_game.experiment_log import append_experiment_row
from simple_game.fsio import atomic_write_text
from simple_game.interrupts import Terminated, ignoring_interrupts, interrupt_handlers
from simple_game.runs import RunDirectory, new_run_dir
from simple_game.training.outcome import FINISHED, Outcome, attempt
from simple_game.training.setup import TrainingEnvs, build_or_resume_model, make_callbacks
from simple_game.training.summary import RunSummary, record_end, start_summary

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm


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
) -> int:
    """Build envs, agent and callbacks for ``cfg``, train, and record the run; returns the exit code.

    With ``run`` and ``resume_from`` it continues that run from that checkpoint: same run
    directory, step counter, schedules, optimizer, replay buffer (if saved), random generators;
    logs are appended. Exit codes: see :mod:`simple_game.training.outcome`. ``exiting``: the
    caller exits right after (the CLI), see :func:`simple_game.interrupts.interrupt_handlers`.
    """
    console, device, resuming = rich.get_console(), resolve_device(cfg.device), resume_from is not None
    run = _open_run(cfg, runs_root, config_text, run)
    _print_header(console, cfg, device, run, runs_root)
    envs = TrainingEnvs.open(cfg)
    model = build_or_resume_model(cfg, envs.train, device, run, resume_from, console)
    start_step = int(model.num_timesteps)
    compute = _apply_compute(console, model, cfg, device)
    model.set_logger(make_logger(run, tensorboard=cfg.logging.tensorboard, append=resuming))
    callbacks = make_callbacks(cfg, run, envs, console, start_step, resuming)
    summary, clock = start_summary(cfg, run, device, start_step, compute, resuming)

    def learn() -> None:
        run.write_summary(summary.as_dict())
        model.learn(
            total_timesteps=cfg.total_timesteps - start_step,  # SB3 adds num_timesteps when not resetting
            callback=callbacks.all,
            progress_bar=progress_bar,
            log_interval=cfg.logging.log_interval,
            reset_num_timesteps=not resuming,
        )

    def crashed(exc: BaseException) -> None:
        record_end(run, summary, "crashed", f"{type(exc).__name__}: {exc}", model.num_timesteps, clock(), None, None)

    with interrupt_handlers(exiting=exiting):
        outcome = attempt(learn, model, crashed) or FINISHED
        if outcome.status == "interrupted":
            _stop_at_interrupt(console, callbacks.checkpoint, model, outcome)
        wall = clock()
        with ignoring_interrupts():
            if outcome.status in ("finished", "interrupted"):
                # The final checkpoint is what `--resume` and `evaluate` use: save it (unless diverged).
                outcome = attempt(callbacks.checkpoint.save, model, crashed) or outcome
            envs.close()
            record_end(run, summary, outcome.status, outcome.failure, model.num_timesteps, wall, *callbacks.results())
            if outcome.status == "finished":
                append_experiment_row(experiments_md, summary.as_dict())
    return _report(console, run, model, summary, outcome, wall)


def _open_run(
    cfg: ExperimentConfig, runs_root: Path, config_text: Optional[str], run: Optional[RunDirectory]
) -> RunDirectory:
    """A new run directory with its ``config.yaml``, or the existing ``run`` made ready to continue."""
    if run is None:
        run = new_run_dir(runs_root, cfg.name)
        atomic_write_text(run.config_path, config_text or "")
    else:
        run.make_dirs()
        run.remove_temp_files()  # left by a process killed mid-write; never a finished file
    return run


def _print_header(console: Console, cfg: ExperimentConfig, device: str, run: RunDirectory, runs_root: Path) -> None:
    console.print(
        f"[bold]simple-game[/bold] {cfg.algo.upper()} on [bold]{cfg.env.game}[/bold] ({cfg.env.protocol} protocol, "
        f"{cfg.env.n_envs} envs, backend {resolve_backend(cfg.env)}, frame stack {cfg.env.frame_stack}) "
        f"| device [bold]{device}[/bold] | seed {cfg.seed} | {cfg.total_timesteps:,} steps"
    )
    console.print(f"run directory: {run.path}   (tensorboard --logdir {runs_root})")


def _apply_compute(console: Console, model: BaseAlgorithm, cfg: ExperimentConfig, device: str) -> dict[str, str]:
    """How the network computes (memory format, fused optimizer, compile, bf16), never what it
    stores: applied to built and resumed models alike, so checkpoints stay plain."""
    compute = apply_compute(model, cfg.compute, device)
    console.print(describe_compute(compute))
    return compute


def _stop_at_interrupt(
    console: Console, checkpoint_cb: CheckpointCallback, model: BaseAlgorithm, outcome: Outcome
) -> None:
    """Ctrl-C or SIGTERM: count only the steps learned from, and say a checkpoint is coming."""
    if checkpoint_cb.model is None:  # interrupted before training began
        checkpoint_cb.init_callback(model)
    what = "SIGTERM" if isinstance(outcome.cause, Terminated) else "interrupted"
    console.print(f"[yellow]{what} at {checkpoint_cb.discard_partial_rollout():,} steps: saving a checkpoint[/yellow]")


def _report(
    console: Console, run: RunDirectory, model: BaseAlgorithm, summary: RunSummary, outcome: Outcome, wall: float
) -> int:
    """The last line: the error on stderr, or how far training got; returns the exit code."""
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
        f"[bold]{outcome.status}[/bold]: {model.num_timesteps:,} steps in {wall:.0f}s ({summary.fps:.0f} steps/s); "
        f"final eval score {score}; run: {run.path}"
    )
    return outcome.exit_code


def train_new(
    cfg: ExperimentConfig,
    *,
    runs_dir: str | Path = "runs",
    experiments_md: Optional[str | Path] = None,
    progress: bool = True,
    exiting: bool = False,
) -> int:
    """``train --config``: a new run of the loaded experiment ``cfg`` in ``runs_dir``."""
    runs_root = Path(runs_dir)
    return run_training(
        cfg,
        runs_root,
        Path(experiments_md) if experiments_md else default_experiments_md(runs_root),
        progress_bar=cfg.logging.progress_bar and progress,
        config_text=dump_config(cfg),
        exiting=exiting,
    )


def default_experiments_md(runs_root: Path) -> Path:
    """``experiments.md`` next to the runs directory."""
    return runs_root.resolve().parent / "experiments.md"
