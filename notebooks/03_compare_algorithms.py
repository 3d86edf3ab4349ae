# %% [markdown]
# # 3. PPO vs A2C vs DQN
#
# The three algorithms learn from the same game in very different ways
# ([primer §6](../docs/rl_primer.md#6-on-policy-and-off-policy)):
#
# | | PPO | A2C | DQN |
# | --- | --- | --- | --- |
# | learns | a policy + a value critic | a policy + a value critic | action values `Q(s, a)` |
# | data | **on-policy**: a rollout from the current policy, used for a few epochs, then discarded | **on-policy**: a tiny rollout (5 steps x 16 games), one gradient step, discarded | **off-policy**: every transition goes into a **replay buffer** and is sampled many times |
# | explores by | sampling from its policy (+ entropy bonus) | sampling from its policy (+ entropy bonus) | **epsilon-greedy**: random action with probability epsilon, annealed from 1 to 0.01 |
# | stabilised by | the clipped objective, a few epochs per rollout | its **16 parallel games**: each update averages 16 x 5 fresh, less correlated steps (no replay; the optimizer is RMSprop) | a **target network** copied every 1,000 agent steps |
# | parallel games | 8 | 16 | 1 |
#
# More in the primer: [PPO](../docs/rl_primer.md#ppo-and-its-clipped-objective),
# [A2C](../docs/rl_primer.md#a2c),
# [DQN: replay buffer and target network](../docs/rl_primer.md#dqn-replay-buffer-and-target-network),
# [epsilon-greedy](../docs/rl_primer.md#epsilon-greedy-exploration).
#
# We train all three on Breakout with **the same number of agent steps** (one agent step =
# 4 emulator frames, counted over all parallel games) and compare. **Budget.** With
# `SIMPLE_GAME_QUICK=1` each run is a few hundred steps (seconds, nothing is learned).
# Otherwise each run is **200,000 steps**: roughly 10-40 minutes each for PPO and A2C on a
# laptop CPU and longer for DQN (one game, one gradient step every 4 agent steps), 1-2 hours
# for all three.

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
# The notebooks that train share three helpers: `notebook.train` runs `python -m simple_game.train`
# in this kernel and returns the new run directory; `notebook.read_csv` and `notebook.curve` read the
# CSV logs a run writes.
import json

import matplotlib.pyplot as plt

# %% [markdown]
# ## The three configs, with the same budget
#
# Each algorithm keeps its own tuned hyperparameters from `configs/<algo>_breakout.yaml`;
# only the budget is shared. DQN needs two more overrides for a short run:
#
# - `learning_starts` is 100,000 in the shipped config: that many steps of pure random play
#   fill the replay buffer before the first update. With a small budget it must be smaller.
# - `buffer_size`: 100,000 transitions of 4x84x84 bytes, stored as observation *and* next
#   observation, is about 5.6 GB of RAM. We use a smaller buffer.

# %%
if QUICK:  # seconds per run: shows the mechanics, learns nothing
    STEPS = 256
    SHARED = [f"total_timesteps={STEPS}", "eval.freq=128", "eval.episodes=1", "checkpoint.freq=256"]
    PER_ALGO = {
        "ppo": ["env.n_envs=2", "hyperparams.n_steps=64", "hyperparams.batch_size=64", "hyperparams.n_epochs=1"],
        "a2c": ["env.n_envs=2"],
        "dqn": [
            "hyperparams.buffer_size=1000",
            "hyperparams.learning_starts=64",
            "hyperparams.target_update_interval=64",
            "hyperparams.exploration_fraction=0.5",
            "logging.log_interval=1",
        ],
    }
else:  # 200k steps per run
    STEPS = 200_000
    SHARED = [f"total_timesteps={STEPS}", "eval.freq=25000", "eval.episodes=5", "checkpoint.freq=100000"]
    PER_ALGO = {
        "ppo": [],
        "a2c": [],
        "dqn": [
            "hyperparams.buffer_size=50000",  # about 2.8 GB of RAM
            "hyperparams.learning_starts=10000",  # start learning after 5% of the budget
            "hyperparams.exploration_fraction=0.1",
        ],
    }
SHARED.append("logging.console_interval_s=30")

# %% [markdown]
# ## Train
#
# Each run prints its console table; the last line of each is the final evaluation.

# %%
runs = {}
for algo in ("ppo", "a2c", "dqn"):
    print(f"\n========== {algo.upper()} ==========")
    runs[algo] = notebook.train(
        f"configs/{algo}_breakout.yaml", f"nb03_{algo}_breakout", SHARED + PER_ALGO[algo], root=ROOT, runs=RUNS
    )

# %% [markdown]
# ## Compare: score against agent steps
#
# Left: the evaluation score (whole games, raw score, greedy action with 5% random actions
# for all three, as `simple-game evaluate`; the number that counts). Right: the training
# score `rollout/ep_rew_mean` (each algorithm's own exploration). Same x-axis for all:
# **agent steps**, the fair unit when emulator time is what you pay for.

