"""The crossbar's sections of the configuration tree: meta, device, array, DAC, ADC, mapping.

Each section is a frozen pydantic model (:class:`~cimsim.config.tree.Node`) whose fields carry
their unit in the name or the description (µS, V, ns). :class:`~cimsim.config.chip.ChipConfig`
assembles them with the tile, chip, energy and area sections.
"""

from typing import Annotated, Literal, Union

from annotated_types import Ge
from pydantic import Field, model_validator

from cimsim.config.tree import DEVICE_MODEL_NAMES, BaseMeta, Node, cross_field_error, physical_field

DeviceModelName = str
"""The name of a registered device model, which a noise or drift field may give instead of a number.

The models live in :mod:`cimsim.physics.device_models` (``cimsim.list_device_models()``; built in:
``"pcm_nandakumar2019"``, aihwkit's ``PCMLikeNoiseModel``; ``cimsim.register_device_model`` adds
one). :class:`DeviceConfig` refuses a name that is not registered when it is built.
"""

_DeviceValue = Union[Annotated[float, Ge(0)], DeviceModelName]
"""A number >= 0 (a fraction or an exponent) or the name of a device model."""

DEVICE_MODEL_FIELDS = ("program_noise", "read_noise", "drift_nu")
"""The fields of :class:`DeviceConfig` that take a number or a device model's name."""


class MetaConfig(BaseMeta):
    """What the configuration is and where its numbers come from."""

    architecture: Literal["cim"] = Field(
        "cim", description="Kind of machine: 'cim' (a crossbar chip); 'von-neumann' files load as VonNeumannConfig."
    )


class DeviceConfig(Node):
    """One resistive cell: conductance range, read voltage, noise, drift and stuck faults."""

    g_min_us: float = Field(1.0, ge=0, description="Lowest programmable conductance of one cell (µS).")
    g_max_us: float = Field(100.0, gt=0, description="Highest programmable conductance of one cell (µS); > g_min_us.")
    v_read: float = Field(0.2, gt=0, description="Read voltage applied to a row at full-scale input (V).")
    program_noise: _DeviceValue = Field(
        0.0,
        description="Programming noise: σ of the programmed conductance as a fraction of g_max_us "
        "(dimensionless), drawn once at program time; or the name of a registered device model "
        "(cimsim.list_device_models()), whose σ may depend on the target conductance.",
    )
    read_noise: _DeviceValue = Field(
        0.0,
        description="Read noise: σ per read as a fraction of g_max_us (dimensionless); "
        "or the name of a registered device model, whose σ may depend on the conductance and the time.",
    )
    drift_nu: _DeviceValue = Field(
        0.0,
        description="Mean drift exponent ν of G(t) = G_prog·(t/drift_t0_s)^-ν (dimensionless); "
        "or the name of a registered device model, which sets the mean and spread of ν per conductance.",
    )
    drift_nu_std: float = Field(
        0.0, ge=0, description="Spread σ of ν across cells when drift_nu is a number (dimensionless)."
    )
    drift_t0_s: float = Field(20.0, gt=0, description="Drift reference time t0 (s): the time of the first read "
                              "after programming, at which a cell holds G_prog.")
    drift_clock: Literal["since_programming", "after_t0"] = Field(
        "since_programming",
        description="What the time t of AnalogMatrix.drift_to(t) counts: 'since_programming' (t from the start "
        "of programming, G(t) = G_prog·(max(t, t0)/t0)^-ν) or 'after_t0' (aihwkit's t_inference, from the first "
        "read at t0: G(t) = G_prog·((t + t0)/t0)^-ν).",
    )
    read_noise_draw: Literal["per_read", "per_evaluation"] = Field(
        "per_read",
        description="When read noise is drawn: 'per_read' (anew at every read) or 'per_evaluation' (once per cell at "
        "every AnalogMatrix.drift_to(t), kept for all reads until the next, as aihwkit's PCMLikeNoiseModel).",
    )
    program_clip: Literal["range", "zero"] = Field(
        "range",
        description="Where programmed conductances are clipped after programming noise: 'range' (to [g_min_us, "
        "g_max_us] µS, the device's physical range) or 'zero' (at 0 µS only, as aihwkit).",
    )
    stuck_off: float = Field(0.0, ge=0, le=1, description="Fraction of cells stuck at g_min_us (0..1).")
    stuck_on: float = Field(0.0, ge=0, le=1, description="Fraction of cells stuck at g_max_us (0..1).")
    write_energy_pj: float = Field(
        16.0, ge=0, description="Energy to program one cell, program-and-verify included (pJ); priced when a "
        "chip too small for its workload reprograms its arrays (chip.oversubscription = 'reprogram').",
    )
    write_ns_per_row: float = Field(
        1000.0, ge=0, description="Time to program one row of an array, all its cells in parallel, verify included (ns).",
    )

    @model_validator(mode="after")
    def _check_model_names(self) -> "DeviceConfig":
        names = DEVICE_MODEL_NAMES()
        for field in DEVICE_MODEL_FIELDS:
            value = getattr(self, field)
            if isinstance(value, str) and value not in names:
                registered = ", ".join(map(repr, names)) or "none"
                raise cross_field_error(
                    field, value, f"a number >= 0, or the name of a registered device model ({registered}; "
                    "cimsim.register_device_model adds one)"
                )
        return self

    @model_validator(mode="after")
    def _check_relations(self) -> "DeviceConfig":
        if self.g_max_us <= self.g_min_us:
            raise cross_field_error(
                "g_max_us", self.g_max_us, f"a number > g_min_us ({self.g_min_us!r}): the conductance range is empty"
            )
        if self.stuck_off + self.stuck_on > 1.0:
            raise cross_field_error(
                "stuck_on", self.stuck_on, f"at most 1 - stuck_off = {1.0 - self.stuck_off!r} (stuck fractions sum to <= 1)"
            )
        if isinstance(self.drift_nu, str) and self.drift_nu_std != 0.0:
            raise cross_field_error(
                "drift_nu_std",
                self.drift_nu_std,
                f"0 when drift_nu names a model ({self.drift_nu!r} sets its own spread of ν)",
            )
        return self


