# One-command set-up: `make train` and `make test` create the environment when it is missing.
# Inside an active conda env named simple-game, that env is used; otherwise a local .venv.
SHELL := /bin/bash
CONFIG ?= configs/ppo_breakout.yaml
ARGS ?=

ifeq ($(CONDA_DEFAULT_ENV),simple-game)
PYTHON := $(CONDA_PREFIX)/bin/python
STAMP := $(CONDA_PREFIX)/.simple-game-installed
else
PYTHON := .venv/bin/python
STAMP := .venv/.simple-game-installed
endif

.PHONY: setup train test lint bench clean-venv help

help:
	@echo "make train   set up (if needed) and train $(CONFIG)"
	@echo "make test    set up (if needed) and run the test suite"
	@echo "make lint    ruff (lint and format check) and mypy, as CI runs them"
	@echo "make setup   create the environment and install simple-game"

setup: $(STAMP)

$(STAMP): pyproject.toml
ifneq ($(CONDA_DEFAULT_ENV),simple-game)
	@test -x .venv/bin/python || python3 -m venv .venv
endif
	$(PYTHON) -m pip install --upgrade pip
	$(PYTHON) -m pip install -e ".[dev]"
	@touch $(STAMP)

train: setup
	$(PYTHON) -m simple_game.train --config $(CONFIG) $(ARGS)

test: setup
	$(PYTHON) -m pytest $(ARGS)

# Lint and type-check: the configuration lives in pyproject.toml ([tool.ruff], [tool.mypy]).
LINT_PATHS := src tests bench scripts
lint: setup
	$(PYTHON) -m ruff check $(LINT_PATHS)
	$(PYTHON) -m ruff format --check $(LINT_PATHS)
	$(PYTHON) -m mypy

clean-venv:
	rm -rf .venv
