# %% [markdown]
# # 2. Train PPO on Breakout, and read what it logs
#
# **PPO** ([primer §7](../docs/rl_primer.md#ppo-and-its-clipped-objective)) is the default choice for Atari
# on a CPU. It plays `n_envs` games in parallel for `n_steps` steps (a *rollout*), computes
# for every step how much better than expected the action turned out (the *advantage*,
# [primer §5](../docs/rl_primer.md#5-advantage-and-gae)), makes those actions more likely with a few
# careful gradient steps, throws the rollout away, and repeats.
#
# In this notebook:
#
# 1. train PPO from `configs/ppo_breakout.yaml` with a small budget, using `--set` overrides;
# 2. look at the run directory it creates;
# 3. read `progress.csv` and `eval.csv` with nothing but the `csv` module and plot the
#    learning curve;
# 4. learn what the logged metrics mean, and where TensorBoard fits.
#
# **Budget.** With `SIMPLE_GAME_QUICK=1` training is a few hundred steps (seconds: it
# learns nothing, it only shows the mechanics). Otherwise it is **300,000 steps**: 15-60
# minutes on a laptop CPU (a busy 2-core machine does about 100 steps per second, a recent
# laptop several hundred). That is enough to climb above the random agent's ~1.1 points
# (measured under this project's protocol, docs/performance.md; a 250,000-step run of this
# config scored about 6), and far from the several hundred
# that PPO reaches after the config's full 10 million steps (hours on a GPU, a day or
# more on a CPU).

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
import math

import matplotlib.pyplot as plt

# %% [markdown]
# ## 1. The config and the overrides
#
# `configs/ppo_breakout.yaml` holds the RL Baselines3 Zoo's tuned Atari hyperparameters and
# 10M steps. We keep everything and override only the budget with `--set key.path=value`,
# exactly as on the command line:
#
# ```bash
# python -m simple_game.train --config configs/ppo_breakout.yaml --set total_timesteps=300000 --set eval.freq=50000
# ```
# %%
from simple_game.config import dump_config, load_config

if QUICK:  # seconds: shows the mechanics, learns nothing
    BUDGET = [
        "total_timesteps=256",
        "env.n_envs=2",
        "hyperparams.n_steps=64",
        "hyperparams.batch_size=64",
        "hyperparams.n_epochs=1",
        "eval.freq=128",
        "eval.episodes=1",
        "checkpoint.freq=128",
    ]
else:  # 300k steps: about 15-60 minutes on a laptop CPU
    BUDGET = ["total_timesteps=300000", "eval.freq=50000", "eval.episodes=5", "checkpoint.freq=100000"]
OVERRIDES = BUDGET + ["logging.console_interval_s=30"]

cfg = load_config(ROOT / "configs" / "ppo_breakout.yaml", overrides=OVERRIDES)
print(dump_config(cfg))

# %% [markdown]
# Things to notice in the resolved config: `n_envs` x `n_steps` is the rollout size (steps
# collected per update); `learning_rate: lin_2.5e-4` decays linearly to 0 over training;
# `clip_range: lin_0.1` bounds PPO's probability *ratio* new/old: once a sample's ratio has
# moved more than ±`clip_range` (relative; 0.1 at the start, annealed to 0) in the direction
# its advantage wants, its gradient is cut.
# That is not a hard trust region: over `n_epochs` x minibatches the policy can move further
# ([primer](../docs/rl_primer.md#the-clip-is-not-a-hard-trust-region)); `hyperparams.target_kl`
# (unset here) is the guard that stops an update. `eval:` says how often and how many whole
# games are played to measure the agent.
#
# ## 2. Train
#
# `simple_game.cli.train.main` is exactly the command-line tool; we call it in this kernel. The
# console prints a row every `logging.console_interval_s` seconds and one line per
# evaluation.

# %%
run_dir = notebook.train("configs/ppo_breakout.yaml", "nb02_ppo_breakout", OVERRIDES, root=ROOT, runs=RUNS)
print("\nrun directory:", run_dir)
for path in sorted(run_dir.rglob("*")):
    if path.is_file():
        print(f"  {str(path.relative_to(run_dir)):55s} {path.stat().st_size:>10,} bytes")

