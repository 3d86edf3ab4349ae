"""TensorBoard's HParams tab and the Weights & Biases mirror, on real tiny PPO runs.

The HParams tab is read with TensorBoard's own hparams backend (the code behind the tab), the
W&B run from its offline files (``run-<id>.wandb``, a LevelDB-style log of protobuf records,
read here with W&B's own protobuf definitions). WANDB_MODE=offline: no network, no account.
"""

from __future__ import annotations

import csv
import json
import struct
import sys
from pathlib import Path

import pytest
import yaml

from conftest import SMOKE, only_run_dir
from tiny_runs import quiet_env, run_quiet

# One rollout (64 steps x 2 envs) per session; evaluation games capped at 100 agent steps.
TINY = ["total_timesteps=128", "eval.freq=128", "checkpoint.freq=128", "env.max_frames_per_episode=400"]
WANDB = "logging.wandb={project: simple-game-tests, mode: offline, tags: [tiny]}"


def _train(runs: Path, *sets: str) -> str:
    args = [x for item in (*TINY, *sets) for x in ("--set", item)]
    proc = run_quiet("simple_game.train", "--config", str(SMOKE), "--runs-dir", str(runs), "--no-progress", *args)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return proc.stdout


def hparams_tab(logdir: Path) -> dict[str, dict]:
    """What TensorBoard's HParams tab lists: {session: {"hparams": {...}, "metrics": {tag: value}}}."""
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, list_session_groups

    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    tb = base_plugin.TBContext(
        logdir=str(logdir), data_provider=data_provider.MultiplexerDataProvider(mux, str(logdir)), multiplexer=mux
    )
    statuses = [api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_SUCCESS, api_pb2.STATUS_FAILURE, api_pb2.STATUS_RUNNING]
    request = api_pb2.ListSessionGroupsRequest(start_index=0, slice_size=100, allowed_statuses=statuses)
    handler = list_session_groups.Handler(context.RequestContext(), backend_context.Context(tb), "", request)
    groups = handler.run().session_groups
    return {
        g.name: {
            "hparams": {k: v.string_value or v.number_value for k, v in g.hparams.items()},
            "metrics": {m.name.tag: m.value for m in g.metric_values},
        }
        for g in groups
    }


def wandb_records(path: Path) -> list:
    """The protobuf records of an offline W&B run file (LevelDB log: 32 KiB blocks of chunks)."""
    from wandb.proto import wandb_internal_pb2

    data, records, pending, pos, block = path.read_bytes(), [], b"", 7, 32768
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a chunk header is padding
            pos += block - pos % block
            continue
        length, kind = struct.unpack("<HB", data[pos + 4 : pos + 7])  # after a 4-byte checksum
        if kind == 0:
            break
        pending, pos = pending + data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind in (1, 4):  # a full record, or the last chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def wandb_history(path: Path) -> list[dict]:
    rows = []
    for record in wandb_records(path):
        if record.WhichOneof("record_type") == "history":
            rows.append({i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.history.item})
    return rows


def wandb_run_record(path: Path):
    return next(r.run for r in wandb_records(path) if r.WhichOneof("record_type") == "run")


