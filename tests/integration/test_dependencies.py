"""The pinned dependencies are the ones installed: pyproject.toml's pins agree with constraints.txt, this
environment holds exactly the versions constraints.txt pins, and `pip check` finds every requirement met.

A stale `.venv` (a pin changed, `make` not rerun) or a constraints.txt edited by hand without resolving it
again fails here, naming the packages, instead of somewhere deep in Prefect.
"""
from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def constraint_pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a constraints file (comments and blank lines skipped), by canonical name."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version
    return pins


def pyproject_pins(path: Path) -> dict[str, str]:
    """The direct dependencies (runtime and every extra), each pinned with ==, by canonical name."""
    project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    lines = [*project["dependencies"], *(d for extra in project["optional-dependencies"].values() for d in extra)]
    pins: dict[str, str] = {}
    for req in map(Requirement, lines):
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"pyproject.toml: {req} is not pinned with =="
        pins[canonicalize_name(req.name)] = specs[0].version
    return pins


def test_pyproject_pins_agree_with_constraints_and_prefect_is_3_9() -> None:
    direct, resolved = pyproject_pins(ROOT / "pyproject.toml"), constraint_pins(ROOT / "constraints.txt")
    disagree = {name: (version, resolved.get(name)) for name, version in direct.items() if resolved.get(name) != version}
    assert disagree == {}, "pyproject.toml pin vs constraints.txt pin"
    assert resolved["prefect"].startswith("3.9."), resolved["prefect"]
    assert "kiemtra" not in resolved, "constraints.txt must not pin the project itself"


def test_this_environment_is_the_pinned_set_and_pip_check_is_clean() -> None:
    installed: dict[str, str] = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    pins = constraint_pins(ROOT / "constraints.txt")
    wrong = {name: (version, installed.get(name)) for name, version in pins.items() if installed.get(name) != version}
    assert wrong == {}, "constraints.txt pin vs installed version (run `make` to reinstall)"
    check = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
