"""``cimsim validate`` and the registry it prints: table, --json, --plot, and the registry's rules.

Rules (issue 13, item 4): every published value is a number of the rows it cites; at most 3
constants fitted per design, each commented in its preset with row ids; designs with several
points hold at least half of them out; each design's preset cites the rows of its points.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest

from cimsim.cli.parser import main
from cimsim.config import load_preset
from cimsim.validation import DESIGNS

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"
PRESETS = Path(__file__).resolve().parents[2] / "cimsim" / "config" / "presets"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
TOTAL_POINTS = sum(len(d.points) for d in DESIGNS)


def numbers_of_rows() -> dict[str, list[float]]:
    """Every number in each CSV row's value and conditions, and in each silicon_macros.json entry."""
    found = {}
    with (REFERENCE / "reference_figures.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found[row["id"]] = [float(x) for x in NUMBER.findall(row["value"] + " " + row["conditions"])]
    for macro in json.loads((REFERENCE / "silicon_macros.json").read_text(encoding="utf-8"))["macros"]:
        found[macro["id"]] = [float(x) for x in NUMBER.findall(json.dumps(macro))]
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The directory where one run of ``cimsim validate --json ... --plot ...`` wrote its files."""
    out = tmp_path_factory.mktemp("validate")
    assert main(["validate", "--json", str(out / "table.json"), "--plot", str(out / "fig")]) == 0
    return out


def test_command_prints_every_point_and_the_error_summary(capsys):
    assert main(["validate"]) == 0
    text = capsys.readouterr().out
    assert "fitted or held out" in text and "held-out max" in text
    for design in DESIGNS:
        assert sum(line.startswith(design.name + " ") for line in text.splitlines()) == len(design.points) + 1  # + summary


def test_json_has_exactly_the_keys_and_signed_fraction_errors(written):
    out = written
    rows = json.loads((out / "table.json").read_text(encoding="utf-8"))
    assert len(rows) == TOTAL_POINTS
    for row in rows:
        assert set(row) == {"design", "point", "metric", "published", "simulated", "error", "fitted"}
        assert isinstance(row["fitted"], bool)
        assert row["error"] == pytest.approx((row["simulated"] - row["published"]) / row["published"], rel=1e-12)


def test_plot_writes_the_parity_figure(written):
    out = written
    for suffix in ("png", "svg"):
        assert (out / "fig" / f"parity.{suffix}").stat().st_size > 10_000


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: d.name)
def test_published_values_are_numbers_of_the_cited_rows(design):
    rows = numbers_of_rows()
    for point in design.points:
        cited = [x for row in point.rows for x in rows[row]]
        # ISAAC-45 and CIM-26/27 give GOPS/W and GOPS: 627.5 GOPS/W is 0.6275 TOPS/W. CiMLoop's Sinangil
        # energies carry a factor 1e-12 (energy_J 7.795e-12 at output 15 is CIM-29's 7.80 fJ/MAC)
        assert any(math.isclose(point.published, y, rel_tol=1e-12)
                   for x in cited for y in (x, x / 1e3, x * 1e12)), (point.point, point.rows)


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: d.name)
def test_at_most_three_fitted_constants_and_half_the_points_held_out(design):
    assert len(design.fitted_constants) + (design.fitted_delay_exponent is not None) <= 3
    held_out = sum(not p.fitted for p in design.points)
    assert len(design.points) == 1 or held_out >= len(design.points) / 2


@pytest.mark.parametrize("design", [d for d in DESIGNS if d.name not in ("isaac", "neurram")], ids=lambda d: d.name)
def test_fitted_constants_are_commented_with_their_rows_in_the_preset(design):
    """(isaac fits nothing; neurram's constants and their rows are in docs/neurram-model.md, older than this rule.)"""
    text = (PRESETS / f"{design.preset}.toml").read_text(encoding="utf-8")
    for path in design.fitted_constants:
        section, key = path.split(".")
        body = text[text.index(f"[{section}]"):]
        line = re.search(rf"(?m)^{key} = .*$", body).group(0)
        assert re.search(r"fitted on CIM-\d+", line), line


@pytest.mark.parametrize("design", [d for d in DESIGNS if d.name != "isaac"], ids=lambda d: d.name)
def test_each_preset_cites_the_rows_of_its_points(design):
    """(isaac's preset cites the rows it takes its inputs from; its targets, ISAAC-45..59, are outputs.)"""
    source = load_preset(design.preset).meta.source
    cited = set()
    for prefix, first, last in re.findall(r"\b([A-Z]+)-(\d+)(?:\.\.(\d+))?", source):
        cited |= {f"{prefix}-{n:02d}" for n in range(int(first), int(last or first) + 1)}
    for point in design.points:
        csv_rows = [r for r in point.rows if "-" in r]
        assert not csv_rows or set(csv_rows) & cited, (point.point, point.rows, source)


@pytest.mark.parametrize("design", [d for d in DESIGNS if d.name not in ("isaac", "neurram")], ids=lambda d: d.name)
def test_refit_returns_the_preset_s_own_constants(design):
    """The presets sit at their fit: refitting today's model moves no constant by more than the 6 digits
    written in the TOML allow (1e-4 relative; each fit has as many fitted figures as constants or more)."""
    from cimsim.validation import refit
    from cimsim.validation.fit import preset_value

    for path, value in refit(design).items():
        assert value == pytest.approx(preset_value(design, path), rel=1e-4), path


def marked_block(name: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "validation.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name} -->\n```\n(.*?)\n```\n<!-- /{name} -->", text, flags=re.S)
    assert match, f"docs/validation.md has no block <!-- {name} -->"
    return match.group(1)


def test_the_tables_of_docs_validation_md_are_today_s():
    """docs/validation.md shows what cimsim validate prints now (re-paste both after a refit)."""
    from cimsim.validation import error_summary, table_text, validate

    rows = validate()
    assert marked_block("validate-table") == table_text(rows)
    assert marked_block("validate-summary") == error_summary(rows)


def test_an_unknown_component_of_a_per_adc_use_metric_is_refused_by_name():
    from cimsim.errors import ConfigError
    from cimsim.validation import Point, design, simulated

    point = Point("jia-65nm", "0.85 V, 1 b", ("CIM-36",), "pj_per_adc_use:cell+capacitor", 9.7, False)
    with pytest.raises(ConfigError, match=r"\['capacitor'\] are not components of the chip; allowed: .*cell"):
        simulated(design("jia-65nm"), point)
