"""Shipping trained agents: policy-only copies of a run's checkpoints, in a folder anyone can play.

A training checkpoint also holds the optimizer's state: for Adam, two running moment estimates
per weight, so twice the network again, and only training reads them. A shipped agent keeps the
network, the saved spaces, simple-game's metadata and an *empty* optimizer state, so it is a third
of the size and still loads everywhere a checkpoint does, plain SB3's ``PPO.load`` included.

A shipped folder is laid out like a run directory (``config.yaml``, ``checkpoints/<name>.zip``,
the run's ``progress.csv``, ``eval.csv`` and ``summary.json``), so ``evaluate``, ``record`` and
``collect`` take it as they take a run: ``simple-game evaluate agents/breakout --checkpoint
skill_level_1``. ``agents.json`` lists every file with its sha256 and its score over whole games
under the evaluation protocol; the README's table is written from it, between two markers, so
the hand-written text around it survives a new ``ship``.

A folder may grow over several runs: a run warm-started (``init_from:``) from one of its agents
ships into it as the folder's next run. Its agents join the earlier ones, its logs take the top
level, the earlier run's logs move to ``earlier/<run>/``, and its agents' training steps count
the steps of the agent it started from (``agents.json``: ``steps_before``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from simple_game.agents.loading import load_model
from simple_game.checkpoints import read_checkpoint_metadata, save_checkpoint
from simple_game.errors import SimpleGameError
from simple_game.evaluation.target import load_run_config
from simple_game.fsio import atomic_write_bytes, atomic_write_json, atomic_write_text, fsync_dir, sha256_file
from simple_game.runs import RunDirectory, find_run

INDEX_NAME = "agents.json"
README_NAME = "README.md"
RUN_FILES = ("config.yaml", "progress.csv", "eval.csv", "summary.json")
TABLE_BEGIN = "<!-- agents table: written by `simple-game agents ship`; edit outside these markers -->"
TABLE_END = "<!-- end of agents table -->"
MAX_BYTES = 10 * 1024 * 1024  # what a repository can carry comfortably, per file
STAGING_PREFIX = ".shipping-"  # a new folder is built as .shipping-<name>-<pid> beside it


@dataclass
class ShippedAgent:
    """One shipped checkpoint: its file, hash, size, where it came from and how it plays."""

    name: str
    file: str  # relative to the shipped folder
    sha256: str
    bytes: int
    source: str  # the run's checkpoint it was made from
    source_bytes: int
    step: Optional[int]
    wall_time_s: Optional[float]
    score: Optional[dict[str, Any]]  # episodes, mean, std, median, min, max, seed, epsilon (None: not evaluated)
    steps_before: Optional[int] = None  # a warm-started run's: the steps of the agent it started from


def policy_only(source: Path, dest: Path, algo: str, metadata: dict[str, Any]) -> None:
    """Write ``source``'s network as a policy-only checkpoint at ``dest`` (atomically), with ``metadata``."""
    model = load_model(source, algo)
    optimizer = getattr(model.policy, "optimizer", None)
    if optimizer is not None:
        optimizer.state.clear()  # the moment estimates; param_groups (lr, betas) are a few bytes
    save_checkpoint(model, dest, metadata)


