# %% [markdown]
# # 5. A gameplay dataset with skill tiers
#
# Recorded gameplay is the raw material for behaviour cloning (learn to act from
# examples), offline RL and world models (learn to predict the next frame). For that it
# helps to have games played at **known skill levels**, from random to good.
#
# simple-game builds such a dataset in three steps
# ([docs/dataset.md](../docs/dataset.md)):
#
# 1. **Train** with skill-tier milestones: the first time the mean raw score of the last
#    `milestones.window` whole *training* games (played with the policy's own exploration,
#    not the evaluation protocol) reaches `milestones.thresholds[k-1]`, training saves
#    `checkpoints/skill_level_<k>.zip`. `configs/ppo_breakout_data.yaml` uses 50, 150 and
#    250 (and 8 stacked frames).
# 2. **Collect** (`python -m simple_game.collect --config configs/collect_breakout.yaml`):
#    tier 0 plays at random, tier k is `skill_level_k.zip`; each plays whole games under the
#    evaluation protocol, every episode from its own recorded seed. Frames are PNGs;
#    actions, rewards and lives go into JSON.
# 3. **Verify** (`python -m simple_game.collect verify DIR`): the emulator is
#    deterministic, so every episode is replayed from its seed and actions and every frame
#    is compared bit for bit.
#
# **Budget.** With `SIMPLE_GAME_QUICK=1` the training run is seconds long, the tier
# thresholds are tiny, and each tier records 2 short episodes. Otherwise training runs
# **1,000,000 steps** (1-3 hours on a laptop CPU) with thresholds 5, 15 and 30 (reaching
# the shipped 50/150/250 takes several million steps; tiers the run does not reach are
# left out), and each tier records 20 whole games.

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
# ## 1. Train, saving skill-tier checkpoints

# %%
if QUICK:
    THRESHOLDS, WINDOW = [0, 1], 1  # reached by the first game or two: shows the mechanism only
    BUDGET = [
        "total_timesteps=512",
        "env.n_envs=1",
        "hyperparams.n_steps=128",
        "hyperparams.batch_size=64",
        "hyperparams.n_epochs=1",
        "eval.freq=0",
        "checkpoint.freq=512",
    ]
    EPISODES, MAX_STEPS = 2, 120
else:
    THRESHOLDS, WINDOW = [5, 15, 30], 20
    BUDGET = [
        "total_timesteps=1000000",
        "eval.freq=100000",
        "eval.episodes=5",
        "checkpoint.freq=100000",
        "logging.console_interval_s=60",
    ]
    EPISODES, MAX_STEPS = 20, None  # whole games

milestones = [f"milestones.thresholds={THRESHOLDS}", f"milestones.window={WINDOW}"]
run_dir = notebook.train(
    "configs/ppo_breakout_data.yaml", "nb05_ppo_breakout_data", BUDGET + milestones, root=ROOT, runs=RUNS
)

# %%
from simple_game.checkpoints import read_checkpoint_metadata

skill_files = sorted((run_dir / "checkpoints").glob("skill_level_*.zip"))
for path in skill_files:
    meta = read_checkpoint_metadata(path)
    print(
        f"{path.name}: mean of the last {meta['window']} games {meta['rolling_mean_score']:.1f} "
        f">= {meta['threshold']:g}, reached at step {meta['step']:,}"
    )
if not skill_files:
    print("no tier reached yet: train longer, or lower the thresholds")

# %% [markdown]
# ## 2. Collect
#
# The collect config names the run (its `config.yaml` gives game, protocol and frame
# stack) and the tiers. We start from `configs/collect_breakout.yaml` and override, as on
# the command line:
#
# ```bash
# python -m simple_game.collect --config configs/collect_breakout.yaml \
#     --set run=runs/<run> --set output=data/breakout --set episodes=20 \
#     --set 'tiers=[{random: true}, {checkpoint: skill_level_1}]'
# ```
#
# The tiers are the random agent plus every skill level the run reached (the latest
# checkpoint if it reached none).

# %%
from simple_game.cli.collect import main as collect_main

tiers = ["{random: true}"] + [f"{{checkpoint: {p.stem}}}" for p in skill_files]
if not skill_files:
    tiers.append("{checkpoint: latest}")
data_dir = RUNS / f"dataset_{run_dir.name}"  # one dataset per run: collect resumes, never mixes
overrides = [f"run={run_dir}", f"output={data_dir}", f"episodes={EPISODES}", f"tiers=[{', '.join(tiers)}]"]
if MAX_STEPS:
    overrides.append(f"max_steps={MAX_STEPS}")
