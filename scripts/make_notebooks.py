"""Write the teaching notebooks in notebooks/ from the Python source below.

    python scripts/make_notebooks.py            # (re)write notebooks/*.ipynb
    python scripts/make_notebooks.py --check    # exit 1 if a stored notebook differs from this file

The notebooks are generated so that they can be reviewed (and diffed) as plain Python, and so
that they are always stored without outputs. Edit this file, not the .ipynb files, then run it.
Cell ids are deterministic, so regenerating an unchanged notebook changes nothing on disk.

Conventions shared by every notebook (see SETUP below):

- it finds the repository root by walking up from the current directory to pyproject.toml, so
  it runs from notebooks/ (Jupyter's default) or from the repository root;
- ``SIMPLE_GAME_QUICK=1`` shrinks every budget so the whole notebook runs in well under a
  minute on a CPU (used by tests/test_notebooks.py); without it the budgets are meaningful;
- runs go to ``$SIMPLE_GAME_RUNS_DIR`` if set, else ``runs/notebooks/`` (ignored by git), and
  training is given its own ``--experiments-md`` there, so the repository's experiments.md is
  never touched by a notebook.
"""

from __future__ import annotations

import argparse
import ast
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

PRIMER = "../docs/rl_primer.md"
METRICS = "../docs/metrics.md"


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str):
    source = textwrap.dedent(text).strip("\n")
    ast.parse(source)  # a syntax error here fails generation, not a learner's session
    return new_code_cell(source)


SETUP = code(
    """
    # Setup: find the repository root (this works from notebooks/ or from the repository root),
    # read the quick-mode switch, and choose where this notebook writes its runs.
    import os
    import sys
    from pathlib import Path

    ROOT = Path.cwd().resolve()
    while not (ROOT / "pyproject.toml").is_file():
        if ROOT == ROOT.parent:
            raise RuntimeError("start Jupyter inside the simple-game repository (no pyproject.toml above this directory)")
        ROOT = ROOT.parent
    try:
        import simple_game
    except ImportError:  # not pip-installed: use the source tree (and tell subprocesses too)
        sys.path.insert(0, str(ROOT / "src"))
        os.environ["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
        import simple_game

    # SIMPLE_GAME_QUICK=1: tiny budgets, the whole notebook runs in well under a minute (tests use it).
    QUICK = os.environ.get("SIMPLE_GAME_QUICK", "0").strip().lower() not in ("", "0", "false", "no")
    # Runs go to $SIMPLE_GAME_RUNS_DIR, else runs/notebooks/ (git ignores runs/).
    RUNS = Path(os.environ.get("SIMPLE_GAME_RUNS_DIR") or ROOT / "runs" / "notebooks").resolve()
    RUNS.mkdir(parents=True, exist_ok=True)
    print(f"repository : {ROOT}")
    print(f"runs go to : {RUNS}")
    print(f"quick mode : {QUICK}   (set SIMPLE_GAME_QUICK=1 for a fast smoke run)")
    """
)

# Shared by the notebooks that train: run `simple_game.train` in this kernel and find its run.
TRAIN_HELPERS = code(
    '''
    import csv
    import json
    import math

    import matplotlib.pyplot as plt

    from simple_game.cli.train import main as train_main


    def train(config, name, overrides):
        """Run `python -m simple_game.train` in this kernel and return the new run directory."""
        argv = [
            "--config", str(ROOT / config),
            "--name", name,
            "--runs-dir", str(RUNS),
            "--experiments-md", str(RUNS / "experiments.md"),  # keep the repository's log clean
            "--no-progress",
        ]
        for item in overrides:
            argv += ["--set", item]
        shown = [config, "--name", name] + [f"--set {item}" for item in overrides]
        print("python -m simple_game.train --config " + " ".join(shown))
        before = set(RUNS.glob(name + "_*"))
        exit_code = train_main(argv)
        if exit_code != 0:
            raise RuntimeError(f"training failed with exit code {exit_code} (see the message above)")
        (run_dir,) = set(RUNS.glob(name + "_*")) - before
        return run_dir


    def read_csv(path):
        """A CSV of numbers as {column: [floats]}; empty cells (keys not logged in that row) become NaN."""
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        columns = {key: [] for key in (rows[0].keys() if rows else [])}
        for row in rows:
            for key in columns:
                try:
                    columns[key].append(float(row[key]))
                except (TypeError, ValueError):
                    columns[key].append(math.nan)
        return columns


    def curve(columns, x, y):
        """The (x, y) points of one metric, skipping rows where it was not logged."""
        if x not in columns or y not in columns:
            return [], []
        points = [(a, b) for a, b in zip(columns[x], columns[y]) if not (math.isnan(a) or math.isnan(b))]
        return [a for a, _ in points], [b for _, b in points]
    '''
)


# ------------------------------------------------------------------------------------------
# 01: the Atari environment
# ------------------------------------------------------------------------------------------

