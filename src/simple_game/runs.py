"""The run directory: where one experiment's outputs live, written so nothing is half-written.

::

    runs/<experiment>_<YYYYmmdd-HHMMSS>/
      config.yaml        the fully resolved config that ran
      tensorboard/       `tensorboard --logdir runs`
      checkpoints/       step_<N>.zip, latest (a pointer file), best.zip, skill_level_<k>.zip
      videos/            MP4s
      progress.csv       SB3's logged metrics, one row per dump
      eval.csv           one row per evaluation
      summary.json       what ran, for how long, final and best evaluation

Every file that matters is written to a temporary name, flushed to disk, then renamed over
the old one: a crash (even ``kill -9``) leaves either the old file or the new one, never a
torn one. ``checkpoints/latest`` is a small text file naming the newest complete checkpoint,
rewritten only after that checkpoint is on disk; pruning old checkpoints never deletes the one
``latest`` names. While training, Ctrl-C and SIGTERM wait for a save in progress to finish
(:func:`critical_section`), so an interrupt never leaves half a checkpoint either.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import errno
import functools
import io
import json
import os
import re
import signal
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

METADATA_NAME = "simple_game.json"  # stored inside each checkpoint zip; SB3's loader ignores it
TEMP_SUFFIX = ".tmp"  # in-progress writes: ``.<name>.<random>.tmp``, renamed when complete
EVAL_CSV_FIELDS = ["timesteps", "mean_score", "std_score", "median_score", "min_score", "max_score", "mean_length", "n_episodes", "wall_time_s"]
RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
RESULTS_HEADER = "| date | experiment | algo | game | steps | eval score (mean ± std) | wall time | run dir |\n|---|---|---|---|---|---|---|---|\n"
EXPERIMENTS_TEMPLATE = f"""# Experiments

The log of experiments run with simple-game. Every finished run appends a row to the results
table (`python -m simple_game.report` rebuilds the rows of the runs under `runs/` and keeps the
others). Write your own notes in the Notes section: tools never touch it.

## Notes

## Results

{RESULTS_START}
{RESULTS_HEADER}{RESULTS_END}
"""


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one.

    The bytes go to a temporary file in the same directory, are flushed to disk (``fsync``),
    and only then renamed over ``path``: a crash at any moment, even ``kill -9``, leaves the
    old file or the new one. Anything that goes wrong (disk full, Ctrl-C) removes the temporary
    file and leaves ``path`` untouched.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise SimpleGameError(f"{path}: cannot write ({_describe_os_error(exc)}); nothing was overwritten") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _default_file_mode())  # mkstemp makes 0600 files; use the usual umask
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise SimpleGameError(f"{path}: cannot write ({_describe_os_error(exc)}); nothing was overwritten") from None
        raise
    _fsync_dir(path.parent)


def _describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "disk full: free some space or lower checkpoint.keep"
    return exc.strerror or str(exc)


@functools.lru_cache(maxsize=1)
def _default_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------------------------
# Ctrl-C and SIGTERM: never in the middle of a save
# --------------------------------------------------------------------------------------------


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (save, write the summary, exit 130)."""


class _InterruptGuard:
    """While installed, the first SIGINT/SIGTERM raises ``KeyboardInterrupt``/:class:`Terminated`
    at once, except inside :func:`critical_section` (a save in progress), where it waits until
    the block ends. Later signals, and any inside :func:`ignoring_interrupts` (the final save),
    are only reported: the program is already stopping and must finish writing."""

    def __init__(self) -> None:
        self.depth = 0
        self.ignoring = 0
        self.pending: Optional[int] = None
        self.stopping = False

    def handle(self, signum: int, frame: Any) -> None:
        if self.stopping or self.ignoring > 0 or self.depth > 0:
            if not (self.stopping or self.ignoring):
                self.pending = signum
            import sys

            print(f"\n{signal.Signals(signum).name}: saving, please wait (the last complete checkpoint stays valid)", file=sys.stderr, flush=True)
            return
        self.raise_for(signum)

    def raise_for(self, signum: int) -> None:
        self.stopping = True
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


_GUARD = _InterruptGuard()


