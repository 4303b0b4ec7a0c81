"""The README's promises that code can check: the settings table and the two commands."""

from __future__ import annotations

import re
from pathlib import Path

from procmon.settings import ENV_PREFIX, Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_and_no_other() -> None:
    documented = set(re.findall(r"^\| `(PROCMON_[A-Z_]+)` \|", README, flags=re.MULTILINE))
    expected = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_the_two_setup_commands_are_shown() -> None:
    assert "make demo" in README
    assert "make test" in README
