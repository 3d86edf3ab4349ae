"""YAML files -> one validated pydantic model, for every kind of YAML file we read.

Loading happens in three steps, each with a clear error when it fails:

1. ``yaml.safe_load`` every file (never ``yaml.load``: a config must not run code);
2. follow ``extends: other.yaml`` chains and deep-merge, child keys winning;
3. apply ``--set a.b=c`` overrides (values parsed as YAML, so ``8``, ``true``, ``lin_1e-4`` work),
   then validate with pydantic.

Along the way ``origins`` records which file (or ``--set``) set each dotted key, so an error
names the file the user has to edit, not the one that happened to extend it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from simple_game.config.games import did_you_mean
from simple_game.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)
Origins = dict[str, str]


def load_yaml_model(
    path: str | Path,
    model_cls: type[ModelT],
    overrides: Optional[Sequence[str]] = None,
    *,
    defaults: Optional[Mapping[str, Any]] = None,
    flags: Optional[Mapping[str, tuple[str, Any]]] = None,
) -> tuple[ModelT, Origins]:
    """Load ``path`` (with its ``extends:`` chain and ``--set`` overrides) into ``model_cls``.

    :param defaults: top-level values for keys no file or override sets (a config's name: its file stem).
    :param flags: values from other command-line flags, set last: ``{"name": ("--name", "my-run")}``;
        an error in one names the flag.
    :return: the model and the origins (which file or flag set each dotted key).
    """
    path = Path(path)
    data, origins = load_yaml_data(path, overrides)
    for key, value in (defaults or {}).items():
        data.setdefault(key, value)
    for key, (flag, value) in (flags or {}).items():
        data[key] = value
        origins[key] = flag
    return validate_model(data, model_cls, str(path), origins), origins


def load_yaml_data(path: str | Path, overrides: Optional[Sequence[str]] = None) -> tuple[dict[str, Any], Origins]:
    """The merged YAML data of ``path`` and its bases, with ``--set`` overrides applied."""
    data, origins = _load_with_bases(Path(path), chain=())
    for item in overrides or []:
        apply_override(data, origins, item)
    return data, origins


def validate_model(
    data: dict[str, Any], model_cls: type[ModelT], source: str, origins: Optional[Origins] = None
) -> ModelT:
    """``model_cls.model_validate(data)``, a failure turned into one :class:`ConfigError` line."""
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, model_cls, source, origins or {})) from None


def _load_yaml(path: Path) -> dict[str, Any]:
    if path.exists() and not path.is_file():
        raise ConfigError(f"{path}: is not a config file (a folder or a device); give a .yaml file")
    if not path.is_file():
        hint = ""
        if path.parent.is_dir():
            hint = did_you_mean(path.name, [p.name for p in path.parent.glob("*.y*ml")])
        raise ConfigError(f"{path}: config file not found{hint}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: YAML syntax error{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys (got {type(data).__name__})")
    return data


def _load_with_bases(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], Origins]:
    resolved = path.resolve()
    if resolved in chain:
        raise ConfigError(f"{path}: extends: cycle ({' -> '.join(p.name for p in chain + (resolved,))})")
    data = _load_yaml(path)
    base_ref = data.pop("extends", None)
    if base_ref is None:
        merged: dict[str, Any] = {}
        origins: Origins = {}
    else:
        if not isinstance(base_ref, str):
            raise ConfigError(f"{path}: extends: expected a relative file path, got {base_ref!r}")
        base_path = path.parent / base_ref
        if not base_path.is_file():
            raise ConfigError(f"{path}: extends: base file {base_ref!r} not found (looked in {path.parent})")
        merged, origins = _load_with_bases(base_path, chain + (resolved,))
    _deep_merge(merged, data, origins, str(path), prefix="")
    return merged, origins


def _deep_merge(base: dict[str, Any], over: dict[str, Any], origins: Origins, source: str, prefix: str) -> None:
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value, origins, source, dotted + ".")
        else:
            base[key] = copy.deepcopy(value)
            _set_origin(origins, dotted, source)


def _set_origin(origins: Origins, dotted: str, source: str) -> None:
    """``dotted`` now comes from ``source``, and so does everything under it (a replaced mapping)."""
    for stale in [k for k in origins if k.startswith(dotted + ".")]:
        del origins[stale]
    origins[dotted] = source


def apply_override(data: dict[str, Any], origins: Origins, item: str) -> None:
    """Apply one ``--set key.path=value`` to ``data`` (the value is parsed as YAML)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected key.path=value, e.g. --set env.n_envs=4")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key):
        raise ConfigError(f"--set {item!r}: bad key path {key!r} (use dotted names like hyperparams.n_steps)")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"--set {item!r}: {'.'.join(parts[: i + 1])} is not a mapping")
        node = child
    node[parts[-1]] = value
    _set_origin(origins, key, "--set")


def origin_of(loc: str, source: str, origins: Mapping[str, str]) -> str:
    """The file that set ``loc`` (or its closest parent key), so errors point at the right file."""
    parts = loc.split(".")
    for i in range(len(parts), 0, -1):
        hit = origins.get(".".join(parts[:i]))
        if hit:
            return hit
    return source


def format_validation_error(
    exc: ValidationError, model_cls: type[BaseModel], source: str, origins: Optional[Mapping[str, str]] = None
) -> str:
    """One line naming the file (or ``--set``) and the key: ``exp.yaml: env.gmae: unknown key ...``.

    One error is shown, fixing one thing at a time beats a screenful: an unknown key first when
    there is one (a misplaced ``game:`` at the top also leaves ``env`` missing, and the key is
    the cause), else pydantic's first.
    """
    errors = exc.errors()
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = ".".join(str(p) for p in err["loc"])
    where = origin_of(loc, source, origins or {})
    prefix = f"{where}: {loc}: " if loc else f"{where}: "
    kind = err["type"]
    if kind == "extra_forbidden":
        key, parent = str(err["loc"][-1]), err["loc"][:-1]
        allowed = allowed_keys(model_cls, parent)
        sections = [f for f in allowed if key in allowed_keys(model_cls, (*parent, f))]
        homes = [".".join(map(str, (*parent, f, key))) for f in sections]
        hint = f" (it belongs under a section: {' or '.join(homes)})" if homes else did_you_mean(key, allowed)
        return f"{prefix}unknown key{hint} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return f"{prefix}required key is missing"
    msg = re.sub(r"^(Value error|Assertion failed), ", "", err["msg"])
    value = err.get("input")
    # A whole mapping or list (``env:``, ``tiers:``) would not fit on one line; the key says enough.
    shown = "" if kind.startswith("value_error") or isinstance(value, (dict, list)) else f" (got {value!r})"
    return f"{prefix}{msg}{shown}"


def allowed_keys(model_cls: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The keys a user may write at ``loc`` (a pydantic error location) inside ``model_cls``.

    Walks nested models through ``Optional[...]`` and ``list[...]`` fields and skips list indexes,
    so ``tiers.0`` lists a tier's keys; fields the user does not write (``exclude=True``) are left out.
    """
    model: Any = model_cls
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        models = [a for a in (field.annotation, *get_args(field.annotation)) if _is_model(a)]
        if not models:
            return []
        model = models[0]
    return [name for name, field in model.model_fields.items() if not field.exclude]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
