"""The product's import graph: no cycle between modules, and no module importing
another app's private names. Parsed with `ast`, nothing imported; an import
inside a function counts (a lazy import still makes a cycle)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_PRODUCT = {"tests", "benchmarks", "scripts"}


def _packages() -> list[str]:
    """Top-level packages of the project (an apps.py or an __init__.py), minus the
    tests, the benchmarks and the scripts."""
    return sorted(
        path.name
        for path in ROOT.iterdir()
        if path.is_dir()
        and not path.name.startswith(".")
        and path.name not in NOT_PRODUCT
        and ((path / "apps.py").exists() or (path / "__init__.py").exists())
    )


def _modules() -> dict[str, Path]:
    """Every product module by its dotted name (a package by its own name),
    migrations aside."""
    found = {}
    for package in _packages():
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imported(module: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) for every import of a product
    module in `module`; `from pkg import name` is pkg.name when that is a module."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, base] if base else here)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    found.append((submodule, "", node.lineno))
                else:
                    found.append((base, alias.name, node.lineno))
    return [(name, attr, line) for name, attr, line in found if name in modules]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        module: {name for name, _, _ in _imported(module, path, modules) if name != module}
        for module, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's, iterative)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def _describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return f"{', '.join(component)}: " + "; ".join(edges)


def test_the_structure_test_sees_every_app():
    packages = _packages()
    for app in ("billers", "partners", "payments", "invoicefiles", "icintegrations", "onboarding"):
        assert app in packages
    assert not set(packages) & NOT_PRODUCT


def test_the_cycle_check_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_between_product_modules():
    graph = _graph()
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(c, graph) for c in cycles)


def test_no_module_imports_another_apps_private_names():
    modules = _modules()
    found = []
    for module, path in modules.items():
        app = module.split(".")[0]
        for name, attr, line in _imported(module, path, modules):
            if name.split(".")[0] == app:
                continue
            private = [part for part in [*name.split("."), attr] if part.startswith("_")]
            if any(not part.startswith("__") for part in private):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name} {attr}".rstrip())
    assert not found, "private names of another app:\n" + "\n".join(found)