argv = ["--config", str(ROOT / "configs" / "collect_breakout.yaml")]
for item in overrides:
    argv += ["--set", item]
print("python -m simple_game.collect " + " ".join(argv))
assert collect_main(argv) == 0

# %% [markdown]
# ## 3. Verify
#
# Replays every episode from its seed and actions and compares every stored frame with
# the emulator's, bit for bit. Exit code 0 means the dataset is exactly reproducible.

# %%
assert collect_main(["verify", str(data_dir)]) == 0

# %% [markdown]
# ## 4. What is in it
#
# ```
# raw_gameplay/skill_level_<k>/episode_<NNN>/frame_<NNNNN>.png   84x84 grayscale frames
# actions/skill_level_<k>_actions.json                           actions, rewards, lives per episode
# manifest.json                                                  versions, protocol, tiers, split
# ```
#
# An episode with T actions has T + 1 frames: **frame t is what the agent saw when it chose
# action t**, and `rewards[t]` is what that action led to (it belongs with frame t + 1).

# %%
manifest = json.loads((data_dir / "manifest.json").read_text())
print("game:", manifest["game"], "| protocol:", manifest["protocol"])
for tier in manifest["tiers"]:
    score = tier["score"]
    print(
        f"{tier['name']:15s} {tier['episodes']} episodes, {tier['frames']:,} frames, "
        f"score mean {score['mean']}, min {score['min']}, max {score['max']}"
    )

tier_logs = {}
for path in sorted((data_dir / "actions").glob("*_actions.json")):
    tier_logs[path.name.removesuffix("_actions.json")] = json.loads(path.read_text())
first = next(iter(tier_logs.values()))["episodes"][0]
print("\nkeys of one episode record:", sorted(first))

# %% [markdown]
# Frames with the action chosen on each of them, for the first episode of each tier:

# %%
N_FRAMES, START = 8, 20
fig, axes = plt.subplots(len(tier_logs), N_FRAMES, figsize=(1.8 * N_FRAMES, 2.4 * len(tier_logs)), squeeze=False)
for row, (tier, log) in zip(axes, tier_logs.items(), strict=True):
    episode = log["episodes"][0]
    folder = data_dir / "raw_gameplay" / episode["episode_id"]
    start = max(0, min(START, episode["length"] - N_FRAMES))
    for ax, t in zip(row, range(start, start + N_FRAMES), strict=True):
        ax.axis("off")
        if t >= episode["length"]:
            continue
        ax.imshow(plt.imread(folder / f"frame_{t:05d}.png"), cmap="gray", vmin=0, vmax=1)
        reward = episode["rewards"][t]
        title = f"t={t} {episode['action_names'][t]}" + (f" (+{reward:g})" if reward else "")
        ax.set_title((f"{tier}\n" if ax is row[0] else "\n") + title, fontsize=8)
plt.suptitle("frame t and the action taken on it")
plt.tight_layout()
plt.show()

# %% [markdown]
# How each tier uses its actions. The random tier is uniform by construction; a trained
# agent develops preferences (in Breakout FIRE only matters to launch the ball, and nothing
# presses it for the agent after a lost life in evaluation, so compare how often each tier
# presses it).

# %%
meanings = next(iter(tier_logs.values()))["action_meanings"]
fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.8 / len(tier_logs)
for i, (tier, log) in enumerate(tier_logs.items()):
    actions = [a for ep in log["episodes"] for a in ep["actions"]]
    share = [actions.count(a) / max(len(actions), 1) for a in range(len(meanings))]
    ax.bar([a + i * width for a in range(len(meanings))], share, width=width, label=f"{tier} ({len(actions):,} steps)")
ax.set_xticks([a + 0.4 - width / 2 for a in range(len(meanings))], meanings)
ax.set_ylabel("share of actions")
ax.legend()
plt.show()

# %% [markdown]
# ## Where to go from here
#
# - The full recipe on real tiers: `configs/ppo_breakout_data.yaml` then
#   `configs/collect_breakout.yaml` ([docs/dataset.md](../docs/dataset.md)).
# - Behaviour cloning: train a classifier from `(frame stack, action)` pairs of one tier
#   (the `train` split) and evaluate it as an agent: does it reach its tier's score?
# - `rgb: true` stores the 210x160 colour screens instead, e.g. for world models.
