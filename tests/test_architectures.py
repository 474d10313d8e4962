"""Architectures behind one interface: a user's machine registered, loaded from TOML and simulated.

The toy machine is one MAC unit: every product takes macs / macs_per_ns ns on it and costs
pj_per_mac per MAC. With one unit (one server) and nothing else, the engine keeps it busy from
the first chunk to the last, so a batch takes batch × Σ macs / macs_per_ns and costs
batch × Σ macs × pj_per_mac, in either mode.
"""

from typing import Literal

import pytest
from pydantic import Field

import cimsim
from cimsim import ConfigError, Gemm, Workload
from cimsim.arch import PlannedRun
from cimsim.config.tree import BaseMeta, ConfigRoot, Node
from cimsim.costs.ledger import Ledger
from cimsim.engine.plan import MachinePlan, StagePlan, Step


class ToyMeta(BaseMeta):
    architecture: Literal["toy"] = Field("toy", description="Kind of machine: 'toy' (one MAC unit).")


class MacUnit(Node):
    pj_per_mac: float = Field(1.0, gt=0, description="Energy of one MAC (pJ).")
    macs_per_ns: float = Field(1.0, gt=0, description="MACs the unit does per ns.")


class ToyConfig(ConfigRoot):
    meta: ToyMeta = Field(default_factory=ToyMeta)
    mac: MacUnit = Field(default_factory=MacUnit)


class ToyArchitecture:
    """Every product on the one MAC unit, a chunk per product."""

    fidelities = ("analytical",)

    def plan(self, request):
        unit = request.cfg.mac
        stages = []
        for gemm in request.workload.gemms:
            ledger = Ledger()
            ledger.add("mac", "macs", gemm.macs, gemm.macs * unit.pj_per_mac, layer=gemm.name)
            stages.append(StagePlan(gemm.name, "gemm", chunks=1, chunk_label="product", ledger=ledger, macs=gemm.macs,
                                    steps=(Step("mac_unit", gemm.macs / unit.macs_per_ns),)))
        plan = MachinePlan(request.cfg.meta.name, "toy", {"mac_unit": 1}, stages, static_power_mw=0.0,
                           area_breakdown_um2={"mac_unit": 1.0})
        return PlannedRun(plan, request.mode, {})


TOY_TOML = """
[meta]
architecture = "toy"
name = "toy-8"

[mac]
pj_per_mac = 0.25
macs_per_ns = 8.0
"""

WORKLOAD = Workload([Gemm("fc1", m=4, k=32, n=16), Gemm("fc2", m=4, k=16, n=10, inputs=("fc1",))], name="two-fc")
MACS = 4 * 32 * 16 + 4 * 16 * 10  # 2048 + 640


@pytest.fixture
def toy():
    cimsim.register_architecture("toy", ToyConfig, ToyArchitecture())
    yield
    cimsim.unregister_architecture("toy")


def refused(func, *needles) -> str:
    with pytest.raises(ConfigError) as info:
        func()
    for needle in needles:
        assert needle in str(info.value), f"{needle!r} not in {str(info.value)!r}"
    return str(info.value)


@pytest.mark.parametrize("mode", ["pipelined", "layer"])
def test_a_registered_toy_loads_from_toml_and_simulates_by_its_own_formula(toy, tmp_path, mode):
    path = tmp_path / "toy.toml"
    path.write_text(TOY_TOML, encoding="utf-8")
    cfg = cimsim.load_config(path)
    assert type(cfg) is ToyConfig and cfg.mac.macs_per_ns == 8.0

    report = cimsim.simulate(WORKLOAD, cfg, batch=3, mode=mode, fidelity="functional")

    assert report.energy_pj == pytest.approx(3 * MACS * 0.25, rel=1e-12)  # 2016 pJ
    assert report.latency_ns == pytest.approx(3 * MACS / 8.0, rel=1e-12)  # 1008 ns
    assert report.breakdown == {"mac": pytest.approx(2016.0), "static": 0.0}
    assert (report.architecture, report.config, report.mode) == ("toy", "toy-8", mode)
    assert report.fidelity == "analytical"  # the toy honours only analytical: the report says what ran


