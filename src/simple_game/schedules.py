"""The old home of the schedules, kept so checkpoints saved before the reshape still load.

SB3 pickles a model's schedules into its zip by class path, and checkpoints written before the
package was reshaped name ``simple_game.schedules.LinearSchedule``. The schedules now live in
:mod:`simple_game.config.schedules`; import them from there.
"""

from simple_game.config.schedules import LinearSchedule, parse_schedule, schedule_to_yaml

__all__ = ["LinearSchedule", "parse_schedule", "schedule_to_yaml"]
