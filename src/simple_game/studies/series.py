"""An ablation series: a folder of experiment configs that each change one thing, run in order.

::

    configs/ablations/dqn_breakout/
      series.yaml          optional: ``description: ...`` (not a run config)
      01_vanilla.yaml      an ordinary experiment config (``extends:`` works as usual)
      02_double.yaml
      03_dueling.yaml

Each ``NN_<variant>.yaml`` is one variant: ``NN`` (two digits) fixes the order in which the
variants are trained and reported, ``<variant>`` (the stem without ``NN_``) is its name. An
ablation changes one thing at a time, so a reader can say which change moved the score; the
numbers keep "vanilla first, then each addition" in the tables and figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from simple_game.errors import SimpleGameError

SERIES_FILE = "series.yaml"
VARIANT_FILE = re.compile(r"(?P<index>\d{2})_(?P<variant>[A-Za-z0-9][A-Za-z0-9_-]*)\.yaml")
SERIES_KEYS = ("description",)


@dataclass(frozen=True)
class Variant:
    """One config of a series: ``02_double.yaml`` is index 2, name ``double``."""

    index: int
    name: str
    path: Path


@dataclass(frozen=True)
class Series:
    """A series folder read and checked: its variants in file-name order."""

    path: Path
    description: str
    variants: tuple[Variant, ...]

    @property
    def name(self) -> str:
        return self.path.resolve().name


def read_series(folder: str | Path) -> Series:
    """Read ``folder`` as a series; a missing folder, no configs or a badly named file is a one-line error."""
    path = Path(folder)
    if not path.is_dir():
        raise SimpleGameError(f"{path}: not a folder (a series is a folder of NN_<variant>.yaml configs)")
    variants: list[Variant] = []
    for file in sorted(path.iterdir()):
        if file.name.startswith(".") or file.name == SERIES_FILE or file.suffix not in (".yaml", ".yml"):
            continue  # notes (README.md) may sit beside the configs
        match = VARIANT_FILE.fullmatch(file.name)
        if match is None:
            raise SimpleGameError(
                f"{file}: badly named series config (allowed: NN_<variant>.yaml, two digits then letters, "
                f"digits, '_' or '-', e.g. 01_vanilla.yaml; or {SERIES_FILE})"
            )
        variants.append(Variant(int(match["index"]), match["variant"], file))
    if not variants:
        raise SimpleGameError(f"{path}: no configs in this series (expected files like 01_vanilla.yaml)")
    _check_unique(path, variants)
    return Series(path, _description(path / SERIES_FILE), tuple(variants))


def _check_unique(path: Path, variants: list[Variant]) -> None:
    """Two files with one number or one variant name would make the order or the run names ambiguous."""
    for what, key in (("number", lambda v: f"{v.index:02d}"), ("variant name", lambda v: v.name)):
        seen: dict[str, Path] = {}
        for variant in variants:
            other = seen.setdefault(key(variant), variant.path)
            if other != variant.path:
                raise SimpleGameError(f"{path}: {other.name} and {variant.path.name} have the same {what}")


def _description(path: Path) -> str:
    """``series.yaml``'s ``description:`` ("" without the file); any other key is an error."""
    if not path.is_file():
        return ""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SimpleGameError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise SimpleGameError(f"{path}: expected a mapping such as 'description: ...'")
    unknown = [str(k) for k in data if k not in SERIES_KEYS]
    if unknown:
        raise SimpleGameError(f"{path}: {unknown[0]}: unknown key (allowed: {', '.join(SERIES_KEYS)})")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SimpleGameError(f"{path}: description: expected text")
    return description.strip()
