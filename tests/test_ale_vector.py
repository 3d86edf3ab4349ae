"""AleVectorEnv (C++ ale-py vector env) against SB3's Atari wrapper path.

Real ALE emulation, no mocks. Breakout random games are short (~100-400 agent steps),
so whole games are played in well under a second.
"""

from __future__ import annotations

import numpy as np
import pytest

import simple_game.envs  # noqa: F401  first: torch before gymnasium and ale_py (docs/architecture.md)

pytest.importorskip("ale_py.vector_env")

import ale_py  # noqa: E402
import gymnasium as gym  # noqa: E402
from stable_baselines3.common.env_util import make_atari_env  # noqa: E402
from stable_baselines3.common.evaluation import evaluate_policy  # noqa: E402
from stable_baselines3.common.monitor import Monitor  # noqa: E402
from stable_baselines3.common.vec_env import VecEnv, VecFrameStack, VecTransposeImage  # noqa: E402

from simple_game.envs.ale_vector import AleVectorEnv  # noqa: E402

gym.register_envs(ale_py)

FIRE = 1  # Breakout / SpaceInvaders minimal action sets: ['NOOP', 'FIRE', ...]


def sb3_env(game_id: str, n_envs: int, *, training: bool, seed: int = 0, frame_stack: int = 4) -> VecEnv:
    """The reference: SB3's wrapper path (Monitor + AtariWrapper, VecFrameStack, VecTransposeImage)."""
    kwargs = {} if training else {"wrapper_kwargs": dict(terminal_on_life_loss=False, clip_reward=False)}
    venv = make_atari_env(game_id, n_envs=n_envs, seed=seed, **kwargs)
    return VecTransposeImage(VecFrameStack(venv, n_stack=frame_stack))


def ale_env(game: str, n_envs: int, *, training: bool, seed: int = 0, frame_stack: int = 4, **kw) -> AleVectorEnv:
    return AleVectorEnv(game, n_envs, seed=seed, frame_stack=frame_stack, training=training, **kw)


def play_games(env: VecEnv, n_games: int, seed: int = 0, max_steps: int = 20_000) -> dict:
    """Random policy until every env finished ``n_games`` games; collect what the checks need."""
    rng = np.random.default_rng(seed)
    n = env.num_envs
    obs = env.reset()
    games_done = np.zeros(n, dtype=int)
    dones_in_game = np.zeros(n, dtype=int)
    out = {"dones_per_game": [], "episodes": [], "rewards": [], "after_done_obs": [], "terminal": []}
    for _ in range(max_steps):
        obs, rew, done, infos = env.step(rng.integers(0, env.action_space.n, size=n))
        out["rewards"].append(rew.copy())
        for i in np.flatnonzero(done):
            dones_in_game[i] += 1
            out["after_done_obs"].append(obs[i].copy())
            out["terminal"].append(infos[i].get("terminal_observation"))
            if "episode" in infos[i]:
                out["episodes"].append(infos[i]["episode"])
                out["dones_per_game"].append(int(dones_in_game[i]))
                dones_in_game[i] = 0
                games_done[i] += 1
        for i in range(n):
            assert ("episode" in infos[i]) <= bool(done[i]), "episode info only on a done step"
        if (games_done >= n_games).all():
            break
    else:
        raise AssertionError("games did not finish")
    out["rewards"] = np.concatenate(out["rewards"])
    return out


# --------------------------------------------------------------------------- spaces / shapes
@pytest.mark.parametrize("frame_stack", [4, 8])
def test_shapes_dtypes_channel_first_match_sb3(frame_stack):
    ref = sb3_env("BreakoutNoFrameskip-v4", 1, training=True, frame_stack=frame_stack)
    env = ale_env("breakout", 2, training=True, frame_stack=frame_stack)
    try:
        assert env.observation_space == ref.observation_space
        assert env.observation_space.shape == (frame_stack, 84, 84)
        assert env.observation_space.dtype == np.uint8
        assert env.action_space == ref.action_space
        obs = env.reset()
        ref_obs = ref.reset()
        assert obs.shape == (2, frame_stack, 84, 84) and obs.dtype == np.uint8
        # Channel-first stack, newest frame last, older slots zero after a reset (like VecFrameStack).
        assert (obs[:, :-1] == 0).all() and (ref_obs[:, :-1] == 0).all()
        assert obs[:, -1].max() > 0
        # Same preprocessing: the first frames look alike (only the ball / grey rounding differ).
        diff = np.abs(obs[0, -1].astype(int) - ref_obs[0, -1].astype(int))
        assert diff.mean() < 2.0
        first = obs
        obs, rew, done, infos = env.step(np.zeros(2, dtype=np.int64))
        assert obs.shape == (2, frame_stack, 84, 84) and obs.dtype == np.uint8
        assert rew.shape == (2,) and rew.dtype == np.float32
        assert done.shape == (2,) and done.dtype == np.bool_
        assert isinstance(infos, list) and len(infos) == 2
        # Frames shift towards index 0 as the stack fills.
        np.testing.assert_array_equal(obs[:, -2], first[:, -1])
        assert (obs[:, :-2] == 0).all()
    finally:
        env.close()
        ref.close()


