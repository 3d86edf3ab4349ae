# %% [markdown]
# # 4. Evaluate an agent, and watch it play
#
# The training curve is not the agent's score
# ([primer §12](../docs/rl_primer.md#12-evaluation-the-number-you-report)). While training:
#
# - an episode ends when a **life** is lost, and rewards are **clipped** to -1/0/+1;
# - the policy **explores** (PPO/A2C sample their actions, DQN acts at random with
#   probability epsilon);
# - `rollout/ep_rew_mean` averages games played by *many past versions* of the policy.
#
# **Evaluation** asks one question: how well does *this* checkpoint play the real game?
# It plays **whole games** (all lives) with **raw scores**, on environments seeded apart
# from training, with a fixed rule for choosing actions. `python -m simple_game.evaluate`
# uses the DQN-paper rule: the policy's most likely action, replaced by a random one 5% of
# the time (epsilon 0.05). Training's own evaluations (`eval.csv`, `best.zip`) use the same
# rule by default (`eval.deterministic: true`, `eval.epsilon: 0.05`), so their numbers mean
# the same thing. That bit of randomness stops a greedy agent from, say, never pressing FIRE
# again after losing a life and standing still until the 30-minute frame cap.
#
# In this notebook: get a trained run, evaluate it against a random agent under the same
# protocol, and record a video of it playing.
#
# **Budget.** With `SIMPLE_GAME_QUICK=1`: a few-second training run, 2 games per
# evaluation and a 10-second clip. Otherwise the newest run of notebook 2 is used (or a
# 300,000-step PPO run is trained, 15-60 minutes on a laptop CPU), with 10 games per
# evaluation and one whole game on video.

# %%
# Setup: find the repository root (this works from notebooks/ or from the repository root),
# read the quick-mode switch, and choose where this notebook writes its runs.
import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path.cwd().resolve()
while not (ROOT / "pyproject.toml").is_file():
    if ROOT == ROOT.parent:
        raise RuntimeError("start Jupyter inside the simple-game repository (no pyproject.toml above this directory)")
    ROOT = ROOT.parent
if importlib.util.find_spec("simple_game") is None:  # not pip-installed: use the source tree (tell subprocesses too)
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")

from simple_game import notebook  # what these notebooks share: src/simple_game/notebook.py

# SIMPLE_GAME_QUICK=1: tiny budgets, the whole notebook runs in well under a minute (tests use it).
QUICK = notebook.quick_mode()
# Runs go to $SIMPLE_GAME_RUNS_DIR, else runs/notebooks/ (git ignores runs/).
RUNS = notebook.runs_dir(ROOT)
print(f"repository : {ROOT}")
print(f"runs go to : {RUNS}")
print(f"quick mode : {QUICK}   (set SIMPLE_GAME_QUICK=1 for a fast smoke run)")

# %%
# The notebooks that train share a helper: `notebook.train` runs `python -m simple_game.train` in this
# kernel and returns the new run directory.
import json

import matplotlib.pyplot as plt

# %% [markdown]
# ## 1. A run to evaluate
#
# We reuse the most recent run of notebook 2 when there is one in the runs directory.
# Otherwise we train one here.

# %%
previous = sorted(RUNS.glob("nb02_ppo_breakout_*/summary.json"))
previous = [p.parent for p in previous if json.loads(p.read_text()).get("status") == "finished"]
if previous and not QUICK:
    run_dir = previous[-1]
    print("using the run from notebook 2:", run_dir)
elif QUICK:
    BUDGET = [
        "total_timesteps=256",
        "env.n_envs=2",
        "hyperparams.n_steps=64",
        "hyperparams.batch_size=64",
        "hyperparams.n_epochs=1",
        "eval.freq=256",
        "eval.episodes=1",
        "checkpoint.freq=256",
    ]
    run_dir = notebook.train("configs/ppo_breakout.yaml", "nb04_ppo_breakout", BUDGET, root=ROOT, runs=RUNS)
else:
    BUDGET = [
        "total_timesteps=300000",
        "eval.freq=50000",
        "eval.episodes=5",
        "checkpoint.freq=100000",
        "logging.console_interval_s=30",
    ]
    run_dir = notebook.train("configs/ppo_breakout.yaml", "nb04_ppo_breakout", BUDGET, root=ROOT, runs=RUNS)
