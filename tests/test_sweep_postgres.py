"""Sweep workers sharing one study on a real PostgreSQL server (a throwaway cluster in a temp folder).

Each worker is its own ``simple-game sweep`` process with its own runs folder, as on separate
machines. ``--trials`` is the study's total; a worker killed with SIGKILL mid-trial stops
sending heartbeats, and the surviving worker marks its trial failed and retries it.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO, SMOKE, cli_env

optuna = pytest.importorskip("optuna")

HEARTBEAT = 3  # seconds; a trial is stale after 4 missed heartbeats (12 s)
TINY = [
    "total_timesteps=128",
    "eval.freq=64",
    "env.max_frames_per_episode=2000",
    "checkpoint.freq=64",
    "logging.tensorboard=false",
]
SPACE = f"""
config: {SMOKE}
pruner: {{type: none}}
params:
  hyperparams.ent_coef: {{type: uniform, low: 0.0, high: 0.05}}
  hyperparams.learning_rate: {{type: loguniform, low: 1.0e-5, high: 1.0e-3}}
"""


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found or shutil.which("pg_ctl", path=str(Path(found[-1]).parent)) is None:
        pytest.skip(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); apt-get install postgresql"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server on a free loopback port, its data and socket in a temp folder; stopped afterwards.

    ``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` system user.
    """
    bin_dir = _pg_bin()
    as_root = os.geteuid() == 0
    if as_root:
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' system user to run the server as")
    # Not tmp_path: pytest's base folder is private to root, and the server runs as another user.
    folder = Path(tempfile.mkdtemp(prefix="sg-postgres-"))
    if as_root:
        os.chown(folder, pw.pw_uid, pw.pw_gid)
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    data, port = folder / "data", _free_port()

    def pg(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    pg(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _worker(tmp_path: Path, name: str, url: str, study: str, trials: int, *sets: str) -> subprocess.Popen[str]:
    """One ``simple-game sweep`` process with its own runs folder (its own "machine"), output in a log file."""
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    args = [sys.executable, "-m", "simple_game", "sweep", "--space", str(space), "--trials", str(trials)]
    args += ["--study", study, "--storage", url, "--runs-dir", str(tmp_path / name), "--heartbeat", str(HEARTBEAT)]
    args += [arg for item in [*TINY, *sets] for arg in ("--set", item)]
    env = cli_env() | {"OMP_NUM_THREADS": "1"}
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115  closed with the process below
    return subprocess.Popen(
        args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def _wait(proc: subprocess.Popen[str], tmp_path: Path, name: str, timeout: float = 300) -> int:
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    assert code == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
    return code


def _until(condition, what: str, procs: list[subprocess.Popen[str]], timeout: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout  # a guard against a hang, not a speed requirement
    while not condition():
        for proc in procs:
            assert proc.poll() is None, f"a worker exited ({proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@functools.cache
def _storage(url: str):  # type: ignore[no-untyped-def]
    # SQLAlchemy 2.1 reads plain postgresql:// as psycopg 3; the sweep extra installs psycopg2 (sweep maps it itself).
    return optuna.storages.RDBStorage(url.replace("postgresql://", "postgresql+psycopg2://"))


def _trials(url: str, study: str) -> list:  # type: ignore[type-arg]
    """The study's trials as stored now ([] while no worker has created the study)."""
    try:
        return optuna.load_study(study_name=study, storage=_storage(url)).get_trials(deepcopy=False)
    except KeyError:
        return []


def _in(folder: Path, trial) -> bool:  # type: ignore[no-untyped-def]
    return str(trial.user_attrs.get("run_dir", "")).startswith(str(folder))


def test_two_workers_finish_exactly_the_study_total(postgres_url: str, tmp_path: Path) -> None:
    workers = [_worker(tmp_path, name, postgres_url, "pair", 3) for name in ("a", "b")]
    for proc, name in zip(workers, ("a", "b"), strict=True):
        _wait(proc, tmp_path, name)
    trials = _trials(postgres_url, "pair")
    finished = [t for t in trials if t.state.is_finished() and t.state.name in ("COMPLETE", "PRUNED")]
    failed = [t for t in trials if t.state.name == "FAIL" and not t.user_attrs.get("surplus")]
    assert len(finished) == 3 and not failed
    run_dirs = [t.user_attrs["run_dir"] for t in finished]
    assert len(set(run_dirs)) == 3  # no trial trained twice
    on_disk = sorted(str(p.resolve()) for p in tmp_path.glob("[ab]/sweeps/pair/runs/*") if p.is_dir())
    assert on_disk == sorted(run_dirs)  # and nothing trained that the study does not know of
    assert len({tuple(sorted(t.params.items())) for t in finished}) == 3


def test_killed_worker_trial_is_failed_and_retried(postgres_url: str, tmp_path: Path) -> None:
    # Worker a trains a trial too long to end by itself; b joins with tiny trials.
    a = _worker(tmp_path, "a", postgres_url, "kill", 2, "total_timesteps=1000000")
    a_runs = tmp_path / "a"
    _until(
        lambda: any(t.state.name == "RUNNING" and t.intermediate_values for t in _trials(postgres_url, "kill")),
        "worker a's first evaluation",
        [a],
    )
    b = _worker(tmp_path, "b", postgres_url, "kill", 2)
    _until(lambda: any(t.state.name == "COMPLETE" for t in _trials(postgres_url, "kill")), "worker b's trial", [a, b])
    os.killpg(a.pid, signal.SIGKILL)  # mid-trial: no heartbeat from now on
    a.wait(timeout=60)
    _wait(b, tmp_path, "b")

    trials = {t.number: t for t in _trials(postgres_url, "kill")}
    killed = [t for t in trials.values() if _in(a_runs, t)]
    assert len(killed) == 1 and killed[0].state.name == "FAIL"
    retries = [t for t in trials.values() if t.system_attrs.get("failed_trial") == killed[0].number]
    assert len(retries) == 1
    retry = retries[0]
    assert retry.state.name == "COMPLETE" and retry.params == killed[0].params
    assert _in(tmp_path / "b", retry)
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials.values()) == 2
    assert "retry of trial" in (tmp_path / "b" / "sweeps" / "kill" / "sweep.md").read_text()
    # b's --set total_timesteps differs from a's: said, not refused (only the search space must match).
    assert (
        "base config differs from the study's first worker's: total_timesteps is 128 here"
        in (tmp_path / "b.log").read_text()
    )
