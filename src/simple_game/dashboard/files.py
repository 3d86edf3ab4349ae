"""Reading files that training may be writing at this very moment, without ever writing one.

SB3 appends one row to ``progress.csv`` per log dump and the evaluation callback one row to
``eval.csv`` per evaluation, so a file read mid-write can end in half a line. Such a line is
left out (it will be whole on the next read) and said in a warning, never an error: the
dashboard shows what is there and carries on.

Every read is keyed on a :class:`Stamp` (path, modification time, size): the cache layer
re-reads a file only when one of them has changed.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml


@dataclass(frozen=True)
class Stamp:
    """What identifies one version of a file: its path, modification time (ns) and size."""

    path: str
    mtime_ns: int
    size: int


def stamp(path: Path) -> Optional[Stamp]:
    """The file's :class:`Stamp`, or ``None`` when it is not a readable regular file."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    if not Path(path).is_file():
        return None
    return Stamp(str(path), st.st_mtime_ns, st.st_size)


@dataclass
class Table:
    """A CSV of numbers as ``{column: [values]}``; empty or non-numeric cells are NaN."""

    columns: dict[str, list[float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.nan


def parse_csv(text: str, name: str = "file") -> Table:
    """Parse CSV text; a last line without its newline (still being written) is left out.

    Rows whose number of cells does not match the header (a torn or hand-edited line) are
    skipped and counted in a warning. SB3 leaves a cell empty when a key was not logged in
    that dump, so NaN is normal and not warned about.
    """
    table = Table()
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
        table.warnings.append(f"{name}: the last line is still being written; it is left out")
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header:
            table.warnings.append(f"{name}: empty")
            return table
        table.columns = {column: [] for column in header}
        skipped = 0
        for row in reader:
            if len(row) != len(header):
                skipped += 1
                continue
            for column, cell in zip(header, row, strict=True):
                table.columns[column].append(_number(cell))
    except csv.Error as exc:
        table.warnings.append(f"{name}: unreadable after row {table.rows} ({exc})")
        return table
    if skipped:
        table.warnings.append(f"{name}: {skipped} malformed row{'s' if skipped > 1 else ''} skipped")
    return table


def read_csv(path: Path) -> Table:
    """:func:`parse_csv` of a file; a missing or unreadable file is an empty table with a warning."""
    try:
        text = Path(path).read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        return Table(warnings=[f"{Path(path).name}: cannot be read ({exc.strerror or exc})"])
    return parse_csv(text, Path(path).name)


def read_json_object(path: Path) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """A JSON object and ``None``, or ``None`` and a short reason it could not be read."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{Path(path).name}: unreadable ({exc})"
    if not isinstance(data, dict):
        return None, f"{Path(path).name}: not a JSON object"
    return data, None


def read_yaml_mapping(path: Path) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """A YAML mapping and ``None``, or ``None`` and a short reason it could not be read."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        return None, f"{Path(path).name}: unreadable ({reason})"
    if not isinstance(data, dict):
        return None, f"{Path(path).name}: not a mapping"
    return data, None


def read_bytes(path: Path) -> tuple[Optional[bytes], Optional[str]]:
    """A file's bytes and ``None``, or ``None`` and why not (gone, unreadable, empty)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None, f"{Path(path).name}: missing"
    except OSError as exc:
        return None, f"{Path(path).name}: cannot be read ({exc.strerror or exc})"
    if not data:
        return None, f"{Path(path).name}: empty"
    return data, None