NB01 = [
    md(
        f"""
        # 1. The Atari environment: what the agent sees and does

        Before training anything, look at the problem the agent has to solve. In reinforcement
        learning an **agent** repeatedly sees an **observation**, picks an **action**, and gets a
        **reward** back ([primer §1]({PRIMER}#1-the-problem-a-markov-decision-process)). Here the
        environment is an Atari 2600 game emulated by the Arcade Learning Environment (ALE).

        In this notebook:

        1. the raw screen: a 210x160 colour image;
        2. what the agent actually gets after the standard "DeepMind" preprocessing: 84x84 gray;
        3. frame skip and max-pooling (why two frames are merged into one);
        4. frame stacking (how a still image becomes motion);
        5. the actions, and the two training-only tricks (life loss, reward clipping);
        6. a random agent's score, measured with the evaluation protocol.

        Everything here is cheap: no training, a few seconds of emulation.
        """
    ),
    SETUP,
    md(
        """
        ## The experiment config

        Every experiment in simple-game is one YAML file. The `env:` part says which game and how
        it is preprocessed. We load the shipped Breakout PPO config and look at that part.
        """
    ),
    code(
        """
        import numpy as np
        import matplotlib.pyplot as plt

        from simple_game.config import load_config

        cfg = load_config(ROOT / "configs" / "ppo_breakout.yaml")
        for key, value in cfg.env.model_dump().items():
            print(f"env.{key:24s} {value}")
        """
    ),
    md(
        """
        ## 1. The raw screen

        The emulator's screen is a 210x160 RGB image (`uint8`, values 0-255). We open the game
        *without* any preprocessing (`frameskip=1`: one step is one emulator frame, 60 per second of
        game time) to see it exactly as the console draws it.
        """
    ),
    code(
        """
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
        """
    ),
    md(
        f"""
        ## 2. What the agent sees: 84x84 grayscale

        Colour rarely matters for playing, and 210x160x3 = 100,800 numbers per frame is a lot
        to push through a network millions of times. The DeepMind preprocessing
        ([primer §9]({PRIMER}#9-what-the-agent-sees-atari-preprocessing)) converts each frame to
        gray and shrinks it to 84x84 = 7,056 numbers. `envs.make_atari_env` builds one game with
        that preprocessing (SB3's `AtariWrapper`). `render_mode="rgb_array"` lets us grab the
        full-colour screen of the same moment for comparison.
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        ## 3. Frame skip and max-pooling

        **Frame skip.** The agent chooses an action every `env.frame_skip` = 4 emulator frames and
        the action is repeated in between: four times fewer decisions (and network evaluations)
        with hardly any loss of control. We can check it with the emulator's frame counter.
        """
    ),
    code(
        """
        ale = env.unwrapped.ale
        before = ale.getEpisodeFrameNumber()
        env.step(0)
        after = ale.getEpisodeFrameNumber()
        print(f"one agent step advanced the emulator {after - before} frames (env.frame_skip = {cfg.env.frame_skip})")
        env.close()
        """
    ),
    md(
        """
        **Max-pooling.** The Atari had very little video memory, so many games draw some objects
        only on every other frame and rely on the TV's afterglow (flicker). If the agent saw only
        the last frame of each group of 4, those objects would sometimes be invisible. So the
        observation is the **pixel-wise maximum of the last two frames**.

        Space Invaders flickers a lot. Below we play 400 raw frames and pick the pair of
        consecutive frames where the most pixels are lit in one frame but dark in the other.
        """
    ),
    code(
        """
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
        for ax, image, title in zip(axes, (frame_a, frame_b, pooled), ("frame t-1", "frame t", "max(t-1, t): what is kept")):
            ax.imshow(image)
            ax.set_title(title)
            ax.axis("off")
        plt.suptitle(f"{n_pixels} pixels are lit in only one of the two frames")
        plt.show()
        """
    ),
    md(
        """
        Look at the bottom of the screen: the player's cannon and the lives counter are each
        drawn in only one of the two frames. The maximum shows both.

        ## 4. Frame stacking

        One still frame does not tell which way the ball is moving, so the agent could not know
        where to go: a single frame is not a Markov state. The fix is to give the agent the last
        `env.frame_stack` = 4 preprocessed frames at once, as 4 channels of one observation.

        Training uses *vector* environments (several games stepped together);
        `envs.make_vec_env` returns observations of shape `(n_envs, frame_stack, 84, 84)`.
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        In the difference image only what moved lights up: the ball where it is now and where it
        was 3 agent steps (12 emulator frames) earlier. From the 4 channels together the network
        can read the ball's speed and direction; from one frame it could not.

        ## 5. Actions

        ALE gives each game its *minimal action set*: only the joystick moves that do something in
        that game. The policy network has one output per action.
        """
    ),
    code(
        """
        from simple_game.envs import action_meanings

        for game in ("Breakout", "Pong", "SpaceInvaders"):
            game_cfg = load_config(ROOT / "configs" / "ppo_breakout.yaml", overrides=[f"env.game={game}"])
            meanings = action_meanings(game_cfg.env)
            print(f"{game:14s} {len(meanings)} actions: {meanings}")
        """
    ),
    md(
        f"""
        ### Training-only tricks: life loss and reward clipping

        With `training=True` two things change
        ([primer §10]({PRIMER}#10-training-only-tricks-reward-clipping-and-life-loss)):
        losing a life *ends the agent's episode* (it learns "losing a life is bad" much faster),
        and every reward becomes its sign (-1, 0, +1), so one set of hyperparameters suits games
        with very different score scales. The game itself goes on. Watch a random agent in a
        training env:
        """
    ),
    code(
        """
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
        """
    ),
    md(
        f"""
        ## 6. A random agent, measured with the evaluation protocol

        How good is "no skill at all"? Evaluation ([primer §12]({PRIMER}#12-evaluation-the-number-you-report))
        plays **whole games** (all lives) with **raw, unclipped scores**, on a separate environment
        whose seeds are offset from training (`envs.make_eval_env`). The score per game is what
        SB3's `Monitor` reports in `info["episode"]["r"]` when a game ends.

        Published reference points for Breakout: random play about 1.7, a human about 30, a
        well-trained PPO or DQN agent several hundred.
        """
    ),
    code(
        """
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
        plt.axhline(np.mean(scores), color="tab:orange", label="mean")
        plt.xlabel("game")
        plt.ylabel("score")
        plt.title("random agent, whole games, raw score")
        plt.legend()
        plt.show()
        """
    ),
    md(
        """
        ## What's next

        - Try another game: change `env.game` above (`Pong`, `SpaceInvaders`, `MsPacman`, ...;
          `simple-game roms --list` lists all of them).
        - Try `env.protocol=modern` (sticky actions, [primer §11](../docs/rl_primer.md#11-sticky-actions-and-the-two-protocols)).
        - Next notebook: [02_train_ppo.ipynb](02_train_ppo.ipynb) trains an agent to beat the
          random score you just measured.
        """
    ),
]


