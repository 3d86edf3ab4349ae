"""Training runs as child processes, N at a time, the CPU divided between them.

Each run is the real ``simple-game train`` command in a child process (``python -m
simple_game train ...``): the same code path as a run started by hand, so a study's run is an
ordinary run folder, and one run that crashes or diverges cannot take the others down. With
``--parallel N`` each child gets ``max(1, cores // N)`` PyTorch threads (``--set
compute.threads``, ``OMP_NUM_THREADS`` on every child): N runs that each assume the whole
machine would oversubscribe it and all run slower than N/cores suggests. A resumed run gets the
share of this study, not of the one that started it (``compute.threads=0``, torch's default,
when one run at a time), unless the user's ``--set compute.threads`` says otherwise.

Children run in their own session, so the terminal's Ctrl-C reaches this process only; it is
passed on once to every running child (SIGINT, or SIGTERM for a SIGTERM), which saves a
checkpoint and exits 130 as ``train`` always does, and no new run starts. Each child's output
is printed line by line with its run's name in front.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Optional

from simple_game.cores import cpu_cores
from simple_game.errors import EXIT_INTERRUPTED
from simple_game.runs import read_summary_file
from simple_game.studies.membership import Member, write_member
from simple_game.studies.seeds import NEW, Job

POLL_S = 0.2


def threads_per_run(parallel: int, cores: int) -> int:
    return max(1, cores // parallel)


@dataclass(frozen=True)
class Result:
    """How one job ended: ``status`` from its summary.json (or the exit code when there is none)."""

    job: Job
    status: str
    exit_code: Optional[int]
    run: Optional[Path]


@dataclass
class _Child:
    job: Job
    proc: subprocess.Popen[str]
    reader: threading.Thread
    before: set[str]  # run folders that existed when a new run started
    run: Optional[Path] = None
    signalled: bool = False

    def stop(self, signum: int) -> None:
        """Pass ``signum`` on once: ``train`` saves a checkpoint and exits 130."""
        if not self.signalled:
            self.signalled = True
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signum)


def echo_line(line: str) -> None:
    """One whole line to stdout in one write, so lines of children printing at once do not mix."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class Launcher:
    """Runs jobs as ``train`` child processes, ``parallel`` at a time."""

    runs_dir: Path
    overrides: Sequence[str] = ()  # the user's --set, for new runs
    experiments_md: Optional[Path] = None
    parallel: int = 1
    cores: int = field(default_factory=cpu_cores)
    echo: Callable[[str], None] = echo_line
    signalled: Optional[int] = None
    _live: list[_Child] = field(default_factory=list)  # touched by the main thread only (and its signal handler)

    @property
    def threads(self) -> Optional[int]:
        """Threads per child when runs share the machine; ``None`` for one at a time (the config decides)."""
        return threads_per_run(self.parallel, self.cores) if self.parallel > 1 else None

    def command(self, job: Job) -> list[str]:
        """The child's command line: ``train --resume RUN`` or ``train --config ... --name <run_name>``."""
        cmd = [sys.executable, "-m", "simple_game", "train", "--no-progress", "--runs-dir", str(self.runs_dir)]
        if self.experiments_md is not None:
            cmd += ["--experiments-md", str(self.experiments_md)]
        if job.action != NEW:
            # a run started 2 at a time (1 thread) and resumed alone gets the whole machine back
            threads = f"compute.threads={self.threads or 0}"
            for item in self.overrides:  # the user's own compute.threads wins (the last one, as for --set)
                if item.split("=", 1)[0].strip() == "compute.threads":
                    threads = item
            return [*cmd, "--resume", str(job.run), "--set", threads]
        member = job.member
        sets = [f"compute.threads={self.threads}"] if self.threads else []
        sets += [*self.overrides, f"seed={member.seed}"]  # the user's compute.threads wins, the seed is the study's
        return [*cmd, "--config", member.config, "--name", member.run_name, *(x for s in sets for x in ("--set", s))]

    def run(self, jobs: Sequence[Job]) -> list[Result]:
        """Run every job (``parallel`` at once); a signal stops the running ones cleanly and starts no more."""
        pending, results = list(jobs), []
        with self._forwarding_signals():
            while pending or self._live:
                while pending and len(self._live) < self.parallel and self.signalled is None:
                    self._start(pending.pop(0))
                for child in list(self._live):
                    self._find_run(child)
                    if child.proc.poll() is not None:
                        results.append(self._finish(child))
                if self.signalled is not None:
                    pending.clear()
                time.sleep(POLL_S if self._live else 0)
        return results

    def _start(self, job: Job) -> None:
        before = set(os.listdir(self.runs_dir)) if self.runs_dir.is_dir() else set()
        if job.run is not None:
            write_member(job.run, job.member)  # before the child starts: a resume deletes stray temp files
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.setdefault("COLUMNS", "160")
        if self.threads:
            env["OMP_NUM_THREADS"] = str(self.threads)
        why = f" ({job.note})" if job.note else ""
        self.echo(f"[{job.member.run_name}] start{why}: {' '.join(self.command(job)[2:])}")
        proc = subprocess.Popen(
            self.command(job),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            start_new_session=True,  # the terminal's Ctrl-C comes to us; we pass it on once
        )
        assert proc.stdout is not None
        reader = threading.Thread(target=self._relay, args=(job.member, proc.stdout), daemon=True)
        reader.start()
        child = _Child(job, proc, reader, before, job.run)
        self._live.append(child)
        if self.signalled is not None:  # the signal came while this child was being started
            child.stop(self.signalled)

    def _relay(self, member: Member, stream: IO[str]) -> None:
        for line in stream:
            self.echo(f"[{member.run_name}] {line.rstrip()}")

    def _find_run(self, child: _Child) -> None:
        """A new run's folder, once the child has made it (``<run_name>_<stamp>`` with config.yaml): mark it."""
        if child.run is not None or not self.runs_dir.is_dir():
            return
        pattern = re.compile(re.escape(child.job.member.run_name) + r"_\d{8}-\d{6}(-\d+)?")
        made = sorted(n for n in set(os.listdir(self.runs_dir)) - child.before if pattern.fullmatch(n))
        made = [n for n in made if (self.runs_dir / n / "config.yaml").is_file()]
        if made:
            child.run = self.runs_dir / made[-1]
            write_member(child.run, child.job.member)

    def _finish(self, child: _Child) -> Result:
        child.reader.join(timeout=5)  # an env worker the child left behind may hold the pipe open
        self._find_run(child)
        self._live.remove(child)
        code = child.proc.returncode
        status = _status(child.run, code)
        if self.signalled is not None and child.run is None and code != 0:
            status = "interrupted"  # stopped while starting up, before it made its folder
        self.echo(f"[{child.job.member.run_name}] {status} (exit code {code}){f': {child.run}' if child.run else ''}")
        return Result(child.job, status, code, child.run)

    @contextlib.contextmanager
    def _forwarding_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.signalled is not None:
            self.echo(f"{signal.Signals(signum).name}: waiting for {len(self._live)} run(s) to save their checkpoints")
            return
        self.signalled = signum
        self.echo(f"{signal.Signals(signum).name}: stopping {len(self._live)} run(s); each saves a checkpoint")
        for child in list(self._live):
            child.stop(signum)


def _status(run: Optional[Path], code: int) -> str:
    """The run's own word for how it ended (summary.json), else what the exit code says."""
    if run is not None and (run / "summary.json").is_file():
        with contextlib.suppress(Exception):
            status = read_summary_file(run / "summary.json").get("status")
            if status in ("finished", "interrupted", "failed", "crashed"):
                return "finished" if code == 0 and status == "interrupted" else str(status)
    if code == 0:
        return "finished"
    return "interrupted" if code in (EXIT_INTERRUPTED, -signal.SIGINT, -signal.SIGTERM) else "failed"
