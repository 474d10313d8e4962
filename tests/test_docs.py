"""The documentation in docs/ against the code.

* ``docs/configuration.md`` is what ``docs/generate_config_reference.py`` writes now, names every
  field of both configuration trees, and each rule between fields it lists is refused as it says;
* every relative link of every page (and of CHANGELOG.md) resolves to a file, and a ``#anchor``
  to a heading of that file; every page of docs/ is linked from docs/index.md;
* the support matrix of docs/index.md holds: each "no" cell is a ConfigError naming the field
  the cell names, each "yes" cell programs, reads, and goes through ``peak`` and ``simulate``;
* the tables of docs/energy.md (ADC models, validation) are what the code and tests/validation/ compute now;
* every ```` ```python ```` block of README.md and docs/*.md runs without error, each in a fresh
  namespace in a temporary folder; a block that cannot run says why in its fence
  (```` ```python no-run: REASON ````), and such blocks are rare.

Run as a script to print the validation tables as docs/energy.md should hold them.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import cimsim

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
LINKED = PAGES + [ROOT / "CHANGELOG.md"]


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


generator = _module("generate_config_reference", DOCS / "generate_config_reference.py")


# --------------------------------------------------------------------------- configuration reference


def test_configuration_reference_is_up_to_date():
    committed = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert committed == generator.render(), "docs/configuration.md is stale: run python docs/generate_config_reference.py"


@pytest.mark.parametrize("root", [cimsim.ChipConfig, cimsim.VonNeumannConfig], ids=lambda r: r.__name__)
def test_every_field_is_in_the_reference(root):
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    paths = generator.all_paths(root)
    assert len(paths) > 20
    missing = [path for path in paths if f"| `{path}` |" not in page]
    assert missing == []
    undescribed = [f"{s}.{n}" for s, _, n, field in generator.fields_of(root) if not (field.description or "").strip()]
    assert undescribed == []


def test_every_unit_in_a_field_name_is_in_the_reference():
    """Fields whose name carries a unit (``_us``, ``_ns``, ``_pj``, ...) state it in their description."""
    suffixes = ("_us", "_ns", "_pj", "_mw", "_uw", "_um2", "_mm2", "_ghz", "_nm", "_kib", "_gbps", "_gsps", "_ohm")
    for root in (cimsim.ChipConfig, cimsim.VonNeumannConfig):
        for section, _, name, field in generator.fields_of(root):
            if name.endswith(suffixes) or "_pj_per_" in name:
                assert generator.unit_of(field.description), f"{section}.{name}: no unit in its description"


def _use(cfg) -> None:
    """Program, read signed inputs, and price the chip: where a configuration is refused after construction."""
    rng = np.random.default_rng(0)
    matrix = cimsim.AnalogMatrix(rng.standard_normal((16, 4)), cfg, seed=0)
    matrix.matmul(rng.standard_normal((2, 16)))
    cimsim.peak(cfg)


@pytest.mark.parametrize("rule", generator.RULES, ids=lambda r: r.field)
def test_each_rule_between_fields_is_refused_naming_its_field(rule):
    ideal = cimsim.load_preset("ideal")
    if rule.when == "construction":
        with pytest.raises(cimsim.ConfigError, match=re.escape(rule.field)):
            ideal.override(rule.breaks)
        return
    cfg = ideal.override(rule.breaks)  # the configuration itself is valid
    with pytest.raises(cimsim.ConfigError, match=re.escape(rule.field)):
        _use(cfg)


# --------------------------------------------------------------------------- links


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, all but letters, digits, ``_``, ``-`` and spaces dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors, seen = set(), {}
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"^#{1,6}\s+(.*)$", line)):
            slug = _slug(match.group(1))
            anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)  # links in code are not links
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("page", LINKED, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(target)
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(target)
    assert broken == []


def test_every_page_is_linked_from_the_index():
    linked = {target.partition("#")[0] for target in _links(DOCS / "index.md")}
    assert sorted(p.name for p in PAGES if p.name != "index.md" and p.name not in linked) == []


@pytest.mark.parametrize("page", LINKED, ids=lambda p: p.name)
def test_tables_are_well_formed(page):
    """Every row of a Markdown table has as many cells as its header (a stray | shifts a column)."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    bad = []
    for block in re.findall(r"(?:^\|.*\n?)+", text, flags=re.M):
        rows = [re.split(r"(?<!\\)\|", re.sub(r"`[^`]*`", "code", line.strip()))[1:-1] for line in block.splitlines()]
        bad += [row for row in rows if len(row) != len(rows[0])]
    assert bad == []