# %%
COLORS = {"ppo": "tab:blue", "a2c": "tab:green", "dqn": "tab:red"}
fig, (ax_eval, ax_train) = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
for algo, run_dir in runs.items():
    evals = notebook.read_csv(run_dir / "eval.csv")
    x, y = notebook.curve(evals, "timesteps", "mean_score")
    _, std = notebook.curve(evals, "timesteps", "std_score")
    ax_eval.plot(x, y, "o-", color=COLORS[algo], label=algo.upper())
    low, high = [m - s for m, s in zip(y, std, strict=True)], [m + s for m, s in zip(y, std, strict=True)]
    ax_eval.fill_between(x, low, high, color=COLORS[algo], alpha=0.15)
    x, y = notebook.curve(notebook.read_csv(run_dir / "progress.csv"), "time/total_timesteps", "rollout/ep_rew_mean")
    ax_train.plot(x, y, ".-", color=COLORS[algo], label=algo.upper())
for ax, title in ((ax_eval, "evaluation score (mean ± std)"), (ax_train, "training score (rollout/ep_rew_mean)")):
    ax.axhline(notebook.RANDOM_BREAKOUT_SCORE, color="gray", linestyle="--", linewidth=1, label="random agent")
    ax.set_title(title)
    ax.set_xlabel("agent steps")
    ax.grid(alpha=0.3)
    ax.legend()
ax_eval.set_ylabel(f"score per game (dashed: {notebook.RANDOM_BREAKOUT_LABEL})")
plt.suptitle(f"Breakout, {STEPS:,} steps per algorithm, one seed each")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Compare: cost
#
# The same number of agent steps does not cost the same wall-clock time. `fps` in
# `summary.json` is agent steps per second over the whole run (evaluation included).

# %%
print(f"{'algo':6s} {'steps':>9s} {'wall time':>10s} {'fps':>8s} {'final eval':>12s} {'best eval':>10s}")
for algo, run_dir in runs.items():
    s = json.loads((run_dir / "summary.json").read_text())
    final = f"{s['final_eval_mean']:.1f} ± {s['final_eval_std']:.1f}" if s.get("final_eval_mean") is not None else "-"
    best = f"{s['best_eval_mean']:.1f}" if s.get("best_eval_mean") is not None else "-"
    print(f"{algo:6s} {s['steps_done']:>9,} {s['wall_time_s']:>9.0f}s {s['fps']:>8.0f} {final:>12s} {best:>10s}")

# %% [markdown]
# ## DQN's exploration schedule
#
# DQN explores with epsilon-greedy: epsilon goes linearly from 1.0 to
# `exploration_final_eps` over the first `exploration_fraction` of the budget, then stays
# there. It is logged as [`rollout/exploration_rate`](../docs/metrics.md#rolloutexploration_rate).
# While epsilon is high the agent plays mostly at random, whatever its Q-values say, and
# before `learning_starts` SB3 plays uniformly random actions whatever epsilon is: an early
# DQN *training* curve is flat by design. The evaluation curve does not use this epsilon
# (it plays greedy with 5% random actions), so it shows what the Q-values have learned.

# %%
from simple_game.config import load_config

dqn_cfg = load_config(ROOT / "configs" / "dqn_breakout.yaml", overrides=SHARED + PER_ALGO["dqn"])
hp = dqn_cfg.hyperparams
fraction, final_eps = hp["exploration_fraction"], hp["exploration_final_eps"]
steps = [i * STEPS / 200 for i in range(201)]
eps = [max(final_eps, 1.0 - (1.0 - final_eps) * s / (fraction * STEPS)) for s in steps]

plt.figure(figsize=(7, 3.5))
plt.plot(steps, eps, label=f"schedule: 1.0 -> {final_eps} over the first {fraction:.0%}")
x, y = notebook.curve(
    notebook.read_csv(runs["dqn"] / "progress.csv"), "time/total_timesteps", "rollout/exploration_rate"
)
plt.plot(x, y, "o", color="tab:red", label="logged rollout/exploration_rate")
plt.axvline(hp["learning_starts"], color="gray", linestyle=":", label=f"learning_starts = {hp['learning_starts']:,}")
plt.xlabel("agent steps")
plt.ylabel("epsilon")
plt.grid(alpha=0.3)
plt.legend()
plt.show()

# %% [markdown]
# ## How to read the comparison (carefully)
#
# - **One seed each proves nothing.** Runs differing only in their seed can differ a lot
#   ([primer §13](../docs/rl_primer.md#13-seeds-and-variance)). To really compare, run 5 or more
#   seeds each (`--set seed=1`, ...; 3 is only a sanity check) and use
#   `python -m simple_game.report --runs-dir runs/notebooks --runs 'nb03_ppo*'`, which draws the
#   median over seeds with an interquartile band (it describes those runs; it is not a
#   confidence interval).
# - **A short budget is not the shipped recipe.** The shipped settings of all three are tuned
#   for 10M steps. For DQN this notebook shrinks the schedule: learning starts at 10k steps and,
#   with `exploration_fraction` 0.1 of 200k, epsilon reaches its 0.01 floor at 20k steps (the
#   plot above), so most of the run is near-greedy. Which algorithm leads at 200k says little
#   about 10M steps, where DQN-family methods (see `configs/qrdqn_breakout.yaml`) are competitive.
# - **Steps are not time.** Compare the `fps` column: on a CPU, sample efficiency and wall
#   clock can point in different directions.
#
# Try this: add QR-DQN (`configs/qrdqn_breakout.yaml`, the same DQN overrides) to the loop.
#
# Next: [04_evaluate_and_watch.ipynb](04_evaluate_and_watch.ipynb).
