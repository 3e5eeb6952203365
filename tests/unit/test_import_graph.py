"""The import graph of services/, flows/ and models/, walked with ``ast`` (issue 14, Done-when 1).

Imports are read as written, wherever they stand: at the top, inside functions (a lazy import is still a
dependency), under ``try``. Imports under ``if TYPE_CHECKING:`` are left out of the cycle check (they never run,
so they cannot make an import circle) but count for the room rules (an annotation naming an upper room is still a
lower room knowing an upper one).

Three checks, each printing the offending chain:

- no module cycle (``a → b → … → a``);
- no cycle between rooms (``services.<package>``, ``flows``, ``models``; the loose base modules of ``services/``
  — settings, db, errors, audit … — are left out: every room builds on them);
- no lower room importing an upper one: ``services.rules`` and ``models`` import nothing from the stages, the
  entry points (the CLI and the HTTP app, at their old and new places), the clients or the flows; the stages import
  nothing from the entry points or the flows.

Run it as a script to print the graph's cycles and violations without pytest:
``.venv/bin/python -m tests.unit.test_import_graph``.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "flows", "models")

# The HTTP app and the CLI: their old places (services/intake/, flows/cli*.py) and the entry room they move to.
ENTRY_POINTS = ("services.intake", "services.entry", "flows.cli", "flows._cli")
UPPER_FOR_RULES = ("services.stages", "services.clients", "flows", *ENTRY_POINTS)
UPPER_FOR_STAGES = ("flows", *ENTRY_POINTS)
LOWER_ROOMS = {
    "services.rules": UPPER_FOR_RULES,
    "models": UPPER_FOR_RULES,
    "services.stages": UPPER_FOR_STAGES,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def discover(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            modules[module_name(path)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, *, type_checking: bool = False) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import node, with whether it stands under ``if TYPE_CHECKING:``."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append((node, type_checking))
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                found.extend(_imports(ast.Module(body=[child], type_ignores=[]), type_checking=True))
            for child in node.orelse:
                found.extend(_imports(ast.Module(body=[child], type_ignores=[]), type_checking=type_checking))
        else:
            found.extend(_imports(node, type_checking=type_checking))
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of our modules."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(modules: dict[str, Path] | None = None) -> dict[str, dict[str, tuple[int, bool]]]:
    """module → {imported module: (line, only under TYPE_CHECKING)} for imports among our own modules."""
    modules = discover() if modules is None else modules
    graph: dict[str, dict[str, tuple[int, bool]]] = {}
    for module, path in modules.items():
        edges: dict[str, tuple[int, bool]] = {}
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, type_checking in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(module, path.name == "__init__.py", node)
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            for target in targets:
                known = _known(target, modules)
                if known is None or known == module:
                    continue
                previous = edges.get(known)
                if previous is None or (previous[1] and not type_checking):
                    edges[known] = (node.lineno, type_checking)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, dict[str, tuple[int, bool]]]) -> list[list[str]]:
    """One closed chain per strongly connected component of the runtime graph (Tarjan, iterative)."""
    runtime = {m: sorted(t for t, (_, tc) in edges.items() if not tc) for m, edges in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in sorted(runtime):
        if start in index:
            continue
        work = [(start, iter(runtime[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(runtime.get(child, []))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
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
                        components.extend(_chains(sorted(component), runtime))
    return components


def _chains(component: list[str], runtime: dict[str, list[str]]) -> list[list[str]]:
    """Closed chains through the component until every member is on one (a big tangle prints in full)."""
    chains: list[list[str]] = []
    covered: set[str] = set()
    for member in component:
        if member not in covered:
            chain = _chain(member, set(component), runtime)
            covered.update(chain)
            chains.append(chain)
    return chains


def _chain(start: str, members: set[str], runtime: dict[str, list[str]]) -> list[str]:
    """The shortest closed path from ``start`` back to it inside its component (breadth-first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in runtime[node]:
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return [start]  # pragma: no cover - a component always closes


def _in(module: str, room: str) -> bool:
    return module == room or module.startswith(room + ".")


def room_violations(graph: dict[str, dict[str, tuple[int, bool]]]) -> list[str]:
    """``lower.module:line → upper.module`` for each import of a lower room from a room above it."""
    found = []
    for module, edges in sorted(graph.items()):
        for lower, uppers in LOWER_ROOMS.items():
            if not _in(module, lower):
                continue
            for target, (line, type_checking) in sorted(edges.items()):
                if any(_in(target, upper) for upper in uppers):
                    note = " (under TYPE_CHECKING)" if type_checking else ""
                    found.append(f"{module}:{line} → {target}{note}  [{lower} may not import it]")
    return found


def room_graph(graph: dict[str, dict[str, tuple[int, bool]]]) -> dict[str, dict[str, tuple[int, bool]]]:
    """The runtime graph between rooms (``services.<package>``, ``flows``, ``models``); the loose base modules of
    ``services/`` (settings, db, errors, audit…) are left out: every room builds on them."""
    def room(module: str) -> str | None:
        parts = module.split(".")
        if parts[0] != "services":
            return parts[0]
        return ".".join(parts[:2]) if len(parts) > 2 or (ROOT / "services" / parts[-1]).is_dir() else None

    rooms: dict[str, dict[str, tuple[int, bool]]] = {}
    for module, edges in graph.items():
        here = room(module)
        if here is None:
            continue
        rooms.setdefault(here, {})
        for target, (line, type_checking) in edges.items():
            there = room(target)
            if there is not None and there != here and not type_checking:
                rooms[here].setdefault(there, (line, False))
                rooms.setdefault(there, {})
    return rooms


def test_no_module_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" → ".join(chain) for chain in found)


def test_no_cycle_between_rooms() -> None:
    found = cycles(room_graph(import_graph()))
    assert not found, "cycles between rooms:\n" + "\n".join(" → ".join(chain) for chain in found)


def test_no_lower_room_imports_an_upper_one() -> None:
    found = room_violations(import_graph())
    assert not found, "imports against the rooms' order:\n" + "\n".join(found)


def test_the_walk_sees_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    (tmp_path / "services" / "rules").mkdir(parents=True)
    (tmp_path / "services" / "stages").mkdir(parents=True)
    for package in ("services", "services/rules", "services/stages"):
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "services" / "rules" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from services.stages import b\n"
        "def f():\n    from . import c\n"
    )
    (tmp_path / "services" / "rules" / "c.py").write_text("from .a import f\n")
    (tmp_path / "services" / "stages" / "b.py").write_text("import services.rules.a\n")
    modules = {}
    for path in sorted(tmp_path.rglob("*.py")):
        parts = list(path.relative_to(tmp_path).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph = import_graph(modules)
    assert graph["services.rules.a"] == {"services.stages.b": (3, True), "services.rules.c": (5, False)}
    assert cycles(graph) == [["services.rules.a", "services.rules.c", "services.rules.a"]]
    assert room_violations(graph) == [
        "services.rules.a:3 → services.stages.b (under TYPE_CHECKING)  [services.rules may not import it]"
    ]


if __name__ == "__main__":  # a report for people moving modules
    walked = import_graph()
    for chain in cycles(walked):
        print("cycle:", " → ".join(chain))  # noqa: T201
    for line in room_violations(walked):
        print("room:", line)  # noqa: T201
    for chain in cycles(room_graph(walked)):
        print("room cycle:", " → ".join(chain))  # noqa: T201
