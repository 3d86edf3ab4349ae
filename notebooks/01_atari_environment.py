# %% [markdown]
# # 1. The Atari environment: what the agent sees and does
#
# Before training anything, look at the problem the agent has to solve. In reinforcement
# learning an **agent** repeatedly sees an **observation**, picks an **action**, and gets a
# **reward** back ([primer §1](../docs/rl_primer.md#1-the-problem-a-markov-decision-process)). Here the
# environment is an Atari 2600 game emulated by the Arcade Learning Environment (ALE).
#
# In this notebook:
#
# 1. the raw screen: a 210x160 colour image;
# 2. what the agent actually gets after the standard "DeepMind" preprocessing: 84x84 gray;
# 3. frame skip and max-pooling (why two frames are merged into one);
# 4. frame stacking (how a still image becomes motion);
# 5. the actions, and the two training-only tricks (life loss, reward clipping);
# 6. a random agent's score, measured with the evaluation protocol.
#
# Everything here is cheap: no training, a few seconds of emulation.

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

# %% [markdown]
# ## The experiment config
#
# Every experiment in simple-game is one YAML file. The `env:` part says which game and how
# it is preprocessed. We load the shipped Breakout PPO config and look at that part.

# %%
import matplotlib.pyplot as plt
import numpy as np

from simple_game.config import load_config

cfg = load_config(ROOT / "configs" / "ppo_breakout.yaml")
for key, value in cfg.env.model_dump().items():
    print(f"env.{key:24s} {value}")

# %% [markdown]
# ## 1. The raw screen
#
# The emulator's screen is a 210x160 RGB image (`uint8`, values 0-255). We open the game
# *without* any preprocessing (`frameskip=1`: one step is one emulator frame, 60 per second of
# game time) to see it exactly as the console draws it.

# %%
import gymnasium as gym

from simple_game.envs import ale_kwargs, gym_id, register_ale

register_ale()  # makes the "ALE/..." ids known to gymnasium
print("gymnasium id:", gym_id(cfg.env.game), " emulator settings:", ale_kwargs(cfg.env))
raw_env = gym.make(gym_id(cfg.env.game), **ale_kwargs(cfg.env))
raw_frame, info = raw_env.reset(seed=0)
print("raw observation:", raw_frame.shape, raw_frame.dtype, " info:", info)

plt.figure(figsize=(3, 4))
plt.imshow(raw_frame)
plt.title(f"raw frame {raw_frame.shape}")
plt.show()

# %% [markdown]
# ## 2. What the agent sees: 84x84 grayscale
#
# Colour rarely matters for playing, and 210x160x3 = 100,800 numbers per frame is a lot
# to push through a network millions of times. The DeepMind preprocessing
# ([primer §9](../docs/rl_primer.md#9-what-the-agent-sees-atari-preprocessing)) converts each frame to
# gray and shrinks it to 84x84 = 7,056 numbers. `envs.make_atari_env` builds one game with
# that preprocessing (SB3's `AtariWrapper`). `render_mode="rgb_array"` lets us grab the
# full-colour screen of the same moment for comparison.

# %%
from simple_game.envs import make_atari_env

env = make_atari_env(cfg.env, training=False, seed=0, render_mode="rgb_array")
obs, info = env.reset(seed=0)
for _ in range(10):  # a few steps so the ball is in play
    obs, reward, terminated, truncated, info = env.step(0)
colour = env.render()
print("agent observation:", obs.shape, obs.dtype, f"min {obs.min()} max {obs.max()}")
print("screen (render):  ", colour.shape)

fig, axes = plt.subplots(1, 2, figsize=(7, 4))
axes[0].imshow(colour)
axes[0].set_title(f"screen {colour.shape[0]}x{colour.shape[1]} RGB")
axes[1].imshow(obs[:, :, 0], cmap="gray")
axes[1].set_title(f"observation {obs.shape[0]}x{obs.shape[1]} gray")
plt.show()

# %% [markdown]
# ## 3. Frame skip and max-pooling
#
# **Frame skip.** The agent chooses an action every `env.frame_skip` = 4 emulator frames and
# the action is repeated in between: four times fewer decisions (and network evaluations)
# with hardly any loss of control. We can check it with the emulator's frame counter.

