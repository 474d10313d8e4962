"""The refactor law: moving code changes no number.

``tests/golden/golden.json`` holds reports, ledgers, peak figures and crossbar outputs recorded
by ``tests/golden/record.py`` (its docstring lists the cases). Every case is recomputed and
compared: numbers to 1e-9 relative (summation order may change when counting moves into one
function; anything larger is a changed model, which must re-record the file on purpose), strings
and structure exactly.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
import record  # noqa: E402

GOLDEN = json.loads(record.GOLDEN.read_text(encoding="utf-8"))
RELATIVE = 1e-9


def differences(expected, actual, path: str = "") -> list[str]:
    """Where ``actual`` departs from ``expected`` (paths into the nested structure)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return [f"{path}: keys {sorted(set(expected) ^ set(actual))} differ"]
        return [d for key in expected for d in differences(expected[key], actual[key], f"{path}.{key}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: length {len(expected)} != {len(actual)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in differences(e, a, f"{path}[{i}]")]
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        if math.isnan(expected) and math.isnan(actual):
            return []
        if math.isclose(expected, actual, rel_tol=RELATIVE, abs_tol=1e-300):
            return []
        return [f"{path}: {expected!r} != {actual!r}"]
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_golden_case_unchanged(case):
    actual = record.compute([case])[case]
    found = differences(GOLDEN[case], actual)
    assert not found, f"{case}: {len(found)} differences, first: {found[:5]}"


def test_differences_finds_a_changed_number():
    assert differences({"a": [1.0, {"b": 2.0}]}, {"a": [1.0, {"b": 2.0 * (1 + 1e-6)}]})
    assert not differences({"a": [1.0, {"b": 2.0}]}, {"a": [1.0, {"b": 2.0 * (1 + 1e-12)}]})
