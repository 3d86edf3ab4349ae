"""Train an agent from a YAML experiment file, or continue a run.

    python -m simple_game.train --config configs/ppo_breakout.yaml [--set key.path=value ...] [--name NAME]
    python -m simple_game.train --resume runs/ppo_breakout_20250101-120000 [--set total_timesteps=N]

Ctrl-C or SIGTERM saves a checkpoint, marks ``summary.json`` ``interrupted`` and exits 130;
``--resume`` continues from there. A NaN/inf loss or weight stops the run (``failed``, exit 3)
and keeps the last good checkpoint.

Data flows one way: config -> envs -> agent -> callbacks -> run directory.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from pathlib import Path
from typing import Any, Optional

from simple_game.cli.common import cli_main
from simple_game.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, SimpleGameError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game train",
        description="Train PPO, A2C, DQN or QR-DQN on an Atari game from a YAML experiment file.",
    )
    parser.add_argument("--config", "-c", help="experiment YAML, e.g. configs/ppo_breakout.yaml")
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue runs/<experiment> from its latest checkpoint (uses its saved config; --set may change only budget, eval, checkpoint, logging, video)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a config value (repeatable), e.g. --set env.n_envs=4",
    )
    parser.add_argument("--name", help="experiment name (default: the config file's name)")
    parser.add_argument("--runs-dir", default="runs", help="where run directories are created (default: runs)")
    parser.add_argument(
        "--experiments-md",
        default=None,
        help="experiment log to append a row to (default: experiments.md next to the runs directory)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


# Keys ``--set`` may change when resuming: budget, bookkeeping and logging, never what the
# network learned from (algorithm, game, protocol, hyperparameters, seed).
RESUME_SAFE_KEYS = ("total_timesteps", "device", "eval", "checkpoint", "logging", "video", "milestones")
EXIT_DIVERGED = 3


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    progress = not args.no_progress
    if args.resume:
        return resume(
            args.resume,
            args.overrides,
            experiments_md=args.experiments_md,
            progress=progress,
            config=args.config,
            name=args.name,
        )
    if not args.config:
        raise SimpleGameError(
            "--config is required, e.g. --config configs/ppo_breakout.yaml (or --resume runs/<experiment>)"
        )

    from simple_game.config import dump_config, load_config

    cfg = load_config(args.config, overrides=args.overrides, name=args.name)
    runs_root = Path(args.runs_dir)
    experiments_md = Path(args.experiments_md) if args.experiments_md else runs_root.resolve().parent / "experiments.md"
    return run_training(
        cfg,
        runs_root,
        experiments_md,
        progress_bar=cfg.logging.progress_bar and progress,
        config_text=dump_config(cfg),
        exiting=_is_cli_process(),
    )


def _is_cli_process() -> bool:
    """True when this process is the ``train`` command itself (not a notebook calling ``main``)."""
    return Path(sys.argv[0]).name in ("train.py", "simple-game", "__main__.py")


def resume(
    run_path: str,
    overrides: list[str],
    *,
    experiments_md: Optional[str] = None,
    progress: bool = True,
    config: Optional[str] = None,
    name: Optional[str] = None,
) -> int:
    """Continue ``run_path`` from its ``latest`` checkpoint up to the config's ``total_timesteps``."""
    if config or name:
        raise SimpleGameError(
            "--resume continues a run with its own saved config.yaml: drop --config/--name (to train longer: --set total_timesteps=N)"
        )
    from simple_game.checkpoints import read_checkpoint_metadata
    from simple_game.config import dump_config, load_config
    from simple_game.fsio import atomic_write_text
    from simple_game.runs import open_run_dir

    run = open_run_dir(Path(run_path))
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if key.split(".")[0] not in RESUME_SAFE_KEYS:
            raise SimpleGameError(
                f"--set {key}: cannot be changed when resuming (allowed: {', '.join(RESUME_SAFE_KEYS)}); start a new run instead"
            )
    cfg = load_config(run.config_path, overrides=overrides)
    latest = run.latest_checkpoint()
    if latest is None:
        raise SimpleGameError(f"{run.path}: no checkpoint to resume from (checkpoints/ holds no step_N.zip)")
    step = int(read_checkpoint_metadata(latest).get("step", 0))
    if step >= cfg.total_timesteps:
        print(
            f"{run.path}: already finished ({step:,} of {cfg.total_timesteps:,} steps): nothing to do. To train longer: --resume {run.path} --set total_timesteps=N"
        )
        return 0
    if overrides:
        atomic_write_text(run.config_path, dump_config(cfg))
    md = Path(experiments_md) if experiments_md else run.path.parent.resolve().parent / "experiments.md"
    return run_training(
        cfg,
        run.path.parent,
        md,
        progress_bar=cfg.logging.progress_bar and progress,
        config_text=None,
        run=run,
        resume_from=latest,
        exiting=_is_cli_process(),
    )