MAX_ARRAY_SIDE = 4096
ARRAY_SIDE_REASON = ("crossbar arrays are built with 64 to 1024 cells a side; beyond 4096 cells on one line the "
                     "wire's IR drop and the summed column current leave little usable signal")

SERIES_RESISTANCE_FIELDS = ("driver_resistance_ohm", "sense_resistance_ohm", "access_resistance_ohm")
"""The fields of :class:`ArrayConfig` for resistances in series with the solved circuit's wires and cells (Ω)."""


class ArrayConfig(Node):
    """One crossbar array: geometry, levels per cell, read pulse, wire and series resistances (IR drop)."""

    rows: int = physical_field(128, ge=1, limit=MAX_ARRAY_SIDE, reason=ARRAY_SIDE_REASON,
                               description="Rows (inputs, word lines) per array.")
    cols: int = physical_field(128, ge=1, limit=MAX_ARRAY_SIDE, reason=ARRAY_SIDE_REASON,
                               description="Physical columns (bit lines) per array.")
    bits_per_cell: int = Field(2, ge=1, le=8, description="Bits stored per cell (2^bits levels).")
    t_read_ns: float = Field(100.0, gt=0, description="Duration of one array read, i.e. one input cycle (ns).")
    wire_resistance_ohm: float = Field(
        0.0,
        ge=0,
        description="Wire resistance per cell pitch along rows and columns (Ω); 0 turns IR drop off.",
    )
    ir_drop: Literal["solved", "first_order"] = Field(
        "solved",
        description="IR-drop model when wire_resistance_ohm > 0: 'solved' = the array's nodal equations solved "
        "exactly once per device state (every cell's current crowds the shared wires); 'first_order' = "
        "G/(1 + G·R·n), each cell as if it alone conducted (fast, underestimates the drop).",
    )
    driver_resistance_ohm: float = Field(
        0.0, ge=0, description="Row driver's output resistance, in series with the first row segment (Ω); "
        "ir_drop = 'solved' only."
    )
    sense_resistance_ohm: float = Field(
        0.0, ge=0, description="Input resistance of the column's virtual ground (sense amplifier), in series with "
        "the last column segment (Ω); ir_drop = 'solved' only."
    )
    access_resistance_ohm: float = Field(
        0.0, ge=0, description="On-resistance of each cell's access transistor, in series with the cell (Ω); "
        "ir_drop = 'solved' only."
    )

    @model_validator(mode="after")
    def _check_series_resistances(self) -> "ArrayConfig":
        if self.ir_drop == "solved" and self.wire_resistance_ohm > 0:
            return self
        for name in SERIES_RESISTANCE_FIELDS:
            value = getattr(self, name)
            if value > 0:
                raise cross_field_error(
                    name, value, "0 unless ir_drop = 'solved' and wire_resistance_ohm > 0 (the series resistances "
                    f"belong to the solved circuit; got ir_drop = {self.ir_drop!r}, wire_resistance_ohm = "
                    f"{self.wire_resistance_ohm!r})"
                )
        return self


