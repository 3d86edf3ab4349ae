"""``simple-game sweep``'s library side: open (or join) the Optuna study, run a worker, write the report.

The sweep's folder is ``<runs>/sweeps/<study>/``: the default study database (``study.db``),
the trials' run directories (``runs/``), their results table (``experiments.md``), and the
report (``best.yaml``, ``sweep.md``, ``sweep.json``). With ``--storage`` the database is a
server every worker shares; each worker keeps its own trials' runs in its own folder.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import optuna
import sqlalchemy

from simple_game.config.games import did_you_mean
from simple_game.errors import SimpleGameError
from simple_game.runs import is_run_only
from simple_game.sweep.report import write_report
from simple_game.sweep.sampling import make_pruner, make_sampler
from simple_game.sweep.space import SearchSpace
from simple_game.sweep.storage import default_storage_url, open_storage, shown_url
from simple_game.sweep.worker import Worker

SPACE_ATTR = "simple_game.search_space"  # the study's search space, so a worker with another one is refused
BASE_ATTR = "simple_game.base_config"  # the first worker's base config, so a worker with another one is warned


@dataclass
class SweepRequest:
    """What ``sweep`` was asked: the space, the study's total of trials, where things live."""

    space: SearchSpace
    trials: int
    study_name: str
    runs_dir: Path
    storage: Optional[str] = None
    heartbeat: int = 30
    exiting: bool = False

    @property
    def sweep_dir(self) -> Path:
        return self.runs_dir / "sweeps" / self.study_name

    @property
    def storage_url(self) -> str:
        return self.storage or default_storage_url(self.sweep_dir)


def run_sweep(request: SweepRequest, say: Callable[[str], None] = print) -> int:
    """Join or create the study, train trials until it has ``trials``, write the report; the exit code."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # we print one line per trial; Optuna's add tracebacks
    request.sweep_dir.mkdir(parents=True, exist_ok=True)
    study = open_study(request)
    say(
        f"sweep {request.study_name}: {request.trials} trials in {shown_url(request.storage_url)} "
        f"(runs in {request.sweep_dir / 'runs'})"
    )
    worker = Worker(study, request.space, request.trials, request.sweep_dir, request.heartbeat, request.exiting, say)

    def report() -> None:
        write_report(study, request.space, request.sweep_dir, request.storage_url, request.trials)

    try:
        code = worker.run(after_each=report)
    finally:
        report()
    md = request.sweep_dir / "sweep.md"
    best = request.sweep_dir / "best.yaml"
    say(
        f"trained {len(worker.trained)} trial(s) here; report: {md}"
        + (f"; best config: {best}" if best.exists() else "")
    )
    return code


def open_study(request: SweepRequest) -> optuna.Study:
    """The study (created on first use) with this search space; another space under the name is refused."""
    space = request.space
    storage = open_storage(request.storage_url, request.heartbeat)
    seed = int(space.config({}).seed)
    try:
        study = optuna.create_study(
            study_name=request.study_name,
            storage=storage,
            direction=space.spec.direction,
            sampler=make_sampler(space.spec.sampler, seed),
            pruner=make_pruner(space.spec.pruner),
            load_if_exists=True,
        )
        _check_space(study, space, request)
        _check_base(study, space)
    except sqlalchemy.exc.OperationalError as exc:
        raise SimpleGameError(f"--storage {shown_url(request.storage_url)}: {str(exc.orig).splitlines()[0]}") from None
    return study


def _check_space(study: optuna.Study, space: SearchSpace, request: SweepRequest) -> None:
    recorded = study.user_attrs.get(SPACE_ATTR)
    mine = space.fingerprint()
    if recorded is None:
        if study.get_trials(deepcopy=False):
            raise SimpleGameError(
                f"--study {request.study_name}: exists in {shown_url(request.storage_url)} without a search space "
                "record (not made by simple-game sweep): pick another --study name"
            )
        study.set_user_attr(SPACE_ATTR, mine)
        return
    if recorded != mine:
        raise SimpleGameError(
            f"{space.path}: the study {request.study_name!r} in {shown_url(request.storage_url)} has another "
            f"search space ({_difference(json.loads(recorded), json.loads(mine))}): use that space or another --study"
        )


def _check_base(study: optuna.Study, space: SearchSpace) -> None:
    """Workers should train the same base config (and ``--set``); another one is said, not refused
    (a worker on a machine with other run-only settings, such as ``compute.threads``, is fine)."""
    mine = _flat(space.config({}).to_yaml_dict())
    recorded = study.user_attrs.get(BASE_ATTR)
    if recorded is None:
        study.set_user_attr(BASE_ATTR, json.dumps(mine, sort_keys=True, default=str))
        return
    theirs = json.loads(recorded)
    differ = [k for k in sorted(set(theirs) | set(mine)) if k != "name" and not is_run_only(k)]
    differ = [k for k in differ if json.dumps(theirs.get(k), default=str) != json.dumps(mine.get(k), default=str)]
    if differ:
        key = differ[0]
        print(
            f"warning: this worker's base config differs from the study's first worker's: {key} is "
            f"{mine.get(key)!r} here, {theirs.get(key)!r} there ({len(differ)} key(s) differ): "
            "its trials do not compare with theirs",
            file=sys.stderr,
        )


def _flat(data: dict, prefix: str = "") -> dict:
    """``{"env": {"n_envs": 8}}`` -> ``{"env.n_envs": 8}``."""
    flat: dict = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _difference(theirs: dict, mine: dict) -> str:
    """The first thing in which two recorded spaces differ, in words."""
    for key in ("metric", "direction"):
        if theirs.get(key) != mine.get(key):
            return f"{key} {theirs.get(key)} there, {mine.get(key)} here"
    old, new = theirs.get("params", {}), mine.get("params", {})
    for key in sorted(set(old) | set(new)):
        if key not in old:
            return f"it has no {key}{did_you_mean(key, list(old))}"
        if key not in new:
            return f"it also tunes {key}"
        if old[key] != new[key]:
            return f"{key}: {old[key]} there, {new[key]} here"
    return "a different record"