def run_training(
    cfg: Any,
    runs_root: Path,
    experiments_md: Path,
    *,
    progress_bar: bool,
    config_text: Optional[str],
    run: Any = None,
    resume_from: Optional[Path] = None,
    exiting: bool = False,
) -> int:
    """Build envs, agent and callbacks for ``cfg``, train, and record the run.

    With ``run`` and ``resume_from`` it continues that run from that checkpoint: same run
    directory, step counter, schedules, optimizer, replay buffer (if saved), random generators;
    logs are appended. Returns the exit code: 0 finished, 130 interrupted (a checkpoint was
    saved), 3 diverged (NaN/inf; the last good checkpoint is kept), 2 a user error such as a
    full disk. ``exiting``: the caller exits right after (the CLI), see :func:`interrupt_handlers`.
    """
    import rich

    from simple_game import __version__
    from simple_game.agents import build_model, checkpoint_metadata, load_checked_model, restore_rng_state
    from simple_game.callbacks import (
        CheckpointCallback,
        ConsoleCallback,
        EvaluationCallback,
        FailureGateCallback,
        MilestoneCallback,
        TrainingDiverged,
        VideoCallback,
        divergence_reason,
        make_logger,
    )
    from simple_game.checkpoints import read_checkpoint_metadata
    from simple_game.compute import apply_compute, describe_compute
    from simple_game.device import resolve_device
    from simple_game.envs import (
        EVAL_SEED_OFFSET,
        action_meanings,
        make_eval_env,
        make_train_env,
        make_vec_env,
        resolve_backend,
    )
    from simple_game.fsio import atomic_write_text
    from simple_game.interrupts import ignoring_interrupts, interrupt_handlers
    from simple_game.runs import new_run_dir

    console = rich.get_console()
    device = resolve_device(cfg.device)
    resuming = resume_from is not None
    if run is None:
        run = new_run_dir(runs_root, cfg.name)
        atomic_write_text(run.config_path, config_text or "")
    else:
        run.make_dirs()
        run.remove_temp_files()  # left by a process killed mid-write; never a finished file
    console.print(
        f"[bold]simple-game[/bold] {cfg.algo.upper()} on [bold]{cfg.env.game}[/bold] ({cfg.env.protocol} protocol, "
        f"{cfg.env.n_envs} envs, backend {resolve_backend(cfg.env)}, frame stack {cfg.env.frame_stack}) "
        f"| device [bold]{device}[/bold] | seed {cfg.seed} | {cfg.total_timesteps:,} steps"
    )
    console.print(f"run directory: {run.path}   (tensorboard --logdir {runs_root})")

    train_env = make_train_env(cfg.env, cfg.seed)
    eval_env = make_eval_env(cfg.env, cfg.seed, n_envs=cfg.eval.n_envs) if cfg.eval.freq > 0 else None
    video_env = None
    if resuming:
        assert resume_from is not None
        model = load_checked_model(resume_from, cfg, env=train_env, device=device, train=True)
        start_step = int(model.num_timesteps)
        restored = restore_rng_state(read_checkpoint_metadata(resume_from).get("rng") or {}, model)
        # Fresh games from here, reproducible from this checkpoint (emulator states are not saved).
        train_env.seed(cfg.seed + start_step)
        note = _load_replay_buffer(model, run, resume_from, cfg.checkpoint.save_replay_buffer)
        console.print(
            f"resuming from [bold]{resume_from.name}[/bold] at {start_step:,} of {cfg.total_timesteps:,} steps "
            f"(random generators restored: {', '.join(restored) or 'none'}{note})"
        )
    else:
        model = build_model(cfg, train_env, device)
        start_step = 0
    # How the network computes (memory format, fused optimizer, compile, bf16), never what it
    # stores: applied to built and resumed models alike, so checkpoints stay plain.
    compute_applied = apply_compute(model, cfg.compute, device)
    console.print(describe_compute(compute_applied))
    model.set_logger(make_logger(run, tensorboard=cfg.logging.tensorboard, append=resuming))

    def metadata(step: int) -> dict:
        return checkpoint_metadata(cfg, step, seed=cfg.seed)

    console_cb = ConsoleCallback(
        cfg.total_timesteps, cfg.logging.console_interval_s, console=console, start_step=start_step
    )
    checkpoint_cb = CheckpointCallback(
        run, cfg.checkpoint.freq, cfg.checkpoint.keep, metadata, cfg.checkpoint.save_replay_buffer
    )
    checkpoint_cb.last_saved_step = start_step
    # The failure gate goes first so a diverged network stops training before anything else runs.
    callbacks: list = [FailureGateCallback(), console_cb, checkpoint_cb]
    if cfg.milestones.thresholds:
        callbacks.append(MilestoneCallback(run, cfg.milestones.thresholds, cfg.milestones.window, metadata))
    eval_cb = None
    if eval_env is not None:
        best_row = max(run.eval_rows(), key=lambda r: r["mean_score"], default=None) if resuming else None
        eval_cb = EvaluationCallback(
            eval_env,
            run,
            cfg.eval.freq,
            cfg.eval.episodes,
            cfg.eval.deterministic,
            metadata,
            console=console_cb,
            best_mean=best_row["mean_score"] if best_row else None,
            best_result=best_row,
        )
        callbacks.append(eval_cb)
    if cfg.video.freq > 0:
        video_env = make_vec_env(
            cfg.env, training=False, seed=cfg.seed + EVAL_SEED_OFFSET + 1, n_envs=1, render_mode="rgb_array"
        )
        callbacks.append(
            VideoCallback(
                video_env,
                run,
                cfg.video.freq,
                cfg.video.max_steps,
                action_meanings(cfg.env),
                deterministic=cfg.eval.deterministic,
                frame_skip=cfg.env.frame_skip,
                seed=cfg.seed,
            )
        )

    now = _dt.datetime.now().isoformat(timespec="seconds")
    prior = run.read_summary() if resuming else {}
    summary: dict[str, Any] = {
        "experiment": cfg.name,
        "algo": cfg.algo,
        "game": cfg.env.game,
        "protocol": cfg.env.protocol,
        "seed": cfg.seed,
        "device": device,
        "total_timesteps": cfg.total_timesteps,
        "steps_done": start_step,
        "status": "running",
        "run_dir": str(run.path),
        "config_name": prior.get("config_name") or (Path(cfg.source).stem if cfg.source and not resuming else cfg.name),
        "started_at": prior.get("started_at", now),
        "simple_game_version": __version__,
        "compute": compute_applied,
    }
    if resuming:
        summary["resumed_at"] = list(prior.get("resumed_at") or []) + [now]
    previous_wall = float(prior.get("wall_time_s") or 0.0)

    status, exit_code, failure = "finished", 0, None
    t0 = time.monotonic()
    with interrupt_handlers(exiting=exiting):
        try:
            run.write_summary(summary)
            model.learn(
                total_timesteps=cfg.total_timesteps - start_step,  # SB3 adds num_timesteps when not resetting
                callback=callbacks,
                progress_bar=progress_bar,
                log_interval=cfg.logging.log_interval,
                reset_num_timesteps=not resuming,
            )
        except KeyboardInterrupt as exc:
            status, exit_code = "interrupted", EXIT_INTERRUPTED
            if checkpoint_cb.model is None:  # interrupted before training began
                checkpoint_cb.init_callback(model)
            what = "SIGTERM" if exc.__class__.__name__ == "Terminated" else "interrupted"
            console.print(
                f"[yellow]{what} at {checkpoint_cb.discard_partial_rollout():,} steps: saving a checkpoint[/yellow]"
            )
        except TrainingDiverged as exc:
            status, exit_code, failure = "failed", EXIT_DIVERGED, f"training diverged: {exc}"
        except SimpleGameError as exc:
            status, exit_code, failure = "failed", EXIT_USER_ERROR, str(exc)
        except Exception as exc:
            reason = divergence_reason(exc, model)
            if reason is None:
                _finish(
                    run,
                    summary,
                    "crashed",
                    f"{type(exc).__name__}: {exc}",
                    model,
                    previous_wall + time.monotonic() - t0,
                    None,
                    None,
                )
                raise
            status, exit_code, failure = "failed", EXIT_DIVERGED, f"training diverged: {reason}"
        wall = previous_wall + time.monotonic() - t0
        with ignoring_interrupts():
            if status in ("finished", "interrupted"):
                # The final checkpoint is what `--resume` and `evaluate` use: save it (unless diverged).
                try:
                    checkpoint_cb.save()
                except TrainingDiverged as exc:
                    status, exit_code, failure = "failed", EXIT_DIVERGED, f"training diverged: {exc}"
                except SimpleGameError as exc:
                    status, exit_code, failure = "failed", EXIT_USER_ERROR, str(exc)
            for env in (train_env, eval_env, video_env):
                if env is not None:
                    env.close()
            last = eval_cb.last_result if eval_cb else None
            best = eval_cb.best_result if eval_cb else None
            _finish(run, summary, status, failure, model, wall, last, best)
            if status == "finished":
                from simple_game.experiment_log import append_experiment_row

                append_experiment_row(experiments_md, summary)

    if failure:
        kept = run.latest_checkpoint()
        print(f"error: {failure}; kept the last good checkpoint: {kept if kept else 'none'}", file=sys.stderr)
        return exit_code
    score = f"{last['mean_score']:.1f} ± {last['std_score']:.1f}" if last else "n/a"
    console.print(
        f"[bold]{status}[/bold]: {model.num_timesteps:,} steps in {wall:.0f}s ({summary['fps']:.0f} steps/s); final eval score {score}; run: {run.path}"
    )
    return exit_code


