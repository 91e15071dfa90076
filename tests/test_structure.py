"""The package's shape: modules import each other without cycles, and only public names."""

import ast
from pathlib import Path

import qa

PACKAGE = Path(qa.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, list[tuple[str, list[str]]]]:
    """module -> [(imported qa module, names taken from it)], wherever the import stands."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    found: dict[str, list[tuple[str, list[str]]]] = {}
    for name, path in modules.items():
        edges = found.setdefault(name, [])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if not node.module.startswith("qa"):
                    continue
                names = [a.name for a in node.names]
                submodules = [
                    f"{node.module}.{n}" for n in names if f"{node.module}.{n}" in modules
                ]
                if submodules:
                    edges += [(m, []) for m in submodules]
                else:
                    edges.append((node.module, names))
            elif isinstance(node, ast.Import):
                edges += [(a.name, []) for a in node.names if a.name.startswith("qa.")]
    return found


def test_no_module_imports_private_names_of_another():
    private = [
        f"{module} takes {name} from {target}"
        for module, edges in _imports().items()
        for target, names in edges
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert private == []


def test_the_package_has_no_import_cycles():
    graph = {m: {t for t, _ in edges if t != m} for m, edges in _imports().items()}
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
