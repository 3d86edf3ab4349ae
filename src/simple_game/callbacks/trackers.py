"""Weights & Biases (``logging.wandb``): the run's metrics and config mirrored into a W&B run.

An extra output of SB3's logger (:class:`WandbOutputFormat`) receives every row ``progress.csv``
and TensorBoard receive, so the W&B charts are the same numbers, and the console and CSV are
untouched (W&B's own console capture is switched off). The W&B folder is ``<run>/wandb/``;
``mode: offline`` (the default) writes it without network or account, ``wandb sync`` uploads
it later. The W&B run id is kept in ``<run>/wandb/run-id.txt``, so ``train --resume``
continues the same W&B run. wandb is the optional extra ``wandb``, imported only when used.
"""

from __future__ import annotations

import numbers
import secrets
from typing import TYPE_CHECKING, Any, Optional

from rich.console import Console
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter

from simple_game.config import ExperimentConfig
from simple_game.fsio import atomic_write_text
from simple_game.runs import RunDirectory

if TYPE_CHECKING:
    from wandb.sdk.wandb_run import Run

# W&B's x axis: SB3 logs every row at the run's agent step, which a resumed run may repeat.
STEP_KEY = "global_step"
RUN_ID_FILE = "run-id.txt"


class WandbOutputFormat(KVWriter):
    """SB3 logger output: each dumped row's numbers logged to a W&B run at the row's agent step.

    Steps are logged as a metric of their own (``global_step``) rather than as W&B's internal
    step, which must always increase: a resumed run starts again at its checkpoint's step.
    """

    def __init__(self, run: Run):
        self.run = run

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0) -> None:
        row = {
            key: float(value)
            for key, value in key_values.items()
            if isinstance(value, numbers.Real) and "wandb" not in (key_excluded.get(key) or ())
        }
        if row:
            self.run.log({**row, STEP_KEY: int(step)})

    def close(self) -> None:  # the callback finishes the run
        pass


class WandbCallback(BaseCallback):
    """Starts (or, resuming, continues) the W&B run when training starts; finishes it at the end.

    Goes after the evaluation callback, whose last evaluation is logged in its own
    ``_on_training_end``. A W&B run that cannot start (online, no network) is one warning
    line: training goes on without it.
    """

    def __init__(self, cfg: ExperimentConfig, run_dir: RunDirectory, console: Optional[Console] = None):
        super().__init__()
        self.cfg = cfg
        self.run_dir = run_dir
        self.console = console
        self.wandb_run: Optional[Run] = None
        self.output: Optional[WandbOutputFormat] = None

    def _on_training_start(self) -> None:
        try:
            self.wandb_run = start_wandb_run(self.cfg, self.run_dir)
        except Exception as exc:  # wandb's network and login errors have no common base class
            self._say(f"warning: wandb: could not start the run ({type(exc).__name__}: {exc}); training goes on")
            return
        self.output = WandbOutputFormat(self.wandb_run)
        self.logger.output_formats.append(self.output)
        where = self.wandb_run.settings.sync_dir
        if self.wandb_run.settings.mode == "offline":
            self._say(f"wandb: offline run {self.wandb_run.id} (upload it later: wandb sync {where})")
        else:
            self._say(f"wandb: {self.wandb_run.url}")

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        if self.output is not None and self.output in self.logger.output_formats:
            self.logger.output_formats.remove(self.output)
        if self.wandb_run is not None:
            self.wandb_run.finish()

    def _say(self, line: str) -> None:
        if self.console is not None:
            self.console.print(line, highlight=False)


def start_wandb_run(cfg: ExperimentConfig, run_dir: RunDirectory) -> Run:
    """``wandb.init`` for this run directory: same id on every session, files in ``<run>/wandb``."""
    import wandb  # noqa: PLC0415  (an optional extra, imported only when used)

    assert cfg.logging.wandb is not None
    settings = cfg.logging.wandb
    folder = run_dir.path / "wandb"
    folder.mkdir(parents=True, exist_ok=True)
    id_file = folder / RUN_ID_FILE
    run_id = id_file.read_text().strip() if id_file.is_file() else secrets.token_hex(4)  # W&B ids: [a-z0-9]
    if not id_file.is_file():
        atomic_write_text(id_file, run_id + "\n")
    run = wandb.init(
        project=settings.project,
        entity=settings.entity,
        tags=settings.tags or None,
        mode=settings.mode,
        dir=str(run_dir.path),
        id=run_id,
        resume="allow",
        name=run_dir.path.name,
        config=cfg.to_yaml_dict(),
        reinit="create_new",  # each training its own run, also several in one process
        settings=wandb.Settings(console="off", silent=True),
    )
    run.define_metric(STEP_KEY)
    run.define_metric("*", step_metric=STEP_KEY)
    return run
