"""Train an agent from a YAML experiment file.

    python -m simple_game.train --config configs/ppo_breakout.yaml [--set key.path=value ...] [--name NAME]

Data flows one way: config -> envs -> agent -> callbacks -> run directory.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import signal
import sys
import time
from pathlib import Path
from typing import Any, Optional

from simple_game.errors import EXIT_INTERRUPTED, SimpleGameError, cli_main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game train",
        description="Train PPO, A2C, DQN or QR-DQN on an Atari game from a YAML experiment file.",
    )
    parser.add_argument("--config", "-c", help="experiment YAML, e.g. configs/ppo_breakout.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help="override a config value (repeatable), e.g. --set env.n_envs=4")
    parser.add_argument("--name", help="experiment name (default: the config file's name)")
    parser.add_argument("--runs-dir", default="runs", help="where run directories are created (default: runs)")
    parser.add_argument("--experiments-md", default=None, help="experiment log to append a row to (default: experiments.md next to the runs directory)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM, treated like Ctrl-C: save, write the summary, exit 130."""


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.config:
        raise SimpleGameError("--config is required, e.g. --config configs/ppo_breakout.yaml")

    from simple_game.config import dump_config, load_config

    cfg = load_config(args.config, overrides=args.overrides, name=args.name)
    runs_root = Path(args.runs_dir)
    experiments_md = Path(args.experiments_md) if args.experiments_md else runs_root.resolve().parent / "experiments.md"
    return run_training(cfg, runs_root, experiments_md, progress_bar=cfg.logging.progress_bar and not args.no_progress, config_text=dump_config(cfg))


def run_training(cfg: Any, runs_root: Path, experiments_md: Path, *, progress_bar: bool, config_text: str) -> int:
    """Build envs, agent and callbacks for ``cfg``, train, and record the run."""
    import rich

    from simple_game import __version__
    from simple_game.agents import build_model, checkpoint_metadata
    from simple_game.callbacks import CheckpointCallback, ConsoleCallback, EvaluationCallback, MilestoneCallback
    from simple_game.device import resolve_device
    from simple_game.envs import make_eval_env, make_train_env, resolve_backend
    from simple_game.runs import atomic_write_text, new_run_dir

    console = rich.get_console()
    device = resolve_device(cfg.device)
    run = new_run_dir(runs_root, cfg.name)
    atomic_write_text(run.config_path, config_text)
    console.print(
        f"[bold]simple-game[/bold] {cfg.algo.upper()} on [bold]{cfg.env.game}[/bold] ({cfg.env.protocol} protocol, "
        f"{cfg.env.n_envs} envs, backend {resolve_backend(cfg.env)}, frame stack {cfg.env.frame_stack}) "
        f"| device [bold]{device}[/bold] | seed {cfg.seed} | {cfg.total_timesteps:,} steps"
    )
    console.print(f"run directory: {run.path}   (tensorboard --logdir {runs_root})")

    train_env = make_train_env(cfg.env, cfg.seed)
    eval_env = make_eval_env(cfg.env, cfg.seed, n_envs=cfg.eval.n_envs) if cfg.eval.freq > 0 else None
    model = build_model(cfg, train_env, device)
    model.set_logger(_make_logger(run, tensorboard=cfg.logging.tensorboard))

    def metadata(step: int) -> dict:
        return checkpoint_metadata(cfg, step, seed=cfg.seed)

    console_cb = ConsoleCallback(cfg.total_timesteps, cfg.logging.console_interval_s, console=console)
    checkpoint_cb = CheckpointCallback(run, cfg.checkpoint.freq, cfg.checkpoint.keep, metadata, cfg.checkpoint.save_replay_buffer)
    callbacks: list = [console_cb, checkpoint_cb]
    if cfg.milestones.thresholds:
        callbacks.append(MilestoneCallback(run, cfg.milestones.thresholds, cfg.milestones.window, metadata))
    eval_cb = None
    if eval_env is not None:
        eval_cb = EvaluationCallback(eval_env, run, cfg.eval.freq, cfg.eval.episodes, cfg.eval.deterministic, metadata, console=console_cb)
        callbacks.append(eval_cb)

    started = _dt.datetime.now().isoformat(timespec="seconds")
    summary: dict[str, Any] = {
        "experiment": cfg.name,
        "algo": cfg.algo,
        "game": cfg.env.game,
        "protocol": cfg.env.protocol,
        "seed": cfg.seed,
        "device": device,
        "total_timesteps": cfg.total_timesteps,
        "steps_done": 0,
        "status": "running",
        "run_dir": str(run.path),
        "config_name": Path(cfg.source).stem if cfg.source else cfg.name,
        "started_at": started,
        "simple_game_version": __version__,
    }
    run.write_summary(summary)

    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    t0 = time.monotonic()
    status, exit_code = "finished", 0
    try:
        model.learn(total_timesteps=cfg.total_timesteps, callback=callbacks, progress_bar=progress_bar, log_interval=cfg.logging.log_interval)
    except KeyboardInterrupt:
        status, exit_code = "interrupted", EXIT_INTERRUPTED
        console.print(f"[yellow]interrupted at {model.num_timesteps:,} steps: saving a checkpoint[/yellow]")
    finally:
        signal.signal(signal.SIGTERM, previous)
        wall = time.monotonic() - t0
        # The final checkpoint is what `--resume` and `evaluate` use, so save it on every exit path.
        checkpoint_cb.save()
        train_env.close()
        if eval_env is not None:
            eval_env.close()

    last = eval_cb.last_result if eval_cb else None
    best = eval_cb.best_result if eval_cb else None
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
    run.write_summary(summary)
    if status == "finished":
        from simple_game.runs import append_experiment_row

        append_experiment_row(experiments_md, summary)
    score = f"{last['mean_score']:.1f} ± {last['std_score']:.1f}" if last else "n/a"
    console.print(f"[bold]{status}[/bold]: {model.num_timesteps:,} steps in {wall:.0f}s ({summary['fps']:.0f} steps/s); final eval score {score}; run: {run.path}")
    return exit_code


def _make_logger(run: Any, tensorboard: bool) -> Any:
    """SB3 logger writing progress.csv and TensorBoard events into the run directory."""
    from stable_baselines3.common.logger import CSVOutputFormat, Logger, TensorBoardOutputFormat

    formats: list = [CSVOutputFormat(str(run.progress_csv))]
    if tensorboard:
        formats.append(TensorBoardOutputFormat(str(run.tensorboard_dir)))
    return Logger(folder=str(run.path), output_formats=formats)


if __name__ == "__main__":
    sys.exit(main())