@contextlib.contextmanager
def interrupt_handlers(exiting: bool = False) -> Iterator[None]:
    """Install the guard's SIGINT and SIGTERM handlers for the duration of the block.

    ``exiting``: the process ends right after the block (a CLI). If it was interrupted, further
    signals stay ignored until exit, so a second Ctrl-C cannot turn a clean exit 130 into a crash.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _GUARD.stopping, _GUARD.pending = False, None
    previous = {sig: signal.signal(sig, _GUARD.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        ignore = exiting and _GUARD.stopping
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if ignore else handler)
        _GUARD.stopping, _GUARD.pending = False, None


@contextlib.contextmanager
def critical_section() -> Iterator[None]:
    """A signal arriving inside is raised when the block ends, so a save is never cut short."""
    _GUARD.depth += 1
    try:
        yield
    finally:
        _GUARD.depth -= 1
    if _GUARD.depth == 0 and _GUARD.pending is not None and not _GUARD.ignoring:
        signum, _GUARD.pending = _GUARD.pending, None
        _GUARD.raise_for(signum)


@contextlib.contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """After the first Ctrl-C: further signals are reported but do not stop the final save."""
    _GUARD.ignoring += 1
    try:
        yield
    finally:
        _GUARD.ignoring -= 1
        _GUARD.pending = None


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def save_checkpoint(model: "BaseAlgorithm", path: Path, metadata: dict[str, Any]) -> Path:
    """Save an SB3 model atomically, with ``metadata`` stored inside the zip."""
    buffer = io.BytesIO()
    model.save(buffer)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(METADATA_NAME, json.dumps(metadata, indent=2, default=_json_default))
    with critical_section():
        atomic_write_bytes(path, buffer.getvalue())
    return path


def read_checkpoint_metadata(path: Path) -> dict[str, Any]:
    """The simple-game metadata of a checkpoint (empty for a plain SB3 zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if METADATA_NAME not in archive.namelist():
                return {}
            return json.loads(archive.read(METADATA_NAME))
    except (OSError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise SimpleGameError(f"{path}: not a readable checkpoint ({exc})") from None


# --------------------------------------------------------------------------------------------
# The run directory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunDirectory:
    """Paths of one run; creating the object touches nothing on disk."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tensorboard"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def videos_dir(self) -> Path:
        return self.path / "videos"

    @property
    def progress_csv(self) -> Path:
        return self.path / "progress.csv"

    @property
    def eval_csv(self) -> Path:
        return self.path / "eval.csv"

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    @property
    def latest_pointer(self) -> Path:
        return self.checkpoints_dir / "latest"

    @property
    def best_path(self) -> Path:
        return self.checkpoints_dir / "best.zip"

    def step_path(self, step: int) -> Path:
        return self.checkpoints_dir / f"step_{step}.zip"

    def skill_path(self, level: int) -> Path:
        return self.checkpoints_dir / f"skill_level_{level}.zip"

    def make_dirs(self) -> None:
        for d in (self.path, self.tensorboard_dir, self.checkpoints_dir, self.videos_dir):
            d.mkdir(parents=True, exist_ok=True)

    # -- checkpoints -----------------------------------------------------------------------

    def step_checkpoints(self) -> list[tuple[int, Path]]:
        """Periodic checkpoints on disk, oldest first."""
        found = []
        for p in self.checkpoints_dir.glob("step_*.zip"):
            m = re.fullmatch(r"step_(\d+)\.zip", p.name)
            if m:
                found.append((int(m.group(1)), p))
        return sorted(found)

    def set_latest(self, checkpoint: Path) -> None:
        """Point ``latest`` at ``checkpoint``; call only once that file is completely written."""
        if not Path(checkpoint).is_file():
            raise SimpleGameError(f"{checkpoint}: cannot point latest at a missing checkpoint")
        with critical_section():
            atomic_write_text(self.latest_pointer, Path(checkpoint).name + "\n")

    def latest_checkpoint(self) -> Optional[Path]:
        """The checkpoint ``latest`` names, or the newest step file if the pointer is missing."""
        if self.latest_pointer.is_file():
            name = self.latest_pointer.read_text().strip()
            candidate = self.checkpoints_dir / name
            if name and candidate.is_file():
                return candidate
        steps = self.step_checkpoints()
        return steps[-1][1] if steps else None

    def prune_checkpoints(self, keep: int) -> None:
        """Delete the oldest periodic checkpoints, never the one ``latest`` names."""
        latest = self.latest_checkpoint()
        steps = self.step_checkpoints()
        with critical_section():
            for _, path in steps[: max(0, len(steps) - keep)]:
                if path != latest:
                    with contextlib.suppress(OSError):
                        path.unlink()
                        replay = self.replay_buffer_path(path)
                        if replay.exists():
                            replay.unlink()

    @staticmethod
    def replay_buffer_path(checkpoint: Path) -> Path:
        """``step_N.zip`` -> ``step_N_replay_buffer.pkl`` (DQN's replay buffer, when saved)."""
        return Path(checkpoint).with_name(Path(checkpoint).stem + "_replay_buffer.pkl")

    def remove_temp_files(self) -> list[Path]:
        """Delete temporary files a killed process left behind (never a finished file)."""
        removed = []
        for directory in (self.path, self.checkpoints_dir, self.videos_dir):
            for tmp in directory.glob(f".*{TEMP_SUFFIX}*") if directory.is_dir() else []:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    removed.append(tmp)
        return removed

    def resolve_checkpoint(self, which: str = "best") -> Path:
        """``latest``, ``best``, ``step_N`` or ``skill_level_K`` -> a checkpoint file."""
        if which == "latest":
            path = self.latest_checkpoint()
        elif which == "best":
            path = self.best_path if self.best_path.is_file() else self.latest_checkpoint()
        elif re.fullmatch(r"(step_\d+|skill_level_\d+)", which):
            path = self.checkpoints_dir / f"{which}.zip"
        else:
            raise SimpleGameError(f"--checkpoint: unknown {which!r} (allowed: latest, best, step_N, skill_level_K)")
        if path is None or not path.is_file():
            available = sorted(p.stem for p in self.checkpoints_dir.glob("*.zip")) if self.checkpoints_dir.is_dir() else []
            raise SimpleGameError(f"{self.path}: no {which!r} checkpoint (available: {', '.join(available) or 'none'})")
        return path

    # -- logs and summary -----------------------------------------------------------------

    def append_eval_row(self, row: dict[str, Any]) -> None:
        new = not self.eval_csv.exists()
        with open(self.eval_csv, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=EVAL_CSV_FIELDS, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
            fh.flush()

    def eval_rows(self) -> list[dict[str, float]]:
        """Every evaluation so far (``eval.csv``), as numbers; unreadable rows are skipped."""
        if not self.eval_csv.is_file():
            return []
        rows = []
        with open(self.eval_csv, newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    rows.append({k: float(v) for k, v in row.items() if k in EVAL_CSV_FIELDS and v not in (None, "")})
                except ValueError:
                    continue
        return [r for r in rows if "mean_score" in r and "timesteps" in r]

    def read_summary(self) -> dict[str, Any]:
        if not self.summary_path.is_file():
            return {}
        try:
            return json.loads(self.summary_path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_json(self.summary_path, summary)


def new_run_dir(runs_root: Path, experiment: str, now: Optional[_dt.datetime] = None) -> RunDirectory:
    """Create ``runs_root/<experiment>_<timestamp>`` (a suffix is added if it already exists)."""
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = Path(runs_root) / f"{experiment}_{stamp}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            break
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")
        except OSError as exc:
            raise SimpleGameError(f"{runs_root}: cannot create run directory ({exc.strerror or exc})") from None
    run = RunDirectory(candidate)
    run.make_dirs()
    return run


def open_run_dir(path: Path) -> RunDirectory:
    """An existing run directory (must contain config.yaml)."""
    path = Path(path)
    if not path.is_dir():
        raise SimpleGameError(f"{path}: run directory not found")
    run = RunDirectory(path)
    if not run.config_path.is_file():
        raise SimpleGameError(f"{path}: not a simple-game run directory (no config.yaml)")
    return run


def find_run_dir(checkpoint: Path) -> Optional[RunDirectory]:
    """The run a checkpoint file belongs to: ``<run>/checkpoints/x.zip`` -> ``<run>``.

    Looks at the checkpoint's folder and the one above it for ``config.yaml``; ``None`` for a
    checkpoint copied somewhere else.
    """
    for parent in list(Path(checkpoint).resolve().parents)[:2]:
        if (parent / "config.yaml").is_file():
            return RunDirectory(parent)
    return None


# --------------------------------------------------------------------------------------------
# experiments.md
# --------------------------------------------------------------------------------------------


def format_results_row(summary: dict[str, Any]) -> str:
    """One Markdown table row for a finished run's summary."""
    mean, std = summary.get("final_eval_mean"), summary.get("final_eval_std")
    score = f"{mean:.1f} ± {std:.1f}" if isinstance(mean, (int, float)) and isinstance(std, (int, float)) else "n/a"
    wall = summary.get("wall_time_s") or 0.0
    date = str(summary.get("finished_at") or summary.get("started_at") or "")[:16].replace("T", " ")
    cells = [
        date,
        summary.get("experiment", ""),
        summary.get("algo", ""),
        summary.get("game", ""),
        f"{int(summary.get('steps_done') or 0):,}",
        score,
        _format_duration(float(wall)),
        summary.get("run_dir", ""),
    ]
    return "| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |"


def _format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An advisory lock so two runs finishing together do not lose each other's row."""
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(lock_path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def append_experiment_row(experiments_md: Path, summary: dict[str, Any]) -> None:
    """Add a row to the results table of ``experiments.md``, creating the file if needed."""
    experiments_md = Path(experiments_md)
    with _locked(experiments_md):
        text = experiments_md.read_text(encoding="utf-8") if experiments_md.exists() else EXPERIMENTS_TEMPLATE
        if RESULTS_END not in text:
            # A hand-edited file without markers: add a fresh results section at the end.
            text = text.rstrip("\n") + f"\n\n## Results\n\n{RESULTS_START}\n{RESULTS_HEADER}{RESULTS_END}\n"
        head, _, tail = text.rpartition(RESULTS_END)
        if not head.endswith("\n"):
            head += "\n"
        atomic_write_text(experiments_md, head + format_results_row(summary) + "\n" + RESULTS_END + tail)
