"""cimsim: a simulator of compute-in-memory accelerators built from resistive crossbars.

The public API (docs/index.md): configurations and presets, ``AnalogMatrix``, its
costs (the priced action ``Ledger``, the ``EnergyModel``, the chip's ``peak`` figures), the
``Workload`` of ``Gemm`` and ``NonGemm`` operations that the TVM bridge extracts, and
``simulate``, which runs a workload on a chip or on the von Neumann baseline through the event
engine and returns a ``Report`` (``compare`` puts reports side by side), and the registry of the
architectures it simulates (``register_architecture``, ``list_architectures``).
"""

import os as _os

# Thread pools that spin after their work keep a core busy and slow cimsim's numba kernels
# 2-5x on small machines: OpenBLAS's workers spin ~0.1 s after each product (the variable is
# read when numpy loads, so it only helps when cimsim is imported before numpy) and OpenMP's
# workers spin after each parallel kernel. Users' own settings win.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
_os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from cimsim.arch.registry import list_architectures, register_architecture, unregister_architecture
from cimsim.config.von_neumann import VonNeumannConfig
from cimsim.config import ChipConfig, list_presets, load_config, load_preset
from cimsim.crossbar import AnalogMatrix
from cimsim.costs.adc_energy import list_adc_energy_models, register_adc_energy_model, unregister_adc_energy_model
from cimsim.costs.energy import EnergyModel
from cimsim.errors import ConfigError, ShapeError
from cimsim.costs.ledger import Ledger
from cimsim.costs.peak import PeakFigures, peak
from cimsim.physics.device_models import list_device_models, register_device_model, unregister_device_model
from cimsim.engine.comparison import Comparison, compare
from cimsim.engine.report import LayerRow, Report
from cimsim.simulate import simulate
from cimsim.workload import ConvGeometry, Gemm, NonGemm, Workload

__all__ = [
    "AnalogMatrix",
    "ChipConfig",
    "Comparison",
    "ConfigError",
    "ConvGeometry",
    "EnergyModel",
    "Gemm",
    "LayerRow",
    "Ledger",
    "NonGemm",
    "PeakFigures",
    "Report",
    "ShapeError",
    "VonNeumannConfig",
    "Workload",
    "compare",
    "list_adc_energy_models",
    "list_architectures",
    "list_device_models",
    "list_presets",
    "load_config",
    "load_preset",
    "peak",
    "register_adc_energy_model",
    "register_architecture",
    "register_device_model",
    "simulate",
    "unregister_adc_energy_model",
    "unregister_architecture",
    "unregister_device_model",
]
__version__ = "0.1.0"
