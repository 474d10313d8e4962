"""Write docs/configuration.md from the configuration trees (``cimsim.ChipConfig``, ``cimsim.VonNeumannConfig``).

    python docs/generate_config_reference.py           # rewrite docs/configuration.md
    python docs/generate_config_reference.py --check   # exit 1 if the committed file is stale

Every field of every section is listed with its dotted path, default (as TOML), unit (the first
parenthesised unit its description states), the values it accepts (worded as a ConfigError
words them) and its description; then the rules that relate two fields (:data:`RULES`), and, per
architecture, the values of every field that differs between the shipped presets, with each
preset's ``meta.source``. ``tests/test_docs.py`` regenerates the page in memory and fails when
the committed file differs, so a new field cannot ship undocumented.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

import cimsim
from cimsim.config.tree import ConfigRoot, allowed_values

PAGE = Path(__file__).resolve().parent / "configuration.md"
TREES: tuple[tuple[str, type[ConfigRoot], str], ...] = (
    ("cim", cimsim.ChipConfig, "cimsim.ChipConfig"),
    ("von-neumann", cimsim.VonNeumannConfig, "cimsim.VonNeumannConfig"),
)
"""(``meta.architecture``, root class, public name) of each tree, in the order of the page."""

UNIT = re.compile(
    r"^(µS|V|s|ns|pJ|mW|µW|nm|Ω|%|LSB|KiB|mm²|µm²|bits|dimensionless|0\.\.1|GS/s|GHz( = .*)?|"
    r"Gb/s( = .*)?|GB/s( = .*)?|Gop/s( = .*)?|pJ/bit(/hop)?|fJ per conversion step)$"
)
"""What counts as a unit among the parenthesised groups of a description."""

PRESET_TABLE_SKIP = {"meta.name", "meta.description", "meta.source"}
"""Left out of the preset comparison: the name is the column, the source has its own table, the
description is prose (``cimsim show PRESET`` prints it)."""


@dataclass(frozen=True)
class Rule:
    """A constraint between fields, with an example that breaks it and the field its error names."""

    text: str
    architecture: str
    breaks: dict[str, Any]  # overrides of the ``ideal`` preset that violate the rule
    field: str  # the dotted field the ConfigError names
    when: str  # "construction" (the config itself refuses) or what refuses it later


RULES: tuple[Rule, ...] = (
    Rule("`device.g_max_us` > `device.g_min_us`.", "cim",
         {"device.g_min_us": 10.0, "device.g_max_us": 5.0}, "device.g_max_us", "construction"),
    Rule("`device.stuck_off` + `device.stuck_on` ≤ 1.", "cim",
         {"device.stuck_off": 0.6, "device.stuck_on": 0.6}, "device.stuck_on", "construction"),
    Rule("`device.drift_nu_std` = 0 when `device.drift_nu` names a model (the model sets its own spread).", "cim",
         {"device.drift_nu": "pcm_nandakumar2019", "device.drift_nu_std": 0.01}, "device.drift_nu_std",
         "construction"),
    Rule("`mapping.flip_columns` needs unipolar column currents: not with `mapping.input_encoding = \"bipolar\"`, "
         "nor with differential weights sensed in analog (`cimsim/config/chip.py`).", "cim",
         {"mapping.flip_columns": True, "mapping.input_encoding": "bipolar"}, "mapping.flip_columns", "construction"),
    Rule("`adc.cycles_per_conversion` = 1 with `mapping.input_encoding = \"two_phase\"`: the two phases are "
         "separate passes (`cimsim/config/chip.py`).", "cim",
         {"adc.cycles_per_conversion": 2, "mapping.input_encoding": "two_phase"}, "adc.cycles_per_conversion",
         "construction"),
    Rule("A signed ADC (differential weights sensed in analog, or a bipolar DAC) needs `adc.bits` ≥ 2.", "cim",
         {"adc.bits": 1, "mapping.input_encoding": "bipolar"}, "adc.bits",
         "programming (`AnalogMatrix`), `peak`, `simulate`"),
    Rule("Differential weights sensed in analog need `array.cols` ≥ 2 (a pair never splits over two arrays).",
         "cim", {"array.cols": 1, "mapping.differential_sensing": "analog"}, "array.cols",
         "programming (`AnalogMatrix`)"),
    Rule("`array.driver_resistance_ohm`, `array.sense_resistance_ohm` and `array.access_resistance_ohm` are 0 "
         "unless `array.ir_drop = \"solved\"` and `array.wire_resistance_ohm` > 0 (they belong to the solved "
         "circuit).", "cim", {"array.access_resistance_ohm": 100.0}, "array.access_resistance_ohm", "construction"),
    Rule("`energy.adc_model = \"survey\"` covers `adc.sample_rate_gsps` 0.001–2 and `adc.bits` up to 12 or 13 "
         "(by rate); `\"cimloop\"` covers `adc.bits` 1–12 and `adc.sample_rate_gsps` ≤ 10. The ADC area of every "
         "model but `\"table\"` is CiMLoop's regression, so `\"walden\"` and `\"survey\"` also need `adc.bits` ≤ 12 "
         "where area is computed (`peak`, `simulate`) (`cimsim/costs/adc_energy.py`).", "cim",
         {"energy.adc_model": "cimloop", "adc.bits": 16}, "adc.bits", "pricing (`AnalogMatrix`, `peak`, `simulate`)"),
    Rule("Values beyond physical sense are refused unless `meta.allow_unphysical = true`: `array.rows` and "
         "`array.cols` ≤ 4,096, `adc.bits` ≤ 16, `chip.clock_ghz` ≤ 10 (each field's description says why).",
         "cim", {"meta.allow_unphysical": False, "adc.bits": 8, "array.rows": 8192}, "array.rows", "construction"),
    Rule("The chip's area (`cimsim peak`'s, from `chip.tiles` and `[area]`) ≤ 2,000 mm² unless "
         "`meta.allow_unphysical = true` (`chip.tiles` says why).", "cim",
         {"meta.allow_unphysical": False, "adc.bits": 8, "chip.tiles": 10000}, "chip area", "construction"),
    Rule("Signed inputs need `mapping.input_bits` ≥ 2 (sign and magnitude).", "cim",
         {"mapping.input_bits": 1}, "mapping.input_bits", "reading signed inputs (`AnalogMatrix.matmul`)"),
)
"""Cross-field rules, in the order of the page; ``tests/test_docs.py`` breaks each and checks the error."""


# --------------------------------------------------------------------------- values


def toml_value(value: Any) -> str:
    """``value`` as it is written in a TOML file."""
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def prose(text: str) -> str:
    """A docstring as Markdown paragraphs: reST roles and double backticks as code."""
    paragraphs = [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
    return "\n\n".join(re.sub(r":\w+:`~?([^`]*)`", r"`\1`", p).replace("``", "`") for p in paragraphs)


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def unit_of(description: str) -> str:
    """The first parenthesised group of ``description`` that is a unit, or an empty string."""
    for group in re.findall(r"\(([^()]*)\)", description):
        if UNIT.match(group):
            return group
    return ""


def fields_of(root: type[ConfigRoot]):
    """``(section, section class, field, FieldInfo)`` of every field of a tree, in declaration order."""
    for section, info in root.model_fields.items():
        node = info.annotation
        for name, field in node.model_fields.items():
            yield section, node, name, field


def all_paths(root: type[ConfigRoot]) -> list[str]:
    """Every dotted path of a tree."""
    return [f"{section}.{name}" for section, _, name, _ in fields_of(root)]


def presets_of(architecture: str) -> dict[str, ConfigRoot]:
    return {name: cimsim.load_preset(name) for name in cimsim.list_presets(architecture)}


# --------------------------------------------------------------------------- the page


def section_tables(root: type[ConfigRoot]) -> list[str]:
    lines: list[str] = []
    for section, info in root.model_fields.items():
        node = info.annotation
        lines += ["", f"### `[{section}]`", "", prose(node.__doc__ or "") or info.description, ""]
        lines += ["| field | default | unit | allowed | description |", "|---|---|---|---|---|"]
        for name, field in node.model_fields.items():
            description = field.description or ""
            lines.append(
                f"| `{section}.{name}` | `{cell(toml_value(field.default))}` | {cell(unit_of(description))} "
                f"| {cell(allowed_values(field.annotation, field.metadata))} | {cell(description)} |"
            )
    return lines


def preset_tables(architecture: str, root: type[ConfigRoot]) -> list[str]:
    presets = presets_of(architecture)
    names = list(presets)
    lines = ["", f"Presets of this kind: {', '.join(f'`{n}`' for n in names)}. Fields whose values differ "
             "between them (every other field is the same in all of them):", ""]
    lines += ["| field | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for path in all_paths(root):
        if path in PRESET_TABLE_SKIP:
            continue
        values = [presets[n].get(path) for n in names]
        if len({toml_value(v) for v in values}) > 1:
            lines.append(f"| `{path}` | " + " | ".join(f"`{cell(toml_value(v))}`" for v in values) + " |")
    lines += ["", "| preset | `meta.source` |", "|---|---|"]
    lines += [f"| `{n}` | {cell(presets[n].meta.source)} |" for n in names]
    return lines


def render() -> str:
    """The whole page."""
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by docs/generate_config_reference.py from the configuration trees; do not edit by hand. -->",
        "<!-- Regenerate: python docs/generate_config_reference.py (tests/test_docs.py fails when this file is stale). -->",
        "",
        "A configuration is a tree of sections of fields, frozen and validated at construction "
        "(`cimsim/config/chip.py`, `cimsim/config/von_neumann.py`, shared machinery in `cimsim/config/tree.py`). "
        "Every field has a dotted path (`adc.bits`) used by `cfg.override({...})`, `cfg.get(path)`, "
        "the command line's `--set adc.bits=6` and a sweep's `[grid]`. A TOML file lists the same "
        "sections as tables (`[adc]` then `bits = 6`). "
        "Validation is strict: `\"6\"` is not an integer, `true` is not a number, `6.0` is not an "
        "integer (an integer is accepted where a number is expected). A bad value raises "
        "`cimsim.ConfigError` naming the field, the value and what is allowed, in the words of the "
        "*allowed* column.",
        "",
        "A TOML file whose `[meta]` sets `architecture = \"von-neumann\"` loads as a "
        "`cimsim.VonNeumannConfig` (the baseline, [scheduler.md](scheduler.md#the-von-neumann-baseline)); "
        "any other as a `cimsim.ChipConfig`. Units: the *unit* column is the first unit the "
        "description states; conductance in µS, voltage in V, time in ns (or s), energy in pJ, "
        "power in mW or µW, area in µm² (mm² for the baseline's die).",
        "",
        "A TOML file (`cimsim.load_config`, `--chip FILE.toml`, a sweep's `chip`) either gives every field "
        "of every section (`[meta]` aside: its fields describe the configuration and take the defaults "
        "below), as `cfg.save(path)` and the presets do, or starts from a preset with a top-level "
        "`base = \"rram-22nm\"` and gives only what it changes:",
        "",
        "```toml",
        "base = \"rram-22nm\"   # every field of the preset, then the tables below laid over it",
        "",
        "[adc]",
        "bits = 6",
        "```",
        "",
        "The file's tables replace the preset's values field by field; `meta.name` becomes the file's name "
        "(without `.toml`) unless the file sets it, and the rest of `[meta]` (`allow_unphysical` too) is "
        "the preset's. A file without `base` that leaves fields out is refused with the list of the "
        "missing dotted fields, so that no field silently takes a default. "
        "`ChipConfig.from_toml(text)` and `ChipConfig.from_dict(tables)`, for text and tables built in a "
        "program, still take the defaults for what they leave out.",
        "",
        "Values beyond physical sense are refused, with the bound and its reason, unless "
        "`meta.allow_unphysical = true`: array sides above 4,096, ADCs above 16 bits, clocks above "
        "10 GHz and chips above 2,000 mm² (the area `cimsim peak` reports, from `chip.tiles` and the "
        "`[area]` section). Each bound's reason is in its field's description; the `ideal` preset allows "
        "them for its 24-bit ADC.",
        "",
        "Contents: " + ", ".join(f"[`{public}`](#{public.lower().replace('.', '')})" for _, _, public in TREES)
        + ", [rules between fields](#rules-between-fields), [presets](#presets).",
    ]
    for _, root, public in TREES:
        lines += ["", f"## {public}", "", prose(root.__doc__ or "")]
        lines += section_tables(root)
    lines += [
        "",
        "## Rules between fields",
        "",
        "Besides each field's own bounds, these rules relate fields. *Refused at* says when: "
        "`construction` means the configuration itself cannot be built (`ConfigError` from "
        "`override`, `from_dict`, `load_config`, ...); the others are refused when the "
        "configuration is used. Each error names the field in the last column.",
        "",
        "| rule | refused at | example that breaks it | field named |",
        "|---|---|---|---|",
    ]
    for rule in RULES:
        example = ", ".join(f"`{path} = {toml_value(value)}`" for path, value in rule.breaks.items())
        lines.append(f"| {cell(rule.text)} | {cell(rule.when)} | {cell(example)} | `{rule.field}` |")
    lines += ["", "## Presets", "", "`cimsim presets` lists them; `cimsim show NAME` prints one as TOML with its "
              "description. Each preset's TOML file (`cimsim/config/presets/NAME.toml`) comments every value with "
              "its source row id in `docs/reference/reference_figures.csv` or says it is an assumption."]
    for architecture, root, public in TREES:
        lines += ["", f"### {public} presets"]
        lines += preset_tables(architecture, root)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/configuration.md is not up to date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE} is stale: run python docs/generate_config_reference.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
