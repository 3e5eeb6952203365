"""The demo is a room production code never enters: nothing but the CLI's ``demo`` command imports ``services.demo``.

Walks every module of ``services/``, ``flows/`` and ``models/`` with ``ast`` (imports as written, including those inside
functions; ``from services import demo`` counts) and lists each import of the demo package from outside it, with the
function it sits in. The only ones allowed are lazy imports inside the functions of ``services/entry/cli/demo.py`` (the
``kiemtra demo`` command): the demo's seed data, tokens and simulated users never load in a production process, nor
in another command. Tests and benchmarks may import it."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = "services.demo"
DEMO_COMMAND = "services.entry.cli.demo"  # its functions may import the demo; its module level may not


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _is_demo(name: str) -> bool:
    return name == DEMO or name.startswith(DEMO + ".")


def demo_imports(source: str, module: str) -> list[tuple[str, str, int]]:
    """(module, enclosing function or '<module>', line) of every import of the demo package in ``source``."""
    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, child.name)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)) and any(_is_demo(n) for n in _imported(child)):
                found.append((module, function, child.lineno))
            visit(child, function)

    visit(ast.parse(source), "<module>")
    return found


def production_modules() -> list[Path]:
    return sorted(p for package in ("services", "flows", "models") for p in (ROOT / package).rglob("*.py")
                  if not _is_demo(_module(p)))


def test_nothing_but_the_cli_demo_command_imports_the_demo():
    offending = [f"{module}:{line} (in {function})"
                 for path in production_modules()
                 for module, function, line in demo_imports(path.read_text(encoding="utf-8"), _module(path))
                 if module != DEMO_COMMAND or function == "<module>"]
    assert not offending, "production code imports services.demo:\n  " + "\n  ".join(offending)


def test_the_cli_demo_command_does_import_it_lazily():
    """The allowed imports are where the rule says, so the rule above is not vacuous."""
    path = ROOT / "services/entry/cli/demo.py"
    found = {function for _, function, _ in demo_imports(path.read_text(encoding="utf-8"), _module(path))}
    assert found and "<module>" not in found


def test_the_walk_sees_every_way_of_writing_the_import():
    source = ("from services import demo\nimport services.demo.seed\n"
              "def f():\n    from services.demo.users import simulate_inspectors\n"
              "from services import db, demo as d\nfrom services.demography import x\n")
    assert [(fn, line) for _, fn, line in demo_imports(source, "m")] == [("<module>", 1), ("<module>", 2), ("f", 4),
                                                                         ("<module>", 5)]