# %% [markdown]
# ## 3. The run directory
#
# | file | what |
# | --- | --- |
# | `config.yaml` | the fully resolved config that ran: rerun it with `--config runs/.../config.yaml` |
# | `summary.json` | what ran, how long, final and best evaluation |
# | `progress.csv` | every metric SB3 logged, one row per log dump |
# | `eval.csv` | one row per evaluation: whole games, raw scores |
# | `tensorboard/` | the same metrics for TensorBoard |
# | `checkpoints/` | `step_<N>.zip`, `best.zip` (best evaluation), `latest` (names the newest) |

# %%
summary = json.loads((run_dir / "summary.json").read_text())
for key in ("algo", "game", "steps_done", "wall_time_s", "fps", "final_eval_mean", "best_eval_mean", "status"):
    print(f"{key:16s} {summary.get(key)}")

# %% [markdown]
# ## 4. Reading the logs with the `csv` module
#
# `progress.csv` has one column per metric. Not every metric is logged at every dump (the
# evaluation dumps its own rows, for example), so **empty cells are normal**: `notebook.read_csv`
# turns them into NaN and `notebook.curve` skips them (both are a few lines of plain `csv` code in
# [`src/simple_game/notebook.py`](../src/simple_game/notebook.py); `notebook.read_csv??` shows it).

# %%
progress = notebook.read_csv(run_dir / "progress.csv")
evals = notebook.read_csv(run_dir / "eval.csv")
print(f"progress.csv: {len(progress.get('time/total_timesteps', []))} rows")
for key in sorted(progress):
    logged = [v for v in progress[key] if not math.isnan(v)]
    last = f"{logged[-1]:.4g}" if logged else "-"
    print(f"  {key:30s} logged {len(logged):3d} times, last value {last}")
print("\neval.csv:")
for i, step in enumerate(evals["timesteps"]):
    mean, std, games = evals["mean_score"][i], evals["std_score"][i], evals["n_episodes"][i]
    print(f"  step {step:>9,.0f}: score {mean:.1f} ± {std:.1f} over {games:.0f} games")

# %% [markdown]
# ## 5. The learning curve
#
# Two different scores ([primer §12](../docs/rl_primer.md#12-evaluation-the-number-you-report)):
#
# - **training score** `rollout/ep_rew_mean`: mean raw score of the last 100 games played
#   *while training*, by many past versions of the policy, with exploration. Cheap and
#   smooth, but not a fair measure.
# - **evaluation score** (`eval.csv`): the current policy plays `eval.episodes` whole games
#   on a separate environment, with raw scores, under the same protocol as
#   `simple-game evaluate`: the greedy (most likely) action, replaced by a random one with
#   probability 0.05 (`eval.deterministic: true`, `eval.epsilon: 0.05`). This is the number
#   you report; the band is ± one standard deviation over those games.
#
# In quick mode there are only a couple of points and no learning: the shape only becomes
# interesting with the full budget.

# %%
train_x, train_y = notebook.curve(progress, "time/total_timesteps", "rollout/ep_rew_mean")
eval_x, eval_y = notebook.curve(evals, "timesteps", "mean_score")
_, eval_std = notebook.curve(evals, "timesteps", "std_score")

plt.figure(figsize=(8, 4))
if train_x:
    plt.plot(train_x, train_y, ".-", color="tab:blue", label="training score (rollout/ep_rew_mean)")
else:
    print("no training game finished yet, so there is no rollout/ep_rew_mean to plot")
