"""`import simple_game` and every --help must not import torch, gymnasium or ale-py; and every
library module that imports gymnasium or ale-py imports torch first (the import-order rule)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, cli_env
from simple_game.cli import COMMANDS

HEAVY = ("torch", "gymnasium", "ale_py", "stable_baselines3")
PROBE = "import sys, runpy\n{body}\nprint('HEAVY:' + ' '.join(m for m in {heavy!r} if m in sys.modules))"


def _heavy_after(body: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body, heavy=HEAVY)],
        env=cli_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    marker = [line for line in proc.stdout.splitlines() if line.startswith("HEAVY:")]
    assert marker, proc.stdout
    return marker[-1][len("HEAVY:") :].strip()


def test_import_package_is_light() -> None:
    assert (
        _heavy_after("import simple_game, simple_game.config, simple_game.runs, simple_game.errors, simple_game.cli")
        == ""
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_is_light(command: str) -> None:
    """Every registered command's ``--help`` (the module must exist: a missing one fails here)."""
    body = (
        "import importlib\n"
        f"m = importlib.import_module({COMMANDS[command][0]!r})\n"
        "try:\n    m.main(['--help'])\nexcept SystemExit:\n    pass\n"
    )
    assert _heavy_after(body) == ""


def test_console_script_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simple_game", "--help"],
        env=cli_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "train" in proc.stdout


# --------------------------------------------------------------------------- import order

PACKAGE = REPO / "src" / "simple_game"
SHIMS = {"train", "evaluate", "record", "collect", "report", "roms", "__main__"}  # `python -m` entry points
WATCHED = ("torch", "gymnasium", "ale_py")
# A module enters sys.modules when its import starts, right after the import system asks the
# finders for it, so the first of WATCHED a finder is asked for is the first in sys.modules'
# order. Once that is known the import is stopped: the verdict cannot change, and the probe
# needs no second of loading torch. _Stop is a BaseException so `except ImportError` (or
# `except Exception`) in the code under test cannot swallow it.
# One interpreter serves every module: it loads the light packages once (streamlit, matplotlib
# and pandas cost seconds per import), then forks a child per module. Preloading cannot change a
# verdict: the parent checks that none of WATCHED is loaded, and a module that loads none of
# them cannot decide which comes first. Fork is POSIX-only, like CI.
ORDER_PROBE = """
import importlib, importlib.abc, json, os, sys
watched = {watched!r}
for light in ("numpy", "yaml", "pydantic", "rich.console", "pandas", "matplotlib.pyplot", "streamlit", "optuna"):
    try:  # the last four are optional extras; a module that needs one fails the same either way
        importlib.import_module(light)
    except ImportError:
        pass
for light in ("simple_game", "simple_game.config", "simple_game.errors", "simple_game.runs"):
    importlib.import_module(light)  # light by test_import_package_is_light; pydantic models built once
assert not [m for m in watched if m in sys.modules], "imported at start-up"

class _Stop(BaseException):
    pass

class _FirstHeavy(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.first = []

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in watched:
            self.first.append(top)
            raise _Stop(top)
        return None

for name in {names!r}:
    read, write = os.pipe()
    if os.fork() == 0:  # the child: import one module, report, exit without cleanup
        os.close(read)
        finder = _FirstHeavy()
        sys.meta_path.insert(0, finder)
        try:
            importlib.import_module(name)
            verdict = finder.first[0] if finder.first else None
        except _Stop:
            verdict = finder.first[0]
        except BaseException as exc:
            verdict = "import failed: " + type(exc).__name__ + ": " + str(exc)
        os.write(write, json.dumps(verdict).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = pipe.read()
    os.wait()
    print("FIRST:" + json.dumps([name, json.loads(answer) if answer else "import failed: child died"]))
"""


def library_modules() -> list[str]:
    """Every module of the library, found on disk without importing it: not cli/, not the shims."""
    names = ["simple_game"]

    def walk(folder: Path, prefix: str) -> None:
        for info in pkgutil.iter_modules([str(folder)]):
            if prefix == "simple_game." and (info.name == "cli" or info.name in SHIMS):
                continue
            names.append(prefix + info.name)
            if info.ispkg:
                walk(folder / info.name, f"{prefix}{info.name}.")

    walk(PACKAGE, "simple_game.")
    return sorted(names)


def _first_heavy_imports(names: list[str]) -> dict[str, str | None]:
    """For each module, which of torch, gymnasium, ale_py enters sys.modules first when it is imported fresh."""
    proc = subprocess.run(
        [sys.executable, "-c", ORDER_PROBE.format(watched=WATCHED, names=names)],
        env=cli_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    pairs = [json.loads(line[len("FIRST:") :]) for line in proc.stdout.splitlines() if line.startswith("FIRST:")]
    return dict((name, verdict) for name, verdict in pairs)


def test_library_modules_import_torch_before_gymnasium_and_ale_py() -> None:
    """The MPS import-order rule (docs/decisions.md, section 4), checked module by module.

    Each library module is imported in a fresh interpreter; torch must enter sys.modules before
    gymnasium and ale_py, whichever import (at any depth) brings them in. A module that imports
    none of them passes.
    """
    modules = library_modules()
    assert "simple_game.envs" in modules and "simple_game.envs.atari" in modules, modules
    assert not [m for m in modules if m.startswith("simple_game.cli")], modules
    first = _first_heavy_imports(modules)
    assert sorted(first) == modules, "the probe lost modules"
    problems = {name: what for name, what in first.items() if what not in (None, "torch")}
    assert not problems, "\n".join(f"{name}: {what} before torch" for name, what in sorted(problems.items()))


def test_envs_puts_torch_first_for_real() -> None:
    """No stopping early: a full import of simple_game.envs, and the real sys.modules order."""
    code = (
        "import json, sys, simple_game.envs\n"
        "order = list(sys.modules)\n"
        f"print('ORDER:' + json.dumps([order.index(m) for m in {WATCHED!r}]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=cli_env(), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    torch_at, gymnasium_at, ale_py_at = json.loads(proc.stdout.split("ORDER:")[-1])
    assert torch_at < gymnasium_at and torch_at < ale_py_at
