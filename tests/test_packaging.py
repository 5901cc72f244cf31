"""Packaging a user can rely on: the dependency floors can be met, the licence and
py.typed ship, and the development tools are pinned."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _requirements(dist: str) -> dict[str, Requirement]:
    reqs = (Requirement(r) for r in metadata.requires(dist) or [])
    return {r.name.lower(): r for r in reqs if r.marker is None}


def _floor(spec: SpecifierSet) -> Version:
    floors = [Version(s.version) for s in spec if s.operator in (">=", "==")]
    assert floors, spec
    return max(floors)


def test_rich_floor_meets_what_typer_requires() -> None:
    """pip must never be asked for a rich that the supported typer refuses."""
    ours = _requirements("zvpg")
    typer_rich = _requirements("typer").get("rich")
    assert typer_rich is not None, "typer no longer depends on rich: revisit the rich floor"
    assert _floor(ours["rich"].specifier) >= _floor(typer_rich.specifier)


def test_licence_and_classifiers() -> None:
    meta = metadata.metadata("zvpg")
    assert meta["License-Expression"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    classifiers = meta.get_all("Classifier") or []
    versions = sorted(c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c))
    assert versions and versions[0] == "3.10"
    assert all(Version(v) in SpecifierSet(meta["Requires-Python"]) for v in versions)
    assert "Typing :: Typed" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers), "PEP 639: the licence expression alone"


def test_py_typed_is_in_the_package() -> None:
    assert (ROOT / "zvpg_cli" / "py.typed").is_file()


def test_every_development_tool_is_pinned() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            assert str(req.specifier).startswith("=="), line
            pins.setdefault(req.name.lower().replace("_", "-"), []).append(req)
    test_extra = [Requirement(r) for r in metadata.requires("zvpg") or [] if "extra ==" in r]
    for req in test_extra:
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{req.name} (test extra) has no pin in constraints.txt"
        applicable = [p for p in pins[name] if p.marker is None or p.marker.evaluate()]
        assert len(applicable) == 1, f"{req.name}: one pin must apply to this Python"
        pinned = Version(str(applicable[0].specifier)[2:])
        assert pinned in req.specifier, f"{req.name}: pin {pinned} outside {req.specifier}"