# ------------------------------------------------------------------------------------------
# 02: train PPO
# ------------------------------------------------------------------------------------------

NB02 = [
    md(
        f"""
        # 2. Train PPO on Breakout, and read what it logs

        **PPO** ([primer §7]({PRIMER}#ppo-and-its-clipped-objective)) is the default choice for Atari
        on a CPU. It plays `n_envs` games in parallel for `n_steps` steps (a *rollout*), computes
        for every step how much better than expected the action turned out (the *advantage*,
        [primer §5]({PRIMER}#5-advantage-and-gae)), makes those actions more likely with a few
        careful gradient steps, throws the rollout away, and repeats.

        In this notebook:

        1. train PPO from `configs/ppo_breakout.yaml` with a small budget, using `--set` overrides;
        2. look at the run directory it creates;
        3. read `progress.csv` and `eval.csv` with nothing but the `csv` module and plot the
           learning curve;
        4. learn what the logged metrics mean, and where TensorBoard fits.

        **Budget.** With `SIMPLE_GAME_QUICK=1` training is a few hundred steps (seconds: it
        learns nothing, it only shows the mechanics). Otherwise it is **300,000 steps**: 15-60
        minutes on a laptop CPU (a busy 2-core machine does about 100 steps per second, a recent
        laptop several hundred). That is enough to climb above the random agent's ~1.7 points
        (a 250,000-step run of this config scored about 6), and far from the several hundred
        that PPO reaches after the config's full 10 million steps (hours on a GPU, a day or
        more on a CPU).
        """
    ),
    SETUP,
    TRAIN_HELPERS,
    md(
        """
        ## 1. The config and the overrides

        `configs/ppo_breakout.yaml` holds the RL Baselines3 Zoo's tuned Atari hyperparameters and
        10M steps. We keep everything and override only the budget with `--set key.path=value`,
        exactly as on the command line:

        ```bash
        python -m simple_game.train --config configs/ppo_breakout.yaml --set total_timesteps=300000 --set eval.freq=50000
        ```
        """
    ),
    code(
        """
        from simple_game.config import dump_config, load_config

        if QUICK:  # seconds: shows the mechanics, learns nothing
            BUDGET = [
                "total_timesteps=256", "env.n_envs=2", "hyperparams.n_steps=64", "hyperparams.batch_size=64",
                "hyperparams.n_epochs=1", "eval.freq=128", "eval.episodes=1", "checkpoint.freq=128",
            ]
        else:  # 300k steps: about 15-60 minutes on a laptop CPU
            BUDGET = ["total_timesteps=300000", "eval.freq=50000", "eval.episodes=5", "checkpoint.freq=100000"]
        OVERRIDES = BUDGET + ["logging.console_interval_s=30"]

        cfg = load_config(ROOT / "configs" / "ppo_breakout.yaml", overrides=OVERRIDES)
        print(dump_config(cfg))
        """
    ),
    md(
        """
        Things to notice in the resolved config: `n_envs` x `n_steps` is the rollout size (steps
        collected per update); `learning_rate: lin_2.5e-4` decays linearly to 0 over training;
        `clip_range` is PPO's trust region; `eval:` says how often and how many whole games are
        played to measure the agent.

        ## 2. Train

        `simple_game.train.main` is exactly the command-line tool; we call it in this kernel. The
        console prints a row every `logging.console_interval_s` seconds and one line per
        evaluation.
        """
    ),
    code(
        """
        run_dir = train("configs/ppo_breakout.yaml", "nb02_ppo_breakout", OVERRIDES)
        print("\\nrun directory:", run_dir)
        for path in sorted(run_dir.rglob("*")):
            if path.is_file():
                print(f"  {str(path.relative_to(run_dir)):55s} {path.stat().st_size:>10,} bytes")
        """
    ),
    md(
        """
        ## 3. The run directory

        | file | what |
        | --- | --- |
        | `config.yaml` | the fully resolved config that ran: rerun it with `--config runs/.../config.yaml` |
        | `summary.json` | what ran, how long, final and best evaluation |
        | `progress.csv` | every metric SB3 logged, one row per log dump |
        | `eval.csv` | one row per evaluation: whole games, raw scores |
        | `tensorboard/` | the same metrics for TensorBoard |
        | `checkpoints/` | `step_<N>.zip`, `best.zip` (best evaluation), `latest` (names the newest) |
        """
    ),
    code(
        """
        summary = json.loads((run_dir / "summary.json").read_text())
        for key in ("algo", "game", "steps_done", "wall_time_s", "fps", "final_eval_mean", "best_eval_mean", "status"):
            print(f"{key:16s} {summary.get(key)}")
        """
    ),
    md(
        """
        ## 4. Reading the logs with the `csv` module

        `progress.csv` has one column per metric. Not every metric is logged at every dump (the
        evaluation dumps its own rows, for example), so **empty cells are normal**: `read_csv`
        above turns them into NaN and `curve` skips them.
        """
    ),
    code(
        """
        progress = read_csv(run_dir / "progress.csv")
        evals = read_csv(run_dir / "eval.csv")
        print(f"progress.csv: {len(progress.get('time/total_timesteps', []))} rows")
        for key in sorted(progress):
            logged = [v for v in progress[key] if not math.isnan(v)]
            last = f"{logged[-1]:.4g}" if logged else "-"
            print(f"  {key:30s} logged {len(logged):3d} times, last value {last}")
        print("\\neval.csv:")
        for i, step in enumerate(evals["timesteps"]):
            print(f"  step {step:>9,.0f}: score {evals['mean_score'][i]:.1f} ± {evals['std_score'][i]:.1f} over {evals['n_episodes'][i]:.0f} games")
        """
    ),
    md(
        f"""
        ## 5. The learning curve

        Two different scores ([primer §12]({PRIMER}#12-evaluation-the-number-you-report)):

        - **training score** `rollout/ep_rew_mean`: mean raw score of the last 100 games played
          *while training*, by many past versions of the policy, with exploration. Cheap and
          smooth, but not a fair measure.
        - **evaluation score** (`eval.csv`): the current policy plays `eval.episodes` whole games
          on a separate environment. This is the number you report; the band is ± one standard
          deviation over those games.

        In quick mode there are only a couple of points and no learning: the shape only becomes
        interesting with the full budget.
        """
    ),
    code(
        """
        train_x, train_y = curve(progress, "time/total_timesteps", "rollout/ep_rew_mean")
        eval_x, eval_y = curve(evals, "timesteps", "mean_score")
        _, eval_std = curve(evals, "timesteps", "std_score")

        plt.figure(figsize=(8, 4))
        if train_x:
            plt.plot(train_x, train_y, ".-", color="tab:blue", label="training score (rollout/ep_rew_mean)")
        else:
            print("no training game finished yet, so there is no rollout/ep_rew_mean to plot")
        plt.plot(eval_x, eval_y, "o-", color="tab:orange", label="evaluation score (mean ± std)")
        plt.fill_between(eval_x, [m - s for m, s in zip(eval_y, eval_std)], [m + s for m, s in zip(eval_y, eval_std)],
                         color="tab:orange", alpha=0.2)
        plt.axhline(1.7, color="gray", linestyle="--", label="random agent (about 1.7)")
        plt.xlabel("environment steps")
        plt.ylabel("score per game")
        plt.title(f"PPO on {summary['game']}, {summary['steps_done']:,} steps")
        plt.grid(alpha=0.3)
        plt.legend()
        plt.show()
        """
    ),
    md(
        f"""
        ## 6. What the other metrics mean

        Every key is explained in [docs/metrics.md]({METRICS}). The ones to watch first for PPO:

        | metric | what it tells you | healthy |
        | --- | --- | --- |
        | [`rollout/ep_rew_mean`]({METRICS}#rolloutep_rew_mean) | training score (raw game score) | goes up |
        | [`train/entropy_loss`]({METRICS}#trainentropy_loss) | minus the policy's randomness | starts near -ln 4 = -1.39 (Breakout) and rises slowly |
        | [`train/approx_kl`]({METRICS}#trainapprox_kl) | how far one update moved the policy | about 0.005-0.03 |
        | [`train/clip_fraction`]({METRICS}#trainclip_fraction) | share of samples where PPO's clip was active | roughly 0.05-0.2 early on |
        | [`train/explained_variance`]({METRICS}#trainexplained_variance) | how well the critic predicts returns | climbs from about 0 to 0.5-0.95 |
        | [`time/fps`]({METRICS}#timefps) | agent steps per second | stable |

        Plot any of them the same way, for example the policy's entropy:
        """
    ),
    code(
        """
        x, y = curve(progress, "time/total_timesteps", "train/entropy_loss")
        plt.figure(figsize=(6, 3))
        plt.plot(x, [-v for v in y], "o-")
        plt.xlabel("environment steps")
        plt.ylabel("policy entropy (nats)")
        plt.title(f"entropy; a uniform policy over 4 actions has ln 4 = {math.log(4):.2f}")
        plt.grid(alpha=0.3)
        plt.show()
        """
    ),
    md(
        """
        ## 7. TensorBoard and `simple-game report`

        The same metrics are in `tensorboard/` inside the run directory. TensorBoard is the tool
        to *watch* a long run live and to compare many runs, with smoothing and zoom. In a
        terminal, from the repository root:

        ```bash
        tensorboard --logdir runs            # every run; open http://localhost:6006
        tensorboard --logdir runs/notebooks  # only the runs these notebooks made
        ```

        (Inside Jupyter, `%load_ext tensorboard` then `%tensorboard --logdir runs` embeds it.)

        For a static picture, `simple-game report` draws `learning_curve.png` into each run
        directory from the same CSV files we just read:
        """
    ),
    code(
        """
        import subprocess

        from IPython.display import Image, display

        subprocess.run(
            [sys.executable, "-m", "simple_game.report", "--runs-dir", str(RUNS), "--runs", run_dir.name, "--no-table"],
            check=True,
        )
        display(Image(filename=str(run_dir / "learning_curve.png"), width=600))
        """
    ),
    md(
        """
        ## Try this

        - Train longer (`total_timesteps=1000000`) and watch `rollout/ep_rew_mean` in TensorBoard
          while it runs.
        - Change one hyperparameter (`hyperparams.ent_coef=0.0`, or `hyperparams.n_epochs=1`) and
          compare the curves. Remember [primer §13](../docs/rl_primer.md#13-seeds-and-variance):
          one seed proves little.
        - Next: [03_compare_algorithms.ipynb](03_compare_algorithms.ipynb).
        """
    ),
]


