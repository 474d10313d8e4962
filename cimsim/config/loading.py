"""Configurations from TOML files and presets, of whichever architecture the file names.

Presets are TOML files in ``cimsim/config/presets/`` and load through the same path as a user's
file. A file's ``[meta] architecture`` names its kind, and :data:`ARCHITECTURES` maps each kind to
its configuration class: ``"cim"`` (also when absent) to :class:`~cimsim.config.chip.ChipConfig`,
``"von-neumann"`` to :class:`~cimsim.config.von_neumann.VonNeumannConfig`, and each kind added by
:func:`cimsim.register_architecture` (which calls :func:`register_config_kind`) to its own class.
This is the configuration half of the architecture registry; the half that plans a workload on a
machine is :mod:`cimsim.arch.registry`.

A file gives every field of every section ([meta] aside, whose fields are descriptive and have
defaults), or starts from a preset with a top-level ``base = "rram-22nm"`` and gives only what it
changes: its tables are laid over the preset's, field by field, and ``meta.name`` becomes the
file's name unless it sets one. A file without ``base`` that leaves fields out is a ConfigError
listing them as dotted paths, so that no field silently takes a default. Presets are complete
files. :meth:`ConfigRoot.from_toml` and :meth:`ConfigRoot.from_dict` (text and tables in a
program, not files) still take defaults for what they leave out.
"""

import os
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from cimsim.config.chip import ChipConfig
from cimsim.config.tree import ConfigRoot, join_lines, parse_toml, validate
from cimsim.config.von_neumann import VonNeumannConfig
from cimsim.errors import ConfigError

BASE_KEY = "base"
"""The top-level key of a configuration file that names the preset it starts from."""

BUILTIN_KINDS = ("cim", "von-neumann")
"""The kinds cimsim ships; they cannot be unregistered."""

ARCHITECTURES: dict[str, type[ConfigRoot]] = dict(zip(BUILTIN_KINDS, (ChipConfig, VonNeumannConfig)))
"""The configuration class of each ``meta.architecture`` a TOML file may name (``"cim"`` when absent).

Change it only through :func:`register_config_kind` and :func:`unregister_config_kind`."""

AnyConfig = ChipConfig | VonNeumannConfig
"""The configurations of the built-in kinds."""


def load_config(path: str | os.PathLike[str]) -> ConfigRoot:
    """Read a configuration from a TOML file (a :class:`ChipConfig` unless its meta names another architecture)."""
    source = f"config file '{os.fspath(path)}'"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source} cannot be read: {exc}") from None
    tables = parse_toml(text, source)
    if BASE_KEY in tables:
        return _from_tables(_on_base(tables, source, Path(path).stem), source)
    return _from_tables(tables, source, complete=True)


def list_presets(architecture: str | None = None) -> list[str]:
    """Names of the presets shipped in ``cimsim/config/presets/``, sorted; only those of ``architecture`` if given."""
    names = sorted(entry.name.removesuffix(".toml") for entry in _presets_dir().iterdir() if entry.name.endswith(".toml"))
    if architecture is None:
        return names
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"architecture = {architecture!r}; allowed: {', '.join(map(repr, ARCHITECTURES))}")
    return [name for name in names if _architecture(_preset_tables(name), f"preset '{name}'") == architecture]


def load_preset(name: str) -> ConfigRoot:
    """The preset ``name`` (see :func:`list_presets`)."""
    available = list_presets()
    if name not in available:
        raise ConfigError(f"unknown preset {name!r}; available presets: {', '.join(available)}")
    return _from_tables(_preset_tables(name), f"preset '{name}'", complete=True)


# --------------------------------------------------------------------------- kinds


