"""Hyperparameter sweeps on Optuna (``simple-game sweep``; docs/sweeps.md).

- :mod:`.space`: the search-space YAML file -> checked parameters, and each trial's config;
- :mod:`.sampling`: the sampler (TPE, seeded per trial) and the pruner;
- :mod:`.storage`: the study database (a local SQLite file, or a shared server) with heartbeats;
- :mod:`.worker`: one worker's loop: trials until the study has its total, each a normal run;
- :mod:`.study`: open or join the study, run a worker, write the report;
- :mod:`.report`: ``best.yaml``, ``sweep.md`` (trials, parameter importances), ``sweep.json``;
- :mod:`.table`: the sweeps table ``report`` writes into ``experiments.md`` (no Optuna needed).

Importing this package imports nothing: Optuna is an optional extra (``simple-game[sweep]``).
"""