# ------------------------------------------------------------------------------------------
# 03: compare algorithms
# ------------------------------------------------------------------------------------------

NB03 = [
    md(
        f"""
        # 3. PPO vs A2C vs DQN

        The three algorithms learn from the same game in very different ways
        ([primer §6]({PRIMER}#6-on-policy-and-off-policy)):

        | | PPO | A2C | DQN |
        | --- | --- | --- | --- |
        | learns | a policy + a value critic | a policy + a value critic | action values `Q(s, a)` |
        | data | **on-policy**: a rollout from the current policy, used for a few epochs, then discarded | **on-policy**: a tiny rollout (5 steps x 16 games), one gradient step, discarded | **off-policy**: every transition goes into a **replay buffer** and is sampled many times |
        | explores by | sampling from its policy (+ entropy bonus) | sampling from its policy (+ entropy bonus) | **epsilon-greedy**: random action with probability epsilon, annealed from 1 to 0.01 |
        | stabilised by | the clipped objective | small steps (RMSprop) | a **target network** refreshed every 1,000 steps |
        | parallel games | 8 | 16 | 1 |

        More in the primer: [PPO]({PRIMER}#ppo-and-its-clipped-objective),
        [A2C]({PRIMER}#a2c), [DQN: replay buffer and target network]({PRIMER}#dqn-replay-buffer-and-target-network),
        [epsilon-greedy]({PRIMER}#epsilon-greedy-exploration).

        We train all three on Breakout with **the same number of environment steps** and
        compare. **Budget.** With `SIMPLE_GAME_QUICK=1` each run is a few hundred steps (seconds,
        nothing is learned). Otherwise each run is **200,000 steps**: roughly 10-40 minutes each
        for PPO and A2C on a laptop CPU and longer for DQN (one gradient step every 4
        environment steps), 1-2 hours for all three.
        """
    ),
    SETUP,
    TRAIN_HELPERS,
    md(
        """
        ## The three configs, with the same budget

        Each algorithm keeps its own tuned hyperparameters from `configs/<algo>_breakout.yaml`;
        only the budget is shared. DQN needs two more overrides for a short run:

        - `learning_starts` is 100,000 in the shipped config: that many steps of pure random play
          fill the replay buffer before the first update. With a small budget it must be smaller.
        - `buffer_size`: 100,000 transitions of 4x84x84 bytes, stored as observation *and* next
          observation, is about 5.6 GB of RAM. We use a smaller buffer.
        """
    ),
    code(
        """
        if QUICK:  # seconds per run: shows the mechanics, learns nothing
            STEPS = 256
            SHARED = [f"total_timesteps={STEPS}", "eval.freq=128", "eval.episodes=1", "checkpoint.freq=256"]
            PER_ALGO = {
                "ppo": ["env.n_envs=2", "hyperparams.n_steps=64", "hyperparams.batch_size=64", "hyperparams.n_epochs=1"],
                "a2c": ["env.n_envs=2"],
                "dqn": ["hyperparams.buffer_size=1000", "hyperparams.learning_starts=64", "hyperparams.target_update_interval=64",
                        "hyperparams.exploration_fraction=0.5", "logging.log_interval=1"],
            }
        else:  # 200k steps per run
            STEPS = 200_000
            SHARED = [f"total_timesteps={STEPS}", "eval.freq=25000", "eval.episodes=5", "checkpoint.freq=100000"]
            PER_ALGO = {
                "ppo": [],
                "a2c": [],
                "dqn": ["hyperparams.buffer_size=50000",      # about 2.8 GB of RAM
                        "hyperparams.learning_starts=10000",  # start learning after 5% of the budget
                        "hyperparams.exploration_fraction=0.1"],
            }
        SHARED.append("logging.console_interval_s=30")
        """
    ),
    md(
        """
        ## Train

        Each run prints its console table; the last line of each is the final evaluation.
        """
    ),
    code(
        """
        runs = {}
        for algo in ("ppo", "a2c", "dqn"):
            print(f"\\n========== {algo.upper()} ==========")
            runs[algo] = train(f"configs/{algo}_breakout.yaml", f"nb03_{algo}_breakout", SHARED + PER_ALGO[algo])
        """
    ),
    md(
        """
        ## Compare: score against environment steps

        Left: the evaluation score (whole games, raw score; the number that counts). Right: the
        training score `rollout/ep_rew_mean`. Same x-axis for all: **environment steps**, the fair
        unit when emulator time is what you pay for.
        """
    ),
    code(
        """
        COLORS = {"ppo": "tab:blue", "a2c": "tab:green", "dqn": "tab:red"}
        fig, (ax_eval, ax_train) = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
        for algo, run_dir in runs.items():
            evals = read_csv(run_dir / "eval.csv")
            x, y = curve(evals, "timesteps", "mean_score")
            _, std = curve(evals, "timesteps", "std_score")
            ax_eval.plot(x, y, "o-", color=COLORS[algo], label=algo.upper())
            ax_eval.fill_between(x, [m - s for m, s in zip(y, std)], [m + s for m, s in zip(y, std)], color=COLORS[algo], alpha=0.15)
            x, y = curve(read_csv(run_dir / "progress.csv"), "time/total_timesteps", "rollout/ep_rew_mean")
            ax_train.plot(x, y, ".-", color=COLORS[algo], label=algo.upper())
        for ax, title in ((ax_eval, "evaluation score (mean ± std)"), (ax_train, "training score (rollout/ep_rew_mean)")):
            ax.axhline(1.7, color="gray", linestyle="--", linewidth=1)
            ax.set_title(title)
            ax.set_xlabel("environment steps")
            ax.grid(alpha=0.3)
            ax.legend()
        ax_eval.set_ylabel("score per game (dashed: random agent)")
        plt.suptitle(f"Breakout, {STEPS:,} steps per algorithm, one seed each")
        plt.tight_layout()
        plt.show()
        """
    ),
    md(
        """
        ## Compare: cost

        The same number of environment steps does not cost the same wall-clock time. `fps` in
        `summary.json` is agent steps per second over the whole run (evaluation included).
        """
    ),
    code(
        """
        print(f"{'algo':6s} {'steps':>9s} {'wall time':>10s} {'fps':>8s} {'final eval':>12s} {'best eval':>10s}")
        for algo, run_dir in runs.items():
            s = json.loads((run_dir / "summary.json").read_text())
            final = f"{s['final_eval_mean']:.1f} ± {s['final_eval_std']:.1f}" if s.get("final_eval_mean") is not None else "-"
            best = f"{s['best_eval_mean']:.1f}" if s.get("best_eval_mean") is not None else "-"
            print(f"{algo:6s} {s['steps_done']:>9,} {s['wall_time_s']:>9.0f}s {s['fps']:>8.0f} {final:>12s} {best:>10s}")
        """
    ),
    md(
        f"""
        ## DQN's exploration schedule

        DQN explores with epsilon-greedy: epsilon goes linearly from 1.0 to
        `exploration_final_eps` over the first `exploration_fraction` of the budget, then stays
        there. It is logged as [`rollout/exploration_rate`]({METRICS}#rolloutexploration_rate).
        While epsilon is high the agent plays mostly at random, whatever its Q-values say: an
        early DQN curve is flat by design.
        """
    ),
    code(
        """
        from simple_game.config import load_config

        dqn_cfg = load_config(ROOT / "configs" / "dqn_breakout.yaml", overrides=SHARED + PER_ALGO["dqn"])
        hp = dqn_cfg.hyperparams
        fraction, final_eps = hp["exploration_fraction"], hp["exploration_final_eps"]
        steps = [i * STEPS / 200 for i in range(201)]
        eps = [max(final_eps, 1.0 - (1.0 - final_eps) * s / (fraction * STEPS)) for s in steps]

        plt.figure(figsize=(7, 3.5))
        plt.plot(steps, eps, label=f"schedule: 1.0 -> {final_eps} over the first {fraction:.0%}")
        x, y = curve(read_csv(runs["dqn"] / "progress.csv"), "time/total_timesteps", "rollout/exploration_rate")
        plt.plot(x, y, "o", color="tab:red", label="logged rollout/exploration_rate")
        plt.axvline(hp["learning_starts"], color="gray", linestyle=":", label=f"learning_starts = {hp['learning_starts']:,}")
        plt.xlabel("environment steps")
        plt.ylabel("epsilon")
        plt.grid(alpha=0.3)
        plt.legend()
        plt.show()
        """
    ),
    md(
        f"""
        ## How to read the comparison (carefully)

        - **One seed each proves nothing.** Runs differing only in their seed can differ a lot
          ([primer §13]({PRIMER}#13-seeds-and-variance)). To really compare, run 3-5 seeds each
          (`--set seed=1`, ...) and use `python -m simple_game.report --runs 'nb03_ppo*'`, which
          draws the median and interquartile range over seeds.
        - **Short budgets favour fast starters.** DQN's shipped settings are made for 10M steps;
          at 200k steps it has barely finished exploring. PPO usually wins early on Atari with a
          CPU; by 10M steps DQN-family methods (see `configs/qrdqn_breakout.yaml`) catch up.
        - **Steps are not time.** Compare the `fps` column: on a CPU, sample efficiency and wall
          clock can point in different directions.

        Try this: add QR-DQN (`configs/qrdqn_breakout.yaml`, the same DQN overrides) to the loop.

        Next: [04_evaluate_and_watch.ipynb](04_evaluate_and_watch.ipynb).
        """
    ),
]


