"""The functional model's physics: what a crossbar does to numbers.

- :mod:`~cimsim.physics.device`: one resistive cell (programming noise, drift, read noise,
  stuck faults), its statistics taken from the registered device models of
  :mod:`~cimsim.physics.device_models` (public: :class:`DeviceModel` and the registry functions);
- :mod:`~cimsim.physics.drift_compensation`: aihwkit's global drift compensation
  (public: :class:`GlobalDriftCompensation`, the ``drift_compensation`` of an ``AnalogMatrix``);
- :mod:`~cimsim.physics.mapping`: weights to conductance levels and inputs to DAC codes
  (quantisation, bit slices, signed encodings, tiling over arrays, compaction) and the
  :class:`~cimsim.physics.mapping.ArrayGeometry` of a configuration;
- :mod:`~cimsim.physics.converters`: the column ADC (codes, full scale, segments) and its
  kinds (:class:`~cimsim.physics.converters.AdcKind`);
- :mod:`~cimsim.physics.columns`: the conversion columns of a programmed matrix and ISAAC's flips;
- :mod:`~cimsim.physics.encoding`: a chunk of inputs as the DAC codes of every cycle;
- :mod:`~cimsim.physics.input_model`: the statistics of a layer's inputs when no data flows;
- :mod:`~cimsim.physics.kernels`: numba kernels, pure functions, each with a numpy twin;
- :mod:`~cimsim.physics.random_stream`: the keyed streams of Gaussians the kernels draw;
- :mod:`~cimsim.physics.seeding`: seeds and generators.

Physics imports neither the costs nor the engine.
"""

from cimsim.physics.device_models import DeviceModel, list_device_models, register_device_model, unregister_device_model
from cimsim.physics.drift_compensation import GlobalDriftCompensation

__all__ = [
    "DeviceModel", "GlobalDriftCompensation", "list_device_models", "register_device_model", "unregister_device_model",
]