# %%
ale = env.unwrapped.ale
before = ale.getEpisodeFrameNumber()
env.step(0)
after = ale.getEpisodeFrameNumber()
print(f"one agent step advanced the emulator {after - before} frames (env.frame_skip = {cfg.env.frame_skip})")
env.close()

# %% [markdown]
# **Max-pooling.** The Atari had very little video memory, so many games draw some objects
# only on every other frame and rely on the TV's afterglow (flicker). If the agent saw only
# the last frame of each group of 4, those objects would sometimes be invisible. So the
# observation is the **pixel-wise maximum of the last two frames**.
#
# Space Invaders flickers a lot. Below we play 400 raw frames and pick the pair of
# consecutive frames where the most pixels are lit in one frame but dark in the other.

# %%
si_cfg = load_config(ROOT / "configs" / "ppo_breakout.yaml", overrides=["env.game=SpaceInvaders"])
si_env = gym.make(gym_id(si_cfg.env.game), **ale_kwargs(si_cfg.env))
previous, _ = si_env.reset(seed=0)
rng = np.random.default_rng(0)
best = (0, previous, previous)
for t in range(400):
    frame, *_ = si_env.step(int(rng.integers(si_env.action_space.n)))
    flicker = ((previous.max(axis=2) > 0) ^ (frame.max(axis=2) > 0)).sum()  # lit in exactly one
    if t > 60 and flicker > best[0]:
        best = (flicker, previous, frame)
    previous = frame
si_env.close()

n_pixels, frame_a, frame_b = best
pooled = np.maximum(frame_a, frame_b)
fig, axes = plt.subplots(1, 3, figsize=(10, 4.5))
titles = ("frame t-1", "frame t", "max(t-1, t): what is kept")
for ax, image, title in zip(axes, (frame_a, frame_b, pooled), titles, strict=True):
    ax.imshow(image)
    ax.set_title(title)
    ax.axis("off")
plt.suptitle(f"{n_pixels} pixels are lit in only one of the two frames")
plt.show()

# %% [markdown]
# Look at the bottom of the screen: the player's cannon and the lives counter are each
# drawn in only one of the two frames. The maximum shows both.
#
# ## 4. Frame stacking
#
# One still frame does not tell which way the ball is moving, so the agent could not know
# where to go: a single frame is not a Markov state. The fix is to give the agent the last
# `env.frame_stack` = 4 preprocessed frames at once, as 4 channels of one observation.
#
# Training uses *vector* environments (several games stepped together);
# `envs.make_vec_env` returns observations of shape `(n_envs, frame_stack, 84, 84)`.

# %%
from simple_game.envs import make_vec_env

vec_env = make_vec_env(cfg.env, training=False, seed=0, n_envs=1, backend="dummy")
stacked = vec_env.reset()
for _ in range(12):  # NOOP: the ball (launched by FIRE at reset) keeps moving
    stacked, rewards, dones, infos = vec_env.step(np.array([0]))
vec_env.close()
print("vector observation:", stacked.shape, "= (n_envs, frame_stack, height, width)")

frames = stacked[0]
fig, axes = plt.subplots(1, len(frames) + 1, figsize=(14, 3.5))
for i, ax in enumerate(axes[:-1]):
    ax.imshow(frames[i], cmap="gray")
    ax.set_title(f"channel {i}" + (" (oldest)" if i == 0 else " (newest)" if i == len(frames) - 1 else ""))
    ax.axis("off")
motion = np.abs(frames[-1].astype(int) - frames[0].astype(int))
axes[-1].imshow(motion, cmap="magma")
axes[-1].set_title("what moved: |newest - oldest|")
axes[-1].axis("off")
plt.show()

# %% [markdown]
# In the difference image only what moved lights up: the ball where it is now and where it
# was 3 agent steps (12 emulator frames) earlier. From the 4 channels together the network
# can read the ball's speed and direction; from one frame it could not.
#
# ## 5. Actions
#
# ALE gives each game its *minimal action set*: only the joystick moves that do something in
# that game. The policy network has one output per action.

# %%
from simple_game.envs import action_meanings

