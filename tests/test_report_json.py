"""Report.to_json writes standard JSON (null for undefined figures) with a schema_version; from_json reads it and old files."""

import dataclasses
import json
import math

import pytest

from cimsim.engine.report import REPORT_SCHEMA_VERSION, Report
from cimsim.errors import ConfigError
from test_report import make_report


def refuse_constant(name):
    raise AssertionError(f"{name} is not JSON")


def test_undefined_figures_are_null_and_read_back_as_nan(tmp_path):
    # no area: TOPS/mm² is 0/0-like (nan); zero latency makes throughput and TOPS infinite
    report = dataclasses.replace(make_report(accuracy={"relative_error": math.nan}), area_breakdown_um2={},
                                 latency_ns=0.0)
    assert math.isnan(report.tops_per_mm2) and math.isinf(report.tops)
    path = report.to_json(tmp_path / "r.json")
    data = json.loads(path.read_text(), parse_constant=refuse_constant)
    assert data["schema_version"] == REPORT_SCHEMA_VERSION == 1
    assert data["derived"]["tops_per_mm2"] is None and data["derived"]["tops"] is None
    assert data["derived"]["throughput_inferences_per_s"] is None
    assert data["accuracy"] == {"relative_error": None}
    back = Report.from_json(path)
    assert math.isnan(back.accuracy["relative_error"]) and back.latency_ns == 0.0
    assert back.layers == report.layers and back.timeline == report.timeline and back.seed == 7


def test_optional_fields_stay_none(tmp_path):
    report = dataclasses.replace(make_report(), seed=None)
    assert report.layers[0].relative_error is None and report.accuracy is None
    back = Report.from_json(report.to_json(tmp_path / "r.json"))
    assert back == report


def test_a_file_without_schema_version_still_reads(tmp_path):
    report = make_report(layer_errors={"fc1": 0.25})
    old = tmp_path / "old.json"
    old.write_text(json.dumps(report.to_dict(), indent=1))  # the layout before schema_version, NaN allowed
    assert "schema_version" not in json.loads(old.read_text())
    assert Report.from_json(old) == report


def test_a_newer_schema_version_is_refused_with_its_number(tmp_path):
    path = make_report().to_json(tmp_path / "r.json")
    data = json.loads(path.read_text())
    data["schema_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="schema_version = 99"):
        Report.from_json(path)
