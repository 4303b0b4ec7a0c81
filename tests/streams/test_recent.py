"""The bounded memory of recently stored snapshot keys."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.recent import RecentKeys

WHEN = datetime(2026, 11, 28, tzinfo=UTC)


def _key(n: int) -> tuple[str, datetime, str]:
    return (f"m{n}", WHEN, f"{n:064x}")


def test_keeps_the_most_recent_keys_up_to_capacity() -> None:
    recent = RecentKeys(capacity=3)
    recent.remember([_key(1), _key(2), _key(3)])
    recent.remember([_key(1), _key(4)])
    assert len(recent) == 3
    assert _key(2) not in recent
    assert {_key(1), _key(3), _key(4)} == {k for k in map(_key, range(5)) if k in recent}