# --------------------------------------------------------------------------- support matrix

SUPPORT_ROWS = {
    "programming noise": {"device.program_noise": 0.02},
    "read noise": {"device.read_noise": 0.02},
    "drift": {"device.drift_nu": 0.05, "device.drift_nu_std": 0.01},
    "PCM model": {"device.program_noise": "pcm_nandakumar2019", "device.read_noise": "pcm_nandakumar2019",
                  "device.drift_nu": "pcm_nandakumar2019"},
    "stuck cells": {"device.stuck_off": 0.01, "device.stuck_on": 0.01},
    "IR drop": {"array.wire_resistance_ohm": 1.0},
    "ADC noise": {"adc.noise_lsb": 0.5},
    "calibrated range": {"adc.range": "calibrated"},
    "flipped columns": {"mapping.flip_columns": True},
    "cycles_per_conversion > 1": {"adc.cycles_per_conversion": 2},
    "integrating ADC": {"adc.kind": "integrating"},
}
# each column fixes one axis; the other axis takes "offset", which every non-ideality accepts
SUPPORT_COLUMNS = {
    "differential, digital sensing": {"mapping.weight_encoding": "differential",
                                      "mapping.differential_sensing": "digital", "mapping.input_encoding": "offset"},
    "differential, analog sensing": {"mapping.weight_encoding": "differential",
                                     "mapping.differential_sensing": "analog", "mapping.input_encoding": "offset"},
    "offset weights": {"mapping.weight_encoding": "offset", "mapping.input_encoding": "offset"},
    "two-phase inputs": {"mapping.weight_encoding": "offset", "mapping.input_encoding": "two_phase"},
    "bipolar inputs": {"mapping.weight_encoding": "offset", "mapping.input_encoding": "bipolar"},
    "offset inputs": {"mapping.weight_encoding": "offset", "mapping.input_encoding": "offset"},
}


def _support_matrix() -> tuple[list[str], dict[str, list[str]]]:
    """The header and the rows of the table under "## Support matrix" in docs/index.md, cells stripped."""
    index = DOCS / "index.md"
    text = index.read_text(encoding="utf-8") if index.exists() else ""
    if "## Support matrix" not in text:
        return [], {}
    lines = text.split("## Support matrix", 1)[1].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[first:]:  # the first table of the section
        if not line.startswith("|"):
            break
        table.append(line)
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    header, body = cells[0], [row for row in cells[2:]]
    return header, {row[0].split(" (")[0]: row for row in body}


def _support_cases():
    header, rows = _support_matrix()
    for label, row in rows.items():
        for column, cell in zip(header[1:], row[1:]):
            if column in SUPPORT_COLUMNS:
                yield pytest.param(label, column, cell, id=f"{label} x {column}")


def test_support_matrix_has_every_row_and_column():
    header, rows = _support_matrix()
    assert list(rows) == list(SUPPORT_ROWS)
    assert header[1 : 1 + len(SUPPORT_COLUMNS)] == list(SUPPORT_COLUMNS)


@pytest.mark.parametrize("label, column, cell", list(_support_cases()))
def test_support_matrix_cell(label, column, cell):
    updates = {**SUPPORT_COLUMNS[column], **SUPPORT_ROWS[label]}
    ideal = cimsim.load_preset("ideal")
    if cell.startswith("no"):
        field = re.search(r"`([a-z_]+\.[a-z_]+)`", cell).group(1)
        with pytest.raises(cimsim.ConfigError, match=re.escape(field)):
            ideal.override(updates)
        return
    assert cell.startswith("yes"), cell
    cfg = ideal.override(updates)
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((64, 8)), rng.standard_normal((8, 64))
    matrix = cimsim.AnalogMatrix(w, cfg, seed=0)
    matrix.calibrate(x)
    matrix.drift_to(3600.0)
    assert np.isfinite(matrix.matmul(x)).all()
    assert cimsim.peak(cfg).tops_per_watt > 0
    workload = cimsim.Workload([cimsim.Gemm("fc", m=4, k=64, n=8, weights=w)])
    for fidelity in ("analytical", "functional"):
        assert cimsim.simulate(workload, cfg, fidelity=fidelity, progress=False).energy_pj > 0


