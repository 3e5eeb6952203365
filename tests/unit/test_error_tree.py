"""The error tree drawn in ``services/errors.py``'s docstring is the real one: every exception class of ``services/``
is drawn, under its real base (and ``(+X)`` for each further base), and lives where the drawing says (``services.errors``
unless marked ``[defined in …]``, a mark the classes drawn under it share)."""
from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass

import services
from services import errors

_LINE = re.compile(r"^(?P<prefix>[│├└─ ]*)(?P<name>[A-Za-z_]\w*)(?P<extra>(?: \(\+\w+(?:, \+\w+)*\))?)"
                   r"(?:\s+\[defined in (?P<home>[\w.]+)\])?")


@dataclass(frozen=True)
class Drawn:
    bases: tuple[str, ...]
    home: str


def drawn_tree(doc: str) -> dict[str, Drawn]:
    """name → (its bases as drawn, its module) from the indented drawing of a docstring."""
    block = re.search(r"\n\n((?:    \S.*\n|    [│├└ ].*\n)+)", doc)
    assert block, "no drawing found in the docstring"
    tree: dict[str, Drawn] = {}
    parents: list[str] = []
    for raw in block.group(1).splitlines():
        match = _LINE.match(raw[4:])
        assert match, f"cannot read this line of the drawing: {raw!r}"
        depth = len(match["prefix"]) // 4
        name = match["name"]
        parents[depth:] = [name]
        if depth == 0:
            continue  # a builtin root (Exception, ValueError…)
        extras = tuple(e.strip().lstrip("+") for e in match["extra"].strip(" ()").split(",")) if match["extra"] else ()
        assert name not in tree, f"{name} is drawn twice"
        parent = tree.get(parents[depth - 1])  # a class drawn under one defined elsewhere lives with it
        tree[name] = Drawn((parents[depth - 1], *extras), match["home"] or (parent.home if parent else "services.errors"))
    return tree


def real_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in a module of ``services/``."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(services.__path__, "services."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == info.name:
                assert found.get(value.__name__, value) is value, f"two exception classes named {value.__name__}"
                found[value.__name__] = value
    return found


def test_the_drawn_tree_is_the_real_hierarchy() -> None:
    assert errors.__doc__
    drawn, real = drawn_tree(errors.__doc__), real_classes()
    assert sorted(set(real) - set(drawn)) == [], "exception classes missing from the drawing in services/errors.py"
    assert sorted(set(drawn) - set(real)) == [], "drawn in services/errors.py but no such class"
    for name, cls in sorted(real.items()):
        assert tuple(b.__name__ for b in cls.__bases__) == drawn[name].bases, f"{name}: bases differ from the drawing"
        assert cls.__module__ == drawn[name].home, f"{name}: defined in {cls.__module__}, drawn in {drawn[name].home}"


def test_the_reader_reads_bases_homes_and_depth() -> None:
    doc = """Errors.

    Exception
    ├── A                 text
    │   └── B (+LookupError, +KeyError)   [defined in services.x] text
    │       └── F
    └── C
    ValueError
    └── D
        └── E
"""
    assert drawn_tree(doc) == {"A": Drawn(("Exception",), "services.errors"),
                               "B": Drawn(("A", "LookupError", "KeyError"), "services.x"), "F": Drawn(("B",), "services.x"),
                               "C": Drawn(("Exception",), "services.errors"), "D": Drawn(("ValueError",), "services.errors"),
                               "E": Drawn(("D",), "services.errors")}


def test_refusals_outside_the_intake_are_not_intake_errors() -> None:
    """``Refused`` is the general refusal; ``IntakeError`` is the intake's own (the HTTP app answers both with 422)."""
    assert issubclass(errors.IntakeError, errors.Refused) and not issubclass(errors.Refused, errors.IntakeError)
    assert issubclass(errors.Conflict, errors.Refused) and not issubclass(errors.Conflict, errors.IntakeError)