for game in ("Breakout", "Pong", "SpaceInvaders"):
    game_cfg = load_config(ROOT / "configs" / "ppo_breakout.yaml", overrides=[f"env.game={game}"])
    meanings = action_meanings(game_cfg.env)
    print(f"{game:14s} {len(meanings)} actions: {meanings}")

# %% [markdown]
# ### Training-only tricks: life loss and reward clipping
#
# With `training=True` two things change
# ([primer §10](../docs/rl_primer.md#10-training-only-tricks-reward-clipping-and-life-loss)):
# losing a life *ends the agent's episode* (it learns "losing a life is bad" much faster),
# and every reward becomes its sign (-1, 0, +1), so one set of hyperparameters suits games
# with very different score scales. The game itself goes on. Watch a random agent in a
# training env:

# %%
train_env = make_atari_env(cfg.env, training=True, seed=0)
obs, info = train_env.reset(seed=0)
ale = train_env.unwrapped.ale
print("lives at the start:", ale.lives())
rewards_seen, steps = set(), 0
while True:
    obs, reward, terminated, truncated, info = train_env.step(train_env.action_space.sample())
    rewards_seen.add(float(reward))
    steps += 1
    if terminated or truncated:
        break
print(f"the training episode ended after {steps} agent steps, with {ale.lives()} lives still left in the game")
print("rewards the agent saw (clipped):", sorted(rewards_seen))
train_env.close()

# %% [markdown]
# ## 6. A random agent, measured with the evaluation protocol
#
# How good is "no skill at all"? Evaluation ([primer §12](../docs/rl_primer.md#12-evaluation-the-number-you-report))
# plays **whole games** (all lives) with **raw, unclipped scores**, on a separate environment
# whose seeds are offset from training (`envs.make_eval_env`). The score per game is what
# SB3's `Monitor` reports in `info["episode"]["r"]` when a game ends.
#
# Reference points for Breakout: under this project's protocol a random agent scores about
# 1.1 ± 1.2 (30 games with `simple-game evaluate RUN --random`, docs/performance.md); the DQN
# paper (Mnih et al. 2015) reports 1.7 for random play and 31.8 for a human, measured under
# that paper's own protocol; a well-trained PPO or DQN agent scores several hundred. The cell
# below measures the random agent itself, with fewer games, so its mean is noisier.

# %%
from simple_game.envs import make_eval_env

N_GAMES = 3 if QUICK else 10
eval_env = make_eval_env(cfg.env, seed=0)
rng = np.random.default_rng(0)
scores, lengths = [], []
obs = eval_env.reset()
while len(scores) < N_GAMES:
    actions = rng.integers(eval_env.action_space.n, size=eval_env.num_envs)
    obs, rewards, dones, infos = eval_env.step(actions)
    for info in infos:
        if "episode" in info:  # a whole game just ended
            scores.append(info["episode"]["r"])
            lengths.append(info["episode"]["l"])
eval_env.close()

print(f"random agent on {cfg.env.game}: {np.mean(scores):.1f} ± {np.std(scores):.1f} over {len(scores)} games")
print(f"game lengths (agent steps): {lengths}")
plt.figure(figsize=(6, 3))
plt.bar(range(1, len(scores) + 1), scores)
plt.axhline(np.mean(scores), color="tab:orange", label=f"mean of these games ({np.mean(scores):.1f})")
if cfg.env.game == "Breakout":  # the project's measured value is for Breakout only
    plt.axhline(notebook.RANDOM_BREAKOUT_SCORE, color="gray", linestyle="--", label=notebook.RANDOM_BREAKOUT_LABEL)
plt.xlabel("game")
plt.ylabel("score")
plt.title("random agent, whole games, raw score")
plt.legend()
plt.show()

# %% [markdown]
# ## What's next
#
# - Try another game: change `env.game` above (`Pong`, `SpaceInvaders`, `MsPacman`, ...;
#   `simple-game roms --list` lists all of them).
# - Try `env.protocol=modern` (sticky actions,
#   [primer §11](../docs/rl_primer.md#11-sticky-actions-and-the-two-protocols)).
# - Next notebook: [02_train_ppo.ipynb](02_train_ppo.ipynb) trains an agent to beat the
#   random score you just measured.