def test_sb3_plumbing():
    ref = sb3_env("BreakoutNoFrameskip-v4", 1, training=True)
    env = ale_env("breakout", 2, training=True)
    try:
        assert env.env_is_wrapped(Monitor) == [True, True]
        assert env.env_is_wrapped(Monitor, indices=1) == [True]
        assert env.env_is_wrapped(gym.wrappers.RecordVideo) == [False, False]
        assert env.get_attr("render_mode") == [None, None]
        assert env.render_mode is None
        assert env.env_method("get_action_meanings") == ref.env_method("get_action_meanings") * 2
        assert env.get_attr("get_action_meanings", indices=[0])[0]() == ["NOOP", "FIRE", "RIGHT", "LEFT"]
        env.set_attr("tag", 3, indices=1)
        assert env.get_attr("tag", indices=1) == [3]
        assert env.seed(7) == [7, 8]
    finally:
        env.close()
        ref.close()
    env.close()  # idempotent
    with pytest.raises(RuntimeError):
        env.reset()


def test_switches_default_to_training_and_each_acts_alone():
    """``training`` sets both training-only switches; each can be set on its own (env.clip_reward,
    env.terminal_on_life_loss). What they do to rewards and dones: tests/test_envs.py, per backend."""
    from stable_baselines3.common.atari_wrappers import ClipRewardEnv, EpisodicLifeEnv

    cases = [
        (dict(training=True), True, True),
        (dict(training=False), False, False),
        (dict(training=True, clip_reward=False), False, True),
        (dict(training=True, terminal_on_life_loss=False), True, False),
    ]
    for kw, clip, terminal in cases:
        env = AleVectorEnv("breakout", 1, **kw)
        try:
            assert (env.clip_reward, env.terminal_on_life_loss) == (clip, terminal)
            assert env.env_is_wrapped(ClipRewardEnv) == [clip]
            assert env.env_is_wrapped(EpisodicLifeEnv) == [terminal]
        finally:
            env.close()


# --------------------------------------------------------------------------- seeding / reset
def test_deterministic_given_seed_and_reset():
    actions = np.random.default_rng(1).integers(0, 4, size=(150, 2))

    def rollout(env):
        frames = [env.reset()]
        for a in actions:
            frames.append(env.step(a)[0])
        return np.stack(frames)

    a, b, c = (ale_env("breakout", 2, training=True, seed=s) for s in (3, 3, 4))
    try:
        ra, rb, rc = rollout(a), rollout(b), rollout(c)
        np.testing.assert_array_equal(ra, rb)
        assert not np.array_equal(ra, rc)
        assert not np.array_equal(ra[:, 0], ra[:, 1])  # env i gets seed + i
        a.seed(3)  # re-seeding replays the same games
        np.testing.assert_array_equal(rollout(a), ra)
    finally:
        for e in (a, b, c):
            e.close()


# --------------------------------------------------------------------------- episodes
@pytest.mark.parametrize("backend", ["sb3", "ale"])
@pytest.mark.parametrize("training", [True, False])
def test_episode_structure_matches_sb3(backend, training):
    """Same checks on both paths: life loss ends a training episode only, clipping only in
    training, frame stack restarts after every done, terminal_observation on every done,
    ``episode`` info only at game over."""
    env = (
        sb3_env("BreakoutNoFrameskip-v4", 2, training=training)
        if backend == "sb3"
        else ale_env("breakout", 2, training=training)
    )
    try:
        out = play_games(env, n_games=1)
    finally:
        env.close()
    # Breakout has 5 lives: 4 life losses + the game over in training, only the game over in eval.
    assert set(out["dones_per_game"]) == ({5} if training else {1})
    if training:
        assert set(np.unique(out["rewards"])) <= {-1.0, 0.0, 1.0}
    for after, terminal in zip(out["after_done_obs"], out["terminal"]):
        assert terminal is not None and terminal.shape == (4, 84, 84) and terminal.dtype == np.uint8
        assert (after[:-1] == 0).all() and after[-1].max() > 0
    for ep in out["episodes"]:
        assert set(ep) == {"r", "l", "t"} and ep["l"] > 0 and ep["t"] >= 0


def _executed(actions: np.ndarray, prev_life_lost: np.ndarray) -> np.ndarray:
    """What AleVectorEnv really sends: FIRE on the first step after a training life loss."""
    out = actions.copy()
    out[prev_life_lost] = FIRE
    return out


