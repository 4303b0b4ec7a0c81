"""What the demo adds once its services run: its reader key, kept and reused."""

from __future__ import annotations

from pathlib import Path

from procmon.api_keys import list_api_keys, revoke_api_key
from procmon.demo import demo_key
from tests.conftest import migrated_database


def test_the_demo_key_is_reused_until_the_database_no_longer_accepts_it(tmp_path: Path) -> None:
    path = tmp_path / "data" / "demo-key"
    with migrated_database("demo_key") as url:
        first = demo_key(url, path)
        assert demo_key(url, path) == first
        assert path.stat().st_mode & 0o777 == 0o600
        assert [key.name for key in list_api_keys(url)] == ["demo"]
        revoke_api_key(url, "demo")
        second = demo_key(url, path)
        assert second != first
        assert path.read_text() == second
