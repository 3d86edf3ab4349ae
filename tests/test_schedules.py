import pickle

import pytest

from simple_game.config.schedules import LinearSchedule, parse_schedule, schedule_to_yaml


def test_lin_string_anneals_to_zero() -> None:
    s = parse_schedule("lin_2.5e-4")
    assert s(1.0) == pytest.approx(2.5e-4) and s(0.5) == pytest.approx(1.25e-4) and s(0.0) == 0.0


def test_numbers_and_explicit_forms() -> None:
    assert parse_schedule(3e-4) == 3e-4
    assert parse_schedule("3e-4") == 3e-4
    assert parse_schedule({"schedule": "constant", "value": 0.1}) == 0.1
    s = parse_schedule({"schedule": "linear", "start": 1.0, "end": 0.5})
    assert s(0.0) == 0.5 and s(1.0) == 1.0


@pytest.mark.parametrize(
    "bad",
    [
        "lin_",
        "lin_abc",
        "fast",
        True,
        None,
        [1, 2],
        {"schedule": "linear"},
        {"schedule": "exp", "start": 1},
        "lin_nan",
        float("inf"),
    ],
)
def test_bad_schedules(bad) -> None:
    with pytest.raises(ValueError):
        parse_schedule(bad)


def test_schedule_pickles_and_round_trips() -> None:
    s = LinearSchedule(1e-3, 1e-5)
    assert pickle.loads(pickle.dumps(s)) == s
    assert parse_schedule(schedule_to_yaml(s)) == s


def test_linear_schedule_holds_its_end_past_the_budget():
    # A rollout that overshoots the budget gives progress_remaining < 0 (total_timesteps=1 ran 128 steps).
    sched = LinearSchedule(start=0.1, end=0.0)
    assert sched(-12.0) == 0.0 and sched(1.5) == 0.1 and sched(0.5) == 0.05


def test_schedules_pickled_under_their_old_module_still_load():
    # Checkpoints saved before the reshape pickled schedules as simple_game.schedules.LinearSchedule.
    old = pickle.dumps(LinearSchedule(2.5e-4, 0.0), protocol=0).replace(
        b"simple_game.config.schedules", b"simple_game.schedules"
    )
    assert b"simple_game.schedules\n" in old
    loaded = pickle.loads(old)
    assert loaded(0.5) == pytest.approx(1.25e-4)
