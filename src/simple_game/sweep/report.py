"""What a sweep leaves in its folder: ``best.yaml``, ``sweep.md`` (trials, importances) and ``sweep.json``.

``best.yaml`` is a whole experiment config, the base config with the best trial's values, that
``simple-game train --config`` accepts as it is. It keeps the config's own ``total_timesteps``
(a sweep's ``budget`` is usually shorter than a real run). ``sweep.json`` is what ``report``
reads for the sweeps table of ``experiments.md`` (:mod:`simple_game.sweep.table`).

Parameter importances are Optuna's PED-ANOVA (numpy only): how much of the spread between the
good trials and the rest each parameter explains. They need a few complete trials to mean
anything; with fewer the report says so instead.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path
from typing import Any, Optional

import optuna
from optuna.trial import FrozenTrial, TrialState

from simple_game.config import dump_config
from simple_game.fsio import atomic_write_json, atomic_write_text
from simple_game.sweep.space import SearchSpace
from simple_game.sweep.storage import dashboard_url, retried_from, shown_url

MIN_TRIALS_FOR_IMPORTANCE = 3


def write_report(study: optuna.Study, space: SearchSpace, sweep_dir: Path, storage_url: str, target: int) -> Path:
    """Write the three files into ``sweep_dir`` (each atomically); returns the path of ``sweep.md``."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    trials = study.get_trials(deepcopy=False)
    best = best_trial(study)
    if best is not None:
        atomic_write_text(sweep_dir / "best.yaml", best_yaml(study, space, best, sweep_dir))
    importances, why_not = importances_of(study)
    counts = {state.name.lower(): sum(t.state == state for t in trials) for state in TrialState}
    md = _markdown(study, space, trials, best, importances, why_not, counts, storage_url, target, sweep_dir)
    atomic_write_text(sweep_dir / "sweep.md", md)
    summary = {
        "study": study.study_name,
        "storage": shown_url(storage_url),
        "config": str(space.base),
        "space": str(space.path),
        "metric": space.spec.metric,
        "direction": space.spec.direction,
        "target_trials": target,
        "counts": counts,
        "best": None if best is None else {"number": best.number, "value": best.value, "params": best.params},
        "importances": importances,
        "updated_at": _dt.datetime.now().isoformat(timespec="seconds"),
    }
    atomic_write_json(sweep_dir / "sweep.json", summary)
    return sweep_dir / "sweep.md"


def best_trial(study: optuna.Study) -> Optional[FrozenTrial]:
    """The best complete trial, or ``None`` while there is none (pruned trials never are best)."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return study.best_trial if complete else None


def best_yaml(study: optuna.Study, space: SearchSpace, best: FrozenTrial, sweep_dir: Path) -> str:
    """The ready-to-train config of the best trial, with a header saying where it came from."""
    cfg = space.config(best.params, name=f"{study.study_name}-best", budget=False)
    trained = space.spec.budget or cfg.total_timesteps
    header = [
        f"# The best trial of sweep {study.study_name}: trial {best.number}, {space.spec.metric} evaluation "
        f"score {best.value:g} ({space.spec.direction}).",
        f"# Base config {space.base}, search space {space.path}; each trial trained {trained:,} steps.",
        f"# Train it: simple-game train --config {sweep_dir / 'best.yaml'}",
    ]
    return "\n".join(header) + "\n" + dump_config(cfg)


def importances_of(study: optuna.Study) -> tuple[Optional[dict[str, float]], str]:
    """Each parameter's importance (summing to 1), or ``None`` and the reason there are none yet."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        return None, f"needs {MIN_TRIALS_FOR_IMPORTANCE} complete trials (has {len(complete)})"
    evaluator_cls = getattr(optuna.importance, "PedAnovaImportanceEvaluator", None)
    try:
        found = optuna.importance.get_param_importances(
            study, evaluator=evaluator_cls() if evaluator_cls else None, normalize=True
        )
    except (ValueError, RuntimeError, ArithmeticError, ImportError) as exc:
        return None, f"could not be computed ({exc})"
    values = {key: float(v) for key, v in found.items()}
    if not values or not all(math.isfinite(v) for v in values.values()):
        return None, "could not be computed (the complete trials barely differ)"
    return values, ""


