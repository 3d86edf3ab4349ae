"""Where a study lives: a local SQLite file by default, or a database server many workers share.

Both are Optuna's ``RDBStorage``, with heartbeats: while a trial runs, its worker writes a
heartbeat every ``heartbeat`` seconds; a trial whose heartbeat is older than the grace period
(its worker was killed, its machine lost) is marked failed by the next worker that looks, and
queued again with the same parameters, so another worker retries it.
"""

from __future__ import annotations

import importlib.util
import inspect
import time
import warnings
from pathlib import Path
from typing import Any, Optional

import optuna
import sqlalchemy
from sqlalchemy.engine import make_url

from simple_game.errors import SimpleGameError

CONNECT_TIMEOUT_S = 5  # an unreachable server is a one-line error within seconds, not a hang
GRACE_HEARTBEATS = 4  # a trial is stale after this many missed heartbeats


def quiet_experimental() -> None:
    """Optuna marks heartbeats, the retry callback and TPE's constant liar experimental: said once, not per trial."""
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def default_storage_url(sweep_dir: Path) -> str:
    """``sqlite:///<runs>/sweeps/<study>/study.db``: a file next to the sweep's runs, nothing to install."""
    return f"sqlite:///{(Path(sweep_dir) / 'study.db').resolve()}"


def shown_url(url: str) -> str:
    """The URL with its password hidden, for messages and reports."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url


def dashboard_url(url: str) -> str:
    """The URL for ``optuna-dashboard`` (password hidden), with the PostgreSQL driver named (see ``open_storage``)."""
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError:
        return url
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=True)


def open_storage(url: str, heartbeat: int) -> optuna.storages.RDBStorage:
    """Connect (creating Optuna's tables on first use); a bad or unreachable URL is one line."""
    quiet_experimental()
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise SimpleGameError(
            f"--storage {url!r}: not a database URL (e.g. postgresql://user:password@host:5432/db)"
        ) from None
    shown = shown_url(url)  # as the user wrote it, password hidden
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername=f"postgresql+{_postgres_driver()}").render_as_string(hide_password=False)
    if parsed.get_backend_name() == "postgresql":
        engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    elif parsed.get_backend_name() == "sqlite":
        engine_kwargs["connect_args"] = {"timeout": 60}  # workers on one machine wait for each other's writes
    elif parsed.get_backend_name() == "mysql":
        engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    failure: BaseException = RuntimeError("no attempt")
    for attempt in range(3):
        try:
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat,
                grace_period=GRACE_HEARTBEATS * heartbeat,
                **_retry_callback(),
            )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError) as exc:
            # Workers started together on a fresh database all create Optuna's tables: one wins, the others retry.
            failure = exc
            time.sleep(1.0 + attempt)
        except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as exc:
            failure = exc
            break
    raise SimpleGameError(f"--storage {shown}: cannot open the study database ({_reason(failure)})")


# Optuna 4.9 renamed the retry callback and its keyword; both spellings work on their versions.
RETRY = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or optuna.storages.RetryFailedTrialCallback
_STALE = "heartbeat_stale_trial_callback"


def _postgres_driver() -> str:
    """The PostgreSQL driver installed: SQLAlchemy 2.1 reads a plain ``postgresql://`` as psycopg 3,
    and the ``sweep`` extra installs psycopg2; either works."""
    for module, driver in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return driver
    raise SimpleGameError("--storage postgresql://...: no PostgreSQL driver: pip install 'simple-game[sweep]'")


def _retry_callback() -> dict[str, Any]:
    """Stale trials are queued again with their values, up to 3 times."""
    keyword = _STALE if _STALE in inspect.signature(optuna.storages.RDBStorage).parameters else "failed_trial_callback"
    return {keyword: RETRY(max_retry=3)}


def retried_from(trial: optuna.trial.FrozenTrial) -> Optional[int]:
    """The number of the trial this one retries (its worker died or was interrupted), if any."""
    number = trial.system_attrs.get("failed_trial")
    return int(number) if isinstance(number, int) else None


def _reason(exc: BaseException) -> str:
    """The first line of the driver's message (psycopg2: 'connection refused', 'timeout expired')."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return text[0].strip() if text else type(inner).__name__
