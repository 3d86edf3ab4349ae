# One-command set-up: `make quick`, `make train` and `make test` create the environment when it is
# missing. Inside an active conda env named simple-game, that env is used; otherwise a local .venv.
# CONFIG= chooses the experiment file, ARGS= adds flags:
#   make train CONFIG=configs/ppo_breakout_quick.yaml ARGS="--set seed=1"
SHELL := /bin/bash
FULL_CONFIG := configs/ppo_breakout.yaml
QUICK_CONFIG := configs/ppo_breakout_quick.yaml
CONFIG ?= $(FULL_CONFIG)
ARGS ?=

ifeq ($(CONDA_DEFAULT_ENV),simple-game)
PYTHON := $(CONDA_PREFIX)/bin/python
STAMP := $(CONDA_PREFIX)/.simple-game-installed
else
PYTHON := .venv/bin/python
STAMP := .venv/.simple-game-installed
endif

.PHONY: help setup quick train test lint clean-venv

help:
	@echo "make setup       create the environment (.venv, or the active simple-game conda env) and install simple-game"
	@echo "make quick       set up (if needed) and train $(QUICK_CONFIG): the first run, minutes on a CPU"
	@echo "make train       set up (if needed) and train $(CONFIG) (default: the full 10M-step run, about 10 hours on 2 CPU cores)"
	@echo "make test        set up (if needed) and run the test suite"
	@echo "make lint        ruff (lint and format check) and mypy, as CI runs them"
	@echo "make clean-venv  delete .venv"
	@echo "make help        this list"
	@echo "Variables: CONFIG=<experiment file> (train), ARGS=\"<extra flags>\" (quick, train, test), e.g."
	@echo "  make train CONFIG=$(QUICK_CONFIG) ARGS=\"--set seed=1\""

setup: $(STAMP)

$(STAMP): pyproject.toml
ifneq ($(CONDA_DEFAULT_ENV),simple-game)
	@test -x .venv/bin/python || python3 -m venv .venv
endif
	$(PYTHON) -m pip install --upgrade pip
	$(PYTHON) -m pip install -e ".[dev]"
	@touch $(STAMP)

# The first run: 300k agent steps of PPO Breakout (measured time and score in the README).
quick: setup
	$(PYTHON) -m simple_game.train --config $(QUICK_CONFIG) $(ARGS)

# `make train` keeps its meaning (the full run), but says so before it starts: a learner who
# types it first should not find out from the ETA column that it takes a day.
train: setup
ifeq ($(CONFIG),$(FULL_CONFIG))
	@echo "note: $(FULL_CONFIG) is the full run, 10M agent steps: about 10 hours on an idle 2-core CPU."
	@echo "      For a first run that finishes in minutes: make quick   (Ctrl-C stops this one and keeps a checkpoint)"
endif
	$(PYTHON) -m simple_game.train --config $(CONFIG) $(ARGS)

# The suite runs on every logical CPU (pytest-xdist); a test file stays on one worker, so its
# module-scoped fixtures (tiny trained runs) are built once. JOBS=0 runs it in one process.
JOBS ?= logical
test: setup
	$(PYTHON) -m pytest -n $(JOBS) --dist loadfile --durations=25 $(ARGS)

# Lint and type-check: the configuration lives in pyproject.toml ([tool.ruff], [tool.mypy]).
LINT_PATHS := src tests bench scripts notebooks
lint: setup
	$(PYTHON) -m ruff check $(LINT_PATHS)
	$(PYTHON) -m ruff format --check $(LINT_PATHS)
	$(PYTHON) -m mypy

clean-venv:
	rm -rf .venv