# ------------------------------------------------------------------------------------------
# 04: evaluate and watch
# ------------------------------------------------------------------------------------------

NB04 = [
    md(
        f"""
        # 4. Evaluate an agent, and watch it play

        The training curve is not the agent's score
        ([primer §12]({PRIMER}#12-evaluation-the-number-you-report)). While training:

        - an episode ends when a **life** is lost, and rewards are **clipped** to -1/0/+1;
        - the policy **explores** (PPO/A2C sample their actions, DQN acts at random with
          probability epsilon);
        - `rollout/ep_rew_mean` averages games played by *many past versions* of the policy.

        **Evaluation** asks one question: how well does *this* checkpoint play the real game?
        It plays **whole games** (all lives) with **raw scores**, on environments seeded apart
        from training, with a fixed rule for choosing actions. `python -m simple_game.evaluate`
        uses the DQN-paper rule: the policy's most likely action, replaced by a random one 5% of
        the time (epsilon 0.05). That bit of randomness stops a greedy agent from, say, never
        pressing FIRE again after losing a life and standing still until the 30-minute frame cap.

        In this notebook: get a trained run, evaluate it against a random agent under the same
        protocol, and record a video of it playing.

        **Budget.** With `SIMPLE_GAME_QUICK=1`: a few-second training run, 2 games per
        evaluation and a 10-second clip. Otherwise the newest run of notebook 2 is used (or a
        300,000-step PPO run is trained, 15-60 minutes on a laptop CPU), with 10 games per
        evaluation and one whole game on video.
        """
    ),
    SETUP,
    TRAIN_HELPERS,
    md(
        """
        ## 1. A run to evaluate

        We reuse the most recent run of notebook 2 when there is one in the runs directory.
        Otherwise we train one here.
        """
    ),
    code(
        """
        previous = sorted(RUNS.glob("nb02_ppo_breakout_*/summary.json"))
        previous = [p.parent for p in previous if json.loads(p.read_text()).get("status") == "finished"]
        if previous and not QUICK:
            run_dir = previous[-1]
            print("using the run from notebook 2:", run_dir)
        elif QUICK:
            run_dir = train("configs/ppo_breakout.yaml", "nb04_ppo_breakout", [
                "total_timesteps=256", "env.n_envs=2", "hyperparams.n_steps=64", "hyperparams.batch_size=64",
                "hyperparams.n_epochs=1", "eval.freq=256", "eval.episodes=1", "checkpoint.freq=256",
            ])
        else:
            run_dir = train("configs/ppo_breakout.yaml", "nb04_ppo_breakout", [
                "total_timesteps=300000", "eval.freq=50000", "eval.episodes=5", "checkpoint.freq=100000",
                "logging.console_interval_s=30",
            ])
        print("checkpoints:", sorted(p.name for p in (run_dir / "checkpoints").iterdir()))
        """
    ),
    md(
        """
        A run keeps several checkpoints: `best.zip` scored highest in training's periodic
        evaluations, `latest` names the newest `step_<N>.zip`. `evaluate` and `record` use
        `best` unless told otherwise (`--checkpoint latest`, `step_N`, `skill_level_K`).

        ## 2. Evaluate: the agent and a random baseline, same protocol

        This is the command-line tool, called in this kernel:

        ```bash
        python -m simple_game.evaluate runs/<run> --episodes 10 --json agent.json
        python -m simple_game.evaluate runs/<run> --episodes 10 --json random.json --random
        ```

        The run's own `config.yaml` fixes the game, protocol and frame stack, so nothing has to
        be repeated by hand. `--random` plays uniformly random actions under exactly the same
        protocol: the baseline every score should be compared with.
        """
    ),
    code(
        """
        from simple_game.cli.evaluate import main as evaluate_main

        EPISODES = 2 if QUICK else 10
        reports = {}
        for who, extra in (("agent", []), ("random", ["--random"])):
            out = run_dir / f"eval_{who}.json"
            exit_code = evaluate_main([str(run_dir), "--episodes", str(EPISODES), "--json", str(out), *extra])
            assert exit_code == 0, f"evaluate exited {exit_code}"
            reports[who] = json.loads(out.read_text())
        """
    ),
    code(
        """
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
        """
    ),
    md(
        f"""
        Why several games and a standard deviation: one Atari game is a noisy measurement (the
        random no-ops at reset, the epsilon actions, sticky actions under the `modern`
        protocol). With 10 games the mean is still uncertain by roughly std / sqrt(10); papers
        use 30 or more games, and several training seeds
        ([primer §13]({PRIMER}#13-seeds-and-variance)).

        Things to try: `--deterministic` (epsilon 0; watch for games that stall until the frame
        cap, reported as `n_truncated`), `--sample` (draw actions from the PPO policy as
        training's own evaluation does), or `--checkpoint step_N` to evaluate an earlier
        checkpoint.

        ## 3. Watch it play

        `python -m simple_game.record` plays with the same action rule and writes an MP4 of the
        full-colour screen, one video frame per agent step (15 fps = real game speed), with a
        strip showing the action, reward, score and lives. `IPython.display.Video(...,
        embed=True)` puts the file into the notebook itself.
        """
    ),
    code(
        """
        from IPython.display import Video, display

        from simple_game.cli.record import main as record_main

        video = run_dir / "videos" / "notebook_agent.mp4"
        if QUICK:  # 150 agent steps = 10 seconds of play, small
            record_args = ["--max-steps", "150", "--scale", "2"]
        else:      # one whole game (at most the config's video.max_steps = 4,500 steps, 5 minutes)
            record_args = ["--episodes", "1", "--scale", "2"]
        exit_code = record_main([str(run_dir), "--out", str(video), *record_args])
        assert exit_code == 0, f"record exited {exit_code}"
        print(f"{video.stat().st_size / 1e6:.2f} MB")
        display(Video(str(video), embed=True, width=480))
        """
    ),
    md(
        """
        For comparison, `--random` records the random agent:
        `python -m simple_game.record runs/<run> --random --max-steps 600`.

        Next: [05_gameplay_dataset.ipynb](05_gameplay_dataset.ipynb).
        """
    ),
]


