"""The import arrows inside cimsim run one way, without cycles, and never reach TVM.

Every module of cimsim is parsed with ``ast``; its module-level imports (those outside function
bodies, which run when the module is imported) give the import graph. A node of the layer graph
is a sub-package (``cimsim/arch/...`` is ``arch``) or a root module (``cimsim/simulate.py`` is
``simulate``); ``cimsim`` itself is the package's public facade. :data:`LAYERS` lists them from
the top: a node may import only nodes of lower layers, except that the root leaf modules of the
last layer may import one another (without cycles). A node found in no layer fails the test, so
a new module is placed on purpose.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cimsim"
FOREIGN = ("tvm", "tvm_bridge", "workloads")
LAZY_LOADER = "cimsim.workload_loader"  # the one module that may import FOREIGN, and only inside functions

LEAVES = frozenset({"errors", "extras", "fileio", "workload", "workload_loader", "host_memory", "modes", "sparsity", "progress",
                    "text_table", "pareto", "workload_cache"})
LAYERS = (
    {"cimsim"},
    {"cli"},
    {"studies", "validation"},
    {"sweep", "plot"},
    {"simulate"},
    {"arch"},
    {"engine", "crossbar"},
    {"costs"},
    {"physics"},
    {"config"},
    set(LEAVES),
)
"""Nodes from the top layer to the bottom one (module docstring)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, module: str, *, module_level: bool) -> set[str]:
    """Modules ``path`` imports (outside function bodies when ``module_level``): ``from a import b`` is
    ``a.b`` when that is a module of cimsim, else ``a``; relative imports are resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if module_level and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.rsplit(".", child.level - 1)[0] if child.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in child.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def module_graph() -> dict[str, set[str]]:
    """cimsim module -> the cimsim modules it imports at module level."""
    return {name: {m for m in imports(path, name, module_level=True) if m in MODULES} for name, path in MODULES.items()}


def node_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cimsim"


def node_graph(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """Arrows between nodes (sub-packages and root modules), each module's imports lifted to its node."""
    graph: dict[str, set[str]] = {}
    for module, targets in modules.items():
        graph.setdefault(node_of(module), set()).update(node_of(t) for t in targets if node_of(t) != node_of(module))
    return graph


def layer_violations(graph: dict[str, set[str]], layers=LAYERS, leaves=LEAVES) -> list[str]:
    """Arrows that do not go down the layers (between two leaves they may stay in the last layer), and unplaced nodes."""
    rank = {node: index for index, layer in enumerate(layers) for node in layer}
    problems = [f"{node}: in no layer" for node in sorted(set(graph) | set().union(*graph.values())) if node not in rank]
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            if source in rank and target in rank and rank[target] <= rank[source]:
                if not (source in leaves and target in leaves):
                    problems.append(f"{source} -> {target}: an arrow that does not go down the layers")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one node, or a node importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


# --------------------------------------------------------------------------- the checks on a synthetic graph


def test_a_back_arrow_an_arrow_within_a_layer_and_an_unplaced_node_are_reported():
    layers = ({"top"}, {"middle", "beside"}, {"low_a", "low_b"})
    down = {"top": {"middle", "low_a"}, "middle": {"low_a"}, "low_a": {"low_b"}}
    assert layer_violations(down, layers, leaves={"low_a", "low_b"}) == []
    back = down | {"low_a": {"low_b", "middle"}}  # physics importing costs, say
    assert layer_violations(back, layers, leaves={"low_a", "low_b"}) == [
        "low_a -> middle: an arrow that does not go down the layers"]
    sideways = down | {"middle": {"beside"}}
    assert layer_violations(sideways, layers, leaves={"low_a", "low_b"}) == [
        "middle -> beside: an arrow that does not go down the layers"]
    assert layer_violations(down, layers, leaves=set()) == [  # only leaves may import within their layer
        "low_a -> low_b: an arrow that does not go down the layers"]
    assert layer_violations(down | {"top": {"new"}}, layers, leaves={"low_a", "low_b"}) == ["new: in no layer"]


def test_cycles_are_found_and_an_acyclic_graph_has_none():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]]


def test_the_parser_finds_module_level_imports_only_and_resolves_relative_ones(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text("import numpy\nfrom cimsim import errors\nfrom . import modes\nfrom .config import tree\n"
                      "def later():\n    import tvm\n", encoding="utf-8")
    assert imports(source, "cimsim.sample", module_level=True) == {
        "numpy", "cimsim.errors", "cimsim.modes", "cimsim.config.tree"}
    assert "tvm" in imports(source, "cimsim.sample", module_level=False)


# --------------------------------------------------------------------------- the checks on cimsim


def test_cimsim_arrows_go_down_the_layers():
    graph = node_graph(module_graph())
    assert set(graph) >= {"cli", "sweep", "plot", "simulate", "arch", "engine", "costs", "physics", "config"}
    assert layer_violations(graph) == []


def test_no_import_cycle_between_modules_or_nodes():
    modules = module_graph()
    assert cycles(modules) == []
    assert cycles(node_graph(modules)) == []


def test_only_the_lazy_loader_imports_tvm_the_bridge_or_the_zoo_and_only_inside_functions():
    importers = {}
    for name, path in MODULES.items():
        for level, module_level in (("module level", True), ("anywhere", False)):
            foreign = {m for m in imports(path, name, module_level=module_level) if m.split(".")[0] in FOREIGN}
            if foreign and (module_level or name != LAZY_LOADER):
                importers[f"{name} ({level})"] = sorted(foreign)
    assert importers == {}
    assert {"tvm_bridge", "workloads"} <= imports(MODULES[LAZY_LOADER], LAZY_LOADER, module_level=False)


@pytest.mark.parametrize("module", ["cimsim", "cimsim.sweep", "cimsim.cli.parser"])
def test_importing_cimsim_loads_neither_tvm_nor_the_bridge_nor_the_zoo(module):
    code = f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(FOREIGN)!r}))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("package", sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()))
def test_a_sub_package_exports_no_name_of_its_own_modules(package):
    """``from cimsim.costs import peak`` must give the module, so no export hides one (``cimsim.peak`` is the function)."""
    exported = set(getattr(importlib.import_module(f"cimsim.{package}"), "__all__", ()))
    modules = {p.stem for p in (PACKAGE / package).glob("*.py")}
    assert exported & modules == set()
