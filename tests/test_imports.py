"""Imports flow one way: no circle among the modules of cluster/, jobs/ and
tasks.py, and no import inside a function but one that keeps a heavy
library off a fast path, or that says why it waits (`# lazy: ...`).
Read with `ast` from the sources: nothing is imported, no Docker, no Spark."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Libraries that cost seconds or are absent where the code also runs (the
# images have no matplotlib, the host's `./lab --list` wants no JVM).
HEAVY = {"pyspark", "py4j", "pandas", "numpy", "pyarrow", "matplotlib", "testcontainers", "jupyter"}
LAZY_MARK = "# lazy:"
# Run as scripts by path (in a container, beside ./lab, in the image build), not imported.
SCRIPTS = {"cluster/script_launcher.py", "jobs/runtime/watchdog.py"}


def sources() -> dict[str, Path]:
    """Module name -> file, for tasks.py and every module under cluster/ and jobs/."""
    files = [
        ROOT / "tasks.py",
        *sorted((ROOT / "cluster").rglob("*.py")),
        *sorted((ROOT / "jobs").rglob("*.py")),
    ]
    modules = {}
    for path in files:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = sources()


def imported(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> list[str]:
    """The names an import statement brings in, absolute (`from a import b`: a.b and a)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, *([base] if base else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def ours(name: str) -> str | None:
    """The module of ours that `name` is, or is in (a.b.c -> a.b when a.b is a module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def module_level_graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        statements = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        targets = {ours(name) for node in statements for name in imported(node, module, path)}
        graph[module] = {target for target in targets if target and target != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_module_level_imports_have_no_circle():
    graph = module_level_graph()
    assert len(graph) > 80, sorted(graph)  # every module was read
    assert graph["tasks"] >= {"cluster.runs", "cluster.lifecycle"}, graph["tasks"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_a_circle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def function_level_imports():
    for module, path in MODULES.items():
        if path.relative_to(ROOT).as_posix() in SCRIPTS:
            continue
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    said = " ".join(lines[node.lineno - 2 : node.end_lineno])
                    yield module, node, imported(node, module, path), said


@pytest.mark.parametrize(
    ("module", "node", "names", "said"),
    [pytest.param(*found, id=f"{found[0]}:{found[1].lineno}") for found in function_level_imports()],
)
def test_an_import_inside_a_function_keeps_a_heavy_library_off_a_fast_path(module, node, names, said):
    heavy = all(name.split(".")[0] in HEAVY for name in names if name)
    assert heavy or LAZY_MARK in said, (
        f"{module} line {node.lineno} imports {names[0]} inside a function: "
        f"import it at the top, or say why it waits with `{LAZY_MARK} ...`"
    )


def test_the_scripts_run_by_path_import_nothing_of_ours():
    # The class archive's writer is a module and, in the image build, a script too.
    for script in [*SCRIPTS, "jobs/runtime/class_archive.py"]:
        tree = ast.parse((ROOT / script).read_text())
        names = [
            name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in imported(node, "", ROOT / script)
        ]
        assert not [name for name in names if name.split(".")[0] in ("cluster", "jobs", "tasks")], script


# cluster/'s layers, bottom first (ARCHITECTURE.md lists them so): a module
# imports only modules of its own layer or the layers below it.
CLUSTER_LAYERS = (
    ("settings",),
    ("engine",),
    ("project",),
    ("across", "credentials", "images"),
    ("lifecycle",),
    ("hosts",),
    ("inputs",),
    ("driver",),
    ("applications", "connect", "notebook", "scripts", "submit"),
    ("comparison",),
    ("runs", "suite", "browser", "task_parser", "cli_reference"),
)


def test_cluster_imports_only_its_own_layer_or_those_below():
    layer_of = {f"cluster.{name}": depth for depth, names in enumerate(CLUSTER_LAYERS) for name in names}
    graph = module_level_graph()
    unlayered = sorted(m for m in graph if m.startswith("cluster.") and m not in layer_of)
    assert unlayered == ["cluster.script_launcher"], unlayered  # scripts
    upward = [
        f"{module} -> {target}"
        for module, depth in layer_of.items()
        for target in graph[module]
        if target in layer_of and layer_of[target] > depth
    ]
    assert upward == []
    assert {"cluster.runs", "cluster.task_parser"} <= graph["tasks"]  # tasks.py is on top
