"""No code path can execute a user's file: no pickle, eval, exec or allow_pickle=True anywhere in the packages."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cimsim", "workloads", "tvm_bridge")
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "shelve", "marshal"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}


def sources():
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def offences(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
            found.append(node.module)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
                found.append(f"{node.func.id}()")
            for keyword in node.keywords:
                if keyword.arg == "allow_pickle" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    found.append("allow_pickle not False")
    return found


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unsafe_loading(path):
    assert offences(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_scanner_finds_what_it_looks_for():
    bad = "import pickle\nfrom marshal import loads\neval('1')\nimport numpy as np\nnp.load('x', allow_pickle=True)\n"
    assert offences(ast.parse(bad)) == ["pickle", "marshal", "eval()", "allow_pickle not False"]
    assert offences(ast.parse("np.load('x', allow_pickle=False)\nmodel.eval()\n")) == []