# ------------------------------------------------------------------------------------------
# 05: gameplay dataset
# ------------------------------------------------------------------------------------------

NB05 = [
    md(
        """
        # 5. A gameplay dataset with skill tiers

        Recorded gameplay is the raw material for behaviour cloning (learn to act from
        examples), offline RL and world models (learn to predict the next frame). For that it
        helps to have games played at **known skill levels**, from random to good.

        simple-game builds such a dataset in three steps
        ([docs/dataset.md](../docs/dataset.md)):

        1. **Train** with skill-tier milestones: the first time the mean score of the last
           `milestones.window` whole games reaches `milestones.thresholds[k-1]`, training saves
           `checkpoints/skill_level_<k>.zip`. `configs/ppo_breakout_data.yaml` uses 50, 150 and
           250 (and 8 stacked frames).
        2. **Collect** (`python -m simple_game.collect --config configs/collect_breakout.yaml`):
           tier 0 plays at random, tier k is `skill_level_k.zip`; each plays whole games under the
           evaluation protocol, every episode from its own recorded seed. Frames are PNGs;
           actions, rewards and lives go into JSON.
        3. **Verify** (`python -m simple_game.collect verify DIR`): the emulator is
           deterministic, so every episode is replayed from its seed and actions and every frame
           is compared bit for bit.

        **Budget.** With `SIMPLE_GAME_QUICK=1` the training run is seconds long, the tier
        thresholds are tiny, and each tier records 2 short episodes. Otherwise training runs
        **1,000,000 steps** (1-3 hours on a laptop CPU) with thresholds 5, 15 and 30 (reaching
        the shipped 50/150/250 takes several million steps; tiers the run does not reach are
        left out), and each tier records 20 whole games.
        """
    ),
    SETUP,
    TRAIN_HELPERS,
    md(
        """
        ## 1. Train, saving skill-tier checkpoints
        """
    ),
    code(
        """
        if QUICK:
            THRESHOLDS, WINDOW = [0, 1], 1  # reached by the first game or two: shows the mechanism only
            BUDGET = ["total_timesteps=512", "env.n_envs=1", "hyperparams.n_steps=128", "hyperparams.batch_size=64",
                      "hyperparams.n_epochs=1", "eval.freq=0", "checkpoint.freq=512"]
            EPISODES, MAX_STEPS = 2, 120
        else:
            THRESHOLDS, WINDOW = [5, 15, 30], 20
            BUDGET = ["total_timesteps=1000000", "eval.freq=100000", "eval.episodes=5", "checkpoint.freq=100000",
                      "logging.console_interval_s=60"]
            EPISODES, MAX_STEPS = 20, None  # whole games

        milestones = [f"milestones.thresholds={THRESHOLDS}", f"milestones.window={WINDOW}"]
        run_dir = train("configs/ppo_breakout_data.yaml", "nb05_ppo_breakout_data", BUDGET + milestones)
        """
    ),
    code(
        """
        from simple_game.checkpoints import read_checkpoint_metadata

        skill_files = sorted((run_dir / "checkpoints").glob("skill_level_*.zip"))
        for path in skill_files:
            meta = read_checkpoint_metadata(path)
            print(f"{path.name}: mean of the last {meta['window']} games {meta['rolling_mean_score']:.1f} "
                  f">= {meta['threshold']:g}, reached at step {meta['step']:,}")
        if not skill_files:
            print("no tier reached yet: train longer, or lower the thresholds")
        """
    ),
    md(
        """
        ## 2. Collect

        The collect config names the run (its `config.yaml` gives game, protocol and frame
        stack) and the tiers. We start from `configs/collect_breakout.yaml` and override, as on
        the command line:

        ```bash
        python -m simple_game.collect --config configs/collect_breakout.yaml \\
            --set run=runs/<run> --set output=data/breakout --set episodes=20 \\
            --set 'tiers=[{random: true}, {checkpoint: skill_level_1}]'
        ```

        The tiers are the random agent plus every skill level the run reached (the latest
        checkpoint if it reached none).
        """
    ),
    code(
        """
        from simple_game.cli.collect import main as collect_main

        tiers = ["{random: true}"] + [f"{{checkpoint: {p.stem}}}" for p in skill_files]
        if not skill_files:
            tiers.append("{checkpoint: latest}")
        data_dir = RUNS / f"dataset_{run_dir.name}"  # one dataset per run: collect resumes, never mixes
        argv = ["--config", str(ROOT / "configs" / "collect_breakout.yaml"),
                "--set", f"run={run_dir}", "--set", f"output={data_dir}", "--set", f"episodes={EPISODES}",
                "--set", f"tiers=[{', '.join(tiers)}]"]
        if MAX_STEPS:
            argv += ["--set", f"max_steps={MAX_STEPS}"]
        print("python -m simple_game.collect " + " ".join(argv))
        assert collect_main(argv) == 0
        """
    ),
    md(
        """
        ## 3. Verify

        Replays every episode from its seed and actions and compares every stored frame with
        the emulator's, bit for bit. Exit code 0 means the dataset is exactly reproducible.
        """
    ),
    code(
        """
        assert collect_main(["verify", str(data_dir)]) == 0
        """
    ),
    md(
        """
        ## 4. What is in it

        ```
        raw_gameplay/skill_level_<k>/episode_<NNN>/frame_<NNNNN>.png   84x84 grayscale frames
        actions/skill_level_<k>_actions.json                           actions, rewards, lives per episode
        manifest.json                                                  versions, protocol, tiers, split
        ```

        An episode with T actions has T + 1 frames: **frame t is what the agent saw when it chose
        action t**, and `rewards[t]` is what that action led to (it belongs with frame t + 1).
        """
    ),
    code(
        """
        manifest = json.loads((data_dir / "manifest.json").read_text())
        print("game:", manifest["game"], "| protocol:", manifest["protocol"])
        for tier in manifest["tiers"]:
            score = tier["score"]
            print(f"{tier['name']:15s} {tier['episodes']} episodes, {tier['frames']:,} frames, "
                  f"score mean {score['mean']}, min {score['min']}, max {score['max']}")

        tier_logs = {}
        for path in sorted((data_dir / "actions").glob("*_actions.json")):
            tier_logs[path.name.removesuffix("_actions.json")] = json.loads(path.read_text())
        first = next(iter(tier_logs.values()))["episodes"][0]
        print("\\nkeys of one episode record:", sorted(first))
        """
    ),
    md(
        """
        Frames with the action chosen on each of them, for the first episode of each tier:
        """
    ),
    code(
        """
        N_FRAMES, START = 8, 20
        fig, axes = plt.subplots(len(tier_logs), N_FRAMES, figsize=(1.8 * N_FRAMES, 2.4 * len(tier_logs)), squeeze=False)
        for row, (tier, log) in zip(axes, tier_logs.items()):
            episode = log["episodes"][0]
            folder = data_dir / "raw_gameplay" / episode["episode_id"]
            start = max(0, min(START, episode["length"] - N_FRAMES))
            for ax, t in zip(row, range(start, start + N_FRAMES)):
                ax.axis("off")
                if t >= episode["length"]:
                    continue
                ax.imshow(plt.imread(folder / f"frame_{t:05d}.png"), cmap="gray", vmin=0, vmax=1)
                reward = episode["rewards"][t]
                title = f"t={t} {episode['action_names'][t]}" + (f" (+{reward:g})" if reward else "")
                ax.set_title((f"{tier}\\n" if ax is row[0] else "\\n") + title, fontsize=8)
        plt.suptitle("frame t and the action taken on it")
        plt.tight_layout()
        plt.show()
        """
    ),
    md(
        """
        How each tier uses its actions. The random tier is uniform by construction; a trained
        agent develops preferences (in Breakout: mostly moving, FIRE only to relaunch the ball).
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        ## Where to go from here

        - The full recipe on real tiers: `configs/ppo_breakout_data.yaml` then
          `configs/collect_breakout.yaml` ([docs/dataset.md](../docs/dataset.md)).
        - Behaviour cloning: train a classifier from `(frame stack, action)` pairs of one tier
          (the `train` split) and evaluate it as an agent: does it reach its tier's score?
        - `rgb: true` stores the 210x160 colour screens instead, e.g. for world models.
        """
    ),
]


NOTEBOOKS_SPEC: dict[str, list] = {
    "01_atari_environment.ipynb": NB01,
    "02_train_ppo.ipynb": NB02,
    "03_compare_algorithms.ipynb": NB03,
    "04_evaluate_and_watch.ipynb": NB04,
    "05_gameplay_dataset.ipynb": NB05,
}


def build(cells: list, stem: str) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(cells):
        cell = nbformat.from_dict(dict(cell))
        cell.id = f"{stem[:40]}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    return nbformat.writes(build(NOTEBOOKS_SPEC[name], Path(name).stem), version=4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that notebooks/ matches this script")
    args = parser.parse_args(argv)
    stale = []
    for name in NOTEBOOKS_SPEC:
        text = render(name)
        path = NOTEBOOKS / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        elif not path.is_file() or path.read_text(encoding="utf-8") != text:
            NOTEBOOKS.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"out of date (run python scripts/make_notebooks.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