def _finish(
    run: Any,
    summary: dict[str, Any],
    status: str,
    failure: Optional[str],
    model: Any,
    wall: float,
    last: Any,
    best: Any,
) -> None:
    """Write the final ``summary.json`` (best effort when the run failed, e.g. on a full disk)."""
    summary.update(
        status=status,
        steps_done=int(model.num_timesteps),
        wall_time_s=round(wall, 2),
        fps=round(model.num_timesteps / max(wall, 1e-9), 1),
        final_eval_mean=last["mean_score"] if last else None,
        final_eval_std=last["std_score"] if last else None,
        best_eval_mean=best["mean_score"] if best else None,
        best_eval_std=best["std_score"] if best else None,
        finished_at=_dt.datetime.now().isoformat(timespec="seconds"),
    )
    if failure:
        summary["failure"] = failure
    try:
        run.write_summary(summary)
    except SimpleGameError:
        if status == "finished":
            raise


def _load_replay_buffer(model: Any, run: Any, checkpoint: Path, wanted: bool) -> str:
    """DQN/QR-DQN: load the replay buffer saved beside ``checkpoint``; a note for the console."""
    if getattr(model, "replay_buffer", None) is None:
        return ""
    path = run.replay_buffer_path(checkpoint)
    if path.is_file():
        model.load_replay_buffer(path)
        return f"; replay buffer restored ({model.replay_buffer.size():,} transitions)"
    if wanted:
        return "; [yellow]replay buffer file missing: starting with an empty buffer[/yellow]"
    return "; replay buffer not saved (checkpoint.save_replay_buffer: false): starting empty"


if __name__ == "__main__":
    sys.exit(main())