print("checkpoints:", sorted(p.name for p in (run_dir / "checkpoints").iterdir()))

# %% [markdown]
# A run keeps several checkpoints: `best.zip` scored highest in training's periodic
# evaluations, `latest` names the newest `step_<N>.zip`. `evaluate` and `record` use
# `best` unless told otherwise (`--checkpoint latest`, `step_N`, `skill_level_K`).
#
# ## 2. Evaluate: the agent and a random baseline, same protocol
#
# This is the command-line tool, called in this kernel:
#
# ```bash
# python -m simple_game.evaluate runs/<run> --episodes 10 --json agent.json
# python -m simple_game.evaluate runs/<run> --episodes 10 --json random.json --random
# ```
#
# The run's own `config.yaml` fixes the game, protocol and frame stack, so nothing has to
# be repeated by hand. `--random` plays uniformly random actions under exactly the same
# protocol: the baseline every score should be compared with.

# %%
from simple_game.cli.evaluate import main as evaluate_main

EPISODES = 2 if QUICK else 10
reports = {}
for who, extra in (("agent", []), ("random", ["--random"])):
    out = run_dir / f"eval_{who}.json"
    exit_code = evaluate_main([str(run_dir), "--episodes", str(EPISODES), "--json", str(out), *extra])
    assert exit_code == 0, f"evaluate exited {exit_code}"
    reports[who] = json.loads(out.read_text())

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for i, (who, report) in enumerate(reports.items()):
    scores = report["episode_scores"]
    ax.scatter([i] * len(scores), scores, alpha=0.6, label=f"{who}: {report['mean']:.1f} ± {report['std']:.1f}")
    ax.errorbar([i + 0.15], [report["mean"]], yerr=[report["std"]], fmt="o", color="black", capsize=4)
ax.set_xticks(range(len(reports)), list(reports))
ax.set_xlim(-0.5, len(reports) - 0.5)
ax.set_ylabel("score per whole game")
ax.set_title(f"{reports['agent']['game']}: {EPISODES} games each, epsilon {reports['agent']['protocol']['epsilon']}")
ax.legend()
ax.grid(alpha=0.3)
plt.show()
print("protocol:", reports["agent"]["protocol"])

# %% [markdown]
# Why several games and a standard deviation: one Atari game is a noisy measurement (the
# random no-ops at reset, the epsilon actions, sticky actions under the `modern`
# protocol). With 10 games the mean is still uncertain by roughly std / sqrt(10); papers
# use 30 or more games, and several training seeds
# ([primer §13](../docs/rl_primer.md#13-seeds-and-variance)).
#
# Things to try: `--deterministic` (epsilon 0; watch for games that stall until the frame
# cap, reported as `n_truncated`), `--sample` (draw PPO/A2C actions from the policy's
# distribution, as training's evaluation does with `eval.deterministic: false`), or
# `--checkpoint step_N` to evaluate an earlier checkpoint.
#
# ## 3. Watch it play
#
# `python -m simple_game.record` plays with the same action rule and writes an MP4 of the
# full-colour screen, one video frame per agent step (15 fps = real game speed), with a
# strip showing the action, reward, score and lives. `IPython.display.Video(...,
# embed=True)` puts the file into the notebook itself.

# %%
from IPython.display import Video, display

from simple_game.cli.record import main as record_main

video = run_dir / "videos" / "notebook_agent.mp4"
if QUICK:  # 150 agent steps = 10 seconds of play, small
    record_args = ["--max-steps", "150", "--scale", "2"]
else:  # one whole game (at most the config's video.max_steps = 4,500 steps, 5 minutes)
    record_args = ["--episodes", "1", "--scale", "2"]
exit_code = record_main([str(run_dir), "--out", str(video), *record_args])
assert exit_code == 0, f"record exited {exit_code}"
print(f"{video.stat().st_size / 1e6:.2f} MB")
display(Video(str(video), embed=True, width=480))

# %% [markdown]
# For comparison, `--random` records the random agent:
# `python -m simple_game.record runs/<run> --random --max-steps 600`.
#
# Next: [05_gameplay_dataset.ipynb](05_gameplay_dataset.ipynb).
