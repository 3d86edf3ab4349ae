"""SB3's logger for a run: ``progress.csv`` and TensorBoard events in the run directory."""

from __future__ import annotations

from pathlib import Path

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


def make_logger(run: RunDirectory, tensorboard: bool, append: bool = False) -> Logger:
    """SB3 logger writing ``progress.csv`` and TensorBoard events into the run directory.

    With ``append`` (resuming), ``progress.csv`` is continued and TensorBoard gets a new event
    file in the same ``tensorboard/`` folder; SB3 logs with ``step=num_timesteps``, so the
    curves continue where they stopped.
    """
    csv_class = AppendingCSVOutputFormat if append else CSVOutputFormat
    formats: list[KVWriter] = [csv_class(str(run.progress_csv))]
    if tensorboard:
        formats.append(TensorBoardOutputFormat(str(run.tensorboard_dir)))
    return Logger(folder=str(run.path), output_formats=formats)
