"""Build the teaching notebooks notebooks/*.ipynb from their jupytext percent scripts notebooks/0N_*.py.

    python scripts/make_notebooks.py            # (re)write notebooks/*.ipynb
    python scripts/make_notebooks.py --check    # exit 1 if a stored notebook differs from its script

The scripts are the source: plain Python (``# %%`` code cells, ``# %% [markdown]`` text cells) that
ruff lints and formats and any editor understands. Edit a script, then run this. The notebooks are
stored without outputs, and cell ids are numbered, so rebuilding an unchanged notebook changes
nothing on disk. The code the notebooks share lives in ``simple_game.notebook``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def scripts() -> list[Path]:
    """The percent scripts, in reading order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def render(script: Path) -> str:
    """The .ipynb text built from one percent script: no outputs, no jupytext metadata, stable ids."""
    nb = jupytext.read(script, fmt="py:percent")
    nb.metadata = nbformat.from_dict(METADATA)
    for i, cell in enumerate(nb.cells):
        cell.id = f"{script.stem[:40]}-{i:02d}"
        cell.metadata = nbformat.NotebookNode()
        if cell.cell_type == "code":
            compile(cell.source, f"{script.name} cell {i}", "exec")  # fail the build, not a learner's session
    nbformat.validate(nb)
    return nbformat.writes(nb, version=4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that notebooks/*.ipynb match their scripts")
    args = parser.parse_args(argv)
    stale = []
    for script in scripts():
        text = render(script)
        path = script.with_suffix(".ipynb")
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"out of date (run python scripts/make_notebooks.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