def eval_scores(run: Path) -> list[float]:
    with open(run / "eval.csv", newline="") as f:
        return [float(row["mean_score"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory, monkeypatch_module) -> dict:
    """A run trained with W&B on, then resumed for one more rollout."""
    runs = tmp_path_factory.mktemp("trackers") / "runs"
    first = _train(runs, WANDB)
    run = only_run_dir(runs)
    folders_first = sorted((run / "wandb").glob("offline-run-*"))
    proc = run_quiet("simple_game.train", "--resume", str(run), "--no-progress", "--set", "total_timesteps=256")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return {"runs": runs, "run": run, "first": first, "folders_first": folders_first}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_MODE", "offline")  # belt and braces: quiet_env() copies os.environ
        mp.setenv("WANDB_SILENT", "true")
        yield mp


def test_hparams_tab_lists_settings_with_final_and_best_evaluation(tracked: dict) -> None:
    tab = hparams_tab(tracked["runs"])
    assert list(tab) == [f"{tracked['run'].name}/tensorboard"]  # one row per run, resumed or not
    row = tab[f"{tracked['run'].name}/tensorboard"]
    assert row["hparams"]["algo"] == "ppo" and row["hparams"]["env.game"] == "breakout"
    assert row["hparams"]["hyperparams.n_steps"] == 64 and row["hparams"]["seed"] == 0
    scores = eval_scores(tracked["run"])
    assert len(scores) == 2  # one evaluation per session: the resumed one is in the tab too
    assert row["metrics"] == {"eval/mean_score": scores[-1], "eval/best_mean_score": max(scores)}


def test_hparams_leave_progress_csv_alone(tracked: dict) -> None:
    with open(tracked["run"] / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(row["time/total_timesteps"] for row in rows)  # no empty row from the record


def test_wandb_mirrors_metrics_and_config_offline(tracked: dict) -> None:
    run, first = tracked["run"], tracked["first"]
    assert [line for line in first.splitlines() if line.startswith("wandb:")] == [
        next(line for line in first.splitlines() if line.startswith("wandb: offline run"))
    ]  # our one line; W&B's own messages and console capture are off
    (folder,) = tracked["folders_first"]
    run_file = next(folder.glob("run-*.wandb"))
    history = wandb_history(run_file)
    evals = [h for h in history if "eval/mean_score" in h]
    assert [(h["global_step"], h["eval/mean_score"]) for h in evals] == [(128, eval_scores(run)[0])]
    record = wandb_run_record(run_file)
    assert record.project == "simple-game-tests" and list(record.tags) == ["tiny"]
    config = {u.key: json.loads(u.value_json) for u in record.config.update}
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert config["algo"] == "ppo" and config["env"]["game"] == saved["env"]["game"] == "breakout"
    assert config["hyperparams"]["n_steps"] == 64


def test_wandb_rows_are_the_rows_of_progress_csv(tracked: dict) -> None:
    run = tracked["run"]
    with open(run / "progress.csv", newline="") as f:
        csv_rows = [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(f)]
    files = sorted((run / "wandb").glob("offline-run-*/run-*.wandb"))  # the sessions, in time order
    mirrored = [
        {k: v for k, v in h.items() if not k.startswith("_") and k != "global_step"}
        for path in files
        for h in wandb_history(path)
    ]
    assert len(files) == 2 and len(csv_rows) >= 4
    assert mirrored == [pytest.approx(row) for row in csv_rows]


def test_wandb_resume_continues_the_same_run(tracked: dict) -> None:
    run = tracked["run"]
    run_id = (run / "wandb" / "run-id.txt").read_text().strip()
    folders = sorted((run / "wandb").glob("offline-run-*"))
    assert len(folders) == 2 and all(f.name.endswith(f"-{run_id}") for f in folders)
    second = next(f for f in folders if f not in tracked["folders_first"])
    run_file = second / f"run-{run_id}.wandb"
    assert wandb_run_record(run_file).run_id == run_id
    evals = [h for h in wandb_history(run_file) if "eval/mean_score" in h]
    assert [(h["global_step"], h["eval/mean_score"]) for h in evals] == [(256, eval_scores(run)[1])]


def test_wandb_missing_is_one_line_before_anything_is_written(tmp_path: Path) -> None:
    import subprocess

    exp = tmp_path / "exp.yaml"
    exp.write_text(f"extends: {SMOKE}\nlogging:\n  wandb: {{project: p}}\n")
    runs = tmp_path / "runs"
    code = (  # wandb made unimportable, as on a machine without the extra
        "import sys; sys.modules['wandb'] = None; from simple_game.cli.train import main; "
        f"sys.exit(main(['--config', {str(exp)!r}, '--runs-dir', {str(runs)!r}]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=quiet_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f'error: {exp}: logging.wandb: wandb is not installed: pip install -e ".[wandb]" (or remove logging.wandb)'
    ]
    assert not runs.exists()


def test_a_run_trained_with_wandb_evaluates_without_wandb(tracked: dict, tmp_path: Path) -> None:
    """W&B is for training: evaluating a run whose config.yaml has ``logging.wandb`` must not need it."""
    import subprocess

    out = tmp_path / "eval.json"
    code = (
        "import sys; sys.modules['wandb'] = None; from simple_game.cli.evaluate import main; "
        f"sys.exit(main([{str(tracked['run'])!r}, '--episodes', '1', '--json', {str(out)!r}]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=quiet_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.exists()
