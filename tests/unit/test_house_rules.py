"""The house's size rules (issue 14, Done-when 2), read with ``ast`` over services/, flows/ and models/.

- No function over 60 lines (decorators and docstring included).
- No module over 400 lines unless its docstring says why it must stay long (a paragraph starting "Long because").
  ``TO_SPLIT`` lists the modules still over the limit without such a reason: the debt, named. The test fails when
  one of them is no longer long (so the list only shrinks) and when any other module grows past the limit.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "flows", "models")
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400
TO_SPLIT: frozenset[str] = frozenset()  # empty since issue 14 split the last six; a new entry is debt, named


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def long_functions(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - start + 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{path.relative_to(root)}:{node.lineno} {node.name}: {length} lines")
    return out


def long_module_without_reason(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    if text.count("\n") <= MAX_MODULE_LINES:
        return False
    doc = ast.get_docstring(ast.parse(text)) or ""
    return "Long because" not in doc


def test_no_function_is_longer_than_sixty_lines() -> None:
    found = [line for path in modules() for line in long_functions(path)]
    assert not found, "functions over 60 lines:\n" + "\n".join(found)


def test_no_new_long_module_and_the_debt_list_stays_true() -> None:
    long = {str(p.relative_to(ROOT)) for p in modules() if long_module_without_reason(p)}
    assert long - TO_SPLIT == set(), "modules over 400 lines without a reason in their docstring"
    assert TO_SPLIT - long == set(), "no longer long (or now with a reason): remove from TO_SPLIT"


def test_the_rules_see_what_they_should(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    (tmp_path / "m.py").write_text(f'"""Doc."""\n@staticmethod\ndef f():\n{body}\n')
    assert long_functions(tmp_path / "m.py", tmp_path) == ["m.py:3 f: 62 lines"]
    (tmp_path / "big.py").write_text('"""Doc."""\n' + "x = 1\n" * 401)
    (tmp_path / "why.py").write_text('"""Doc.\n\nLong because one table."""\n' + "x = 1\n" * 401)
    assert long_module_without_reason(tmp_path / "big.py") and not long_module_without_reason(tmp_path / "why.py")