def register_config_kind(name: str, config_class: type[ConfigRoot]) -> None:
    """Load files whose ``meta.architecture`` is ``name`` as ``config_class``.

    ``config_class`` is a :class:`~cimsim.config.tree.ConfigRoot` whose ``meta`` section has an
    ``architecture`` field defaulting to ``name`` (so that a saved configuration loads back as its
    class). A name or a class registered already is refused with a :class:`ConfigError`.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"architecture name = {name!r}; allowed: a non-empty string")
    if name in ARCHITECTURES:
        raise ConfigError(f"architecture {name!r} is registered already (registered: {', '.join(ARCHITECTURES)}); "
                          "allowed: a new name, or unregister_architecture first")
    if not (isinstance(config_class, type) and issubclass(config_class, ConfigRoot)):
        raise ConfigError(f"config_class = {config_class!r}; allowed: a subclass of cimsim.config.tree.ConfigRoot")
    taken = [kind for kind, registered in ARCHITECTURES.items() if registered is config_class]
    if taken:
        raise ConfigError(f"config_class {config_class.__name__} is registered already, as {taken[0]!r}; "
                          "allowed: a class of its own")
    default = _meta_architecture(config_class)
    if default != name:
        raise ConfigError(f"config_class {config_class.__name__}: meta.architecture defaults to {default!r}; "
                          f"allowed: {name!r}, the name it is registered under")
    ARCHITECTURES[name] = config_class


def unregister_config_kind(name: str) -> None:
    """Forget the kind ``name`` added by :func:`register_config_kind` (the built-in kinds stay)."""
    if name in BUILTIN_KINDS or name not in ARCHITECTURES:
        added = [kind for kind in ARCHITECTURES if kind not in BUILTIN_KINDS]
        raise ConfigError(f"architecture {name!r} cannot be unregistered; allowed: a registered kind that is not "
                          f"built in ({', '.join(map(repr, added)) or 'none registered'})")
    del ARCHITECTURES[name]


def config_kind(cfg: Any) -> str:
    """The kind (``meta.architecture``) whose configuration class ``cfg`` is an instance of; ConfigError otherwise."""
    for name, config_class in ARCHITECTURES.items():
        if type(cfg) is config_class:
            return name
    classes = ", ".join(f"{cls.__name__} ({name!r})" for name, cls in ARCHITECTURES.items())
    raise ConfigError(f"cfg: got a {type(cfg).__name__}, allowed: the configuration of a registered architecture: {classes}")


# --------------------------------------------------------------------------- helpers


def _meta_architecture(config_class: type[ConfigRoot]) -> Any:
    """The default ``meta.architecture`` of a configuration class (None when it has none)."""
    meta = config_class.model_fields.get("meta")
    meta_class = meta.annotation if meta is not None else None
    field = getattr(meta_class, "model_fields", {}).get("architecture")
    return None if field is None else field.default


def _presets_dir() -> Traversable:
    return resources.files("cimsim.config").joinpath("presets")


def _preset_tables(name: str) -> dict[str, Any]:
    text = _presets_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return parse_toml(text, f"preset '{name}'")


def _architecture(data: dict[str, Any], source: str) -> str:
    """The ``meta.architecture`` of parsed tables (``"cim"`` when absent), checked."""
    meta = data.get("meta")
    kind = meta.get("architecture", "cim") if isinstance(meta, Mapping) else "cim"
    if not (isinstance(kind, str) and kind in ARCHITECTURES):
        allowed = ", ".join(map(repr, ARCHITECTURES))
        raise ConfigError(join_lines(source, [f"meta.architecture: got {kind!r}, allowed: one of {allowed}"]))
    return kind


def _from_tables(data: dict[str, Any], source: str, complete: bool = False) -> ConfigRoot:
    """The configuration of parsed tables; with ``complete``, every field but meta's must be given."""
    config_class = ARCHITECTURES[_architecture(data, source)]
    missing = _missing_fields(config_class, data) if complete else []
    if not missing:
        return validate(config_class, data, source)
    lines = [f"missing fields: {', '.join(missing)}; a file gives every field, or starts with "
             f"base = \"<preset>\" (one of {', '.join(list_presets())}) and gives only what it changes"]
    try:
        validate(config_class, data, source=None)
    except ConfigError as error:
        lines += str(error).splitlines()
    raise ConfigError(join_lines(source, lines))


def _missing_fields(config_class: type[ConfigRoot], data: dict[str, Any]) -> list[str]:
    """The dotted fields of ``config_class`` that ``data`` does not give (a whole section as ``[name]``).

    The meta section is left out: its fields describe the configuration and have defaults.
    """
    missing = []
    for section, info in config_class.model_fields.items():
        fields = getattr(info.annotation, "model_fields", {})
        if section == "meta" or not fields:
            continue
        given = data.get(section)
        if not isinstance(given, Mapping):
            missing.append(f"[{section}] (its {len(fields)} field{'s' if len(fields) > 1 else ''})")
            continue
        missing += [f"{section}.{name}" for name in fields if name not in given]
    return missing


def _on_base(tables: dict[str, Any], source: str, name: str) -> dict[str, Any]:
    """A file's tables laid over those of the preset its ``base`` names, field by field."""
    tables = dict(tables)
    base = tables.pop(BASE_KEY)
    presets = list_presets()
    if base not in presets:
        raise ConfigError(join_lines(source, [f"base: got {base!r}, allowed: a preset name, one of {', '.join(presets)}"]))
    merged = _preset_tables(base)
    for section, table in tables.items():
        both = isinstance(table, Mapping) and isinstance(merged.get(section), Mapping)
        merged[section] = {**merged[section], **table} if both else table
    if isinstance(merged.get("meta"), Mapping) and "name" not in tables.get("meta", {}):
        merged["meta"] = {**merged["meta"], "name": name}
    return merged
