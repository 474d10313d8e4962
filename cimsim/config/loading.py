"""Configurations from TOML files and presets, of whichever architecture the file names.

Presets are TOML files in ``cimsim/config/presets/`` and load through the same path as a user's
file. A file whose ``[meta]`` sets ``architecture = "von-neumann"`` loads as a
:class:`~cimsim.config.von_neumann.VonNeumannConfig`; any other as a
:class:`~cimsim.config.chip.ChipConfig`.
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

ARCHITECTURES: dict[str, type[ConfigRoot]] = {"cim": ChipConfig, "von-neumann": VonNeumannConfig}
"""The configuration class of each ``meta.architecture`` a TOML file may name (``"cim"`` when absent)."""

AnyConfig = ChipConfig | VonNeumannConfig


def load_config(path: str | os.PathLike[str]) -> AnyConfig:
    """Read a configuration from a TOML file (a :class:`ChipConfig` unless its meta names another architecture)."""
    source = f"config file '{os.fspath(path)}'"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source} cannot be read: {exc}") from None
    return _from_tables(parse_toml(text, source), source)


def list_presets(architecture: str | None = None) -> list[str]:
    """Names of the presets shipped in ``cimsim/config/presets/``, sorted; only those of ``architecture`` if given."""
    names = sorted(entry.name.removesuffix(".toml") for entry in _presets_dir().iterdir() if entry.name.endswith(".toml"))
    if architecture is None:
        return names
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"architecture = {architecture!r}; allowed: {', '.join(map(repr, ARCHITECTURES))}")
    return [name for name in names if _architecture(_preset_tables(name), f"preset '{name}'") == architecture]


def load_preset(name: str) -> AnyConfig:
    """The preset ``name`` (see :func:`list_presets`)."""
    available = list_presets()
    if name not in available:
        raise ConfigError(f"unknown preset {name!r}; available presets: {', '.join(available)}")
    return _from_tables(_preset_tables(name), f"preset '{name}'")


# --------------------------------------------------------------------------- helpers


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


def _from_tables(data: dict[str, Any], source: str) -> AnyConfig:
    return validate(ARCHITECTURES[_architecture(data, source)], data, source)
