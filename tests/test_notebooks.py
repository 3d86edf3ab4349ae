"""The teaching notebooks in notebooks/ run top to bottom, and are stored clean.

The source of each notebook is its jupytext percent script (notebooks/0N_*.py); the stored .ipynb
must be exactly what scripts/make_notebooks.py builds from it. Each notebook is executed with
nbclient in quick mode (``SIMPLE_GAME_QUICK=1``: tiny budgets), with its runs written to a
temporary directory (``SIMPLE_GAME_RUNS_DIR``) and cwd notebooks/, as Jupyter would run it. The
kernel is this interpreter: a kernelspec pointing at ``sys.executable`` is written to a temporary
directory that is put first on ``JUPYTER_PATH``, so neither a user-wide ``python3`` kernel nor a
missing one in a fresh venv can get in the way.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SCRIPTS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
BUILD_SCRIPT = REPO / "scripts" / "make_notebooks.py"
CELL_TIMEOUT_S = 180
KERNEL_NAME = "simple-game-test"


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the kernel: a kernelspec for this interpreter first on JUPYTER_PATH."""
    jupyter_dir = tmp_path_factory.mktemp("jupyter")
    spec_dir = jupyter_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "simple-game test kernel",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    env = {
        "JUPYTER_PATH": str(jupyter_dir) + os.pathsep + os.environ.get("JUPYTER_PATH", ""),
        "SIMPLE_GAME_QUICK": "1",
        "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        # Small CPU machines (CI, two shared cores): one torch thread is faster than two
        # threads fighting other processes, and keeps the test polite.
        "OMP_NUM_THREADS": "1",
        "COLUMNS": "120",
    }
    return env


def execute(path: Path, env: dict[str, str], runs_dir: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(path.parent)}},  # cwd = notebooks/, as in Jupyter
    )
    saved = dict(os.environ)
    os.environ.update(env, SIMPLE_GAME_RUNS_DIR=str(runs_dir))  # the kernel inherits os.environ
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def test_notebooks_exist() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert names[:5] == [
        "01_atari_environment.ipynb",
        "02_train_ppo.ipynb",
        "03_compare_algorithms.ipynb",
        "04_evaluate_and_watch.ipynb",
        "05_gameplay_dataset.ipynb",
    ], names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, (
                f"{path.name}: a cell has stored outputs; clear them (rebuild with python scripts/make_notebooks.py)"
            )
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_every_notebook_has_its_script() -> None:
    assert [p.stem for p in SCRIPTS] == [p.stem for p in NOTEBOOKS]


def test_notebooks_match_generator() -> None:
    pytest.importorskip("jupytext")
    proc = subprocess.run([sys.executable, str(BUILD_SCRIPT), "--check"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def _load_build_script(monkeypatch: pytest.MonkeyPatch, notebooks: Path):
    pytest.importorskip("jupytext")
    spec = importlib.util.spec_from_file_location("make_notebooks", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(module, "ROOT", notebooks.parent)
    return module


def test_build_is_deterministic_and_check_finds_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    script = notebooks / SCRIPTS[0].name
    script.write_text(SCRIPTS[0].read_text(encoding="utf-8"), encoding="utf-8")
    build = _load_build_script(monkeypatch, notebooks)
    assert build.main(["--check"]) == 1  # no .ipynb yet
    assert build.main([]) == 0
    built = script.with_suffix(".ipynb")
    first = built.read_bytes()
    assert first == SCRIPTS[0].with_suffix(".ipynb").read_bytes()
    os.utime(built, (0, 0))
    assert build.main([]) == 0 and build.main(["--check"]) == 0
    assert built.read_bytes() == first and built.stat().st_mtime == 0  # unchanged script: file not rewritten
    script.write_text(script.read_text(encoding="utf-8") + "\n# %%\nprint('one more cell')\n", encoding="utf-8")
    assert build.main(["--check"]) == 1
    assert built.read_bytes() == first  # --check writes nothing


def test_notebook_helpers(tmp_path: Path) -> None:
    from simple_game import notebook

    assert notebook.quick_mode({}) is False
    for value, quick in (("1", True), ("yes", True), ("0", False), ("false", False), ("", False), (" No ", False)):
        assert notebook.quick_mode({"SIMPLE_GAME_QUICK": value}) is quick, value
    assert notebook.runs_dir(tmp_path, {}) == (tmp_path / "runs" / "notebooks").resolve()
    assert (tmp_path / "runs" / "notebooks").is_dir()
    elsewhere = tmp_path / "elsewhere"
    assert notebook.runs_dir(tmp_path, {"SIMPLE_GAME_RUNS_DIR": str(elsewhere)}) == elsewhere.resolve()

    csv_path = tmp_path / "progress.csv"
    csv_path.write_text("step,score,loss\n1,0.5,\n2,,0.25\n3,1.5,0.125\n")
    columns = notebook.read_csv(csv_path)
    assert list(columns) == ["step", "score", "loss"]
    assert columns["step"] == [1.0, 2.0, 3.0]
    assert math.isnan(columns["score"][1]) and math.isnan(columns["loss"][0])
    assert notebook.curve(columns, "step", "score") == ([1.0, 3.0], [0.5, 1.5])
    assert notebook.curve(columns, "step", "missing") == ([], [])
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert notebook.read_csv(empty) == {}


def _github_anchor(heading: str) -> str:
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_doc_links_resolve(path: Path) -> None:
    """Links like ../docs/rl_primer.md#9-what-the-agent-sees (inline or reference) point at a real heading."""
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    inline = re.findall(r"\]\(([^)#\s]+\.(?:md|ipynb))(?:#([^)\s]+))?\)", text)
    references = re.findall(r"^ {0,3}\[[^\]]+\]:\s*([^#\s]+\.(?:md|ipynb))(?:#(\S+))?", text, flags=re.M)
    for target, anchor in inline + references:
        file = (path.parent / target).resolve()
        assert file.is_file(), f"{path.name}: link to missing file {target}"
        if anchor and file.suffix == ".md":
            headings = re.findall(r"^#+\s+(.*)$", file.read_text(encoding="utf-8"), flags=re.M)
            anchors = {_github_anchor(h) for h in headings}
            assert anchor in anchors, f"{path.name}: {target}#{anchor}: no such heading"


def test_kernel_is_this_interpreter(kernel_env: dict[str, str], tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    out = execute(path, kernel_env, tmp_path)
    printed = out.cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path, kernel_env: dict[str, str], tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    repo_runs = REPO / "runs" / "notebooks"
    before = set(repo_runs.iterdir()) if repo_runs.is_dir() else set()
    t0 = time.monotonic()
    nb = execute(path, kernel_env, runs_dir)  # raises CellExecutionError on the first failing cell
    elapsed = time.monotonic() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors, errors
    print(f"{path.name}: executed in {elapsed:.1f}s")
    # Everything went to SIMPLE_GAME_RUNS_DIR, nothing into the repository's runs/notebooks/.
    assert runs_dir.is_dir()
    after = set(repo_runs.iterdir()) if repo_runs.is_dir() else set()
    assert after == before, f"{path.name} wrote into {repo_runs}: {sorted(after - before)}"