plt.plot(eval_x, eval_y, "o-", color="tab:orange", label="evaluation score (mean ± std)")
plt.fill_between(
    eval_x,
    [m - s for m, s in zip(eval_y, eval_std, strict=True)],
    [m + s for m, s in zip(eval_y, eval_std, strict=True)],
    color="tab:orange",
    alpha=0.2,
)
plt.axhline(notebook.RANDOM_BREAKOUT_SCORE, color="gray", linestyle="--", label=notebook.RANDOM_BREAKOUT_LABEL)
plt.xlabel("agent steps (1 agent step = 4 emulator frames)")
plt.ylabel("score per game")
plt.title(f"PPO on {summary['game']}, {summary['steps_done']:,} steps")
plt.grid(alpha=0.3)
plt.legend()
plt.show()

# %% [markdown]
# ## 6. What the other metrics mean
#
# Every key is explained in [docs/metrics.md](../docs/metrics.md). The ones to watch first for PPO:
#
# | metric | what it tells you | healthy |
# | --- | --- | --- |
# | [`rollout/ep_rew_mean`][] | training score (raw game score) | goes up |
# | [`train/entropy_loss`][] | minus the policy's randomness | starts near -ln 4 = -1.39 (Breakout) and rises slowly |
# | [`train/approx_kl`][] | how far the update moved the policy (an estimate) | about 0.005-0.03 |
# | [`train/clip_fraction`][] | share of samples with \|ratio - 1\| > `clip_range` (below) | about 0.05-0.2 early |
# | [`train/explained_variance`][] | how well the critic predicts returns | climbs from about 0 to 0.5-0.95 |
# | [`time/fps`][] | agent steps per second | stable |
#
# [`rollout/ep_rew_mean`]: ../docs/metrics.md#rolloutep_rew_mean
# [`train/entropy_loss`]: ../docs/metrics.md#trainentropy_loss
# [`train/approx_kl`]: ../docs/metrics.md#trainapprox_kl
# [`train/clip_fraction`]: ../docs/metrics.md#trainclip_fraction
# [`train/explained_variance`]: ../docs/metrics.md#trainexplained_variance
# [`time/fps`]: ../docs/metrics.md#timefps
#
# SB3 counts a sample in `clip_fraction` when its ratio left `[1 - eps, 1 + eps]` on either side,
# whatever the sign of its advantage. The gradient is cut only on the side the advantage
# pushes towards, so `clip_fraction` overstates how often the clip actually stopped a gradient.
#
# Plot any of them the same way, for example the policy's entropy:

# %%
x, y = notebook.curve(progress, "time/total_timesteps", "train/entropy_loss")
plt.figure(figsize=(6, 3))
plt.plot(x, [-v for v in y], "o-")
plt.xlabel("agent steps")
plt.ylabel("policy entropy (nats)")
plt.title(f"entropy; a uniform policy over 4 actions has ln 4 = {math.log(4):.2f}")
plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 7. TensorBoard and `simple-game report`
#
# The same metrics are in `tensorboard/` inside the run directory. TensorBoard is the tool
# to *watch* a long run live and to compare many runs, with smoothing and zoom. In a
# terminal, from the repository root:
#
# ```bash
# tensorboard --logdir runs            # every run; open http://localhost:6006
# tensorboard --logdir runs/notebooks  # only the runs these notebooks made
# ```
#
# (Inside Jupyter, `%load_ext tensorboard` then `%tensorboard --logdir runs` embeds it.)
#
# For a static picture, `simple-game report` draws `learning_curve.png` into each run
# directory from the same CSV files we just read:

# %%
import subprocess

from IPython.display import Image, display

subprocess.run(
    [sys.executable, "-m", "simple_game.report", "--runs-dir", str(RUNS), "--runs", run_dir.name, "--no-table"],
    check=True,
)
display(Image(filename=str(run_dir / "learning_curve.png"), width=600))

# %% [markdown]
# ## Try this
#
# - Train longer (`total_timesteps=1000000`) and watch `rollout/ep_rew_mean` in TensorBoard
#   while it runs.
# - Change one hyperparameter (`hyperparams.ent_coef=0.0`, or `hyperparams.n_epochs=1`) and
#   compare the curves. Remember [primer §13](../docs/rl_primer.md#13-seeds-and-variance):
#   one seed proves little.
# - Next: [03_compare_algorithms.ipynb](03_compare_algorithms.ipynb).