def test_registration_lists_the_architecture_and_unregistration_forgets_both_halves(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY_TOML, encoding="utf-8")
    before = cimsim.list_architectures()
    assert before[:2] == ["cim", "von-neumann"] and "toy" not in before
    cimsim.register_architecture("toy", ToyConfig, ToyArchitecture())
    assert cimsim.list_architectures() == [*before, "toy"]
    cimsim.unregister_architecture("toy")
    assert cimsim.list_architectures() == before
    refused(lambda: cimsim.load_config(path), "meta.architecture: got 'toy', allowed: one of 'cim', 'von-neumann'")
    refused(lambda: cimsim.simulate(WORKLOAD, ToyConfig()), "cfg: got a ToyConfig", "ChipConfig ('cim')")


def test_unknown_kinds_are_refused_naming_the_registered_ones(toy, tmp_path):
    path = tmp_path / "gpu.toml"
    path.write_text('[meta]\narchitecture = "gpu"\n', encoding="utf-8")
    refused(lambda: cimsim.load_config(path), "gpu.toml", "meta.architecture: got 'gpu'", "'cim', 'von-neumann'", "'toy'")
    refused(lambda: cimsim.list_presets("gpu"), "architecture = 'gpu'", "'toy'")
    refused(lambda: cimsim.simulate(WORKLOAD, {"mac.pj_per_mac": 1.0}), "cfg: got a dict",
            "ChipConfig ('cim')", "VonNeumannConfig ('von-neumann')", "ToyConfig ('toy')")
    refused(lambda: cimsim.unregister_architecture("gpu"), "'gpu' cannot be unregistered", "'toy'")


def test_duplicate_and_malformed_registrations_are_refused_and_register_nothing(toy):
    class OtherMeta(BaseMeta):
        architecture: Literal["other"] = "other"

    class OtherConfig(ConfigRoot):
        meta: OtherMeta = Field(default_factory=OtherMeta)

    class NoFidelity(ToyArchitecture):
        fidelities = ()

    before = cimsim.list_architectures()
    refused(lambda: cimsim.register_architecture("toy", OtherConfig, ToyArchitecture()),
            "architecture 'toy' is registered already", "registered: cim, von-neumann", "toy")
    refused(lambda: cimsim.register_architecture("cim", OtherConfig, ToyArchitecture()), "'cim' is registered already")
    refused(lambda: cimsim.register_architecture("toy-2", ToyConfig, ToyArchitecture()),
            "config_class ToyConfig is registered already, as 'toy'")
    refused(lambda: cimsim.register_architecture("another", OtherConfig, ToyArchitecture()),
            "meta.architecture defaults to 'other'", "allowed: 'another'")
    refused(lambda: cimsim.register_architecture("other", dict, ToyArchitecture()), "config_class = <class 'dict'>")
    refused(lambda: cimsim.register_architecture("other", OtherConfig, ToyArchitecture), "not a class")
    refused(lambda: cimsim.register_architecture("other", OtherConfig, NoFidelity()), "architecture.fidelities = ()")
    refused(lambda: cimsim.register_architecture("", OtherConfig, ToyArchitecture()), "architecture name = ''")
    refused(lambda: cimsim.unregister_architecture("cim"), "'cim' cannot be unregistered")
    assert cimsim.list_architectures() == before


def test_an_architecture_that_returns_something_else_than_a_planned_run_is_named(toy):
    class Careless(ToyArchitecture):
        def plan(self, request):
            return super().plan(request).plan

    cimsim.unregister_architecture("toy")
    cimsim.register_architecture("toy", ToyConfig, Careless())
    refused(lambda: cimsim.simulate(WORKLOAD, ToyConfig()), "architecture 'toy': plan() returned a MachinePlan")