class DACConfig(Node):
    """Row drivers."""

    bits: int = Field(
        1,
        ge=1,
        le=16,
        description="Magnitude bits applied per cycle (1 = bit-serial), at most 16: a row driver's 2^16 voltage "
        "levels are already below its noise; the top code 2^bits - 1 drives v_read. "
        "Signed inputs carry input_bits - 1 magnitude bits (the sign is a phase or the drive's polarity), so with "
        "dac.bits = input_bits their top code drives about v_read / 2.",
    )


class ADCConfig(Node):
    """Column converters."""

    bits: int = physical_field(
        8, ge=1, le=24, limit=16, description="ADC resolution (bits).",
        reason="converters fast enough for a column (MS/s to GS/s) reach about 12-14 effective bits in the Murmann "
        "survey (ADC-05..13); bits beyond 16 are below their noise, while energy and area grow as 2^bits",
    )
    range: Literal["max", "calibrated"] = Field(
        "max",
        description="Full-scale range: 'max' = the largest possible column current; "
        "'calibrated' = a percentile of the currents seen on calibration inputs.",
    )
    calibration_percentile: float = Field(
        99.99, gt=0, le=100, description="Percentile of calibration currents taken as full scale when range = 'calibrated' (%)."
    )
    noise_lsb: float = Field(0.0, ge=0, description="Input-referred ADC noise σ (LSB).")
    sample_rate_gsps: float = Field(1.28, gt=0, description="Conversion rate of one ADC (GS/s).")
    columns_per_adc: int = Field(
        128,
        ge=1,
        description="Physical columns sharing one ADC through sample-and-holds (a differential pair sensed in "
        "analog is two columns and one conversion).",
    )
    arrays_per_adc: int = Field(
        1,
        ge=1,
        le=256,
        description="Arrays of a tile whose columns take turns on one bank of ADCs ('sar' only): each array keeps "
        "its sample-and-holds, the bank converts the arrays' columns one array after another, so a vector's ADC "
        "stage takes as many turns as the bank has arrays busy. Banks are engine resources (adcs:<tile>.<bank>) "
        "contended by the layers whose arrays share them; ADC area falls by this factor. 1 = every array has its "
        "own ADCs (ISAAC-07).",
    )
    kind: Literal["sar", "integrating"] = Field(
        "sar",
        description="'sar' = a converter at sample_rate_gsps, shared by columns_per_adc columns through "
        "sample-and-holds and pipelined behind the array, its energy from energy.adc_model; 'integrating' = "
        "NeuRRAM's neuron: it samples and integrates the column charge, then resolves each bit by a charge-"
        "decrement search, one step_ns per sample and per bit (plus one to reset), not overlapped with reads; "
        "energy.adc_pj_per_step per bit and energy.adc_bias_uw while the array works.",
    )
    cycles_per_conversion: int = Field(
        1,
        ge=1,
        description="Input cycles integrated in analog before one conversion: the cycle of significance 2^(d·j) "
        "within a group is sampled 2^(d·j) times. Groups are taken from the most significant cycle down.",
    )
    step_ns: float = Field(
        1.0, gt=0, description="One sample or one bit decision of an 'integrating' ADC (ns)."
    )
    offset_lsb: float = Field(
        0.0, ge=0, description="σ of each ADC's offset error, drawn once at programming (LSB); the columns an ADC "
        "serves share it."
    )
    gain_error: float = Field(
        0.0, ge=0, lt=1, description="σ of each ADC's gain error, drawn once at programming (fraction of the ideal "
        "slope, e.g. 0.01 = 1 %)."
    )
    inl_lsb: float = Field(
        0.0, ge=0, description="Integral non-linearity: a bow of the decision thresholds across the codes, this "
        "large at mid-scale and 0 at both ends (LSB); the same for every ADC."
    )
    dnl_lsb: float = Field(
        0.0, ge=0, description="Differential non-linearity: σ of each code's width error, drawn once per ADC at "
        "programming (LSB); widths are kept >= 0 (monotonic) and end-point corrected. With inl_lsb, needs bits <= 16."
    )


