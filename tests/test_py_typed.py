"""Every package the wheel ships carries a ``py.typed`` marker, so that users' type checkers
read procmon's hints (PEP 561)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_shipped_package_is_marked_typed() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages: list[str] = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert packages
    unmarked = [package for package in packages if not (ROOT / package / "py.typed").is_file()]
    assert unmarked == []