# --------------------------------------------------------------------------- validation tables


def isaac_table() -> str:
    isaac = _module("validation_isaac", ROOT / "tests" / "validation" / "test_isaac.py")
    lines = ["| row | quantity | published | cimsim | error |", "|---|---|---|---|---|"]
    for row in isaac.ROWS:
        unit = " %" if row[5] == "rel" else " pt"
        error = isaac.error(row) * (100 if row[5] == "rel" else 1)
        lines.append(f"| {row[0]} | {row[1]} | {row[2]:.5g} | {isaac.measured(row):.5g} | {error:+.2f}{unit} |")
    return "\n".join(lines)


def neurram_tables() -> str:
    neurram = _module("validation_neurram", ROOT / "tests" / "validation" / "test_neurram.py")
    lines = ["| out, in, one-phase | TOPS/W published | cimsim | error | TOPS published | cimsim | error |",
             "|---|---|---|---|---|---|---|"]
    for point, (tops, tops_per_w) in neurram.TOPS_AND_TOPS_PER_W.items():
        f = cimsim.peak(neurram.configured(*point))
        lines.append(
            f"| {', '.join(map(str, point))} | {tops_per_w:.4g} | {f.tops_per_watt:.4g} "
            f"| {100 * neurram.relative_error(f.tops_per_watt, tops_per_w):+.1f} % | {tops:.4g} | {f.tops:.4g} "
            f"| {100 * neurram.relative_error(f.tops, tops):+.1f} % |"
        )
    lines += ["", "| out, in | wordline switching published / cimsim (fJ/op) | neuron | input pulses |", "|---|---|---|---|"]
    for point, published in neurram.ENERGY_PARTS_FJ_PER_OP.items():
        cells = [f"{ref:.4g} / {model:.4g} ({100 * neurram.relative_error(model, ref):+.1f} %)"
                 for ref, model in zip(published, neurram.energy_parts_fj_per_op(point))]
        lines.append(f"| {point[0]}, {point[1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def baseline_table() -> str:
    vn = _module("validation_vn_baseline", ROOT / "tests" / "validation" / "test_vn_baseline.py")
    from cimsim.costs.von_neumann_energy import mac_energy_pj
    from cimsim.workload import ConvGeometry, Gemm, Workload

    gpu, v = vn.GPU, vn.VN
    pj_per_mac = vn.full_load_pj_per_mac(gpu)
    gemv = vn.energy_by_component(Workload([Gemm("v", m=1, k=4096, n=4096, constant=True)]), v, batch=1)
    conv = ConvGeometry(512, 512, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, (7, 7), (7, 7))
    batch32 = vn.energy_by_component(Workload([Gemm("conv", m=49, k=4608, n=512, constant=True, conv=conv)]), v, 32)
    wide = v.override({"pe.weight_bits": 32, "pe.activation_bits": 32})
    rows = [
        ("`gpu-a100` peak INT8 dense (TOPS)", "GPU-01", "624", f"{2 * gpu.pe.pes * gpu.pe.clock_ghz * 1e-3:.4g}"),
        ("`gpu-a100` energy per MAC at full load (pJ)", "GPU-06", "1.28", f"{pj_per_mac:.4g}"),
        ("`gpu-a100` TOPS/W at full load", "GPU-02", "1.56", f"{2 / pj_per_mac:.4g}"),
        ("`gpu-a100` power at full load (W)", "GPU-01", "400",
         f"{pj_per_mac * gpu.pe.pes * gpu.pe.clock_ghz * 1e-3:.4g}"),
        ("`vn-45nm` 8-bit MAC (pJ)", "HOR-01 + HOR-03", "0.23", f"{mac_energy_pj(v):.4g}"),
        ("`vn-45nm` 32-bit MAC, scaled by (32·32)/64 (pJ)", "HOR-04 + HOR-02", "3.2 (within 15 %)",
         f"{mac_energy_pj(wide):.4g}"),
        ("`vn-45nm` data-movement share, GEMV 4096×4096, weights from DRAM", "HOR-12, HOR-14", "> 99 %",
         f"{100 * vn.share(gemv, vn.MOVEMENT):.2f} %"),
        ("`vn-45nm` data-movement share, 3×3 conv 512→512 on 7×7, batch 32", "HOR-09, HOR-01, HOR-03",
         "91.6 % (register operands) to 93 %", f"{100 * vn.share(batch32, vn.MOVEMENT):.2f} %"),
    ]
    lines = ["| check | reference rows | target | cimsim |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def adc_models_table() -> str:
    from cimsim.costs import adc_energy as adc_models

    fom = cimsim.load_preset("isaac").energy.adc_walden_fom_fj_per_step
    lines = ["| bits | `walden`, 6.10 fJ/step (pJ) | `survey`, 1.28 GS/s (pJ) | `cimloop`, 32 nm, 1.28 GS/s (pJ) "
             "| `cimloop`, 32 nm, 10 MS/s (pJ) | CiMLoop area, 32 nm, 1.28 GS/s (µm²) |", "|---|---|---|---|---|---|"]
    for bits in (4, 6, 8, 10, 12):
        lines.append(
            f"| {bits} | {adc_models.walden_energy_pj(bits, fom):.4g} | {adc_models.survey_energy_pj(bits, 1.28):.4g} "
            f"| {adc_models.cimloop_energy_pj(bits, 1.28, 32):.4g} | {adc_models.cimloop_energy_pj(bits, 0.01, 32):.4g} "
            f"| {adc_models.cimloop_area_um2(bits, 1.28, 32):.0f} |"
        )
    return "\n".join(lines)


VALIDATION_TABLES = {"adc-models": adc_models_table, "isaac": isaac_table, "neurram": neurram_tables,
                     "baseline": baseline_table}


def _marked_block(text: str, name: str) -> str:
    match = re.search(rf"<!-- validation-table: {name} -->\n(.*?)\n<!-- /validation-table -->", text, flags=re.S)
    assert match, f"docs/energy.md has no block <!-- validation-table: {name} -->"
    return match.group(1)


@pytest.mark.parametrize("name", list(VALIDATION_TABLES))
def test_validation_tables_are_what_the_code_computes(name):
    expected = VALIDATION_TABLES[name]()
    assert _marked_block((DOCS / "energy.md").read_text(encoding="utf-8"), name) == expected, (
        f"docs/energy.md's {name} table is stale; python tests/test_docs.py prints the current one:\n{expected}"
    )


# --------------------------------------------------------------------------- snippets

SNIPPET_PAGES = [ROOT / "README.md"] + PAGES
# a fence ```python (possibly indented, in a list item; ```python run, the older marker, is the same) or
# ```python no-run: REASON
FENCE = re.compile(r"^(?P<indent> *)```python(?P<info>[^\n]*)\n(?P<code>.*?)^(?P=indent)```$", flags=re.S | re.M)
NO_RUN = re.compile(r"^ no-run: \S.*$")


def _python_blocks(page: Path) -> list[tuple[str, str]]:
    """(fence info after ``python``, code) of every Python block of ``page``, the code dedented."""
    return [(match["info"], textwrap.dedent(match["code"])) for match in FENCE.finditer(page.read_text(encoding="utf-8"))]


def _snippets():
    for page in SNIPPET_PAGES:
        for index, (info, code) in enumerate(_python_blocks(page)):
            if not NO_RUN.match(info):
                yield pytest.param(page, index, code, id=f"{page.name}#{index}")


def test_every_python_block_runs_or_says_why_not():
    """A block is fenced ```python (run by test_snippet) or ```python no-run: REASON; nothing else."""
    fences = [(page.name, info) for page in SNIPPET_PAGES for info, _ in _python_blocks(page)]
    assert len(fences) >= 15
    assert [(name, info) for name, info in fences if info not in ("", " run") and not NO_RUN.match(info)] == []
    assert sum(1 for _, info in fences if NO_RUN.match(info)) <= 2  # exceptions are rare


def test_the_index_has_runnable_snippets():
    assert any(not NO_RUN.match(info) for info, _ in _python_blocks(DOCS / "index.md"))


@pytest.mark.parametrize("page, index, code", list(_snippets()))
def test_runnable_snippet(page, index, code, tmp_path, monkeypatch):
    """Each block runs in a fresh namespace as a script would (``__name__ == "__main__"``), in a
    temporary folder (a block that writes files writes them there)."""
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{page.name} snippet {index}", "exec", dont_inherit=True), {"__name__": "__main__"})


def _public_name(path: list[str]) -> bool:
    """``cimsim.A`` with A in ``cimsim.__all__``, or ``cimsim.PKG.A`` with A in that sub-package's ``__all__``."""
    if path[0] in cimsim.__all__:
        return True
    try:
        package = importlib.import_module(f"cimsim.{path[0]}")
    except ImportError:
        return False
    exported = getattr(package, "__all__", ())
    return package.__name__.count(".") == 1 and package.__file__.endswith("__init__.py") and (
        len(path) == 1 or path[1] in exported)


def internal_names(text: str) -> list[str]:
    """Every ``cimsim.X.Y`` or ``from cimsim.X import a, b`` of ``text`` that is not public (:func:`_public_name`)."""
    found = []
    for match in re.finditer(r"\bfrom cimsim\.([\w.]+) import ([\w, ]+)", text):
        path = match[1].split(".")
        found += [match[0] for name in match[2].split(",") if not _public_name(path + [name.strip()])]
    for match in re.finditer(r"(?<!from )\bcimsim((?:\.[A-Za-z_]\w*)+)", text):
        path = match[1].lstrip(".").split(".")
        is_module = importlib.util.find_spec(f"cimsim.{path[0]}") is not None  # not e.g. TVM's "cimsim.matmul"
        if is_module and not _public_name(path[:2]):
            found.append(match[0])
    return found


def test_docs_name_only_public_api():
    """README, the written pages and the notebooks name only public names: ``cimsim.X`` (exported) and
    ``cimsim.PKG.X`` where the sub-package PKG exports X, never a module inside a sub-package such as
    ``cimsim.costs.array_counts`` (configuration.md is generated from the code's own descriptions)."""
    pages = [p for p in SNIPPET_PAGES if p.name != "configuration.md"] + sorted((ROOT / "notebooks").glob("*.ipynb"))
    internal = [f"{page.name}: {name}" for page in pages for name in internal_names(page.read_text(encoding="utf-8"))]
    assert internal == []


def test_internal_names_are_found():
    text = "from cimsim.costs.array_counts import weight_arrays; cimsim.costs.array_counts; from cimsim.costs import nope"
    assert internal_names(text) == ["from cimsim.costs.array_counts import weight_arrays",
                                    "from cimsim.costs import nope", "cimsim.costs.array_counts"]
    assert internal_names("from cimsim.costs import weight_arrays; cimsim.peak(cfg); cimsim.plot.line_chart") == []
    assert internal_names('"cimsim.matmul", cimsim.__version__, cimsim.workload.Gemm') == ["cimsim.workload.Gemm"]


def test_the_readme_crossbar_example_runs_on_every_cim_preset(tmp_path, monkeypatch):
    """The README's first snippet with its preset swapped: calibrate() makes it run where adc.range is "calibrated"."""
    code = _python_blocks(ROOT / "README.md")[0][1]
    assert 'load_preset("isaac")' in code
    monkeypatch.chdir(tmp_path)
    for name in cimsim.list_presets():
        if isinstance(cimsim.load_preset(name), cimsim.ChipConfig):
            exec(compile(code.replace('load_preset("isaac")', f"load_preset({name!r})"), f"README with {name}", "exec", dont_inherit=True),
                 {"__name__": "__main__"})


if __name__ == "__main__":
    for name, render in VALIDATION_TABLES.items():
        print(f"<!-- validation-table: {name} -->\n{render()}\n<!-- /validation-table -->\n")
    sys.exit(0)