class MappingConfig(Node):
    """How numbers become conductances and voltages."""

    weight_bits: int = Field(8, ge=2, le=16, description="Weight quantisation, sign included (bits).")
    input_bits: int = Field(8, ge=1, le=16, description="Input quantisation, sign included (bits).")
    weight_encoding: Literal["differential", "offset"] = Field(
        "differential",
        description="Signed weights: 'differential' = G+ and G- cells holding weight_bits-1 magnitude bits; "
        "'offset' = W + 2^(weight_bits-1) stored unsigned, offset removed digitally.",
    )
    weight_scale: Literal["tensor", "column"] = Field(
        "tensor", description="Weight quantisation scale: one per tensor or one per output column."
    )
    input_encoding: Literal["two_phase", "bipolar", "offset"] = Field(
        "two_phase",
        description="Signed inputs: 'two_phase' = positive and negative parts in two passes; "
        "'bipolar' = negative row voltages; 'offset' = X + 2^(input_bits-1) applied unsigned, offset removed digitally.",
    )
    differential_sensing: Literal["digital", "analog"] = Field(
        "digital",
        description="Differential pairs: 'digital' = each column converted, subtracted after the ADC; "
        "'analog' = currents subtracted before one conversion.",
    )
    output_bits: int = Field(
        8,
        ge=1,
        le=32,
        description="Bits of each GEMM output as it is stored in output registers and buffers and sent on: "
        "what the data movement counts (bits). The simulated product itself is not rounded to them.",
    )
    flip_columns: bool = Field(
        False,
        description="ISAAC's flipped encoding: a column whose weights would sum above half range is stored "
        "inverted, saving one ADC bit; needs unipolar column currents.",
    )

    compact_rows: bool = Field(
        True, description="Leave out of the arrays every row whose quantised weights are all zero (its input is "
        "never routed): pruned rows, as N:M with a pattern shared by all columns ('2:4:rows') makes, cost no "
        "arrays, drives or reads. The product is unchanged.",
    )

    @model_validator(mode="after")
    def _check_flip(self) -> "MappingConfig":
        if not self.flip_columns:
            return self
        if self.input_encoding == "bipolar":
            reason = "input_encoding = 'bipolar' drives negative row voltages"
        elif self.weight_encoding == "differential" and self.differential_sensing == "analog":
            reason = "differential weights subtracted in analog give signed column currents"
        else:
            return self
        raise cross_field_error(
            "flip_columns", True, f"false here: flipped columns need unipolar column currents, but {reason}"
        )