def default_names(run: RunDirectory) -> list[str]:
    """Every skill-tier checkpoint of ``run`` (lowest first), then ``best``."""
    tiers = sorted(run.checkpoints_dir.glob("skill_level_*.zip"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    return [p.stem for p in tiers] + ["best"]


def ship(
    run_path: str,
    out: Path,
    names: Optional[Sequence[str]] = None,
    *,
    evaluate: Optional[Callable[[Path], dict[str, Any]]] = None,
    force: bool = False,
    on_agent: Optional[Callable[[ShippedAgent], None]] = None,
) -> list[ShippedAgent]:
    """Ship ``names`` (default :func:`default_names`) of the run at ``run_path`` into ``out``.

    ``evaluate(zip) -> report`` scores each shipped file (``simple-game evaluate``'s report);
    ``None`` ships without scores. Agents already in ``out`` from the same run and not named here
    are kept; a folder holding another run's agents is refused unless ``force``.
    """
    run = find_run(run_path)
    _check_out(out, run)
    if out.exists():
        return _ship(run, out, names, evaluate, force, on_agent)
    # A new folder is built beside ``out`` and renamed into place when whole: a failure, Ctrl-C or
    # kill -9 leaves no half-shipped ``out`` behind to block the retry.
    _remove_stale_staging(out)
    staging = out.parent / f"{STAGING_PREFIX}{out.name}-{os.getpid()}"
    try:
        staging.mkdir(parents=True)
        shipped = _ship(run, staging, names, evaluate, force, on_agent)
        try:
            os.rename(staging, out)
        except OSError as exc:  # another ship made ``out`` meanwhile
            raise SimpleGameError(
                f"--out {out}: cannot put the shipped folder in place ({exc.strerror or exc})"
            ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fsync_dir(out.parent)
    return shipped


def _remove_stale_staging(out: Path) -> None:
    """Staging folders of ``out`` left by a ship that was killed (its process is gone)."""
    for path in out.parent.glob(f"{STAGING_PREFIX}{out.name}-*"):
        pid = path.name.rsplit("-", 1)[1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would end the process there: keep the folder
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _ship(
    run: RunDirectory,
    out: Path,
    names: Optional[Sequence[str]],
    evaluate: Optional[Callable[[Path], dict[str, Any]]],
    force: bool,
    on_agent: Optional[Callable[[ShippedAgent], None]],
) -> list[ShippedAgent]:
    index = read_index(out)
    agents, runs, before = _lineage(run, out, index, force)
    earlier = {n for n, a in agents.items() if not a["source"].startswith(f"{run.name}/")}
    names = list(names) if names else [n for n in default_names(run) if n not in earlier]
    if not names:
        raise SimpleGameError(f"{run.path}: every agent it has is already shipped in {out} from an earlier run")
    taken = [n for n in names if n in earlier]
    if taken and not force:
        raise SimpleGameError(
            f"{out}: {', '.join(taken)} already shipped from an earlier run ({agents[taken[0]]['source']}); "
            "pick other --checkpoints or pass --force to replace"
        )
    sources = {name: run.resolve_checkpoint(name) for name in names}  # every name checked before a write
    algo = str(read_checkpoint_metadata(next(iter(sources.values()))).get("algo") or _run_algo(run))
    if runs and runs[-1] != run.name:  # this run is the folder's next one
        _keep_earlier_run_files(out, runs[-1])
    _copy_run_files(run, out)
    for name, source in sources.items():
        dest = out / "checkpoints" / f"{name}.zip"
        meta = read_checkpoint_metadata(source)
        shipped_from = {"run": run.name, "checkpoint": source.name}
        policy_only(source, dest, algo, {**meta, "policy_only": True, "shipped_from": shipped_from})
        agent = ShippedAgent(
            name=name,
            file=str(dest.relative_to(out)),
            sha256=sha256_file(dest),
            bytes=dest.stat().st_size,
            source=f"{run.name}/checkpoints/{source.name}",
            source_bytes=source.stat().st_size,
            step=meta.get("step"),
            wall_time_s=meta.get("wall_time_s"),
            score=_score(evaluate(dest)) if evaluate is not None else None,
            steps_before=before,
        )
        agents[name] = asdict(agent)
        if on_agent is not None:
            on_agent(agent)
    ordered = sorted(agents.values(), key=lambda a: _order(a["name"]))
    runs += [] if run.name in runs else [run.name]
    index = {"run": run.name, "runs": runs, "algo": algo, "game": run.read_summary().get("game"), "agents": ordered}
    atomic_write_json(out / INDEX_NAME, index)
    write_readme(out, index)
    return [ShippedAgent(**a) for a in ordered]


def _check_out(out: Path, run: RunDirectory) -> None:
    """``out`` may be new, or a shipped folder; never a file, a run or anything whose files ours would replace."""
    if out.exists() and not out.is_dir():
        raise SimpleGameError(f"--out {out}: is a file, not a folder")
    if out.resolve() == run.path.resolve():
        raise SimpleGameError(
            f"--out {out}: is the run itself; ship into another folder (its checkpoints stay as they are)"
        )
    ours = [out / name for name in RUN_FILES] + [out / "checkpoints"]
    if not (out / INDEX_NAME).is_file() and any(p.exists() for p in ours):
        raise SimpleGameError(
            f"--out {out}: already holds a run's files ({', '.join(p.name for p in ours if p.exists())}) and no "
            f"{INDEX_NAME}: it is not a folder of shipped agents; ship into a new one"
        )


def _lineage(
    run: RunDirectory, out: Path, index: dict[str, Any], force: bool
) -> tuple[dict[str, dict[str, Any]], list[str], Optional[int]]:
    """The agents kept in ``out``, its runs so far, and the training steps behind the agent ``run`` began from.

    ``out`` may hold this run's agents, or those of a run this one was warm-started from (the
    folder's next run); another run's folder is refused unless ``force``, which starts it over.
    """
    started = _started_from(run)
    before = started.get("step")  # the warm start counted the whole chain of runs behind its agent
    parent = any(a["sha256"] == started.get("sha256") for a in index.get("agents", []))
    if not index or not (index.get("run") == run.name or parent):
        if index and not force:
            raise SimpleGameError(
                f"{out}: holds agents of run {index.get('run')}, not {run.name} (nor of a run warm-started "
                "from one of them); ship into another folder or pass --force"
            )
        return {}, [], before
    return {a["name"]: a for a in index["agents"]}, list(index.get("runs") or [index["run"]]), before


def _started_from(run: RunDirectory) -> dict[str, Any]:
    """The agent a warm-started run began from (summary.json's ``init_from``; empty for a run from scratch)."""
    record = run.read_summary().get("init_from")
    return record if isinstance(record, dict) else {}


def _keep_earlier_run_files(out: Path, earlier: str) -> None:
    """The folder's run files, copied to ``earlier/<run>/`` before the next run's replace them."""
    for name in RUN_FILES:
        if (out / name).is_file():
            atomic_write_bytes(out / "earlier" / earlier / name, (out / name).read_bytes())


def _copy_run_files(run: RunDirectory, out: Path) -> None:
    """The run's config and logs; a log being appended to is copied up to its last whole line."""
    for name in RUN_FILES:
        path = run.path / name
        if path.is_file():
            data = path.read_bytes()
            if name.endswith(".csv") and not data.endswith(b"\n"):
                data = data[: data.rfind(b"\n") + 1]
            atomic_write_bytes(out / name, data)


def _score(report: dict[str, Any]) -> dict[str, Any]:
    """The part of ``simple-game evaluate``'s report the README shows."""
    protocol = report.get("protocol", {})
    return {
        "episodes": report["n_episodes"],
        **{k: report[k] for k in ("mean", "std", "median", "min", "max", "mean_length")},
        "seed": protocol.get("seed"),
        "epsilon": protocol.get("epsilon"),
    }


def _order(name: str) -> tuple[int, int, str]:
    tier = re.fullmatch(r"skill_level_(\d+)", name)
    return (0, int(tier.group(1)), name) if tier else (1, 0, name)


def _run_algo(run: RunDirectory) -> str:
    return load_run_config(run).algo


def read_index(out: Path) -> dict[str, Any]:
    """The folder's ``agents.json`` (empty when there is none yet)."""
    path = out / INDEX_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SimpleGameError(f"{path}: not readable ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("agents"), list):
        raise SimpleGameError(f"{path}: not an agents index (no 'agents' list)")
    return data


def render_table(index: dict[str, Any]) -> str:
    """The README's table of shipped agents, with how to reproduce each score."""
    rows = [
        "| agent | training steps | training time | score (mean ± std, min-max) | size | sha256 |",
        "|---|---:|---:|---|---:|---|",
    ]
    for a in index["agents"]:
        score = a.get("score")
        played = (
            f"{score['mean']:.1f} ± {score['std']:.1f} ({score['min']:g}-{score['max']:g}) "
            f"over {score['episodes']} games"
            if score
            else "not evaluated"
        )
        steps = f"{a['step'] + (a.get('steps_before') or 0):,}" if a.get("step") is not None else "?"
        hours = f"{a['wall_time_s'] / 3600:.1f} h" if a.get("wall_time_s") is not None else "?"
        rows.append(f"| `{a['file']}` | {steps} | {hours} | {played} | {a['bytes'] / 1e6:.1f} MB | `{a['sha256']}` |")
    scored = [a for a in index["agents"] if a.get("score")]
    lines = [TABLE_BEGIN, "", *rows, ""]
    if scored:
        s = scored[0]["score"]
        lines.append(
            f"Scores: whole games under the evaluation protocol, epsilon {s['epsilon']:g}, seed {s['seed']}; "
            f"reproduce one with `simple-game evaluate <this folder> --checkpoint <agent> --episodes "
            f"{s['episodes']} --seed {s['seed']}`."
        )
    runs = index.get("runs") or [index["run"]]
    if len(runs) > 1:
        made = (
            f"Made from runs {', then '.join(f'`{r}`' for r in runs)} ({index['algo']}), each warm-started from an "
            "agent of the one before; training steps count the steps behind that agent (logs of earlier runs in "
            "`earlier/`)."
        )
    else:
        made = f"Made from run `{index['run']}` ({index['algo']})."
    lines += [made, "", TABLE_END]
    return "\n".join(lines)


def write_readme(out: Path, index: dict[str, Any]) -> None:
    """Put the table in ``out``'s README: between the markers, or appended to a README without them."""
    path = out / README_NAME
    table = render_table(index)
    title = f"# Trained agents: {index['game']}" if index.get("game") else "# Trained agents"
    text = path.read_text() if path.is_file() else title + "\n"
    if TABLE_BEGIN in text and TABLE_END in text:
        head, rest = text.split(TABLE_BEGIN, 1)
        text = head + table + rest.split(TABLE_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + table + "\n"
    atomic_write_text(path, text)


def verify(out: Path, max_bytes: int = MAX_BYTES) -> list[str]:
    """What is wrong with a shipped folder (empty when every file matches its sha256 in both
    ``agents.json`` and the README, and none is over ``max_bytes``)."""
    index = read_index(out)
    if not index:
        return [f"{out}: no {INDEX_NAME}"]
    readme = (out / README_NAME).read_text() if (out / README_NAME).is_file() else ""
    problems = []
    for a in index["agents"]:
        path = out / a["file"]
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        digest = sha256_file(path)
        if digest != a["sha256"]:
            problems.append(f"{path}: sha256 {digest}, but {INDEX_NAME} says {a['sha256']}")
        if f"`{a['sha256']}`" not in readme:
            problems.append(f"{out / README_NAME}: does not list {a['file']}'s sha256 {a['sha256']}")
        if path.stat().st_size > max_bytes:
            problems.append(f"{path}: {path.stat().st_size / 1e6:.1f} MB, over {max_bytes / 1e6:.1f} MB")
    return problems