def _markdown(
    study: optuna.Study,
    space: SearchSpace,
    trials: list[FrozenTrial],
    best: Optional[FrozenTrial],
    importances: Optional[dict[str, float]],
    why_not: str,
    counts: dict[str, int],
    storage: str,
    target: int,
    sweep_dir: Path,
) -> str:
    finished = counts["complete"] + counts["pruned"]
    shown_counts = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    lines = [
        f"# Sweep {study.study_name}",
        "",
        f"- storage: `{shown_url(storage)}` (browse it: `optuna-dashboard {dashboard_url(storage)}`)",
        f"- config: `{space.base}`{' with --set ' + ' '.join(space.overrides) if space.overrides else ''}; "
        f"search space: `{space.path}`",
        f"- objective: {space.spec.metric} evaluation score, {space.spec.direction}; "
        f"pruner: {space.spec.pruner.type}; sampler: {space.spec.sampler.type}",
        f"- trials: {finished} of {target} finished ({shown_counts or 'none yet'})",
    ]
    if best is not None:
        params = ", ".join(f"{k}={_value(v)}" for k, v in best.params.items())
        lines.append(f"- best: trial {best.number}, score {best.value:g} ({params}); ready to train: `best.yaml`")
    lines += [
        "",
        "## Trials",
        "",
        *_trials_table(trials, list(space.params), sweep_dir),
        "",
        "## Parameter importances",
        "",
    ]
    if importances is None:
        lines.append(f"Not yet: {why_not}.")
    else:
        lines += ["| parameter | importance |", "|---|---|"]
        lines += [f"| {key} | {value:.3f} |" for key, value in importances.items()]
    return "\n".join(lines) + "\n"


def _trials_table(trials: list[FrozenTrial], keys: list[str], sweep_dir: Path) -> list[str]:
    head = ["trial", "state", "score", *keys, "evaluations", "steps", "run", "note"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t in trials:
        value = "" if t.value is None else f"{t.value:g}"
        if t.state == TrialState.PRUNED and t.intermediate_values:
            value = f"({t.intermediate_values[max(t.intermediate_values)]:g})"  # its last evaluation
        cells: list[Any] = [t.number, t.state.name.lower(), value]
        cells += [_value(t.params[k]) if k in t.params else "" for k in keys]
        if t.state == TrialState.WAITING:  # a queued retry carries its old trial's attributes until it runs
            retried = retried_from(t)
            cells += [0, "", "", "queued" + ("" if retried is None else f": retry of trial {retried}")]
        else:
            cells += [len(t.intermediate_values), _steps(t), _run(t, sweep_dir), _note(t)]
        rows.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return rows


def _value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _steps(trial: FrozenTrial) -> str:
    steps = trial.user_attrs.get("steps")
    return f"{steps:,}" if isinstance(steps, int) else ""


def _run(trial: FrozenTrial, sweep_dir: Path) -> str:
    """The run folder: relative to the sweep folder when it is in it, else its path, ``host:/path`` elsewhere."""
    path, host = trial.user_attrs.get("run_dir"), trial.user_attrs.get("host")
    if not path:
        return ""
    if not Path(path).exists():
        return f"{host}:{path}" if host else str(path)
    inside = Path(path).resolve().is_relative_to(sweep_dir.resolve())
    return os.path.relpath(Path(path).resolve(), sweep_dir.resolve()) if inside else str(path)


def _note(trial: FrozenTrial) -> str:
    notes = []
    retried = retried_from(trial)
    if retried is not None:
        notes.append(f"retry of trial {retried}")
    if trial.user_attrs.get("surplus"):
        notes.append("surplus (the study already had its trials)")
    if trial.user_attrs.get("interrupted"):
        notes.append("interrupted, queued again")
    failure = trial.user_attrs.get("failure")
    if failure:
        notes.append(str(failure)[:120])
    if trial.state == TrialState.FAIL and not notes:
        notes.append("no result: its worker was lost (then it is queued again) or crashed")
    return "; ".join(notes)
