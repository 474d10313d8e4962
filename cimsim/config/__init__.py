"""The configuration tree: typed, frozen, validated at construction; TOML files and presets.

* :mod:`~cimsim.config.tree`: the machinery every tree shares (strict validation, dotted-field
  errors, TOML load and dump, overrides);
* :mod:`~cimsim.config.sections` and :mod:`~cimsim.config.prices`: the sections of a crossbar
  chip; :mod:`~cimsim.config.chip`: :class:`ChipConfig`, which assembles them;
* :mod:`~cimsim.config.von_neumann`: :class:`VonNeumannConfig`, the baseline machine;
* :mod:`~cimsim.config.loading`: files and presets (``presets/*.toml``), of whichever
  architecture a file's ``meta.architecture`` names.
"""

from cimsim.config.chip import ChipConfig, ChipLevelConfig, TileConfig
from cimsim.config.loading import ARCHITECTURES, AnyConfig, list_presets, load_config, load_preset
from cimsim.config.naming import config_label
from cimsim.config.prices import AreaConfig, EnergyConfig
from cimsim.config.sections import ADCConfig, ArrayConfig, DACConfig, DeviceConfig, MappingConfig, MetaConfig
from cimsim.config.tree import BaseMeta, ConfigRoot, Node
from cimsim.config.von_neumann import VonNeumannConfig

__all__ = [
    "ADCConfig", "ARCHITECTURES", "AnyConfig", "AreaConfig", "ArrayConfig", "BaseMeta", "ChipConfig", "ChipLevelConfig",
    "ConfigRoot", "Node",
    "DACConfig", "DeviceConfig", "EnergyConfig", "MappingConfig", "MetaConfig", "TileConfig", "VonNeumannConfig",
    "config_label", "list_presets", "load_config", "load_preset",
]
