"""cimsim: a simulator of compute-in-memory accelerators built from resistive crossbars.

The public API is described in DESIGN.md; what exists today is the crossbar core:
configurations and presets, and ``AnalogMatrix`` with its action ``Ledger``.
"""

from cimsim.config import ChipConfig, list_presets, load_config, load_preset
from cimsim.crossbar import AnalogMatrix
from cimsim.errors import ConfigError, ShapeError
from cimsim.ledger import Ledger

__all__ = [
    "AnalogMatrix",
    "ChipConfig",
    "ConfigError",
    "Ledger",
    "ShapeError",
    "list_presets",
    "load_config",
    "load_preset",
]
__version__ = "0.1.0"