@pytest.mark.parametrize("game", ["breakout", "space_invaders"])
def test_training_scores_are_raw_game_scores(game):
    """Training and eval envs with the same seed emulate the same game when fed the same
    emulator actions (the training env replaces the first action after a life loss by FIRE).
    So the training env's rewards must be sign(eval rewards), its newest frames equal the eval
    frames, its ``episode["r"]`` the hand sum of raw eval rewards over the whole game (all
    lives), and only the training env says ``done`` on a life loss."""
    train = ale_env(game, 2, training=True, seed=11)
    ev = ale_env(game, 2, training=False, seed=11)
    rng = np.random.default_rng(0)
    try:
        o_t, o_e = train.reset(), ev.reset()
        np.testing.assert_array_equal(o_t, o_e)
        prev_life_lost = np.zeros(2, dtype=bool)
        hand_sum = np.zeros(2)
        hand_len = np.zeros(2, dtype=int)
        games, life_loss_dones, saw_big_reward = 0, 0, False
        for _ in range(5_000):
            a = rng.integers(0, 4, size=2)
            o_t, r_t, d_t, i_t = train.step(a)  # the training env presses FIRE itself after a life loss
            o_e, r_e, d_e, i_e = ev.step(_executed(a, prev_life_lost))
            np.testing.assert_array_equal(o_t[:, -1], o_e[:, -1])
            np.testing.assert_array_equal(r_t, np.sign(r_e))
            saw_big_reward |= bool((np.abs(r_e) > 1).any())
            hand_sum += r_e
            hand_len += 1
            np.testing.assert_array_equal(d_e, d_t & np.array(["episode" in x for x in i_t]))
            prev_life_lost = d_t & ~d_e
            life_loss_dones += int(prev_life_lost.sum())
            for i in np.flatnonzero(prev_life_lost):
                assert "episode" not in i_t[i] and not i_t[i]["TimeLimit.truncated"]
                np.testing.assert_array_equal(i_t[i]["terminal_observation"][-1], o_t[i, -1])
            for i in np.flatnonzero(d_e):
                assert i_t[i]["episode"]["r"] == pytest.approx(hand_sum[i])
                assert i_e[i]["episode"]["r"] == pytest.approx(hand_sum[i])
                assert i_t[i]["episode"]["l"] == i_e[i]["episode"]["l"] == hand_len[i]
                np.testing.assert_array_equal(i_t[i]["terminal_observation"][-1], i_e[i]["terminal_observation"][-1])
                hand_sum[i], hand_len[i] = 0.0, 0
                games += 1
            if game == "breakout" and games >= 2:
                break
            if game == "space_invaders" and saw_big_reward and life_loss_dones > 0:
                break
        assert life_loss_dones > 0
        if game == "breakout":
            assert games >= 2
        else:  # Space Invaders: aliens are worth 5..30 points, so clipping is visible
            assert saw_big_reward
    finally:
        train.close()
        ev.close()


def test_truncation_sets_timelimit_flag():
    # NOOP Breakout: the reset FIRE launches one ball, after that nothing happens -> no game over.
    env = ale_env("breakout", 1, training=False, max_frames_per_episode=200)
    try:
        env.reset()
        for step in range(1, 60):
            obs, rew, done, infos = env.step(np.zeros(1, dtype=np.int64))
            if done[0]:
                break
        assert done[0] and step == 50  # 200 frames / frame_skip 4
        assert infos[0]["TimeLimit.truncated"] is True
        assert infos[0]["episode"]["l"] == 50
        assert infos[0]["terminal_observation"].shape == (4, 84, 84)
    finally:
        env.close()


# --------------------------------------------------------------------------- evaluate_policy
class _RandomPolicy:
    """Just enough of a model for ``evaluate_policy``."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def predict(self, obs, state=None, episode_start=None, deterministic=False):
        return self.rng.integers(0, 4, size=len(obs)), None


@pytest.mark.parametrize("training", [True, False])
def test_evaluate_policy_reports_full_game_raw_scores(training):
    env = ale_env("breakout", 1, training=training, seed=5)
    try:
        rewards, lengths = evaluate_policy(
            _RandomPolicy(0), env, n_eval_episodes=2, return_episode_rewards=True, warn=True
        )
    finally:
        env.close()
    # Replay by hand on an eval env (raw rewards, game-over dones): same seed, same policy
    # stream, plus the FIRE a training env presses after each life loss.
    ref = ale_env("breakout", 1, training=False, seed=5)
    twin = ale_env("breakout", 1, training=True, seed=5) if training else None
    policy = _RandomPolicy(0)
    scores, lens, total, steps = [], [], 0.0, 0
    try:
        obs = ref.reset()
        if twin is not None:
            twin.reset()
        prev_life_lost = np.zeros(1, dtype=bool)
        while len(scores) < 2:
            a = policy.predict(obs)[0]
            if twin is not None:
                a = _executed(a, prev_life_lost)
                _, _, d_t, _ = twin.step(a)
            obs, r, d, _ = ref.step(a)
            if twin is not None:
                prev_life_lost = d_t & ~d
            total += float(r[0])
            steps += 1
            if d[0]:
                scores.append(total)
                lens.append(steps)
                total, steps = 0.0, 0
    finally:
        ref.close()
        if twin is not None:
            twin.close()
    assert rewards == pytest.approx(scores)
    assert lengths == lens
    assert min(lengths) > 50  # whole games, not single lives
