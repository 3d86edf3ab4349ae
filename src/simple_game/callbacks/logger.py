"""SB3's logger for a run: ``progress.csv`` and TensorBoard events in the run directory.

SB3 writes its ``time/*`` counters itself (``dump_logs`` in its on- and off-policy loops), per
``learn()`` call. :class:`RunLogger` adjusts them where they are written, so that
``progress.csv`` reads as one run across ``train --resume`` sessions and every row says its step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from stable_baselines3.common.logger import CSVOutputFormat, KVWriter, Logger, TensorBoardOutputFormat

from simple_game.runs import RunDirectory


class AppendingCSVOutputFormat(CSVOutputFormat):
    """SB3's CSV writer, but an existing file is continued instead of truncated (``--resume``).

    SB3 opens with ``"w+"``; here an existing file is opened ``"r+"``, its header becomes the
    known columns and writing continues at the end. New columns still rewrite the header,
    as in SB3.
    """

    def __init__(self, filename: str):
        path = Path(filename)
        if not (path.is_file() and path.stat().st_size > 0):
            super().__init__(filename)
            return
        self.file = open(filename, "r+")  # stays open for the run, like SB3's own writer
        header = self.file.readline().rstrip("\n")
        self.keys = [k for k in header.split(",") if k]
        self.separator = ","
        self.quotechar = '"'
        self.file.seek(0, 2)
        if self.file.tell() > 0:
            self.file.seek(self.file.tell() - 1)
            last = self.file.read(1)
            self.file.seek(0, 2)
            if last != "\n":  # a row cut short by a crash: end it
                self.file.write("\n")


class RunLogger(Logger):
    """SB3's :class:`Logger`, with the ``time/*`` counters of a run rather than of one ``learn()`` call.

    - ``time/time_elapsed``: plus ``elapsed_before_s``, the wall time of the earlier sessions of a
      resumed run (the clock of ``summary.json``), so it continues instead of restarting at 0;
    - ``time/iterations`` (PPO, A2C): plus ``iterations_before``, the rollouts already done;
    - ``time/total_timesteps``: filled in with the dump's step on rows SB3 does not write it to,
      such as the evaluation rows (``eval/*``), so every row of ``progress.csv`` has its step.
    """

    def __init__(
        self,
        folder: Optional[str],
        output_formats: list[KVWriter],
        elapsed_before_s: float = 0.0,
        iterations_before: int = 0,
    ):
        super().__init__(folder, output_formats)
        self.elapsed_before_s = elapsed_before_s
        self.iterations_before = iterations_before

    def dump(self, step: int = 0) -> None:
        values = self.name_to_value
        if values:  # SB3's defaultdict: look with ``in``, never by indexing a missing key
            if "time/time_elapsed" in values:
                values["time/time_elapsed"] = int(values["time/time_elapsed"] + self.elapsed_before_s)
            if "time/iterations" in values:
                values["time/iterations"] = int(values["time/iterations"]) + self.iterations_before
            if "time/total_timesteps" not in values:
                self.record("time/total_timesteps", int(step), exclude="tensorboard")  # as SB3 records it
        super().dump(step)


def make_logger(
    run: RunDirectory,
    tensorboard: bool,
    append: bool = False,
    *,
    elapsed_before_s: float = 0.0,
    iterations_before: int = 0,
) -> Logger:
    """SB3 logger writing ``progress.csv`` and TensorBoard events into the run directory.

    With ``append`` (resuming), ``progress.csv`` is continued and TensorBoard gets a new event
    file in the same ``tensorboard/`` folder; SB3 logs with ``step=num_timesteps``, so the
    curves continue where they stopped. ``elapsed_before_s`` and ``iterations_before``: what the
    earlier sessions took, so ``time/time_elapsed`` and ``time/iterations`` continue too
    (see :class:`RunLogger`).
    """
    csv_class = AppendingCSVOutputFormat if append else CSVOutputFormat
    formats: list[KVWriter] = [csv_class(str(run.progress_csv))]
    if tensorboard:
        formats.append(TensorBoardOutputFormat(str(run.tensorboard_dir)))
    return RunLogger(str(run.path), formats, elapsed_before_s=elapsed_before_s, iterations_before=iterations_before)
